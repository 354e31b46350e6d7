/**
 * THE property of the report engine: for generated records (nulls, time-zone edges of buckets, empty
 * groups) and generated report definitions (dimensions, buckets, paths through references, measures,
 * conditional measures, filters, summary and matrix), every number of the answer equals the same
 * aggregate computed here, in plain TypeScript, from the records its group's drill-down filter selects
 * — and that filter (evaluated by json-logic-js) selects exactly the records of the group's dimension
 * values, computed independently. Runs on PGlite and, with DATABASE_URL, on PostgreSQL.
 * The seed is printed on failure (fast-check); re-run with FC_SEED=<seed>.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sql } from 'drizzle-orm';
import { drivers, L, startEngine, type TestEngine } from '../support/engine.js';
import { evaluateRule, isTruthy } from '../../engine/rules/evaluate.js';
import { engineContext } from '../../engine/data/service.js';
import { checkReport } from '../../engine/reports/kind.js';

const COLORS = ['red', 'green', 'blue', 'gold'];
const SEGMENTS = ['smb', 'ent'];
const app = [
  {
    kind: 'dictionary',
    name: 'color',
    label: L('Color'),
    items: COLORS.map((c) => ({ value: c, label: L(c.toUpperCase(), c) })),
  },
  { kind: 'dictionary', name: 'segment', label: L('Segment'), items: SEGMENTS.map((c) => ({ value: c, label: L(c) })) },
  {
    kind: 'entity',
    name: 'acct',
    label: L('Account'),
    titleField: 'name',
    fields: [
      { name: 'name', type: 'text', label: L('Name') },
      { name: 'segment', type: 'picklist', dictionary: 'segment', label: L('Segment') },
    ],
  },
  {
    kind: 'entity',
    name: 'item',
    label: L('Item'),
    fields: [
      { name: 'color', type: 'picklist', dictionary: 'color', label: L('Color') },
      { name: 'qty', type: 'integer', label: L('Qty') },
      { name: 'price', type: 'decimal', scale: 2, label: L('Price') },
      { name: 'day', type: 'date', label: L('Day') },
      { name: 'at', type: 'datetime', label: L('At') },
      { name: 'flag', type: 'boolean', label: L('Flag') },
      { name: 'acct', type: 'reference', to: 'acct', onDelete: 'set_null', label: L('Account') },
    ],
  },
];

// Values chosen at the edges: month, quarter and year ends; Sunday/Monday; leap day; midnights in several zones.
const DAYS = [
  '2024-02-29',
  '2025-12-31',
  '2026-01-01',
  '2026-01-04',
  '2026-01-05',
  '2026-03-31',
  '2026-04-01',
  '2026-06-30',
  '2026-07-01',
  '2026-09-30',
  '2026-12-31',
];
const INSTANTS = [
  '2025-12-31T15:59:59.999Z',
  '2025-12-31T16:00:00.000Z', // Asia/Shanghai midnight
  '2026-01-01T04:59:59.999Z',
  '2026-01-01T05:00:00.000Z', // America/New_York midnight
  '2026-03-08T06:59:59.999Z',
  '2026-03-08T07:00:00.000Z', // New York DST change
  '2026-03-31T23:59:59.999Z',
  '2026-04-01T00:00:00.000Z',
  '2026-03-31T10:00:00.000Z', // Kiritimati (+14) is already in April
  '2026-06-30T16:00:00.000Z',
  '2026-12-31T23:00:00.000Z',
];
const ZONES = ['UTC', 'Asia/Shanghai', 'America/New_York', 'Pacific/Kiritimati'];

interface Rec {
  color: string | null;
  qty: number | null;
  price: number | null;
  day: string | null;
  at: string | null;
  flag: boolean | null;
  acct: number | null;
}
const recArb = fc.record<Rec>({
  color: fc.option(fc.constantFrom(...COLORS), { freq: 4 }),
  qty: fc.option(fc.integer({ min: -3, max: 5 }), { freq: 4 }),
  price: fc.option(fc.constantFrom(0, 1.5, 2.25, 10, -4.75, 100), { freq: 4 }),
  day: fc.option(fc.constantFrom(...DAYS), { freq: 4 }),
  at: fc.option(fc.constantFrom(...INSTANTS), { freq: 4 }),
  flag: fc.option(fc.boolean(), { freq: 4 }),
  acct: fc.option(fc.integer({ min: 0, max: 2 }), { freq: 3 }),
});

const dimArb = fc.oneof(
  fc.constant({ field: 'color' }),
  fc.constant({ field: 'acct.segment' }),
  fc.constant({ field: 'flag' }),
  fc.constant({ field: 'acct' }),
  fc
    .constantFrom('day', 'week', 'month', 'quarter', 'year', 'fiscal_quarter', 'fiscal_year')
    .map((bucket) => ({ field: 'day', bucket })),
  fc.constantFrom('day', 'month', 'quarter', 'fiscal_year').map((bucket) => ({ field: 'at', bucket })),
);
const measureArb = fc.oneof(
  fc.constant({ aggregate: 'count' }),
  fc.constant({ aggregate: 'count', field: 'price' }),
  fc.constant({ aggregate: 'count_distinct', field: 'color' }),
  fc.constant({ aggregate: 'sum', field: 'qty' }),
  fc.constant({ aggregate: 'sum', field: 'price' }),
  fc.constant({ aggregate: 'avg', field: 'price' }),
  fc.constant({ aggregate: 'min', field: 'qty' }),
  fc.constant({ aggregate: 'max', field: 'price' }),
  fc.constant({ aggregate: 'max', field: 'day' }),
  fc.constant({ aggregate: 'sum', field: 'price', filter: { '==': [{ var: 'flag' }, true] } }),
  fc.constant({ aggregate: 'count', filter: { '==': [{ var: 'acct.segment' }, 'ent'] } }),
);
const filterArb = fc.constantFrom(
  undefined,
  { '>': [{ var: 'qty' }, 0] },
  { '!=': [{ var: 'color' }, 'red'] },
  { '==': [{ var: 'acct.segment' }, 'smb'] },
);

const reportArb = fc
  .record({
    dims: fc.uniqueArray(dimArb, { minLength: 0, maxLength: 3, selector: (d) => d.field }),
    measures: fc.array(measureArb, { minLength: 1, maxLength: 4 }),
    filter: filterArb,
    matrix: fc.boolean(),
    timeZone: fc.constantFrom(...ZONES),
    fiscal: fc.integer({ min: 1, max: 12 }),
    derived: fc.boolean(),
    ranged: fc.boolean(),
    top: fc.option(fc.integer({ min: 1, max: 3 })),
  })
  .map(({ dims, measures, filter, matrix, timeZone, fiscal, derived, ranged, top }) => {
    if (ranged)
      dims = dims.map((d: any) =>
        d.field === 'day' && d.bucket ? { ...d, range: { from: '2026-01-01', to: '2026-10-01' } } : d,
      );
    const ms: Record<string, unknown>[] = measures.map((m, i) => ({ name: `m${i}`, ...m }));
    const bucketed = dims.some((d) => 'bucket' in d);
    if (derived && ms[0]!.field !== 'day') {
      ms.push({ name: 'pct', derive: 'percent_of_total', of: 'm0' });
      if (bucketed) ms.push({ name: 'prev', derive: 'previous', of: 'm0' }, { name: 'run', derive: 'running_total', of: 'm0' });
    }
    const asMatrix = matrix && dims.length > 0;
    const withTop = top !== null && !asMatrix && dims.length > 0 && !('bucket' in dims[0]!) && ms[0]!.field !== 'day';
    return {
      ...(withTop ? { top: { n: top, by: 'm0' } } : {}),
      kind: 'report',
      name: 'gen',
      label: L('Generated'),
      entity: 'item',
      shape: asMatrix ? 'matrix' : 'summary',
      timeZone,
      fiscalYearStartMonth: fiscal,
      ...(filter ? { filter } : {}),
      dimensions: asMatrix ? dims.slice(0, -1) : dims,
      ...(asMatrix ? { pivot: dims[dims.length - 1] } : {}),
      measures: ms,
    } as any;
  });

// ── the oracle: independent of engine/reports ──
const localDay = (iso: string, tz: string) =>
  new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(iso));
function bucketOf(day: string, bucket: string, fiscal: number): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const iso = (yy: number, mm: number, dd: number) => new Date(Date.UTC(yy, mm - 1, dd)).toISOString().slice(0, 10);
  if (bucket === 'day') return day;
  if (bucket === 'week') return iso(y, m, d - ((new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 6) % 7));
  if (bucket === 'month') return iso(y, m, 1);
  if (bucket === 'quarter') return iso(y, 3 * Math.floor((m - 1) / 3) + 1, 1);
  if (bucket === 'year') return iso(y, 1, 1);
  const monthsIn = (m - fiscal + 12) % 12; // months since the fiscal year began
  if (bucket === 'fiscal_year') return iso(y, m - monthsIn, 1);
  return iso(y, m - (monthsIn % 3), 1); // fiscal quarter
}
function dimValue(r: any, dim: any, report: any): unknown {
  if (dim.field === 'acct.segment') return r.acct_segment ?? null;
  if (dim.field === 'acct') return r.acct ?? null;
  const v = r[dim.field];
  if (!dim.bucket || v === null) return v ?? null;
  const day = dim.field === 'at' ? localDay(v, report.timeZone) : v;
  return bucketOf(day, dim.bucket, report.fiscalYearStartMonth);
}
function shiftForward(start: string, bucket: string): string {
  const [y, m, d] = start.split('-').map(Number) as [number, number, number];
  const iso = (yy: number, mm: number, dd: number) => new Date(Date.UTC(yy, mm - 1, dd)).toISOString().slice(0, 10);
  if (bucket === 'day') return iso(y, m, d + 1);
  if (bucket === 'week') return iso(y, m, d + 7);
  if (bucket === 'month') return iso(y, m + 1, 1);
  if (bucket === 'quarter' || bucket === 'fiscal_quarter') return iso(y, m + 3, 1);
  return iso(y + 1, m, 1);
}
/** How many periods a dimension's range spans. */
function periods(d: any, fiscal: number): number {
  let n = 0;
  for (let b = bucketOf(d.range.from, d.bucket, fiscal); b < d.range.to; b = shiftForward(b, d.bucket)) n++;
  return n;
}
function shiftBack(start: string, bucket: string): string {
  const [y, m, d] = start.split('-').map(Number) as [number, number, number];
  const iso = (yy: number, mm: number, dd: number) => new Date(Date.UTC(yy, mm - 1, dd)).toISOString().slice(0, 10);
  if (bucket === 'day') return iso(y, m, d - 1);
  if (bucket === 'week') return iso(y, m, d - 7);
  if (bucket === 'month') return iso(y, m - 1, 1);
  if (bucket === 'quarter' || bucket === 'fiscal_quarter') return iso(y, m - 3, 1);
  return iso(y - 1, m, 1);
}
/** json-logic-js on a record, with the path acct.segment read from the record's acct_segment. */
const holds = (rule: unknown, r: any) =>
  rule === undefined ||
  isTruthy(evaluateRule(JSON.parse(JSON.stringify(rule).replaceAll('"acct.segment"', '"acct_segment"')), r));
