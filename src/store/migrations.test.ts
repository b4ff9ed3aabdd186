import type { Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS, createPgDatabase } from '../../test/helpers.ts';
import { openStore, type Store } from './db.ts';
import { sql } from 'kysely';
import { migrateTo, migrateToLatest, schemaStatus } from './migrations.ts';

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

  it('0008 names the tombstones earlier versions left nameless, from the audit log', async () => {
    const store = await unmigrated();
    const db = store.db as Kysely<unknown>;
    await migrateTo(db, store.dialect, '0007_console_sessions');
    await sql`INSERT INTO orgs (id, name, time_zone, currency, country_code, zgid, settings, created_at)
      VALUES ('1', 'Acme', 'UTC', 'USD', 'US', 'z1', '{}', 0)`.execute(db);
    await sql`INSERT INTO tombstones (id, org_id, module, deleted_at) VALUES ('77', '1', 'Leads', 5), ('78', '1', 'Leads', 6)`.execute(db);
    await sql`INSERT INTO audit_entries (id, org_id, seq, audited_at, actor_type, actor_id, actor_name, action, module, record_id,
      record_name, parent_module, parent_id, source, ip, user_agent, batch_id, details, prev_hash, hash)
      VALUES ('900', '1', 1, 5, 'user', '42', 'Ada', 'permanently_deleted', 'Leads', '77', 'Doomed Lead', null, null, 'api', null, null,
      null, '{}', 'x', 'y')`.execute(db);
    await migrateToLatest(db, store.dialect);
    const rows = await sql<{ id: string; name: string | null; deleted_by: string | null }>`SELECT id, name, deleted_by FROM tombstones ORDER BY id`
      .execute(db);
    expect(rows.rows).toEqual([{ id: '77', name: 'Doomed Lead', deleted_by: '42' }, { id: '78', name: null, deleted_by: null }]);
  });

  it('0014 moves each pending delivery\'s payload beside it, and a sender still claims it with its payload', async () => {
    const store = await unmigrated();
    const db = store.db as Kysely<unknown>;
    await migrateTo(db, store.dialect, '0013_streams');
    await sql`INSERT INTO orgs (id, name, time_zone, currency, country_code, zgid, settings, created_at)
      VALUES ('1', 'Acme', 'UTC', 'USD', 'US', 'z1', '{}', 0)`.execute(db);
    await sql`INSERT INTO alert_deliveries (id, org_id, rule_id, entry_id, entry_seq, action_index, channel, target, idempotency_key, payload,
      test, status, attempts, next_attempt_at, last_error, created_at, updated_at, delivered_at)
      VALUES ('5', '1', '9', '700', 3, 0, 'webhook', 'https://h.example/', '700-9', '{"rule":{"id":"9"},"entry":{"id":"700"}}',
      0, 'pending', 0, 10, null, 1, 1, null)`.execute(db);
    // As a run killed after its first steps left it (SQLite runs this DDL outside a transaction).
    await sql`CREATE TABLE alert_delivery_payloads (delivery_id text PRIMARY KEY, payload text NOT NULL)`.execute(db);
    await sql`INSERT INTO alert_delivery_payloads SELECT id, payload FROM alert_deliveries`.execute(db);
    await migrateToLatest(db, store.dialect);
    const claimed = await store.repos.alerts.claimDeliveries(100, 1000, 10);
    expect(claimed.map((d) => [d.id, d.payload, d.attempts])).toEqual([['5', '{"rule":{"id":"9"},"entry":{"id":"700"}}', 1]]);
    const columns = (await db.introspection.getTables()).find((t) => t.name === 'alert_deliveries')!.columns.map((c) => c.name);
    expect(columns).not.toContain('payload');
  });
});
