/**
 * CSV encoding for exports: RFC 4180 quoting, and cells that a spreadsheet would run as a
 * formula (starting with =, +, -, @, tab or carriage return) prefixed with a single quote.
 */
const NEEDS_QUOTES = /[",\r\n]/;
const FORMULA = /^[=+\-@\t\r]/;

export function csvCell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  let s = typeof value === 'number' ? String(value) : value;
  if (FORMULA.test(s)) s = `'${s}`;
  return NEEDS_QUOTES.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const csvRow = (cells: (string | number | null | undefined)[]) => `${cells.map(csvCell).join(',')}\r\n`;

/** UTF-8 byte order mark, so spreadsheets open the file as UTF-8. */
export const BOM = '\uFEFF';
