import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import zlib from 'node:zlib';
import { sql } from 'kysely';
import { NO_DETAILS } from '../domain/audit.ts';
import { displayValue } from '../domain/display.ts';
import { createZoneFormatter } from '../domain/time.ts';
import { buildAuditSelect } from '../store/audit-query-store.ts';
import type { Store, StoreOptions } from '../store/db.ts';
import type { AuditEntryTable } from '../store/schema.ts';
import { BOM, csvCell, csvRow } from './csv.ts';

/**
 * The file side of an export: reads the matching entries, encodes them into the CSV parts of
 * the file and, for a ZIP, deflates each part, handing out bytes with each part's size,
 * SHA-256, CRC-32 and sequence range. The export service writes them into the CSV or the ZIP.
 *
 * It runs in worker threads (each with its own database connection) whenever the database can
 * be opened twice, so the server's event loop stays free. An unfiltered export of several parts
 * runs two, each taking every other part: a thread finds where its next part starts by counting
 * past the other's rows in the (org_id, audited_at, seq) index, which the rows alone need no
 * table reads for. Each thread compresses its own parts (on libuv's pool, beside its encoding),
 * so the main thread only copies bytes. bench:export measured a million-entry export at 10.3 s
 * this way, 13 s with one thread encoding and the main thread compressing. A filtered export
 * (its filters are not in that index) runs one thread; an in-memory SQLite database cannot be
 * shared with a thread, so it is exported inline.
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
  /** Bytes of a part (deflated when the export is a ZIP), and how many entries they complete. */
  | { t: 'chunk'; part: number; data: Uint8Array; rows: number }
  | ({ t: 'part' } & PartSummary)
  /** The producer made all its parts; `lastSeq` is the highest sequence number it exported (-1 for none). */
  | { t: 'end'; lastSeq: number };

export const EXPORT_COLUMNS = ['Audited Time', 'Done By', 'Done By Id', 'Action', 'Module', 'Record Name', 'Record Id',
  'Parent Module', 'Parent Record Id', 'Source', 'IP Address', 'User Agent', 'Batch Id', 'Changes', 'Entry Id', 'Sequence'];

/**
 * What a page query reads per entry. Most of an export's time is better-sqlite3 (or pg) making
 * JavaScript strings of the columns, so the twelve text columns from Done By to Batch Id come
 * joined into one string by the database, separated by U+001F, and the encoder writes them as
 * they are when none of them needs quoting or neutralising (checked at once by CLEAN_GROUP), else
 * cell by cell; Entry Id and Sequence come as one string too (the id is ours: digits). A details
 * value without changes (most entries) comes back as NULL, so it costs no string either.
 * bench:export measured the million-entry export's reading and encoding at 8 s this way against
 * 11 s column by column.
 */
const GROUP_COLUMNS = ['actor_name', 'actor_id', 'action', 'module', 'record_name', 'record_id', 'parent_module', 'parent_id',
  'source', 'ip', 'user_agent', 'batch_id'] as const satisfies readonly (keyof AuditEntryTable)[];
const SEP = '\x1f'; // char(31) in pageSelect
const AT = 0;
const SEQ = 1;
const GROUP = 2;
const DETAILS = 3;
const TAIL = 4;
type Row = [number, number, string, string | null, string];

/**
 * Exactly twelve cells separated by U+001F, none containing a quote, comma, CR or LF, none
 * starting with a character a spreadsheet runs as a formula (= + - @ tab CR): such a group is
 * already twelve CSV cells once the separators become commas.
 */
const CLEAN_CELL = '(?:[^",\\r\\n\\x1f=+\\-@\\t][^",\\r\\n\\x1f]*)?';
const CLEAN_GROUP = new RegExp(`^${CLEAN_CELL}(?:\\x1f${CLEAN_CELL}){${GROUP_COLUMNS.length - 1}}$`);
const SEPARATORS = new RegExp(SEP, 'g');

