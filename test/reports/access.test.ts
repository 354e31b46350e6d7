/**
 * Reports as the viewer, on the sample sales app and its demo organisation: a rep's report counts
 * exactly the rep's records (funnels included, snapshot and history), a manager's their department's,
 * a department tree adds up its subtree; fields the viewer may not read refuse the report with 403
 * and a path, without values in the error; joined records outside the viewer's scope lend nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers, L } from '../support/engine.js';
import { startOrg, type Org, type UserName } from '../access/org.js';
import { engineContext } from '../../engine/data/service.js';
import ExcelJS from 'exceljs';

const PATHS: Record<string, string[]> = {
  // the events fired from initial_contact; a lost one passed every stage before its end
  won: ['confirm_needs', 'submit_proposal', 'quote', 'confirm_intent', 'negotiate', 'sign', 'win'],
  quoted_lost: ['confirm_needs', 'submit_proposal', 'quote', 'lose'],
  proposal: ['confirm_needs', 'submit_proposal'],
  fresh: [],
  lost_early: ['lose'],
};
const DEALS: [UserName, keyof typeof PATHS, number][] = [
  ['rep_east', 'won', 100],
  ['rep_east', 'quoted_lost', 50],
  ['rep_east', 'proposal', 30],
  ['rep_east', 'fresh', 10],
  ['rep_north', 'won', 70],
  ['rep_north', 'lost_early', 20],
  ['rep_north', 'proposal', 40],
  ['manager_east', 'quoted_lost', 60],
  ['manager_east', 'fresh', 5],
];
const ORDERS: [UserName, number, string][] = [
  ['rep_east', 100, '2026-01-15'],
  ['rep_east', 40, '2026-02-03'],
  ['rep_north', 70, '2026-01-20'],
  ['manager_east', 25, '2026-03-01'],
  ['director', 10, '2026-03-02'],
  ['gm', 5, '2026-03-03'],
];

describe.each(drivers)('reports as the viewer on %s', (driver) => {
  let org: Org;
  const deals: { owner: UserName; path: string; amount: number; id: string }[] = [];
  /** Every order (won deals raise one too), as the administrator reads them through the list API. */
  let orders: { owner_id: string; amount: number; account: string; order_date: string | null }[] = [];
  const sumOf = (owners: UserName[]) =>
    orders.filter((o) => owners.some((u) => org.ids[u] === o.owner_id)).reduce((s, o) => s + o.amount, 0);
  const countOf = (owners: UserName[]) => orders.filter((o) => owners.some((u) => org.ids[u] === o.owner_id)).length;
  beforeAll(async () => {
    org = await startOrg(driver);
    const { e, ids, accounts } = org;
    const extra = await e.call('POST', '/api/meta/deploy', {
      documents: [
        {
          kind: 'report',
          name: 'credit_by_region',
          label: L('Credit by region'),
          entity: 'account',
          dimensions: [{ field: 'region' }],
          measures: [{ name: 'credit', aggregate: 'sum', field: 'credit_limit' }],
        },
        {
          kind: 'report',
          name: 'orders_by_credit',
          label: L('Orders by credit'),
          entity: 'order',
          dimensions: [{ field: 'account.region' }],
          measures: [
            { name: 'n', aggregate: 'count' },
            { name: 'credit', aggregate: 'max', field: 'account.credit_limit' },
          ],
        },
        {
          kind: 'report',
          name: 'orders_by_account_region',
          label: L('Orders by account region'),
          entity: 'order',
          dimensions: [{ field: 'account.region' }],
          measures: [
            { name: 'n', aggregate: 'count' },
            { name: 'amount', aggregate: 'sum', field: 'amount' },
          ],
        },
        {
          kind: 'report',
          name: 'orders_of_accounts',
          label: L('Orders of the customers'),
          entity: 'account',
          dimensions: [{ field: 'region' }],
          measures: [
            { name: 'orders', over: { entity: 'order', via: 'account' } },
            { name: 'amount', aggregate: 'sum', field: 'amount', over: { entity: 'order', via: 'account' } },
            {
              name: 'big',
              aggregate: 'sum',
              field: 'amount',
              over: { entity: 'order', via: 'account', where: { '>=': [{ var: 'amount' }, 50] } },
            },
          ],
        },
        {
          kind: 'report',
          name: 'managers_only',
          label: L('Managers only'),
          entity: 'order',
          roles: ['sales_manager'],
          measures: [{ name: 'n' }],
        },
        {
          kind: 'report',
          name: 'order_list',
          label: L('Order list'),
          entity: 'order',
          shape: 'tabular',
          columns: ['order_no', 'account.name', 'amount', 'order_date'],
          sort: [{ by: 'amount', desc: true }],
          limit: 3,
        },
        {
          kind: 'report',
          name: 'orders_in',
          label: L('Orders in a period'),
          entity: 'order',
          parameters: [
            { name: 'from', type: 'date', label: L('From'), required: true },
            { name: 'to', type: 'date', label: L('To'), default: '2027-01-01' },
          ],
          filter: {
            and: [
              { '>=': [{ var: 'order_date' }, { var: '$params.from' }] },
              { '<': [{ var: 'order_date' }, { var: '$params.to' }] },
            ],
          },
          measures: [{ name: 'n' }, { name: 'amount', aggregate: 'sum', field: 'amount' }],
        },
      ],
    });
    expect(extra.status, JSON.stringify(extra.body)).toBe(201);
    for (const [owner, path, amount] of DEALS) {
      const created = (await e.data.create(engineContext(), 'opportunity', {
        title: `${owner} ${path}`,
        account: accounts[owner].id,
        amount,
        owner_id: ids[owner],
        expected_close_date: '2026-06-30',
      })) as any;
      for (const event of PATHS[path]!) {
        const input = event === 'lose' ? { loss_reason: 'price' } : undefined;
        await e.workflows.fire(engineContext(), 'opportunity', created.id, event, input ? { input } : {});
      }
      deals.push({ owner, path, amount, id: created.id });
    }
    // rep_north's last order is for rep_east's customer: rep_north may not read that account.
    const newOrders = ORDERS.map(([owner, amount, order_date]) => ({
      account: accounts[owner].id,
      amount,
      order_date,
      status: 'accepted',
      owner_id: ids[owner],
    }));
    newOrders.push({
      account: accounts.rep_east.id,
      amount: 7,
      order_date: '2026-02-10',
      status: 'accepted',
      owner_id: ids.rep_north,
    });
    const made = await e.call('POST', '/api/data/order', newOrders);
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    orders = (await e.call('GET', '/api/data/order?limit=500')).body.data;
  }, 180_000);
  afterAll(() => org?.e.stop());

  const run = async (user: UserName, name: string, query = '') => {
    const r = await org.as(user, 'GET', `/api/reports/${name}${query}`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body.data;
  };
  const ORDER = [
    'initial_contact',
    'needs_confirmed',
    'proposal',
    'quotation',
    'intent',
    'negotiation',
    'contract_signed',
    'won',
  ];
  /** The furthest stage each path reached, in funnel order (lost deals: the stage they were lost in). */
  const REACHED: Record<string, string> = {
    won: 'won',
    quoted_lost: 'quotation',
    proposal: 'proposal',
    fresh: 'initial_contact',
    lost_early: 'initial_contact',
  };
  const CURRENT: Record<string, string | null> = {
    won: 'won',
    quoted_lost: null,
    proposal: 'proposal',
    fresh: 'initial_contact',
    lost_early: null,
  };

  it.each([
    ['rep_east', ['rep_east']],
    ['rep_north', ['rep_north']],
    ['manager_east', ['rep_east', 'manager_east']],
    ['admin', ['rep_east', 'rep_north', 'manager_east']],
  ] as [UserName, UserName[]][])("%s's history funnel counts exactly their records' stages reached", async (user, owners) => {
    const mine = deals.filter((d) => owners.includes(d.owner));
    const data = await run(user, 'sales_funnel_history');
    expect(data.rows.map((r: any) => r.stage)).toEqual(ORDER);
    data.rows.forEach((row: any, i: number) => {
      const reached = mine.filter((d) => ORDER.indexOf(REACHED[d.path]!) >= i);
      expect(row.deals, row.stage).toBe(reached.length);
      expect(row.amount, row.stage).toBe(reached.reduce((s, d) => s + d.amount, 0));
      if (i > 0) expect(row.conversion).toBe(data.rows[i - 1].deals ? row.deals / data.rows[i - 1].deals : null);
    });
    // The snapshot counts current stages (lost deals are no stage of the funnel), at or beyond each.
    const snap = await run(user, 'sales_funnel');
    snap.rows.forEach((row: any, i: number) => {
      expect(row.deals, row.stage).toBe(mine.filter((d) => CURRENT[d.path] && ORDER.indexOf(CURRENT[d.path]!) >= i).length);
    });
    expect(snap.rows[2]._filter).toEqual({ in: [{ var: 'stage' }, ORDER.slice(2)] });
    expect(snap.rows[0]._labels.stage).toBe('Initial contact');
  });

  it.each(['admin', 'gm', 'director', 'manager_east', 'rep_east', 'finance', 'marketing'] as UserName[])(
    'every report %s may run runs',
    async (user) => {
      const list = await org.as(user, 'GET', '/api/reports');
      expect(list.status).toBe(200);
      for (const report of list.body.data) {
        const required = report.parameters
          .filter((p: any) => p.required && p.default === undefined)
          .map((p: any) => `${p.name}=2026-01-01`)
          .join('&');
        const r = await org.as(user, 'GET', `/api/reports/${report.name}?${required}`);
        expect(r.status, `${report.name}: ${JSON.stringify(r.body)}`).toBe(200);
        expect(r.body.data.columns.length).toBeGreaterThan(0);
      }
      if (user === 'admin')
        expect(list.body.data.map((x: any) => x.name)).toEqual(
          expect.arrayContaining(['pipeline_by_stage_month', 'sales_by_region', 'top_customers', 'visit_kpis']),
        );
    },
  );

  it("exports CSV and XLSX: labels as headers in the viewer's language, display values, typed cells, totals", async () => {
    const csv = await org.as('manager_east', 'GET', '/api/reports/sales_by_department/export?format=csv', undefined, {
      'accept-language': 'zh-CN',
    });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    const lines = String(csv.body)
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\r\n');
    expect(lines[0]).toBe('部门,销售额,订单数,客户数');
    // the manager's records sit in 华东销售组; its ancestors show the same records (nothing else is in scope)
    expect(lines.slice(1, 4).map((l) => l.split(',')[0])).toEqual(['总公司', '销售部', '华东销售组']);
    expect(lines[3]).toBe(`华东销售组,${sumOf(['manager_east', 'rep_east'])},${countOf(['manager_east', 'rep_east'])},2`);
    expect(lines.at(-1)).toMatch(/^合计,/);
    const res = await org.e.app.request('/api/reports/rep_performance/export?format=xlsx&from=2026-01-01&to=2026-04-01', {
      headers: { authorization: `Bearer ${org.tokens.rep_east}` },
    });
    expect(res.status).toBe(200);
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(Buffer.from(await res.arrayBuffer()) as never);
    const sheet = book.worksheets[0]!;
    expect(sheet.getRow(1).getCell(1).value).toBe('Sales rep');
    const jan = sheet.getRow(2);
    expect(jan.getCell(2).value).toBe('2026-01');
    expect(typeof jan.getCell(4).value).toBe('number');
    expect(jan.getCell(4).numFmt).toBe('#,##0.00');
    expect(sheet.getRow(2).getCell(6).numFmt).toBe('0.0%');
    const bad = await org.as('rep_east', 'GET', '/api/reports/sales_funnel/export?format=pdf');
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0].path).toBe('/query/format');
  });

  it('dashboards: visible by role, home per role, each widget computed as the caller', async () => {
    const list = await org.as('manager_east', 'GET', '/api/dashboards');
    expect(list.body.data).toEqual([expect.objectContaining({ name: 'sales_manager_home', home: true })]);
    expect((await org.as('rep_east', 'GET', '/api/dashboards/sales_manager_home')).status).toBe(403);
    const home = await org.as('manager_east', 'GET', '/api/dashboards/home');
    expect(home.status, JSON.stringify(home.body)).toBe(200);
    const byName = Object.fromEntries(home.body.data.widgets.map((w: any) => [w.name, w]));
    for (const w of home.body.data.widgets) expect(w.error, w.name).toBeUndefined();
    // the funnel widget is the manager's funnel (their department's deals)
    const funnel = await run('manager_east', 'sales_funnel');
    expect(byName.funnel.data.rows).toEqual(funnel.rows);
    expect(byName.funnel.url).toBe('/api/reports/sales_funnel');
    // this month's sales (won deals raised orders today) against last month's (none: a sum over nothing is null)
    const thisMonth = await run('manager_east', 'sales_this_month');
    expect(byName.sales_month.data).toEqual(
      expect.objectContaining({ value: thisMonth.rows[0].amount, compare: null, change: null }),
    );
    expect(byName.my_tasks.data.data.every((t: any) => t.owner_id === org.ids.manager_east)).toBe(true);
    expect(Array.isArray(byName.approvals.data)).toBe(true);
    // a report the role may not run is that widget's error, not the page's
    const gm = await org.as('gm', 'GET', '/api/dashboards/home');
    expect(gm.body.data.name).toBe('general_manager_home');
    expect((await org.as('rep_east', 'GET', '/api/dashboards/home')).status).toBe(404);
  });

  it("a repeat-purchase rate from the customers' order roll-ups, counting only the viewer's customers", async () => {
    const accounts = (await org.e.call('GET', '/api/data/account?limit=500')).body.data as any[];
    const ordersOf = (id: string) => orders.filter((o) => o.account === id).length;
    const expected = (visible: any[]) => {
      const byRegion = new Map<string, { customers: number; ordered: number; repeat: number }>();
      for (const a of visible) {
        const r = byRegion.get(a.region) ?? { customers: 0, ordered: 0, repeat: 0 };
        r.customers++;
        if (ordersOf(a.id) >= 1) r.ordered++;
        if (ordersOf(a.id) >= 2) r.repeat++;
        byRegion.set(a.region, r);
      }
      return Object.fromEntries(
        [...byRegion].map(([region, r]) => [region, { ...r, repeat_rate: r.ordered ? r.repeat / r.ordered : null }]),
      );
    };
    const shown = (data: any) =>
      Object.fromEntries(
        data.rows.map((r: any) => [
          r.region,
          { customers: r.customers, ordered: r.ordered, repeat: r.repeat, repeat_rate: r.repeat_rate },
        ]),
      );
    // rep_east's customer has two orders of its own and one rep_north raised: a repeat customer.
    expect(accounts.find((a) => a.id === org.accounts.rep_east.id).order_count).toBe(ordersOf(org.accounts.rep_east.id));
    expect(ordersOf(org.accounts.rep_east.id)).toBeGreaterThanOrEqual(2);
    expect(shown(await run('gm', 'repeat_purchase'))).toEqual(expected(accounts));
    const mine = accounts.filter((a) => a.owner_id === org.ids.rep_east);
    expect(shown(await run('rep_east', 'repeat_purchase'))).toEqual(expected(mine));
  });

  it('measures over related records count only the related records the viewer may read', async () => {
    const accounts = (await org.e.call('GET', '/api/data/account?limit=500')).body.data as any[];
    const expected = (viewer: UserName | undefined) => {
      const visible = viewer ? accounts.filter((a) => a.owner_id === org.ids[viewer]) : accounts;
      const out: Record<string, { orders: number; amount: number; big: number }> = {};
      for (const a of visible) {
        const mine = orders.filter((o) => o.account === a.id && (!viewer || o.owner_id === org.ids[viewer]));
        const r = (out[a.region] ??= { orders: 0, amount: 0, big: 0 });
        r.orders += mine.length;
        r.amount += mine.reduce((t, o) => t + o.amount, 0);
        r.big += mine.filter((o) => o.amount >= 50).reduce((t, o) => t + o.amount, 0);
      }
      return out;
    };
    const shown = (data: any) =>
      Object.fromEntries(data.rows.map((r: any) => [r.region, { orders: r.orders, amount: r.amount, big: r.big }]));
    expect(shown(await run('gm', 'orders_of_accounts'))).toEqual(expected(undefined));
    // rep_east's customer has an order rep_north raised: rep_east's report leaves it out.
    expect(orders.some((o) => o.account === org.accounts.rep_east.id && o.owner_id === org.ids.rep_north)).toBe(true);
    expect(shown(await run('rep_east', 'orders_of_accounts'))).toEqual(expected('rep_east'));
  });

  it("labels come in the viewer's language", async () => {
    const r = await org.as('rep_east', 'GET', '/api/reports/sales_funnel', undefined, { 'accept-language': 'zh-CN' });
    expect(r.body.data.rows[0]._labels.stage).toBe('初次接触');
    expect(r.body.data.columns.find((c: any) => c.name === 'deals').label).toBe('商机数');
  });

  it("time in stage counts the stays of the viewer's records", async () => {
    const data = await run('rep_east', 'time_in_stage');
    const mine = deals.filter((d) => d.owner === 'rep_east');
    const byStage = Object.fromEntries(data.rows.map((r: any) => [r.stage, r]));
    // every deal stayed once in initial_contact; proposal: won, quoted_lost and proposal passed through it
    expect(byStage.initial_contact.stays).toBe(mine.length);
    expect(byStage.proposal.stays).toBe(mine.filter((d) => ['won', 'quoted_lost', 'proposal'].includes(d.path)).length);
    expect(byStage.negotiation.stays).toBe(mine.filter((d) => d.path === 'won').length);
    expect(byStage.initial_contact.avg_days).toBeGreaterThanOrEqual(0);
    expect(byStage.initial_contact.median_days).toBeLessThan(1);
  });

  it("a department tree adds up each department's subtree, and the total counts each order once", async () => {
    const data = await run('director', 'sales_by_department');
    const byName = Object.fromEntries(data.rows.map((r: any) => [r._labels.owner_id_department, r]));
    // director's scope: the sales department tree (director, manager_east, rep_east, rep_north)
    expect(byName.华东销售组.amount).toBe(sumOf(['manager_east', 'rep_east']));
    expect(byName.华北销售组.amount).toBe(sumOf(['rep_north']));
    expect(byName.销售部.amount).toBe(sumOf(['director', 'manager_east', 'rep_east', 'rep_north']));
    expect(byName.销售部.orders).toBe(countOf(['director', 'manager_east', 'rep_east', 'rep_north']));
    expect(byName.销售部._depth).toBe(1);
    expect(byName.华东销售组._depth).toBe(2);
    expect(data.totals.amount).toBe(sumOf(['director', 'manager_east', 'rep_east', 'rep_north']));
    // parents come before their children
    const names = data.rows.map((r: any) => r._labels.owner_id_department);
    expect(names.indexOf('销售部')).toBeLessThan(names.indexOf('华东销售组'));
    expect(byName.华东销售组._filter.in[1]).toHaveLength(1);
    expect(byName.销售部._filter.in[1]).toHaveLength(3);
    const gm = await run('gm', 'sales_by_department');
    expect(gm.totals.amount).toBe(orders.reduce((s, o) => s + o.amount, 0));
    expect(gm.rows.find((r: any) => r._labels.owner_id_department === '总公司').amount).toBe(
      sumOf(['gm', 'director', 'manager_east', 'rep_east', 'rep_north']),
    );
  });

  it('a field the viewer may not read refuses the report with 403 and its path; nothing leaks', async () => {
    const r = await org.as('rep_east', 'GET', '/api/reports/credit_by_region');
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('field_not_readable');
    expect(r.body.error.details).toEqual([expect.objectContaining({ path: '/measures/0/field', code: 'field_not_readable' })]);
    expect(JSON.stringify(r.body)).not.toMatch(/\d{3,}/); // no credit amounts
    const through = await org.as('rep_east', 'GET', '/api/reports/orders_by_credit');
    expect(through.status).toBe(403);
    expect(through.body.error.details[0].path).toBe('/measures/1/field');
    // not in the list of reports the rep may run; the finance role (reads credit) runs it
    const list = await org.as('rep_east', 'GET', '/api/reports');
    const names = list.body.data.map((x: any) => x.name);
    expect(names).toContain('sales_funnel');
    expect(names).not.toContain('credit_by_region');
    expect(names).not.toContain('managers_only');
    expect((await run('finance', 'credit_by_region')).totals.credit).toBeGreaterThan(0);
  });

  it("a joined record outside the viewer's scope lends nothing: it groups as empty", async () => {
    const data = await run('rep_north', 'orders_by_account_region');
    const byRegion = Object.fromEntries(data.rows.map((r: any) => [String(r.account_region), r]));
    expect(data.totals.n).toBe(countOf(['rep_north']));
    // the order for rep_east's account: that account's region is not rep_north's to see
    expect(byRegion.null.n).toBe(1);
    expect(byRegion.null.amount).toBe(7);
    expect(byRegion.north.n).toBe(countOf(['rep_north']) - 1);
  });

  it('roles restrict who runs a report', async () => {
    expect((await org.as('rep_east', 'GET', '/api/reports/managers_only')).status).toBe(403);
    expect((await run('manager_east', 'managers_only')).totals.n).toBe(countOf(['manager_east', 'rep_east']));
    expect((await org.as('rep_east', 'GET', '/api/reports/nope')).status).toBe(404);
  });

  it('parameters are validated, defaulted and bound', async () => {
    const missing = await org.as('admin', 'GET', '/api/reports/orders_in');
    expect(missing.status).toBe(400);
    expect(missing.body.error.details).toEqual([expect.objectContaining({ path: '/query/from', code: 'required' })]);
    const bad = await org.as('admin', 'GET', '/api/reports/orders_in?from=2026-02-30&x=1');
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: any) => d.path).sort()).toEqual(['/query/from', '/query/x']);
    const within = (from: string, to: string) =>
      orders.filter((o) => o.order_date !== null && o.order_date >= from && o.order_date < to);
    const feb = await run('admin', 'orders_in', '?from=2026-02-01&to=2026-03-01');
    expect(feb.totals).toEqual({ n: within('2026-02-01', '2026-03-01').length, amount: 47 });
    expect(feb.parameters).toEqual({ from: '2026-02-01', to: '2026-03-01' });
    expect((await run('admin', 'orders_in', '?from=2026-03-01')).totals.n).toBe(within('2026-03-01', '2027-01-01').length);
    // the report list tells each report's parameters; the OpenAPI document has the report routes
    const listed = (await org.as('admin', 'GET', '/api/reports')).body.data.find((r: any) => r.name === 'orders_in');
    expect(listed.parameters.map((p: any) => [p.name, p.type, p.required ?? false])).toEqual([
      ['from', 'date', true],
      ['to', 'date', false],
    ]);
    const api = (await org.as('admin', 'GET', '/api/openapi.json')).body;
    expect(Object.keys(api.paths)).toEqual(
      expect.arrayContaining([
        '/api/reports',
        '/api/reports/{name}',
        '/api/reports/{name}/export',
        '/api/dashboards/{name}',
        '/api/targets/{name}/values',
      ]),
    );
    // … and each deployed report its own typed path: its parameters, required ones marked, relative defaults told.
    const own = api.paths['/api/reports/orders_in'].get;
    expect(own.operationId).toBe('runReportOrdersIn');
    expect(own.parameters.map((p: any) => [p.name, p.in, p.required, p.schema])).toEqual([
      ['from', 'query', true, { type: 'string', format: 'date' }],
      ['to', 'query', false, { type: 'string', format: 'date', default: '2027-01-01' }],
    ]);
    const region = api.paths['/api/reports/sales_by_region/export'].get;
    expect(region.parameters.find((p: any) => p.name === 'from').description).toContain('start_of_year');
  });

  it('a tabular report lists records with paths, sorted and limited, with totals over all', async () => {
    const data = await run('manager_east', 'order_list');
    const east = orders.filter((o) => [org.ids.manager_east, org.ids.rep_east].includes(o.owner_id));
    expect(data.columns.map((c: any) => c.name)).toEqual(['order_no', 'account_name', 'amount', 'order_date']);
    expect(data.rows.map((r: any) => r.amount)).toEqual(
      east
        .map((o) => o.amount)
        .sort((a, b) => b - a)
        .slice(0, 3),
    );
    expect(data.rows[0].account_name).toMatch(/的客户$/);
    expect(data.totals).toEqual({ count: east.length, amount: sumOf(['manager_east', 'rep_east']) });
  });
});
