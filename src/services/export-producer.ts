import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { encodeDetails } from '../domain/audit.ts';
import { displayValue } from '../domain/display.ts';
import { createZoneFormatter } from '../domain/time.ts';
import { buildAuditSelect } from '../store/audit-query-store.ts';
import type { Store, StoreOptions } from '../store/db.ts';
import type { AuditEntryTable } from '../store/schema.ts';
import { BOM, csvRow } from './csv.ts';

/**
 * The CSV side of an export: reads the matching entries and encodes them into the CSV parts of
 * the file, as chunks of text with each part's sequence range. The export service encodes and
 * hashes the chunks and puts them into the CSV or the ZIP.
 *
 * It runs in a worker thread of its own (with its own database connection) whenever the
 * database can be opened twice, so reading and encoding (most of an export's work) run beside
 * the compression and the writing on the main thread, and the server's event loop stays free.
 * bench:export measured a million-entry export at 9-10 s with everything on the main thread.
 * An in-memory SQLite database cannot be shared with a thread: it is exported inline.
 */

/** What the job will export, fixed when it is created so every run produces the same bytes. */
export interface ResolvedExport {
  from: number;
  to: number;
  maxSeq: number;
  actorIds: string[] | null;
  actions: string[] | null;
  modules: string[] | null;
  timeZone: string;
}

export interface ProduceRequest {
  orgId: string;
  resolved: ResolvedExport;
  /** Entries to encode, already cut at the job's cap. */
  entries: number;
  rowsPerFile: number;
}

export type ProducerMessage =
  /**
   * CSV text of the current part, and how many entries it completes. Text rather than bytes: a
   * string is cheap to copy to the main thread, and turning it into UTF-8 there (with the
   * hashing) takes that work off this thread, the export's busiest.
   */
  | { t: 'chunk'; text: string; rows: number }
  /** The current part is complete. */
  | { t: 'part'; entries: number; first_seq: number | null; last_seq: number | null }
  /** Every part is complete; `lastSeq` is the highest sequence number exported (-1 for none). */
  | { t: 'end'; lastSeq: number };

export const EXPORT_COLUMNS = ['Audited Time', 'Done By', 'Done By Id', 'Action', 'Module', 'Record Name', 'Record Id',
  'Parent Module', 'Parent Record Id', 'Source', 'IP Address', 'User Agent', 'Batch Id', 'Changes', 'Entry Id', 'Sequence'];

/**
 * The columns read, in the CSV's order. Rows come back as arrays (store.selectRows); the indexes
 * below name the positions the encoder treats specially.
 */
const EXPORT_SELECT = ['audited_at', 'actor_name', 'actor_id', 'action', 'module', 'record_name', 'record_id', 'parent_module',
  'parent_id', 'source', 'ip', 'user_agent', 'batch_id', 'details', 'id', 'seq'] as const satisfies readonly (keyof AuditEntryTable)[];
const AT = 0;
const DETAILS = 13;
const SEQ = 15;
type Row = (string | number | null)[];

/** Rows a query reads (keyset pages). */
const PAGE = 2000;
/** Characters of CSV text in one chunk. */
const CHUNK = 64 * 1024;
/** The stored details of an entry without field changes or extra data. */
const NO_DETAILS = encodeDetails(null, null);

/**
 * The matching rows, at most `limit`, a page per call (keyset paging in (audited_at, seq)
 * order); an empty page at the end. The next page is requested while this one is encoded (on
 * PostgreSQL the server works meanwhile). After the first page the keyset bound replaces `from`
 * (it is tighter): given both lower bounds, SQLite seeks to `from` and filters its way to the
 * keyset on every page, which made a million-entry export quadratic.
 */
function matchingPages(store: Store, orgId: string, r: ResolvedExport, limit: number): () => Promise<Row[]> {
  let left = r.actorIds && r.actorIds.length === 0 ? 0 : limit;
  const request = (after?: { at: number; seq: number }) => {
    const p = store.selectRows(buildAuditSelect(store.db, { orgId, from: after ? undefined : r.from, to: r.to, actorIds: r.actorIds,
      actions: r.actions ?? undefined, modules: r.modules ?? undefined, desc: false, after, limit: PAGE })
      .where('seq', '<=', r.maxSeq).clearSelect().select(EXPORT_SELECT)) as Promise<Row[]>;
    p.catch(() => {}); // awaited when its turn comes; until then a failure must not go unhandled
    return p;
  };
  let pending: Promise<Row[]> | null = left > 0 ? request() : null;
  return async () => {
    if (!pending) return [];
    let page = await pending;
    pending = null;
    if (page.length > left) page = page.slice(0, left);
    left -= page.length;
    if (page.length === PAGE && left > 0) {
      const last = page[page.length - 1];
      pending = request({ at: Number(last[AT]), seq: Number(last[SEQ]) });
    }
    return page;
  };
}

