import type { Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS, createPgDatabase } from '../../test/helpers.ts';
import { openStore, type Store } from './db.ts';
import { migrateToLatest, schemaStatus } from './migrations.ts';

describe.each(BACKENDS)('schemaStatus on %s', (backend) => {
  let cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.reverse()) await c();
    cleanup = [];
  });
  const unmigrated = async (): Promise<Store> => {
    const pgDb = backend === 'postgres' ? await createPgDatabase() : null;
    const store = await openStore({ databaseUrl: pgDb?.url, dataDir: ':memory:', migrate: false });
    cleanup.push(async () => { await store.close(); await pgDb?.drop(); });
    return store;
  };

  it('names every migration pending on an empty database, and creates nothing', async () => {
    const store = await unmigrated();
    const db = store.db as Kysely<unknown>;
    const status = await schemaStatus(db, store.dialect);
    expect(status.pending[0]).toBe('0001_foundation');
    expect(status.unknown).toEqual([]);
    expect(await db.introspection.getTables()).toEqual([]);
  });

  it('finds nothing pending after migrating, and names a migration only a newer version knows', async () => {
    const store = await unmigrated();
    const db = store.db as Kysely<unknown>;
    const all = await migrateToLatest(db, store.dialect);
    expect(await schemaStatus(db, store.dialect)).toEqual({ pending: [], unknown: [] });
    await (db as Kysely<{ auditrail_migrations: { name: string; timestamp: string } }>).insertInto('auditrail_migrations')
      .values({ name: '9999_future', timestamp: new Date().toISOString() }).execute();
    expect(await schemaStatus(db, store.dialect)).toEqual({ pending: [], unknown: ['9999_future'] });
    expect(all.length).toBeGreaterThan(1);
  });
});
