import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { sql } from 'kysely';
import type { Db, Store } from './db.ts';
import { type BoundStore, dbOf } from './bound-store.ts';

/**
 * Where export files live, behind one interface: a directory under the data dir on SQLite,
 * the database itself on PostgreSQL (so any API node can serve any file). Writes are
 * atomic: a file appears under its key only once completely written.
 */
export interface BlobStore {
  /**
   * A writable stream for `key`, into a partial blob beside it; the blob becomes visible when
   * `commit()` resolves. A new writer for a key removes the partial blobs earlier writers of it
   * left (a worker killed in the middle of an export, which a new attempt now writes again).
   */
  writer(key: string): Promise<BlobWriter>;
  read(key: string): Promise<Readable | null>;
  size(key: string): Promise<number | null>;
  remove(key: string): Promise<void>;
  /** Removes partial blobs last written before `olderThan` (ms): those of writers that died. */
  removeStalePartials(olderThan: number): Promise<number>;
}

export interface BlobWriter {
  stream: Writable;
  /** Resolves with the size once the ended stream is completely written (still invisible). */
  written: () => Promise<number>;
  /**
   * Makes the blob visible under its key; its size. Given a transaction's store (after `written()`),
   * the database store does it inside that transaction, so the blob appears exactly when it commits.
   */
  commit: (within?: BoundStore) => Promise<number>;
  abort: () => Promise<void>;
}

const safe = (key: string) => {
  if (!/^[\w./-]+$/.test(key) || key.includes('..')) throw new Error(`invalid blob key ${key}`);
  return key;
};

/** Partial blobs are named `<key>.partial-<pid>-<ms when started>`. */
const PARTIAL = '.partial-';
const partialKey = (key: string) => `${safe(key)}${PARTIAL}${process.pid}-${Date.now()}`;

/** The size of a stored chunk (database), and what a writer buffers before it applies backpressure. */
const CHUNK = 1024 * 1024;

export function fileBlobStore(root: string): BlobStore {
  const file = (key: string) => path.join(root, safe(key));
  return {
    async writer(key) {
      const target = file(key);
      const tmp = file(partialKey(key));
      await mkdir(path.dirname(target), { recursive: true });
      const stale = `${path.basename(target)}${PARTIAL}`;
      for (const name of await readdir(path.dirname(target))) {
        if (name.startsWith(stale)) await rm(path.join(path.dirname(target), name), { force: true });
      }
      // A 1 MiB buffer: writers (the export's ZIP) run ahead while the previous writes complete.
      const stream = createWriteStream(tmp, { highWaterMark: CHUNK });
      const closed = new Promise<void>((resolve, reject) => { stream.on('close', resolve); stream.on('error', reject); });
      return {
        stream,
        written: async () => {
          await closed;
          return (await stat(tmp)).size;
        },
        commit: async () => {
          await closed;
          await rename(tmp, target);
          return (await stat(target)).size;
        },
        abort: async () => {
          stream.destroy();
          await rm(tmp, { force: true });
        },
      };
    },
    async read(key) {
      try {
        await stat(file(key));
      } catch {
        return null;
      }
      return createReadStream(file(key));
    },
    async size(key) {
      try {
        return (await stat(file(key))).size;
      } catch {
        return null;
      }
    },
    async remove(key) {
      await rm(file(key), { force: true });
    },
    async removeStalePartials(olderThan) {
      let removed = 0;
      const names = await readdir(root, { recursive: true }).catch(() => [] as string[]);
      for (const name of names.filter((n) => path.basename(n).includes(PARTIAL))) {
        const s = await stat(path.join(root, name)).catch(() => null);
        if (s && s.mtimeMs < olderThan) {
          await rm(path.join(root, name), { force: true });
          removed += 1;
        }
      }
      return removed;
    },
  };
}

/**
 * Export files: a directory beside the SQLite file; in the database itself on PostgreSQL (or
 * without a directory), so any API node can serve any file.
 */
export function blobStoreFor(store: Store, dir: string | null): BlobStore {
  return store.dialect === 'postgres' || !dir ? dbBlobStore(store.db) : fileBlobStore(dir);
}

/** Blobs as 1 MiB chunks in the `blobs` table; written under a temporary key, renamed at commit. */
export function dbBlobStore(db: Db): BlobStore {
  return {
    async writer(key) {
      const tmp = partialKey(key);
      await db.deleteFrom('blobs').where(sql<boolean>`${sql.ref('key')} like ${`${key}${PARTIAL}%`.replace(/_/g, '\\_')} escape '\\'`).execute();
      let chunk = 0;
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      let total = 0;
      const flush = async () => {
        if (pendingBytes === 0) return;
        const data = Buffer.concat(pending);
        pending = [];
        pendingBytes = 0;
        await db.insertInto('blobs').values({ key: tmp, chunk: chunk++, data }).execute();
      };
      const stream = new Writable({
        highWaterMark: CHUNK,
        write(buf: Buffer, _enc, cb) {
          pending.push(buf);
          pendingBytes += buf.length;
          total += buf.length;
          if (pendingBytes >= CHUNK) flush().then(() => cb(), cb);
          else cb();
        },
        final(cb) {
          flush().then(() => cb(), cb);
        },
      });
      const finished = new Promise<void>((resolve, reject) => { stream.on('finish', resolve); stream.on('error', reject); });
      const move = async (trx: Db) => {
        await trx.deleteFrom('blobs').where('key', '=', key).execute();
        await trx.updateTable('blobs').set({ key }).where('key', '=', tmp).execute();
      };
      return {
        stream,
        written: async () => {
          await finished;
          return total;
        },
        commit: async (within) => {
          await finished;
          if (within) await move(dbOf(within));
          else await db.transaction().execute(move);
          return total;
        },
        abort: async () => {
          stream.destroy();
          await db.deleteFrom('blobs').where('key', '=', tmp).execute();
        },
      };
    },
    async read(key) {
      const first = await db.selectFrom('blobs').select('chunk').where('key', '=', key).limit(1).executeTakeFirst();
      if (!first) return null;
      let next = 0;
      return new Readable({
        async read() {
          try {
            const row = await db.selectFrom('blobs').select('data').where('key', '=', key).where('chunk', '=', next).executeTakeFirst();
            next += 1;
            this.push(row ? Buffer.from(row.data) : null);
          } catch (e) {
            this.destroy(e as Error);
          }
        },
      });
    },
    async size(key) {
      const r = await db.selectFrom('blobs').select(sql<number>`sum(length(data))`.as('n')).where('key', '=', key).executeTakeFirst();
      return r && r.n !== null ? Number(r.n) : null;
    },
    async remove(key) {
      await db.deleteFrom('blobs').where('key', '=', key).execute();
    },
    async removeStalePartials(olderThan) {
      const partials = await db.selectFrom('blobs').select('key').distinct().where('key', 'like', `%${PARTIAL}%`).execute();
      const stale = partials.map((p) => p.key).filter((k) => Number(/-(\d+)$/.exec(k)?.[1] ?? 0) < olderThan);
      for (const k of stale) await db.deleteFrom('blobs').where('key', '=', k).execute();
      return stale.length;
    },
  };
}