/** Rows a query reads at most (keyset pages). */
const PAGE = 2000;
/**
 * Characters of text a page should hold: a page and the next one, read meanwhile, must fit well
 * in a producer thread's heap (capped, see producerThread) whatever the entries' field histories
 * weigh. The first page reads FIRST_PAGE rows; each later one as many as the last page's rows
 * averaged would fill PAGE_CHARS with, at least one and at most GROWTH times the last page's.
 * Rows cannot be weighed before they are read: pages start small so that an export starting with
 * heavy entries never reads 2,000 of them at once, but a long run of light entries followed by
 * heavy ones still gives one heavy page.
 */
const PAGE_CHARS = 8 * 1024 * 1024;
const FIRST_PAGE = 100;
const GROWTH = 4;

/** Rows the next page reads, from what the last one weighed (rows, characters of text). */
export function nextPageRows(rows: number, chars: number): number {
  if (rows === 0) return FIRST_PAGE;
  return Math.max(1, Math.min(PAGE, rows * GROWTH, Math.floor(PAGE_CHARS / Math.max(1, chars / rows))));
}

/** Characters of CSV text in one chunk. */
const CHUNK = 64 * 1024;

/**
 * The select list of a page: AT, SEQ, GROUP, DETAILS, TAIL (`id,seq`). concat() (NULL as '')
 * with constants for the separator and the empty details: bench:export measured SQLite's reading
 * at 2.8 s a million this way, 4.9 s with coalesce(), || and bound parameters.
 */
function pageSelect(dialect: Store['dialect']) {
  return ['audited_at', 'seq', groupSelect(dialect), DETAILS_SELECT,
    sql<string>`concat(${sql.ref('id')}, ',', ${sql.ref('seq')})`.as('tail')] as const;
}
/** The twelve columns Done By .. Batch Id as one string, U+001F between them (NULL as ''). */
function groupSelect(dialect: Store['dialect']) {
  const sep = dialect === 'postgres' ? sql`chr(31)` : sql`char(31)`;
  return sql<string>`concat(${sql.join(GROUP_COLUMNS.map((c) => sql.ref(c)), sql`, ${sep}, `)})`.as('grp');
}
/** Details, NULL for an entry without any (most of them). */
const DETAILS_SELECT = sql<string | null>`case when ${sql.ref('details')} = ${sql.lit(NO_DETAILS)} then null else ${sql.ref('details')} end`.as('changes');

type Keyset = { at: number; seq: number };

/**
 * The export's matching entries after `after` (from the start without), `limit` at most, oldest
 * first: the one query behind every read of an export (pages, skips, the service's count and probe).
 * A visibility naming no users matches nothing (buildAuditSelect), so no reader special-cases it.
 */
export function matchingEntries(db: Store['db'], orgId: string, r: ResolvedExport, opts: { after?: Keyset; limit: number; offset?: number }) {
  return buildAuditSelect(db, { orgId, from: opts.after ? undefined : r.from, to: r.to, actorIds: r.actorIds,
    actions: r.actions ?? undefined, modules: r.modules ?? undefined, desc: false, after: opts.after, limit: opts.limit, offset: opts.offset })
    .where('seq', '<=', r.maxSeq);
}

/**
 * `count` matching rows from `start` on, a page per call (keyset paging in (audited_at, seq)
 * order); an empty page at the end. The next page is requested while this one is encoded (on
 * PostgreSQL the server works meanwhile). After the first page the keyset bound replaces `from`
 * (it is tighter): given both lower bounds, SQLite seeks to `from` and filters its way to the
 * keyset on every page, which made a million-entry export quadratic.
 */
