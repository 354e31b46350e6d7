/** The timestamp fast path agrees with Date for every shape PostgreSQL prints in UTC, and defers to Date otherwise. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isoInstant } from '../../engine/data/records.js';

describe('timestamptz decoding', () => {
  it('turns PostgreSQL UTC text into the same ISO 8601 instant as Date does', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }),
        fc.integer({ min: 0, max: 999 }),
        fc.integer({ min: 0, max: 6 }),
        (date, micros, digits) => {
          const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
          const fraction = (iso.slice(20, 23) + String(micros).padStart(3, '0')).slice(0, digits).replace(/0+$/, '');
          const text = `${iso.slice(0, 10)} ${iso.slice(11, 19)}${fraction ? `.${fraction}` : ''}+00`;
          expect(isoInstant(text)).toBe(new Date(text.replace(' ', 'T').replace('+00', 'Z')).toISOString());
          // The exact form (for cursors) keeps every digit PostgreSQL printed and names the same instant.
          const exact = isoInstant(text, 6);
          expect(exact).toBe(`${iso.slice(0, 19)}.${fraction.padEnd(6, '0')}Z`);
          expect(new Date(exact).toISOString()).toBe(isoInstant(text));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('leaves other offsets and forms to Date', () => {
    expect(isoInstant('2026-11-22 23:09:46.5+08')).toBe('2026-11-22T15:09:46.500Z');
    expect(isoInstant('2026-11-22T23:09:46.123Z')).toBe('2026-11-22T23:09:46.123Z');
  });
});
