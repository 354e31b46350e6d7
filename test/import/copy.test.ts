/**
 * COPY text (engine/db/copy.ts): how an import batch's values are written for `COPY … FROM STDIN`. The
 * database round trip of text with tabs, newlines and backslashes is in values.test.ts; here the forms
 * that must be exact — array literals, JSON, NULL, booleans, dates.
 */
import { describe, expect, it } from 'vitest';
import { copyText, copyValue } from '../../engine/db/copy.js';

describe('COPY text', () => {
  it('writes NULL, booleans, numbers, dates and plain text', () => {
    expect([null, undefined].map((v) => copyValue(v, 'text'))).toEqual(['\\N', '\\N']);
    expect(copyValue(true, 'boolean')).toBe('t');
    expect(copyValue(false, 'boolean')).toBe('f');
    expect(copyValue(1200.5, 'numeric(18, 2)')).toBe('1200.5');
    expect(copyValue(new Date('2026-11-27T06:30:00Z'), 'timestamp with time zone')).toBe('2026-11-27T06:30:00.000Z');
    expect(copyValue('华东机械', 'text')).toBe('华东机械');
  });

  it('escapes the separators and the backslash', () => {
    expect(copyValue('a\tb\nc\rd\\e', 'text')).toBe('a\\tb\\nc\\rd\\\\e');
  });

  it('writes arrays as quoted array literals and JSON columns as JSON, escaped for COPY', () => {
    expect(copyValue(['a', 'say "hi"', 'back\\slash', null], 'text[]')).toBe('{"a","say \\\\"hi\\\\"","back\\\\\\\\slash",NULL}');
    expect(copyValue([], 'uuid[]')).toBe('{}');
    expect(copyValue([{ id: 'x', name: 'a\nb' }], 'jsonb')).toBe('[{"id":"x","name":"a\\\\nb"}]');
  });

  it('puts one row per line, columns separated by tabs', () => {
    expect(
      copyText(
        [
          ['a', 1, null],
          ['b\tc', 2, ['x']],
        ],
        ['text', 'integer', 'text[]'],
      ),
    ).toBe('a\t1\t\\N\nb\\tc\t2\t{"x"}\n');
  });
});
