/**
 * Deploy checks of the report kind: each mistake refused with its code and the JSON pointer of the
 * offending part; nothing deployed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers, L, startEngine, type TestEngine } from '../support/engine.js';
import { testApp } from '../api/fixtures.js';

const base = { kind: 'report', name: 'r', label: L('R'), entity: 'deal' };
const CASES: [string, Record<string, unknown>, string, string][] = [
  ['unknown entity', { entity: 'nope' }, '/entity', 'unknown_entity'],
  ['unknown field', { dimensions: [{ field: 'nope' }], measures: [{ name: 'n' }] }, '/dimensions/0/field', 'unknown_field'],
  [
    'path through a non-reference',
    { dimensions: [{ field: 'title.name' }], measures: [{ name: 'n' }] },
    '/dimensions/0/field',
    'unknown_field',
  ],
  [
    'unknown field behind a reference',
    { dimensions: [{ field: 'account.nope' }], measures: [{ name: 'n' }] },
    '/dimensions/0/field',
    'unknown_field',
  ],
  [
    'bucket on text',
    { dimensions: [{ field: 'title', bucket: 'month' }], measures: [{ name: 'n' }] },
    '/dimensions/0/bucket',
    'invalid_bucket',
  ],
  ['sum of text', { measures: [{ name: 's', aggregate: 'sum', field: 'title' }] }, '/measures/0/field', 'invalid_measure'],
  ['sum without field', { measures: [{ name: 's', aggregate: 'sum' }] }, '/measures/0/field', 'required'],
  [
    'derived before its measure',
    { measures: [{ name: 'p', derive: 'percent_of_total', of: 'n' }, { name: 'n' }] },
    '/measures/0/of',
    'unknown_measure',
  ],
  [
    'time derivation without a bucket',
    { dimensions: [{ field: 'stage' }], measures: [{ name: 'n' }, { name: 'p', derive: 'previous', of: 'n' }] },
    '/measures/1/derive',
    'needs_time_dimension',
  ],
  [
    'unknown parameter in a filter',
    { filter: { '==': [{ var: 'stage' }, { var: '$params.stage' }] }, measures: [{ name: 'n' }] },
    '/filter/==/1/var',
    'unknown_parameter',
  ],
  [
    'unknown field in a filter path',
    { filter: { '==': [{ var: 'account.nope' }, 'x'] }, measures: [{ name: 'n' }] },
    '/filter/==/0/var',
    'unknown_field',
  ],
  [
    'bad default',
    { parameters: [{ name: 'from', type: 'date', label: L('From'), default: 'yesterday' }], measures: [{ name: 'n' }] },
    '/parameters/0/default',
    'invalid_default',
  ],
  [
    'range on a number parameter',
    {
      parameters: [{ name: 'n', type: 'number', label: L('N') }],
      dimensions: [{ field: 'close_date', bucket: 'month', range: { from: { var: '$params.n' }, to: '2027-01-01' } }],
      measures: [{ name: 'c' }],
    },
    '/dimensions/0/range/from/var',
    'invalid_parameter',
  ],
  [
    'matrix without pivot',
    { shape: 'matrix', dimensions: [{ field: 'stage' }], measures: [{ name: 'n' }] },
    '/pivot',
    'required',
  ],
  [
    'top by an unknown measure',
    { dimensions: [{ field: 'stage' }], measures: [{ name: 'n' }], top: { n: 3, by: 'x' } },
    '/top/by',
    'unknown_measure',
  ],
  [
    'top over periods',
    { dimensions: [{ field: 'close_date', bucket: 'month' }], measures: [{ name: 'n' }], top: { n: 3, by: 'n' } },
    '/top',
    'invalid_option',
  ],
  [
    'tree on a non-tree',
    { dimensions: [{ field: 'account', tree: true }], measures: [{ name: 'n' }] },
    '/dimensions/0/tree',
    'invalid_option',
  ],
  ['funnel on text', { shape: 'funnel', funnel: { field: 'title' } }, '/funnel/field', 'invalid_funnel'],
  [
    'funnel stage not in the dictionary',
    { shape: 'funnel', funnel: { field: 'stage', stages: ['new', 'gone'] } },
    '/funnel/stages/1',
    'unknown_stage',
  ],
  [
    'history without a workflow',
    { shape: 'funnel', funnel: { field: 'stage', mode: 'history' } },
    '/funnel/field',
    'invalid_funnel',
  ],
  [
    'funnel with an average',
    { shape: 'funnel', funnel: { field: 'stage' }, measures: [{ name: 'a', aggregate: 'avg', field: 'amount' }] },
    '/measures/0/aggregate',
    'invalid_measure',
  ],
  ['tabular without columns', { shape: 'tabular' }, '/columns', 'required'],
  ['duplicate names', { dimensions: [{ field: 'stage' }], measures: [{ name: 'stage' }] }, '/measures/0/name', 'duplicate_name'],
  ['unknown time zone', { timeZone: 'Mars/Olympus', measures: [{ name: 'n' }] }, '/timeZone', 'invalid_time_zone'],
  ['unknown role', { roles: ['nobody'], measures: [{ name: 'n' }] }, '/roles/0', 'unknown_role'],
  ['unknown option (meta-schema)', { measures: [{ name: 'n', weight: 2 }] }, '/measures/0/weight', 'additionalProperties'],
  [
    'related records of an unknown entity',
    { entity: 'account', measures: [{ name: 'n', over: { entity: 'nope', via: 'account' } }] },
    '/measures/0/over/entity',
    'unknown_entity',
  ],
  [
    'related records through a field that does not point here',
    { entity: 'account', measures: [{ name: 'n', over: { entity: 'deal', via: 'title' } }] },
    '/measures/0/over/via',
    'invalid_option',
  ],
  [
    'an average of related records',
    { entity: 'account', measures: [{ name: 'a', aggregate: 'avg', field: 'amount', over: { entity: 'deal', via: 'account' } }] },
    '/measures/0/aggregate',
    'invalid_measure',
  ],
  [
    'a sum of a related text field',
    { entity: 'account', measures: [{ name: 's', aggregate: 'sum', field: 'title', over: { entity: 'deal', via: 'account' } }] },
    '/measures/0/field',
    'invalid_measure',
  ],
  [
    'an unknown field of the related records',
    { entity: 'account', measures: [{ name: 's', aggregate: 'sum', field: 'nope', over: { entity: 'deal', via: 'account' } }] },
    '/measures/0/field',
    'unknown_field',
  ],
  [
    'a related filter on an unknown field',
    {
      entity: 'account',
      measures: [{ name: 'n', over: { entity: 'deal', via: 'account', where: { '==': [{ var: 'nope' }, 1] } } }],
    },
    '/measures/0/over/where/==/0/var',
    'unknown_field',
  ],
  [
    'related records in a tabular report',
    {
      entity: 'account',
      shape: 'tabular',
      columns: ['name'],
      measures: [{ name: 'n', over: { entity: 'deal', via: 'account' } }],
    },
    '/measures/0/over',
    'invalid_option',
  ],
];

describe.each(drivers)('report deploy checks on %s', (driver) => {
  let e: TestEngine;
  beforeAll(async () => {
    e = await startEngine(driver);
    expect((await e.call('POST', '/api/meta/deploy', { documents: testApp() })).status).toBe(201);
  }, 60_000);
  afterAll(() => e?.stop());

  it.each(CASES)('refuses %s', async (_, doc, path, code) => {
    const r = await e.call('POST', '/api/meta/deploy', { documents: [{ ...base, ...doc }] });
    expect(r.status).toBe(400);
    expect(r.body.error.details).toContainEqual(expect.objectContaining({ path: '/documents/0' + path, code }));
    expect((await e.call('GET', '/api/meta/documents/report/r')).status).toBe(404);
  });

  const board = (widgets: unknown[], extra: Record<string, unknown> = {}) => ({
    kind: 'dashboard',
    name: 'b',
    label: L('B'),
    widgets,
    ...extra,
  });
  it.each([
    ['an unknown report', board([{ name: 'w', type: 'table', report: 'nope' }]), '/widgets/0/report', 'unknown_report'],
    [
      'a measure the report lacks',
      board([{ name: 'w', type: 'number', report: 'ok', measure: 'nope' }]),
      '/widgets/0/measure',
      'unknown_measure',
    ],
    ['a chart without its type', board([{ name: 'w', type: 'chart', report: 'ok' }]), '/widgets/0/chart', 'required'],
    ['a widget past the grid', board([{ name: 'w', type: 'approvals', x: 8, w: 6 }]), '/widgets/0/w', 'invalid_layout'],
    [
      'overlapping widgets',
      board([
        { name: 'a', type: 'approvals', x: 0, y: 0, w: 6, h: 5 },
        { name: 'b', type: 'approvals', x: 6, y: 0, w: 6, h: 2 },
        { name: 'c', type: 'approvals', x: 3, y: 4, w: 6, h: 2 },
      ]),
      '/widgets/2/y',
      'invalid_layout',
    ],
    ['an unknown role', board([{ name: 'w', type: 'approvals' }], { home: ['nobody'] }), '/home/0', 'unknown_role'],
    [
      'a records filter on an unknown field',
      board([{ name: 'w', type: 'records', entity: 'deal', filter: { '==': [{ var: 'nope' }, 1] } }]),
      '/widgets/0/filter/==/0/var',
      'unknown_field',
    ],
  ])('refuses a dashboard with %s', async (_, doc, path, code) => {
    const report = { ...base, name: 'ok', measures: [{ name: 'n' }] };
    const r = await e.call('POST', '/api/meta/deploy', { documents: [report, doc] });
    expect(r.status).toBe(400);
    expect(r.body.error.details).toContainEqual(expect.objectContaining({ path: '/documents/1' + path, code }));
  });

  it('deploys a sound report and serves its meta-schema', async () => {
    const ok = await e.call('POST', '/api/meta/deploy', {
      documents: [
        {
          ...base,
          dimensions: [{ field: 'account.region' }, { field: 'close_date', bucket: 'fiscal_quarter' }],
          fiscalYearStartMonth: 4,
          measures: [{ name: 'n' }, { name: 'g', derive: 'growth_rate', of: 'n' }],
        },
      ],
    });
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    expect((await e.call('GET', '/api/meta/schemas/report')).body.properties.measures).toBeDefined();
  });
});
