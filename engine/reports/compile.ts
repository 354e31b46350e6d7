/**
 * Compiles a summary or matrix report, for one viewer and one set of parameter values, into ONE SQL
 * statement: a `base` CTE with one row per record in the viewer's scope (dimension values, measure
 * inputs, measure conditions), grouped by GROUPING SETS so that detail groups, subtotals and the grand
 * total come from a single pass. Top-N ranks the first dimension in a CTE of its own; a tree dimension
 * joins each record to every ancestor of its node. Values are bound parameters; identifiers come from
 * validated metadata only.
 */
import { sql, type SQL } from 'drizzle-orm';
import { AppError } from '../errors.js';
import type { AppModel, CompiledEntity } from '../model/compile.js';
import type { Guard } from '../access/guard.js';
import type { DictionaryDoc } from '../model/kinds/dictionary.js';
import { compileFilter, type FilterScope } from '../rules/to-sql.js';
import { columnRef, tableText } from '../data/query.js';
import { AggregateSource, type AggregateSource as Source, type Column } from '../data/operations/aggregate.js';
import { bucketStart, shiftBucket, yearEarlier, zonedMidnight } from './dates.js';
import {
  dimensionName,
  type Aggregate,
  type Bucket,
  type Bound,
  type DimensionDoc,
  type MeasureDoc,
  type ReportDoc,
} from './types.js';
import { pointer } from '../errors.js';

export type Lang = 'en' | 'zh-CN';

export interface DimPlan {
  doc: DimensionDoc;
  name: string;
  label: string;
  /** Column alias in SQL: d0, d1 … */
  alias: string;
  column: Column;
  bucket?: Bucket;
  /** Picklist values in dictionary order with their labels in the viewer's language. */
  options?: { value: string; label: string }[];
  range?: { from: string; to: string };
  hasLabel: boolean;
  tree: boolean;
}

export interface MeasurePlan {
  doc: MeasureDoc;
  name: string;
  label: string;
  alias: string;
  aggregate?: Aggregate;
  type: string;
}

export interface RunContext {
  /** The caller's source over the report's entity (the aggregate operation's: scope, scoped joins, readable fields). */
  source: Source;
  model: AppModel;
  guard: Guard;
  lang: Lang;
  /** The permission whose scope bounds the root records: read, or export for files. */
  action: 'read' | 'export';
  params: Record<string, unknown>;
  /** json-logic context of filters: $user, $now, $params. */
  context: Record<string, unknown>;
  /** The report's time zone: where a date parameter's day begins when it meets a datetime field. */
  timeZone: string;
}

export interface SummaryPlan {
  doc: ReportDoc;
  shape: 'summary' | 'matrix';
  sql: SQL;
  dims: DimPlan[];
  pivot?: DimPlan;
  measures: MeasurePlan[];
  /** The dimension derived measures compare periods along (index into [...dims, pivot]). */
  time?: number;
  timeZone: string;
  fiscalStart: number;
  /** The first period shown, when the records read reach further back for comparisons. */
  shownFrom?: string;
  top?: { n: number; others: boolean };
  /** The report filter with parameters substituted: the start of every drill-down filter. */
  filter?: unknown;
  /**
   * The statement groups only the finest level; subtotals and totals are added up from those groups
   * (measures that add up: counts, sums, min, max, averages from hidden sums and counts) — a plain
   * GROUP BY instead of GROUPING SETS, whose extra sort or hash passes cost ~50 % more.
   */
  rollup: boolean;
}

/** Measures whose subtotals follow from the groups below (count distinct does not; text min/max would compare differently in Node). */
const ADDS_UP = (m: MeasurePlan) =>
  m.doc.derive !== undefined ||
  m.aggregate === 'count' ||
  m.aggregate === 'sum' ||
  m.aggregate === 'avg' ||
  ((m.aggregate === 'min' || m.aggregate === 'max') && ['number', 'integer', 'date', 'datetime'].includes(m.type));

