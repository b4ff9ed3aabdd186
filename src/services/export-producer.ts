import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { createZoneFormatter } from '../domain/time.ts';
import type { ServiceStore, StoreOptions } from '../store/db.ts';
import type { ExportRows } from '../store/export-query-store.ts';
import { pagedPart, type PartChunk, type PartJob } from './export-csv-encoding.ts';
import { partBytes } from './export-part-bytes.ts';
import { type Keyset, type ResolvedExport, skip } from './export-query.ts';
import { copiedPart } from './pg-copy-binary.ts';

/**
 * The file side of an export: reads the matching entries, encodes them into the CSV parts of
 * the file and, for a ZIP, deflates each part, handing out bytes with each part's size,
 * SHA-256, CRC-32 and sequence range. The export service writes them into the CSV or the ZIP.
 * This file runs the producers (threads, shares, messages); the query is export-query.ts, the
 * CSV export-csv-encoding.ts (and pg-copy-binary.ts for PostgreSQL's COPY), the bytes
 * export-part-bytes.ts.
 *
 * It runs in worker threads (each with its own database connection) whenever the database can
 * be opened twice, so the server's event loop stays free. An unfiltered export of several parts
 * runs two, each taking every other part: a thread finds where its next part starts by counting
 * past the other's rows in the (org_id, audited_at, seq) index, which the rows alone need no
 * table reads for. Each thread compresses its own parts (on libuv's pool, beside its encoding),
 * so the main thread only copies bytes: faster than one thread encoding and the main thread
 * compressing (bench/export.ts measures it). A filtered export (its filters are not in that
 * index) runs one thread; an in-memory SQLite database cannot be shared with a thread, so it is
 * exported inline.
 */

export interface ProduceRequest {
  orgId: string;
  resolved: ResolvedExport;
  /** Entries to encode, already cut at the job's cap. */
  entries: number;
  rowsPerFile: number;
}

/** Which parts a producer makes: parts `index`, `index + of`, `index + 2 * of`, ... */
export interface ProducerShare { index: number; of: number }

/** A finished part: what the manifest and the ZIP's directory need of it. */
export interface PartSummary {
  part: number;
  entries: number;
  first_seq: number | null;
  last_seq: number | null;
  /** Bytes of the CSV, and their SHA-256 (hex) and CRC-32. */
  size: number;
  sha256: string;
  crc: number;
}

export type ProducerMessage =
  | PartChunk
  | ({ t: 'part' } & PartSummary)
  /** The producer made all its parts; `lastSeq` is the highest sequence number it exported (-1 for none). */
  | { t: 'end'; lastSeq: number };

/**
 * Makes the producer's share of the export's parts: one CSV when it fits in one file, else parts
 * of `rowsPerFile` entries, deflated for the ZIP. Messages come part by part, in order. Rows come
 * through COPY where the store can (PostgreSQL), else by keyset pages; `via` chooses (for tests).
 */
export async function* produceParts(rows: ExportRows, req: ProduceRequest, share: ProducerShare = { index: 0, of: 1 },
  via: 'copy' | 'pages' = rows.copies ? 'copy' : 'pages'): AsyncGenerator<ProducerMessage> {
  const { resolved: r, entries, rowsPerFile } = req;
  const fmt = createZoneFormatter(r.timeZone);
  const parts = partCount(entries, rowsPerFile);
  const compress = parts > 1;
  let position: Keyset | undefined | 'end';
  let next = 0;
  let lastSeq = -1;
  for (let part = share.index; part < parts; part += share.of) {
    if (position !== 'end') position = await skip(rows, req.orgId, r, position, (part - next) * rowsPerFile);
    const count = position === 'end' ? 0 : parts === 1 ? entries : Math.min(rowsPerFile, entries - part * rowsPerFile);
    const from = position === 'end' ? undefined : position;
    const out = partBytes(compress);
    const job: PartJob = { rows, orgId: req.orgId, r, fmt, part, out };
    const done = yield* (via === 'copy' ? copiedPart(job, from, count) : pagedPart(job, from, count));
    if (position !== 'end') position = done.position;
    if (done.last !== null && done.last > lastSeq) lastSeq = done.last;
    const summary = await out.finish();
    const data = out.take();
    if (data) yield { t: 'chunk', part, data, rows: 0 };
    yield { t: 'part', part, entries: done.n, first_seq: done.first, last_seq: done.last, ...summary };
    next = part + 1;
  }
  yield { t: 'end', lastSeq };
}

/** One CSV when the entries fit in one file, else as many parts as it takes. */
export function partCount(entries: number, rowsPerFile: number) {
  return entries <= rowsPerFile ? 1 : Math.ceil(entries / rowsPerFile);
}

