/**
 * From the grouped rows of a summary or matrix statement to the answer: empty periods filled, derived
 * measures computed along the time dimension, periods read only for comparison dropped, groups in
 * their natural order (dictionary order, time, the department tree, or by a measure) with subtotals
 * after their members, labels in the viewer's language, and for every group the json-logic filter that
 * selects its records (drill-down). These steps work on the few aggregated rows, never on records.
 */
import { AppError } from '../errors.js';
import { bucketLabel, bucketSeries, shiftBucket, yearEarlier, zonedMidnight } from './dates.js';
import { MAX_GROUPS, type DimPlan, type Lang, type MeasurePlan, type SummaryPlan } from './compile.js';

export interface ReportColumn {
  name: string;
  label: string;
  type: string;
  role: 'dimension' | 'measure';
  bucket?: string;
  options?: { value: string; label: string }[];
  /** matrix: the pivot value this column holds, its label and the json-logic filter of its records. */
  pivot?: { value: unknown; label: string; filter: unknown };
  measure?: string;
}
export interface ReportData {
  columns: ReportColumn[];
  rows: Record<string, unknown>[];
  totals: Record<string, unknown>;
}

interface Group {
  present: boolean[];
  values: unknown[];
  labels: (string | null)[];
  m: unknown[];
  /** rollup: an average's sum and count, to add up. */
  parts?: { s: number; c: number }[];
  in: boolean;
  other: boolean;
  parent?: string | null;
  depth?: number;
  subtree?: string[];
}

const keyOf = (g: Pick<Group, 'present' | 'values' | 'other'>) =>
  JSON.stringify([g.present, g.other, g.values.map((v, i) => (g.present[i] ? v : null))]);
/** A measure over no records: counts are 0, everything else (sum, avg, min, max, derived) is null, as in SQL. */
const zeroOf = (m: MeasurePlan) => (m.aggregate === 'count' || m.aggregate === 'count_distinct' ? 0 : null);
const num = (v: unknown) => (typeof v === 'number' ? v : null);

export const emptyLabel = (lang: Lang) => (lang === 'zh-CN' ? '（空）' : '(empty)');
export const othersLabel = (lang: Lang) => (lang === 'zh-CN' ? '其他' : 'Others');

/** The display label of a dimension value. */
export function valueLabel(d: DimPlan, value: unknown, raw: string | null, plan: { fiscalStart: number }, lang: Lang): string {
  if (value === null || value === undefined) return emptyLabel(lang);
  if (d.bucket) return bucketLabel(String(value), d.bucket, plan.fiscalStart, lang);
  if (d.options) return d.options.find((o) => o.value === value)?.label ?? String(value);
  if (raw !== null && raw !== undefined) return raw;
  if (typeof value === 'boolean') return lang === 'zh-CN' ? (value ? '是' : '否') : value ? 'Yes' : 'No';
  return String(value);
}

/** json-logic selecting the records of one dimension value. */
export function dimensionFilter(
  d: DimPlan,
  value: unknown,
  plan: { fiscalStart: number; timeZone: string },
  extra?: { subtree?: string[]; topValues?: unknown[]; other?: boolean },
): unknown {
  const v = { var: d.doc.field };
  if (extra?.other) {
    const tops = extra.topValues ?? [];
    if (!d.bucket) return { '!': { in: [v, tops] } };
    return tops.length ? { '!': { or: tops.map((t) => dimensionFilter(d, t, plan)) } } : true;
  }
  if (d.tree && value !== null) return { in: [v, extra?.subtree ?? [value]] };
  if (value === null || value === undefined) return { '==': [v, null] };
  if (d.bucket) return between(d, String(value), shiftBucket(String(value), d.bucket, 1), plan.timeZone);
  return { '==': [v, value] };
}

function between(d: DimPlan, from: string, to: string, tz: string) {
  const v = { var: d.doc.field };
  const at = (x: string) => (d.column.kind === 'datetime' ? zonedMidnight(x, tz) : x);
  return { and: [{ '>=': [v, at(from)] }, { '<': [v, at(to)] }] };
}

