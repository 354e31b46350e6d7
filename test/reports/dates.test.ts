/** Period arithmetic of reports: labels, fiscal years, relative parameter defaults, local midnights across DST. */
import { describe, expect, it } from 'vitest';
import {
  bucketLabel,
  bucketSeries,
  bucketStart,
  relativeDate,
  shiftBucket,
  yearEarlier,
  zonedMidnight,
} from '../../engine/reports/dates.js';
import { bindParams, datesAsInstants } from '../../engine/reports/compile.js';

describe('report dates', () => {
  it('labels periods in both languages, fiscal years named by the year they start in', () => {
    expect(bucketLabel('2026-04-01', 'quarter', 1, 'en')).toBe('2026 Q2');
    expect(bucketLabel('2026-04-01', 'quarter', 1, 'zh-CN')).toBe('2026年第2季度');
    expect(bucketLabel('2026-04-01', 'fiscal_quarter', 4, 'en')).toBe('FY2026 Q1');
    expect(bucketLabel('2027-01-01', 'fiscal_quarter', 4, 'en')).toBe('FY2026 Q4');
    expect(bucketLabel('2026-04-01', 'fiscal_year', 4, 'zh-CN')).toBe('2026财年');
    expect(bucketLabel('2026-03-01', 'month', 1, 'en')).toBe('2026-03');
  });

  it('finds period starts, the previous period and the same period a year earlier', () => {
    expect(bucketStart('2026-03-01', 'week')).toBe('2026-02-23'); // a Sunday belongs to the week from Monday
    expect(bucketStart('2026-02-14', 'fiscal_year', 4)).toBe('2025-04-01');
    expect(bucketStart('2026-08-31', 'fiscal_quarter', 4)).toBe('2026-07-01');
    expect(shiftBucket('2026-01-01', 'quarter', -1)).toBe('2025-10-01');
    expect(yearEarlier('2026-03-02', 'week')).toBe('2025-03-03'); // 52 weeks: the same weekday
    expect(yearEarlier('2024-02-29', 'day')).toBe('2023-03-01');
    expect(bucketSeries('2026-01-15', '2026-04-01', 'month')).toEqual(['2026-01-01', '2026-02-01', '2026-03-01']);
  });

  it("computes relative defaults in the report's time zone", () => {
    const now = new Date('2026-12-31T17:00:00.000Z'); // already 2027-01-01 in Shanghai
    expect(relativeDate('today', 'UTC', now)).toBe('2026-12-31');
    expect(relativeDate('today', 'Asia/Shanghai', now)).toBe('2027-01-01');
    expect(relativeDate('start_of_quarter', 'Asia/Shanghai', now)).toBe('2027-01-01');
    expect(relativeDate('start_of_last_year', 'UTC', now)).toBe('2025-01-01');
    expect(relativeDate('start_of_next_month', 'UTC', now)).toBe('2027-01-01');
  });

  it('gives the UTC instant at which a local day begins, across DST changes', () => {
    expect(zonedMidnight('2026-01-01', 'Asia/Shanghai')).toBe('2025-12-31T16:00:00.000Z');
    expect(zonedMidnight('2026-03-08', 'America/New_York')).toBe('2026-03-08T05:00:00.000Z'); // EST until 2 am
    expect(zonedMidnight('2026-03-09', 'America/New_York')).toBe('2026-03-09T04:00:00.000Z'); // EDT
    expect(zonedMidnight('2026-04-01', 'Pacific/Kiritimati')).toBe('2026-03-31T10:00:00.000Z');
  });
});

describe('date parameters meeting datetime fields', () => {
  const source = {
    column: (name: string) =>
      ({ created_at: { kind: 'datetime' }, due_date: { kind: 'date' } })[name as 'created_at' | 'due_date'],
  } as never;
  const run = { params: { from: '2026-03-01', label: '2026-03-01' }, source, timeZone: 'Asia/Shanghai' };

  it('become the start of that day in the report’s zone; against a date field they stay dates', () => {
    const rule = {
      and: [
        { '>=': [{ var: 'created_at' }, { var: '$params.from' }] },
        { '>=': [{ var: 'due_date' }, { var: '$params.from' }] },
        { '==': [{ var: 'title' }, { var: '$params.label' }] },
      ],
    };
    expect(datesAsInstants(rule, run)).toEqual({
      and: [
        { '>=': [{ var: 'created_at' }, '2026-02-28T16:00:00.000Z'] },
        { '>=': [{ var: 'due_date' }, { var: '$params.from' }] },
        { '==': [{ var: 'title' }, { var: '$params.label' }] },
      ],
    });
    // The drill-down filter carries the same instant, so the list counts what the report counted.
    expect(bindParams(rule, run)).toEqual({
      and: [
        { '>=': [{ var: 'created_at' }, '2026-02-28T16:00:00.000Z'] },
        { '>=': [{ var: 'due_date' }, '2026-03-01'] },
        { '==': [{ var: 'title' }, '2026-03-01'] },
      ],
    });
  });

  it('start_of_last_12_months is the first day of the twelve months ending with this one', () => {
    expect(relativeDate('start_of_last_12_months', 'Asia/Shanghai', new Date('2026-11-27T12:00:00Z'))).toBe('2025-12-01');
    expect(relativeDate('start_of_last_12_months', 'UTC', new Date('2026-01-31T12:00:00Z'))).toBe('2025-02-01');
  });
});