/** Bytes a worker may have sent that the main thread has not taken yet (its memory bound). */
export const MAX_IN_FLIGHT_BYTES = 8 * 1024 * 1024;

export interface ProducerWorkerData { entry: string; store: StoreOptions; req: Omit<ProduceRequest, 'entries'>; share: ProducerShare }

/** An export to make: its entries (cut at the cap) may still be being counted. */
export type ExportRequest = Omit<ProduceRequest, 'entries'> & { entries: Promise<number> };

/** One producer in a worker thread, as an iterator of its messages; breaking out stops the thread. */
function producerThread(options: StoreOptions, req: ExportRequest, share: ProducerShare): AsyncIterator<ProducerMessage> {
  const { entries, ...rest } = req;
  const data: ProducerWorkerData = { entry: fileURLToPath(new URL('./export-producer-worker.ts', import.meta.url)), store: options,
    req: rest, share };
  // V8 sizes a thread's heap by its limit: left at the process's, the two producers' heaps grew
  // far past what they use, and the export's peak RSS with them. A young generation of 12 MB
  // instead of 24 lowers the peak at no measurable cost in time (the rows' strings die young
  // either way); bench/export.ts measures both. Pages are sized to PAGE_CHARS (export-query.ts)
  // and rows are at most a few MB (the request body limit): 128 MB of old generation leaves room
  // for both.
  const worker = new Worker(new URL('../ts-worker.js', import.meta.url), { workerData: data, execArgv: [],
    resourceLimits: { maxYoungGenerationSizeMb: 12, maxOldGenerationSizeMb: 128 } });
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
    if (!ended) failure ??= new Error(`an export's worker thread stopped (exit code ${code}) before it finished`);
    notify();
  });
  const stop = async () => {
    ended = true;
    await worker.terminate();
  };
  // The thread starts while the entries are counted; it waits for the count (a failed count
  // reaches the caller through exportParts, which then stops the thread).
  entries.then((n) => { if (!ended) worker.postMessage({ entries: n }); }, () => {});
  return {
    async next(): Promise<IteratorResult<ProducerMessage>> {
      for (;;) {
        const m = queue.shift();
        if (m) {
          if (m.t === 'chunk') worker.postMessage(m.data.byteLength);
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
}

/**
 * The export's messages in part order, from two worker threads for an unfiltered export of
 * several parts (`severalParts`, known before the count), from one for the rest, inline when the
 * store cannot be opened in a thread. The threads start at once and load while the entries are
 * counted. The last message is one `end` with the highest sequence number exported. Breaking out
 * of the iteration (or a failure anywhere) stops every thread.
 */
export function exportParts(store: ServiceStore, req: ExportRequest, severalParts: boolean): AsyncIterable<ProducerMessage> {
  const r = req.resolved;
  const unfiltered = !r.actorIds && !r.actions && !r.modules;
  // Inline, two producers take turns on one connection: no faster, but the same bytes by the same
  // path, which the tests on in-memory databases then cover.
  const of = unfiltered && severalParts ? 2 : 1;
  return {
    [Symbol.asyncIterator]() {
      const options = store.openOptions;
      let producers: AsyncIterator<ProducerMessage>[] | null = options
        ? Array.from({ length: of }, (_, index) => producerThread(options, req, { index, of })) : null;
      let parts = -1;
      let part = 0;
      let lastSeq = -1;
      let finished = false;
      const stopAll = async () => {
        finished = true;
        await Promise.all((producers ?? []).map((p) => p.return?.()));
      };
      return {
        async next(): Promise<IteratorResult<ProducerMessage>> {
          if (finished) return { value: undefined, done: true };
          try {
            if (parts < 0) {
              const entries = await req.entries;
              parts = partCount(entries, req.rowsPerFile);
              producers ??= Array.from({ length: of }, (_, index) => produceParts(store.rows.exportRows, { ...req, entries }, { index, of })[Symbol.asyncIterator]());
            }
            if (part === parts) {
              // Every producer's end, once each has made its parts.
              for (const p of producers!) {
                const { value: m } = await p.next();
                if (m?.t !== 'end') throw new Error('an export producer made more parts than expected');
                lastSeq = Math.max(lastSeq, m.lastSeq);
              }
              finished = true;
              return { value: { t: 'end', lastSeq }, done: false };
            }
            const { value: m, done } = await producers![part % of].next();
            if (done || m.t === 'end' || m.part !== part) throw new Error('an export producer ended in the middle of its parts');
            if (m.t === 'part') part += 1;
            return { value: m, done: false };
          } catch (e) {
            await stopAll();
            throw e;
          }
        },
        async return(): Promise<IteratorResult<ProducerMessage>> {
          await stopAll();
          return { value: undefined, done: true };
        },
      };
    },
  };
}