export const MAX_GROUPS = 50_000;
const text = (l: { en: string; 'zh-CN': string } | undefined, lang: Lang) => l?.[lang];

const varName = (rule: unknown): string | undefined => {
  if (!rule || typeof rule !== 'object' || Array.isArray(rule)) return undefined;
  const entries = Object.entries(rule);
  if (entries.length !== 1 || entries[0]![0] !== 'var') return undefined;
  const raw = entries[0]![1];
  const name = Array.isArray(raw) ? raw[0] : raw;
  return typeof name === 'string' ? name : undefined;
};

/** The report filter with `$params.x` replaced by the values, so it stands alone as a list filter. */
export function bindParams(rule: unknown, run: Pick<RunContext, 'params' | 'source' | 'timeZone'>): unknown {
  const bind = (r: unknown): unknown => {
    const name = varName(r);
    if (name?.startsWith('$params.')) return run.params[name.slice(8)] ?? null;
    if (Array.isArray(r)) return r.map(bind);
    return r && typeof r === 'object' ? Object.fromEntries(Object.entries(r).map(([k, v]) => [k, bind(v)])) : r;
  };
  return bind(datesAsInstants(rule, run));
}

const COMPARISONS = new Set(['==', '!=', '===', '!==', '<', '<=', '>', '>=']);
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * A date parameter compared with a datetime field ("created from $params.from") means the start of
 * that day in the report's time zone: the parameter becomes that instant, which the filter compiler
 * compares exactly (a bare date against a datetime would be a type mismatch).
 */
export function datesAsInstants(rule: unknown, run: Pick<RunContext, 'params' | 'source' | 'timeZone'>): unknown {
  if (Array.isArray(rule)) return rule.map((r) => datesAsInstants(r, run));
  if (!rule || typeof rule !== 'object') return rule;
  return Object.fromEntries(
    Object.entries(rule).map(([op, args]) => {
      if (!COMPARISONS.has(op) || !Array.isArray(args)) return [op, datesAsInstants(args, run)];
      const meetsDatetime = args.some((a) => {
        const name = varName(a);
        return name !== undefined && !name.startsWith('$') && run.source.column(name, '', false)?.kind === 'datetime';
      });
      return [
        op,
        args.map((a) => {
          const name = varName(a);
          const value = name?.startsWith('$params.') ? run.params[name.slice(8)] : undefined;
          return meetsDatetime && typeof value === 'string' && DAY.test(value)
            ? zonedMidnight(value, run.timeZone)
            : datesAsInstants(a, run);
        }),
      ];
    }),
  );
}

/** A filter scope over the report's source: fields and paths through references, each checked readable. */
export function sourceScope(source: Source, context: Record<string, unknown>, at: string): FilterScope {
  return {
    field: (name) => {
      const c = source.column(name, at, false);
      return c ? { sql: c.sql, kind: c.kind } : undefined;
    },
    context,
    path: at,
  };
}

/** A json-logic condition of the report (filter, measure filter) over its source; `at` points at it in the document. */
export function compileCondition(run: RunContext, rule: unknown, at: string): SQL {
  return compileFilter(datesAsInstants(rule, run), sourceScope(run.source, run.context, at));
}

/** The value of a range bound: a literal date or a parameter's. */
export function boundValue(b: Bound, params: Record<string, unknown>, at: string): string {
  const v = typeof b === 'string' ? b : params[b.var.slice(8)];
  if (typeof v !== 'string')
    throw new AppError(400, 'invalid_parameters', 'A date range needs both of its bounds', [
      { path: at, code: 'required', message: 'missing date' },
    ]);
  return v;
}

/** Local time of a date or datetime column in the report's zone, as a timestamp without zone. */
const localTime = (c: Column, tz: string) =>
  c.kind === 'date' ? sql`${c.sql}::timestamp` : sql`(${c.sql} at time zone ${tz}::text)`;

