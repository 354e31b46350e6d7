/**
 * A report's answer ({ columns, rows, totals }: engine/reports) as an ECharts option for a dashboard
 * widget. Every data point keeps the json-logic filter of its records (the row's `_filter`, and for a
 * matrix cell also its pivot column's), so a click on a bar, slice or funnel step can open the list of
 * exactly those records. Pure: no ECharts import, so the page can shape data before the chart loads.
 */
import type { Lang } from '../lang';

export interface ReportColumn {
  name: string;
  label: string;
  type: string;
  role: 'dimension' | 'measure';
  measure?: string;
  pivot?: { value: unknown; label: string; filter?: unknown };
}
export interface ReportData {
  report?: { name: string; label: string; shape: string; entity?: string };
  columns: ReportColumn[];
  rows: Record<string, any>[];
  totals: Record<string, any>;
}
export type ChartKind = 'bar' | 'stacked_bar' | 'line' | 'pie' | 'funnel' | 'gauge';

/** A data point: its value and the records behind it. */
export interface Point {
  value: number | null;
  name?: string;
  filter?: unknown;
}

const and = (...parts: unknown[]) => {
  const real = parts.filter((p) => p !== undefined && p !== null);
  return real.length === 0 ? undefined : real.length === 1 ? real[0] : { and: real };
};

/** "1.2亿" / "1.2M": axis labels stay short in both languages. */
export const compact = (lang: Lang, n: number) => new Intl.NumberFormat(lang, { notation: 'compact', maximumFractionDigits: 1 }).format(n);
export function formatValue(lang: Lang, type: string | undefined, n: number | null | undefined): string {
  if (n === null || n === undefined || Number.isNaN(n)) return '—';
  if (type === 'percent') return new Intl.NumberFormat(lang, { style: 'percent', maximumFractionDigits: 1 }).format(n);
  if (type === 'integer') return new Intl.NumberFormat(lang).format(n);
  return new Intl.NumberFormat(lang, { maximumFractionDigits: 2 }).format(n);
}

/** The rows a chart draws: the finest level only (no subtotals). */
export function detailRows(data: ReportData): Record<string, any>[] {
  const dims = data.columns.filter((c) => c.role === 'dimension').length;
  return data.rows.filter((r) => !r._subtotal && (r._level === undefined || r._level === dims));
}

const labelOf = (row: Record<string, any>, dim: ReportColumn | undefined) =>
  dim ? String(row._labels?.[dim.name] ?? row[dim.name] ?? '—') : '';

export interface Series {
  name: string;
  type: string;
  points: Point[];
}
export interface Shaped {
  categories: string[];
  series: Series[];
  /** The measure's value type (percent, integer, number) for formatting. */
  valueType?: string;
}

/**
 * Categories and series: the first dimension along the axis; series from a matrix's pivot columns, or
 * from a second dimension, or else one per measure asked for.
 */
export function shape(data: ReportData, measures: string[] | undefined): Shaped {
  const dims = data.columns.filter((c) => c.role === 'dimension');
  const allMeasures = data.columns.filter((c) => c.role === 'measure');
  const wanted = measures?.length ? measures : [allMeasures[0]?.measure ?? allMeasures[0]?.name].filter(Boolean) as string[];
  const rows = detailRows(data);
  const first = dims[0];
  const categories = [...new Set(rows.map((r) => labelOf(r, first)))];
  const pivots = allMeasures.filter((c) => c.pivot && wanted.includes(c.measure ?? ''));
  const typeOf = (m: string) => allMeasures.find((c) => c.name === m || c.measure === m)?.type;
  if (pivots.length) {
    return {
      categories,
      valueType: typeOf(wanted[0]!),
      series: pivots.map((col) => ({
        name: wanted.length > 1 ? col.label : col.pivot!.label,
        type: col.type,
        points: rows.map((r) => ({ value: r[col.name] ?? null, filter: and(r._filter, col.pivot!.filter) })),
      })),
    };
  }
  if (dims.length >= 2) {
    const second = dims[1];
    const keys = [...new Set(rows.map((r) => labelOf(r, second)))];
    const m = wanted[0]!;
    return {
      categories,
      valueType: typeOf(m),
      series: keys.map((key) => ({
        name: key,
        type: typeOf(m) ?? 'number',
        points: categories.map((cat) => {
          const row = rows.find((r) => labelOf(r, first) === cat && labelOf(r, second) === key);
          return { value: row?.[m] ?? null, filter: row?._filter };
        }),
      })),
    };
  }
  return {
    categories,
    valueType: typeOf(wanted[0]!),
    series: wanted.map((m) => {
      const col = allMeasures.find((c) => c.name === m);
      return { name: col?.label ?? m, type: col?.type ?? 'number', points: rows.map((r) => ({ value: r[m] ?? null, filter: r._filter })) };
    }),
  };
}

