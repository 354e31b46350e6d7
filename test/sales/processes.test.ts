/**
 * The sales sample's scheduled processes, through the HTTP API as the demo users: activity reports
 * generated per rep (日报/周报/月报 "由系统自动生成") and their review workflow, KPI alerts to managers,
 * the churn warning on the latest order (000: "超过6个月没有下单") and the visit-frequency warning.
 */
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getShortestPaths } from '@xstate/graph';
import { sql } from 'drizzle-orm';
import { loadPackage } from '../../metadata/loader.js';
import { compileWorkflow } from '../../engine/workflow/compile.js';
import type { WorkflowDoc } from '../../engine/workflow/kind.js';
import { drivers, q } from '../support/engine.js';
import { startOrg, type Org, type UserName } from '../access/org.js';

const DAY = 86_400_000;
/** A calendar date in Beijing (UTC+8), `days` from today. */
const beijingDay = (days = 0) => new Date(Date.now() + 8 * 3_600_000 + days * DAY).toISOString().slice(0, 10);
/** Monday of this week in Beijing, moved by whole weeks. */
function beijingMonday(weeks = 0) {
  const today = new Date(`${beijingDay()}T00:00:00Z`);
  const monday = new Date(today.getTime() - ((today.getUTCDay() + 6) % 7) * DAY + weeks * 7 * DAY);
  return monday.toISOString().slice(0, 10);
}
const plus = (date: string, days: number) =>
  new Date(new Date(`${date}T00:00:00Z`).getTime() + days * DAY).toISOString().slice(0, 10);

