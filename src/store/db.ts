import { mkdirSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type pg from 'pg';
import {
  CompiledQuery, Kysely, type Compilable, PostgresDialect, SqliteDialect, SqliteDriver, type DatabaseConnection, type Driver, type SqliteDatabase,
} from 'kysely';
import type { Database } from './schema.ts';
import { migrateToLatest, schemaStatus } from './migrations.ts';
import { BoundStore, type PoolStore, RowReads, runTransaction, type TransactionAudit } from './bound-store.ts';

export type StoreDialect = 'sqlite' | 'postgres';
export type Db = Kysely<Database>;

export interface Store {
  db: Db;
  dialect: StoreDialect;
  /** Where the SQLite file lives; null on PostgreSQL. */
  file: string | null;
  /** How to open this database again (from a worker thread); null for an in-memory database. */
  openOptions: StoreOptions | null;
  /**
   * Runs a read query and returns its rows as arrays of column values, in the select order, instead
   * of Kysely's objects. For the export's hot loop only: on SQLite, building the row objects is a
   * large share of a big export's time (bench/export.ts measures the export).
   */
  selectRows(query: Compilable): Promise<unknown[][]>;
  /**
   * PostgreSQL only: the bytes of `COPY (query) TO STDOUT (FORMAT binary)`, its parameters inlined
   * as literals (COPY takes none), as they arrive. The export's hot loop on PostgreSQL reads its
   * parts this way: the rows' text stays bytes, never JavaScript strings. Ending the iteration
   * early closes the connection the COPY was running on.
   */
  copyOut?(query: Compilable): AsyncIterable<Buffer>;
  close(): Promise<void>;
  /** The store bound to the pool: reads, and the few writes that are no business change (rate limits, job leases). */
  /** Reads, and bookkeeping writes only: business data changes only in an audited transaction. */
  repos: PoolStore;
  /** Reads as arrays of column values (the audit log's pages, the export's rows): outside transactions only. */
  rows: RowReads;
  /** One transaction with a store bound to it and its audit entries appended before commit (runTransaction). */
  transaction<T>(orgId: string | null, work: (s: BoundStore, audit: TransactionAudit) => Promise<T>): Promise<T>;
}

/**
 * The store as services hold it: bound stores and transactions, never the Kysely handle nor
 * raw queries (the store's own modules, bench/ and the CLI's `migrate` use `Store`).
 */
export type ServiceStore = Omit<Store, 'db' | 'selectRows' | 'copyOut'>;

/**
 * A value as a PostgreSQL literal, for statements that take no parameters (COPY): finite numbers
 * as they are, strings as escape-string constants (E'...', backslashes and quotes doubled), which
 * mean the same whatever standard_conforming_strings says.
 */
export function pgLiteral(value: unknown): string {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'string' && !value.includes('\0')) return `E'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
  throw new Error(`cannot inline ${typeof value} ${String(value).slice(0, 40)} as a PostgreSQL literal`);
}

/** A compiled PostgreSQL query with its $n parameters replaced by literals (pgLiteral). */
export function inlineParameters(query: Compilable): string {
  const { sql: text, parameters } = query.compile();
  // Kysely writes parameters as $1..$n and quotes identifiers with "": a $ followed by digits
  // elsewhere could only be inside a string literal, which the export's queries build from
  // constants without one.
  return text.replace(/\$(\d+)/g, (_, n: string) => {
    const i = Number(n) - 1;
    if (i < 0 || i >= parameters.length) throw new Error(`query parameter $${n} has no value`);
    return pgLiteral(parameters[i]);
  });
}

export interface StoreOptions {
  /** postgres://... selects PostgreSQL; otherwise SQLite. */
  databaseUrl?: string;
  /** SQLite file's directory; ':memory:' for an in-memory database. */
  dataDir: string;
  /** Skip migrations (the `migrate` command runs them explicitly). */
  migrate?: boolean;
  /**
   * A connection that reads each page once, in order (an export's producer thread): a small page
   * cache does on SQLite (16 MB is its default here, and it counts in the process's memory).
   */
  scanOnce?: boolean;
}

/**
 * SQLite transactions start with BEGIN IMMEDIATE: every transaction here writes, and a deferred
 * one that reads first and writes later fails at once with "database is locked" when another
 * process (a CLI command next to the server) holds the write lock, instead of waiting for it.
 */
class ImmediateSqliteDialect extends SqliteDialect {
  createDriver(): Driver {
    const driver = super.createDriver() as SqliteDriver;
    driver.beginTransaction = async (connection: DatabaseConnection) => {
      await connection.executeQuery(CompiledQuery.raw('begin immediate'));
    };
    return driver;
  }
}

const STATEMENT_CACHE_SIZE = 200;

/**
 * Kysely's SQLite driver prepares every query anew, and preparing costs as much as running a
 * small statement (far more for a 100-row insert). This reuses prepared statements by SQL text,
 * least recently used out first. Safe because the one connection runs one statement at a time.
 */
function withStatementCache(sqlite: BetterSqlite3.Database): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => {
      cache.clear();
      sqlite.close();
    },
    prepare: (text: string) => {
      let stmt = cache.get(text);
      if (stmt) {
        cache.delete(text);
      } else {
        stmt = sqlite.prepare(text);
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      }
      cache.set(text, stmt);
      return stmt;
    },
  };
}

/** Brings the store's database to the current schema; the names of the migrations applied. */
export const migrateStore = (store: Store) => migrateToLatest(store.db as Kysely<unknown>, store.dialect);

/** Which migrations the database lacks, or has that this version does not know. */
export const storeSchemaStatus = (store: Store) => schemaStatus(store.db as Kysely<unknown>, store.dialect);

/** A store with its bound parts: made once per store, not per call. */
function withBindings(base: Omit<Store, 'repos' | 'rows' | 'transaction'>): Store {
  const store = base as Store;
  store.repos = new BoundStore({ db: base.db, dialect: base.dialect, wrote: false });
  store.rows = new RowReads(store);
  store.transaction = (orgId, work) => runTransaction(store, orgId, work);
  return store;
}

export async function openStore(options: StoreOptions): Promise<Store> {
  let store: Store;
  if (options.databaseUrl && /^postgres(ql)?:\/\//.test(options.databaseUrl)) {
    // pg loads only for PostgreSQL: an export's worker threads on SQLite start sooner without it.
    const { default: pgModule } = await import('pg');
    // int8 columns (times in ms, counts) come back as JavaScript numbers; all of them fit in 2^53.
    pgModule.types.setTypeParser(20, (v: string) => Number(v));
    const pool: pg.Pool = new pgModule.Pool({ connectionString: options.databaseUrl, max: 10 });
    // An idle connection the server drops (restart, failover, admin termination) must not crash
    // the process: the pool discards it and the next query opens a fresh one.
    pool.on('error', (err) => { process.emitWarning(`PostgreSQL connection lost: ${err.message}`); });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    const selectRows = async (query: Compilable) => {
      const { sql: text, parameters } = query.compile();
      return (await pool.query<unknown[]>({ text, values: parameters as unknown[], rowMode: 'array' })).rows;
    };
    async function* copyOut(query: Compilable): AsyncIterable<Buffer> {
      const { default: copyStreams } = await import('pg-copy-streams');
      const text = `COPY (${inlineParameters(query)}) TO STDOUT (FORMAT binary)`;
      const client = await pool.connect();
      let done = false;
      try {
        for await (const chunk of client.query(copyStreams.to(text))) yield chunk as Buffer;
        done = true;
      } finally {
        // A COPY left in the middle (the reader stopped, or it failed) leaves the connection unusable.
        client.release(!done);
      }
    }
    store = withBindings({ db, dialect: 'postgres', file: null, openOptions: { databaseUrl: options.databaseUrl, dataDir: options.dataDir },
      selectRows, copyOut, close: () => db.destroy() });
  } else {
    const file = options.dataDir === ':memory:' ? ':memory:' : path.join(options.dataDir, 'auditrail.db');
    if (file !== ':memory:') mkdirSync(options.dataDir, { recursive: true });
    const sqlite = new BetterSqlite3(file);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('foreign_keys = ON');
    if (options.scanOnce) sqlite.pragma('cache_size = -2048');
    const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: withStatementCache(sqlite) }) });
    // Statements of their own (raw mode is a property of the statement, and Kysely's expect
    // objects), run while holding Kysely's one connection: a transaction another caller has open
    // on it must not be read from the middle.
    const rawStatements = new Map<string, BetterSqlite3.Statement>();
    const selectRows = (query: Compilable) => db.connection().execute(async () => {
      const { sql: text, parameters } = query.compile();
      let stmt = rawStatements.get(text);
      if (!stmt) {
        if (rawStatements.size >= STATEMENT_CACHE_SIZE) rawStatements.delete(rawStatements.keys().next().value!);
        stmt = sqlite.prepare(text).raw(true);
        rawStatements.set(text, stmt);
      }
      return stmt.all(...(parameters as unknown[])) as unknown[][];
    });
    store = withBindings({ db, dialect: 'sqlite', file, openOptions: file === ':memory:' ? null : { dataDir: options.dataDir }, selectRows,
      close: () => db.destroy() });
  }
  if (options.migrate !== false) await migrateStore(store);
  return store;
}