/** The start of a value's period, as a local timestamp (grouped on as is; formatted after grouping). */
export function truncSql(c: Column, bucket: Bucket, tz: string, fiscalStart: number): SQL {
  const local = localTime(c, tz);
  const k = fiscalStart - 1;
  return bucket === 'fiscal_quarter' || bucket === 'fiscal_year'
    ? sql`(date_trunc(${sql.raw(`'${bucket === 'fiscal_quarter' ? 'quarter' : 'year'}'`)}, ${local} - make_interval(months => ${k}::int)) + make_interval(months => ${k}::int))`
    : sql`date_trunc(${sql.raw(`'${bucket}'`)}, ${local})`;
}

export function bucketSql(c: Column, bucket: Bucket, tz: string, fiscalStart: number): SQL {
  return sql`to_char(${truncSql(c, bucket, tz, fiscalStart)}, 'YYYY-MM-DD')`;
}

/**
 * A grouped dimension column as the answer holds it. Groups are formed on raw values (a timestamp of
 * the period's start, a date, a number) and formatted once per group, not once per record.
 */
function outSql(d: DimPlan): SQL {
  const a = sql.raw(d.alias);
  if (d.bucket || d.column.kind === 'date') return sql`to_char(${a}, 'YYYY-MM-DD') as ${a}`;
  if (d.column.kind === 'datetime') return sql`to_char(${a} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as ${a}`;
  if (d.column.kind === 'number') return sql`${a}::float8 as ${a}`;
  return a;
}

