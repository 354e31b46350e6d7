/**
 * dayjs for the date pickers, in the user's language. Only the modules with pickers import this (the
 * filter builder, the form widgets), so the login and the list load no date library.
 */
import dayjs from 'dayjs';
import 'dayjs/locale/zh-cn';
import type { Lang } from './i18n';

/** dayjs set to the language (week start, month names) before a picker renders; returns dayjs. */
export function dayjsIn(lang: Lang) {
  const want = lang === 'zh-CN' ? 'zh-cn' : 'en';
  if (dayjs.locale() !== want) dayjs.locale(want);
  return dayjs;
}
export { dayjs };
