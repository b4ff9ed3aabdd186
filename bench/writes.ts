import { runIfMain } from './common.ts';
/**
 * Write throughput benchmark (not a test: it prints figures and never fails on time).
 *
 * On SQLite (fresh temp files, WAL, the pragmas of src/store/db.ts), one run measures records/s
 * for batched creates and then updates of the same realistic Lead rows, 100 records a transaction:
 *
 *   (a) baseline: raw better-sqlite3 prepared statements into the schema our migrations build,
 *       with the same audit rows and the same hash chaining, audit_heads read and updated;
 *   (b) services: rt.services.records.createRecords / updateRecords;
 *   (c) http:     POST / PUT /crm/v8/Leads with 100 records a request, 4 concurrent clients,
 *                 against the server listening on 127.0.0.1 in this process (fetch, keep-alive).
 *
 * Each mode writes into its own fresh database. The modes take turns: every phase is split into
 * rounds and each round runs a slice of every mode (in rotating order), so a machine whose load
 * drifts during the run skews all three alike. Rates are also given per second of this process's
 * CPU time, the steadier figure on a shared machine. Afterwards (untimed) every hash chain written
 * is recomputed and the entry counts checked.
 *
 * While (b) and (c) write, their chain heads are signed every second (sixty times as often as
 * the server does), inside the timed runs, so the ratios include that cost; the time spent
 * signing (and checking the entries since the last head) is also reported on its own.
 *
 * Targets (informational): b >= 0.5 a and c >= 0.5 b.
 *
 *   npm run bench:writes                    # 20,000 records per phase and mode
 *   BENCH_RECORDS=5000 npm run bench:writes
 *
 * `measureWrites()` returns the numbers so other benchmarks can reuse the bulk-write rate.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { AddressInfo } from 'node:net';
import BetterSqlite3 from 'better-sqlite3';
import pino from 'pino';
import {
  canonicalEntry, chainHash, encodeDetails, GENESIS_HASH, type AuditEntryInput, type FieldChange,
} from '../src/domain/audit.ts';
import { newId } from '../src/domain/ids.ts';
import { findModule, moduleFields, recordName } from '../src/domain/modules.ts';
import { openStore } from '../src/store/db.ts';
import { countAuditEntries } from '../src/store/audit-store.ts';
import { createRuntime, type Runtime } from '../src/services/runtime.ts';
import { systemActor } from '../src/services/context.ts';
import { loadConfig } from '../src/config/config.ts';
import { createHttpApp } from '../src/http/create-http-app.ts';
import { openRuntime } from '../src/entry/runtime.ts';

export const BATCH = 100;
export const TARGET_RATIO = 0.5;

export type Mode = 'baseline' | 'services' | 'http';
const MODES: readonly Mode[] = ['baseline', 'services', 'http'];

export interface WriteBenchOptions {
  /** Records per timed phase and mode (created, then the same records updated). Default: env BENCH_RECORDS or 20,000. */
  records?: number;
  /** Records created and updated per mode before timing. Default: a tenth of `records`, 500..2,000. */
  warmup?: number;
  /** Concurrent HTTP clients. Default 4. */
  clients?: number;
  /** Rounds each phase is split into, the modes taking turns. Default 5. */
  rounds?: number;
  /** Which modes to run (default all three). */
  modes?: readonly Mode[];
  /** Recompute every hash chain written (untimed) and check the entry counts. Default true. */
  verify?: boolean;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

export interface PhaseRates {
  /** Records created per second (each with its audit entry). */
  create: number;
  /** Records updated per second (each with its audit entry). */
  update: number;
}

/** Wall-clock rates, plus the rates per second of this process's CPU time (less sensitive to a busy machine). */
export interface ModeRates extends PhaseRates {
  cpu: PhaseRates;
}

