import { displayValue } from '../domain/display.ts';
import type { ExportRows } from '../store/export-query-store.ts';
import { BOM, csvCell, csvRow } from './csv.ts';
import { AT, DETAILS, GROUP, GROUP_COLUMNS, type Keyset, pagesOf, type ResolvedExport, type Row, SEP, SEQ, TAIL } from './export-query.ts';
import { CHUNK, CHUNK_BYTES, type PartBytes } from './export-part-bytes.ts';

/**
 * An export's CSV: its columns, the clean-group check that lets an entry's twelve joined text
 * columns be written as they are, the cells of the entries that fail it and the Changes cell, and
 * a part's rows read by keyset pages and encoded as text.
 */

/** The CSV's header row, in the order of its cells. */
export const EXPORT_COLUMNS = ['Audited Time', 'Done By', 'Done By Id', 'Action', 'Module', 'Record Name', 'Record Id',
  'Parent Module', 'Parent Record Id', 'Source', 'IP Address', 'User Agent', 'Batch Id', 'Changes', 'Entry Id', 'Sequence'];

/**
 * Exactly twelve cells separated by U+001F, none containing a quote, comma, CR or LF, none
 * starting with a character a spreadsheet runs as a formula (= + - @ tab CR): such a group is
 * already twelve CSV cells once the separators become commas.
 */
const CLEAN_CELL = '(?:[^",\\r\\n\\x1f=+\\-@\\t][^",\\r\\n\\x1f]*)?';
const CLEAN_GROUP = new RegExp(`^${CLEAN_CELL}(?:\\x1f${CLEAN_CELL}){${GROUP_COLUMNS.length - 1}}$`);
const SEPARATORS = new RegExp(SEP, 'g');

/** The Changes cell's text: `Label: old -> new; ...` ('' for an entry without changes). */
export function changesText(details: string): string {
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
export async function groupCells(rows: ExportRows, orgId: string, row: Row): Promise<string> {
  let cells: (string | null)[] = row[GROUP].split(SEP);
  if (cells.length !== GROUP_COLUMNS.length) {
    const id = row[TAIL].slice(0, row[TAIL].indexOf(','));
    const again = await rows.groupColumns(orgId, id);
    if (!again) throw new Error(`audit entry ${id} disappeared while it was exported`);
    cells = again;
  }
  return csvRow(cells).slice(0, -2);
}

/** Bytes of a part (deflated when the export is a ZIP), and how many entries they complete. */
export type PartChunk = { t: 'chunk'; part: number; data: Uint8Array; rows: number };
/** What a part's encoder hands back once its rows are written. */
export interface PartRows { n: number; first: number | null; last: number | null; position: Keyset | undefined }
/** What every part's encoder is given. */
export interface PartJob { rows: ExportRows; orgId: string; r: ResolvedExport; fmt: (ms: number) => string; part: number; out: PartBytes }

/** A part's rows read by keyset pages and encoded as text: SQLite, and PostgreSQL without copyOut. */
export async function* pagedPart(job: PartJob, start: Keyset | undefined, count: number): AsyncGenerator<PartChunk, PartRows> {
  const { rows: source, orgId, r, fmt, part, out } = job;
  const nextPage = pagesOf(source, orgId, r, start, count);
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
      const group = CLEAN_GROUP.test(row[GROUP]) ? row[GROUP].replace(SEPARATORS, ',') : await groupCells(source, orgId, row);
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