/** `and` of conditions, nested ands flattened (a period is itself two conditions). */
const and = (parts: unknown[]) => {
  const flat = parts.flatMap((p) => (p && typeof p === 'object' && 'and' in p ? (p as { and: unknown[] }).and : [p]));
  return flat.length === 0 ? true : flat.length === 1 ? flat[0] : { and: flat };
};

/** Picklist values sort in dictionary order, periods in time, the rest by value; empty last. */
function compareValues(d: DimPlan, a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  if (d.options) {
    const ia = d.options.findIndex((o) => o.value === a);
    const ib = d.options.findIndex((o) => o.value === b);
    if (ia !== ib) return (ia < 0 ? Infinity : ia) - (ib < 0 ? Infinity : ib);
  }
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

export function shapeSummary(plan: SummaryPlan, raw: Record<string, unknown>[], lang: Lang): ReportData {
  if (raw.length > MAX_GROUPS) throw tooMany(lang);
  const all = plan.pivot ? [...plan.dims, plan.pivot] : plan.dims;
  const n = all.length;
  let groups: Group[] = raw.map((r) => {
    const g = Number(r._g);
    const present = all.map((_, i) => !((g >> (n - 1 - i)) & 1));
    return {
      present,
      values: all.map((d, i) => (present[i] ? (r[d.alias] ?? null) : null)),
      labels: all.map((d, i) => (present[i] && d.hasLabel ? ((r['l' + d.alias.slice(1)] as string | null) ?? null) : null)),
      m: plan.measures.map((_, j) => r[`m${j}`] ?? null),
      parts: plan.rollup ? plan.measures.map((_, j) => ({ s: Number(r[`s${j}`] ?? 0), c: Number(r[`c${j}`] ?? 0) })) : undefined,
      in: r._in !== false,
      other: r._other === true,
      parent: (r._parent as string | null | undefined) ?? undefined,
      depth: r._depth === undefined || r._depth === null ? undefined : Number(r._depth),
      subtree: (r._subtree as string[] | null | undefined) ?? undefined,
    };
  });

  if (plan.rollup) groups = [...groups, ...rollUp(plan, groups, n)];

  // ── fill empty periods ──
  const t = plan.time;
  const td = t === undefined ? undefined : all[t];
  if (td?.bucket && td.doc.fill !== false) {
    const byMask = new Map<string, Group[]>();
    // A range shows all its periods even without records: the set of the time dimension alone (if grouped) starts empty.
    const alone = all.map((_, i) => i === t);
    const aloneIsSet = plan.shape === 'matrix' ? t === n - 1 : t === 0;
    if (td.range && aloneIsSet && !groups.some((g) => g.present.every((p, i) => p === alone[i]))) {
      byMask.set(JSON.stringify([alone, false]), [
        {
          present: alone,
          values: all.map(() => null),
          labels: all.map(() => null),
          m: plan.measures.map(zeroOf),
          in: false,
          other: false,
        },
      ]);
    }
    for (const g of groups)
      if (g.present[t!])
        byMask.set(JSON.stringify([g.present, g.other]), [...(byMask.get(JSON.stringify([g.present, g.other])) ?? []), g]);
    const seen = new Set(groups.map(keyOf));
    for (const members of byMask.values()) {
      let series: string[];
      if (td.range) series = bucketSeries(readStart(plan, td), td.range.to, td.bucket, plan.fiscalStart);
      else {
        const present = members
          .filter((g) => g.in && g.values[t!] !== null)
          .map((g) => String(g.values[t!]))
          .sort();
        series = present.length
          ? bucketSeries(present[0]!, shiftBucket(present[present.length - 1]!, td.bucket, 1), td.bucket, plan.fiscalStart)
          : [];
      }
      const partitions = new Map<string, Group>();
      for (const g of members) partitions.set(JSON.stringify(g.values.map((v, i) => (i === t ? null : v))), g);
      for (const exemplar of partitions.values()) {
        for (const b of series) {
          const filled: Group = {
            ...exemplar,
            values: exemplar.values.map((v, i) => (i === t ? b : v)),
            labels: [...exemplar.labels],
            m: plan.measures.map(zeroOf),
            in: !plan.shownFrom || b >= plan.shownFrom,
          };
          const key = keyOf(filled);
          if (seen.has(key)) continue;
          seen.add(key);
          groups.push(filled);
          if (groups.length > MAX_GROUPS) throw tooMany(lang);
        }
      }
    }
  }

  // ── derived measures ──
  const index = new Map(groups.map((g) => [keyOf(g), g]));
  const grand = groups.find((g) => g.in && !g.other && g.present.every((p) => !p));
  const at = (g: Group, value: unknown) => index.get(keyOf({ ...g, values: g.values.map((v, i) => (i === t ? value : v)) }));
  plan.measures.forEach((m, j) => {
    const d = m.doc.derive;
    if (!d) return;
    const of = plan.measures.findIndex((x) => x.name === m.doc.of);
    const by = plan.measures.findIndex((x) => x.name === m.doc.by);
    if (d === 'running_total') {
      const parts = new Map<string, Group[]>();
      for (const g of groups) {
        if (t === undefined || !g.present[t] || !g.in) continue;
        const k = JSON.stringify([g.present, g.other, g.values.map((v, i) => (i === t ? null : v))]);
        parts.set(k, [...(parts.get(k) ?? []), g]);
      }
      for (const g of groups) g.m[j] = null;
      for (const members of parts.values()) {
        members.sort((a, b) => compareValues(td!, a.values[t!], b.values[t!]));
        let sum = 0;
        for (const g of members) g.m[j] = sum += num(g.m[of]) ?? 0;
      }
      return;
    }
    for (const g of groups) {
      const cur = num(g.m[of]);
      const timed = t !== undefined && g.present[t] && g.values[t] !== null;
      const back = (which: 'previous' | 'year') => {
        if (!timed) return null;
        const start = String(g.values[t!]);
        const other = at(g, which === 'previous' ? shiftBucket(start, td!.bucket!, -1) : yearEarlier(start, td!.bucket!));
        // A period with no group had no records (everything before a range's start was read for this).
        return other ? num(other.m[of]) : zeroOf(plan.measures[of]!);
      };
      switch (d) {
        case 'percent_of_total': {
          const total = grand ? num(grand.m[of]) : null;
          g.m[j] = cur === null || !total ? null : cur / total;
          break;
        }
        case 'divide': {
          const div = num(g.m[by]);
          g.m[j] = cur === null || !div ? null : cur / div;
          break;
        }
        case 'previous':
          g.m[j] = back('previous');
          break;
        case 'same_period_last_year':
          g.m[j] = back('year');
          break;
        case 'growth': {
          const prev = back('previous');
          g.m[j] = !timed || (cur === null && prev === null) ? null : (cur ?? 0) - (prev ?? 0);
          break;
        }
        case 'ratio': {
          const prev = back('previous');
          g.m[j] = !prev ? null : (cur ?? 0) / prev;
          break;
        }
        case 'growth_rate':
        case 'yoy_growth_rate': {
          const prev = back(d === 'growth_rate' ? 'previous' : 'year');
          g.m[j] = !prev ? null : ((cur ?? 0) - prev) / prev;
          break;
        }
      }
    }
  });
  groups = groups.filter((g) => g.in);

  // ── order ──
  const dimsN = plan.dims.length;
  const topValues = plan.top ? [...new Set(groups.filter((g) => g.present[0] && !g.other).map((g) => g.values[0]))] : [];
  const sortBy = (plan.doc.sort ?? []).map((s) => ({
    j: plan.measures.findIndex((m) => m.name === s.by),
    desc: Boolean(s.desc),
  }));
  const topBy = plan.top ? plan.measures.findIndex((m) => m.name === plan.doc.top!.by) : -1;
  const preorder = plan.dims[0]?.tree ? treeOrder(groups) : undefined;
  const prefixRow = (g: Group, level: number) =>
    index.get(
      keyOf({ present: all.map((_, i) => i < level), other: g.other, values: g.values.map((v, i) => (i < level ? v : null)) }),
    );
  const compare = (a: Group, b: Group): number => {
    for (let i = 0; i < dimsN; i++) {
      const pa = a.present[i];
      const pb = b.present[i];
      if (!pa && !pb) break;
      if (!pa) return 1;
      if (!pb) return -1;
      if (i === 0 && plan.top && a.other !== b.other) return a.other ? 1 : -1;
      if (a.values[i] === b.values[i]) continue;
      if (i === 0 && preorder)
        return (preorder.get(String(a.values[0])) ?? Infinity) - (preorder.get(String(b.values[0])) ?? Infinity);
      const ra = prefixRow(a, i + 1);
      const rb = prefixRow(b, i + 1);
      const keys = i === 0 && topBy >= 0 ? [{ j: topBy, desc: true }, ...sortBy] : sortBy;
      for (const k of keys) {
        const va = num(ra?.m[k.j]);
        const vb = num(rb?.m[k.j]);
        if (va !== vb) return va === null ? 1 : vb === null ? -1 : k.desc ? vb - va : va - vb;
      }
      return compareValues(all[i]!, a.values[i], b.values[i]);
    }
    return 0;
  };

  const labelsOf = (g: Group) =>
    Object.fromEntries(
      all.flatMap((d, i) =>
        g.present[i]
          ? [[d.name, g.other && i === 0 ? othersLabel(lang) : valueLabel(d, g.values[i], g.labels[i], plan, lang)]]
          : [],
      ),
    );
  const rangeParts = all.filter((d) => d.range).map((d) => between(d, d.range!.from, d.range!.to, plan.timeZone));
  const filterOf = (g: Group, upto: number) =>
    and([
      ...(plan.filter === undefined ? [] : [plan.filter]),
      ...rangeParts,
      ...all
        .slice(0, upto)
        .flatMap((d, i) =>
          g.present[i]
            ? [dimensionFilter(d, g.values[i], plan, { subtree: g.subtree, other: i === 0 && g.other, topValues })]
            : [],
        ),
    ]);
  const measuresOf = (g: Group, suffix = '') => Object.fromEntries(plan.measures.map((m, j) => [m.name + suffix, g.m[j]]));

  const dimColumns = plan.dims.map((d) => dimColumn(d));
  const measureColumns = plan.measures.map((m) => ({
    name: m.name,
    label: m.label,
    type: m.type,
    role: 'measure' as const,
    measure: m.name,
  }));
  const grandTotals = grand ? measuresOf(grand) : Object.fromEntries(plan.measures.map((m) => [m.name, zeroOf(m)]));

  if (plan.shape === 'summary') {
    const rows = groups
      .filter((g) => g.present.some(Boolean) || dimsN === 0)
      .sort(compare)
      .map((g) => {
        const level = g.present.filter(Boolean).length;
        const row: Record<string, unknown> = {};
        plan.dims.forEach((d, i) => g.present[i] && (row[d.name] = g.values[i]));
        Object.assign(row, measuresOf(g));
        row._level = level;
        if (level < dimsN) row._subtotal = true;
        if (g.other) row._others = true;
        if (plan.dims[0]?.tree && g.present[0]) Object.assign(row, { _parent: g.parent ?? null, _depth: g.depth ?? 0 });
        row._labels = labelsOf(g);
        row._filter = filterOf(g, dimsN);
        return row;
      });
    return { columns: [...dimColumns, ...measureColumns], rows, totals: grandTotals };
  }

  // ── matrix ──
  const p = dimsN; // the pivot's index
  const pivot = plan.pivot!;
  const pivotValues: unknown[] = [];
  const seenPivot = new Set<string>();
  for (const g of groups) {
    if (!g.present[p]) continue;
    const k = JSON.stringify(g.values[p]);
    if (seenPivot.has(k)) continue;
    seenPivot.add(k);
    pivotValues.push(g.values[p]);
  }
  pivotValues.sort((a, b) => compareValues(pivot, a, b));
  const pivotIndex = new Map(pivotValues.map((v, i) => [JSON.stringify(v), i]));
  const pivotColumns: ReportColumn[] = pivotValues.flatMap((v, i) => {
    const label = valueLabel(pivot, v, null, plan, lang);
    return plan.measures.map((m) => ({
      name: `${m.name}__${i}`,
      label: plan.measures.length > 1 ? `${label} · ${m.label}` : label,
      type: m.type,
      role: 'measure' as const,
      measure: m.name,
      pivot: { value: v, label, filter: dimensionFilter(pivot, v, plan) },
    }));
  });
  const rowKey = (g: Group) => JSON.stringify([g.other, g.values.slice(0, dimsN)]);
  const rows = new Map<string, { group?: Group; row: Record<string, unknown> }>();
  const totals: Record<string, unknown> = { ...grandTotals };
  for (const g of groups) {
    const rowsPresent = dimsN > 0 && g.present.slice(0, dimsN).every(Boolean);
    if (!rowsPresent) {
      if (dimsN > 0 && g.present.slice(0, dimsN).some(Boolean)) continue;
      if (g.present[p]) Object.assign(totals, measuresOf(g, `__${pivotIndex.get(JSON.stringify(g.values[p]))}`));
      continue;
    }
    const k = rowKey(g);
    let entry = rows.get(k);
    if (!entry) rows.set(k, (entry = { row: {} }));
    if (g.present[p]) Object.assign(entry.row, measuresOf(g, `__${pivotIndex.get(JSON.stringify(g.values[p]))}`));
    else {
      entry.group = g;
      Object.assign(entry.row, measuresOf(g));
    }
  }
  const out = [...rows.values()]
    .filter((e) => e.group)
    .sort((a, b) => compare(a.group!, b.group!))
    .map(({ group, row }) => {
      const r: Record<string, unknown> = {};
      plan.dims.forEach((d, i) => (r[d.name] = group!.values[i]));
      for (const c of pivotColumns) if (!(c.name in row)) row[c.name] = zeroOf(plan.measures.find((m) => m.name === c.measure)!);
      Object.assign(r, row);
      if (group!.other) r._others = true;
      r._labels = labelsOf(group!);
      r._filter = filterOf(group!, dimsN);
      return r;
    });
  for (const c of pivotColumns)
    if (!(c.name in totals)) totals[c.name] = zeroOf(plan.measures.find((m) => m.name === c.measure)!);
  const totalColumns = measureColumns.map((c) => ({
    ...c,
    label: plan.measures.length > 1 ? `${lang === 'zh-CN' ? '合计' : 'Total'} · ${c.label}` : lang === 'zh-CN' ? '合计' : 'Total',
  }));
  return { columns: [...dimColumns, ...pivotColumns, ...totalColumns], rows: out, totals };
}

/** The subtotal and total groups of a plan whose statement grouped only the finest level. */
function rollUp(plan: SummaryPlan, finest: Group[], n: number): Group[] {
  const masks: boolean[][] = [];
  const all = (k: number) => Array.from({ length: n }, (_, i) => i < k);
  if (plan.shape === 'matrix') {
    const rows = plan.dims.length;
    if (rows)
      masks.push(
        all(rows),
        Array.from({ length: n }, (_, i) => i === n - 1),
      );
    masks.push(all(0));
  } else for (let k = n - 1; k >= 0; k--) masks.push(all(k));
  const out: Group[] = [];
  for (const present of masks) {
    const byKey = new Map<string, Group>();
    for (const g of finest) {
      const other = g.other && present[0]!;
      const values = g.values.map((v, i) => (present[i] ? v : null));
      const key = JSON.stringify([g.in, other, values]);
      let into = byKey.get(key);
      if (!into) {
        byKey.set(
          key,
          (into = {
            present,
            values,
            labels: g.labels.map((l, i) => (present[i] ? l : null)),
            m: plan.measures.map(() => null),
            parts: plan.measures.map(() => ({ s: 0, c: 0 })),
            in: g.in,
            other,
          }),
        );
      }
      plan.measures.forEach((m, j) => {
        const a = into!.m[j] as number | string | null;
        const b = g.m[j] as number | string | null;
        if (m.aggregate === 'avg') {
          into!.parts![j]!.s += g.parts![j]!.s;
          into!.parts![j]!.c += g.parts![j]!.c;
          into!.m[j] = into!.parts![j]!.c ? into!.parts![j]!.s / into!.parts![j]!.c : null;
        } else if (b === null) into!.m[j] = a;
        else if (a === null) into!.m[j] = b;
        // biome-ignore lint/complexity/useMathMinMax: values may be text or dates, which Math.min would turn into NaN
        else if (m.aggregate === 'min') into!.m[j] = b < a ? b : a;
        // biome-ignore lint/complexity/useMathMinMax: values may be text or dates, which Math.max would turn into NaN
        else if (m.aggregate === 'max') into!.m[j] = b > a ? b : a;
        else if (m.aggregate) into!.m[j] = (a as number) + (b as number);
      });
    }
    out.push(...byKey.values());
  }
  return out;
}

function readStart(plan: SummaryPlan, d: DimPlan) {
  return plan.shownFrom && d === (plan.pivot ?? plan.dims[plan.time!]) ? earliest(plan, d) : d.range!.from;
}
/** The first period read: the shown range's start, moved back for comparisons. */
function earliest(plan: SummaryPlan, d: DimPlan) {
  const derives = new Set(plan.measures.map((m) => m.doc.derive));
  let from = d.range!.from;
  if (derives.has('previous') || derives.has('growth') || derives.has('ratio') || derives.has('growth_rate'))
    from = shiftBucket(d.range!.from, d.bucket!, -1);
  if (derives.has('same_period_last_year') || derives.has('yoy_growth_rate')) {
    const y = yearEarlier(d.range!.from, d.bucket!);
    if (y < from) from = y;
  }
  return from;
}

/** Pre-order of a tree's nodes (parents before children, siblings by label). */
function treeOrder(groups: Group[]): Map<string, number> {
  const nodes = groups.filter((g) => g.present[0] && g.values[0] !== null);
  const ids = new Set(nodes.map((g) => String(g.values[0])));
  const children = new Map<string, Group[]>();
  const roots: Group[] = [];
  const seen = new Set<string>();
  for (const g of nodes) {
    const id = String(g.values[0]);
    if (seen.has(id)) continue;
    seen.add(id);
    if (g.parent && ids.has(g.parent)) children.set(g.parent, [...(children.get(g.parent) ?? []), g]);
    else roots.push(g);
  }
  const order = new Map<string, number>();
  const byLabel = (a: Group, b: Group) => String(a.labels[0] ?? '').localeCompare(String(b.labels[0] ?? ''));
  const visit = (g: Group) => {
    order.set(String(g.values[0]), order.size);
    for (const c of (children.get(String(g.values[0])) ?? []).sort(byLabel)) visit(c);
  };
  roots.sort(byLabel).forEach(visit);
  return order;
}

export function dimColumn(d: DimPlan): ReportColumn {
  const type = d.bucket ? 'period' : d.tree ? 'reference' : d.options ? 'picklist' : d.column.to ? 'reference' : d.column.kind;
  return {
    name: d.name,
    label: d.label,
    type,
    role: 'dimension',
    ...(d.bucket ? { bucket: d.bucket } : {}),
    ...(d.options ? { options: d.options } : {}),
  };
}

const tooMany = (lang: Lang) =>
  new AppError(
    422,
    'too_many_groups',
    lang === 'zh-CN'
      ? `报表分组超过 ${MAX_GROUPS} 个；请缩小范围或使用 Top-N`
      : `The report has more than ${MAX_GROUPS} groups; narrow it or use top`,
  );