function aggregate(m: any, recs: any[]): unknown {
  const rs = m.filter ? recs.filter((r) => holds(m.filter, r)) : recs;
  const vals = m.field
    ? rs.map((r) => (m.field === 'color' ? r.color : r[m.field])).filter((v) => v !== null && v !== undefined)
    : rs;
  switch (m.aggregate) {
    case 'count':
      return vals.length;
    case 'count_distinct':
      return new Set(vals).size;
    case 'sum':
      return vals.length ? vals.reduce((a: number, b: number) => a + b, 0) : null;
    case 'avg':
      return vals.length ? vals.reduce((a: number, b: number) => a + b, 0) / vals.length : null;
    case 'min':
      return vals.length ? vals.reduce((a: any, b: any) => (b < a ? b : a)) : null;
    case 'max':
      return vals.length ? vals.reduce((a: any, b: any) => (b > a ? b : a)) : null;
  }
}
const close = (a: unknown, b: unknown) =>
  typeof a === 'number' && typeof b === 'number' ? Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b)) : a === b;

describe.each(drivers)('report property on %s', (driver) => {
  let e: TestEngine;
  let accts: { id: string; segment: string | null }[];
  beforeAll(async () => {
    e = await startEngine(driver);
    const r = await e.call('POST', '/api/meta/deploy', { documents: app });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const a = await e.call('POST', '/api/data/acct', [
      { name: 'x', segment: 'smb' },
      { name: 'y', segment: 'ent' },
      { name: 'z' },
    ]);
    accts = a.body.data.map((x: any) => ({ id: x.id, segment: x.segment }));
  }, 60_000);
  afterAll(() => e?.stop());

  it('every number equals the aggregate of the records its drill-down filter selects', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(recArb, { maxLength: 25 }), reportArb, async (recs, report) => {
        expect(checkReport(report, e.metadata.model.documents, e.registry)).toEqual([]);
        await e.data.database.db.execute(sql`delete from item`);
        if (recs.length) {
          const res = await e.call(
            'POST',
            '/api/data/item',
            recs.map((r) => ({ ...r, acct: r.acct === null ? null : accts[r.acct]!.id })),
          );
          expect(res.status, JSON.stringify(res.body)).toBe(201);
        }
        // A reference is its id (what list filters compare); the path acct.segment is read from acct_segment (see holds).
        const records = recs.map((r) => ({
          ...r,
          acct: r.acct === null ? null : accts[r.acct]!.id,
          acct_segment: r.acct === null ? null : accts[r.acct]!.segment,
        }));
        const dims = [...report.dimensions, ...(report.pivot ? [report.pivot] : [])];
        const filtered = records.filter((r) => holds(report.filter, r));
        // A range keeps the records of its periods: [bucket of from, first bucket start at or after to).
        const ranged = dims.find((d: any) => d.range);
        const inRange = (r: any) => {
          if (!ranged || r.day === null) return !ranged;
          const from = bucketOf(ranged.range.from, ranged.bucket, report.fiscalYearStartMonth);
          let to = bucketOf(ranged.range.to, ranged.bucket, report.fiscalYearStartMonth);
          if (to !== ranged.range.to) to = shiftForward(to, ranged.bucket);
          return r.day >= from && r.day < to;
        };
        const inScope = filtered.filter(inRange);
        const result = await e.reports.runDocument(engineContext(), report, {});
        const base = report.measures.filter((m: any) => !m.derive);
        const expectRow = (row: Record<string, unknown>, recsOf: any[], suffix = '') => {
          for (const m of base)
            expect(
              close(row[m.name + suffix], aggregate(m, recsOf)),
              `${m.name}${suffix}: ${row[m.name + suffix]} vs ${aggregate(m, recsOf)} in ${JSON.stringify(row)}`,
            ).toBe(true);
        };
        // Records of a group, by the dimension values computed here.
        const members = (values: Record<string, unknown>, ds: any[]) =>
          inScope.filter((r) => ds.every((d) => dimValue(r, d, report) === values[d.name ?? d.field.replace('.', '_')]));
        const names = (d: any) => d.name ?? d.field.replace('.', '_');

        expectRow(result.totals, inScope);
        if (report.shape === 'summary') {
          let detail = 0;
          for (const row of result.rows) {
            const level = row._level as number;
            const ds = report.dimensions.slice(0, level);
            const topValues: unknown[] = result.rows
              .filter((r) => r._level === 1 && !r._others)
              .map((r) => r[names(report.dimensions[0])] ?? null);
            const mine = row._others
              ? members(row, ds.slice(1)).filter((r) => !topValues.includes(dimValue(r, report.dimensions[0], report)))
              : members(row, ds);
            expectRow(row, mine);
            // The drill-down filter, evaluated by json-logic-js on the records, selects exactly these.
            const drilled = records.filter((r) => holds(row._filter, r));
            expect(drilled.length, JSON.stringify(row._filter)).toBe(mine.length);
            if (level === report.dimensions.length) detail += mine.length;
            const t = [...report.dimensions.keys()].filter((i) => report.dimensions[i].bucket).pop();
            if (report.measures.some((m: any) => m.derive === 'previous') && !row._others) {
              if (t === undefined || t >= level || row[names(report.dimensions[t])] == null)
                expect(row.prev, JSON.stringify(row)).toBe(null);
              else {
                const td = report.dimensions[t];
                const prevValues: Record<string, unknown> = { ...row, [names(td)]: shiftBack(String(row[names(td)]), td.bucket) };
                // The previous period may lie before the range: it is read all the same.
                const prev = filtered.filter((r) => ds.every((d: any) => dimValue(r, d, report) === prevValues[names(d)]));
                expect(close(row.prev, aggregate(base[0], prev)), `prev of ${JSON.stringify(row)}`).toBe(true);
                // Running total: the measure summed over this and every earlier period of the partition.
                const earlier = new Set(
                  inScope
                    .filter((r) =>
                      ds.every((d: any, i: number) =>
                        i === t
                          ? (dimValue(r, d, report) as string | null) !== null &&
                            (dimValue(r, d, report) as string) <= (row[names(d)] as string)
                          : dimValue(r, d, report) === row[names(d)],
                      ),
                    )
                    .map((r) => dimValue(r, td, report)),
                );
                const run = [...earlier].reduce(
                  (s: number, b) => s + ((aggregate(base[0], members({ ...row, [names(td)]: b }, ds)) as number | null) ?? 0),
                  0,
                );
                expect(close(row.run, run), `running total of ${JSON.stringify(row)}`).toBe(true);
              }
            }
            if (report.measures.some((m: any) => m.derive === 'percent_of_total')) {
              const total = aggregate(base[0], inScope) as number;
              expect(close(row.pct, typeof row.m0 === 'number' && total ? (row.m0 as number) / total : null)).toBe(true);
            }
          }
          if (report.top) {
            // The groups kept are the n largest by the measure; every other group went to "others".
            const d0 = report.dimensions[0];
            const byGroup = new Map<unknown, any[]>();
            for (const r of inScope) byGroup.set(dimValue(r, d0, report), [...(byGroup.get(dimValue(r, d0, report)) ?? []), r]);
            const value = (v: unknown) => (aggregate(base[0], byGroup.get(v) ?? []) as number | null) ?? -Infinity;
            const kept: unknown[] = result.rows.filter((r) => r._level === 1 && !r._others).map((r) => r[names(d0)] ?? null);
            expect(kept.length).toBe(Math.min(report.top.n, byGroup.size));
            for (const k of kept)
              for (const v of byGroup.keys()) if (!kept.includes(v)) expect(value(k)).toBeGreaterThanOrEqual(value(v));
          }
          // Every record in scope is in exactly one detail group (none lost to a missing group).
          if (report.dimensions.length) expect(detail).toBe(inScope.length);
          // Every non-empty combination of dimension values has its row.
          const seen = new Set(
            result.rows
              .filter((r) => r._level === report.dimensions.length)
              .map((r) => JSON.stringify(report.dimensions.map((d: any) => r[names(d)] ?? null))),
          );
          if (!report.top)
            for (const r of inScope)
              expect(seen.has(JSON.stringify(report.dimensions.map((d: any) => dimValue(r, d, report))))).toBe(true);
        } else {
          const pivotCols = result.columns.filter((c) => c.pivot && base.some((m: any) => m.name === c.measure));
          for (const row of result.rows) {
            const mine = members(row, report.dimensions);
            expectRow(row, mine);
            for (const c of pivotCols) {
              const cell = mine.filter((r) => dimValue(r, report.pivot, report) === c.pivot!.value);
              expect(
                close(
                  row[c.name],
                  aggregate(
                    base.find((m: any) => m.name === c.measure),
                    cell,
                  ),
                ),
                `${c.name}`,
              ).toBe(true);
              expect(records.filter((r) => holds({ and: [row._filter, c.pivot!.filter] }, r)).length).toBe(cell.length);
            }
          }
          for (const c of pivotCols) {
            const col = inScope.filter((r) => dimValue(r, report.pivot, report) === c.pivot!.value);
            expect(
              close(
                result.totals[c.name],
                aggregate(
                  base.find((m: any) => m.name === c.measure),
                  col,
                ),
              ),
              `${c.name}: ${JSON.stringify(result.totals)}`,
            ).toBe(true);
          }
          const values = new Set(pivotCols.map((c) => JSON.stringify(c.pivot!.value)));
          for (const r of inScope) expect(values.has(JSON.stringify(dimValue(r, report.pivot, report)))).toBe(true);
          // A declared range shows every one of its periods, records or not.
          if (report.pivot.range)
            expect(new Set(pivotCols.map((c) => c.pivot!.value)).size).toBe(periods(report.pivot, report.fiscalYearStartMonth));
        }
        void dims;
      }),
      { numRuns: Number(process.env.FC_RUNS ?? 25), seed: process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined },
    );
  }, 900_000);
});