/** A dimension or plain value column as the statement returns it (dates as text, in ISO forms). */
export function valueSql(c: Column): SQL {
  if (c.kind === 'date') return sql`to_char(${c.sql}, 'YYYY-MM-DD')`;
  if (c.kind === 'datetime') return sql`to_char(${c.sql} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
  if (c.kind === 'number') return sql`${c.sql}::float8`;
  return c.sql;
}

/** The condition that a date or datetime column lies in [from, to) of local days. */
export function rangeSql(c: Column, from: string, to: string, tz: string): SQL {
  if (c.kind === 'date') return sql`(${c.sql} >= ${from}::date and ${c.sql} < ${to}::date)`;
  return sql`(${c.sql} >= (${from}::timestamp at time zone ${tz}::text) and ${c.sql} < (${to}::timestamp at time zone ${tz}::text))`;
}

export function dimensionPlan(source: Source, d: DimensionDoc, i: number, at: string, run: RunContext, doc: ReportDoc): DimPlan {
  const column = source.column(d.field, at + '/field')!;
  const field = column.entity.field(column.field);
  const dictionary =
    field?.doc.dictionary && field.doc.type !== 'multipicklist'
      ? run.model.dictionaries.get(String(field.doc.dictionary))
      : undefined;
  const fiscal = doc.fiscalYearStartMonth ?? 1;
  let range: DimPlan['range'];
  if (d.range && d.bucket) {
    const from = bucketStart(boundValue(d.range.from, run.params, at + '/range/from'), d.bucket, fiscal);
    const rawTo = boundValue(d.range.to, run.params, at + '/range/to');
    const toStart = bucketStart(rawTo, d.bucket, fiscal);
    const to = toStart === rawTo ? rawTo : shiftBucket(toStart, d.bucket, 1);
    if (to <= from)
      throw new AppError(400, 'invalid_parameters', 'The date range is empty: "to" must be after "from"', [
        { path: at + '/range', code: 'empty_range', message: 'empty range' },
      ]);
    range = { from, to };
  }
  return {
    doc: d,
    name: dimensionName(d),
    label: text(d.label, run.lang) ?? text(field?.doc.label, run.lang) ?? column.field,
    alias: `d${i}`,
    column,
    bucket: d.bucket,
    options: dictionary
      ? (dictionary as DictionaryDoc).items.map((x) => ({ value: x.value, label: x.label[run.lang] }))
      : undefined,
    range,
    hasLabel: false,
    tree: Boolean(d.tree),
  };
}

export function measurePlan(source: Source, m: MeasureDoc, j: number, run: RunContext): MeasurePlan {
  if (m.over) {
    // Each record's value is the related records' aggregate (measureInputs); the groups add them up.
    const related = relatedSource(run, m.over.entity);
    const c = m.field ? related.column(m.field, pointer('measures', j, 'field')) : undefined;
    const count = (m.aggregate ?? 'count') !== 'sum';
    const what = (c && text(c.entity.field(c.field)?.doc.label, run.lang)) ?? m.over.entity;
    const fallback = `${m.aggregate ?? 'count'} ${what}`;
    return {
      doc: m,
      name: m.name,
      label: text(m.label, run.lang) ?? fallback,
      alias: `m${j}`,
      aggregate: 'sum',
      type: count ? 'integer' : 'number',
    };
  }
  const aggregate = m.derive ? undefined : (m.aggregate ?? 'count');
  let type = 'number';
  let fieldLabel: string | undefined;
  if (m.field) {
    const c = source.column(m.field, pointer('measures', j, 'field'))!;
    fieldLabel = text(c.entity.field(c.field)?.doc.label, run.lang);
    if ((aggregate === 'min' || aggregate === 'max') && c.kind !== 'integer' && c.kind !== 'number') type = c.kind;
  }
  if (aggregate === 'count' || aggregate === 'count_distinct') type = 'integer';
  if (m.derive === 'percent_of_total' || m.derive === 'growth_rate' || m.derive === 'yoy_growth_rate' || m.format === 'percent')
    type = 'percent';
  const fallback =
    aggregate === 'count' && !m.field
      ? run.lang === 'zh-CN'
        ? '记录数'
        : 'Count'
      : `${aggregate ?? m.derive} ${fieldLabel ?? m.of ?? ''}`.trim();
  return { doc: m, name: m.name, label: text(m.label, run.lang) ?? fallback, alias: `m${j}`, aggregate, type };
}

/** The SQL aggregate of a measure over the `v{j}` / `f{j}` columns of the relation grouped. */
export function aggregateSql(m: MeasurePlan, j: number, hasField: boolean, hasFilter: boolean, countOf = sql`*`): SQL {
  const v = sql.raw(`v${j}`);
  const filter = hasFilter ? sql` filter (where ${sql.raw(`f${j}`)})` : sql``;
  switch (m.aggregate) {
    case 'count':
      return sql`count(${hasField ? v : countOf})${filter}::float8`;
    case 'count_distinct':
      return sql`count(distinct ${v})${filter}::float8`;
    case 'sum':
      return sql`sum(${v})${filter}::float8`;
    case 'avg':
      return sql`avg(${v})${filter}::float8`;
    case 'min':
    case 'max': {
      const agg = sql`${sql.raw(m.aggregate)}(${v})${filter}`;
      if (m.type === 'date') return sql`to_char(${agg}, 'YYYY-MM-DD')`;
      if (m.type === 'datetime') return sql`to_char(${agg} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
      return m.type === 'text' || m.type === 'uuid' ? agg : sql`${agg}::float8`;
    }
    default:
      return sql`null`;
  }
}

/** The base relation's measure inputs: `v{j}` (the field) and `f{j}` (the condition), for aggregate measures. */
export function measureInputs(
  source: Source,
  doc: ReportDoc,
  run: RunContext,
): { select: SQL[]; has: { field: boolean; filter: boolean }[] } {
  const select: SQL[] = [];
  const has = (doc.measures ?? []).map((m, j) => {
    if (m.derive) return { field: false, filter: false };
    if (m.over) select.push(sql`${relatedAggregate(source, m, j, run)} as ${sql.raw(`v${j}`)}`);
    else if (m.field) select.push(sql`${source.column(m.field, pointer('measures', j, 'field'))!.sql} as ${sql.raw(`v${j}`)}`);
    if (m.filter !== undefined)
      select.push(
        sql`coalesce(${compileCondition(run, m.filter, pointer('measures', j, 'filter'))}, false) as ${sql.raw(`f${j}`)}`,
      );
    return { field: Boolean(m.field || m.over), filter: m.filter !== undefined };
  });
  return { select, has };
}

