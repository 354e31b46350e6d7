/**
 * Campaigns (市场活动) of the sales sample, through the API as the demo users: the marketing process
 * 计划 → 申请 → 策划 → 准备 → 执行 → 完成 walked along its shortest paths; members; the leads, deals and won
 * business a campaign brought (a converted lead carries its campaign to the deal); cost per lead and ROI;
 * the ROI report against an independent count.
 */
import { getShortestPaths } from '@xstate/graph';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileWorkflow } from '../../engine/workflow/compile.js';
import { drivers } from '../support/engine.js';
import { startSampleApps } from '../support/demo-org.js';

const today = () => new Date().toISOString().slice(0, 10);

describe.each(drivers)('campaigns on %s', (driver) => {
  let app: Awaited<ReturnType<typeof startSampleApps>>;
  beforeAll(async () => {
    app = await startSampleApps(driver);
  }, 400_000);
  afterAll(() => app?.e.stop());

  const as = (user: string, method: string, path: string, body?: unknown) => app.as(user, method, path, body);
  const get = (entity: string, id: string) => app.get(entity, id);
  const created = (user: string, entity: string, body: unknown) => app.created(user, entity, body);
  const fire = async (user: string, entity: string, id: string, event: string, input?: unknown) => {
    const res = await as(user, 'POST', `/api/data/${entity}/${id}/transitions/${event}`, input ? { input } : undefined);
    expect([event, res.status, res.body.error]).toEqual([event, 200, undefined]);
    return res.body.data.record;
  };
  const campaign = (extra: Record<string, unknown> = {}) =>
    created('marketing', 'campaign', {
      name: '杭州智能制造峰会',
      campaign_type: 'exhibition',
      start_date: today(),
      budget: 80000,
      ...extra,
    });

  it('walks the marketing process along its shortest paths, only the director approving the budget', async () => {
    const doc = app.workflows.find((w) => w.name === 'campaign_process')!;
    const { machine } = compileWorkflow(doc);
    const data = { budget: 1, $user: {}, $input: {} };
    const events = [...new Set(Object.values(doc.states).flatMap((s) => Object.keys(s.on ?? {})))].map((type) => ({
      type,
      data,
    }));
    const paths = getShortestPaths(machine, { events });
    expect([...new Set(paths.map((p) => String(p.state.value)))].sort()).toEqual(Object.keys(doc.states).sort());
    const inputs: Record<string, unknown> = {
      reject: { reason: '预算偏高，请压缩' },
      complete: { actual_cost: 72000, summary: '到场 120 人' },
    };
    for (const path of paths) {
      const c = await campaign();
      for (const step of path.steps.slice(1)) {
        const event = step.event.type;
        await fire(['approve', 'reject'].includes(event) ? 'director' : 'marketing', 'campaign', c.id, event, inputs[event]);
      }
      expect((await get('campaign', c.id)).status).toBe(String(path.state.value));
    }
    // Marketing cannot approve its own budget; without a budget there is nothing to apply for.
    const c = await campaign();
    await fire('marketing', 'campaign', c.id, 'apply');
    expect((await as('marketing', 'POST', `/api/data/campaign/${c.id}/transitions/approve`)).status).toBe(403);
    const unbudgeted = await campaign({ budget: null });
    const refused = await as('marketing', 'POST', `/api/data/campaign/${unbudgeted.id}/transitions/apply`);
    expect([refused.status, refused.body.error.code]).toEqual([409, 'guard_failed']);
    // Sending back tells the owner why.
    await fire('director', 'campaign', c.id, 'reject', { reason: '请补充活动预算明细' });
    const notes = (await as('marketing', 'GET', '/api/notifications?unread=true')).body.data;
    expect(notes.some((n: any) => JSON.stringify(n.body).includes('请补充活动预算明细'))).toBe(true);
  });

  it('refuses a campaign that ends before it starts, and a done campaign without its cost', async () => {
    const bad = await as('marketing', 'POST', '/api/data/campaign', {
      name: '错误日期活动',
      campaign_type: 'launch',
      start_date: '2026-12-10',
      end_date: '2026-12-01',
      budget: 1000,
    });
    expect([bad.status, bad.body.error.code, bad.body.error.details[0].path]).toEqual([422, 'validation_failed', '/end_date']);
    const c = await campaign();
    for (const event of ['apply']) await fire('marketing', 'campaign', c.id, event);
    await fire('director', 'campaign', c.id, 'approve');
    for (const event of ['prepare', 'execute']) await fire('marketing', 'campaign', c.id, event);
    const noCost = await as('marketing', 'POST', `/api/data/campaign/${c.id}/transitions/complete`, { input: {} });
    expect(noCost.status).toBe(422);
    expect((await get('campaign', c.id)).status).toBe('execute');
  });

  it('counts the members, leads, deals and won business a campaign brought, and its ROI', async () => {
    const c = await campaign({ name: '上海新品发布会', campaign_type: 'launch' });
    const account = await created('rep_east', 'account', { name: '上海活动来源客户有限公司', region: 'east', grade: 'b' });
    const contact = await created('rep_east', 'contact', { name: '陈工', account: account.id, mobile: '13800001111' });
    await created('marketing', 'campaign_member', {
      campaign: c.id,
      name: '陈工',
      contact: contact.id,
      member_status: 'attended',
    });
    await created('marketing', 'campaign_member', {
      campaign: c.id,
      name: '刘经理',
      contact: contact.id,
      member_status: 'invited',
    });
    const noOne = await as('marketing', 'POST', '/api/data/campaign_member', { campaign: c.id, name: '无名' });
    expect([noOne.status, noOne.body.error.details[0].path]).toEqual([422, '/contact']);

    // A lead from the campaign, converted: the new deal carries the campaign.
    const lead = await created('marketing', 'lead', {
      company: '苏州发布会来源科技有限公司',
      contact_name: '周总',
      mobile: '13900002222',
      source: 'campaign',
      campaign: c.id,
      region: 'east',
    });
    await created('marketing', 'lead', {
      company: '无锡发布会来源有限公司',
      mobile: '13900003333',
      source: 'campaign',
      campaign: c.id,
    });
    await fire('marketing', 'lead', lead.id, 'assign', { owner: app.ids.rep_east });
    await fire('rep_east', 'lead', lead.id, 'follow_up');
    await fire('rep_east', 'lead', lead.id, 'qualify');
    const converted = await fire('rep_east', 'lead', lead.id, 'convert', { opportunity_title: '发布会来源项目', amount: 150000 });
    expect((await get('opportunity', converted.converted_opportunity)).campaign).toBe(c.id);

    // A small deal from the campaign, won.
    const deal = await created('rep_east', 'opportunity', {
      title: '发布会小单',
      account: account.id,
      amount: 60000,
      opportunity_type: 'small_deal',
      campaign: c.id,
    });
    await fire('rep_east', 'opportunity', deal.id, 'quote');
    await fire('rep_east', 'opportunity', deal.id, 'win');

    let now = await get('campaign', c.id);
    expect([now.members, now.attended, now.leads, now.converted_leads, now.opportunities]).toEqual([2, 1, 2, 1, 2]);
    expect([now.pipeline_amount, now.won_amount]).toEqual([150000, 60000]);
    expect([now.cost_per_lead, now.roi]).toEqual([null, null]);

    await fire('marketing', 'campaign', c.id, 'apply');
    await fire('director', 'campaign', c.id, 'approve');
    for (const event of ['prepare', 'execute']) await fire('marketing', 'campaign', c.id, event);
    await fire('marketing', 'campaign', c.id, 'complete', { actual_cost: 40000 });
    now = await get('campaign', c.id);
    expect([now.actual_cost, now.cost_per_lead, now.roi]).toEqual([40000, 20000, 50]);
    expect(now.end_date).toBe(today());
  });

  it('reports cost and return per campaign type, agreeing with an independent count', async () => {
    const res = await as('director', 'GET', `/api/reports/campaign_roi?from=2000-01-01&to=2100-01-01`);
    expect([res.status, res.body.error]).toEqual([200, undefined]);
    const expected = await app.e.database.rows<{
      type: string;
      campaigns: number;
      cost: string | null;
      won: string;
      leads: number;
    }>(
      sql`select campaign_type as type, count(*)::int as campaigns, sum(actual_cost) as cost, sum(won_amount) as won, sum(leads)::int as leads
          from campaign where deleted_at is null and status <> 'cancelled' group by campaign_type`,
    );
    expect(expected.length).toBeGreaterThan(1);
    const rows = Object.fromEntries(res.body.data.rows.map((r: any) => [r.campaign_type, r]));
    for (const x of expected) {
      expect([x.type, rows[x.type].campaigns, rows[x.type].leads, rows[x.type].won]).toEqual([
        x.type,
        x.campaigns,
        x.leads,
        Number(x.won),
      ]);
      expect(rows[x.type].cost ?? 0).toBe(Number(x.cost ?? 0));
    }
    const type = res.body.data.columns.find((col: any) => col.name === 'campaign_type');
    expect(type.options.find((o: any) => o.value === 'launch').label).toBe('Product launch');
  });

  it('carries a won deal’s campaign to its contract, receivables and matched receipts, and reports the money received per campaign', async () => {
    const c = await campaign({ name: '南京回款归因论坛', campaign_type: 'promotion' });
    const account = await created('rep_east', 'account', { name: '南京活动回款客户有限公司', region: 'east', grade: 'b' });
    const deal = await created('rep_east', 'opportunity', {
      title: '论坛来源项目',
      account: account.id,
      amount: 80000,
      opportunity_type: 'small_deal',
      campaign: c.id,
    });
    await fire('rep_east', 'opportunity', deal.id, 'quote');
    await fire('rep_east', 'opportunity', deal.id, 'win');
    await created('rep_east', 'opportunity', { title: '论坛来源二期', account: account.id, amount: 30000, campaign: c.id });

    // The accountant may not read campaigns: the contract takes the deal's campaign all the same (the engine's read).
    const contract = await created('finance', 'contract', {
      title: '论坛来源合同',
      account: account.id,
      opportunity: deal.id,
      amount: 80000,
    });
    expect(contract.campaign).toBe(c.id);
    const plan = await created('finance', 'payment_plan', {
      title: '全款',
      contract: contract.id,
      account: account.id,
      due_date: new Date(Date.now() + 60 * 86_400_000).toISOString().slice(0, 10), // its timer waits: raised by hand
      amount: 80000,
    });
    await fire('finance', 'contract', contract.id, 'sign');
    await fire('finance', 'payment_plan', plan.id, 'raise');
    const receivable = await get('receivable', (await get('payment_plan', plan.id)).receivable);
    expect([receivable.contract, receivable.campaign]).toEqual([contract.id, c.id]);
    const receipt = await created('finance', 'receipt', { account: account.id, amount: 50000, received_date: today() });
    const matched = await created('finance', 'receipt_allocation', {
      receipt: receipt.id,
      receivable: receivable.id,
      amount: 35000,
      matched_on: today(),
    });
    expect(matched.campaign).toBe(c.id);

    const res = await as('gm', 'GET', '/api/reports/campaign_receipts?from=2000-01-01&to=2100-01-01');
    expect([res.status, res.body.error]).toEqual([200, undefined]);
    const detail = res.body.data.rows.filter((r: any) => !r._subtotal);
    const mine = detail.find((r: any) => r.name === '南京回款归因论坛');
    expect([mine.customers, mine.opportunities, mine.won, mine.received]).toEqual([1, 2, 80000, 35000]);
    // An independent sum: receipts matched against receivables of contracts of the campaign's deals (the
    // path itself, not the campaign the documents carry), per campaign.
    const expected = await app.e.database.rows<{ type: string; name: string; received: string; won: string }>(
      sql`select c.campaign_type as type, c.name,
            (select coalesce(sum(a.amount), 0) from receipt_allocation a
               join receivable r on r.id = a.receivable and r.deleted_at is null
               join contract k on k.id = r.contract and k.deleted_at is null
               join opportunity o on o.id = k.opportunity and o.deleted_at is null
              where o.campaign = c.id and a.deleted_at is null) as received,
            (select coalesce(sum(o.amount), 0) from opportunity o
              where o.campaign = c.id and o.stage = 'won' and o.deleted_at is null) as won
          from campaign c where c.deleted_at is null and c.status <> 'cancelled'`,
    );
    const sums = new Map<string, { received: number; won: number }>();
    for (const x of expected) {
      const key = `${x.type}|${x.name}`;
      const was = sums.get(key) ?? { received: 0, won: 0 };
      sums.set(key, { received: was.received + Number(x.received), won: was.won + Number(x.won) });
    }
    expect(detail).toHaveLength(sums.size);
    for (const r of detail)
      expect([r.campaign_type, r.name, r.received, r.won]).toEqual([
        r.campaign_type,
        r.name,
        sums.get(`${r.campaign_type}|${r.name}`)!.received,
        sums.get(`${r.campaign_type}|${r.name}`)!.won,
      ]);
    expect(res.body.data.totals.received).toBe([...sums.values()].reduce((t, x) => t + x.received, 0));

    // Who may not read the matchings may not run it (and does not see it listed).
    const director = await as('director', 'GET', '/api/reports/campaign_receipts');
    expect(director.status).toBe(403);
    const listed = (await as('director', 'GET', '/api/reports')).body.data.map((r: any) => r.name);
    expect([listed.includes('campaign_roi'), listed.includes('campaign_receipts')]).toEqual([true, false]);
  });
});