function pagesOf(store: Store, orgId: string, r: ResolvedExport, start: Keyset | undefined, count: number): () => Promise<Row[]> {
  let left = count;
  let limit = nextPageRows(0, 0);
  const request = (after: Keyset | undefined) => {
    const query = matchingEntries(store.db, orgId, r, { after, limit: Math.min(limit, left) }).clearSelect().select(pageSelect(store.dialect));
    const p = store.selectRows(query) as unknown as Promise<Row[]>;
    p.catch(() => {}); // awaited when its turn comes; until then a failure must not go unhandled
    return p;
  };
  let pending: Promise<Row[]> | null = left > 0 ? request(start) : null;
  return async () => {
    if (!pending) return [];
    const page = await pending;
    pending = null;
    left -= page.length;
    if (page.length > 0 && left > 0) {
      let chars = 0;
      for (const row of page) chars += row[GROUP].length + (row[DETAILS]?.length ?? 0);
      limit = nextPageRows(page.length, chars);
      const last = page[page.length - 1];
      pending = request({ at: Number(last[AT]), seq: Number(last[SEQ]) });
    }
    return page;
  };
}

/**
 * Where the matching rows stand after skipping `n` from `after` (from the start without): the
 * keyset of the n-th row, read from the index alone for an unfiltered export.
 */
async function skip(store: Store, orgId: string, r: ResolvedExport, after: Keyset | undefined, n: number): Promise<Keyset | undefined | 'end'> {
  if (n <= 0) return after;
  const [row] = await store.selectRows(matchingEntries(store.db, orgId, r, { after, limit: 1, offset: n - 1 }).clearSelect()
    .select(['audited_at', 'seq']));
  // Fewer rows than counted (entries purged meanwhile): nothing is left for this producer.
  return row ? { at: Number(row[0]), seq: Number(row[1]) } : 'end';
}

/** The Changes cell's text: `Label: old -> new; ...` ('' for an entry without changes). */
function changesText(details: string): string {
  const history = (JSON.parse(details) as { field_history: { field_label: string; old: unknown; new: unknown }[] | null }).field_history;
  if (!history) return '';
  let text = '';
  for (let i = 0; i < history.length; i++) {
    const c = history[i];
    text += `${i ? '; ' : ''}${c.field_label}: ${displayValue(c.old) ?? '(empty)'} -> ${displayValue(c.new) ?? '(empty)'}`;
  }
  return text;
}

/**
 * The CSV cells Done By .. Batch Id of an entry whose group is not clean: each cell encoded on
 * its own; when a value itself holds the separator (so the group does not split into its cells),
 * the entry's columns read again one by one.
 */
async function groupCells(store: Store, orgId: string, row: Row): Promise<string> {
  let cells: (string | null)[] = row[GROUP].split(SEP);
  if (cells.length !== GROUP_COLUMNS.length) {
    const id = row[TAIL].slice(0, row[TAIL].indexOf(','));
    const [again] = await store.selectRows(store.db.selectFrom('audit_entries').select(GROUP_COLUMNS)
      .where('org_id', '=', orgId).where('id', '=', id)) as (string | null)[][];
    if (!again) throw new Error(`audit entry ${id} disappeared while it was exported`);
    cells = again;
  }
  return csvRow(cells).slice(0, -2);
}

/**
 * How hard a ZIP's parts are compressed. Deflating was the largest single cost of a million-entry
 * export; on a 53 MB part of the demo's log, level 4 took 40% less CPU than zlib's default 6 for
 * a file 12% larger (15.4% of the CSV instead of 13.7%; level 5: 25% less, 4% larger). An export
 * is a download that expires in a week: it is made fast rather than smallest.
 */
const DEFLATE_LEVEL = 4;

/** Bytes a producer hands out at a time: its text chunks, or the compressor's output. */
const CHUNK_BYTES = 256 * 1024;
/** Enough for the UTF-8 of a chunk of text (CHUNK characters and the row that crosses it). */
const SCRATCH_BYTES = 512 * 1024;

/** UTF-8 buffers the compressor reads from, reused: a fresh buffer per chunk left up to 64 MB of dead ones per thread until V8 collected them. */
const SCRATCH_BUFFERS = 8;

