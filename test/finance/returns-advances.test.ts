/**
 * Sales returns (退货处理) and cash advances (借支) of the finance sample, through the API as the demo users:
 * an approved return raises a refund and a credit receivable; returns cannot exceed their order; a negative
 * receivable needs a return; an advance is approved, paid out, repaid (never beyond what is outstanding) and
 * settled; expenses carry the customer and the opportunity they were spent on. Each new process is walked
 * along its shortest paths.
 */
import { getShortestPaths } from '@xstate/graph';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileWorkflow } from '../../engine/workflow/compile.js';
import { drivers } from '../support/engine.js';
import { startSampleApps } from '../support/demo-org.js';

const today = () => new Date().toISOString().slice(0, 10);

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
});