/** The ECharts option of a widget. */
export function chartOption(
  kind: ChartKind,
  data: ReportData,
  { measures, measure, max }: { measures?: string[]; measure?: string; max?: number },
  lang: Lang,
): Record<string, unknown> {
  const s = shape(data, measures ?? (measure ? [measure] : undefined));
  const fmt = (v: number) => formatValue(lang, s.valueType, v);
  const tooltipValue = (v: unknown) => (typeof v === 'number' ? fmt(v) : '—');
  if (kind === 'pie' || kind === 'funnel') {
    const only = s.series[0];
    const points = (only?.points ?? []).map((p, i) => ({ ...p, name: s.categories[i] }));
    return {
      tooltip: { trigger: 'item', valueFormatter: tooltipValue },
      legend: kind === 'pie' ? { type: 'scroll', bottom: 0 } : undefined,
      series: [
        kind === 'pie'
          ? {
              type: 'pie',
              name: only?.name,
              radius: ['32%', '58%'],
              center: ['50%', '45%'],
              data: points.filter((p) => p.value),
              percentPrecision: 0,
              // Labels run to the card's edges (not cut at a fixed distance from the ring): a category's
              // name, and its share, stay whole in a narrow card.
              label: { formatter: '{b} {d}%', alignTo: 'edge', edgeDistance: 6, minMargin: 2 },
              labelLine: { length: 8, length2: 6 },
            }
          : { type: 'funnel', name: only?.name, sort: 'none', left: '10%', width: '80%', top: 8, bottom: 8, minSize: '8%', data: points,
              label: { position: 'inside', formatter: (p: any) => `${p.name} ${fmt(p.value)}` } },
      ],
    };
  }
  if (kind === 'gauge') {
    const m = measure ?? measures?.[0];
    const value = m ? (data.totals[m] ?? null) : null;
    return {
      series: [{ type: 'gauge', max: max ?? 100, progress: { show: true }, detail: { formatter: (v: number) => fmt(v), fontSize: 18 }, data: [{ value, name: s.series[0]?.name }] }],
    };
  }
  const stacked = kind === 'stacked_bar';
  return {
    tooltip: { trigger: 'axis', valueFormatter: tooltipValue },
    legend: s.series.length > 1 ? { type: 'scroll', top: 0 } : undefined,
    grid: { left: 8, right: 12, top: s.series.length > 1 ? 30 : 12, bottom: 8, containLabel: true },
    xAxis: { type: 'category', data: s.categories, axisLabel: { hideOverlap: true } },
    yAxis: { type: 'value', axisLabel: { formatter: (v: number) => (s.valueType === 'percent' ? fmt(v) : compact(lang, v)) } },
    series: s.series.map((x) => ({
      type: kind === 'line' ? 'line' : 'bar',
      name: x.name,
      stack: stacked ? 'total' : undefined,
      smooth: kind === 'line',
      data: x.points,
    })),
  };
}
