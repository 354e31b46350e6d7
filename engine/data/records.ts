/**
 * Conversions between stored rows and the in-memory representation of engine/model/value-kind.ts
 * (which is also what the API sends and what json-logic rules see).
 */
import type { CompiledEntity } from '../model/compile.js';
import type { ValueKind } from '../model/value-kind.js';

type Decode = (value: unknown) => unknown;
const toNumber: Decode = (v) => (typeof v === 'string' ? Number(v) : v);
const toInstant: Decode = (v) => (v instanceof Date ? v.toISOString() : typeof v === 'string' ? new Date(v).toISOString() : v);
// Drivers hand dates back as Dates at UTC midnight (or as 'YYYY-MM-DD' strings).
const toDay: Decode = (v) => (v instanceof Date ? v.toISOString().slice(0, 10) : v);
const toJson: Decode = (v) => (typeof v === 'string' ? JSON.parse(v) : v);
const DECODERS: Partial<Record<ValueKind, Decode>> = { number: toNumber, integer: toNumber, datetime: toInstant, date: toDay, json: toJson };

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
