/**
 * CSV encoding for exports: RFC 4180 quoting, and cells that a spreadsheet would run as a
 * formula (starting with =, +, -, @, tab or carriage return) prefixed with a single quote.
 */
const NEEDS_QUOTES = /[",\r\n]/;

/** The first characters that make a cell a formula: = + - @ tab CR. */
const isFormulaStart = (c: number) => c === 61 || c === 43 || c === 45 || c === 64 || c === 9 || c === 13;

// Exports encode millions of cells: a character-code test instead of a second regular
// expression, and rows concatenated directly instead of through map + join.
export function csvCell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  let s = typeof value === 'number' ? String(value) : value;
  if (s.length > 0 && isFormulaStart(s.charCodeAt(0))) s = `'${s}`;
  return NEEDS_QUOTES.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvRow(cells: readonly (string | number | null | undefined)[]): string {
  let line = cells.length > 0 ? csvCell(cells[0]) : '';
  for (let i = 1; i < cells.length; i++) line += `,${csvCell(cells[i])}`;
  return `${line}\r\n`;
}

/** UTF-8 byte order mark, so spreadsheets open the file as UTF-8. */
export const BOM = '\uFEFF';
