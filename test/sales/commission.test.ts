/**
 * Commission plans and monthly statements (销售佣金) of the sales sample: the scheduled run over the
 * users makes one statement per active rep from last month's orders (Beijing time) under the plan in
 * force, submitted at once on the rep's behalf to the manager; the amounts are checked against a
 * computation of the test's own; the approval is walked along the machine's shortest paths.
 */
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getShortestPaths } from '@xstate/graph';
import { loadPackage } from '../../metadata/loader.js';
import { compileApproval } from '../../engine/approvals/compile.js';
import type { ApprovalDoc } from '../../engine/approvals/kind.js';
import { drivers, q } from '../support/engine.js';
import { startOrg, type Org, type UserName } from '../access/org.js';

/** Progressive tiers, worked out independently of the sample's formula: 0–10万 5 %, 10–50万 8 %, above 12 %. */
function commissionOf(sales: number) {
  const tiers = [
    { upTo: 100_000, rate: 0.05 },
    { upTo: 500_000, rate: 0.08 },
    { upTo: Number.POSITIVE_INFINITY, rate: 0.12 },
  ];
  let rest = sales;
  let from = 0;
  let total = 0;
  for (const t of tiers) {
    const slice = Math.min(rest, t.upTo - from);
    if (slice <= 0) break;
    total += slice * t.rate;
    rest -= slice;
    from = t.upTo;
  }
  return Math.round(total * 100) / 100;
}

/** Calendar dates in Beijing (UTC+8, no daylight saving): first day of this and last month, a day in each. */
function beijingMonths() {
  const now = new Date(Date.now() + 8 * 3_600_000);
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth();
  const iso = (d: Date) => d.toISOString().slice(0, 10);
  return {
    thisMonth: iso(new Date(Date.UTC(y, m, 1))),
    lastMonth: iso(new Date(Date.UTC(y, m - 1, 1))),
    inLastMonth: (day: number) => iso(new Date(Date.UTC(y, m - 1, day))),
    lastDayOfLastMonth: iso(new Date(Date.UTC(y, m, 0))),
    twoMonthsAgo: iso(new Date(Date.UTC(y, m - 2, 15))),
  };
}

