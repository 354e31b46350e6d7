/**
 * Funnels and time in stage over an ordered stage dictionary — one statement each.
 *  - snapshot: records by their current stage (or, `cumulative`, at or beyond each stage);
 *  - history: records that reached at least each stage, read from the workflow's stays
 *    (workflow.stays): a record lost in negotiation counts for every stage up to negotiation;
 *  - time in stage: average and median days per stay in each stage (open stays count up to now).
 * Conversion from one stage to the next is the ratio of consecutive counts.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { CompiledEntity } from '../model/compile.js';
import { aggregateSql, bindParams, compileCondition, measureInputs, measurePlan, type Lang, type RunContext } from './compile.js';
import type { ReportColumn, ReportData } from './shape.js';
import type { ReportDoc } from './types.js';

function setup(doc: ReportDoc, entity: CompiledEntity, run: RunContext) {
  const source = run.source;
  const scope = source.scope();
  const funnel = doc.funnel!;
  const stageColumn = source.column(funnel.field, '/funnel/field')!;
  const field = entity.field(funnel.field)!;
  const dictionary = run.model.dictionaries.get(String(field.doc.dictionary))!;
  const stages = funnel.stages ?? dictionary.items.map((i) => i.value);
  const labels = new Map(dictionary.items.map((i) => [i.value, i.label[run.lang]]));
  const where: SQL[] = [source.live()];
  if (scope) where.push(scope);
  if (doc.filter !== undefined) where.push(compileCondition(run, doc.filter, '/filter'));
  const workflows = entity.workflows.filter((w) => w.doc.stateField === funnel.field).map((w) => w.doc.name);
  return { source, funnel, stageColumn, field, stages, labels, where, workflows };
}

const stageColumnOf = (
  doc: ReportDoc,
  entity: CompiledEntity,
  lang: Lang,
  stages: string[],
  labels: Map<string, string>,
): ReportColumn => ({
  name: doc.funnel!.field,
  label: entity.field(doc.funnel!.field)!.doc.label[lang],
  type: 'picklist',
  role: 'dimension',
  options: stages.map((s) => ({ value: s, label: labels.get(s) ?? s })),
});

export function compileFunnel(doc: ReportDoc, entity: CompiledEntity, run: RunContext) {
  const { source, funnel, stageColumn, stages, labels, where, workflows } = setup(doc, entity, run);
  const mode = funnel.mode ?? 'snapshot';
  const measureDocs = doc.measures?.length ? doc.measures : [{ name: 'count', aggregate: 'count' as const }];
  const plans = measureDocs.map((m, j) => measurePlan(source, m, j, run));
  const inputs = measureInputs(source, { ...doc, measures: measureDocs }, run);
  const position = (expr: SQL) => sql`array_position(${sql.param(stages)}::text[], ${expr}::text)`;
  const select: SQL[] = [...inputs.select];
  let join = sql``;
  if (mode === 'history') {
    // The furthest stage reached: the current one or any stayed in before (one pass over the stays, hashed).
    join = sql` left join (select record_id, max(${position(sql`state`)}) as reached from workflow.stays
      where entity = ${entity.name} and workflow = any(${sql.param(workflows)}::text[]) group by record_id) h on h.record_id = ${source.column('id', '')!.sql}`;
    select.push(sql`greatest(${position(stageColumn.sql)}, h.reached) as _st`);
  } else select.push(sql`${position(stageColumn.sql)} as _st`);
  const aggs = plans.map(
    (m, j) => sql`${aggregateSql(m, j, inputs.has[j]!.field, inputs.has[j]!.filter)} as ${sql.raw(`m${j}`)}`,
  );
  const cumulative = mode === 'history' || funnel.cumulative === true;
  // count and sum add up, so "at or beyond" is a running sum over the stages from the last one back.
  const outs = plans.map((_, j) =>
    cumulative
      ? sql`coalesce(sum(a.${sql.raw(`m${j}`)}) over (order by s.ord desc rows between unbounded preceding and current row), 0)::float8 as ${sql.raw(`m${j}`)}`
      : sql`coalesce(a.${sql.raw(`m${j}`)}, 0)::float8 as ${sql.raw(`m${j}`)}`,
  );
  const statement = sql`with base as (select ${sql.join(select, sql`, `)} ${source.from()}${join} where ${sql.join(where, sql` and `)}),
    agg as (select _st, ${sql.join(aggs, sql`, `)} from base where _st is not null group by _st)
    select s.value as stage, s.ord::int as ord, ${sql.join(outs, sql`, `)}
    from unnest(${sql.param(stages)}::text[]) with ordinality as s(value, ord) left join agg a on a._st = s.ord order by s.ord`;
  const filter = doc.filter === undefined ? undefined : bindParams(doc.filter, run);

  const shape = (raw: Record<string, unknown>[], lang: Lang): ReportData => {
    const first = raw.length ? Number(raw[0]!.m0) : 0;
    const rows = raw.map((r, i) => {
      const row: Record<string, unknown> = { [funnel.field]: r.stage };
      plans.forEach((m, j) => (row[m.name] = Number(r[`m${j}`])));
      const count = Number(r.m0);
      const prev = i > 0 ? Number(raw[i - 1]!.m0) : null;
      row.conversion = prev ? count / prev : null;
      row.conversion_from_first = i > 0 && first ? count / first : null;
      row._labels = { [funnel.field]: labels.get(String(r.stage)) ?? String(r.stage) };
      // History has no field to filter on: the drill-down of a history funnel is not a list filter.
      if (mode === 'snapshot') {
        const v = { var: funnel.field };
        const cond = cumulative ? { in: [v, stages.slice(i)] } : { '==': [v, r.stage] };
        row._filter = filter === undefined ? cond : { and: [filter, cond] };
      }
      return row;
    });
    const zh = lang === 'zh-CN';
    const columns: ReportColumn[] = [
      stageColumnOf(doc, entity, lang, stages, labels),
      ...plans.map((m) => ({ name: m.name, label: m.label, type: m.type, role: 'measure' as const, measure: m.name })),
      { name: 'conversion', label: zh ? '阶段转化率' : 'Conversion from previous stage', type: 'percent', role: 'measure' },
      { name: 'conversion_from_first', label: zh ? '总转化率' : 'Conversion from first stage', type: 'percent', role: 'measure' },
    ];
    const last = raw.length ? Number(raw[raw.length - 1]!.m0) : 0;
    const totals: Record<string, unknown> = { conversion: first ? last / first : null };
    if (!cumulative) plans.forEach((m, j) => (totals[m.name] = raw.reduce((s, r) => s + Number(r[`m${j}`]), 0)));
    return { columns, rows, totals };
  };
  return { sql: statement, shape, filter };
}

export function compileTimeInStage(doc: ReportDoc, entity: CompiledEntity, run: RunContext) {
  const { source, stages, labels, where, workflows, funnel } = setup(doc, entity, run);
  const id = source.column('id', '')!.sql;
  const state = source.column(funnel.field, '/funnel/field')!.sql;
  const created = source.column('created_at', '')!.sql;
  // A record that never moved has no stay yet: its current stage counts from its creation.
  const statement = sql`with base as (select ${id} as _id, ${state} as _state, ${created} as _created ${source.from()} where ${sql.join(where, sql` and `)}),
    st as (select s.state, extract(epoch from (coalesce(s.left_at, now()) - s.entered_at)) / 86400.0 as days
        from workflow.stays s join base b on b._id = s.record_id where s.entity = ${entity.name} and s.workflow = any(${sql.param(workflows)}::text[])
      union all select b._state, extract(epoch from (now() - b._created)) / 86400.0 from base b
        where not exists (select 1 from workflow.stays s where s.entity = ${entity.name} and s.record_id = b._id))
    select x.value as stage, count(st.days)::int as stays, avg(st.days)::float8 as avg_days,
      (percentile_cont(0.5) within group (order by st.days))::float8 as median_days, max(st.days)::float8 as max_days
    from unnest(${sql.param(stages)}::text[]) with ordinality as x(value, ord) left join st on st.state = x.value group by x.value, x.ord order by x.ord`;
  const filter = doc.filter === undefined ? undefined : bindParams(doc.filter, run);
  const shape = (raw: Record<string, unknown>[], lang: Lang): ReportData => {
    const zh = lang === 'zh-CN';
    const rows = raw.map((r) => ({
      [funnel.field]: r.stage,
      stays: Number(r.stays),
      avg_days: r.avg_days ?? null,
      median_days: r.median_days ?? null,
      max_days: r.max_days ?? null,
      _labels: { [funnel.field]: labels.get(String(r.stage)) ?? String(r.stage) },
    }));
    const columns: ReportColumn[] = [
      stageColumnOf(doc, entity, lang, stages, labels),
      { name: 'stays', label: zh ? '停留次数' : 'Stays', type: 'integer', role: 'measure' },
      { name: 'avg_days', label: zh ? '平均停留天数' : 'Average days', type: 'number', role: 'measure' },
      { name: 'median_days', label: zh ? '停留天数中位数' : 'Median days', type: 'number', role: 'measure' },
      { name: 'max_days', label: zh ? '最长停留天数' : 'Longest stay (days)', type: 'number', role: 'measure' },
    ];
    return { columns, rows, totals: { stays: rows.reduce((s, r) => s + (r.stays as number), 0) } };
  };
  return { sql: statement, shape, filter };
}