/**
 * One part's bytes as they are made: the CSV's UTF-8 hashed and, for a ZIP, deflated (DEFLATE_LEVEL,
 * on libuv's pool, while the next rows are encoded). `take` hands out what is ready, in a buffer
 * of its own (it may be transferred to another thread).
 */
function partBytes(compress: boolean) {
  const hash = createHash('sha256');
  let crc = 0;
  let size = 0;
  const ready: Buffer[] = [];
  let readyBytes = 0;
  // The compressor must be able to run ahead of the encoder: with Node's default 16 KiB buffer
  // every write waited for it, and the two took turns instead of overlapping. (zlib passes stream
  // options through to its Transform; its option type does not list them.)
  const deflate = compress ? zlib.createDeflateRaw({ level: DEFLATE_LEVEL, chunkSize: CHUNK_BYTES, writableHighWaterMark: 1024 * 1024 } as zlib.ZlibOptions)
    : null;
  deflate?.on('data', (c: Buffer) => {
    ready.push(c);
    readyBytes += c.length;
  });
  const ended = deflate ? once(deflate, 'end') : null;
  ended?.catch(() => {}); // awaited in finish(); a failure meanwhile must not go unhandled
  const scratch: Buffer[] = deflate ? Array.from({ length: SCRATCH_BUFFERS }, () => Buffer.allocUnsafeSlow(SCRATCH_BYTES)) : [];
  const pooled = new Set(scratch);
  let freed: (() => void) | null = null;
  const release = (b: Buffer) => () => {
    scratch.push(b);
    freed?.();
    freed = null;
  };
  return {
    async write(text: string) {
      // Into a reused buffer when it will go to the compressor and fits; else (the single CSV's
      // bytes are handed out as they are) a buffer of its own.
      if (deflate && text.length * 3 <= SCRATCH_BYTES) {
        const buf = await this.buffer();
        await this.commit(buf, buf.write(text, 'utf8'));
      } else {
        await this.commit(Buffer.from(text, 'utf8'));
      }
    },
    /** A buffer of SCRATCH_BYTES to fill and commit: a reused one for the compressor, else one of its own. */
    async buffer(): Promise<Buffer> {
      if (!deflate) return Buffer.allocUnsafeSlow(SCRATCH_BYTES);
      while (scratch.length === 0) await Promise.race([new Promise<void>((resolve) => { freed = resolve; }), ended]);
      return scratch.pop()!;
    },
    /** The first `length` bytes of `buf` (all of them without), which is the part's from now on: a buffer() goes back to be reused. */
    async commit(buf: Buffer, length = buf.length) {
      const bytes = length === buf.length ? buf : buf.subarray(0, length);
      hash.update(bytes);
      crc = zlib.crc32(bytes, crc);
      size += bytes.length;
      if (deflate) await this.deflate(bytes, pooled.has(buf) ? release(buf) : undefined);
      else {
        ready.push(bytes);
        readyBytes += bytes.length;
      }
    },
    async deflate(bytes: Buffer, done?: () => void) {
      if (!deflate!.write(bytes, done)) {
        await Promise.race([once(deflate!, 'drain'), ended]);
      } else {
        // The compressor's progress is an event-loop callback; an encoder that only ever awaits
        // resolved promises would starve it.
        await new Promise(setImmediate);
      }
    },
    take(): Buffer | null {
      if (ready.length === 0) return null;
      const out = Buffer.allocUnsafeSlow(readyBytes);
      let at = 0;
      for (const c of ready) at += c.copy(out, at);
      ready.length = 0;
      readyBytes = 0;
      return out;
    },
    readyBytes: () => readyBytes,
    async finish() {
      if (deflate) {
        deflate.end();
        await ended;
      }
      return { size, sha256: hash.digest('hex'), crc: crc >>> 0 };
    },
  };
}

type PartBytes = ReturnType<typeof partBytes>;
/** What a part's encoder hands back once its rows are written. */
interface PartRows { n: number; first: number | null; last: number | null; position: Keyset | undefined }
/** What every part's encoder is given. */
interface PartJob { store: Store; orgId: string; r: ResolvedExport; fmt: (ms: number) => string; part: number; out: PartBytes }

