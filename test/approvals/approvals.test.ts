/**
 * Approval mechanics on a small app of their own: voting modes (会签 all, 或签 any, percent),
 * rejection back to the previous applicable step, skipped steps, approvers from a record field and
 * a manager chain, escalation by the job queue, concurrent decisions, and deploy-time checks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers, L, startEngine, type TestEngine } from '../support/engine.js';

const statuses = ['draft', 'pending', 'approved', 'rejected', 'returned', 'recalled'];
const base = [
  { kind: 'dictionary', name: 'purchase_status', label: L('Status'), items: statuses.map((v) => ({ value: v, label: L(v) })) },
  // Buyers name a reviewer: a reference may only point at users they may read.
  {
    kind: 'role',
    name: 'buyer',
    label: L('Buyer'),
    grants: [
      { entity: 'purchase', read: 'own', create: 'own', update: 'own' },
      { entity: 'user', read: 'all' },
    ],
  },
  {
    kind: 'role',
    name: 'board',
    label: L('Board'),
    grants: [{ entity: 'purchase', read: 'all', fields: { read: ['title', 'amount', 'status'] } }],
  },
  {
    kind: 'entity',
    name: 'purchase',
    label: L('Purchase'),
    titleField: 'title',
    fields: [
      { name: 'title', type: 'text', label: L('Title'), required: true },
      { name: 'amount', type: 'decimal', label: L('Amount') },
      { name: 'reviewer', type: 'reference', to: 'user', label: L('Reviewer') },
      { name: 'status', type: 'picklist', dictionary: 'purchase_status', label: L('Status'), default: 'draft' },
    ],
  },
];
const approval = {
  kind: 'approval',
  name: 'purchase_approval',
  label: L('Purchase approval', '采购审批'),
  entity: 'purchase',
  statusField: 'status',
  entryCriteria: { '>': [{ var: 'amount' }, 0] },
  entryMessage: L('Enter an amount first', '请先填写金额'),
  lock: { approvers: true },
  steps: [
    {
      name: 'review',
      label: L('Review'),
      approvers: { type: 'field', field: 'reviewer' },
      onReject: 'submitter',
      reminder: { after: 'PT1S' },
    },
    {
      name: 'chain',
      label: L('Managers'),
      when: { '>=': [{ var: 'amount' }, 1000] },
      approvers: { type: 'manager_chain', levels: 2 },
      mode: 'all',
      onReject: 'previous',
    },
    {
      name: 'board',
      label: L('Board'),
      when: { '>=': [{ var: 'amount' }, 100] },
      approvers: { type: 'role', role: 'board' },
      mode: 'percent',
      percent: 60,
      onReject: 'previous',
      escalation: { after: 'PT2S' },
    },
  ],
  actions: {
    submit: [{ type: 'set', values: { title: { cat: [{ var: 'title' }, ' ✓'] } }, when: { '>=': [{ var: 'amount' }, 10000] } }],
    reject: [{ type: 'set', values: { title: { cat: [{ var: 'title' }, ' (rejected)'] } } }],
    recall: [{ type: 'set', values: { title: { cat: [{ var: 'title' }, ' (recalled)'] } } }],
  },
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(drivers)('approvals on %s', (driver) => {
  let e: TestEngine;
  const tokens: Record<string, string> = {};
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    e = await startEngine(driver);
    const res = await e.call('POST', '/api/meta/deploy', { documents: [...base, approval] });
    expect(res.status).toBe(201);
    // top ← boss ← lead ← buyer; three board members: b1 reports to top (a board member), b2 to boss (not one).
    const make = async (username: string, roles: string[], manager?: string) => {
      const u = await e.createUser({
        username,
        display_name: username,
        roles,
        password: `${username} password 1`,
        manager: manager ? ids[manager] : null,
      });
      ids[username] = u.id;
      tokens[username] = await e.login(username, u.password);
    };
    await make('top', ['board']);
    await make('boss', ['buyer'], 'top');
    await make('lead', ['buyer'], 'boss');
    await make('buyer', ['buyer'], 'lead');
    await make('reviewer', ['buyer']);
    await make('b1', ['board'], 'top');
    await make('b2', ['board'], 'boss');
  });
  afterAll(() => e?.stop());

  const as = (user: string, method: string, path: string, body?: unknown) => e.callAs(tokens[user], method, path, body);
  const purchase = async (amount: number | null) =>
    (await as('buyer', 'POST', '/api/data/purchase', { title: `采购 ${amount}`, amount, reviewer: ids.reviewer })).body.data;
  const submit = (id: string) => as('buyer', 'POST', `/api/data/purchase/${id}/approval/submit`);
  const task = async (user: string, id: string) =>
    (await as(user, 'GET', '/api/approvals/inbox')).body.data.find((t: any) => t.recordId === id);
  const decide = async (user: string, id: string, decision: 'approve' | 'reject') => {
    const t = await task(user, id);
    expect(t, `${user} has a task for ${id}`).toBeDefined();
    const res = await as(user, 'POST', `/api/approvals/${t.id}/${decision}`);
    expect(res.status).toBe(200);
    return res.body.data.request;
  };

  it('refuses to submit when the entry criteria do not hold, saying why', async () => {
    const p = await purchase(null);
    const res = await submit(p.id);
    expect([res.status, res.body.error.code, res.body.error.message]).toEqual([
      409,
      'entry_criteria_not_met',
      'Enter an amount first',
    ]);
    expect((await as('buyer', 'GET', `/api/data/purchase/${p.id}/approvals`)).body.data).toEqual([]);
  });

  it('skips steps whose criteria do not hold', async () => {
    const p = await purchase(50); // only the review step applies
    expect((await submit(p.id)).body.data.request.step).toBe('review');
    expect((await decide('reviewer', p.id, 'approve')).status).toBe('approved');
  });

  it('needs everyone in an "all" step (会签), and a rejection there goes back to the previous step', async () => {
    const p = await purchase(5000);
    await submit(p.id);
    const atChain = await decide('reviewer', p.id, 'approve');
    expect(atChain.step).toBe('chain');
    expect(
      atChain.tasks
        .filter((t: any) => t.step === 'chain')
        .map((t: any) => t.assignee)
        .sort(),
    ).toEqual([ids.lead, ids.boss].sort()); // two levels up
    expect((await decide('lead', p.id, 'approve')).step).toBe('chain'); // boss has not decided
    const back = await decide('boss', p.id, 'reject');
    expect([back.status, back.step]).toEqual(['pending', 'review']); // the previous step, again
    expect((await decide('reviewer', p.id, 'approve')).step).toBe('chain');
    await decide('lead', p.id, 'approve');
    expect((await decide('boss', p.id, 'approve')).step).toBe('board');
  });

  it('decides a percent step once the share is reached or can no longer be', async () => {
    const p = await purchase(500); // review → board (60 % of top, b1, b2)
    await submit(p.id);
    await decide('reviewer', p.id, 'approve');
    // The board sees the purchase through its task, without the fields its grant leaves out.
    const view = (await as('top', 'GET', `/api/approvals/${(await task('top', p.id)).id}`)).body.data.record;
    expect([view.title, view.amount, 'reviewer' in view]).toEqual(['采购 500', 500, false]);
    expect((await as('reviewer', 'GET', `/api/approvals/${(await task('top', p.id)).id}`)).status).toBe(404); // not the reviewer's task
    expect((await decide('top', p.id, 'approve')).step).toBe('board'); // 1 of 3
    const done = await decide('b1', p.id, 'approve'); // 2 of 3 ≥ 60 %
    expect(done.status).toBe('approved');
    expect(done.tasks.find((t: any) => t.assignee === ids.b2).status).toBe('cancelled');

    const q = await purchase(600);
    await submit(q.id);
    await decide('reviewer', q.id, 'approve');
    await decide('top', q.id, 'reject');
    const back = await decide('b1', q.id, 'reject'); // at most 1 of 3 now: the step fails, back to review
    expect([back.status, back.step]).toEqual(['pending', 'review']);
  });

  it('returns to the submitter with the reject actions when the first step rejects', async () => {
    const p = await purchase(70);
    await submit(p.id);
    const r = await decide('reviewer', p.id, 'reject');
    expect(r.status).toBe('returned');
    const record = (await as('buyer', 'GET', `/api/data/purchase/${p.id}`)).body.data;
    expect([record.status, record.title]).toEqual(['returned', '采购 70 (rejected)']);
  });

  it('runs the submit and recall actions (an action’s `when` deciding) on the record', async () => {
    const small = await purchase(60);
    await submit(small.id);
    const recalled = await as('buyer', 'POST', `/api/data/purchase/${small.id}/approval/recall`);
    expect(recalled.body.data.record).toMatchObject({ status: 'recalled', title: '采购 60 (recalled)' }); // no ✓: below 10,000
    const big = await purchase(20000);
    const submitted = await submit(big.id);
    expect(submitted.body.data.record).toMatchObject({ status: 'pending', title: '采购 20000 ✓' });
  });

  it('reminds an approver of a task still waiting, once, through the job queue', async () => {
    const p = await purchase(30);
    await submit(p.id);
    const reminders = async () =>
      (await as('reviewer', 'GET', '/api/notifications')).body.data.filter(
        (n: any) => n.recordId === p.id && n.template === 'approval:reminder',
      );
    let found: any[] = [];
    for (let i = 0; i < 40 && !found.length; i++) {
      await sleep(250);
      found = await reminders();
    }
    expect(found).toHaveLength(1);
    expect(found[0].subject['zh-CN']).toBe('催办：采购审批 – 采购 30 等待您审批');
    // A decided task is not reminded of.
    const q = await purchase(31);
    await submit(q.id);
    await decide('reviewer', q.id, 'approve');
    await sleep(2000);
    expect(
      (await as('reviewer', 'GET', '/api/notifications')).body.data.filter(
        (n: any) => n.recordId === q.id && n.template === 'approval:reminder',
      ),
    ).toEqual([]);
  });

  it('lets the current approvers edit a locked record when the lock allows it, and nobody else', async () => {
    const p = await purchase(80);
    await submit(p.id);
    const v = (await e.call('GET', `/api/data/purchase/${p.id}`)).body.data.version;
    expect((await as('buyer', 'PATCH', `/api/data/purchase/${p.id}`, { amount: 90, version: v })).status).toBe(423);
    // The reviewer has no grant on others' purchases at all: approvers editing needs the update right too.
    expect((await as('reviewer', 'PATCH', `/api/data/purchase/${p.id}`, { amount: 90, version: v })).status).toBe(404);
    expect((await e.call('PATCH', `/api/data/purchase/${p.id}`, { amount: 90, version: v })).status).toBe(200); // admin
    // An administrator deleting the pending record withdraws the request: the reviewer's task closes.
    const t = await task('reviewer', p.id);
    expect((await e.call('DELETE', `/api/data/purchase/${p.id}`)).status).toBe(200);
    expect(await task('reviewer', p.id)).toBeUndefined();
    expect((await as('reviewer', 'POST', `/api/approvals/${t.id}/approve`)).body.error.code).toBe('task_closed');
    const { sql } = await import('drizzle-orm');
    const requests = await e.database.rows(sql`select status, comment from approval.requests where record_id = ${p.id}`);
    expect(requests).toEqual([{ status: 'recalled', comment: 'record deleted' }]);
  });

  it("escalates a task left waiting to the approver's manager, through the job queue", async () => {
    const p = await purchase(300);
    await submit(p.id);
    await decide('reviewer', p.id, 'approve'); // board step: top, b1, b2 — escalation after 2 s
    let tasks: any[] = [];
    for (let i = 0; i < 40 && !tasks.some((t) => t.status === 'escalated'); i++) {
      await sleep(250);
      tasks = (await as('buyer', 'GET', `/api/data/purchase/${p.id}/approvals`)).body.data[0].tasks.filter(
        (t: any) => t.step === 'board',
      );
    }
    // b2's task goes to b2's manager (boss); b1's manager (top) decides this step already, so b1 keeps it.
    const byUser = Object.fromEntries(tasks.map((t) => [t.assignee, [t.status, t.origin]]));
    expect(byUser).toEqual({
      [ids.top]: ['pending', 'step'],
      [ids.b1]: ['pending', 'step'],
      [ids.b2]: ['escalated', 'step'],
      [ids.boss]: ['pending', 'escalated'],
    });
    expect((await as('b2', 'GET', '/api/approvals/inbox')).body.data.find((t: any) => t.recordId === p.id)).toBeUndefined();
    // top has no manager: their escalation cannot happen — kept on the record, and the owner is told why, in their language.
    const failures = async () =>
      (await e.call('GET', '/api/meta/job-failures')).body.data.filter((f: any) => f.record_id === p.id);
    for (let i = 0; i < 40 && !(await failures()).length; i++) await sleep(250);
    expect((await failures())[0]).toMatchObject({ kind: 'escalation', code: 'no_manager', entity: 'purchase' });
    const told = (await as('buyer', 'GET', '/api/notifications')).body.data.filter(
      (n: any) => n.recordId === p.id && n.template === 'job-failure:escalation',
    );
    expect(told.length).toBeGreaterThan(0);
    expect(told[0].subject['zh-CN']).toBe('Purchase的审批上报未能执行');
    expect(told[0].body['zh-CN']).toMatch(/审批人没有可上报的在职上级/);
    expect(told[0].body.en).toMatch(/no active manager/);
    expect(told[0].body['zh-CN']).not.toMatch(/no active manager/);
    // The manager's vote counts in the step: 2 of 3 ≥ 60 %.
    await decide('boss', p.id, 'approve');
    expect((await decide('top', p.id, 'approve')).status).toBe('approved');
  });

  it('shows a delegator’s tasks to their delegate (工作代理) while the delegation runs, who may decide them', async () => {
    const p = await purchase(40);
    await submit(p.id);
    expect(await task('b1', p.id)).toBeUndefined();
    const now = Date.now();
    const delegation = await as('reviewer', 'POST', '/api/delegations', {
      delegate: ids.b1,
      startsAt: new Date(now - 60_000).toISOString(),
      endsAt: new Date(now + 3_600_000).toISOString(),
    });
    expect(delegation.status).toBe(201);
    const t = await task('b1', p.id);
    expect(t).toMatchObject({ assignee: ids.reviewer, step: 'review' });
    const decided = await as('b1', 'POST', `/api/approvals/${t.id}/approve`);
    expect(decided.body.data.request.status).toBe('approved');
    expect(decided.body.data.request.tasks[0]).toMatchObject({ assignee: ids.reviewer, decidedBy: ids.b1, status: 'approved' });
    expect((await as('reviewer', 'DELETE', `/api/delegations/${delegation.body.data.id}`)).status).toBe(200);
    const q = await purchase(45);
    await submit(q.id);
    expect(await task('b1', q.id)).toBeUndefined(); // the delegation has ended
  });

  it(
    'counts concurrent decisions one after the other, and lets only one of two concurrent submits through' +
      (driver === 'pglite' ? ' (PGlite runs one statement at a time: this cannot fail here, only on PostgreSQL)' : ''),
    async () => {
      const p = await purchase(5000);
      await submit(p.id);
      await decide('reviewer', p.id, 'approve');
      const [lead, boss] = [await task('lead', p.id), await task('boss', p.id)];
      const both = await Promise.all([
        as('lead', 'POST', `/api/approvals/${lead.id}/approve`),
        as('boss', 'POST', `/api/approvals/${boss.id}/approve`),
      ]);
      expect(both.map((r) => r.status)).toEqual([200, 200]);
      const history = (await as('buyer', 'GET', `/api/data/purchase/${p.id}/approvals`)).body.data[0];
      expect(history.step).toBe('board'); // both votes counted: the all-step passed once
      expect(history.tasks.filter((t: any) => t.step === 'board')).toHaveLength(3);

      const q = await purchase(20);
      const twice = await Promise.all([submit(q.id), submit(q.id)]);
      expect(twice.map((r) => r.status).sort()).toEqual([200, 409]);
      expect((await as('buyer', 'GET', `/api/data/purchase/${q.id}/approvals`)).body.data).toHaveLength(1);
    },
  );

  it('refuses approvals that name unknown things, with the path of each', async () => {
    const bad = structuredClone(approval) as any;
    bad.statusField = 'title';
    bad.entryCriteria = { '>': [{ var: 'nope' }, 1] };
    bad.steps[0].approvers = { type: 'field', field: 'title' };
    bad.steps[0].onReject = 'previous';
    bad.steps[1].approvers = { type: 'role', role: 'ghost' };
    bad.steps[2].name = 'review';
    bad.actions = { approve: [{ type: 'launch_rocket' }] };
    const res = await e.call('POST', '/api/meta/deploy', { documents: [bad] });
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: any) => [d.path, d.code]).sort()).toEqual(
      [
        ['/documents/0/actions/approve/0/type', 'unknown_action'],
        ['/documents/0/entryCriteria/>/0/var', 'unknown_field'],
        ['/documents/0/statusField', 'invalid_status_field'],
        ['/documents/0/steps/0/approvers/field', 'invalid_approver_field'],
        ['/documents/0/steps/0/onReject', 'invalid_option'],
        ['/documents/0/steps/1/approvers/role', 'unknown_role'],
        ['/documents/0/steps/2/name', 'duplicate_step'],
      ].sort(),
    );
    const second = { ...structuredClone(approval), name: 'other_approval' };
    expect((await e.call('POST', '/api/meta/deploy', { documents: [second] })).body.error.details[0].code).toBe(
      'duplicate_approval',
    );
    const noPercent = structuredClone(approval) as any;
    delete noPercent.steps[2].percent;
    const r3 = await e.call('POST', '/api/meta/deploy', { documents: [noPercent] });
    expect(r3.status).toBe(400);
    expect(r3.body.error.details[0].path).toMatch(/^\/documents\/0\/steps\/2/);
  });
});