describe.each(drivers)('sales processes (sales sample) on %s', (driver) => {
  let o: Org;
  beforeAll(async () => {
    o = await startOrg(driver, ['sales']);
  }, 60_000);
  afterAll(() => o?.e.stop());

  const visit = (user: UserName, account: string, activity_date: string, activity_type = 'visit') =>
    o.as(user, 'POST', '/api/data/activity', { subject: '客户拜访', activity_type, activity_date, account });
  const inbox = async (user: UserName, template: string) =>
    ((await o.as(user, 'GET', '/api/notifications?limit=200')).body.data as any[]).filter((n) => n.template === template);

  it('walks the activity report workflow along the machine’s shortest paths: the rep submits, the manager reviews or returns', async () => {
    const docs = await loadPackage(join(resolve(import.meta.dirname, '..', '..'), 'sample-apps', 'sales'));
    const doc = docs.find((d: any) => d.name === 'activity_report_process') as WorkflowDoc;
    const { machine } = compileWorkflow(doc);
    const data = { summary: '本周拜访三家重点客户', $user: {}, $input: { comment: '请补充商机进展' } };
    const events = ['submit', 'review', 'return', 'resubmit'].map((type) => ({ type, data }));
    const paths = getShortestPaths(machine, { events });
    expect([...new Set(paths.map((p) => String(p.state.value)))].sort()).toEqual(['draft', 'returned', 'reviewed', 'submitted']);
    const actor: Record<string, UserName> = {
      submit: 'rep_east',
      resubmit: 'rep_east',
      review: 'manager_east',
      return: 'manager_east',
    };
    for (const path of paths) {
      const created = await o.as('rep_east', 'POST', '/api/data/activity_report', {
        title: '周报 路径',
        period: 'weekly',
        period_start: '2025-01-06',
        period_end: '2025-01-13',
        rep: o.ids.rep_east,
        manager: o.ids.manager_east,
        summary: '本周拜访三家重点客户',
      });
      expect(created.status).toBe(201);
      const report = created.body.data;
      expect(report.status).toBe('draft');
      for (const step of path.steps.slice(1)) {
        const res = await o.as(
          actor[step.event.type],
          'POST',
          `/api/data/activity_report/${report.id}/transitions/${step.event.type}`,
          {
            input: step.event.type === 'return' || step.event.type === 'review' ? { comment: '请补充商机进展' } : undefined,
          },
        );
        expect([step.event.type, res.status]).toEqual([step.event.type, 200]);
      }
      const now = (await o.as('rep_east', 'GET', `/api/data/activity_report/${report.id}`)).body.data;
      expect(now.status).toBe(String(path.state.value));
    }
    // A rep cannot review their own report; an empty summary cannot be submitted.
    const empty = (
      await o.as('rep_east', 'POST', '/api/data/activity_report', {
        title: '空报告',
        period: 'daily',
        period_start: '2025-01-06',
        period_end: '2025-01-07',
        rep: o.ids.rep_east,
      })
    ).body.data;
    const refused = await o.as('rep_east', 'POST', `/api/data/activity_report/${empty.id}/transitions/submit`);
    expect([refused.status, refused.body.error.code]).toEqual([409, 'guard_failed']);
    expect((await inbox('manager_east', 'activity_report_submitted')).length).toBeGreaterThan(0);
    expect((await inbox('rep_east', 'activity_report_returned')).length).toBeGreaterThan(0);
  });

  it('generates each rep’s weekly report pre-filled with the week’s visits, calls, deals and orders', async () => {
    const account = o.accounts.rep_east.id;
    for (const day of [beijingMonday(), beijingDay()]) expect((await visit('rep_east', account, day)).status).toBe(201);
    expect((await visit('rep_east', account, beijingDay(), 'call')).status).toBe(201);
    expect((await visit('rep_east', account, plus(beijingMonday(-1), -1))).status).toBe(201); // two weeks ago: not counted
    const opp = await o.as('rep_east', 'POST', '/api/data/opportunity', {
      title: '周报商机',
      account,
      opportunity_type: 'small_deal',
      amount: 5000,
    });
    expect(opp.status).toBe(201);
    await o.e.call('POST', '/api/data/order', { account, amount: 1234.5, order_date: beijingDay(), owner_id: o.ids.rep_east });

    const run = await o.e.scheduler.run('activity_report_weekly');
    expect(run).toMatchObject({ matched: 2, failed: [] }); // rep_east and rep_north
    const reports = (
      await o.as('manager_east', 'GET', `/api/data/activity_report?filter=${q({ '==': [{ var: 'period' }, 'weekly'] })}&limit=50`)
    ).body.data.filter((r: any) => r.rep === o.ids.rep_east && r.period_start === beijingMonday());
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({
      period_end: beijingMonday(1),
      owner_id: o.ids.rep_east,
      manager: o.ids.manager_east,
      visits: 2,
      calls: 1,
      new_opportunities: 1,
      won_opportunities: 0,
      order_amount: 1234.5,
      status: 'draft',
    });
    expect((await inbox('rep_east', 'activity_report_ready'))[0].body['zh-CN']).toContain('拜访 2 次，电话 1 次');
    // The next run of the same week makes no second report; the daily and monthly ones come from their own schedules.
    expect(await o.e.scheduler.run('activity_report_weekly')).toMatchObject({ matched: 0 });
    expect(await o.e.scheduler.run('activity_report_daily')).toMatchObject({ matched: 2, failed: [] });
    expect(await o.e.scheduler.run('activity_report_monthly')).toMatchObject({ matched: 2, failed: [] });
    const daily = (await o.as('rep_east', 'GET', `/api/data/activity_report?filter=${q({ '==': [{ var: 'period' }, 'daily'] })}`))
      .body.data;
    // Today's visit, and on a Monday the week's first visit too.
    const visitsToday = beijingMonday() === beijingDay() ? 2 : 1;
    expect(daily.find((r: any) => r.period_start === beijingDay())).toMatchObject({
      visits: visitsToday,
      calls: 1,
      order_amount: 1234.5,
    });
  });

  it('tells managers of too few visits last week, key customers visited too often, and key customers with incomplete data', async () => {
    const keyEast = (
      await o.as('rep_east', 'POST', '/api/data/account', {
        name: '重点客户 华东',
        region: 'east',
        grade: 'a',
        industry: 'manufacturing',
        phone: '021-55550000',
        address: '上海市浦东新区',
      })
    ).body.data;
    expect(keyEast.id).toBeDefined();
    // rep_north makes five visits last week, rep_east four — all to one key customer.
    for (let i = 0; i < 5; i++)
      expect((await visit('rep_north', o.accounts.rep_north.id, plus(beijingMonday(-1), i))).status).toBe(201);
    for (let i = 0; i < 4; i++) expect((await visit('rep_east', keyEast.id, plus(beijingMonday(-1), i))).status).toBe(201);

    expect(await o.e.scheduler.run('kpi_few_visits')).toMatchObject({ matched: 1, failed: [] });
    const few = await inbox('manager_east', 'kpi_few_visits');
    expect(few.map((n) => n.recordId)).toEqual([o.ids.rep_east]);
    expect(few[0].body['zh-CN']).toContain('上周仅拜访客户 4 次');
    expect(await inbox('director', 'kpi_few_visits')).toEqual([]); // rep_north made 5

    expect(await o.e.scheduler.run('kpi_key_customer_overvisited')).toMatchObject({ matched: 1, failed: [] });
    const often = await inbox('manager_east', 'kpi_key_customer_overvisited');
    expect(often.map((n) => n.recordId)).toEqual([keyEast.id]);

    // The key customer has industry, phone and address but no contact yet: incomplete; with one, complete.
    const grade = async (id: string) => (await o.e.call('GET', `/api/data/account/${id}`)).body.data.grade;
    const incomplete = await o.e.scheduler.run('kpi_key_customer_incomplete');
    const reported = (await inbox('manager_east', 'kpi_key_customer_incomplete')).map((n) => n.recordId);
    expect(reported).toContain(keyEast.id);
    expect(incomplete.failed).toEqual([]);
    expect(
      (await o.as('rep_east', 'POST', '/api/data/contact', { name: '王经理', account: keyEast.id, mobile: '13800000000' }))
        .status,
    ).toBe(201);
    await o.e.scheduler.run('kpi_key_customer_incomplete');
    const again = (await inbox('manager_east', 'kpi_key_customer_incomplete')).filter((n) => n.recordId === keyEast.id);
    expect([await grade(keyEast.id), again.length]).toEqual(['a', 1]); // not reported a second time
  });

  it('warns — and saves — a visit to a customer already visited three times in the last 7 days', async () => {
    const account = (await o.as('rep_north', 'POST', '/api/data/account', { name: '常访客户', region: 'north', grade: 'b' })).body
      .data;
    for (let i = 0; i < 3; i++) {
      const res = await visit('rep_north', account.id, beijingDay(-i));
      expect([res.status, res.body.meta]).toEqual([201, undefined]);
    }
    const fourth = await o.as(
      'rep_north',
      'POST',
      '/api/data/activity',
      { subject: '第四次拜访', activity_type: 'visit', activity_date: beijingDay(), account: account.id },
      { 'accept-language': 'zh-CN' },
    );
    expect(fourth.status).toBe(201);
    expect(fourth.body.meta.warnings).toEqual([
      { code: 'customer_visited_often', message: '该客户近 7 天已被拜访超过 3 次，请关注拜访效率。', path: '/account' },
    ]);
    expect((await o.as('rep_north', 'GET', `/api/data/activity/${fourth.body.data.id}`)).status).toBe(200);
    // A call is not a visit.
    const call = await visit('rep_north', account.id, beijingDay(), 'call');
    expect([call.status, call.body.meta]).toEqual([201, undefined]);
  });

  it('puts exactly the customers without an order for six months into churn warning (Saturday 02:00 Beijing time)', async () => {
    const schedules = (await o.e.jobs.schedules()).filter((s: any) => s.name === 'automation.churn_warning');
    expect(schedules.map((s: any) => [s.cron, s.timezone])).toEqual([['0 2 * * 6', 'Asia/Shanghai']]);
    const make = async (name: string, ageDays: number, orderDaysAgo: number[]) => {
      const a = (await o.as('rep_east', 'POST', '/api/data/account', { name, region: 'east', grade: 'b' })).body.data;
      for (const d of orderDaysAgo)
        expect(
          (
            await o.e.call('POST', '/api/data/order', {
              account: a.id,
              amount: 100,
              order_date: beijingDay(-d),
              owner_id: o.ids.rep_east,
            })
          ).status,
        ).toBe(201);
      await o.e.database.db.execute(
        sql`update account set created_at = now() - make_interval(days => ${ageDays}) where id = ${a.id}`,
      );
      return a.id as string;
    };
    const lapsed = await make('半年未下单', 400, [200, 300]);
    const recent = await make('近期下单', 400, [300, 20]);
    const neverOld = await make('从未下单 老客户', 200, []);
    const neverNew = await make('从未下单 新客户', 30, []);
    const boundary = await make('五个月前下单', 400, [150]);
    // Every other customer of this database is new and without orders: none qualifies.
    const run = await o.e.scheduler.run('churn_warning');
    expect(run.failed).toEqual([]);
    const warned = (
      await o.e.call('GET', `/api/data/account?filter=${q({ '==': [{ var: 'churn_status' }, 'warned'] })}&limit=200`)
    ).body.data.map((a: any) => a.id);
    expect(warned.sort()).toEqual([lapsed, neverOld].sort());
    expect([recent, neverNew, boundary].filter((id) => warned.includes(id))).toEqual([]);
    const told = await inbox('rep_east', 'churn_warning');
    expect(told.map((n) => n.recordId).sort()).toEqual([lapsed, neverOld].sort());
    const lapsedNote = told.find((n) => n.recordId === lapsed);
    expect(lapsedNote.body['zh-CN']).toContain(`最近下单：${beijingDay(-200)}`);
    expect(told.find((n) => n.recordId === neverOld).body['zh-CN']).toContain('最近下单：无');
  });
});
