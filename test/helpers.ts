import { randomBytes } from 'node:crypto';
import pg from 'pg';
import pino from 'pino';
import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll } from 'vitest';
import { openStore, type Store } from '../src/store/db.ts';
import { createRuntime, type Runtime } from '../src/services/runtime.ts';
import { createHttpApp } from '../src/http/create-http-app.ts';
import type { Actor } from '../src/services/context.ts';
import type { AlertsConfig } from '../src/services/index.ts';

/** PostgreSQL for tests: set AUDITRAIL_TEST_PG_URL (CI does) to run the PostgreSQL variants. */
export const PG_URL = process.env.AUDITRAIL_TEST_PG_URL;
// In CI, PostgreSQL is not optional: a missing URL would silently halve the suite.
if (process.env.CI === 'true' && !PG_URL) {
  throw new Error('CI=true but AUDITRAIL_TEST_PG_URL is unset: the PostgreSQL half of the suite would be skipped');
}

export type Backend = 'sqlite' | 'postgres';
export const BACKENDS: Backend[] = PG_URL ? ['sqlite', 'postgres'] : ['sqlite'];

/** A fresh, empty PostgreSQL database (created and dropped per call). */
export async function createPgDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `auditrail_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(PG_URL!);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export const silentLogger = pino({ level: 'silent' });

export interface TestEnv {
  store: Store;
  rt: Runtime;
  /** Moves the test clock (ms); the clock starts at the real time. */
  advance: (ms: number) => void;
  setNow: (ms: number) => void;
  now: () => number;
  /** Another runtime (own connection pool) on the same database: PostgreSQL only. */
  second: () => Promise<{ rt: Runtime; close: () => Promise<void> }>;
  close: () => Promise<void>;
}

/** A migrated store of the given kind with every service over it, and a controllable clock. */
export interface EnvOptions {
  exportLimits?: { rowsPerFile?: number; maxEntries?: number };
  /** A SQLite file database in this directory instead of memory (with file blobs and key). */
  dataDir?: string;
  /** Where the signing key and the heads log live (default: `<dataDir>/integrity`, or memory only). */
  keyDir?: string;
  /** A witness that receives every signed head. */
  headsUrl?: string;
  /** Outgoing alerts (SMTP URL, plain-http webhooks, claim lease). */
  alerts?: AlertsConfig;
}

export async function createEnv(backend: Backend = 'sqlite', opts: EnvOptions = {}): Promise<TestEnv> {
  let dropPg: (() => Promise<void>) | undefined;
  let store: Store;
  let url: string | undefined;
  if (backend === 'postgres') {
    const db = await createPgDatabase();
    dropPg = db.drop;
    url = db.url;
    store = await openStore({ databaseUrl: db.url, dataDir: ':memory:' });
  } else {
    store = await openStore({ dataDir: opts.dataDir ?? ':memory:' });
  }
  let now = Date.now();
  const rt = createRuntime(store, silentLogger, { clock: () => now, exportLimits: opts.exportLimits,
    keyDir: opts.keyDir ?? (opts.dataDir ? `${opts.dataDir}/integrity` : null), headsUrl: opts.headsUrl, blobDir: opts.dataDir ? `${opts.dataDir}/exports` : null,
    alerts: opts.alerts });
  await rt.services.integrity.ensureRegistered();
  return {
    store, rt,
    advance: (ms) => { now += ms; },
    setNow: (ms) => { now = ms; },
    now: () => now,
    second: async () => {
      if (!url) throw new Error('second runtimes need PostgreSQL');
      const other = await openStore({ databaseUrl: url, dataDir: ':memory:', migrate: false });
      return { rt: createRuntime(other, silentLogger, { clock: () => now }), close: () => other.close() };
    },
    close: async () => {
      await store.close();
      await dropPg?.();
    },
  };
}

/**
 * Turns the append-only guards off (audit entries, signed heads, retention checkpoints), as an
 * attacker with write access to the database would.
 */
export async function disableGuards(env: TestEnv, tables = ['audit_entries', 'signed_heads', 'audit_checkpoints']) {
  for (const t of tables) {
    if (env.store.dialect === 'postgres') await sql.raw(`ALTER TABLE ${t} DISABLE TRIGGER USER`).execute(env.store.db);
    else for (const op of ['update', 'delete']) await sql.raw(`DROP TRIGGER IF EXISTS ${t}_no_${op}`).execute(env.store.db);
  }
}

/** An organisation with an Administrator and, optionally, more users. */
export async function createOrg(env: TestEnv, name = 'Acme', email = `admin@${name.toLowerCase()}.example`) {
  return env.rt.services.directory.createOrganisation({ name, adminEmail: email, adminFirstName: 'Ada', adminLastName: 'Admin',
    timeZone: 'Asia/Kolkata' });
}

export type TestOrg = Awaited<ReturnType<typeof createOrg>>;
export type TokenOptions = { userEmail?: string; scopes?: string[] };
/** Request headers carrying an access token. */
export type Auth = Record<string, string>;

/** A fresh env with the Acme organisation and its Administrator as the services see them; the caller closes env. */
export async function createEnvWithOrg(backend: Backend = 'sqlite', opts: EnvOptions = {}) {
  const env = await createEnv(backend, opts);
  const org = await createOrg(env);
  return { env, org, admin: await env.rt.services.directory.actorForUser(org.org.id, org.admin.id) };
}

/** An access token for a user of the org, through the real token endpoint. */
export async function tokenFor(app: FastifyInstance, env: TestEnv, orgId: string, opts: TokenOptions = {}) {
  const c = await env.rt.services.oauth.createClient(orgId, opts);
  const res = await app.inject({ method: 'POST', url: '/oauth/v2/token', payload: new URLSearchParams({
    client_id: c.client_id, client_secret: c.client_secret, grant_type: 'refresh_token', refresh_token: c.refresh_token,
  }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  const body = res.json();
  if (!body.access_token) throw new Error(`no token: ${res.body}`);
  return { token: body.access_token as string, client: c, auth: { authorization: `Zoho-oauthtoken ${body.access_token}` } };
}

export async function createApp(env: TestEnv) {
  // The API alone: whether web/dist happens to be built must not change what an API test sees.
  return createHttpApp(env.rt, { console: false });
}

export interface AppOptions {
  backend?: Backend;
  env?: EnvOptions;
  /** Where the test clock starts (ms), before the organisation is created. */
  now?: number;
  /** The organisation's name (default Acme), or false for none. */
  org?: string | false;
  /** Whether to issue the Administrator's token up front (default true); tests that order it after their own setup say false. */
  token?: boolean;
}

/** What `withApp` provides; every field is set once its beforeAll has run. */
export interface AppFixture {
  readonly env: TestEnv;
  readonly app: FastifyInstance;
  /** The organisation, as `createOrg` returned it. */
  readonly org: TestOrg;
  readonly orgId: string;
  /** The organisation's Administrator, as the services see them. */
  readonly admin: Actor;
  /** Headers with the Administrator's access token (every scope). */
  readonly auth: Auth;
  /** Headers with a token for a user of the organisation (or of `orgId`), through the real token endpoint. */
  authFor(opts?: TokenOptions & { orgId?: string }): Promise<Auth>;
  /** Another organisation (default Globex) and its Administrator's token. */
  otherOrg(name?: string): Promise<{ org: TestOrg; auth: Auth }>;
}

/**
 * The HTTP app over a fresh store, with an organisation and its Administrator's token, built in
 * beforeAll and closed in afterAll of the enclosing describe. Read its fields inside hooks and tests.
 */
export function withApp(opts: AppOptions = {}): AppFixture {
  const state: { env?: TestEnv; app?: FastifyInstance; org?: TestOrg; admin?: Actor; auth?: Auth } = {};
  const get = <K extends keyof typeof state>(key: K): NonNullable<(typeof state)[K]> => {
    if (state[key] === undefined) throw new Error(`withApp: ${key} is not set (read outside a test, or turned off)`);
    return state[key]!;
  };
  const t: AppFixture = {
    get env() { return get('env'); },
    get app() { return get('app'); },
    get org() { return get('org'); },
    get orgId() { return get('org').org.id; },
    get admin() { return get('admin'); },
    get auth() { return get('auth'); },
    authFor: async ({ orgId, ...token } = {}) => (await tokenFor(t.app, t.env, orgId ?? t.orgId, token)).auth,
    otherOrg: async (name = 'Globex') => {
      const org = await createOrg(t.env, name);
      return { org, auth: await t.authFor({ orgId: org.org.id }) };
    },
  };
  beforeAll(async () => {
    state.env = await createEnv(opts.backend, opts.env);
    if (opts.now !== undefined) state.env.setNow(opts.now);
    state.app = await createApp(state.env);
    if (opts.org === false) return;
    state.org = await createOrg(state.env, opts.org);
    state.admin = await state.env.rt.services.directory.actorForUser(state.org.org.id, state.org.admin.id);
    if (opts.token !== false) state.auth = await t.authFor();
  });
  afterAll(async () => {
    await state.app?.close();
    await state.env?.close();
  });
  return t;
}

/** The files of a ZIP held in memory, by name. */
export async function unzip(buf: Buffer): Promise<Map<string, Buffer>> {
  const { default: yauzl } = await import('yauzl');
  const zip = await yauzl.fromBufferPromise(buf);
  const out = new Map<string, Buffer>();
  for await (const entry of zip.eachEntry()) {
    const chunks: Buffer[] = [];
    for await (const c of await zip.openReadStreamPromise(entry)) chunks.push(c as Buffer);
    out.set(entry.fileName, Buffer.concat(chunks));
  }
  return out;
}
