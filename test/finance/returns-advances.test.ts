/**
 * Sales returns (退货处理) and cash advances (借支) of the finance sample, through the API as the demo users:
 * an approved return raises a refund and a credit receivable; returns cannot exceed their order; a negative
 * receivable needs a return; an advance is approved, paid out, repaid (never beyond what is outstanding) and
 * settled; expenses carry the customer and the opportunity they were spent on. Each new process is walked
 * along its shortest paths: the cash advance workflow, and both approvals (return, advance) as the demo
 * users who hold each step, with what each resting state promises checked after the walk.
 */
import { join, resolve } from 'node:path';
import { getShortestPaths, getSimplePaths } from '@xstate/graph';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileApproval } from '../../engine/approvals/compile.js';
import type { ApprovalDoc } from '../../engine/approvals/kind.js';
import { compileWorkflow } from '../../engine/workflow/compile.js';
import { loadPackage } from '../../metadata/loader.js';
import { drivers } from '../support/engine.js';
import { startSampleApps } from '../support/demo-org.js';

const today = () => new Date().toISOString().slice(0, 10);

/**
 * An approval of the finance sample compiled to its machine, with the routes from idle to every resting
 * state: the shortest one to each, and every simple route (a rejection or recall at a later step too).
 */
async function approvalRoutes(name: string) {
  const docs = await loadPackage(join(resolve(import.meta.dirname, '..', '..'), 'sample-apps', 'finance'));
  const doc = docs.find((d: any) => d.kind === 'approval' && d.name === name) as ApprovalDoc;
  const { machine } = compileApproval(doc);
  const options = {
    fromState: machine.resolveState({ value: 'idle', context: { data: {} } }),
    events: ['SUBMIT', 'APPROVE', 'REJECT', 'RECALL'].map((type) => ({ type })),
  } as never;
  const shortest = getShortestPaths(machine, options) as any[];
  const simple = getSimplePaths(machine, options) as any[];
  const ends = (paths: any[]) => [...new Set(paths.map((p) => String(p.state.value)))].sort();
  // Both steps send a rejection back to the submitter for rework: "returned", never a final "rejected".
  expect(ends(shortest)).toEqual(['approved', 'idle', 'recalled', 'returned', 'step:finance', 'step:manager']);
  expect(ends(simple)).toEqual(ends(shortest));
  expect(simple.length).toBeGreaterThan(shortest.length); // rejected or recalled at the finance step as well
  return { shortest, simple };
}

