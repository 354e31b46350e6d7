/**
 * Literal typing and binding for the json-logic → SQL compiler (to-sql.ts).
 *
 * A literal may only meet a field when JavaScript (json-logic-js, on the in-memory representation of
 * value-kind.ts) and PostgreSQL (on the column) are guaranteed to give the same answer. Anything else
 * is rejected here as a 400 `type_mismatch` rather than compiled into a filter that quietly disagrees.
 */
import { type SQL, sql } from 'drizzle-orm';
import { badRequest } from '../errors.js';
import type { ValueKind } from '../registry/value-kind.js';

export const filterError = (code: string, path: string, message: string) => badRequest(code, message, [{ path, code, message }]);

const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** The exact form Date#toISOString() produces: JS compares datetimes as strings, so only this form sorts like time. */
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** Lower case, as PostgreSQL prints uuids: JS compares the strings, PostgreSQL the bytes. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/**
 * JS orders strings by UTF-16 code unit, PostgreSQL (COLLATE "C", UTF-8) by code point. The two differ
 * only where one string has a character above U+FFFF and the other one in U+E000–U+FFFF at the first
 * difference; a literal without either (no code unit ≥ U+D800) therefore orders identically against
 * any stored text.
 */
const ORDER_UNSAFE = /[\uD800-\uFFFF]/;

const validDate = (s: string) => s >= '0001' && new Date(`${s}T00:00:00.000Z`).toISOString().slice(0, 10) === s;
const validDatetime = (s: string) => s >= '0001' && !Number.isNaN(Date.parse(s)) && new Date(s).toISOString() === s;

/**
 * Checks that `value` (not null) can be compared with a field of `kind`; `ordered` for < <= > >=.
 * Returns a message when it can't.
 */
export function literalProblem(kind: ValueKind, value: unknown, ordered: boolean): string | undefined {
  switch (kind) {
    case 'integer':
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : 'a finite number';
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'true or false';
    case 'text':
      if (typeof value !== 'string') return 'a string';
      if (value.includes('\0') || LONE_SURROGATE.test(value)) return 'a string without NUL characters or unpaired surrogates';
      if (ordered && ORDER_UNSAFE.test(value))
        return 'a string without characters from U+E000 upwards (emoji, full-width forms…): JavaScript and PostgreSQL order those differently';
      return undefined;
    case 'date':
      return typeof value === 'string' && DATE.test(value) && validDate(value) ? undefined : "a date string 'YYYY-MM-DD'";
    case 'datetime':
      return typeof value === 'string' && DATETIME.test(value) && validDatetime(value)
        ? undefined
        : "a UTC datetime string exactly like 'YYYY-MM-DDTHH:mm:ss.sssZ'";
    case 'uuid':
      return typeof value === 'string' && UUID.test(value) ? undefined : 'a lower-case uuid string';
    default:
      return `nothing: ${kind} fields can only be compared with null`;
  }
}

/** SQL types literals are cast to, so PostgreSQL never has to guess a parameter's type. */
const CASTS: Partial<Record<ValueKind, string>> = {
  number: 'numeric',
  boolean: 'boolean',
  date: 'date',
  datetime: 'timestamptz',
  uuid: 'uuid',
};

/**
 * A bound parameter for a literal compared with a field of `kind`. Integers are cast to bigint (the
 * integer operator family, so an index on an int4 column still serves), other numbers to numeric so
 * that `i < 2.5` isn't rounded to `i < 3`. Text stays uncast: it resolves to text by itself.
 */
export function bindLiteral(kind: ValueKind, value: unknown): SQL {
  if (kind === 'integer') return sql`${sql.param(value)}::${sql.raw(Number.isSafeInteger(value) ? 'bigint' : 'numeric')}`;
  const cast = CASTS[kind];
  return cast ? sql`${sql.param(value)}::${sql.raw(cast)}` : sql`${sql.param(value)}`;
}
