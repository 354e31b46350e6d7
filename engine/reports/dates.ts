/**
 * Calendar arithmetic on 'YYYY-MM-DD' strings (UTC-free: a date is a day, not an instant), the
 * report's "today" in its time zone, and the period buckets — the same buckets the SQL computes
 * (buckets.ts), needed here to fill empty periods, find the previous one and label them.
 */
import type { Bucket } from './types.js';

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
export const ymd = (y: number, m: number, d: number) => {
  const t = new Date(Date.UTC(y, m - 1, d));
  return `${pad(t.getUTCFullYear(), 4)}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}`;
};
export const parts = (date: string): [number, number, number] => date.split('-').map(Number) as [number, number, number];
export const addDays = (date: string, n: number) => {
  const [y, m, d] = parts(date);
  return ymd(y, m, d + n);
};
/** Months added to the first of a month (bucket starts are always firsts of months or Mondays). */
export const addMonths = (date: string, n: number) => {
  const [y, m, d] = parts(date);
  return ymd(y, m + n, d);
};

/** Today in a time zone. */
export function today(timeZone: string, now = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

/** Months in a bucket (0 for days and weeks). */
export const monthsOf = (bucket: Bucket) =>
  bucket === 'month'
    ? 1
    : bucket === 'quarter' || bucket === 'fiscal_quarter'
      ? 3
      : bucket === 'year' || bucket === 'fiscal_year'
        ? 12
        : 0;

/** The start of the bucket holding a date. */
export function bucketStart(date: string, bucket: Bucket, fiscalStart = 1): string {
  const [y, m, d] = parts(date);
  switch (bucket) {
    case 'day':
      return date;
    case 'week': {
      const dow = (new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 6) % 7; // Monday = 0, as date_trunc('week')
      return ymd(y, m, d - dow);
    }
    case 'month':
      return ymd(y, m, 1);
    case 'quarter':
      return ymd(y, m - ((m - 1) % 3), 1);
    case 'year':
      return ymd(y, 1, 1);
    case 'fiscal_quarter': {
      const shifted = (m - fiscalStart + 12) % 12;
      return ymd(y, m - (shifted % 3), 1);
    }
    case 'fiscal_year': {
      const shifted = (m - fiscalStart + 12) % 12;
      return ymd(y, m - shifted, 1);
    }
  }
}

/** The bucket `n` periods after (before, when negative) the one starting at `start`. */
export function shiftBucket(start: string, bucket: Bucket, n: number): string {
  if (bucket === 'day') return addDays(start, n);
  if (bucket === 'week') return addDays(start, 7 * n);
  return addMonths(start, monthsOf(bucket) * n);
}

/** How many buckets make a year (for "same period last year"). */
export const perYear = (bucket: Bucket) => (bucket === 'day' ? 0 : bucket === 'week' ? 52 : 12 / monthsOf(bucket));

/** The same bucket one year earlier. Days and weeks go back 364 days for weeks (same weekday) and a calendar year for days. */
export function yearEarlier(start: string, bucket: Bucket): string {
  if (bucket === 'day') {
    const [y, m, d] = parts(start);
    return ymd(y - 1, m, d);
  }
  return shiftBucket(start, bucket, -perYear(bucket));
}

/** Every bucket start from the one holding `from` up to the last one before `to` (exclusive). */
export function bucketSeries(from: string, to: string, bucket: Bucket, fiscalStart = 1, max = 5000): string[] {
  const out: string[] = [];
  for (let b = bucketStart(from, bucket, fiscalStart); b < to && out.length < max; b = shiftBucket(b, bucket, 1)) out.push(b);
  return out;
}

/** A bucket's label: 2026-03-02 (day, week), 2026-03, 2026 Q1, 2026, FY2026 Q2, FY2026. */
export function bucketLabel(start: string, bucket: Bucket, fiscalStart = 1, lang: 'en' | 'zh-CN' = 'en'): string {
  const [y, m] = parts(start);
  const fy = fiscalStart === 1 ? y : m >= fiscalStart ? y : y - 1;
  const fq = Math.floor(((m - fiscalStart + 12) % 12) / 3) + 1;
  const zh = lang === 'zh-CN';
  switch (bucket) {
    case 'day':
      return start;
    case 'week':
      return zh ? `${start} 周` : `Week of ${start}`;
    case 'month':
      return start.slice(0, 7);
    case 'quarter':
      return zh ? `${y}年第${Math.floor((m - 1) / 3) + 1}季度` : `${y} Q${Math.floor((m - 1) / 3) + 1}`;
    case 'year':
      return zh ? `${y}年` : String(y);
    case 'fiscal_quarter':
      return zh ? `${fy}财年第${fq}季度` : `FY${fy} Q${fq}`;
    case 'fiscal_year':
      return zh ? `${fy}财年` : `FY${fy}`;
  }
}

const RELATIVE: Record<string, (t: string) => string> = {
  today: (t) => t,
  start_of_month: (t) => bucketStart(t, 'month'),
  /** The first day of the twelve months that end with this one. */
  start_of_last_12_months: (t) => shiftBucket(bucketStart(t, 'month'), 'month', -11),
  start_of_next_month: (t) => shiftBucket(bucketStart(t, 'month'), 'month', 1),
  start_of_quarter: (t) => bucketStart(t, 'quarter'),
  start_of_next_quarter: (t) => shiftBucket(bucketStart(t, 'quarter'), 'quarter', 1),
  start_of_year: (t) => bucketStart(t, 'year'),
  start_of_next_year: (t) => shiftBucket(bucketStart(t, 'year'), 'year', 1),
  start_of_last_year: (t) => shiftBucket(bucketStart(t, 'year'), 'year', -1),
};
export const RELATIVE_DATES = Object.keys(RELATIVE);
export const relativeDate = (token: string, timeZone: string, now = new Date()) => RELATIVE[token]?.(today(timeZone, now));

/** The UTC instant at which a day starts in a time zone, as the API writes datetimes. */
export function zonedMidnight(date: string, timeZone: string): string {
  const [y, m, d] = parts(date);
  const guess = Date.UTC(y, m - 1, d);
  const offset = (t: number) => {
    const f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    const p = Object.fromEntries(f.formatToParts(new Date(t)).map((x) => [x.type, Number(x.value)]));
    return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!) - t;
  };
  let t = guess - offset(guess);
  t = guess - offset(t); // once more, for days whose offset changes (DST)
  return new Date(t).toISOString();
}
