/**
 * Benchmark part for reports, after the permissions part (opportunities owned by 500 users in 50
 * departments): each report is timed server-side (ReportService in process, principal resolved as a
 * session would have it) next to hand-written SQL of the same result, alternating so that background
 * load hits both alike.
 *   1. summary stage × expected-close month, count and sum of amount, as the administrator — against a
 *      hand-written GROUP BY (and the same with GROUPING SETS, which the report also computes: subtotals);
 *   2. the same report for a regional director (department-tree scope) against the administrator;
 *   3. a period comparison (month over 24 months with previous month and same month last year);
 *   4. the history funnel (stages reached, from workflow.stays) against hand-written SQL.
 */
import { performance } from 'node:perf_hooks';
import type { Sql } from 'postgres';
import type { Engine } from '../../engine/engine.js';
import { loadPrincipal } from '../../engine/access/principal.js';
import type { ReportDoc } from '../../engine/reports/types.js';
import { STAGES } from './workload.js';

const L = (en: string) => ({ en, 'zh-CN': en });
const FUNNEL = STAGES.filter((s) => s !== 'lost');

export interface ReportBenchResult {
  rows: number;
  stays: number;
  cases: {
    name: string;
    engineP50Ms: number;
    referenceP50Ms: number;
    reference: string;
    ratio: number;
    target?: number;
    met?: boolean;
  }[];
}

