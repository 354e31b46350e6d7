/**
 * How a report's answer becomes a dashboard chart (runtime-ui/src/dashboard/chart-options.ts): the
 * category axis, the series (matrix pivots, a second dimension, or measures), subtotals left out, and
 * every point keeping the json-logic of its records for the drill-down.
 */
import { describe, expect, it } from 'vitest';
import { chartOption, shape, type ReportData } from '../../runtime-ui/src/dashboard/chart-options.js';

const stage = { name: 'stage', label: 'Stage', type: 'picklist', role: 'dimension' as const };
const f = (v: string) => ({ '==': [{ var: 'stage' }, v] });

describe('report → chart', () => {
  it('one series per measure, categories from the labels, filters on the points', () => {
    const data: ReportData = {
      columns: [
        stage,
        { name: 'n', label: 'Deals', type: 'integer', role: 'measure' },
        { name: 'sum', label: 'Amount', type: 'number', role: 'measure' },
      ],
      rows: [
        { stage: 'a', n: 2, sum: 10, _labels: { stage: 'A' }, _filter: f('a') },
        { stage: 'b', n: 0, sum: null, _labels: { stage: 'B' }, _filter: f('b') },
      ],
      totals: { n: 2, sum: 10 },
    };
    const s = shape(data, ['n', 'sum']);
    expect(s.categories).toEqual(['A', 'B']);
    expect(s.series.map((x) => x.name)).toEqual(['Deals', 'Amount']);
    expect(s.series[1]!.points).toEqual([
      { value: 10, filter: f('a') },
      { value: null, filter: f('b') },
    ]);
    // without measures: the first one
    expect(shape(data, undefined).series.map((x) => x.name)).toEqual(['Deals']);
  });

  it('a matrix: a series per pivot column; a cell drills into the row AND the column', () => {
    const month = (v: string) => ({ '>=': [{ var: 'close' }, v] });
    const data: ReportData = {
      columns: [
        stage,
        {
          name: 'n__0',
          label: '2026-11 · Deals',
          type: 'integer',
          role: 'measure',
          measure: 'n',
          pivot: { value: '2026-11-01', label: '2026-11', filter: month('2026-11-01') },
        },
        {
          name: 'n__1',
          label: '2026-12 · Deals',
          type: 'integer',
          role: 'measure',
          measure: 'n',
          pivot: { value: '2026-12-01', label: '2026-12', filter: month('2026-12-01') },
        },
        { name: 'n', label: 'Deals', type: 'integer', role: 'measure', measure: 'n' },
      ],
      rows: [{ stage: 'a', n__0: 1, n__1: 2, n: 3, _labels: { stage: 'A' }, _filter: f('a') }],
      totals: {},
    };
    const s = shape(data, ['n']);
    expect(s.series.map((x) => x.name)).toEqual(['2026-11', '2026-12']);
    expect(s.series[1]!.points[0]).toEqual({ value: 2, filter: { and: [f('a'), month('2026-12-01')] } });
    const option = chartOption('stacked_bar', data, { measures: ['n'] }, 'en') as any;
    expect(option.series.map((x: any) => x.stack)).toEqual(['total', 'total']);
  });

  it('two dimensions: the second becomes the series; subtotal rows stay out', () => {
    const owner = { name: 'owner', label: 'Rep', type: 'reference', role: 'dimension' as const };
    const month = { name: 'month', label: 'Month', type: 'period', role: 'dimension' as const };
    const data: ReportData = {
      columns: [owner, month, { name: 'amount', label: 'Sales', type: 'number', role: 'measure' }],
      rows: [
        {
          owner: 'u1',
          month: '2026-01-01',
          amount: 5,
          _level: 2,
          _labels: { owner: 'Li', month: '2026-01' },
          _filter: { u: 1, m: 1 },
        },
        {
          owner: 'u1',
          month: '2026-02-01',
          amount: 7,
          _level: 2,
          _labels: { owner: 'Li', month: '2026-02' },
          _filter: { u: 1, m: 2 },
        },
        { owner: 'u1', amount: 12, _level: 1, _subtotal: true, _labels: { owner: 'Li' } },
        {
          owner: 'u2',
          month: '2026-02-01',
          amount: 1,
          _level: 2,
          _labels: { owner: 'Wang', month: '2026-02' },
          _filter: { u: 2, m: 2 },
        },
      ],
      totals: { amount: 13 },
    };
    const s = shape(data, ['amount']);
    expect(s.categories).toEqual(['Li', 'Wang']);
    expect(s.series.map((x) => x.name)).toEqual(['2026-01', '2026-02']);
    expect(s.series[0]!.points).toEqual([
      { value: 5, filter: { u: 1, m: 1 } },
      { value: null, filter: undefined },
    ]);
    expect(s.series[1]!.points.map((p) => p.value)).toEqual([7, 1]);
  });

  it('pie and funnel points carry their names; a gauge shows the total of its measure', () => {
    const data: ReportData = {
      columns: [stage, { name: 'n', label: 'Deals', type: 'integer', role: 'measure' }],
      rows: [
        { stage: 'a', n: 4, _labels: { stage: 'A' }, _filter: f('a') },
        { stage: 'b', n: 0, _labels: { stage: 'B' }, _filter: f('b') },
      ],
      totals: { n: 4 },
    };
    const pie = chartOption('pie', data, { measures: ['n'] }, 'zh-CN') as any;
    expect(pie.series[0].data).toEqual([{ value: 4, name: 'A', filter: f('a') }]); // empty slices left out
    // Each slice is labelled with its name and whole-percent share, the labels running to the card's edges.
    expect(pie.series[0]).toMatchObject({ percentPrecision: 0, label: { formatter: '{b} {d}%', alignTo: 'edge' } });
    const funnel = chartOption('funnel', data, { measures: ['n'] }, 'zh-CN') as any;
    expect(funnel.series[0].data.map((p: any) => p.name)).toEqual(['A', 'B']);
    const gauge = chartOption('gauge', data, { measure: 'n', max: 10 }, 'en') as any;
    expect(gauge.series[0]).toMatchObject({ type: 'gauge', max: 10, data: [{ value: 4 }] });
  });
});