/** The viewer's source over a measure's related entity: its scope (403 when not readable at all), readable fields. */
function relatedSource(run: RunContext, entity: string): Source {
  const related = run.model.entity(entity);
  if (!related) throw new AppError(400, 'unknown_entity', `Entity "${entity}" does not exist`);
  return new AggregateSource(run.model, run.guard, related, run.lang, 'read');
}

/**
 * One record's value of a measure over related records: a correlated sub-select over the related
 * entity's live records in the viewer's scope that point at the record (through `via`) and match
 * `where` — count, distinct count or sum (0 over none, so that a record without any adds nothing).
 */
function relatedAggregate(source: Source, m: MeasureDoc, j: number, run: RunContext): SQL {
  const over = m.over!;
  const related = relatedSource(run, over.entity);
  const at = pointer('measures', j, 'over');
  const scope = related.scope();
  const via = related.column(over.via, at + '/via')!;
  const value = m.field ? related.column(m.field, pointer('measures', j, 'field'))!.sql : undefined;
  const where = [related.live(), sql`${via.sql} = ${columnRef(source.root, 'id')}`];
  if (scope) where.push(scope);
  if (over.where !== undefined)
    where.push(
      compileFilter(datesAsInstants(over.where, { ...run, source: related }), sourceScope(related, run.context, at + '/where')),
    );
  const agg =
    m.aggregate === 'sum'
      ? sql`sum(${value})`
      : m.aggregate === 'count_distinct'
        ? sql`count(distinct ${value})`
        : sql`count(${value ?? sql`*`})`;
  return sql`(select coalesce(${agg}, 0) ${related.from()} where ${sql.join(where, sql` and `)})`;
}

