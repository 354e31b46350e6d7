/**
 * Rows as the text format of `COPY … FROM STDIN`: the fastest way into a table (no statement text,
 * no parameters, no JSON to take apart on the server). Values are encoded by their column's SQL type;
 * the caller validated them before, so what the column refuses is still refused by the database.
 */

/** What COPY's text format needs escaped: the backslash, and the tab, newline and return that separate. */
const SPECIAL = /[\\\t\n\r]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const NEEDS_ESCAPE = /[\\\t\n\r]/;
const escapeText = (s: string) => (NEEDS_ESCAPE.test(s) ? s.replace(SPECIAL, (c) => ESCAPES[c]!) : s);

/** An array element inside a PostgreSQL array literal: quoted, with backslashes and quotes escaped. */
const element = (v: unknown) => (v === null || v === undefined ? 'NULL' : `"${String(v).replace(/[\\"]/g, (c) => `\\${c}`)}"`);

/** One value as its column of `sqlType` (drizzle's getSQLType(): text, uuid[], jsonb …) reads it. */
export function copyValue(value: unknown, sqlType: string): string {
  if (value === null || value === undefined) return '\\N';
  let text: string;
  if (sqlType === 'jsonb' || sqlType === 'json') text = JSON.stringify(value);
  else if (Array.isArray(value)) text = `{${value.map(element).join(',')}}`;
  else if (value instanceof Date) text = value.toISOString();
  else if (typeof value === 'boolean') text = value ? 't' : 'f';
  else if (typeof value === 'object') text = JSON.stringify(value);
  else text = String(value);
  return escapeText(text);
}

/** Rows (values in column order, with each column's SQL type) as COPY text: one line per row. */
export function copyText(rows: unknown[][], sqlTypes: string[]): string {
  let out = '';
  for (const row of rows) {
    for (let i = 0; i < sqlTypes.length; i++) out += (i ? '\t' : '') + copyValue(row[i], sqlTypes[i]!);
    out += '\n';
  }
  return out;
}
