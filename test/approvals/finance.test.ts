/**
 * The finance sample's expense claim approval, through the HTTP API, as the demo organisation's
 * users: rep_east → manager_east (manager) → finance (accountant) → gm (head of hq, above 5,000).
 */
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getShortestPaths } from '@xstate/graph';
import { loadPackage } from '../../metadata/loader.js';
import { compileApproval } from '../../engine/approvals/compile.js';
import type { ApprovalDoc } from '../../engine/approvals/kind.js';
import { drivers } from '../support/engine.js';
import { startOrg, type Org, type UserName } from '../access/org.js';

describe.each(drivers)('expense claim approval (finance sample) on %s', (driver) => {
  let o: Org;
  beforeAll(async () => {
    o = await startOrg(driver, ['sales', 'finance']);
  }, 60_000);
  afterAll(() => o?.e.stop());

  const claim = async (amount: number, extra: Record<string, unknown> = {}) => {
    const res = await o.as('rep_east', 'POST', '/api/data/expense_claim', {
      title: `客户拜访差旅 ${amount}`,
      expense_type: 'travel',
      amount,
      expense_date: '2026-11-20',
      receipts: 3,
      ...extra,
    });
    expect(res.status).toBe(201);
    return res.body.data;
  };
  const read = async (id: string, user: UserName = 'rep_east') =>
    (await o.as(user, 'GET', `/api/data/expense_claim/${id}`)).body.data;
  const inbox = async (user: UserName) => (await o.as(user, 'GET', '/api/approvals/inbox')).body.data;
  const taskOf = async (user: UserName, id: string) => (await inbox(user)).find((t: any) => t.recordId === id);
  const decide = (user: UserName, task: string, decision: string, body?: unknown) =>
    o.as(user, 'POST', `/api/approvals/${task}/${decision}`, body);

  it('goes manager → finance and is approved, locked meanwhile, with the history on the claim', async () => {
    const c = await claim(800);
    expect(c.approval_status).toBe('draft');
    expect(c.claim_no).toMatch(/^BX-\d{4}-\d{5}$/);
    const state = async (user: UserName) => (await o.as(user, 'GET', `/api/data/expense_claim/${c.id}/approval`)).body.data;
    expect(await state('rep_east')).toMatchObject({
      approval: 'expense_claim_approval',
      status: 'none',
      canSubmit: true,
      reasons: [],
      canRecall: false,
      task: null,
    });
    expect((await state('finance')).reasons.map((r: any) => r.code)).toEqual(['forbidden']); // the accountant sees it, but does not own it
    const submitted = await o.as('rep_east', 'POST', `/api/data/expense_claim/${c.id}/approval/submit`, { comment: '请审批' });
    expect(await state('rep_east')).toMatchObject({
      status: 'pending',
      step: 'manager',
      canSubmit: false,
      canRecall: true,
      task: null,
    });
    expect((await state('rep_east')).reasons.map((r: any) => r.code)).toEqual(['approval_pending']);
    expect(submitted.status).toBe(200);
    expect(submitted.body.data.request).toMatchObject({ status: 'pending', step: 'manager' });
    expect(submitted.body.data.record.approval_status).toBe('pending');

    // Locked: the claimant cannot change or delete it; the status field is the approval's.
    const edit = await o.as('rep_east', 'PATCH', `/api/data/expense_claim/${c.id}`, { amount: 900, version: 2 });
    expect([edit.status, edit.body.error.code]).toEqual([423, 'record_locked']);
    expect((await o.as('rep_east', 'DELETE', `/api/data/expense_claim/${c.id}`)).status).toBe(423);
    expect((await read(c.id)).amount).toBe(800);

    // The manager's inbox names the claim; the manager may read it through the task.
    const task = await taskOf('manager_east', c.id);
    expect(task).toMatchObject({ title: '客户拜访差旅 800', step: 'manager', submitterName: '赵销售' });
    expect((await o.as('rep_east', 'GET', `/api/data/expense_claim/${c.id}/approval`)).body.data.stepLabel['zh-CN']).toBe(
      '直属上级审批',
    );
    expect(task.stepLabel['zh-CN']).toBe('直属上级审批');
    expect((await o.as('manager_east', 'GET', `/api/approvals/${task.id}`)).body.data.record.amount).toBe(800);
    expect(await taskOf('director', c.id)).toBeUndefined();
    // Nobody else decides it.
    const stranger = await decide('rep_north', task.id, 'approve');
    expect([stranger.status, stranger.body.error.code]).toEqual([403, 'forbidden']);

    expect((await decide('manager_east', task.id, 'approve', { comment: '同意' })).body.data.request.step).toBe('finance');
    // The accountant may correct the amount while it is pending (the lock's role).
    const finance = await taskOf('finance', c.id);
    expect((await o.as('finance', 'GET', `/api/data/expense_claim/${c.id}/approval`)).body.data).toMatchObject({
      step: 'finance',
      task: finance.id,
      canRecall: false,
    });
    const corrected = await o.as('finance', 'PATCH', `/api/data/expense_claim/${c.id}`, {
      amount: 780,
      version: (await read(c.id, 'finance')).version,
    });
    expect(corrected.status).toBe(200);
    const done = await decide('finance', finance.id, 'approve');
    expect(done.body.data.request.status).toBe('approved');
    const after = await read(c.id);
    expect(after.approval_status).toBe('approved');
    expect(Date.parse(after.approved_at)).toBeGreaterThan(Date.now() - 60_000); // the approve action
    // Decided tasks cannot be decided again; an approved claim is not resubmitted.
    expect((await decide('finance', finance.id, 'reject')).body.error.code).toBe('task_closed');
    expect((await o.as('rep_east', 'POST', `/api/data/expense_claim/${c.id}/approval/submit`)).body.error.code).toBe(
      'already_approved',
    );

    const history = (await o.as('rep_east', 'GET', `/api/data/expense_claim/${c.id}/approvals`)).body.data;
    expect(history).toHaveLength(1);
    expect(history[0].tasks.map((t: any) => [t.step, t.assigneeName, t.status, t.comment])).toEqual([
      ['manager', '王经理', 'approved', '同意'],
      ['finance', '吴财务', 'approved', null],
    ]);
    const notes = (await o.as('rep_east', 'GET', '/api/notifications')).body.data;
    expect(notes.some((n: any) => n.recordId === c.id && n.template === 'approval:approved')).toBe(true);
  });

  it('adds the general manager above 5,000; a rejection returns it to the claimant, who edits and resubmits', async () => {
    const c = await claim(8000);
    await o.as('rep_east', 'POST', `/api/data/expense_claim/${c.id}/approval/submit`);
    await decide('manager_east', (await taskOf('manager_east', c.id)).id, 'approve');
    const f = await decide('finance', (await taskOf('finance', c.id)).id, 'approve');
    expect(f.body.data.request.step).toBe('general_manager');
    const gm = await taskOf('gm', c.id);
    const rejected = await decide('gm', gm.id, 'reject', { comment: '请拆分报销' });
    expect(rejected.body.data.request.status).toBe('returned');
    const returned = await read(c.id);
    expect(returned.approval_status).toBe('returned');
    // Unlocked again: the claimant changes it and submits anew, from the first step.
    expect(
      (await o.as('rep_east', 'PATCH', `/api/data/expense_claim/${c.id}`, { amount: 4500, version: returned.version })).status,
    ).toBe(200);
    const again = await o.as('rep_east', 'POST', `/api/data/expense_claim/${c.id}/approval/submit`);
    expect(again.body.data.request).toMatchObject({ status: 'pending', step: 'manager' });
    await decide('manager_east', (await taskOf('manager_east', c.id)).id, 'approve');
    expect((await decide('finance', (await taskOf('finance', c.id)).id, 'approve')).body.data.request.status).toBe('approved'); // 4,500: no GM step
    const history = (await o.as('rep_east', 'GET', `/api/data/expense_claim/${c.id}/approvals`)).body.data;
    expect(history.map((r: any) => r.status)).toEqual(['approved', 'returned']);
    expect(history[1].tasks.at(-1)).toMatchObject({
      step: 'general_manager',
      status: 'rejected',
      comment: '请拆分报销',
      assigneeName: '张总',
    });
  });

  it('lets the claimant recall a pending claim; the open task closes', async () => {
    const c = await claim(300);
    await o.as('rep_east', 'POST', `/api/data/expense_claim/${c.id}/approval/submit`);
    const task = await taskOf('manager_east', c.id);
    expect((await o.as('rep_north', 'POST', `/api/data/expense_claim/${c.id}/approval/recall`)).status).toBe(404); // cannot even see it
    const recalled = await o.as('rep_east', 'POST', `/api/data/expense_claim/${c.id}/approval/recall`, { comment: '填错了' });
    expect(recalled.body.data.request.status).toBe('recalled');
    expect(recalled.body.data.request.tasks.map((t: any) => t.status)).toEqual(['cancelled']);
    expect((await read(c.id)).approval_status).toBe('recalled');
    expect(await taskOf('manager_east', c.id)).toBeUndefined();
    expect((await decide('manager_east', task.id, 'approve')).body.error.code).toBe('task_closed');
    expect((await o.as('rep_east', 'POST', `/api/data/expense_claim/${c.id}/approval/recall`)).body.error.code).toBe(
      'not_pending',
    );
  });

  it('delegates a task to another user, who then decides it', async () => {
    const c = await claim(200);
    await o.as('rep_east', 'POST', `/api/data/expense_claim/${c.id}/approval/submit`);
    const task = await taskOf('manager_east', c.id);
    const bad = await decide('manager_east', task.id, 'delegate', { to: '00000000-0000-0000-0000-000000000000' });
    expect([bad.status, bad.body.error.details[0].path]).toEqual([422, '/to']);
    const missing = await decide('manager_east', task.id, 'delegate', {});
    expect([missing.status, missing.body.error.details[0].path]).toEqual([400, '/to']);
    expect((await decide('manager_east', task.id, 'delegate', { to: o.ids.director, comment: '出差，请代批' })).status).toBe(200);
    expect(await taskOf('manager_east', c.id)).toBeUndefined();
    const delegated = await taskOf('director', c.id);
    expect(delegated.origin).toBe('delegated');
    expect((await decide('director', delegated.id, 'approve')).body.data.request.step).toBe('finance');
  });

  it('reaches every resting state of the compiled approval machine along its shortest paths, replayed through the API', async () => {
    const docs = await loadPackage(join(resolve(import.meta.dirname, '..', '..'), 'sample-apps', 'finance'));
    const { machine } = compileApproval(
      docs.find((d: any) => d.kind === 'approval' && d.name === 'expense_claim_approval') as ApprovalDoc,
    );
    const fromState = machine.resolveState({ value: 'idle', context: { data: { amount: 8000 } } }); // above 5,000: every step applies
    const paths = getShortestPaths(machine, {
      fromState,
      events: ['SUBMIT', 'APPROVE', 'REJECT', 'RECALL'].map((type) => ({ type })),
    } as never);
    const reached = [...new Set(paths.map((p: any) => String(p.state.value)))].sort();
    expect(reached).toEqual(['approved', 'idle', 'recalled', 'returned', 'step:finance', 'step:general_manager', 'step:manager']);
    const approverOf: Record<string, UserName> = { manager: 'manager_east', finance: 'finance', general_manager: 'gm' };
    const status: Record<string, string> = { idle: 'draft', approved: 'approved', recalled: 'recalled', returned: 'returned' };
    for (const path of paths as any[]) {
      const c = await claim(8000);
      let step = '';
      for (const { event } of path.steps.slice(1)) {
        if (event.type === 'SUBMIT')
          step = (await o.as('rep_east', 'POST', `/api/data/expense_claim/${c.id}/approval/submit`)).body.data.request.step;
        else if (event.type === 'RECALL')
          step = (await o.as('rep_east', 'POST', `/api/data/expense_claim/${c.id}/approval/recall`)).body.data.request.step;
        else
          step = (
            await decide(
              approverOf[step],
              (
                await taskOf(approverOf[step], c.id)
              ).id,
              event.type === 'APPROVE' ? 'approve' : 'reject',
            )
          ).body.data.request.step;
      }
      const target = String(path.state.value);
      const record = await read(c.id);
      if (target.startsWith('step:'))
        expect([target, record.approval_status, step]).toEqual([target, 'pending', target.slice(5)]);
      else expect([target, record.approval_status]).toEqual([target, status[target]]);
    }
  });

  it('describes the approval routes in the OpenAPI document, for the entities that have an approval', async () => {
    const paths = Object.keys((await o.as('rep_east', 'GET', '/api/openapi.json')).body.paths);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/api/data/expense_claim/{id}/approval/submit',
        '/api/data/expense_claim/{id}/approvals',
        '/api/approvals/inbox',
        '/api/approvals/{task}/approve',
        '/api/data/opportunity/{id}/transitions/{event}',
      ]),
    );
    expect(paths).not.toContain('/api/data/account/{id}/approval/submit');
    expect(paths).not.toContain('/api/data/product/{id}/transitions');
  });

  it('refuses bad requests clearly and writes nothing', async () => {
    const c = await claim(100);
    expect((await o.as('rep_east', 'POST', '/api/approvals/not-a-task/approve')).status).toBe(404);
    expect((await o.as('rep_east', 'POST', `/api/approvals/${c.id}/approve`)).body.error.code).toBe('task_not_found');
    const badJson = await o.as('rep_east', 'POST', `/api/data/expense_claim/${c.id}/approval/submit`, '{oops');
    expect([badJson.status, badJson.body.error.code]).toEqual([400, 'invalid_json']);
    const badComment = await o.as('rep_east', 'POST', `/api/data/expense_claim/${c.id}/approval/submit`, { comment: 42 });
    expect([badComment.status, badComment.body.error.details[0].path]).toEqual([400, '/comment']);
    // The status field is the approval's: neither set on create nor patched — not even by an administrator.
    const own = await o.as('rep_east', 'PATCH', `/api/data/expense_claim/${c.id}`, { approval_status: 'approved', version: 1 });
    expect([own.status, own.body.error.code]).toEqual([403, 'field_not_writable']); // not in the employee's write list
    const sneaky = await o.e.call('POST', '/api/data/expense_claim', {
      title: 'x',
      expense_type: 'office',
      amount: 10,
      expense_date: '2026-11-01',
      approval_status: 'approved',
    });
    expect([sneaky.status, sneaky.body.error.details[0].code]).toEqual([422, 'approval_controlled']);
    const patch = await o.e.call('PATCH', `/api/data/expense_claim/${c.id}`, { approval_status: 'approved', version: 1 });
    expect([patch.status, patch.body.error.details[0].path]).toEqual([422, '/approval_status']);
    // Not the owner: only the owner submits.
    expect((await o.as('finance', 'POST', `/api/data/expense_claim/${c.id}/approval/submit`)).status).toBe(403);
    // An entity without an approval process.
    expect((await o.as('rep_east', 'POST', `/api/data/account/${o.accounts.rep_east.id}/approval/submit`)).body.error.code).toBe(
      'no_approval',
    );
    const history = (await o.as('rep_east', 'GET', `/api/data/expense_claim/${c.id}/approvals`)).body.data;
    expect(history).toEqual([]);
    expect((await read(c.id)).approval_status).toBe('draft');
  });
});