export function compileSummary(doc: ReportDoc, run: RunContext): SummaryPlan {
  const source = run.source;
  const scope = source.scope();
  const tz = doc.timeZone ?? 'UTC';
  const fiscal = doc.fiscalYearStartMonth ?? 1;
  const shape = doc.shape === 'matrix' ? 'matrix' : 'summary';
  const dims = (doc.dimensions ?? []).map((d, i) => dimensionPlan(source, d, i, pointer('dimensions', i), run, doc));
  const pivot = doc.pivot ? dimensionPlan(source, doc.pivot, dims.length, '/pivot', run, doc) : undefined;
  const all = pivot ? [...dims, pivot] : dims;
  const measures = (doc.measures ?? []).map((m, j) => measurePlan(source, m, j, run));

  // The time dimension: the bucketed pivot, else the last bucketed row dimension.
  let time: number | undefined;
  all.forEach((d, i) => {
    if (d.bucket) time = i;
  });
  const derivations = new Set(measures.map((m) => m.doc.derive).filter(Boolean));
  const timeDim = time === undefined ? undefined : all[time];
  let readFrom: string | undefined;
  if (timeDim?.range && timeDim.bucket) {
    readFrom = timeDim.range.from;
    if (derivations.has('previous') || derivations.has('growth') || derivations.has('ratio') || derivations.has('growth_rate'))
      readFrom = shiftBucket(timeDim.range.from, timeDim.bucket, -1);
    if (derivations.has('same_period_last_year') || derivations.has('yoy_growth_rate')) {
      const back = yearEarlier(timeDim.range.from, timeDim.bucket);
      if (back < readFrom) readFrom = back;
    }
  }

  // ── base: one row per record ──
  const select: SQL[] = [];
  for (const d of all) {
    const expr = d.bucket ? truncSql(d.column, d.bucket, tz, fiscal) : d.column.sql;
    select.push(sql`${expr} as ${sql.raw(d.alias)}`);
    const label = !d.tree && !d.bucket ? source.label(d.doc.field, d.column) : undefined;
    if (label) {
      d.hasLabel = true;
      select.push(sql`${label} as ${sql.raw('l' + d.alias.slice(1))}`);
    }
  }
  const inputs = measureInputs(source, doc, run);
  select.push(...inputs.select);
  const where: SQL[] = [source.live()];
  if (scope) where.push(scope);
  const filter = doc.filter === undefined ? undefined : compileCondition(run, doc.filter, '/filter');
  if (filter) where.push(filter);
  for (const d of all) {
    if (d.range) where.push(rangeSql(d.column, d === timeDim && readFrom ? readFrom : d.range.from, d.range.to, tz));
  }
  const inFlag =
    timeDim?.range && readFrom && readFrom < timeDim.range.from
      ? sql`(${truncSql(timeDim.column, timeDim.bucket!, tz, fiscal)} >= ${timeDim.range.from}::timestamp)`
      : sql`true`;
  select.push(sql`${inFlag} as _in`);
  const ctes: SQL[] = [sql`base as (select ${sql.join(select, sql`, `)} ${source.from()} where ${sql.join(where, sql` and `)})`];

  let grouped = 'base';
  const tree = dims[0]?.tree ? dims[0] : undefined;
  let treeSql: { target: CompiledEntity; parent: string; title?: string } | undefined;
  const measureAggs = measures.map((m, j) => aggregateSql(m, j, inputs.has[j]!.field, inputs.has[j]!.filter));
  const baseColumns = [
    ...all.map((d) => d.alias),
    ...all.filter((d) => d.hasLabel).map((d) => 'l' + d.alias.slice(1)),
    ...inputs.has.flatMap((h, j) => [...(h.field ? [`v${j}`] : []), ...(h.filter ? [`f${j}`] : [])]),
    '_in',
  ];

  if (tree) {
    const target = run.model.entity(tree.column.to!)!;
    const parent = target.fields.find((f) => f.reference?.to === target.name)!.name;
    const tscope = run.guard.condition(target, 'read');
    const live = sql`${sql.raw(`${tableText(target)}."deleted_at"`)} is null${tscope ? sql` and (${tscope})` : sql``}`;
    const p = columnRef(target, parent);
    const id = columnRef(target, 'id');
    ctes.push(sql`up(node, anc) as (select ${id}, ${id} from ${sql.raw(tableText(target))} where ${live}
      union all select up.node, ${p} from up join ${sql.raw(tableText(target))} on ${id} = up.anc where ${p} is not null and ${live})`);
    const others = baseColumns.filter((c) => c !== 'd0').map((c) => sql.raw(`b.${c}`));
    ctes.push(sql`expanded as (select up.anc as d0, ${sql.join(others, sql`, `)} from base b left join up on up.node = b.d0)`);
    grouped = 'expanded';
    const title = target.titleField && run.guard.readable(target)(target.titleField) ? target.titleField : undefined;
    treeSql = { target, parent, title };
  }

  let top: SummaryPlan['top'];
  if (doc.top && dims.length) {
    const by = measures.findIndex((m) => m.name === doc.top!.by);
    top = { n: doc.top.n, others: doc.top.others !== false };
    ctes.push(
      sql`ranked as (select d0, row_number() over (order by ${measureAggs[by]} desc nulls last, d0 asc nulls last) as rk from base where _in group by d0)`,
    );
    const rest = baseColumns.filter((c) => c !== 'd0').map((c) => sql.raw(`b.${c}`));
    const rank = sql`coalesce(r.rk, (select rk from ranked where d0 is null), ${top.n + 1}::bigint)`;
    ctes.push(sql`topped as (select case when ${rank} <= ${top.n}::int then b.d0 end as d0, ${rank} > ${top.n}::int as _other, ${sql.join(rest, sql`, `)}
      from base b left join ranked r on r.d0 = b.d0)`);
    grouped = 'topped';
  }

  // ── grouping sets ──
  const setsOf = (names: string[][]) => sql.raw(names.map((s) => `(${['_in', ...s].join(', ')})`).join(', '));
  const aliases = all.map((d) => d.alias);
  const withOther = (s: string[]) => (top && s.includes('d0') ? [...s, '_other'] : s);
  let sets: string[][];
  if (shape === 'matrix') {
    const rows = dims.map((d) => d.alias);
    sets = [[...rows, pivot!.alias], rows, [pivot!.alias], []];
    if (!rows.length) sets = [[pivot!.alias], []];
  } else {
    sets = [];
    for (let k = dims.length; k >= 0; k--) sets.push(aliases.slice(0, k));
  }
  if (tree) sets = sets.filter((s) => s.includes('d0'));
  const rollup = !tree && measures.every(ADDS_UP);
  if (rollup) sets = sets.slice(0, 1);
  const labelCols = all.filter((d) => d.hasLabel).map((d) => sql.raw(`max(l${d.alias.slice(1)}) as l${d.alias.slice(1)}`));
  const groupSelect = [
    ...all.map(outSql),
    ...labelCols,
    ...measureAggs.map((a, j) => sql`${a} as ${sql.raw(`m${j}`)}`),
    // An average's parts, so that subtotals can be averaged in Node.
    ...(rollup
      ? measures.flatMap((m, j) =>
          m.aggregate === 'avg'
            ? [
                sql`${aggregateSql({ ...m, aggregate: 'sum' }, j, true, inputs.has[j]!.filter)} as ${sql.raw(`s${j}`)}`,
                sql`${aggregateSql({ ...m, aggregate: 'count' }, j, true, inputs.has[j]!.filter)} as ${sql.raw(`c${j}`)}`,
              ]
            : [],
        )
      : []),
    sql.raw(`grouping(${aliases.length ? aliases.join(', ') : '_in'}) as _g`),
    sql.raw('_in'),
    sql.raw(top ? '_other' : 'false as _other'),
  ];
  let body = sql`select ${sql.join(groupSelect, sql`, `)} from ${sql.raw(grouped)} group by grouping sets (${setsOf(sets.map(withOther))})`;
  if (tree) {
    // The grand total counts each record once: from base, not from the rows copied to every ancestor.
    const full = (1 << aliases.length) - 1;
    const totalSelect = [
      ...aliases.map((a) => sql.raw(`null as ${a}`)),
      ...all.filter((d) => d.hasLabel).map((d) => sql.raw(`null as l${d.alias.slice(1)}`)),
      ...measureAggs.map((a, j) => sql`${a} as ${sql.raw(`m${j}`)}`),
      sql.raw(`${full} as _g`),
      sql.raw('_in'),
      sql.raw('false as _other'),
    ];
    body = sql`${body} union all select ${sql.join(totalSelect, sql`, `)} from base group by _in`;
    const t = treeSql!;
    const tt = sql.raw(tableText(t.target));
    const extra = [
      sql`(select ${columnRef(t.target, t.parent)} from ${tt} where ${columnRef(t.target, 'id')} = g.d0) as _parent`,
      sql`(select count(*)::int - 1 from up where up.node = g.d0) as _depth`,
      sql`(select array_agg(up.node::text) from up where up.anc = g.d0) as _subtree`,
      t.title
        ? sql`(select ${columnRef(t.target, t.title)} from ${tt} where ${columnRef(t.target, 'id')} = g.d0) as l0`
        : sql`null as l0`,
    ];
    tree.hasLabel = true;
    body = sql`select g.*, ${sql.join(extra, sql`, `)} from (${body}) g`;
  }
  const statement = sql`with recursive ${sql.join(ctes, sql`, `)} ${body} limit ${MAX_GROUPS + 1}`;
  return {
    doc,
    shape,
    sql: statement,
    dims,
    pivot,
    measures,
    time,
    timeZone: tz,
    fiscalStart: fiscal,
    shownFrom: readFrom && timeDim?.range && readFrom < timeDim.range.from ? timeDim.range.from : undefined,
    top,
    filter: doc.filter === undefined ? undefined : bindParams(doc.filter, run),
    rollup,
  };
}