export interface WriteBenchResult {
  records: number;
  batch: number;
  clients: number;
  rounds: number;
  baseline?: ModeRates;
  services?: ModeRates;
  http?: ModeRates;
  /** services / baseline and http / services, per phase (when both sides ran), wall clock. */
  ratios: {
    servicesVsBaseline?: PhaseRates;
    httpVsServices?: PhaseRates;
    /** The same ratios of the CPU-time rates. */
    cpu: { servicesVsBaseline?: PhaseRates; httpVsServices?: PhaseRates };
  };
  /** Heads signed during the timed writes of (b) and (c), the ms spent, and its share of their time. */
  signing?: { heads: number; ms: number; share: number };
}

// ---------------------------------------------------------------------------------------------
// The rows: deterministic, realistic Leads (every field valid for the Leads module).

const FIRST = ['Olivia', 'Liam', 'Emma', 'Noah', 'Amelia', 'Oliver', 'Ava', 'Elijah', 'Sophia', 'Mateo', 'Isabella',
  'Lucas', 'Mia', 'Levi', 'Priya', 'Arjun', 'Chen', 'Yuki', 'Fatima', 'Kwame', 'Ingrid', 'Lars', 'Sofia', 'Diego'];
const LAST = ['Smith', 'Johnson', 'Williams', 'Brown', 'Garcia', 'Miller', 'Davis', 'Rodriguez', 'Martinez', 'Lopez',
  'Wilson', 'Anderson', 'Thomas', 'Taylor', 'Moore', 'Jackson', 'Sharma', 'Iyer', 'Wang', 'Tanaka', 'Haddad', 'Mensah',
  'Johansson', 'Rossi', 'Novak', 'Kowalski'];
const COMPANY_A = ['Northwind', 'Contoso', 'Globex', 'Initech', 'Umbrella', 'Stark', 'Wayne', 'Acme', 'Zylker',
  'Vandelay', 'Hooli', 'Soylent', 'Tyrell', 'Cyberdyne', 'Wonka', 'Gringotts'];
const COMPANY_B = ['Traders', 'Systems', 'Logistics', 'Health', 'Foods', 'Analytics', 'Labs', 'Partners', 'Energy',
  'Robotics', 'Media', 'Holdings'];
const COMPANY_C = ['Inc.', 'LLC', 'Ltd', 'GmbH', 'S.A.', 'Pvt Ltd', 'Corp.'];
const SOURCES = ['Advertisement', 'Cold Call', 'Employee Referral', 'External Referral', 'Online Store', 'Partner',
  'Public Relations', 'Seminar Partner', 'Trade Show', 'Web Download', 'Web Research', 'Chat'];
const STATUSES = ['Attempted to Contact', 'Contact in Future', 'Contacted', 'Junk Lead', 'Lost Lead', 'Not Contacted',
  'Pre-Qualified', 'Not Qualified'];
const NOTES = [
  'Met at the regional trade show; interested in the enterprise tier for about 200 seats.',
  'Downloaded the pricing whitepaper twice this week and asked about on-premise deployment options.',
  'Referred by an existing customer in the same industry. Wants a demo before the end of the quarter.',
  'Current contract with a competitor ends in March; budget approved, evaluating three vendors.',
  'Asked for references in healthcare and a copy of our SOC 2 report before the next call.',
  'Called back about integration with their ERP; needs single sign-on and audit exports.',
];

const pick = <T>(list: readonly T[], n: number): T => list[n % list.length];

/** The create payload of lead number `i` (same in every mode). */
export function leadRow(i: number): Record<string, unknown> {
  const first = pick(FIRST, i * 7 + 3);
  const last = pick(LAST, i * 11 + 5);
  const company = `${pick(COMPANY_A, i * 13)} ${pick(COMPANY_B, i * 5 + 1)} ${pick(COMPANY_C, i)}`;
  return {
    First_Name: first,
    Last_Name: last,
    Company: company,
    Email: `${first}.${last}.${i}@${pick(COMPANY_A, i * 13).toLowerCase()}.example.com`.toLowerCase(),
    Phone: `+1 ${200 + (i % 700)} 555 ${String(1000 + ((i * 7919) % 9000)).padStart(4, '0')}`,
    Lead_Source: pick(SOURCES, i * 3),
    Lead_Status: pick(STATUSES, i),
    Annual_Revenue: 50_000 + ((i * 104_729) % 20_000_000),
    Description: `${pick(NOTES, i)} ${pick(NOTES, i * 5 + 2)} Lead #${i}.`,
  };
}

