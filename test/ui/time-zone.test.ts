/**
 * The UI's zone arithmetic (runtime-ui/src/time-zone.ts, Intl only): a date-time filter picks days, each
 * beginning at midnight in the user's zone, and shows an instant as the day it falls on there — across
 * the date line and daylight-saving changes.
 */
import { describe, expect, it } from 'vitest';
import { dayIn, startOfDay, wallClock } from '../../runtime-ui/src/time-zone.js';

describe("the UI's time-zone arithmetic", () => {
  it('finds the day an instant falls on in a zone', () => {
    expect(dayIn('2026-11-27T16:30:00Z', 'Asia/Shanghai')).toBe('2026-11-28');
    expect(dayIn('2026-11-27T15:59:59Z', 'Asia/Shanghai')).toBe('2026-11-27');
    expect(dayIn('2026-11-27T03:00:00Z', 'America/New_York')).toBe('2026-11-26');
    expect(dayIn('2026-11-27T03:00:00Z', 'UTC')).toBe('2026-11-27');
  });

  it('begins a day at midnight in the zone, daylight-saving days included', () => {
    expect(startOfDay('2026-11-28', 'Asia/Shanghai')).toBe('2026-11-27T16:00:00.000Z');
    expect(startOfDay('2026-11-28', 'Asia/Tokyo')).toBe('2026-11-27T15:00:00.000Z');
    // New York: EST (-5) before 8 March 2026, EDT (-4) after; midnight itself is never skipped there.
    expect(startOfDay('2026-03-08', 'America/New_York')).toBe('2026-03-08T05:00:00.000Z');
    expect(startOfDay('2026-03-09', 'America/New_York')).toBe('2026-03-09T04:00:00.000Z');
    expect(startOfDay('2026-11-28', 'UTC')).toBe('2026-11-28T00:00:00.000Z');
  });

  it('round-trips every day of a year in zones east and west of UTC', () => {
    for (const tz of ['Asia/Shanghai', 'America/New_York', 'Pacific/Auckland', 'Europe/London']) {
      const d = new Date(Date.UTC(2026, 0, 1));
      for (let i = 0; i < 366; i++, d.setUTCDate(d.getUTCDate() + 1)) {
        const day = d.toISOString().slice(0, 10);
        const start = startOfDay(day, tz);
        expect(dayIn(start, tz), `${day} in ${tz}`).toBe(day);
        expect(wallClock(Date.parse(start), tz).hour, `${day} in ${tz}`).toBe(0);
        // a second earlier is the day before
        expect(dayIn(new Date(Date.parse(start) - 1000).toISOString(), tz)).not.toBe(day);
      }
    }
  });
});