/** A part's rows read by keyset pages and encoded as text: SQLite, and PostgreSQL without copyOut. */
async function* pagedPart(job: PartJob, start: Keyset | undefined, count: number): AsyncGenerator<ProducerMessage, PartRows> {
  const { store, orgId, r, fmt, part, out } = job;
  const nextPage = pagesOf(store, orgId, r, start, count);
  let position = start;
  let first: number | null = null;
  let last: number | null = null;
  let n = 0;
  let rows = 0;
  let text = BOM + csvRow(EXPORT_COLUMNS);
  for (;;) {
    const page = await nextPage();
    for (const row of page) {
      const seq = Number(row[SEQ]);
      first = first === null ? seq : Math.min(first, seq);
      last = last === null ? seq : Math.max(last, seq);
      // The clean group is most entries: no promise, no await for them.
      const group = CLEAN_GROUP.test(row[GROUP]) ? row[GROUP].replace(SEPARATORS, ',') : await groupCells(store, orgId, row);
      text += `${fmt(Number(row[AT]))},${group},${row[DETAILS] === null ? '' : csvCell(changesText(row[DETAILS]))},${row[TAIL]}\r\n`;
      rows += 1;
      if (text.length > CHUNK) {
        await out.write(text);
        text = '';
        if (out.readyBytes() >= CHUNK_BYTES) {
          yield { t: 'chunk', part, data: out.take()!, rows };
          rows = 0;
        }
      }
    }
    n += page.length;
    if (page.length === 0) break;
    const tail = page[page.length - 1];
    position = { at: Number(tail[AT]), seq: Number(tail[SEQ]) };
  }
  await out.write(text);
  if (rows > 0) yield { t: 'chunk', part, data: out.take() ?? new Uint8Array(0), rows };
  return { n, first, last, position };
}

/** PostgreSQL's binary COPY format: its signature, and the header's fixed length (signature, flags, extension length). */
const COPY_SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const COPY_HEADER = 19;
/** Fields of a copied row: audited_at and seq (int8), the group (text, U+001F between cells), details (text or NULL), id (text). */
const COPY_FIELDS = 5;
/** Bytes the CSV's cells never hold unquoted, and the first bytes that make a cell a formula (as CLEAN_CELL). */
const QUOTE = 34;
const COMMA = 44;
const CR = 13;
const LF = 10;
const UNIT_SEPARATOR = 0x1f;
const isFormulaByte = (b: number) => b === 61 || b === 43 || b === 45 || b === 64 || b === 9 || b === CR;
/** Characters of text written into a part's buffer; longer strings go as buffers of their own. */
const LONG_TEXT = SCRATCH_BYTES / 8;
/** Room kept for a row's fixed-size cells (time, id, sequence, separators), and after any text written. */
const ROW_MARGIN = 96;

/**
 * A part's rows through PostgreSQL's binary COPY (store.copyOut), encoded as bytes: the group's
 * UTF-8 is checked and copied byte by byte (the clean case: separators become commas), the time,
 * sequence and Changes cell are written as text, and a group that is not clean is encoded from
 * its cells as the paged path does (groupCells). The bytes are the paged path's, exactly (a test
 * compares them). bench:export measured a million-entry export on PostgreSQL at 1.27x its baseline
 * this way (11.0 s of CPU), 1.40x (13.3 s) by keyset pages.
 */