/** The update of lead number `i`: three fields, every one different from the created value. */
export function leadUpdate(i: number): Record<string, unknown> {
  return {
    Lead_Status: pick(STATUSES, i + 3),
    Annual_Revenue: 75_000 + ((i * 15_485_863) % 30_000_000) + 0.5,
    Description: `Follow-up: ${pick(NOTES, i + 1)} Next step agreed for lead #${i}.`,
  };
}

// ---------------------------------------------------------------------------------------------

const silent = pino({ level: 'silent' });
const LEADS = findModule('Leads')!;
const FIELDS = moduleFields(LEADS);
const labelOf = (k: string) => FIELDS.get(k)?.label ?? k;

/** Splits lead numbers from..from+count-1 into batches of BATCH. */
function batches(from: number, count: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < count; i += BATCH) {
    out.push(Array.from({ length: Math.min(BATCH, count - i) }, (_, k) => from + i + k));
  }
  return out;
}

/** One way of writing leads, over its own fresh database. */
interface Writer {
  /** Creates the leads of the given numbers, one transaction (request) per batch. */
  create(work: number[][]): Promise<void>;
  /** Updates those leads (created before) with leadUpdate(). */
  update(work: number[][]): Promise<void>;
  /** Closes; when asked, recomputes the chain and checks the entry count (untimed); deletes the files. */
  close(verify: boolean): Promise<void>;
}

function tempDir(tag: string): string {
  return mkdtempSync(path.join(tmpdir(), `auditrail-bench-${tag}-`));
}

/** Recomputes an organisation's chain in a closed database and checks the number of entries. */
async function verifyFile(dataDir: string, orgId: string, minEntries: number) {
  const store = await openStore({ dataDir, migrate: false });
  try {
    // The installation's own key: heads signed during the run verify only with it.
    const rt = createRuntime(store, silent, { keyDir: path.join(dataDir, 'integrity') });
    const v = await rt.services.audit.verifyChain(orgId, { sign: false });
    if (!v.ok) throw new Error(`hash chain broken in ${dataDir}: ${JSON.stringify(v.firstBreak)}`);
    const n = await countAuditEntries(store.db, orgId);
    if (n < minEntries) throw new Error(`expected at least ${minEntries} audit entries in ${dataDir}, found ${n}`);
  } finally {
    await store.close();
  }
}

// ---------------------------------------------------------------------------------------------
// (a) Baseline: raw prepared statements, the same rows, the same chain.