/** The CSV cells of a row: the time in the org's zone, the details as readable changes. */
function entryCells(cells: Row, fmt: (ms: number) => string): Row {
  let changes = '';
  // Most entries (adds, deletes, logins) carry no changes: skip parsing their details.
  if (cells[DETAILS] !== NO_DETAILS) {
    const details = JSON.parse(cells[DETAILS] as string) as { field_history: { field_label: string; old: unknown; new: unknown }[] | null };
    changes = details.field_history?.map((c) => `${c.field_label}: ${displayValue(c.old) ?? '(empty)'} -> ${displayValue(c.new) ?? '(empty)'}`).join('; ') ?? '';
  }
  cells[AT] = fmt(Number(cells[AT]));
  cells[DETAILS] = changes;
  cells[SEQ] = Number(cells[SEQ]);
  return cells;
}

/** Encodes the export's parts: one CSV when it fits in one file, else `rowsPerFile` entries each. */
export async function* produceCsvParts(store: Store, req: ProduceRequest): AsyncGenerator<ProducerMessage> {
  const { resolved: r, entries, rowsPerFile } = req;
  const fmt = createZoneFormatter(r.timeZone);
  const nextPage = matchingPages(store, req.orgId, r, entries);
  const parts = entries <= rowsPerFile ? 1 : Math.ceil(entries / rowsPerFile);
  let page: Row[] = [];
  let inPage = 0;
  let lastSeq = -1;
  for (let part = 0; part < parts; part++) {
    const count = parts === 1 ? entries : Math.min(rowsPerFile, entries - part * rowsPerFile);
    let first: number | null = null;
    let last: number | null = null;
    let n = 0;
    let rows = 0;
    let buf = BOM + csvRow(EXPORT_COLUMNS);
    const chunk = (): ProducerMessage => {
      const m: ProducerMessage = { t: 'chunk', text: buf, rows };
      buf = '';
      rows = 0;
      return m;
    };
    while (n < count) {
      if (inPage === page.length) {
        page = await nextPage();
        inPage = 0;
        if (page.length === 0) break;
      }
      const row = page[inPage++];
      n += 1;
      rows += 1;
      const seq = Number(row[SEQ]);
      first = first === null ? seq : Math.min(first, seq);
      last = last === null ? seq : Math.max(last, seq);
      if (seq > lastSeq) lastSeq = seq;
      buf += csvRow(entryCells(row, fmt));
      if (buf.length > CHUNK) yield chunk();
    }
    yield chunk();
    yield { t: 'part', entries: n, first_seq: first, last_seq: last };
  }
  yield { t: 'end', lastSeq };
}

/** Chunks a worker may have sent that the main thread has not taken yet (its memory bound). */
export const MAX_IN_FLIGHT = 4;

export interface ProducerWorkerData { entry: string; store: StoreOptions; req: ProduceRequest }

/**
 * The export's parts, from a worker thread when the store can be opened there, else inline.
 * Breaking out of the iteration (or a failure on either side) stops the worker.
 */
export function csvParts(store: Store, req: ProduceRequest): AsyncIterable<ProducerMessage> {
  if (!store.openOptions) return produceCsvParts(store, req);
  const options = store.openOptions;
  return {
    [Symbol.asyncIterator]() {
      const data: ProducerWorkerData = { entry: fileURLToPath(new URL('./export-producer-worker.ts', import.meta.url)), store: options, req };
      const worker = new Worker(new URL('../ts-worker.js', import.meta.url), { workerData: data, execArgv: [] });
      const queue: ProducerMessage[] = [];
      let failure: Error | null = null;
      let ended = false;
      let wake: (() => void) | null = null;
      const notify = () => {
        wake?.();
        wake = null;
      };
      worker.on('message', (m: ProducerMessage) => {
        queue.push(m);
        notify();
      });
      worker.on('error', (e) => {
        failure ??= e;
        notify();
      });
      worker.on('exit', (code) => {
        if (!ended) failure ??= new Error(`the export's worker thread stopped (exit code ${code}) before it finished`);
        notify();
      });
      const stop = async () => {
        ended = true;
        await worker.terminate();
      };
      return {
        async next(): Promise<IteratorResult<ProducerMessage>> {
          for (;;) {
            const m = queue.shift();
            if (m) {
              if (m.t === 'chunk') worker.postMessage('ack');
              // The worker sends the end once its connection is closed (export-producer-worker.ts).
              if (m.t === 'end') await stop();
              return { value: m, done: false };
            }
            if (failure) {
              await stop();
              throw failure;
            }
            if (ended) return { value: undefined, done: true };
            await new Promise<void>((resolve) => { wake = resolve; });
          }
        },
        async return(): Promise<IteratorResult<ProducerMessage>> {
          await stop();
          return { value: undefined, done: true };
        },
      };
    },
  };
}
