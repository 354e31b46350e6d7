/**
 * The sample service app, through the API as its demo users: tickets along every shortest path of
 * their process, service levels by contract or customer grade, the escalation chain on timers,
 * complaints handled by several departments at once, service tasks, field visits, the knowledge base
 * and the scopes of the service roles.
 */
import { join, resolve } from 'node:path';
import { getShortestPaths } from '@xstate/graph';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPackage } from '../../metadata/loader.js';
import { compileWorkflow } from '../../engine/workflow/compile.js';
import type { WorkflowDoc } from '../../engine/workflow/kind.js';
import { drivers, q, startEngine, type TestEngine } from '../support/engine.js';
import { seedDemoOrganisation } from '../support/demo-org.js';

const root = resolve(import.meta.dirname, '..', '..');
const apps = ['sales', 'finance', 'service'].map((a) => join(root, 'sample-apps', a));
const HOUR = 3_600_000;

describe.each(drivers)('sample service app on %s', (driver) => {
  let e: TestEngine;
  let ids: Record<string, string>;
  let tokens: Record<string, string>;
  let workflows: WorkflowDoc[];
  let account: any;
  let accountB: any;

  beforeAll(async () => {
    e = await startEngine(driver, { jobs: { pollingSeconds: 0.5 } });
    workflows = [];
    for (const folder of apps) {
      const docs = await loadPackage(folder);
      workflows.push(...(docs.filter((d: any) => d.kind === 'workflow') as WorkflowDoc[]));
      const res = await e.call('POST', '/api/meta/deploy', { documents: docs });
      expect([folder, res.status]).toEqual([folder, 201]);
    }
    ({ ids, tokens } = await seedDemoOrganisation(e, apps));
    account = (await e.call('POST', '/api/data/account', { name: '上海服务客户有限公司', region: 'east', grade: 'a' })).body.data;
    accountB = (await e.call('POST', '/api/data/account', { name: '成都服务客户有限公司', region: 'southwest', grade: 'c' })).body
      .data;
  }, 400_000); // three sample apps and the demo organisation, on a busy shared machine
  afterAll(() => e?.stop());

  const as = (user: string, method: string, path: string, body?: unknown) => e.callAs(tokens[user], method, path, body);
  const newTicket = async (extra: Record<string, unknown> = {}, user = 'service_mgr') => {
    const res = await as(user, 'POST', '/api/data/ticket', {
      subject: '服务器无法启动',
      account: account.id,
      customer_grade: 'a',
      description: '机房服务器开机蓝屏',
      ...extra,
    });
    expect(res.status).toBe(201);
    return res.body.data;
  };

  it('sets the service level by contract, else by customer grade, with its response and resolution limits', async () => {
    const gold = await newTicket();
    expect(gold).toMatchObject({
      status: 'new',
      service_level: 'gold',
      response_hours: 2,
      resolution_hours: 8,
      escalation_level: 0,
      escalated_to: '服务人员',
    });
    expect(new Date(gold.response_due).getTime() - new Date(gold.created_at).getTime()).toBe(2 * HOUR);
    expect(new Date(gold.resolution_due).getTime() - new Date(gold.created_at).getTime()).toBe(8 * HOUR);
    expect(gold.escalate_at).toBe(gold.response_due);
    const contract = await newTicket({ account: accountB.id, customer_grade: 'c', contract_level: 'silver' });
    expect(contract).toMatchObject({ service_level: 'silver', response_hours: 4, resolution_hours: 24 });
    expect(await newTicket({ account: accountB.id, customer_grade: 'c' })).toMatchObject({
      service_level: 'bronze',
      response_hours: 8,
    });
  });

  it('walks the ticket process along every shortest path the machine yields, as the demo users', async () => {
    const doc = workflows.find((w) => w.name === 'ticket_process')!;
    const { machine } = compileWorkflow(doc);
    const data = { escalation_level: 0, knowledge_article: null, $user: {}, $input: {} };
    const events = [...new Set(Object.values(doc.states).flatMap((s) => Object.keys(s.on ?? {})))].map((type) => ({
      type,
      data,
    }));
    const paths = getShortestPaths(machine, { events });
    expect([...new Set(paths.map((p) => String(p.state.value)))].sort()).toEqual(Object.keys(doc.states).sort());
    // Who does what: the manager dispatches and escalates, the engineer works the ticket.
    const actor: Record<string, string> = {
      assign: 'service_mgr',
      escalate: 'service_mgr',
      accept: 'engineer',
      reopen: 'service_mgr',
    };
    const inputs: Record<string, unknown> = {
      assign: { owner: ids.engineer },
      resolve: { resolution: '更换电源模块后恢复正常' },
      close: { satisfaction: 'satisfied', feedback: '响应及时' },
      reopen: { reason: '问题复现' },
    };
    for (const path of paths) {
      const ticket = await newTicket();
      for (const step of path.steps.slice(1)) {
        const event = step.event.type;
        const input = inputs[event];
        const res = await as(
          actor[event] ?? 'engineer',
          'POST',
          `/api/data/ticket/${ticket.id}/transitions/${event}`,
          input ? { input } : undefined,
        );
        expect([String(path.state.value), event, res.status, res.body.error]).toEqual([
          String(path.state.value),
          event,
          200,
          undefined,
        ]);
      }
      const final = (await e.call('GET', `/api/data/ticket/${ticket.id}`)).body.data;
      expect(final.status).toBe(String(path.state.value));
    }
    // A service engineer may not dispatch; a closed ticket is reopened by a manager only.
    const t = await newTicket();
    expect(
      (await as('engineer', 'POST', `/api/data/ticket/${t.id}/transitions/assign`, { input: { owner: ids.engineer } })).status,
    ).toBe(403);
  });

  it('escalates a ticket past its limit level by level on timers, telling each level, up to the general manager', async () => {
    const ticket = await newTicket({ subject: '核心交换机宕机' });
    const level = async () => (await e.call('GET', `/api/data/ticket/${ticket.id}`)).body.data;
    const timerDue = async () =>
      (
        await e.database.rows<{ start_after: Date }>(sql`select start_after from jobs.job
      where name = 'workflow-timer' and state = 'created' and data->>'id' = ${ticket.id}`)
      )[0]?.start_after;
    // Each level gets one more response limit: the timer is due at created + 2 h × (level + 1).
    for (const expected of [1, 2, 3]) {
      const due = await timerDue();
      expect(new Date(due).getTime() - new Date(ticket.created_at).getTime()).toBe(2 * HOUR * expected);
      // Time passes: the job is due now.
      await e.database.db.execute(
        sql`update jobs.job set start_after = now() where name = 'workflow-timer' and state = 'created' and data->>'id' = ${ticket.id}`,
      );
      const until = Date.now() + 15_000;
      while ((await level()).escalation_level < expected && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
      expect(await level()).toMatchObject({ escalation_level: expected, overdue: true, status: 'new' });
    }
    expect((await level()).escalated_to).toBe('总经理');
    // Each level's people were told: the service manager, then the director, then the general manager.
    const told = await e.database.rows<{
      username: string;
    }>(sql`select u.username from inbox.notifications n join "user" u on u.id = n.user_id
      where n.record_id = ${ticket.id} order by n.id`);
    expect(told.map((t) => t.username)).toEqual(expect.arrayContaining(['service_mgr', 'service_dir', 'gm']));
    // At the top the chain stops: the next timer's guard does not hold.
    const history = (await e.call('GET', `/api/data/ticket/${ticket.id}/workflow-history`)).body.data.transitions;
    expect(history.filter((h: any) => h.event === 'escalate')).toHaveLength(3);
    expect((await as('service_mgr', 'POST', `/api/data/ticket/${ticket.id}/transitions/escalate`)).body.error.code).toBe(
      'guard_failed',
    );
  }, 60_000);

  it('sends a complaint to the heads of every department it names at once, and closes it when all have handled their part', async () => {
    const complaint = (
      await as('service_mgr', 'POST', '/api/data/complaint', {
        subject: '发票开错且上门服务迟到',
        account: account.id,
        departments: ['sales', 'finance'],
        severity: 'major',
        description: '客户投诉发票抬头错误，工程师迟到两小时',
      })
    ).body.data;
    expect(complaint.handling_status).toBe('draft');
    const submitted = await as('service_mgr', 'POST', `/api/data/complaint/${complaint.id}/approval/submit`, {});
    expect(submitted.status).toBe(200);
    const assignees = submitted.body.data.request.tasks.map((t: any) => t.assignee).sort();
    expect(assignees).toEqual([ids.director, ids.finance].sort());
    const taskOf = (user: string) => submitted.body.data.request.tasks.find((t: any) => t.assignee === ids[user]).id;
    expect((await as('finance', 'POST', `/api/approvals/${taskOf('finance')}/approve`, { comment: '已重开发票' })).status).toBe(
      200,
    );
    expect((await e.call('GET', `/api/data/complaint/${complaint.id}`)).body.data).toMatchObject({
      handling_status: 'pending',
      closed_at: null,
    });
    expect(
      (await as('director', 'POST', `/api/approvals/${taskOf('director')}/approve`, { comment: '已致歉并调整排班' })).status,
    ).toBe(200);
    const closed = (await e.call('GET', `/api/data/complaint/${complaint.id}`)).body.data;
    expect(closed.handling_status).toBe('approved');
    expect(closed.closed_at).not.toBeNull();
  });

  it('grows the knowledge base from a solved ticket, found by a two-character Chinese keyword', async () => {
    const ticket = await newTicket({ subject: '打印机卡纸', description: '财务部打印机频繁卡纸' });
    expect(
      (await as('service_mgr', 'POST', `/api/data/ticket/${ticket.id}/transitions/assign`, { input: { owner: ids.engineer } }))
        .status,
    ).toBe(200);
    expect((await as('engineer', 'POST', `/api/data/ticket/${ticket.id}/transitions/start`)).status).toBe(200);
    expect(
      (
        await as('engineer', 'POST', `/api/data/ticket/${ticket.id}/transitions/resolve`, {
          input: { resolution: '清理搓纸轮并更换分页器' },
        })
      ).status,
    ).toBe(200);
    const published = await as('engineer', 'POST', `/api/data/ticket/${ticket.id}/transitions/publish_knowledge`);
    expect(published.status).toBe(200);
    expect(published.body.data.record.knowledge_article).toBeTruthy();
    expect((await as('engineer', 'POST', `/api/data/ticket/${ticket.id}/transitions/publish_knowledge`)).body.error.code).toBe(
      'guard_failed',
    );
    for (const word of ['卡纸', '搓纸']) {
      const found = (await as('service', 'GET', `/api/data/kb_article?q=${encodeURIComponent(word)}`)).body.data;
      expect([word, found.map((a: any) => a.title)]).toEqual([word, ['打印机卡纸']]);
    }
    expect((await as('service', 'GET', `/api/data/kb_article?q=${encodeURIComponent('蓝屏')}`)).body.data).toEqual([]);
  });

  it('walks service tasks and field visits along their shortest paths', async () => {
    const inputs: Record<string, unknown> = {
      complete: { result: '已完成巡检' },
      record_feedback: { feedback: '客户满意' },
      finish: { report: '更换硬盘，系统恢复', satisfaction: 'very_satisfied' },
    };
    const cases = [
      { name: 'service_process', entity: 'service_task', field: 'stage', body: { subject: '季度巡检', account: account.id } },
      {
        name: 'field_visit_process',
        entity: 'field_visit',
        field: 'status',
        body: {
          subject: '上门更换硬盘',
          account: account.id,
          scheduled_start: '2026-12-01T02:00:00Z',
          scheduled_end: '2026-12-01T04:00:00Z',
        },
      },
    ];
    for (const c of cases) {
      const doc = workflows.find((w) => w.name === c.name)!;
      const { machine } = compileWorkflow(doc);
      const events = [...new Set(Object.values(doc.states).flatMap((s) => Object.keys(s.on ?? {})))].map((type) => ({
        type,
        data: { owner_id: ids.engineer, $user: {}, $input: {} },
      }));
      const paths = getShortestPaths(machine, { events });
      expect([...new Set(paths.map((p) => String(p.state.value)))].sort()).toEqual(Object.keys(doc.states).sort());
      for (const path of paths) {
        const record = (await as('engineer', 'POST', `/api/data/${c.entity}`, c.body)).body.data;
        for (const step of path.steps.slice(1)) {
          const input = inputs[step.event.type];
          const res = await as(
            'engineer',
            'POST',
            `/api/data/${c.entity}/${record.id}/transitions/${step.event.type}`,
            input ? { input } : undefined,
          );
          expect([c.name, step.event.type, res.status, res.body.error]).toEqual([c.name, step.event.type, 200, undefined]);
        }
        expect((await as('engineer', 'GET', `/api/data/${c.entity}/${record.id}`)).body.data[c.field]).toBe(
          String(path.state.value),
        );
      }
    }
    const backwards = await as('engineer', 'POST', '/api/data/field_visit', {
      subject: '时间错误',
      account: account.id,
      scheduled_start: '2026-12-01T04:00:00Z',
      scheduled_end: '2026-12-01T02:00:00Z',
    });
    expect(backwards.status).toBe(422);
    expect(backwards.body.error.details[0].path).toBe('/scheduled_end');
  });

  it('scopes: an engineer sees the open queue and own tickets, a manager the department, sales nothing', async () => {
    const mine = await newTicket({ subject: '工程师自己的工单' });
    await as('service_mgr', 'POST', `/api/data/ticket/${mine.id}/transitions/assign`, { input: { owner: ids.engineer } });
    const other = await newTicket({ subject: '别人的工单' });
    await as('service_mgr', 'POST', `/api/data/ticket/${other.id}/transitions/assign`, { input: { owner: ids.service } });
    const titles = async (user: string) =>
      (
        await as(
          user,
          'GET',
          `/api/data/ticket?limit=200&filter=${q({ in: [{ var: 'subject' }, ['工程师自己的工单', '别人的工单']] })}`,
        )
      ).body.data
        ?.map((t: any) => t.subject)
        .sort();
    expect(await titles('engineer')).toEqual(['工程师自己的工单']);
    expect(await titles('service_mgr')).toEqual(['别人的工单', '工程师自己的工单']);
    expect((await as('rep_east', 'GET', '/api/data/ticket')).status).toBe(403);
  });

  it('analyses service by time and type: the reports agree with an independent count, the dashboard is the manager’s home', async () => {
    // A resolved ticket knows how long it took and whether it kept its deadline.
    const quick = await newTicket({ subject: '快速解决的工单' });
    await as('service_mgr', 'POST', `/api/data/ticket/${quick.id}/transitions/assign`, { input: { owner: ids.engineer } });
    expect((await as('engineer', 'POST', `/api/data/ticket/${quick.id}/transitions/start`)).status).toBe(200);
    const resolved = await as('engineer', 'POST', `/api/data/ticket/${quick.id}/transitions/resolve`, {
      input: { resolution: '重启服务后恢复' },
    });
    expect([resolved.status, resolved.body.error]).toEqual([200, undefined]);
    const done = (await e.call('GET', `/api/data/ticket/${quick.id}`)).body.data;
    const hours = (new Date(done.resolved_at).getTime() - new Date(done.created_at).getTime()) / HOUR;
    expect(done.resolution_time).toBeCloseTo(hours, 2);
    expect(done.resolved_in_time).toBe(true);
    expect((await newTicket()).resolved_in_time).toBeNull();

    const sla = await e.call('GET', '/api/reports/ticket_sla');
    expect(sla.status, JSON.stringify(sla.body)).toBe(200);
    const expected = await e.database.rows<{ level: string; tickets: number; resolved: number; in_time: number }>(
      sql`select service_level as level, count(*)::int as tickets, count(resolved_at)::int as resolved,
                 count(*) filter (where resolved_at <= resolution_due)::int as in_time
          from ticket where deleted_at is null group by service_level order by service_level`,
    );
    const rows = Object.fromEntries(sla.body.data.rows.map((r: any) => [r.service_level, r]));
    expect(expected.length).toBeGreaterThan(1);
    // The service level is a text formula naming its dictionary: the report shows the levels' labels, in the
    // dictionary's order, like a picklist's.
    const levelColumn = sla.body.data.columns.find((c: any) => c.name === 'service_level');
    const dictionary = (await e.call('GET', '/api/meta/documents/dictionary/service_level')).body;
    expect(levelColumn.type).toBe('picklist');
    expect(levelColumn.options).toEqual(dictionary.items.map((i: any) => ({ value: i.value, label: i.label.en })));
    const order = dictionary.items.map((i: any) => i.value);
    const shown = sla.body.data.rows.map((r: any) => r.service_level).filter((v: any) => v !== null);
    expect(shown).toEqual([...shown].sort((a: string, b: string) => order.indexOf(a) - order.indexOf(b)));
    for (const x of expected) {
      expect([x.level, rows[x.level].tickets, rows[x.level].resolved, rows[x.level].in_time]).toEqual([
        x.level,
        x.tickets,
        x.resolved,
        x.in_time,
      ]);
      expect(rows[x.level].in_time_rate).toBeCloseTo(x.resolved ? x.in_time / x.resolved : 0, 6);
    }
    // Every service report runs for the service manager; the service dashboard is their home, every widget computed.
    for (const name of [
      'ticket_volume',
      'ticket_trend',
      'ticket_channels',
      'service_satisfaction',
      'engineer_workload',
      'complaints_by_severity',
    ]) {
      const r = await as('service_mgr', 'GET', `/api/reports/${name}`);
      expect([name, r.status]).toEqual([name, 200]);
      expect(r.body.data.rows.length, name).toBeGreaterThan(0);
    }
    const trend = (await e.call('GET', '/api/reports/ticket_trend')).body.data;
    expect(trend.rows).toHaveLength(12); // the twelve months ending with this one, empty ones filled
    expect(trend.rows.at(-1).tickets).toBe(
      (await e.database.rows<{ n: number }>(sql`select count(*)::int as n from ticket where deleted_at is null`))[0].n,
    );
    const home = await as('service_mgr', 'GET', '/api/dashboards/home');
    expect([home.status, home.body.data?.name]).toEqual([200, 'service_home']);
    for (const w of home.body.data.widgets) expect(w.error, w.name).toBeUndefined();
    expect((await as('rep_east', 'GET', '/api/dashboards/service_home')).status).toBe(403);
  });
});
