/**
 * Maps a storage column type (as field types declare it) to a drizzle column builder, so that drizzle
 * table objects can be built at run time from the compiled model. The list is closed on purpose:
 * a column type reaches DDL as text, so only these spellings are ever accepted.
 */
import { bigint, boolean, customType, date, integer, numeric, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * jsonb whose values come back as the driver parsed them. drizzle's own jsonb column parses a string
 * once more (so a JSON value "12" came back as the number 12, and "a\"b" as text by luck); both
 * drivers already hand jsonb over parsed.
 */
const jsonb = customType<{ data: unknown; driverData: unknown }>({
  dataType: () => 'jsonb',
  toDriver: (value) => JSON.stringify(value),
  fromDriver: (value) => value,
});

const NUMERIC = /^numeric\((\d{1,2}),(\d{1,2})\)$/;

export function isKnownColumnType(type: string): boolean {
  return (
    ['text', 'text[]', 'uuid[]', 'integer', 'bigint', 'boolean', 'date', 'timestamptz', 'uuid', 'jsonb'].includes(type) ||
    NUMERIC.test(type)
  );
}

export function drizzleColumn(name: string, type: string) {
  const numericMatch = NUMERIC.exec(type);
  if (numericMatch) {
    return numeric(name, { precision: Number(numericMatch[1]), scale: Number(numericMatch[2]), mode: 'number' });
  }
  switch (type) {
    case 'text':
      return text(name);
    case 'text[]':
      return text(name).array();
    case 'integer':
      return integer(name);
    case 'bigint':
      return bigint(name, { mode: 'number' });
    case 'boolean':
      return boolean(name);
    case 'date':
      return date(name, { mode: 'string' });
    case 'timestamptz':
      return timestamp(name, { withTimezone: true, mode: 'date' });
    case 'uuid':
      return uuid(name);
    case 'uuid[]':
      return uuid(name).array();
    case 'jsonb':
      return jsonb(name);
  }
  throw new Error(`Unknown column type ${type}`);
}

/**
 * Whether changing a column from one type to another keeps every value (a widening) — such a change
 * is applied by deploy; anything else is destructive and needs allowDestructive.
 */
export function isWidening(from: string, to: string): boolean {
  if (from === to) return true;
  if (to === 'text') return from !== 'jsonb' && from !== 'text[]' && from !== 'uuid[]';
  if (to === 'jsonb') return true;
  const f = NUMERIC.exec(from);
  const t = NUMERIC.exec(to);
  if (t) {
    const [tp, ts] = [Number(t[1]), Number(t[2])];
    if (f) return ts >= Number(f[2]) && tp - ts >= Number(f[1]) - Number(f[2]);
    if (from === 'integer') return tp - ts >= 10;
    if (from === 'bigint') return tp - ts >= 19;
  }
  if (to === 'bigint') return from === 'integer';
  if (to === 'timestamptz') return from === 'date';
  return false;
}