async function* copiedPart(job: PartJob, start: Keyset | undefined, count: number): AsyncGenerator<ProducerMessage, PartRows> {
  const { store, orgId, r, fmt, part, out } = job;
  let position = start;
  let first: number | null = null;
  let last: number | null = null;
  let n = 0;
  let rows = 0;
  let buf = await out.buffer();
  let pos = 0;
  const flush = async () => {
    if (pos === 0) return;
    await out.commit(buf, pos);
    buf = await out.buffer();
    pos = 0;
  };
  /** Text that may need quoting or be long (header, Changes, a group encoded cell by cell). */
  const writeText = async (text: string) => {
    if (text.length > LONG_TEXT) {
      await flush();
      await out.commit(Buffer.from(text, 'utf8'));
    } else {
      if (pos + text.length * 3 + ROW_MARGIN > buf.length) await flush();
      pos += buf.write(text, pos, 'utf8');
    }
  };
  /** ASCII text (times, digits), a character a byte; the caller made room. */
  const writeAscii = (text: string) => {
    for (let i = 0; i < text.length; i++) buf[pos++] = text.charCodeAt(i);
  };
  await writeText(BOM + csvRow(EXPORT_COLUMNS));
  if (count > 0) {
    const query = matchingEntries(store.db, orgId, r, { after: start, limit: count }).clearSelect()
      .select(['audited_at', 'seq', groupSelect(store.dialect), DETAILS_SELECT, 'id']);
    let data: Buffer = Buffer.alloc(0);
    let at = 0;
    let header = true;
    let trailer = false;
    const starts: number[] = [0, 0, 0, 0, 0];
    const lengths: number[] = [0, 0, 0, 0, 0];
    // A row that does not fit in what has arrived waits, its pieces kept apart until the bytes it
    // is known to need are there: joining them at every chunk made a row of many megabytes cost
    // time quadratic in its size.
    let pieces: Buffer[] = [];
    let waiting = 0;
    let needed = 0;
    for await (const chunk of store.copyOut!(query)) {
      if (at < data.length) {
        if (pieces.length === 0) pieces.push(data.subarray(at));
        pieces.push(chunk);
        waiting += chunk.length;
        if (pieces[0].length + waiting < needed) continue;
        data = Buffer.concat(pieces);
      } else {
        data = chunk;
      }
      pieces = [];
      waiting = 0;
      needed = 0;
      at = 0;
      if (header) {
        if (data.length < COPY_HEADER) continue;
        if (!data.subarray(0, COPY_SIGNATURE.length).equals(COPY_SIGNATURE)) throw new Error('COPY did not answer in its binary format');
        const extension = data.readUInt32BE(15);
        if (data.length < COPY_HEADER + extension) continue;
        at = COPY_HEADER + extension;
        header = false;
      }
      while (!trailer) {
        // One whole row in data from `at`, or wait for more.
        if (data.length - at < 2) break;
        const fields = data.readInt16BE(at);
        if (fields === -1) {
          trailer = true;
          at += 2;
          break;
        }
        if (fields !== COPY_FIELDS) throw new Error(`COPY sent a row of ${fields} fields`);
        let p = at + 2;
        let whole = true;
        for (let f = 0; f < COPY_FIELDS; f++) {
          if (data.length - p < 4) { whole = false; needed = p + 4 - at; break; }
          const length = data.readInt32BE(p);
          p += 4;
          starts[f] = p;
          lengths[f] = length;
          if (length > 0) {
            if (data.length - p < length) { whole = false; needed = p + length - at; break; }
            p += length;
          }
        }
        if (!whole) break;
        const auditedAt = data.readInt32BE(starts[0]) * 4294967296 + data.readUInt32BE(starts[0] + 4);
        const seq = data.readInt32BE(starts[1]) * 4294967296 + data.readUInt32BE(starts[1] + 4);
        first = first === null ? seq : Math.min(first, seq);
        last = last === null ? seq : Math.max(last, seq);
        position = { at: auditedAt, seq };
        const groupAt = starts[2];
        const groupEnd = groupAt + lengths[2];
        const id = data.toString('latin1', starts[4], starts[4] + lengths[4]);
        // The group copied as it is when it fits and is clean (as CLEAN_GROUP), its separators
        // made commas; else encoded cell by cell.
        const inline = lengths[2] + 2 * ROW_MARGIN <= SCRATCH_BYTES;
        if (pos + (inline ? lengths[2] : 0) + 2 * ROW_MARGIN > buf.length) await flush();
        writeAscii(fmt(auditedAt));
        buf[pos++] = COMMA;
        const mark = pos;
        let clean = inline;
        let separators = 0;
        let cellStart = true;
        for (let i = groupAt; clean && i < groupEnd; i++) {
          const b = data[i];
          if (b === UNIT_SEPARATOR) {
            separators += 1;
            cellStart = true;
            buf[pos++] = COMMA;
          } else if (b === QUOTE || b === COMMA || b === CR || b === LF || (cellStart && isFormulaByte(b))) {
            clean = false;
          } else {
            cellStart = false;
            buf[pos++] = b;
          }
        }
        if (!clean || separators !== GROUP_COLUMNS.length - 1) {
          pos = mark;
          const row: Row = [auditedAt, seq, data.toString('utf8', groupAt, groupEnd), null, `${id},${seq}`];
          await writeText(await groupCells(store, orgId, row));
        }
        buf[pos++] = COMMA;
        if (lengths[3] >= 0) await writeText(csvCell(changesText(data.toString('utf8', starts[3], starts[3] + lengths[3]))));
        if (pos + ROW_MARGIN > buf.length) await flush();
        buf[pos++] = COMMA;
        writeAscii(id);
        buf[pos++] = COMMA;
        writeAscii(String(seq));
        buf[pos++] = CR;
        buf[pos++] = LF;
        n += 1;
        rows += 1;
        at = p;
        if (pos > CHUNK) {
          await flush();
          if (out.readyBytes() >= CHUNK_BYTES) {
            yield { t: 'chunk', part, data: out.take()!, rows };
            rows = 0;
          }
        }
      }
    }
    if (!trailer || at < data.length) throw new Error('COPY ended in the middle of its rows');
  }
  if (pos > 0) await out.commit(buf, pos);
  if (rows > 0) yield { t: 'chunk', part, data: out.take() ?? new Uint8Array(0), rows };
  return { n, first, last, position };
}

