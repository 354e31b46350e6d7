/**
 * The two languages the product answers in, and how a request picks one: the user's preference when the
 * caller passes it, else Accept-Language. Every message a client can see is written in both, side by side
 * where it is raised (`t(lang, en, zh)`), so a Chinese user never gets half an English answer.
 */
export type Lang = 'en' | 'zh-CN';

/** Picks zh-CN when the client prefers Chinese, English otherwise. */
export const languageOf = (acceptLanguage: string | undefined | null): Lang =>
  acceptLanguage && /^\s*zh/i.test(acceptLanguage) ? 'zh-CN' : 'en';

/** The message in the caller's language. */
export const t = (lang: Lang, en: string, zh: string) => (lang === 'zh-CN' ? zh : en);
