/**
 * Conversions between stored rows and the in-memory representation of engine/model/value-kind.ts
 * (which is also what the API sends and what json-logic rules see).
 */
import type { CompiledEntity } from '../model/compile.js';

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