async function openBaseline(): Promise<Writer> {
  const dir = tempDir('baseline');
  let db: BetterSqlite3.Database | undefined;
  try {
    // The schema exactly as the migrations build it (indexes and triggers included).
    const schemaStore = await openStore({ dataDir: dir });
    await schemaStore.close();
    db = new BetterSqlite3(path.join(dir, 'auditrail.db'));
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const sqlite = db;
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');

  const orgId = newId();
  const userId = newId();
  const actorName = 'Ada Admin';
  let written = 0;
  const insertRecord = sqlite.prepare(`INSERT INTO records (id, org_id, module, name, owner_id, data, parent_module,
    parent_id, created_by, created_at, modified_by, modified_at, deleted_at, deleted_by, delete_batch)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const updateRecord = sqlite.prepare(`UPDATE records SET name = ?, owner_id = ?, data = ?, modified_by = ?,
    modified_at = ?, parent_module = ?, parent_id = ? WHERE org_id = ? AND id = ?`);
  const insertAudit = sqlite.prepare(`INSERT INTO audit_entries (id, org_id, seq, audited_at, actor_type, actor_id,
    actor_name, action, module, record_id, record_name, parent_module, parent_id, source, ip, user_agent, batch_id,
    details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const selectHead = sqlite.prepare('SELECT last_seq, last_hash FROM audit_heads WHERE org_id = ?');
  const insertHead = sqlite.prepare(`INSERT INTO audit_heads (org_id, last_seq, last_hash) VALUES (?, ?, ?)
    ON CONFLICT (org_id) DO NOTHING`);
  const updateHead = sqlite.prepare('UPDATE audit_heads SET last_seq = ?, last_hash = ? WHERE org_id = ?');

  /** Appends entries to the chain as appendAuditEntries does: head read, rows, head update. */
  const append = (inputs: AuditEntryInput[]) => {
    let head = selectHead.get(orgId) as { last_seq: number; last_hash: string } | undefined;
    if (!head) {
      insertHead.run(orgId, 0, GENESIS_HASH);
      head = selectHead.get(orgId) as { last_seq: number; last_hash: string };
    }
    let seq = Number(head.last_seq);
    let prevHash = head.last_hash;
    for (const input of inputs) {
      seq += 1;
      const details = encodeDetails(input.fieldHistory, input.extra);
      const id = newId(input.auditedAt);
      const hash = chainHash(prevHash, canonicalEntry({ ...input, id, orgId, seq, prevHash, details }));
      insertAudit.run(id, orgId, seq, input.auditedAt, input.actorType, input.actorId, input.actorName, input.action,
        input.module, input.recordId, input.recordName, input.parentModule, input.parentId, input.source, input.ip,
        input.userAgent, input.batchId, details, prevHash, hash);
      prevHash = hash;
    }
    updateHead.run(seq, prevHash, orgId);
    written += inputs.length;
  };

  const entry = (now: number, action: 'added' | 'updated', recordId: string, name: string | null, batchId: string,
    fieldHistory: FieldChange[]): AuditEntryInput => ({
    auditedAt: now, actorType: 'user', actorId: userId, actorName, action, module: 'Leads', recordId,
    recordName: name, parentModule: null, parentId: null, source: 'api', ip: null, userAgent: null, batchId,
    fieldHistory, extra: null,
  });

  const stored = new Map<number, { id: string; values: Record<string, unknown> }>();
  const createBatch = sqlite.transaction((indexes: number[]) => {
    const now = Date.now();
    const batchId = newId(now);
    const audits: AuditEntryInput[] = [];
    for (const i of indexes) {
      const values = leadRow(i);
      const id = newId(now);
      const name = recordName(LEADS, values);
      insertRecord.run(id, orgId, 'Leads', name, userId, JSON.stringify(values), null, null, userId, now, userId, now,
        null, null, null);
      stored.set(i, { id, values });
      const history: FieldChange[] = Object.entries(values).filter(([, v]) => v !== null)
        .map(([k, v]) => ({ api_name: k, field_label: labelOf(k), old: null, new: v }));
      history.push({ api_name: 'Owner', field_label: 'Owner', old: null, new: { id: userId, name: actorName } });
      audits.push(entry(now, 'added', id, name, batchId, history));
    }
    append(audits);
  });
  const updateBatch = sqlite.transaction((indexes: number[]) => {
    const now = Date.now();
    const batchId = newId(now);
    const audits: AuditEntryInput[] = [];
    for (const i of indexes) {
      const rec = stored.get(i)!;
      const values = { ...rec.values };
      const history: FieldChange[] = [];
      for (const [k, v] of Object.entries(leadUpdate(i))) {
        if (JSON.stringify(values[k] ?? null) !== JSON.stringify(v ?? null)) {
          history.push({ api_name: k, field_label: labelOf(k), old: values[k] ?? null, new: v });
          values[k] = v;
        }
      }
      const name = recordName(LEADS, values);
      updateRecord.run(name, userId, JSON.stringify(values), userId, now, null, null, orgId, rec.id);
      rec.values = values;
      audits.push(entry(now, 'updated', rec.id, name, batchId, history));
    }
    append(audits);
  });

  return {
    // BEGIN IMMEDIATE, as the store's transactions.
    create: async (work) => { for (const b of work) createBatch.immediate(b); },
    update: async (work) => { for (const b of work) updateBatch.immediate(b); },
    close: async (verify) => {
      try {
        sqlite.close();
        if (verify) await verifyFile(dir, orgId, written);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// (b) Services and (c) HTTP: a fresh runtime with one organisation each.

async function openOrgRuntime(tag: string) {
  const dir = tempDir(tag);
  let rt: Runtime;
  try {
    // SQLite in the temp dir whatever the environment says (no DATABASE_URL).
    rt = await openRuntime(loadConfig({ dataDir: dir, port: 0, host: '127.0.0.1' }, { AUDITRAIL_LOG_LEVEL: 'warn' }));
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const signer = setInterval(() => {
    const t0 = performance.now();
    rt.services.heads.signAll('interval').then((heads) => {
      signing.heads += heads.length;
      signing.ms += performance.now() - t0;
    }, (e: unknown) => { signing.error ??= e; });
  }, 1000);
  const cleanup = async (verify: boolean, orgId: string | null, written: number) => {
    clearInterval(signer);
    try {
      await rt.store.close();
      if (verify && orgId) await verifyFile(dir, orgId, written);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  try {
    const org = await rt.services.directory.createOrganisation({ name: 'Bench Corp', adminEmail: 'admin@bench.example',
      adminFirstName: 'Ada', adminLastName: 'Admin' });
    return { rt, orgId: org.org.id, adminId: org.admin.id, cleanup };
  } catch (e) {
    await cleanup(false, null, 0);
    throw e;
  }
}

/** Heads signed while (b) and (c) ran, and the wall time spent signing them. */
const signing: { heads: number; ms: number; error?: unknown } = { heads: 0, ms: 0 };

async function openServices(): Promise<Writer> {
  const { rt, orgId, adminId, cleanup } = await openOrgRuntime('services');
  let written = 0;
  try {
    const actor = await rt.services.directory.actorForUser(orgId, adminId);
    const ids = new Map<number, string>();
    return {
      create: async (work) => {
        for (const indexes of work) {
          const results = await rt.services.records.createRecords(actor, 'Leads', indexes.map(leadRow));
          results.forEach((r, k) => {
            if (!r.ok) throw new Error(`create failed: ${JSON.stringify(r.error)}`);
            ids.set(indexes[k], r.row.id);
          });
          written += indexes.length;
        }
      },
      update: async (work) => {
        for (const indexes of work) {
          const results = await rt.services.records.updateRecords(actor, 'Leads',
            indexes.map((i) => ({ id: ids.get(i), ...leadUpdate(i) })));
          for (const r of results) if (!r.ok) throw new Error(`update failed: ${JSON.stringify(r.error)}`);
          written += indexes.length;
        }
      },
      close: (verify) => cleanup(verify, orgId, written),
    };
  } catch (e) {
    await cleanup(false, null, 0);
    throw e;
  }
}

async function openHttp(clients: number): Promise<Writer> {
  const { rt, orgId, cleanup } = await openOrgRuntime('http');
  let written = 0;
  const app = await createHttpApp(rt, { logLevel: 'silent' });
  try {
    // The figures are the server's write path, not its rate limit.
    await rt.services.directory.updateOrgSettings(systemActor(orgId, 'Benchmark'), { api_requests_per_minute: 1_000_000 });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const base = `http://127.0.0.1:${port}`;
    const client = await rt.services.oauth.createClient(orgId);
    const tokenRes = await fetch(`${base}/oauth/v2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: client.client_id, client_secret: client.client_secret,
        grant_type: 'refresh_token', refresh_token: client.refresh_token }).toString(),
    });
    const token = (await tokenRes.json() as { access_token?: string }).access_token;
    if (!token) throw new Error('no access token from the token endpoint');
    const headers = { authorization: `Zoho-oauthtoken ${token}`, 'content-type': 'application/json' };
    const ids = new Map<number, string>();

    const send = async (method: 'POST' | 'PUT', indexes: number[]) => {
      const data = method === 'POST' ? indexes.map(leadRow) : indexes.map((i) => ({ id: ids.get(i), ...leadUpdate(i) }));
      const res = await fetch(`${base}/crm/v8/Leads`, { method, headers, body: JSON.stringify({ data }) });
      const body = await res.json() as { data?: { status: string; details: { id?: string } }[] };
      if (res.status !== (method === 'POST' ? 201 : 200) || !body.data || body.data.some((d) => d.status !== 'success')) {
        throw new Error(`${method} /crm/v8/Leads answered ${res.status}: ${JSON.stringify(body).slice(0, 500)}`);
      }
      if (method === 'POST') body.data.forEach((d, k) => ids.set(indexes[k], d.details.id!));
      written += indexes.length;
    };
    /** `clients` concurrent clients, each taking the next batch until none is left. */
    const run = async (method: 'POST' | 'PUT', work: number[][]) => {
      let next = 0;
      await Promise.all(Array.from({ length: clients }, async () => {
        while (next < work.length) await send(method, work[next++]);
      }));
    };
    return {
      create: (work) => run('POST', work),
      update: (work) => run('PUT', work),
      close: async (verify) => {
        await app.close();
        await cleanup(verify, orgId, written);
      },
    };
  } catch (e) {
    await app.close();
    await cleanup(false, null, 0);
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------

interface Timing { wall: number; cpu: number }

/** Runs fn; its wall-clock time and this process's CPU time (user + system), in ms. */
async function timed(fn: () => Promise<void>): Promise<Timing> {
  (globalThis as { gc?: () => void }).gc?.();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const wall = performance.now() - t0;
  const { user, system } = process.cpuUsage(cpu0);
  return { wall, cpu: (user + system) / 1000 };
}

const rate = (n: number, ms: number) => (n * 1000) / ms;
const ratio = (a: PhaseRates | undefined, b: PhaseRates | undefined): PhaseRates | undefined =>
  (a && b ? { create: a.create / b.create, update: a.update / b.update } : undefined);

/**
 * Measures the selected modes, each on its own fresh database, taking turns round by round;
 * resolves to records/s per mode and phase, and the ratios.
 */
export async function measureWrites(opts: WriteBenchOptions = {}): Promise<WriteBenchResult> {
  const records = opts.records ?? defaultRecords();
  if (!Number.isInteger(records) || records < BATCH) throw new Error(`records must be an integer >= ${BATCH}`);
  const warmup = opts.warmup ?? Math.min(2000, Math.max(500, Math.round(records / 10 / BATCH) * BATCH));
  const clients = opts.clients ?? 4;
  const rounds = Math.max(1, Math.min(opts.rounds ?? 5, Math.ceil(records / BATCH)));
  const modes = MODES.filter((m) => (opts.modes ?? MODES).includes(m));
  const verify = opts.verify ?? true;
  const log = opts.log ?? (() => {});

  const writers = new Map<Mode, Writer>();
  /** Closes every writer (deleting its temp files) and only then throws the first failure. */
  const closeAll = async (check: boolean) => {
    let error: unknown;
    for (const w of writers.values()) {
      try {
        await w.close(check);
      } catch (e) {
        error ??= e;
      }
    }
    if (error !== undefined) throw error;
  };
  let result: WriteBenchResult;
  try {
    for (const mode of modes) {
      writers.set(mode, mode === 'baseline' ? await openBaseline() : mode === 'services' ? await openServices() : await openHttp(clients));
    }
    log(`warm-up: ${warmup} records created and updated per mode`);
    for (const w of writers.values()) {
      await w.create(batches(0, warmup));
      await w.update(batches(0, warmup));
    }
    const totals = new Map(modes.map((m) => [m, { create: { wall: 0, cpu: 0 }, update: { wall: 0, cpu: 0 } }]));
    const work = batches(warmup, records);
    const perRound = Math.ceil(work.length / rounds);
    for (const phase of ['create', 'update'] as const) {
      log(`${phase}: ${records} records per mode (${modes.join(', ')}), ${rounds} rounds`);
      for (let r = 0; r * perRound < work.length; r += 1) {
        const slice = work.slice(r * perRound, (r + 1) * perRound);
        const order = modes.map((_, k) => modes[(k + r) % modes.length]);
        for (const mode of order) {
          const t = await timed(() => writers.get(mode)![phase](slice));
          const total = totals.get(mode)![phase];
          total.wall += t.wall;
          total.cpu += t.cpu;
        }
      }
    }
    if (signing.error) throw signing.error;
    const timedMs = [...totals].filter(([m]) => m !== 'baseline').reduce((n, [, t]) => n + t.create.wall + t.update.wall, 0);
    result = { records, batch: BATCH, clients, rounds, ratios: { cpu: {} },
      signing: { heads: signing.heads, ms: signing.ms, share: timedMs > 0 ? signing.ms / timedMs : 0 } };
    for (const [mode, t] of totals) {
      result[mode] = { create: rate(records, t.create.wall), update: rate(records, t.update.wall),
        cpu: { create: rate(records, t.create.cpu), update: rate(records, t.update.cpu) } };
    }
    result.ratios.servicesVsBaseline = ratio(result.services, result.baseline);
    result.ratios.httpVsServices = ratio(result.http, result.services);
    result.ratios.cpu.servicesVsBaseline = ratio(result.services?.cpu, result.baseline?.cpu);
    result.ratios.cpu.httpVsServices = ratio(result.http?.cpu, result.services?.cpu);
  } catch (e) {
    await closeAll(false).catch(() => {});
    throw e;
  }
  if (verify) log('verifying every hash chain written (untimed)');
  await closeAll(verify);
  return result;
}

function defaultRecords(): number {
  const raw = process.env.BENCH_RECORDS;
  if (!raw) return 20_000;
  const n = Number(raw.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < BATCH) throw new Error(`BENCH_RECORDS must be an integer >= ${BATCH}`);
  return n;
}

/** The table main prints. */
export function formatWriteResult(r: WriteBenchResult): string {
  const num = (v: number | undefined) => (v === undefined ? '-' : Math.round(v).toLocaleString('en-US'));
  const cols = (m: ModeRates | undefined) => [m?.create, m?.update, m?.cpu.create, m?.cpu.update]
    .map((v) => num(v).padStart(13)).join(' ');
  const lines = [
    `write throughput, SQLite (WAL): ${r.records.toLocaleString('en-US')} records per phase and mode, `
      + `${r.batch} a transaction, modes taking turns in ${r.rounds} rounds`,
    '',
    `  ${''.padEnd(34)} ${'wall clock'.padStart(27)} ${'per CPU second'.padStart(27)}`,
    `  ${'mode'.padEnd(34)} ${['create rec/s', 'update rec/s', 'create rec/s', 'update rec/s'].map((h) => h.padStart(13)).join(' ')}`,
    `  ${'(a) baseline: raw better-sqlite3'.padEnd(34)} ${cols(r.baseline)}`,
    `  ${'(b) services'.padEnd(34)} ${cols(r.services)}`,
    `  ${`(c) http, ${r.clients} clients`.padEnd(34)} ${cols(r.http)}`,
    '',
  ];
  const row = (label: string, v: PhaseRates | undefined, cpu: PhaseRates | undefined) => {
    if (!v) return;
    for (const phase of ['create', 'update'] as const) {
      const x = v[phase];
      lines.push(`  ${`${label} ${phase}`.padEnd(11)} ${x.toFixed(2).padStart(6)}  (target >= ${TARGET_RATIO.toFixed(2)})  `
        + `${(x >= TARGET_RATIO ? 'PASS' : 'BELOW').padEnd(5)}   per CPU second: ${cpu ? cpu[phase].toFixed(2) : '-'}`);
    }
  };
  row('b/a', r.ratios.servicesVsBaseline, r.ratios.cpu.servicesVsBaseline);
  row('c/b', r.ratios.httpVsServices, r.ratios.cpu.httpVsServices);
  if (r.signing) {
    lines.push('', `  signed heads during (b) and (c): ${r.signing.heads}, one a second; signing and checking took `
      + `${Math.round(r.signing.ms)} ms, ${(100 * r.signing.share).toFixed(2)}% of their timed writes`);
  }
  lines.push('', '  (informational: the benchmark never fails on time)');
  return lines.join('\n');
}

async function main() {
  const result = await measureWrites({ log: (l) => console.log(l) });
  console.log('');
  console.log(formatWriteResult(result));
}

runIfMain(import.meta.url, main);