describe.each(drivers)('sales returns and cash advances on %s', (driver) => {
  let app: Awaited<ReturnType<typeof startSampleApps>>;
  let account: any;
  let order: any;

  beforeAll(async () => {
    app = await startSampleApps(driver);
    account = await created('rep_east', 'account', { name: '宁波退货示例有限公司', region: 'east', grade: 'b' });
    order = await created('rep_east', 'order', { account: account.id, status: 'accepted', amount: 50000, order_date: today() });
  }, 400_000);
  afterAll(() => app?.e.stop());

  const as = (user: string, method: string, path: string, body?: unknown) => app.as(user, method, path, body);
  const get = (entity: string, id: string) => app.get(entity, id);
  const created = (user: string, entity: string, body: unknown) => app.created(user, entity, body);
  const count = async (entity: string) => (await app.e.call('GET', `/api/data/${entity}?limit=1&count=true`)).body.total;
  /**
   * Replays a path of an approval machine on a record through the API: the submitter submits and recalls;
   * each decision is made by the demo user who holds the step the record waits at (from their inbox).
   * Then the record rests where the machine does.
   */
  async function walkApproval(entity: string, id: string, submitter: string, holders: Record<string, string>, path: any) {
    for (const { event } of path.steps.slice(1)) {
      let res: Awaited<ReturnType<typeof as>>;
      if (event.type === 'SUBMIT') res = await as(submitter, 'POST', `/api/data/${entity}/${id}/approval/submit`, {});
      else if (event.type === 'RECALL') res = await as(submitter, 'POST', `/api/data/${entity}/${id}/approval/recall`, {});
      else {
        const step = (await as(submitter, 'GET', `/api/data/${entity}/${id}/approval`)).body.data.step as string;
        const holder = holders[step];
        const task = (await as(holder, 'GET', '/api/approvals/inbox')).body.data.find((t: any) => t.recordId === id);
        expect([step, holder, task?.step]).toEqual([step, holder, step]);
        res = await as(holder, 'POST', `/api/approvals/${task.id}/${event.type === 'APPROVE' ? 'approve' : 'reject'}`, {
          comment: event.type === 'APPROVE' ? '同意' : '请补充退货/借款依据',
        });
      }
      expect([event.type, res.status, res.body.error]).toEqual([event.type, 200, undefined]);
    }
    const target = String(path.state.value);
    const record = await get(entity, id);
    const state = (await as(submitter, 'GET', `/api/data/${entity}/${id}/approval`)).body.data;
    if (target.startsWith('step:'))
      expect([target, record.approval_status, state.step]).toEqual([target, 'pending', target.slice(5)]);
    else expect([target, record.approval_status]).toEqual([target, target === 'idle' ? 'draft' : target]);
    return target;
  }
  /** Submits a record for approval as its owner and approves every step (manager, then finance). */
  async function approveAll(user: string, entity: string, id: string) {
    const submitted = await as(user, 'POST', `/api/data/${entity}/${id}/approval/submit`, {});
    expect([submitted.status, submitted.body.error]).toEqual([200, undefined]);
    expect(submitted.body.data.request.tasks[0].assignee).toBe(app.ids.manager_east);
    expect(
      (await as('manager_east', 'POST', `/api/approvals/${submitted.body.data.request.tasks[0].id}/approve`, {})).status,
    ).toBe(200);
    const task = (await as('finance', 'GET', '/api/approvals/inbox')).body.data.find((t: any) => t.recordId === id);
    expect((await as('finance', 'POST', `/api/approvals/${task.id}/approve`, {})).status).toBe(200);
    expect((await get(entity, id)).approval_status).toBe('approved');
  }

  it('raises a refund and a credit receivable from an approved return, and keeps returns within their order', async () => {
    const ret = await created('rep_east', 'sales_return', {
      order: order.id,
      account: account.id,
      reason: 'quality',
      return_date: today(),
      amount: 12000,
      refund_method: 'bank_transfer',
    });
    expect(ret.return_no).toMatch(/^TH-\d{4}-\d{4}$/);
    // A second return that would take the order's returns past its amount is refused, in the caller's language.
    const receivablesBefore = await count('receivable');
    const over = await app.e.callAs(
      app.tokens.rep_east!,
      'POST',
      '/api/data/sales_return',
      {
        order: order.id,
        account: account.id,
        reason: 'damaged',
        return_date: today(),
        amount: 38000.01,
      },
      { 'accept-language': 'zh-CN' },
    );
    expect([over.status, over.body.error.code, over.body.error.details[0].path]).toEqual([
      409,
      'return_exceeds_order',
      '/amount',
    ]);
    expect(over.body.error.message).toContain('退货金额');
    expect(await count('sales_return')).toBe(1);

    await approveAll('rep_east', 'sales_return', ret.id);
    const after = await get('sales_return', ret.id);
    const credit = await get('receivable', after.credit_receivable);
    const refund = await get('receipt', after.refund);
    expect([credit.amount, credit.account, credit.order, credit.sales_return]).toEqual([-12000, account.id, order.id, ret.id]);
    expect([refund.kind, refund.amount, refund.account, refund.method]).toEqual(['refund', 12000, account.id, 'bank_transfer']);
    expect(await count('receivable')).toBe(receivablesBefore + 1);
    // The customer's open receivables fall by the credit: what the customer owes is lowered.
    expect(credit.balance).toBe(-12000);
  });

  it('refuses a negative receivable that no return raised', async () => {
    const before = await count('receivable');
    const res = await as('finance', 'POST', '/api/data/receivable', {
      account: account.id,
      due_date: today(),
      amount: -500,
      ageing: 'not_due',
    });
    expect([res.status, res.body.error.code]).toEqual([422, 'validation_failed']);
    expect(res.body.error.details.map((d: any) => d.path)).toContain('/amount');
    expect(await count('receivable')).toBe(before);
  });

  it('pays out an approved cash advance, takes repayments up to what is outstanding, and settles it', async () => {
    const advance = await created('rep_east', 'cash_advance', {
      purpose: '北京展会差旅借款',
      amount: 5000,
      needed_date: today(),
    });
    expect(advance.outstanding).toBe(0);
    // Nothing can be repaid before it is paid out, and it cannot be paid out before approval.
    const early = await as('finance', 'POST', '/api/data/advance_repayment', {
      advance: advance.id,
      repaid_date: today(),
      amount: 100,
      method: 'cash',
    });
    expect([early.status, early.body.error.code]).toEqual([409, 'advance_over_repaid']);
    const unapproved = await as('finance', 'POST', `/api/data/cash_advance/${advance.id}/transitions/pay`);
    expect([unapproved.status, unapproved.body.error.code]).toEqual([409, 'guard_failed']);
    // The employee cannot pay it out themselves.
    expect((await as('rep_east', 'POST', `/api/data/cash_advance/${advance.id}/transitions/pay`)).status).toBe(403);

    await approveAll('rep_east', 'cash_advance', advance.id);
    expect((await as('finance', 'POST', `/api/data/cash_advance/${advance.id}/transitions/pay`)).status).toBe(200);
    const paid = await get('cash_advance', advance.id);
    expect([paid.advance_status, paid.paid_date, paid.outstanding]).toEqual(['paid', today(), 5000]);

    const claim = await created('rep_east', 'expense_claim', {
      title: '展会差旅',
      expense_type: 'travel',
      amount: 3000,
      expense_date: today(),
      receipts: 2,
    });
    const offsetWithoutClaim = await as('finance', 'POST', '/api/data/advance_repayment', {
      advance: advance.id,
      repaid_date: today(),
      amount: 3000,
      method: 'offset',
    });
    expect([offsetWithoutClaim.status, offsetWithoutClaim.body.error.details[0].path]).toEqual([422, '/claim']);
    await created('finance', 'advance_repayment', {
      advance: advance.id,
      repaid_date: today(),
      amount: 3000,
      method: 'offset',
      claim: claim.id,
    });
    const settleEarly = await as('finance', 'POST', `/api/data/cash_advance/${advance.id}/transitions/settle`);
    expect([settleEarly.status, settleEarly.body.error.code]).toEqual([409, 'guard_failed']);
    const over = await as('finance', 'POST', '/api/data/advance_repayment', {
      advance: advance.id,
      repaid_date: today(),
      amount: 2000.01,
      method: 'cash',
    });
    expect([over.status, over.body.error.code, over.body.error.details[0].path]).toEqual([409, 'advance_over_repaid', '/amount']);
    expect((await get('cash_advance', advance.id)).outstanding).toBe(2000);
    await created('finance', 'advance_repayment', { advance: advance.id, repaid_date: today(), amount: 2000, method: 'cash' });
    expect((await get('cash_advance', advance.id)).outstanding).toBe(0);
    expect((await as('finance', 'POST', `/api/data/cash_advance/${advance.id}/transitions/settle`)).status).toBe(200);
    expect((await get('cash_advance', advance.id)).advance_status).toBe('settled');
  });

  it('links expenses to the customer and the opportunity they were spent on', async () => {
    const deal = await created('rep_east', 'opportunity', { title: '宁波 ERP 项目', account: account.id, amount: 200000 });
    const claim = await created('rep_east', 'expense_claim', {
      title: '宁波客户招待',
      expense_type: 'entertainment',
      amount: 800,
      expense_date: today(),
      receipts: 1,
      account: account.id,
      opportunity: deal.id,
    });
    expect([claim.account, claim.opportunity]).toEqual([account.id, deal.id]);
    const listed = await as(
      'rep_east',
      'GET',
      `/api/data/expense_claim?filter=${encodeURIComponent(JSON.stringify({ '==': [{ var: 'opportunity' }, deal.id] }))}`,
    );
    expect(listed.body.data.map((c: any) => c.id)).toEqual([claim.id]);
    // Once approved, the customer's sales expenses count it: the report agrees with the claims themselves.
    await approveAll('rep_east', 'expense_claim', claim.id);
    await created('rep_east', 'expense_claim', {
      title: '宁波项目差旅',
      expense_type: 'travel',
      amount: 450,
      expense_date: today(),
      receipts: 1,
      account: account.id,
    });
    const report = await as('finance', 'GET', '/api/reports/sales_expenses_by_customer');
    expect([report.status, report.body.error]).toEqual([200, undefined]);
    const row = report.body.data.rows.find((r: any) => r.account === account.id);
    expect([row.amount, row.claims, row.opportunities]).toEqual([800, 1, 1]);
  });

  it('walks the cash advance process along its shortest paths', async () => {
    const doc = app.workflows.find((w) => w.name === 'cash_advance_process')!;
    const { machine } = compileWorkflow(doc);
    const data = { approval_status: 'approved', outstanding: 0, $user: {}, $input: {} };
    const events = [...new Set(Object.values(doc.states).flatMap((s) => Object.keys(s.on ?? {})))].map((type) => ({
      type,
      data,
    }));
    const paths = getShortestPaths(machine, { events });
    expect([...new Set(paths.map((p) => String(p.state.value)))].sort()).toEqual(Object.keys(doc.states).sort());
    for (const path of paths) {
      const advance = await created('rep_east', 'cash_advance', { purpose: '测试借款', amount: 100, needed_date: today() });
      await approveAll('rep_east', 'cash_advance', advance.id);
      for (const step of path.steps.slice(1)) {
        if (step.event.type === 'settle')
          await created('finance', 'advance_repayment', {
            advance: advance.id,
            repaid_date: today(),
            amount: 100,
            method: 'cash',
          });
        const res = await as('finance', 'POST', `/api/data/cash_advance/${advance.id}/transitions/${step.event.type}`);
        expect([step.event.type, res.status, res.body.error]).toEqual([step.event.type, 200, undefined]);
      }
      expect((await get('cash_advance', advance.id)).advance_status).toBe(String(path.state.value));
    }
  });

  it('walks the return approval along its shortest (and every simple) path as the users holding each step: only an approved return raises a refund and a credit', async () => {
    const { simple } = await approvalRoutes('sales_return_approval');
    const big = await created('rep_east', 'order', {
      account: account.id,
      status: 'accepted',
      amount: 100000,
      order_date: today(),
    });
    const reached = new Set<string>();
    for (const [i, path] of simple.entries()) {
      const amount = 1000 + i * 10;
      const ret = await created('rep_east', 'sales_return', {
        order: big.id,
        account: account.id,
        reason: 'damaged',
        return_date: today(),
        amount,
        refund_method: 'bank_transfer',
      });
      const [receivables, receipts] = [await count('receivable'), await count('receipt')];
      const target = await walkApproval(
        'sales_return',
        ret.id,
        'rep_east',
        { manager: 'manager_east', finance: 'finance' },
        path,
      );
      reached.add(target);
      const after = await get('sales_return', ret.id);
      const raised = (
        await as(
          'finance',
          'GET',
          `/api/data/receivable?filter=${encodeURIComponent(JSON.stringify({ '==': [{ var: 'sales_return' }, ret.id] }))}`,
        )
      ).body.data;
      if (target === 'approved') {
        const credit = await get('receivable', after.credit_receivable);
        const refund = await get('receipt', after.refund);
        expect([credit.amount, credit.balance, credit.account, credit.order, credit.sales_return]).toEqual([
          -amount,
          -amount,
          account.id,
          big.id,
          ret.id,
        ]);
        expect([refund.kind, refund.amount, refund.account, refund.method]).toEqual([
          'refund',
          amount,
          account.id,
          'bank_transfer',
        ]);
        expect(raised.map((r: any) => r.id)).toEqual([credit.id]);
        expect([await count('receivable'), await count('receipt')]).toEqual([receivables + 1, receipts + 1]);
      } else {
        // Draft, waiting, returned for rework or recalled: nothing is refunded or credited.
        expect([target, after.refund, after.credit_receivable, raised]).toEqual([target, null, null, []]);
        expect([target, await count('receivable'), await count('receipt')]).toEqual([target, receivables, receipts]);
      }
    }
    expect([...reached].sort()).toEqual(['approved', 'idle', 'recalled', 'returned', 'step:finance', 'step:manager']);
  });

  it('walks the advance approval along its shortest (and every simple) path as the users holding each step: only an approved advance can be paid out', async () => {
    const { simple } = await approvalRoutes('cash_advance_approval');
    const reached = new Set<string>();
    for (const path of simple) {
      // rep_north's manager is the sales director: the first step is theirs, not manager_east's.
      const advance = await created('rep_north', 'cash_advance', {
        purpose: '哈尔滨客户拜访差旅借款',
        amount: 3000,
        needed_date: today(),
      });
      const target = await walkApproval(
        'cash_advance',
        advance.id,
        'rep_north',
        { manager: 'director', finance: 'finance' },
        path,
      );
      reached.add(target);
      const pay = await as('finance', 'POST', `/api/data/cash_advance/${advance.id}/transitions/pay`);
      const after = await get('cash_advance', advance.id);
      if (target === 'approved') {
        expect([pay.status, pay.body.error]).toEqual([200, undefined]);
        expect([after.advance_status, after.paid_date, after.outstanding]).toEqual(['paid', today(), 3000]);
      } else {
        expect([target, pay.status, pay.body.error?.code]).toEqual([target, 409, 'guard_failed']);
        expect([target, after.advance_status, after.paid_date, after.outstanding]).toEqual([target, 'pending', null, 0]);
      }
    }
    expect([...reached].sort()).toEqual(['approved', 'idle', 'recalled', 'returned', 'step:finance', 'step:manager']);
  });
});
