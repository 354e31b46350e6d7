/**
 * The time zone date-times are shown and picked in: the user's own (their `time_zone`, else the
 * organisation's default — GET /api/auth/me's `timeZone`), else the browser's. Set once the user is
 * known (shell/Shell.tsx) and when they change it (Settings). Conversions use Intl only: no zone data
 * is shipped.
 */
const browserZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone;
let zone: string = browserZone();

export const userTimeZone = () => zone;
/** The zone to use from now on; null or unknown: the browser's. */
export function setUserTimeZone(tz: string | null | undefined) {
  zone = tz && isZone(tz) ? tz : browserZone();
}
export function isZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Every zone the browser knows, for the Settings picker. */
export function zoneNames(): string[] {
  const all = (Intl as unknown as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf?.('timeZone') ?? [];
  return all.includes('UTC') ? all : ['UTC', ...all];
}

export interface WallClock {
  year: number;
  month: number; // 1–12
  day: number;
  hour: number;
  minute: number;
  second: number;
}
const partsFormat = new Map<string, Intl.DateTimeFormat>();
/** The wall clock in `tz` at an instant. */
export function wallClock(instant: number, tz = zone): WallClock {
  let f = partsFormat.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    partsFormat.set(tz, f);
  }
  const p = Object.fromEntries(f.formatToParts(instant).map((x) => [x.type, Number(x.value)]));
  return { year: p.year, month: p.month, day: p.day, hour: p.hour % 24, minute: p.minute, second: p.second };
}
/** The instant at which the wall clock in `tz` shows these fields (the later one in an autumn overlap). */
export function instantOf(w: Pick<WallClock, 'year' | 'month' | 'day'> & Partial<WallClock>, tz = zone): Date {
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour ?? 0, w.minute ?? 0, w.second ?? 0);
  const offset = (t: number) => {
    const c = wallClock(t, tz);
    return Date.UTC(c.year, c.month - 1, c.day, c.hour, c.minute, c.second) - t;
  };
  // Two rounds settle the offset across a daylight-saving change.
  let t = asUtc - offset(asUtc);
  t = asUtc - offset(t);
  return new Date(t);
}

const pad2 = (n: number) => String(n).padStart(2, '0');
/** The day ('YYYY-MM-DD') an instant falls on in `tz`. */
export function dayIn(iso: string, tz = zone): string {
  const w = wallClock(Date.parse(iso), tz);
  return `${w.year}-${pad2(w.month)}-${pad2(w.day)}`;
}
/** The instant a day ('YYYY-MM-DD') begins in `tz` (a filter on a date-time field picks days). */
export function startOfDay(day: string, tz = zone): string {
  const [year, month, d] = day.split('-').map(Number);
  return instantOf({ year, month, day: d }, tz).toISOString();
}
