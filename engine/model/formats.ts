/**
 * What the column types can hold, as checks a value passes before it reaches PostgreSQL: the ranges of
 * integer and numeric(p, s) columns, and the dates and times the date and timestamptz types accept.
 * A value outside them would pass a generic JSON Schema check (ajv's `date` format takes year 0 and a
 * leap second; `integer` takes 2^31) and then fail in the database as a 500. Used by the record
 * validators (ajv formats and ranges), list cursors and the API token's expiry.
 */

/** The inclusive range of an integer column, or the exclusive bound of a numeric(p, s) one. */
export interface NumericRange {
  minimum?: number;
  maximum?: number;
  /** |value| must stay below this: values rounding to 10^(p−s) at scale s overflow numeric(p, s). */
  exclusiveBound?: number;
}

export function columnRange(columnType: string): NumericRange {
  if (columnType === 'integer') return { minimum: -2147483648, maximum: 2147483647 };
  if (columnType === 'bigint') return { minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER };
  const numeric = /^numeric\((\d+),\s*(\d+)\)$/.exec(columnType);
  if (numeric) {
    const [precision, scale] = [Number(numeric[1]), Number(numeric[2])];
    return { exclusiveBound: 10 ** (precision - scale) - 0.5 * 10 ** -scale };
  }
  return {};
}

/** Whether a number fits the column (integers also need to be whole). */
export function fitsColumn(value: number, columnType: string): boolean {
  if (!Number.isFinite(value)) return false;
  const range = columnRange(columnType);
  if (range.minimum !== undefined && (!Number.isInteger(value) || value < range.minimum || value > range.maximum!)) return false;
  return range.exclusiveBound === undefined || Math.abs(value) < range.exclusiveBound;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:[Zz]|([+-])(\d{2})(?::?(\d{2}))?)$/;

const daysIn = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();

/** A calendar date from 0001-01-01 to 9999-12-31 (PostgreSQL has no year 0). */
export function isDate(s: string): boolean {
  const m = DATE.exec(s);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= daysIn(year, month);
}

/** An RFC 3339 date-time with a zone, years 0001–9999, no leap second (PostgreSQL refuses 23:59:60). */
export function isDateTime(s: string): boolean {
  const m = DATE_TIME.exec(s);
  if (!m) return false;
  if (!isDate(`${m[1]}-${m[2]}-${m[3]}`)) return false;
  const [hour, minute, second] = [Number(m[4]), Number(m[5]), Number(m[6])];
  if (hour > 23 || minute > 59 || second > 59) return false;
  return m[7] === undefined || (Number(m[8]) <= 15 && Number(m[9] ?? 0) <= 59);
}
