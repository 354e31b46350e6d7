/**
 * Targets (指标管理) on the sample sales app: who may set which values (a manager: their
 * subordinates', never their own; the company: targets.manage), actuals from the report engine as the
 * viewer, attainment, gap and pacing, and decompositions that do not add up — flagged, or refused with
 * nothing written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers, L } from '../support/engine.js';
import { startOrg, type Org } from '../access/org.js';

describe.each(drivers)('targets on %s', (driver) => {
  let org: Org;
  let orders: { owner_id: string; amount: number; order_date: string | null }[];
  beforeAll(async () => {
    org = await startOrg(driver);
    const { e, departments, ids, accounts } = org;
    // Department heads: the director heads sales, manager_east heads sales_east.
    for (const [code, head] of [
      ['sales', 'director'],
      ['sales_east', 'manager_east'],
    ] as const) {
      const d = await e.call('GET', `/api/data/department/${departments[code]}`);
      expect(
        (await e.call('PATCH', `/api/data/department/${departments[code]}`, { head: ids[head], version: d.body.data.version }))
          .status,
      ).toBe(200);
    }
    await e.auth.invalidate();
    const made = await e.call('POST', '/api/data/order', [
      { account: accounts.rep_east.id, amount: 300, order_date: '2026-01-10', status: 'accepted', owner_id: ids.rep_east },
      { account: accounts.rep_east.id, amount: 200, order_date: '2026-05-10', status: 'accepted', owner_id: ids.rep_east },
      { account: accounts.rep_north.id, amount: 50, order_date: '2026-02-10', status: 'accepted', owner_id: ids.rep_north },
      { account: accounts.rep_north.id, amount: 999, order_date: '2025-12-31', status: 'accepted', owner_id: ids.rep_north },
    ]);
    expect(made.status).toBe(201);
    orders = (await e.call('GET', '/api/data/order?limit=100')).body.data;
    const refuse = await e.call('POST', '/api/meta/deploy', {
      documents: [
        {
          kind: 'target',
          name: 'strict',
          label: L('Strict'),
          report: 'sales_this_month',
          measure: 'amount',
          dateField: 'order_date',
          periods: ['year', 'quarter'],
          decomposition: 'refuse',
        },
      ],
    });
    expect(refuse.status, JSON.stringify(refuse.body)).toBe(201);
  }, 180_000);
  afterAll(() => org?.e.stop());

  const put = (user: Parameters<Org['as']>[0], values: unknown[], target = 'sales_amount') =>
    org.as(user, 'PUT', `/api/targets/${target}/values`, { values });
  const year = (level: string, subject: string | null, value: number | null) => ({
    level,
    subject,
    period: 'year',
    period_start: '2026-01-01',
    value,
  });

  it("a manager sets their subordinates' targets, never their own; the company needs targets.manage", async () => {
    const { departments: d, ids } = org;
    expect((await put('director', [year('company', null, 1000)])).status).toBe(403);
    expect(
      (await put('admin', [year('company', null, 1000), year('department', d.hq, 1000), year('department', d.sales, 800)]))
        .status,
    ).toBe(200);
    // the director heads sales: the groups below it and the people in it or reporting to them
    const director = await put('director', [
      year('department', d.sales_east, 500),
      year('department', d.sales_north, 200),
      year('user', ids.rep_north, 200),
    ]);
    expect(director.status, JSON.stringify(director.body)).toBe(200);
    for (const own of [year('department', d.sales, 900), year('user', ids.director, 10), year('department', d.marketing, 10)]) {
      const r = await put('director', [own]);
      expect(r.status, JSON.stringify(own)).toBe(403);
      expect(r.body.error.code).toBe('target_not_editable');
      expect(r.body.error.details[0].path).toBe('/values/0');
    }
    expect((await put('manager_east', [year('user', ids.rep_east, 400)])).status).toBe(200);
    expect((await put('manager_east', [year('user', ids.manager_east, 100)])).status).toBe(403);
    expect((await put('rep_east', [year('user', ids.rep_east, 1)])).status).toBe(403);
    // all or nothing: a refused item leaves the others unwritten
    expect((await put('manager_east', [year('user', ids.rep_east, 1), year('department', d.sales_north, 1)])).status).toBe(403);
    const bad = await put('admin', [{ ...year('user', ids.rep_east, -1), period_start: '2026-01-02' }]);
    expect(bad.status).toBe(422);
    expect(bad.body.error.details[0].path).toBe('/values/0/period_start');
  });

  it('actuals, attainment, gap and pacing come from the report engine, as the viewer', async () => {
    const inYear = (owner: string) =>
      orders
        .filter((o) => o.owner_id === owner && o.order_date && o.order_date >= '2026-01-01' && o.order_date < '2027-01-01')
        .reduce((s, o) => s + o.amount, 0);
    const r = await org.as('manager_east', 'GET', '/api/targets/sales_amount?year=2026');
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const rep = r.body.data.rows.find((x: any) => x.level === 'user' && x.subject === org.ids.rep_east);
    expect(rep.target).toBe(400);
    expect(rep.actual).toBe(inYear(org.ids.rep_east));
    expect(rep.attainment).toBeCloseTo(rep.actual / 400);
    expect(rep.gap).toBe(400 - rep.actual);
    expect(rep.editable).toBe(true);
    // 2026 is under way: the target expects part of the year by today
    expect(rep.expected_to_date).toBeGreaterThan(0);
    expect(rep.expected_to_date).toBeLessThanOrEqual(400);
    expect(rep.pacing).toBeCloseTo(rep.actual / rep.expected_to_date);
    // the manager's scope is their department: no company row, no sales_north
    expect(r.body.data.rows.some((x: any) => x.level === 'company' || x.subject === org.departments.sales_north)).toBe(false);
    const east = r.body.data.rows.find((x: any) => x.subject === org.departments.sales_east);
    expect(east.actual).toBe(inYear(org.ids.rep_east) + inYear(org.ids.manager_east));
    expect(east.editable).toBe(false);
    // the rep sees their own row only; the admin every row, the company's actual is every order of 2026
    const mine = await org.as('rep_east', 'GET', '/api/targets/sales_amount?year=2026');
    expect(mine.body.data.rows.map((x: any) => x.subject)).toEqual([org.ids.rep_east]);
    const all = await org.as('admin', 'GET', '/api/targets/sales_amount?year=2026');
    const company = all.body.data.rows.find((x: any) => x.level === 'company');
    expect(company.actual).toBe(orders.filter((o) => o.order_date?.startsWith('2026')).reduce((s, o) => s + o.amount, 0));
  });

  it('parts that do not add up are flagged', async () => {
    const all = await org.as('admin', 'GET', '/api/targets/sales_amount?year=2026');
    const issues = all.body.data.issues;
    // sales: 800, but sales_east 500 + sales_north 200 = 700
    expect(issues).toContainEqual(
      expect.objectContaining({
        level: 'department',
        subject: org.departments.sales,
        expected: 800,
        sum: 700,
        parts: 'children',
      }),
    );
    // sales_north: 200, its one person 200: fine
    expect(issues.some((i: any) => i.subject === org.departments.sales_north)).toBe(false);
  });

  it('a target that refuses mismatches writes nothing that does not add up', async () => {
    const q = (n: number, value: number) => ({
      level: 'company',
      subject: null,
      period: 'quarter',
      period_start: `2026-${String(1 + 3 * (n - 1)).padStart(2, '0')}-01`,
      value,
    });
    const wrong = await put('admin', [year('company', null, 1000), q(1, 200), q(2, 200), q(3, 200), q(4, 200)], 'strict');
    expect(wrong.status).toBe(422);
    expect(wrong.body.error.code).toBe('decomposition_mismatch');
    expect((await org.as('admin', 'GET', '/api/targets/strict?year=2026')).body.data.rows).toEqual([]);
    const right = await put('admin', [year('company', null, 1000), q(1, 250), q(2, 250), q(3, 250), q(4, 250)], 'strict');
    expect(right.status, JSON.stringify(right.body)).toBe(200);
    expect((await org.as('admin', 'GET', '/api/targets/strict?year=2026')).body.data.rows).toHaveLength(5);
  });

  it('a dashboard shows target attainment', async () => {
    const home = await org.as('manager_east', 'GET', '/api/dashboards/sales_manager_home');
    const widget = home.body.data.widgets.find((w: any) => w.type === 'target');
    expect(widget.error).toBeUndefined();
    expect(widget.data.rows.length).toBeGreaterThan(0);
  });
});