const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function benchReports(engine: Engine, sql: Sql, options: { seconds?: number } = {}): Promise<ReportBenchResult> {
  const seconds = options.seconds ?? 3;
  // Stays for the seeded opportunities: every stage before the current one (lost: a random earlier one), closed a week apart.
  await sql`delete from workflow.stays where entity = 'opportunity'`;
  await sql.unsafe(
    `
    insert into workflow.stays (entity, record_id, workflow, state, entered_at, left_at)
    select 'opportunity', o.id, 'project_sales', s.state, o.created_at + (s.i - 1) * interval '7 days',
           case when s.i < x.last then o.created_at + s.i * interval '7 days' end
    from opportunity o
    cross join lateral (select case when o.stage = 'lost' then 1 + (abs(hashtext(o.id::text)) % 6) else array_position($1::text[], o.stage) end as last) x
    cross join lateral unnest(($1::text[])[1:x.last]) with ordinality as s(state, i)
    where o.deleted_at is null`,
    [`{${FUNNEL.join(',')}}`],
  );
  await sql`analyze workflow.stays`;
  const [{ n: rows }] = await sql`select count(*)::int as n from opportunity where deleted_at is null`;
  const [{ n: stays }] = await sql`select count(*)::int as n from workflow.stays where entity = 'opportunity'`;

  const [director] =
    await sql`select id from "user" where roles @> array['sales_director'] and username like 'bench_user_%' limit 1`;
  const [admin] = await sql`select id from "user" where roles @> array['admin'] and username like 'bench_user_%' limit 1`;
  if (!director || !admin) throw new Error('the reports benchmark runs after the access benchmark (its organisation)');
  const model = engine.metadata.model;
  const ctx = async (id: string) => ({ principal: (await loadPrincipal(engine.database, model, id))!, lang: 'en' as const });
  const [directorCtx, adminCtx] = [await ctx(director.id), await ctx(admin.id)];

  const summary: ReportDoc = {
    kind: 'report',
    name: 'bench_summary',
    label: L('Pipeline'),
    entity: 'opportunity',
    dimensions: [{ field: 'stage' }, { field: 'expected_close_date', bucket: 'month' }],
    measures: [
      { name: 'n', aggregate: 'count' },
      { name: 'amount', aggregate: 'sum', field: 'amount' },
    ],
  };
  const from = new Date(Date.now() - 400 * 86_400_000).toISOString().slice(0, 8) + '01';
  const to = new Date(Date.now() + 330 * 86_400_000).toISOString().slice(0, 8) + '01';
  const periods: ReportDoc = {
    kind: 'report',
    name: 'bench_periods',
    label: L('Months'),
    entity: 'opportunity',
    timeZone: 'Asia/Shanghai',
    dimensions: [{ field: 'expected_close_date', bucket: 'month', range: { from, to } }],
    measures: [
      { name: 'amount', aggregate: 'sum', field: 'amount' },
      { name: 'prev', derive: 'previous', of: 'amount' },
      { name: 'ly', derive: 'same_period_last_year', of: 'amount' },
      { name: 'g', derive: 'yoy_growth_rate', of: 'amount' },
    ],
  };
  const funnel: ReportDoc = {
    kind: 'report',
    name: 'bench_funnel',
    label: L('Funnel'),
    entity: 'opportunity',
    shape: 'funnel',
    funnel: { field: 'stage', mode: 'history', stages: FUNNEL },
    measures: [
      { name: 'n', aggregate: 'count' },
      { name: 'amount', aggregate: 'sum', field: 'amount' },
    ],
  };
  for (const doc of [summary, periods, funnel]) {
    const problems = (await import('../../engine/reports/kind.js')).checkReport(doc, model.documents, engine.registry);
    if (problems.length) throw new Error(`bench report ${doc.name}: ${JSON.stringify(problems)}`);
  }
  const run = (doc: ReportDoc, c: typeof adminCtx) => () => engine.reports.runDocument(c, doc, {});
  const raw = {
    groupBy: () =>
      sql`select stage, date_trunc('month', expected_close_date)::date as m, count(*), sum(amount) from opportunity where deleted_at is null group by 1, 2`,
    groupingSets:
      () => sql`select stage, to_char(date_trunc('month', expected_close_date::timestamp), 'YYYY-MM-DD') as m, count(*)::float8, sum(amount)::float8
      from opportunity where deleted_at is null group by grouping sets ((stage, m), (stage), ())`,
    periods:
      () => sql`select to_char(date_trunc('month', expected_close_date::timestamp), 'YYYY-MM-DD') as m, sum(amount)::float8 from opportunity
      where deleted_at is null and expected_close_date >= ${from}::date - interval '1 year' and expected_close_date < ${to}::date group by 1`,
    funnel:
      () => sql`with r as (select o.amount, greatest(array_position(${FUNNEL}::text[], o.stage), h.reached) as st from opportunity o
        left join (select record_id, max(array_position(${FUNNEL}::text[], state)) as reached from workflow.stays where entity = 'opportunity' group by record_id) h on h.record_id = o.id
        where o.deleted_at is null)
      select s.ord, sum(count(r.st)) over (order by s.ord desc), sum(sum(r.amount)) over (order by s.ord desc)
      from unnest(${FUNNEL}::text[]) with ordinality s(v, ord) left join r on r.st = s.ord group by s.ord order by s.ord`,
  };

  /** Alternates the two sides for `seconds` each (after a warm-up), and gives their medians. */
  const compare = async (a: () => Promise<unknown>, b: () => Promise<unknown>) => {
    for (let i = 0; i < 3; i++) {
      await a();
      await b();
    }
    const sa: number[] = [];
    const sb: number[] = [];
    let spent = 0;
    while (spent < seconds * 2000 || sa.length < 5) {
      let t = performance.now();
      await a();
      sa.push(performance.now() - t);
      t = performance.now();
      await b();
      sb.push(performance.now() - t);
      spent += sa[sa.length - 1]! + sb[sb.length - 1]!;
    }
    return [p50(sa), p50(sb)] as const;
  };
  const cases: ReportBenchResult['cases'] = [];
  const add = async (
    name: string,
    engineSide: () => Promise<unknown>,
    reference: string,
    referenceSide: () => Promise<unknown>,
    target?: number,
  ) => {
    const [e, r] = await compare(engineSide, referenceSide);
    cases.push({
      name,
      engineP50Ms: e,
      referenceP50Ms: r,
      reference,
      ratio: e / r,
      target,
      met: target === undefined ? undefined : e / r <= target,
    });
  };
  await add('summary stage × month (admin)', run(summary, adminCtx), 'hand-written GROUP BY', raw.groupBy, 1.5);
  await add(
    'summary stage × month (admin)',
    run(summary, adminCtx),
    'hand-written GROUPING SETS (same subtotals)',
    raw.groupingSets,
  );
  await add(
    'summary stage × month (department-tree director)',
    run(summary, directorCtx),
    'the same report as admin',
    run(summary, adminCtx),
    1.5,
  );
  await add(
    'period comparison (month, previous, last year, YoY)',
    run(periods, adminCtx),
    'hand-written GROUP BY month',
    raw.periods,
  );
  await add('history funnel (stages reached, workflow.stays)', run(funnel, adminCtx), 'hand-written SQL', raw.funnel);
  return { rows: Number(rows), stays: Number(stays), cases };
}

export function formatReports(r: ReportBenchResult): string {
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  return [
    `Reports on ${r.rows.toLocaleString('en')} opportunities (${r.stays.toLocaleString('en')} stays), server-side p50:`,
    ...r.cases.map(
      (c) =>
        `  ${c.name.padEnd(52)} ${ms(c.engineP50Ms).padStart(10)}  vs ${c.reference}: ${ms(c.referenceP50Ms)}  → ${c.ratio.toFixed(2)}×${c.target === undefined ? '' : ` (target ≤ ${c.target}×: ${c.met ? 'met' : 'MISSED'})`}`,
    ),
  ].join('\n');
}
