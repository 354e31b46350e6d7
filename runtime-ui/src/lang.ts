/** The languages of the UI. Its own module (no React): pure modules and their unit tests use it too. */
export type Lang = 'zh-CN' | 'en';
