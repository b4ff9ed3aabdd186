import { BOM, csvCell, csvRow } from './csv.ts';
import { changesText, EXPORT_COLUMNS, groupCells, type PartChunk, type PartJob, type PartRows } from './export-csv-encoding.ts';
import { CHUNK, CHUNK_BYTES, SCRATCH_BYTES } from './export-part-bytes.ts';
import { GROUP_COLUMNS, type Keyset, type Row } from './export-query.ts';

/**
 * An export part's rows read through PostgreSQL's binary COPY: the decoder of COPY's binary format
 * and the CSV encoder of its bytes, in one pass. It sits in services/, not store/, although it
 * decodes what the database sends: the decoding is not separate from the encoding (a clean group
 * is checked and copied into the part's buffer as its bytes are read), and the encoding is
 * services' (groupCells, changesText, the part's bytes), which store/ must not import.
 */

/** PostgreSQL's binary COPY format: its signature, and the header's fixed length (signature, flags, extension length). */
const COPY_SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const COPY_HEADER = 19;
/** Fields of a copied row: audited_at and seq (int8), the group (text, U+001F between cells), details (text or NULL), id (text). */
const COPY_FIELDS = 5;
/** Bytes the CSV's cells never hold unquoted, and the first bytes that make a cell a formula (as CLEAN_CELL in export-csv-encoding.ts). */
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
 * A part's rows through PostgreSQL's binary COPY (ExportRows.copyPart), encoded as bytes: the group's
 * UTF-8 is checked and copied byte by byte (the clean case: separators become commas), the time,
 * sequence and Changes cell are written as text, and a group that is not clean is encoded from
 * its cells as the paged path does (groupCells). The bytes are the paged path's, exactly (a test
 * compares them). On PostgreSQL this takes less CPU than keyset pages (bench/export.ts measures
 * both against the same baseline).
 */
export async function* copiedPart(job: PartJob, start: Keyset | undefined, count: number): AsyncGenerator<PartChunk, PartRows> {
  const { rows: source, orgId, r, fmt, part, out } = job;
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
    for await (const chunk of source.copyPart(orgId, r, start, count)) {
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
          await writeText(await groupCells(source, orgId, row));
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