describe.each(drivers)('commission statements (sales sample) on %s', (driver) => {
  let o: Org;
  const months = beijingMonths();
  beforeAll(async () => {
    o = await startOrg(driver, ['sales']);
  }, 60_000);
  afterAll(() => o?.e.stop());

  const order = async (rep: UserName, amount: number, order_date: string) => {
    const res = await o.e.call('POST', '/api/data/order', {
      account: o.accounts[rep].id,
      amount,
      order_date,
      owner_id: o.ids[rep],
    });
    expect(res.status).toBe(201);
  };
  const statements = async (user: UserName) =>
    (await o.as(user, 'GET', `/api/data/commission_statement?sort=created_at&limit=100`)).body.data as any[];

  it('makes nothing without a plan in force; a director sets up the progressive plan', async () => {
    expect(await o.e.scheduler.run('commission_monthly')).toMatchObject({ matched: 0, failed: [] });
    const refused = await o.as('rep_east', 'POST', '/api/data/commission_plan', { name: '自定方案' });
    expect(refused.status).toBe(403);
    const bad = await o.as('director', 'POST', '/api/data/commission_plan', { name: '倒挂方案', tier1_limit: 600000 });
    expect([bad.status, bad.body.error.details.map((d: any) => d.path)]).toEqual([422, ['/tier2_limit']]);
    const plan = await o.as('director', 'POST', '/api/data/commission_plan', { name: '2026 年度销售佣金方案' });
    expect(plan.body.data).toMatchObject({
      active: true,
      tier1_limit: 100000,
      tier1_rate: 5,
      tier2_limit: 500000,
      tier2_rate: 8,
      tier3_rate: 12,
    });
  });

  it('on the 1st, one statement per active rep from last month’s orders, amounts matching an independent computation', async () => {
    // rep_east crosses all three tiers; rep_north stays in the first; orders outside last month do not count.
    await order('rep_east', 80_000, months.lastMonth);
    await order('rep_east', 450_000, months.inLastMonth(15));
    await order('rep_east', 123_456.78, months.lastDayOfLastMonth);
    await order('rep_east', 999_999, months.thisMonth);
    await order('rep_east', 77_777, months.twoMonthsAgo);
    await order('rep_north', 60_000, months.inLastMonth(10));
    await order('manager_east', 300_000, months.inLastMonth(10)); // not a sales rep: no statement

    const run = await o.e.scheduler.run('commission_monthly');
    expect(run).toMatchObject({ matched: 2, failed: [] });
    const all = await statements('gm');
    expect(all.map((s) => s.rep).sort()).toEqual([o.ids.rep_east, o.ids.rep_north].sort());
    const expected: Record<string, { sales: number; orders: number }> = {
      rep_east: { sales: 80_000 + 450_000 + 123_456.78, orders: 3 },
      rep_north: { sales: 60_000, orders: 1 },
    };
    for (const rep of ['rep_east', 'rep_north'] as const) {
      const [s] = await statements(rep); // each rep sees their own only
      expect(s).toMatchObject({
        rep: o.ids[rep],
        owner_id: o.ids[rep],
        period_start: months.lastMonth,
        period_end: months.thisMonth,
        order_count: expected[rep].orders,
        sales_amount: expected[rep].sales,
        approval_status: 'pending', // submitted on the rep's behalf at once
      });
      expect([rep, s.commission]).toEqual([rep, commissionOf(expected[rep].sales)]);
      expect(s.statement_no).toMatch(/^YJ-\d{6}-\d{4}$/);
    }
    expect(commissionOf(653_456.78)).toBe(55_414.81); // 5,000 + 32,000 + 18,414.81
    const told = (await o.as('rep_east', 'GET', '/api/notifications')).body.data.filter(
      (n: any) => n.template === 'commission_statement_ready',
    );
    expect(told[0].body['zh-CN']).toContain('上月销售额 653,456.78 元，共 3 笔订单');
    // Each statement waits in the rep's manager's inbox: manager_east for rep_east, the director for rep_north.
    const [east] = await statements('rep_east');
    const [north] = await statements('rep_north');
    const task = async (user: UserName, id: string) =>
      ((await o.as(user, 'GET', '/api/approvals/inbox')).body.data as any[]).find((t) => t.recordId === id);
    expect(await task('manager_east', east.id)).toBeDefined();
    expect(await task('director', north.id)).toBeDefined();
    expect(await task('manager_east', north.id)).toBeUndefined();
    const history = (await o.as('rep_east', 'GET', `/api/data/commission_statement/${east.id}/approvals`)).body.data;
    expect(history[0]).toMatchObject({ status: 'pending', submitter: o.ids.rep_east });

    // A second run for the same month makes no duplicates.
    expect(await o.e.scheduler.run('commission_monthly')).toMatchObject({ matched: 0, failed: [] });
    // Pending, the statement is locked; recalled, the rep may annotate — not change the figures — and resubmit.
    const locked = await o.as('rep_east', 'PATCH', `/api/data/commission_statement/${east.id}`, {
      notes: '备注',
      version: east.version,
    });
    expect([locked.status, locked.body.error.code]).toEqual([423, 'record_locked']);
    expect((await o.as('rep_east', 'POST', `/api/data/commission_statement/${east.id}/approval/recall`)).status).toBe(200);
    const [recalled] = await statements('rep_east');
    const change = await o.as('rep_east', 'PATCH', `/api/data/commission_statement/${east.id}`, {
      sales_amount: 1,
      version: recalled.version,
    });
    expect([change.status, change.body.error.code]).toEqual([403, 'field_not_writable']);
    const noted = await o.as('rep_east', 'PATCH', `/api/data/commission_statement/${east.id}`, {
      notes: '含一笔跨月订单',
      version: recalled.version,
    });
    expect(noted.status).toBe(200);
    expect((await o.as('rep_east', 'POST', `/api/data/commission_statement/${east.id}/approval/submit`)).status).toBe(200);
    const decision = await o.as('manager_east', 'POST', `/api/approvals/${(await task('manager_east', east.id)).id}/approve`);
    expect(decision.status).toBe(200);
    expect((await statements('rep_east'))[0]).toMatchObject({ approval_status: 'approved', notes: '含一笔跨月订单' });
    expect((await o.as('rep_north', 'GET', `/api/data/commission_statement/${east.id}`)).status).toBe(404);
  });

  it('the rep submits the statement to the manager: every resting state along the approval machine’s shortest paths', async () => {
    const docs = await loadPackage(join(resolve(import.meta.dirname, '..', '..'), 'sample-apps', 'sales'));
    const doc = docs.find((d: any) => d.name === 'commission_statement_approval') as ApprovalDoc;
    const { machine } = compileApproval(doc);
    const paths = getShortestPaths(machine, {
      fromState: machine.resolveState({ value: 'idle', context: { data: {} } }),
      events: ['SUBMIT', 'APPROVE', 'REJECT', 'RECALL'].map((type) => ({ type })),
    } as never);
    expect([...new Set(paths.map((p: any) => String(p.state.value)))].sort()).toEqual([
      'approved',
      'idle',
      'recalled',
      'returned',
      'step:manager',
    ]);
    const status: Record<string, string> = {
      idle: 'draft',
      approved: 'approved',
      recalled: 'recalled',
      returned: 'returned',
      'step:manager': 'pending',
    };
    for (const [i, path] of (paths as any[]).entries()) {
      // Statements are the schedule's to make: the engine's own write, owned by the rep.
      const s = (
        await o.e.call('POST', '/api/data/commission_statement', {
          rep: o.ids.rep_east,
          owner_id: o.ids.rep_east,
          period_start: `2025-0${i + 1}-01`,
          period_end: `2025-0${i + 2}-01`,
          sales_amount: 200_000,
          tier1_limit: 100_000,
          tier1_rate: 5,
          tier2_limit: 500_000,
          tier2_rate: 8,
          tier3_rate: 12,
        })
      ).body.data;
      expect(s.commission).toBe(commissionOf(200_000));
      for (const { event } of path.steps.slice(1)) {
        let res: Awaited<ReturnType<Org['as']>>;
        if (event.type === 'SUBMIT')
          res = await o.as('rep_east', 'POST', `/api/data/commission_statement/${s.id}/approval/submit`);
        else if (event.type === 'RECALL')
          res = await o.as('rep_east', 'POST', `/api/data/commission_statement/${s.id}/approval/recall`);
        else {
          const task = ((await o.as('manager_east', 'GET', '/api/approvals/inbox')).body.data as any[]).find(
            (t) => t.recordId === s.id,
          );
          res = await o.as(
            'manager_east',
            'POST',
            `/api/approvals/${task.id}/${event.type === 'APPROVE' ? 'approve' : 'reject'}`,
          );
        }
        expect([event.type, res.status]).toEqual([event.type, 200]);
      }
      const now = (await o.as('rep_east', 'GET', `/api/data/commission_statement/${s.id}`)).body.data;
      expect([String(path.state.value), now.approval_status]).toEqual([
        String(path.state.value),
        status[String(path.state.value)],
      ]);
    }
    // The manager reads the department's statements; another department's rep's are not theirs.
    const managers = (
      await o.as('manager_east', 'GET', `/api/data/commission_statement?filter=${q({ '==': [{ var: 'rep' }, o.ids.rep_north] })}`)
    ).body.data;
    expect(managers).toEqual([]);
  });
});
