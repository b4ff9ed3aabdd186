import { randomBytes } from 'node:crypto';
import { AppError } from '../domain/errors.ts';
import { isId, newId } from '../domain/ids.ts';
import { formatDateTime } from '../domain/time.ts';
import type { FieldChange } from '../domain/audit.ts';
import {
  parseDestination, secretNames, STREAM_TYPES, type StreamConfig, type StreamSecrets, type StreamType,
} from '../domain/stream.ts';
import type { JobTable, StreamTable } from '../store/schema.ts';
import { queuedJob } from '../store/job-store.ts';
import { auditEntryView } from './audit-entry-view.ts';
import { hasSetting, isAdministrator, requireSetting, visibleUserIds } from './authorization.ts';
import { bookkeeping, inTransaction, type Actor, type ServiceDeps, type Tx } from './context.ts';
import type { JobContext } from './job-queue.ts';
import { openDestination, reason, type Destination, type OutgoingEntry } from './stream-destinations/index.ts';
import { checkWebhookUrl } from './webhook-sender.ts';

export const STREAM_JOB = 'stream_delivery';
/** The one job row of a stream: one lease, so one worker drives a stream at a time. */
export const streamJobId = (streamId: string) => `${STREAM_JOB}@${streamId}`;

export interface StreamOptions {
  /** AUDITRAIL_WEBHOOK_ALLOW_HTTP: plain-http endpoints off loopback. */
  allowHttp: boolean;
  /** How long a caught-up stream waits before looking for new entries. */
  idleMs?: number;
  /** Batches one delivery round sends at most before it lets other jobs run. */
  batchesPerRound?: number;
  /** The destination of a stream (tests put a failing one in). */
  open?: typeof openDestination;
  /** Who a stream's owner is, as the services see them (directory.actorForUser). */
  actorForUser(orgId: string, userId: string): Promise<Actor>;
}

const MAX_STREAMS = 50;
const MAX_BACKOFF_MS = 5 * 60_000;
/** 1 s after the first failure, doubling, at most five minutes. */
export const backoffMs = (failures: number) => Math.min(1000 * 2 ** Math.max(0, failures - 1), MAX_BACKOFF_MS);

const notFound = () => new AppError('INVALID_DATA', 'the stream id given seems to be invalid', { param_name: 'id' });

export interface StreamInput {
  name?: unknown; type?: unknown; destination?: unknown; status?: unknown;
}

/**
 * SIEM streams (DESIGN 7): each stream reads its organisation's chain from its own durable cursor
 * in a worker job and sends the entries its owner may see (the audit log's rule, settled again on
 * every round) to its destination, at least once and in chain order: the cursor moves past a batch
 * only after the destination took it. Creating, changing, rewinding and deleting streams is audited.
 *
 * Who manages streams: users with the audit log permission, each their own streams (carrying what
 * they see); Administrators every stream of the organisation.
 */
