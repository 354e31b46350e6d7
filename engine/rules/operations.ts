/**
 * The engine's own json-logic operations (beyond json-logic-js's standard ones), as pure functions.
 * One home for server and browser: the core plugin (engine/core) registers them on the server, and the
 * web UI (runtime-ui/src/record/rules.ts) imports this very file, so a rule means the same in both.
 * Browser-safe on purpose: no imports at all — keep it so (test/rules/browser-operations.test.ts bundles
 * it for the browser).
 */

/**
 * Whole days from one date or timestamp to another (negative when the second is earlier); null when
 * either is missing or not a date. E.g. days since the last update: {"days_between": [{"var": "updated_at"}, {"var": "$now"}]}.
 */
export function daysBetween(from: unknown, to: unknown): number | null {
  const a = typeof from === 'string' || from instanceof Date ? new Date(from as string).getTime() : NaN;
  const b = typeof to === 'string' || to instanceof Date ? new Date(to as string).getTime() : NaN;
  return Number.isNaN(a) || Number.isNaN(b) ? null : Math.floor((b - a) / 86_400_000);
}

/**
 * Hours from one timestamp to another, to a hundredth (negative when the second is earlier); null when
 * either is missing. E.g. how long a ticket took: {"hours_between": [{"var": "created_at"}, {"var": "resolved_at"}]}.
 */
export function hoursBetween(from: unknown, to: unknown): number | null {
  const a = typeof from === 'string' || from instanceof Date ? new Date(from as string).getTime() : NaN;
  const b = typeof to === 'string' || to instanceof Date ? new Date(to as string).getTime() : NaN;
  return Number.isNaN(a) || Number.isNaN(b) ? null : Math.round((b - a) / 36_000) / 100;
}

/**
 * A timestamp some hours later (fractions and negative hours allowed), as ISO text; null when the
 * time or the hours are missing. E.g. a ticket's deadline: {"add_hours": [{"var": "created_at"}, {"var": "response_hours"}]}.
 */
export function addHours(at: unknown, hours: unknown): string | null {
  const t = typeof at === 'string' || at instanceof Date ? new Date(at as string).getTime() : NaN;
  const h = typeof hours === 'number' ? hours : typeof hours === 'string' && hours.trim() !== '' ? Number(hours) : NaN;
  return Number.isNaN(t) || !Number.isFinite(h) ? null : new Date(t + h * 3_600_000).toISOString();
}

/** Formats by time zone: making one costs ~50 µs, and a rule over thousands of records asks again and again. */
const dayFormats = new Map<string, Intl.DateTimeFormat>();
/** The calendar-day format of a time zone; undefined for a name that is not one (not kept). */
function dayFormat(timeZone: string): Intl.DateTimeFormat | undefined {
  let format = dayFormats.get(timeZone);
  if (!format) {
    try {
      format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    } catch {
      return undefined;
    }
    // Names are matched without case, so spellings are many: only the first thousand are kept.
    if (dayFormats.size < 1000) dayFormats.set(timeZone, format);
  }
  return format;
}

/**
 * The first day (YYYY-MM-DD) of the day, week (from Monday) or month holding a moment in a time zone,
 * moved by whole periods: last month's first day and this month's, for "orders of last month" —
 * {"period_start": [{"var": "$now"}, "month", -1, "Asia/Shanghai"]}. Null for a missing moment, an
 * unknown unit or time zone.
 */
export function periodStart(at: unknown, unit: unknown, offset: unknown = 0, timeZone: unknown = 'UTC'): string | null {
  const t = typeof at === 'string' || at instanceof Date ? new Date(at as string) : null;
  const n = typeof offset === 'number' && Number.isInteger(offset) ? offset : 0;
  if (!t || Number.isNaN(t.getTime()) || typeof timeZone !== 'string') return null;
  const format = dayFormat(timeZone);
  if (!format) return null;
  const parts = format.formatToParts(t);
  const part = (type: string) => Number(parts.find((p) => p.type === type)!.value);
  const local = new Date(Date.UTC(part('year'), part('month') - 1, part('day')));
  if (unit === 'day') local.setUTCDate(local.getUTCDate() + n);
  else if (unit === 'week') local.setUTCDate(local.getUTCDate() - ((local.getUTCDay() + 6) % 7) + 7 * n);
  else if (unit === 'month') {
    local.setUTCDate(1);
    local.setUTCMonth(local.getUTCMonth() + n);
  } else return null;
  return local.toISOString().slice(0, 10);
}

/** What the core plugin contributes: each operation by its name in rules. */
export const coreOperations: { name: string; evaluate: (...args: never[]) => unknown }[] = [
  { name: 'days_between', evaluate: daysBetween },
  { name: 'add_hours', evaluate: addHours },
  { name: 'hours_between', evaluate: hoursBetween },
  { name: 'period_start', evaluate: periodStart },
];
