/**
 * Conversions between stored rows and the in-memory representation of engine/registry/value-kind.ts
 * (which is also what the API sends and what json-logic rules see).
 */
import type { CompiledEntity } from '../model/compile.js';
import type { ValueKind } from '../registry/value-kind.js';

type Decode = (value: unknown) => unknown;
const toNumber: Decode = (v) => (typeof v === 'string' ? Number(v) : v);
/**
 * PostgreSQL's text form of a UTC timestamptz ('2026-11-22 23:09:46.123456+00', the sessions run in UTC)
 * rewritten as ISO 8601 by slicing: six times cheaper than parsing it into a Date, and list pages
 * convert a few hundred of them. `digits` is the precision of the fraction: 3 for the API's values,
 * 6 to keep PostgreSQL's full precision (keyset cursors). Anything else goes through Date.
 */
export function isoInstant(v: string, digits: 3 | 6 = 3): string {
  if (v.length < 22 || v[10] !== ' ' || !v.endsWith('+00')) return new Date(v).toISOString();
  const fraction = v[19] === '.' ? v.slice(20, v.length - 3) : '';
  return `${v.slice(0, 10)}T${v.slice(11, 19)}.${fraction.padEnd(digits, '0').slice(0, digits)}Z`;
}
const toInstant: Decode = (v) => (v instanceof Date ? v.toISOString() : typeof v === 'string' ? isoInstant(v) : v);
const toExactInstant: Decode = (v) => (v instanceof Date ? v.toISOString() : typeof v === 'string' ? isoInstant(v, 6) : v);
// Drivers hand dates back as Dates at UTC midnight (or as 'YYYY-MM-DD' strings).
const toDay: Decode = (v) => (v instanceof Date ? v.toISOString().slice(0, 10) : v);
// json needs nothing: both drivers hand jsonb over parsed (a string in it is a JSON string value).
const DECODERS: Partial<Record<ValueKind, Decode>> = { number: toNumber, integer: toNumber, datetime: toInstant, date: toDay };

/** One stored value in its in-memory form; `exact` keeps timestamps to the microsecond. */
export function decodeValue(kind: ValueKind, value: unknown, exact = false): unknown {
  if (value === null || value === undefined) return null;
  const decode = kind === 'datetime' && exact ? toExactInstant : DECODERS[kind];
  return decode ? decode(value) : value;
}

const decoders = new WeakMap<CompiledEntity, Map<string, Decode>>();

/**
 * Decodes raw driver rows into API records in one pass, by value kind. Hot read paths run drizzle's
 * SQL as raw rows and decode them here: cheaper than drizzle's per-column mapping plus a second copy.
 */
export function decodeRows(entity: CompiledEntity, rows: Record<string, unknown>[]): Record<string, unknown>[] {
  let byColumn = decoders.get(entity);
  if (!byColumn) {
    byColumn = new Map([...entity.columnKinds].flatMap(([name, kind]) => (DECODERS[kind] ? [[name, DECODERS[kind]!]] : [])));
    decoders.set(entity, byColumn);
  }
  for (const row of rows) {
    for (const key in row) {
      const v = row[key];
      if (v === null) continue;
      const decode = byColumn.get(key);
      if (decode) row[key] = decode(v);
    }
  }
  return rows;
}

/** A row as drizzle returns it → an API record. Only timestamps need work: drizzle gives Dates. */
export function toRecord(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in row) {
    const v = row[key];
    out[key] = v instanceof Date ? v.toISOString() : v;
  }
  return out;
}

/** An API value → what drizzle wants for the column (timestamptz columns take Dates). */
export function toColumnValues(entity: CompiledEntity, record: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in record) {
    const v = record[key];
    out[key] = typeof v === 'string' && entity.columnKinds.get(key) === 'datetime' ? new Date(v) : v;
  }
  return out;
}