export function createStreamService(deps: ServiceDeps, opts: StreamOptions) {
  const { store } = deps;
  const idleMs = opts.idleMs ?? 1000;
  const batchesPerRound = opts.batchesPerRound ?? 10;
  const open = opts.open ?? openDestination;

  const config = (row: StreamTable) => JSON.parse(row.config) as StreamConfig & Record<string, unknown>;
  const secrets = (row: StreamTable) => JSON.parse(row.secrets) as StreamSecrets;

  /** NO_PERMISSION without the audit log permission; a stream the actor may not manage looks missing. */
  async function load(actor: Actor, id: string, s = store.repos.streams): Promise<StreamTable> {
    requireSetting(actor, 'audit_log');
    const row = isId(id) ? await s.get(actor.orgId, id) : undefined;
    if (!row || !(isAdministrator(actor) || row.owner_id === actor.userId)) throw notFound();
    return row;
  }

  /** A stream as the API shows it: settings without secrets (their names only), progress and lag. */
  async function view(row: StreamTable, tz: string) {
    const head = Number((await store.repos.audit.head(row.org_id))?.last_seq ?? 0);
    const cursor = Number(row.cursor_seq);
    const oldest = cursor < head ? await store.repos.streams.entryAfter(row.org_id, cursor) : undefined;
    const now = deps.clock();
    const owner = await store.repos.directory.getUser(row.org_id, row.owner_id);
    const at = (ms: number | null) => (ms === null ? null : formatDateTime(Number(ms), tz));
    const cfg = config(row);
    return {
      id: row.id, name: row.name, type: row.type as StreamType, status: row.status as 'active' | 'paused',
      owner: { id: row.owner_id, name: owner ? [owner.first_name, owner.last_name].filter(Boolean).join(' ') : null },
      destination: { ...cfg, ...(row.type === 'syslog' && cfg.ca_pem ? { ca_pem: cfg.ca_pem } : {}) },
      secrets: secretNames(secrets(row)),
      progress: {
        cursor_seq: cursor, last_delivered_seq: row.last_sent_seq === null ? null : Number(row.last_sent_seq), head_seq: head,
        lag_entries: Math.max(0, head - cursor),
        lag_seconds: oldest ? Math.max(0, Math.round((now - Number(oldest.audited_at)) / 1000)) : 0,
        delivered: Number(row.delivered_count), last_delivered_time: at(row.last_delivered_at),
      },
      error: row.last_error === null ? null : { message: row.last_error, time: at(row.last_error_at), failures: Number(row.failures),
        next_attempt_time: at(row.next_attempt_at) },
      gap: row.gap_from === null ? null : { from_seq: Number(row.gap_from), to_seq: Number(row.gap_to), time: at(row.gap_at),
        message: `entries ${row.gap_from} to ${row.gap_to} were purged by retention before this stream delivered them` },
      created_time: at(row.created_at), modified_time: at(row.modified_at),
    };
  }
  type StreamView = Awaited<ReturnType<typeof view>>;

  /** Every stream the actor manages, with progress and lag. Throws NO_PERMISSION. */
  async function list(actor: Actor): Promise<StreamView[]> {
    requireSetting(actor, 'audit_log');
    const rows = await store.repos.streams.list(actor.orgId, isAdministrator(actor) ? undefined : actor.userId ?? '');
    return Promise.all(rows.map((r) => view(r, actor.timeZone)));
  }

  /** One stream. Throws NO_PERMISSION, INVALID_DATA (missing, or not the actor's). */
  async function get(actor: Actor, id: string): Promise<StreamView> {
    return view(await load(actor, id), actor.timeZone);
  }

  const checkUrl = (url: string) => checkWebhookUrl(url, opts.allowHttp, 'url');

  function parseName(v: unknown): string {
    if (typeof v !== 'string' || v.trim() === '') throw new AppError('MANDATORY_NOT_FOUND', 'name is required', { api_name: 'name' });
    if (v.trim().length > 100) throw new AppError('INVALID_DATA', 'name is longer than 100 characters', { api_name: 'name' });
    return v.trim();
  }
  const destinationOf = (v: unknown) => {
    if (v === undefined || v === null) throw new AppError('MANDATORY_NOT_FOUND', 'destination is required', { api_name: 'destination' });
    if (typeof v !== 'object' || Array.isArray(v)) throw new AppError('INVALID_DATA', 'destination must be an object', { api_name: 'destination' });
    return v as Record<string, unknown>;
  };
  function parseStatus(v: unknown) {
    if (v !== 'active' && v !== 'paused') throw new AppError('INVALID_DATA', 'status must be active or paused', { api_name: 'status' });
    return v;
  }

  /** Queues the stream's delivery job in the caller's transaction (or wakes it: run now), unless it is running. */
  async function wake(tx: Tx, orgId: string, streamId: string) {
    await tx.store.jobs.insertOnce(queuedJob(streamJobId(streamId), orgId, STREAM_JOB, JSON.stringify({ stream_id: streamId }), 5, tx.now));
    await tx.store.jobs.requeue(streamJobId(streamId), tx.now, tx.now);
  }

  /**
   * Creates a stream owned by the actor (the system actor names the owner), starting at the
   * chain's head unless `from_seq` says where. An HTTPS stream without a secret gets one
   * generated; the secret is in this answer only. Audited as stream_created (secrets by name only).
   */
  /**
   * Syslog and NATS destinations are any host and port, with no loopback rule like an HTTPS
   * URL's: only Administrators point a stream at them, so that a user with audit-log access
   * cannot make the server connect into the network behind it. NO_PERMISSION otherwise.
   */
  function requireDestinationRight(actor: Actor, type: StreamType) {
    if (type !== 'https' && !isAdministrator(actor)) {
      throw new AppError('NO_PERMISSION', `only Administrators may send a stream over ${type}: it connects to any host and port`,
        { permissions: ['administrator'] });
    }
  }

  async function create(actor: Actor, input: StreamInput & { owner_id?: string; from_seq?: unknown }) {
    requireSetting(actor, 'audit_log');
    const ownerId = actor.userId ?? input.owner_id;
    if (!ownerId) throw new AppError('MANDATORY_NOT_FOUND', 'a stream needs an owner: a user whose view of the audit log it carries', { api_name: 'owner' });
    const owner = await opts.actorForUser(actor.orgId, ownerId);
    requireSetting(owner, 'audit_log');
    const name = parseName(input.name);
    if (!STREAM_TYPES.includes(input.type as StreamType)) {
      throw new AppError(input.type === undefined ? 'MANDATORY_NOT_FOUND' : 'INVALID_DATA', `type must be one of ${STREAM_TYPES.join(', ')}`, { api_name: 'type' });
    }
    const type = input.type as StreamType;
    requireDestinationRight(actor, type);
    const { config: cfg, secrets: sec } = parseDestination(type, destinationOf(input.destination), actor.orgId, checkUrl);
    let shown: string | undefined;
    if (type === 'https' && !sec.hmac_secret) sec.hmac_secret = shown = randomBytes(24).toString('base64url');
    const status = input.status === undefined ? 'active' : parseStatus(input.status);
    const id = await inTransaction(deps, actor, async (tx) => {
      if ((await tx.store.streams.list(actor.orgId)).length >= MAX_STREAMS) {
        throw new AppError('LIMIT_EXCEEDED', `an organisation has at most ${MAX_STREAMS} streams`, { limit: MAX_STREAMS });
      }
      const head = Number((await tx.store.audit.head(actor.orgId))?.last_seq ?? 0);
      let start = head;
      if (input.from_seq !== undefined) {
        if (typeof input.from_seq !== 'number' || !Number.isInteger(input.from_seq) || input.from_seq < 1 || input.from_seq > head + 1) {
          throw new AppError('INVALID_DATA', `from_seq must be a chain sequence from 1 to ${head + 1}`, { api_name: 'from_seq' });
        }
        start = input.from_seq - 1;
      }
      const streamId = newId(tx.now);
      await tx.store.streams.insert({ id: streamId, org_id: actor.orgId, owner_id: ownerId, name, type, config: JSON.stringify(cfg),
        secrets: JSON.stringify(sec), status, version: 1, cursor_seq: start, last_sent_seq: null, delivered_count: 0, last_delivered_at: null,
        failures: 0, last_error: null, last_error_at: null, next_attempt_at: null, gap_from: null, gap_to: null, gap_at: null,
        created_at: tx.now, created_by: actor.userId ?? actor.name, modified_at: tx.now, modified_by: actor.userId ?? actor.name });
      tx.audit({ action: 'stream_created', module: 'streams', recordId: streamId, recordName: name, parentModule: null, parentId: null,
        batchId: null, fieldHistory: null, extra: { type, destination: cfg, secrets: secretNames(sec), status, owner_id: ownerId, from_seq: start + 1 } });
      if (status === 'active') await wake(tx, actor.orgId, streamId);
      return streamId;
    });
    return { stream: await view((await store.repos.streams.get(actor.orgId, id))!, actor.timeZone), secret: shown };
  }

  /**
   * Changes a stream's name, status (active | paused) or destination (the whole destination object,
   * as at creation; secrets left out keep their values). Audited as stream_updated with what changed.
   */
  async function update(actor: Actor, id: string, input: StreamInput) {
    await load(actor, id);
    await inTransaction(deps, actor, async (tx) => {
      const row = await load(actor, id, tx.store.streams);
      const changes: FieldChange[] = [];
      const patch: { name?: string; status?: string; config?: string; secrets?: string } = {};
      if (input.name !== undefined) {
        const name = parseName(input.name);
        if (name !== row.name) { patch.name = name; changes.push({ api_name: 'name', field_label: 'Name', old: row.name, new: name }); }
      }
      if (input.status !== undefined) {
        const status = parseStatus(input.status);
        if (status !== row.status) { patch.status = status; changes.push({ api_name: 'status', field_label: 'Status', old: row.status, new: status }); }
      }
      if (input.type !== undefined && input.type !== row.type) {
        throw new AppError('NOT_ALLOWED', 'a stream\'s type cannot change: create another stream', { api_name: 'type' });
      }
      if (input.destination !== undefined) {
        requireDestinationRight(actor, row.type as StreamType);
        const { config: cfg, secrets: sec } = parseDestination(row.type as StreamType, destinationOf(input.destination), row.org_id, checkUrl);
        const before = config(row);
        if (JSON.stringify(cfg) !== JSON.stringify(before)) {
          patch.config = JSON.stringify(cfg);
          changes.push({ api_name: 'destination', field_label: 'Destination', old: before, new: cfg });
        }
        const newNames = secretNames(sec);
        if (newNames.length > 0) {
          patch.secrets = JSON.stringify({ ...secrets(row), ...sec });
          changes.push({ api_name: 'secrets', field_label: 'Secrets', old: '(not shown)', new: `(changed: ${newNames.join(', ')})` });
        }
      }
      if (changes.length === 0) return;
      await tx.store.streams.change(row.org_id, row.id, { ...patch, ...(patch.status === 'active' ? { failures: 0, next_attempt_at: null } : {}) },
        actor.userId ?? actor.name, tx.now);
      tx.audit({ action: 'stream_updated', module: 'streams', recordId: row.id, recordName: patch.name ?? row.name, parentModule: null,
        parentId: null, batchId: null, fieldHistory: changes, extra: null });
      if ((patch.status ?? row.status) === 'active') await wake(tx, row.org_id, row.id);
    });
    return get(actor, id);
  }

  /**
   * Moves the stream's cursor so that it delivers again from a chain sequence, or from the first
   * entry at or after a time (ISO 8601): history is replayed, in chain order. Audited as stream_rewound.
   */
  async function rewind(actor: Actor, id: string, to: { seq?: unknown; time?: unknown }) {
    await load(actor, id);
    if ((to.seq === undefined) === (to.time === undefined)) {
      throw new AppError('MANDATORY_NOT_FOUND', 'give either seq or time', { api_name: to.seq === undefined ? 'seq' : 'time' });
    }
    await inTransaction(deps, actor, async (tx) => {
      const row = await load(actor, id, tx.store.streams);
      const head = Number((await tx.store.audit.head(row.org_id))?.last_seq ?? 0);
      let from: number;
      if (to.seq !== undefined) {
        if (typeof to.seq !== 'number' || !Number.isInteger(to.seq) || to.seq < 1 || to.seq > head + 1) {
          throw new AppError('INVALID_DATA', `seq must be a chain sequence from 1 to ${head + 1}`, { api_name: 'seq' });
        }
        from = to.seq;
      } else {
        const at = typeof to.time === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(to.time) ? Date.parse(to.time) : NaN;
        if (Number.isNaN(at)) throw new AppError('INVALID_DATA', 'time must be ISO 8601 with an offset, e.g. 2026-01-31T09:00:00+05:30', { api_name: 'time' });
        from = (await tx.store.streams.firstSeqFrom(row.org_id, at)) ?? head + 1;
      }
      await tx.store.streams.change(row.org_id, row.id, { cursor_seq: from - 1, last_sent_seq: null, failures: 0, last_error: null,
        last_error_at: null, next_attempt_at: null }, actor.userId ?? actor.name, tx.now);
      tx.audit({ action: 'stream_rewound', module: 'streams', recordId: row.id, recordName: row.name, parentModule: null, parentId: null,
        batchId: null, fieldHistory: null,
        extra: { from_cursor: Number(row.cursor_seq), to_cursor: from - 1, ...(to.time !== undefined ? { time: to.time } : { seq: from }) } });
      if (row.status === 'active') await wake(tx, row.org_id, row.id);
    });
    return get(actor, id);
  }

  /** Deletes a stream; its delivery job ends at its next round. Audited as stream_deleted. */
  async function remove(actor: Actor, id: string) {
    await load(actor, id);
    await inTransaction(deps, actor, async (tx) => {
      const row = await load(actor, id, tx.store.streams);
      await tx.store.streams.delete(row.org_id, row.id);
      tx.audit({ action: 'stream_deleted', module: 'streams', recordId: row.id, recordName: row.name, parentModule: null, parentId: null,
        batchId: null, fieldHistory: null, extra: { type: row.type, destination: config(row), cursor_seq: Number(row.cursor_seq) } });
    });
    return { id };
  }

  // ---- delivery ---------------------------------------------------------------------------

  /**
   * Ends this round: marks the job done and queues the next round at `runAfter`, under the lease.
   * With no next round (the stream was paused or deleted), the stream is read again after the job
   * is marked done: one resumed meanwhile (whose wake found this job running) is queued now.
   */
  async function endRound(job: JobTable, ctx: JobContext, result: unknown, runAfter: number | null) {
    ctx.holdLease();
    await bookkeeping(deps, 'a stream\'s delivery round ended: scheduling, not a change to CRM data', async (s) => {
      await ctx.complete(s, result);
      let next = runAfter;
      if (next === null) {
        const streamId = (JSON.parse(job.payload) as { stream_id: string }).stream_id;
        if ((await s.streams.get(job.org_id, streamId))?.status === 'active') next = deps.clock();
      }
      if (next !== null) await s.jobs.requeue(job.id, next, deps.clock());
    });
  }

  /**
   * One delivery round of a stream (the `stream_delivery` job): up to `batchesPerRound` batches
   * from the stream's cursor, each sent whole and acknowledged before the cursor moves past it.
   * Entries its owner may not see are passed over. A failure is recorded on the stream with the
   * next attempt's time (exponential backoff), and the batch is sent again then.
   */
  async function runDelivery(job: JobTable, ctx: JobContext) {
    const streamId = (JSON.parse(job.payload) as { stream_id: string }).stream_id;
    let row = await store.repos.streams.get(job.org_id, streamId);
    if (!row || row.status !== 'active') return endRound(job, ctx, { stopped: row ? 'paused' : 'deleted' }, null);
    const now0 = deps.clock();
    if (row.next_attempt_at !== null && Number(row.next_attempt_at) > now0) return endRound(job, ctx, { waiting: true }, Number(row.next_attempt_at));
    const version = Number(row.version);
    const fail = async (message: string) => {
      const failures = Number(row!.failures) + 1;
      const next = deps.clock() + backoffMs(failures);
      ctx.holdLease();
      await store.repos.streams.recordFailure(row!.org_id, row!.id, version, message, deps.clock(), next);
      return endRound(job, ctx, { failed: message }, next);
    };
    // The owner's view is settled every round: a stream never carries what its owner may no longer see.
    let owner: Actor;
    try {
      owner = await opts.actorForUser(row.org_id, row.owner_id);
    } catch {
      return fail('the stream\'s owner is no longer a user of the organisation: nothing is delivered');
    }
    const ownerRow = await store.repos.directory.getUser(row.org_id, row.owner_id);
    if (ownerRow?.status !== 'active') return fail('the stream\'s owner is not an active user: nothing is delivered');
    if (!hasSetting(owner, 'audit_log')) return fail('the stream\'s owner may no longer read the audit log: nothing is delivered');
    const visible = await visibleUserIds(store.repos, owner);
    const cfg = config(row);
    const batchSize = Number(cfg.batch_size) || 100;
    const tz = (await store.repos.directory.getOrg(row.org_id))?.time_zone ?? 'UTC';
    let dest: Destination | null = null;
    let sent = 0;
    try {
      for (let round = 0; round < batchesPerRound; round += 1) {
        let cursor = Number(row.cursor_seq);
        // Retention may have purged entries this stream never delivered: say so, and go on from the oldest kept.
        const checkpoint = await store.repos.integrity.latestCheckpoint(row.org_id);
        if (checkpoint && Number(checkpoint.seq) > cursor) {
          ctx.holdLease();
          const moved = await store.repos.streams.advance(row.org_id, row.id, version, cursor, { cursor_seq: Number(checkpoint.seq),
            gap: { from: cursor + 1, to: Number(checkpoint.seq), at: deps.clock() } });
          if (!moved) return endRound(job, ctx, { changed: true }, deps.clock());
          cursor = Number(checkpoint.seq);
        }
        // Entries up to the head read first are all committed (the head moves in their transaction).
        const head = Number((await store.repos.audit.head(row.org_id))?.last_seq ?? 0);
        const rows = await store.rows.auditPage({ orgId: row.org_id, actorIds: visible, afterSeq: cursor, desc: false, limit: batchSize });
        const full = rows.length === batchSize;
        const nextCursor = full ? Number(rows[rows.length - 1].seq) : Math.max(head, rows.length ? Number(rows[rows.length - 1].seq) : cursor);
        if (rows.length > 0) {
          const names = new Map((await store.repos.records.names(row.org_id,
            [...new Set(rows.map((r) => r.parent_id).filter((x): x is string => !!x))])).map((r) => [r.id, r.name]));
          let prev = row.last_sent_seq === null ? null : Number(row.last_sent_seq);
          const batch: OutgoingEntry[] = rows.map((r) => {
            const seq = Number(r.seq);
            const json = JSON.stringify({ ...auditEntryView(r, tz, names), seq, hash: r.hash, prev_hash: r.prev_hash, prev_seq: prev,
              org_id: r.org_id, stream_id: row!.id });
            prev = seq;
            return { id: r.id, seq, hash: r.hash, action: r.action, auditedAt: Number(r.audited_at), json };
          });
          dest ??= open({ id: row.id, orgId: row.org_id, type: row.type as StreamType, config: cfg, secrets: secrets(row) });
          try {
            await dest.send(batch);
          } catch (err) {
            return await fail(reason(err));
          }
          sent += batch.length;
        }
        if (nextCursor !== cursor || rows.length > 0) {
          ctx.holdLease();
          const moved = await store.repos.streams.advance(row.org_id, row.id, version, cursor, { cursor_seq: nextCursor,
            ...(rows.length ? { last_sent_seq: Number(rows[rows.length - 1].seq), delivered: rows.length, last_delivered_at: deps.clock() } : {}) });
          // Someone rewound, paused or changed the stream meanwhile: the next round starts from what they set.
          if (!moved) return endRound(job, ctx, { changed: true, sent }, deps.clock());
        }
        if (!full) return endRound(job, ctx, { sent }, deps.clock() + idleMs);
        await ctx.progress(sent, null);
        row = (await store.repos.streams.get(row.org_id, row.id))!;
        if (!row || Number(row.version) !== version) return endRound(job, ctx, { changed: true, sent }, deps.clock());
      }
      return endRound(job, ctx, { sent }, deps.clock());
    } finally {
      await dest?.close().catch(() => undefined);
    }
  }

  /**
   * The safety net (a periodic task): every active stream has its delivery job queued or running,
   * whatever happened to it (a job that failed for good on internal errors). Returns how many it woke.
   */
  async function keepDelivering() {
    let woke = 0;
    for (const org of await store.repos.directory.listOrgs()) {
      for (const { id } of await store.repos.streams.activeIds(org.id)) {
        const now = deps.clock();
        await bookkeeping(deps, 'keeping a stream\'s delivery job queued: scheduling, not a change to CRM data', async (s) => {
          await s.jobs.insertOnce(queuedJob(streamJobId(id), org.id, STREAM_JOB, JSON.stringify({ stream_id: id }), 5, now));
          if (await s.jobs.requeue(streamJobId(id), now, now)) woke += 1;
        });
      }
    }
    return woke;
  }

  return { list, get, create, update, rewind, remove, runDelivery, keepDelivering };
}

export type StreamService = ReturnType<typeof createStreamService>;
export type StreamView = Awaited<ReturnType<StreamService['get']>>;
