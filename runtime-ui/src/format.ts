/**
 * Values shown the way the user's language writes them: dates and date-times (in the user's time zone,
 * time-zone.ts), numbers with grouping, ¥ amounts, percentages, durations.
 */
import type { Lang } from './lang';
import { userTimeZone } from './time-zone';

const cache = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat>();
function nf(lang: Lang, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `n${lang}${JSON.stringify(options)}`;
  if (!cache.has(key)) cache.set(key, new Intl.NumberFormat(lang, options));
  return cache.get(key) as Intl.NumberFormat;
}
function df(lang: Lang, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `d${lang}${JSON.stringify(options)}`;
  if (!cache.has(key)) cache.set(key, new Intl.DateTimeFormat(lang, options));
  return cache.get(key) as Intl.DateTimeFormat;
}

export const formatNumber = (lang: Lang, n: number, digits?: number) =>
  nf(lang, digits === undefined ? {} : { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(n);
export const formatCurrency = (lang: Lang, n: number, currency = 'CNY') =>
  nf(lang, { style: 'currency', currency, currencyDisplay: 'narrowSymbol' }).format(n);
export const formatPercent = (lang: Lang, n: number) => `${formatNumber(lang, n)}%`;

/** A `YYYY-MM-DD` date: a calendar day, not an instant, so no time-zone shift. */
export function formatDate(lang: Lang, value: string): string {
  const [y, m, d] = value.split('-').map(Number);
  if (!y || !m || !d) return value;
  return df(lang, { year: 'numeric', month: '2-digit', day: '2-digit', timeZone: 'UTC' }).format(Date.UTC(y, m - 1, d));
}
export function formatDateTime(lang: Lang, value: string): string {
  const t = Date.parse(value);
  if (Number.isNaN(t)) return value;
  return df(lang, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false, timeZone: userTimeZone() }).format(t);
}

/** "3 天 4 小时" / "3 d 4 h": how long something has been in a state. */
export function formatDuration(lang: Lang, seconds: number): string {
  const units: [number, string, string][] = [[86400, '天', 'd'], [3600, '小时', 'h'], [60, '分钟', 'min']];
  // A week or more is told in days: "213 天", not "213 天 20 小时" (which no longer fits under a stage).
  if (seconds >= 7 * 86400) return lang === 'zh-CN' ? `${Math.floor(seconds / 86400)} 天` : `${Math.floor(seconds / 86400)} d`;
  const parts: string[] = [];
  let rest = Math.max(0, Math.round(seconds));
  for (const [size, zh, en] of units) {
    const n = Math.floor(rest / size);
    if (n > 0 || (parts.length === 0 && size === 60)) parts.push(lang === 'zh-CN' ? `${n} ${zh}` : `${n} ${en}`);
    rest -= n * size;
    if (parts.length === 2) break;
  }
  return parts.join(' ');
}