/**
 * Makes the producer's share of the export's parts: one CSV when it fits in one file, else parts
 * of `rowsPerFile` entries, deflated for the ZIP. Messages come part by part, in order. Rows come
 * through COPY where the store can (PostgreSQL), else by keyset pages; `via` chooses (for tests).
 */
export async function* produceParts(store: Store, req: ProduceRequest, share: ProducerShare = { index: 0, of: 1 },
  via: 'copy' | 'pages' = store.copyOut ? 'copy' : 'pages'): AsyncGenerator<ProducerMessage> {
  const { resolved: r, entries, rowsPerFile } = req;
  const fmt = createZoneFormatter(r.timeZone);
  const parts = partCount(entries, rowsPerFile);
  const compress = parts > 1;
  let position: Keyset | undefined | 'end';
  let next = 0;
  let lastSeq = -1;
  for (let part = share.index; part < parts; part += share.of) {
    if (position !== 'end') position = await skip(store, req.orgId, r, position, (part - next) * rowsPerFile);
    const count = position === 'end' ? 0 : parts === 1 ? entries : Math.min(rowsPerFile, entries - part * rowsPerFile);
    const from = position === 'end' ? undefined : position;
    const out = partBytes(compress);
    const job: PartJob = { store, orgId: req.orgId, r, fmt, part, out };
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
  // to twice what they use, and the export's peak RSS past 300 MB (bench:export). A young
  // generation of 12 MB instead of 24 took 20 MB off the peak at no measurable cost in time (the
  // rows' strings die young either way). Pages are sized to PAGE_CHARS and rows are at most a few
  // MB (the request body limit): 128 MB of old generation leaves room for both.
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
export function exportParts(store: Store, req: ExportRequest, severalParts: boolean): AsyncIterable<ProducerMessage> {
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
              producers ??= Array.from({ length: of }, (_, index) => produceParts(store, { ...req, entries }, { index, of })[Symbol.asyncIterator]());
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
