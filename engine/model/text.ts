/**
 * What text PostgreSQL can store as given. A NUL character is refused by the text type (a 500 if it got
 * that far), and a lone UTF-16 surrogate would be silently replaced by U+FFFD on the way in, so the value
 * read back would differ from the one written. Both are refused at the edge, with a 400/422.
 */

/** With the `u` flag a proper surrogate pair is one code point, so this matches only lone halves. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

export const isStorableText = (s: string) => !s.includes('\u0000') && !LONE_SURROGATE.test(s);
