import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getShortestPaths } from '@xstate/graph';
import { sql } from 'drizzle-orm';
import { loadPackage } from '../../metadata/loader.js';
import { compileWorkflow } from '../../engine/workflow/compile.js';
import type { WorkflowDoc } from '../../engine/workflow/kind.js';
import { drivers, L, startEngine, type TestEngine } from '../support/engine.js';
import { carrying } from '../../engine/db/carried.js';
import { setClock } from '../../engine/db/clock.js';
import { flushDeferred } from '../../engine/db/deferred.js';

const root = resolve(import.meta.dirname, '..', '..');

describe.each(drivers)('workflows on %s', (driver) => {
  let e: TestEngine;
  let account: any;
  let rep: string;
  let manager: string;
  let managerId: string;
  let workflows: WorkflowDoc[];

  beforeAll(async () => {
    e = await startEngine(driver);
    const docs = await loadPackage(join(root, 'sample-apps', 'sales'));
    workflows = docs.filter((d: any) => d.kind === 'workflow') as WorkflowDoc[];
    expect((await e.call('POST', '/api/meta/deploy', { documents: docs })).status).toBe(201);
    const team = (await e.call('POST', '/api/data/department', { name: '华东销售组' })).body.data;
    const r = await e.createUser({
      username: 'wf_rep',
      display_name: '销售',
      roles: ['sales_rep'],
      department: team.id,
      password: 'rep password 123',
    });
    // The rep's own customer: a reference may only point at a record its writer may read.
    account = (await e.call('POST', '/api/data/account', { name: '流程客户', region: 'east', grade: 'a', owner_id: r.id })).body
      .data;
    const m = await e.createUser({
      username: 'wf_manager',
      display_name: '经理',
      roles: ['sales_manager'],
      department: team.id,
      password: 'manager password 1',
    });
    rep = await e.login('wf_rep', r.password);
    manager = await e.login('wf_manager', m.password);
    managerId = m.id;
  });
  afterAll(() => e?.stop());

  const newOpportunity = async (extra: Record<string, unknown> = {}, token = e.admin.token) =>
    (
      await e.callAs(token, 'POST', '/api/data/opportunity', {
        title: '流程商机',
        account: account.id,
        opportunity_type: 'project',
        ...extra,
      })
    ).body.data;
  const fire = (id: string, event: string, body?: unknown, token = e.admin.token) =>
    e.callAs(token, 'POST', `/api/data/opportunity/${id}/transitions/${event}`, body);

  it('reaches every state of every sample workflow along the shortest paths the machine itself yields', async () => {
    // Event data that satisfies every guard; the machine decides where each event leads.
    const data = { amount: 100000, expected_close_date: '2026-12-31', $user: {}, $input: { loss_reason: '价格' } };
    for (const doc of workflows.filter((w) => w.entity === 'opportunity')) {
      const { machine } = compileWorkflow(doc);
      const events = [...new Set(Object.values(doc.states).flatMap((s) => Object.keys(s.on ?? {})))].map((type) => ({
        type,
        data,
      }));
      const paths = getShortestPaths(machine, { events });
      const reached = new Set(paths.map((p) => String(p.state.value)));
      expect([...reached].sort()).toEqual(Object.keys(doc.states).sort());
      for (const path of paths) {
        const type = doc.name === 'project_sales' ? 'project' : 'small_deal';
        const opp = await newOpportunity({ opportunity_type: type, amount: 100000, expected_close_date: '2026-12-31' });
        expect(opp.stage).toBe(doc.initial);
        for (const step of path.steps.slice(1)) {
          const res = await fire(
            opp.id,
            step.event.type,
            step.event.type === 'lose' ? { input: { loss_reason: '价格' } } : undefined,
          );
          expect([doc.name, step.event.type, res.status]).toEqual([doc.name, step.event.type, 200]);
        }
        const final = (await e.call('GET', `/api/data/opportunity/${opp.id}`)).body.data;
        expect([doc.name, final.stage]).toEqual([doc.name, String(path.state.value)]);
      }
    }
  });

  it('runs order execution along every path the machine yields; a won opportunity raises its order', async () => {
    const doc = workflows.find((w) => w.name === 'order_execution')!;
    const { machine } = compileWorkflow(doc);
    const events = ['plan', 'start', 'complete'].map((type) => ({ type, data: { delivery_date: '2027-01-10', $user: {} } }));
    const paths = getShortestPaths(machine, { events });
    expect(paths.map((p) => String(p.state.value)).sort()).toEqual(['accepted', 'done', 'executing', 'planned']);
    for (const path of paths) {
      const order = (await e.call('POST', '/api/data/order', { account: account.id, amount: 10, delivery_date: '2027-01-10' }))
        .body.data;
      expect(order).toMatchObject({ status: 'accepted', order_type: 'sales' });
      for (const step of path.steps.slice(1))
        expect((await e.call('POST', `/api/data/order/${order.id}/transitions/${step.event.type}`)).status).toBe(200);
      expect((await e.call('GET', `/api/data/order/${order.id}`)).body.data.status).toBe(String(path.state.value));
    }
    const undated = (await e.call('POST', '/api/data/order', { account: account.id })).body.data;
    expect((await e.call('POST', `/api/data/order/${undated.id}/transitions/plan`)).body.error.code).toBe('guard_failed');

    const opp = await newOpportunity({ amount: 88000, expected_close_date: '2027-01-01' });
    for (const event of ['confirm_needs', 'submit_proposal', 'quote', 'confirm_intent', 'negotiate', 'sign', 'win'])
      expect((await fire(opp.id, event)).status).toBe(200);
    const orders = (
      await e.call(
        'GET',
        `/api/data/order?filter=${encodeURIComponent(JSON.stringify({ '==': [{ var: 'opportunity' }, opp.id] }))}`,
      )
    ).body.data;
    expect(orders).toMatchObject([
      { account: account.id, amount: 88000, status: 'accepted', order_no: expect.stringMatching(/^SO-\d{6}-\d{5}$/) },
    ]);
  });

  it('reaches every state of lead handling and churn watch along the machine’s shortest paths, through the API', async () => {
    let n = 0;
    const inputs: Record<string, () => Record<string, unknown>> = {
      assign: () => ({ owner: managerId }),
      invalidate: () => ({ reason: '联系不上' }),
      convert: () => ({ opportunity_title: `转化商机 ${n}` }),
      defer: () => ({ reason: '年底有采购' }),
      confirm: () => ({ reason: '已转向竞争对手' }),
    };
    const cases = [
      {
        name: 'lead_handling',
        create: async () =>
          (
            await e.callAs(manager, 'POST', '/api/data/lead', {
              company: `路径客户 ${++n}`,
              mobile: '13700000000',
              region: 'east',
            })
          ).body.data,
        entity: 'lead',
        field: 'status',
      },
      {
        name: 'churn_watch',
        create: async () =>
          (await e.call('POST', '/api/data/account', { name: `流失路径 ${++n}`, region: 'east', grade: 'a' })).body.data,
        entity: 'account',
        field: 'churn_status',
      },
    ];
    for (const c of cases) {
      const doc = workflows.find((w) => w.name === c.name)!;
      const { machine } = compileWorkflow(doc);
      const data = { owner_id: managerId, region: 'east', $user: {}, $input: { account: null } };
      const events = [...new Set(Object.values(doc.states).flatMap((s) => Object.keys(s.on ?? {})))].map((type) => ({
        type,
        data,
      }));
      const paths = getShortestPaths(machine, { events });
      expect([...new Set(paths.map((p) => String(p.state.value)))].sort()).toEqual(Object.keys(doc.states).sort());
      for (const path of paths) {
        const record = await c.create();
        for (const step of path.steps.slice(1)) {
          const token = c.entity === 'lead' ? manager : e.admin.token;
          const input = inputs[step.event.type]?.();
          const res = await e.callAs(
            token,
            'POST',
            `/api/data/${c.entity}/${record.id}/transitions/${step.event.type}`,
            input ? { input } : undefined,
          );
          expect([c.name, step.event.type, res.status, res.body.error]).toEqual([c.name, step.event.type, 200, undefined]);
        }
        expect((await e.call('GET', `/api/data/${c.entity}/${record.id}`)).body.data[c.field]).toBe(String(path.state.value));
      }
    }
  });

  it('lists what the user may do now, and why not for the rest', async () => {
    const opp = await newOpportunity({}, rep);
    for (const event of ['confirm_needs', 'submit_proposal'])
      expect((await fire(opp.id, event, undefined, rep)).status).toBe(200);
    const options = (await e.callAs(rep, 'GET', `/api/data/opportunity/${opp.id}/transitions`)).body.data;
    expect(options).toMatchObject({ workflow: 'project_sales', state: 'proposal', final: false });
    const quote = options.transitions.find((t: any) => t.event === 'quote');
    expect(quote).toMatchObject({
      allowed: false,
      reasons: [{ code: 'guard_failed', message: 'Enter the amount before quoting' }],
    });
    const refused = await e.callAs(rep, 'POST', `/api/data/opportunity/${opp.id}/transitions/quote`, undefined, {
      'accept-language': 'zh-CN',
    });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'guard_failed', message: '报价前请先填写商机金额' });
    const v = (await e.callAs(rep, 'GET', `/api/data/opportunity/${opp.id}`)).body.data.version;
    await e.callAs(rep, 'PATCH', `/api/data/opportunity/${opp.id}`, { amount: 5000, version: v });
    for (const event of ['quote', 'confirm_intent']) expect((await fire(opp.id, event, undefined, rep)).status).toBe(200);
    // negotiation needs the expected close date: an entity rule, checked on the record the transition writes
    const noDate = await fire(opp.id, 'negotiate', undefined, rep);
    expect(noDate.status).toBe(422);
    expect(noDate.body.error.details[0].path).toBe('/expected_close_date');
    const v2 = (await e.callAs(rep, 'GET', `/api/data/opportunity/${opp.id}`)).body.data.version;
    await e.callAs(rep, 'PATCH', `/api/data/opportunity/${opp.id}`, { expected_close_date: '2027-01-15', version: v2 });
    expect((await fire(opp.id, 'negotiate', undefined, rep)).body.data.record).toMatchObject({
      stage: 'negotiation',
      probability: 80,
    });
    // signing needs a manager
    const sign = (await e.callAs(rep, 'GET', `/api/data/opportunity/${opp.id}/transitions`)).body.data.transitions.find(
      (t: any) => t.event === 'sign',
    );
    expect(sign.reasons.map((r: any) => r.code)).toEqual(['role_required']);
    expect((await fire(opp.id, 'sign', undefined, rep)).status).toBe(403);
    expect((await fire(opp.id, 'sign', undefined, manager)).status).toBe(200);
    const won = await fire(opp.id, 'win', { comment: '签约完成' }, rep);
    expect(won.body.data).toMatchObject({
      from: 'contract_signed',
      to: 'won',
      record: { stage: 'won', probability: 100, actual_close_date: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/) },
    });
    expect((await e.callAs(rep, 'GET', `/api/data/opportunity/${opp.id}/transitions`)).body.data).toMatchObject({
      final: true,
      transitions: [],
    });
    // entering "won" notifies the owner, from a template in both languages
    const [note] = (await e.callAs(rep, 'GET', '/api/notifications?unread=true')).body.data;
    expect(note).toMatchObject({ entity: 'opportunity', recordId: opp.id, template: 'opportunity_won', readAt: null });
    expect(note.subject).toEqual({ en: 'Won: 流程商机', 'zh-CN': '赢单：流程商机' });
    expect(note.body['zh-CN']).toMatch(/^商机「流程商机」（OPP-\d{6}-\d{4}）已于 \d{4}-\d{2}-\d{2} 赢单，金额 5,000\.00 元。$/);
    expect((await e.callAs(rep, 'POST', `/api/notifications/${note.id}/read`)).status).toBe(200);
    expect((await e.callAs(rep, 'GET', '/api/notifications?unread=true')).body.data).toEqual([]);
    expect((await e.callAs(manager, 'POST', `/api/notifications/${note.id}/read`)).status).toBe(404);
    const after = await fire(opp.id, 'lose', { input: { loss_reason: 'x' } }, rep);
    expect(after.status).toBe(409);
    expect(after.body.error.code).toBe('invalid_transition');
  });

  it('creates the stage’s tasks on entering it, owned by the opportunity’s owner', async () => {
    const opp = await newOpportunity({ amount: 1 }, rep);
    for (const event of ['confirm_needs', 'submit_proposal']) await fire(opp.id, event, undefined, rep);
    const tasks = (
      await e.callAs(
        rep,
        'GET',
        `/api/data/task?filter=${encodeURIComponent(JSON.stringify({ '==': [{ var: 'opportunity' }, opp.id] }))}`,
      )
    ).body.data;
    expect(tasks.map((t: any) => [t.subject, t.stage, t.milestone, t.status])).toEqual([
      ['编写并提交解决方案', 'proposal', true, 'prepare'],
    ]);
    expect(tasks[0]).toMatchObject({ owner_id: opp.owner_id, account: account.id });
  });

  it('advances the proposal stage by itself when its milestone task is done (if the guard holds)', async () => {
    const taskOf = async (opp: string) =>
      (
        await e.callAs(
          rep,
          'GET',
          `/api/data/task?filter=${encodeURIComponent(JSON.stringify({ '==': [{ var: 'opportunity' }, opp] }))}`,
        )
      ).body.data[0];
    const ready = await newOpportunity({ amount: 80000 }, rep);
    for (const event of ['confirm_needs', 'submit_proposal']) await fire(ready.id, event, undefined, rep);
    const task = await taskOf(ready.id);
    expect((await e.callAs(rep, 'PATCH', `/api/data/task/${task.id}`, { status: 'execute', version: task.version })).status).toBe(
      200,
    );
    expect((await e.callAs(rep, 'GET', `/api/data/opportunity/${ready.id}`)).body.data.stage).toBe('proposal'); // not done yet
    expect(
      (await e.callAs(rep, 'PATCH', `/api/data/task/${task.id}`, { status: 'done', version: task.version + 1 })).status,
    ).toBe(200);
    const moved = (await e.callAs(rep, 'GET', `/api/data/opportunity/${ready.id}`)).body.data;
    expect([moved.stage, moved.probability]).toEqual(['quotation', 40]); // the transition's own actions ran
    const [last] = (await e.callAs(rep, 'GET', `/api/data/opportunity/${ready.id}/workflow-history`)).body.data.transitions;
    expect(last).toMatchObject({
      event: 'quote',
      from: 'proposal',
      to: 'quotation',
      actor: null,
      comment: 'auto: every task done',
    });

    // Without an amount the quote guard does not hold: the task is done, the stage stays.
    const unready = await newOpportunity({}, rep);
    for (const event of ['confirm_needs', 'submit_proposal']) await fire(unready.id, event, undefined, rep);
    const t2 = await taskOf(unready.id);
    expect((await e.callAs(rep, 'PATCH', `/api/data/task/${t2.id}`, { status: 'done', version: t2.version })).status).toBe(200);
    expect((await e.callAs(rep, 'GET', `/api/data/opportunity/${unready.id}`)).body.data.stage).toBe('proposal');
  });

  it('refuses an auto-advance naming an unknown event, a reference that does not lead here, or unknown fields', async () => {
    const doc = structuredClone(workflows.find((w) => w.name === 'project_sales')) as any;
    doc.states.proposal.autoAdvance = {
      event: 'jump',
      related: { entity: 'task', via: 'account', where: { '==': [{ var: 'colour' }, 'red'] } },
      all: { '==': [{ var: 'status' }, 'done'] },
    };
    const res = await e.call('POST', '/api/meta/deploy', { documents: [doc] });
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: any) => [d.path, d.code])).toEqual([
      ['/documents/0/states/proposal/autoAdvance/event', 'unknown_event'],
      ['/documents/0/states/proposal/autoAdvance/related/via', 'invalid_reference_field'],
      ['/documents/0/states/proposal/autoAdvance/related/where/==/0/var', 'unknown_field'],
    ]);
  });

  it('keeps the transition history and the time spent in each stage', async () => {
    const opp = await newOpportunity();
    await fire(opp.id, 'confirm_needs', { comment: '客户确认需求' });
    await fire(opp.id, 'lose', { input: { loss_reason: '预算取消' }, comment: '项目取消' });
    const history = (await e.call('GET', `/api/data/opportunity/${opp.id}/workflow-history`)).body.data;
    expect(history.transitions.map((t: any) => [t.event, t.from, t.to, t.comment])).toEqual([
      ['lose', 'needs_confirmed', 'lost', '项目取消'],
      ['confirm_needs', 'initial_contact', 'needs_confirmed', '客户确认需求'],
    ]);
    expect(history.transitions[0].input).toEqual({ loss_reason: '预算取消' });
    expect(history.stays.map((s: any) => [s.state, s.leftAt === null])).toEqual([
      ['initial_contact', false],
      ['needs_confirmed', false],
      ['lost', true],
    ]);
    for (const s of history.stays) expect(s.seconds).toBeGreaterThanOrEqual(0);
    const record = (await e.call('GET', `/api/data/opportunity/${opp.id}`)).body.data;
    expect(record).toMatchObject({ stage: 'lost', loss_reason: '预算取消', probability: 0 });
    const audit = (await e.call('GET', `/api/data/opportunity/${opp.id}/history`)).body.data;
    expect(audit[0]).toMatchObject({
      action: 'transition',
      note: 'lose: needs_confirmed → lost',
      changes: { stage: { from: 'needs_confirmed', to: 'lost' } },
    });
  });

  it('writes at a deferring transaction’s flush the same history and stays as one by one (the demo-data load)', async () => {
    // Three walks, each twice: written one by one, then kept and flushed. One record's history begins
    // before the deferring transaction (its open stay is closed by the flush); one walk holds a
    // transition that stays in its state (requote), which writes history but no stay.
    const walks: [string[], string[]][] = [
      [[], ['confirm_needs', 'submit_proposal', 'quote', 'requote', 'lose']],
      [['confirm_needs'], ['submit_proposal', 'lose']],
      [[], ['lose']],
    ];
    const engineCtx = { principal: null, privileged: true, lang: 'en' as const };
    const at = (k: number) => new Date(Date.UTC(2031, 0, 1 + k, 9, 30));
    const walkAll = async (defer: boolean) => {
      // Made through the API before the transaction (the embedded database has one connection).
      const ids: string[] = [];
      for (const [before] of walks) {
        const opp = await newOpportunity({ amount: 100000, expected_close_date: '2031-12-31' });
        for (const event of before) expect((await fire(opp.id, event)).status).toBe(200);
        ids.push(opp.id);
      }
      return e.database.db.transaction(async (outer) => {
        const tx = carrying(outer);
        if (defer) e.workflows.defer(tx);
        let k = 0;
        for (const [i, [, events]] of walks.entries())
          for (const event of events) {
            setClock(tx, at(k++));
            const input = event === 'lose' ? { loss_reason: '价格' } : undefined;
            await e.workflows.fire(engineCtx, 'opportunity', ids[i], event, { comment: `${event} ${k}`, input }, tx);
          }
        setClock(tx, undefined);
        const [{ n }] = await e.database.rows<{ n: number }>(
          sql`select count(*)::int as n from workflow.history where record_id = any(${sql.param(ids)}::uuid[]) and at >= ${at(0).toISOString()}::timestamptz`,
          tx,
        );
        await flushDeferred(tx);
        return { ids, before: Number(n) };
      });
    };
    // Times of the walk's start, through the API at the present, differ between the two runs.
    const time = (t: unknown) => t && (new Date(t as string) < at(0) ? 'before' : new Date(t as string).toISOString());
    const written = async (ids: string[]) =>
      Promise.all(
        ids.map(async (id) => ({
          history: (
            await e.database.rows(
              sql`select event, from_state, to_state, actor, comment, input, at from workflow.history where record_id = ${id} order by id`,
            )
          ).map((h: any) => ({ ...h, at: time(h.at) })),
          stays: (
            await e.database.rows(
              sql`select s.workflow, s.state, s.entered_at = o.created_at as from_creation, case when s.entered_at = o.created_at then null else s.entered_at end as entered_at, s.left_at
                from workflow.stays s join opportunity o on o.id = s.record_id where s.record_id = ${id} order by s.id`,
            )
          ).map((s: any) => ({ ...s, entered_at: time(s.entered_at), left_at: time(s.left_at) })),
        })),
      );
    const one = await walkAll(false);
    const kept = await walkAll(true);
    expect(one.before).toBeGreaterThan(0);
    expect(kept.before).toBe(0); // kept until the flush
    const expected = await written(one.ids);
    expect(await written(kept.ids)).toEqual(expected);
    // and what was expected is what a walk writes
    expect(expected[0].history.map((h: any) => h.event)).toEqual([
      'confirm_needs',
      'submit_proposal',
      'quote',
      'requote',
      'lose',
    ]);
    expect(expected[0].stays.map((s: any) => [s.state, s.from_creation, s.left_at !== null])).toEqual([
      ['initial_contact', true, true],
      ['needs_confirmed', false, true],
      ['proposal', false, true],
      ['quotation', false, true],
      ['lost', false, false],
    ]);
    expect(expected[1].stays.map((s: any) => s.state)).toEqual(['initial_contact', 'needs_confirmed', 'proposal', 'lost']);
    expect(expected[1].stays[1].left_at).toBe(at(5).toISOString());
  });

  it('refuses bad transitions and direct edits of the state field, writing nothing', async () => {
    const opp = await newOpportunity();
    expect(
      (await e.call('PATCH', `/api/data/opportunity/${opp.id}`, { stage: 'won', version: 1 })).body.error.details[0],
    ).toMatchObject({ path: '/stage', code: 'workflow_controlled' });
    const created = await e.call('POST', '/api/data/opportunity', {
      title: 'x',
      account: account.id,
      opportunity_type: 'project',
      stage: 'won',
    });
    expect(created.status).toBe(422);
    expect(created.body.error.details[0].path).toBe('/stage');
    expect((await fire(opp.id, 'fly_away')).body.error.code).toBe('invalid_transition');
    const noReason = await fire(opp.id, 'lose', { input: {} });
    expect(noReason.status).toBe(422);
    expect(noReason.body.error.details[0].path).toBe('/input/loss_reason');
    expect((await fire(opp.id, 'confirm_needs', { input: { x: 1 } })).status).toBe(400);
    expect((await fire(opp.id, 'confirm_needs', '{"comment": ')).status).toBe(400);
    expect((await fire(opp.id, 'confirm_needs', { version: 7 })).status).toBe(409);
    const other = await e.createUser({
      username: 'wf_other',
      display_name: '别人',
      roles: ['sales_rep'],
      password: 'other password 12',
    });
    const otherToken = await e.login('wf_other', other.password);
    expect((await fire(opp.id, 'confirm_needs', undefined, otherToken)).status).toBe(404);
    const unchanged = (await e.call('GET', `/api/data/opportunity/${opp.id}`)).body.data;
    expect(unchanged).toMatchObject({ stage: 'initial_contact', version: 1 });
    expect((await e.call('GET', `/api/data/opportunity/${opp.id}/workflow-history`)).body.data.transitions).toEqual([]);
  });

  it(
    'lets exactly one of two concurrent transitions of a record succeed' +
      (driver === 'pglite' ? ' (PGlite runs one statement at a time: this cannot fail here, only on PostgreSQL)' : ''),
    async () => {
      const opp = await newOpportunity();
      // Each request fires from the version it read; whichever commits first wins, the others must fail.
      const results = await Promise.all([
        fire(opp.id, 'confirm_needs', { version: 1 }),
        fire(opp.id, 'lose', { input: { loss_reason: '并发' }, version: 1 }),
        fire(opp.id, 'confirm_needs', { version: 1 }),
      ]);
      expect(results.filter((r) => r.status === 200)).toHaveLength(1);
      expect(results.filter((r) => r.status === 409)).toHaveLength(2);
      const history = (await e.call('GET', `/api/data/opportunity/${opp.id}/workflow-history`)).body.data.transitions;
      expect(history).toHaveLength(1);
    },
  );

  it('chooses the workflow per record: small deals take the short process', async () => {
    const small = await newOpportunity({ opportunity_type: 'small_deal' });
    const options = (await e.call('GET', `/api/data/opportunity/${small.id}/transitions`)).body.data;
    expect(options.workflow).toBe('small_deal_sales');
    expect(options.transitions.map((t: any) => t.event).sort()).toEqual(['lose', 'quote']);
  });

  it('runs create-record actions in the transition’s transaction, and rolls everything back when one fails', async () => {
    const docs = [
      {
        kind: 'dictionary',
        name: 'ticket_state',
        label: L('State'),
        items: ['open', 'closed'].map((v) => ({ value: v, label: L(v) })),
      },
      {
        kind: 'entity',
        name: 'ticket',
        label: L('Ticket'),
        fields: [
          { name: 'title', type: 'text', label: L('Title'), required: true },
          { name: 'state', type: 'picklist', dictionary: 'ticket_state', label: L('State'), required: true },
          { name: 'broken', type: 'boolean', label: L('Broken') },
        ],
      },
      {
        kind: 'entity',
        name: 'feedback',
        label: L('Feedback'),
        fields: [
          { name: 'ticket', type: 'reference', to: 'ticket', label: L('Ticket') },
          { name: 'note', type: 'text', label: L('Note'), required: true, maxLength: 20 },
        ],
      },
      {
        kind: 'workflow',
        name: 'ticket_flow',
        label: L('Ticket flow'),
        entity: 'ticket',
        stateField: 'state',
        initial: 'open',
        states: {
          open: {
            on: {
              close: {
                target: 'closed',
                actions: [
                  {
                    type: 'create_record',
                    entity: 'feedback',
                    values: {
                      ticket: { var: 'id' },
                      note: {
                        if: [{ var: 'broken' }, 'this note is far too long to be valid', { cat: ['closed: ', { var: 'title' }] }],
                      },
                    },
                  },
                ],
              },
            },
          },
          closed: { type: 'final' },
        },
      },
    ];
    expect((await e.call('POST', '/api/meta/deploy', { documents: docs })).status).toBe(201);
    const ok = (await e.call('POST', '/api/data/ticket', { title: 'T1' })).body.data;
    const closed = await e.call('POST', `/api/data/ticket/${ok.id}/transitions/close`);
    expect(closed.status).toBe(200);
    expect(closed.body.data.created).toMatchObject([{ ticket: ok.id, note: 'closed: T1' }]);
    const bad = (await e.call('POST', '/api/data/ticket', { title: 'T2', broken: true })).body.data;
    const failed = await e.call('POST', `/api/data/ticket/${bad.id}/transitions/close`);
    expect(failed.status).toBe(422);
    expect((await e.call('GET', `/api/data/ticket/${bad.id}`)).body.data).toMatchObject({ state: 'open', version: 1 });
    const [{ n }] = await e.database.rows<{ n: number }>(
      sql`select count(*)::int as n from workflow.history where record_id = ${bad.id}`,
    );
    expect(Number(n)).toBe(0);
  });

  it('renders templates without reaching prototypes, and refuses broken ones at deploy', async () => {
    const evil = {
      kind: 'template',
      name: 'evil',
      label: L('Evil'),
      subject: L('{{constructor.constructor}}{{__proto__}}x'),
      body: L('{{#with constructor}}{{name}}{{/with}}y'),
    };
    expect((await e.call('POST', '/api/meta/deploy', { documents: [evil] })).status).toBe(201);
    const { render } = await import('../../engine/templates/render.js');
    expect(render(evil.subject.en, { title: 't' })).toBe('x');
    expect(render(evil.body.en, { title: 't' })).toBe('y');
    const broken = await e.call('POST', '/api/meta/deploy', {
      documents: [{ ...evil, name: 'broken', body: L('{{#if x}}unclosed') }],
    });
    expect(broken.status).toBe(400);
    expect(broken.body.error.details.map((d: any) => d.path)).toEqual(['/documents/0/body/en', '/documents/0/body/zh-CN']);
    const wf = workflows.find((w) => w.name === 'small_deal_sales')!;
    const noTemplate = {
      ...wf,
      name: 'nt',
      states: { ...wf.states, won: { type: 'final', entry: [{ type: 'notify', template: 'nope', to: { var: 'owner_id' } }] } },
    };
    expect((await e.call('POST', '/api/meta/deploy', { documents: [noTemplate] })).body.error.details[0]).toMatchObject({
      path: '/documents/0/states/won/entry/0/template',
      code: 'unknown_template',
    });
  });

  it('refuses unsound workflows at deploy, precisely', async () => {
    const base = workflows.find((w) => w.name === 'small_deal_sales')!;
    const broken = {
      ...base,
      name: 'broken_flow',
      initial: 'initial_contact',
      states: {
        initial_contact: {
          on: {
            quote: {
              target: 'quotation',
              guard: { '>': [{ var: 'no_such_field' }, 1] },
              roles: ['no_such_role'],
              actions: [{ type: 'teleport' }, { type: 'set', values: { ghost: 1 } }],
            },
            jump: { target: 'nowhere' },
          },
        },
        quotation: { on: {} },
        negotiation: { on: { win: { target: 'won' } } },
        won: { type: 'final', on: { again: { target: 'quotation' } } },
        bogus_state: { type: 'final' },
      },
    };
    const res = await e.call('POST', '/api/meta/deploy', { documents: [broken] });
    expect(res.status).toBe(400);
    const found = res.body.error.details.map((d: any) => `${d.path} ${d.code}`);
    expect(found).toEqual(
      expect.arrayContaining([
        '/documents/0/states/bogus_state unknown_state',
        '/documents/0/states/bogus_state unreachable_state',
        '/documents/0/states/initial_contact/on/quote/guard/>/0/var unknown_field',
        '/documents/0/states/initial_contact/on/quote/roles/0 unknown_role',
        '/documents/0/states/initial_contact/on/quote/actions/0/type unknown_action',
        '/documents/0/states/initial_contact/on/quote/actions/1/values/ghost unknown_field',
        '/documents/0/states/initial_contact/on/jump/target unknown_state',
        '/documents/0/states/quotation dead_end',
        '/documents/0/states/negotiation unreachable_state',
        '/documents/0/states/won/on final_with_transitions',
      ]),
    );
    expect(
      (await e.call('POST', '/api/meta/deploy', { documents: [{ ...base, name: 'x', stateField: 'title' }] })).body.error
        .details[0].code,
    ).toBe('invalid_state_field');
  });
});
