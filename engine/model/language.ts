/**
 * The two languages the engine speaks (labels, messages) and how a request picks one. Lives in the model
 * layer because labels are metadata; every layer above reads it from here.
 */
import type { LocalizedText } from '../registry/types.js';

export type Lang = keyof LocalizedText;

export const LANGS: readonly Lang[] = ['en', 'zh-CN'];

/** Picks zh-CN when the client prefers Chinese, English otherwise. */
export const languageOf = (acceptLanguage: string | undefined | null): Lang =>
  acceptLanguage && /^\s*zh/i.test(acceptLanguage) ? 'zh-CN' : 'en';

/** An explicit choice (`?lang=`), when it names a language the engine speaks. */
export const parseLang = (value: string | undefined | null): Lang | undefined =>
  value === undefined || value === null ? undefined : LANGS.find((l) => l.toLowerCase() === value.toLowerCase());

/** The message in the caller's language: every message a client can see is written in both, side by side. */
export const t = (lang: Lang, en: string, zh: string) => (lang === 'zh-CN' ? zh : en);
