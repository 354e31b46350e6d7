/**
 * The finance documents and customer care of the sample apps, through the API as the demo users:
 * contracts with payment plans raising receivables, receipts matched against receivables (partial,
 * several-to-several) with roll-ups for balances, ageing on timers, the credit limit, period close,
 * electronic collection, expense request → reimbursement, and care suggestions from aggregates over
 * related records; each new process walked along its shortest paths.
 */

import { getShortestPaths } from '@xstate/graph';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileWorkflow } from '../../engine/workflow/compile.js';
import type { WorkflowDoc } from '../../engine/workflow/kind.js';
import { drivers, type TestEngine } from '../support/engine.js';
import { startSampleApps } from '../support/demo-org.js';

const DAY = 86_400_000;
const day = (offset: number) => new Date(Date.now() + offset * DAY).toISOString().slice(0, 10);

describe.each(drivers)('finance documents and customer care on %s', (driver) => {
  let e: TestEngine;
  let ids: Record<string, string>;
  let workflows: WorkflowDoc[];
  let account: any;

  let as: Awaited<ReturnType<typeof startSampleApps>>['as'];
  let get: Awaited<ReturnType<typeof startSampleApps>>['get'];
  let created: Awaited<ReturnType<typeof startSampleApps>>['created'];

  beforeAll(async () => {
    ({ e, ids, workflows, as, get, created } = await startSampleApps(driver));
    account = await created('rep_east', 'account', { name: '杭州财务示例有限公司', region: 'east', grade: 'a' });
  }, 400_000); // three sample apps and the demo organisation, on a busy shared machine
  afterAll(() => e?.stop());

  const runDueJobs = async (queue: string, recordId: string) => {
    await e.database.db.execute(
      sql`update jobs.job set start_after = now() where name = ${queue} and state = 'created' and data->>'id' = ${recordId}`,
    );
  };
  const eventually = async (check: () => Promise<boolean>) => {
    const until = Date.now() + 15_000;
    while (!(await check()) && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
    return check();
  };

  it('signs a contract whose payment plan adds up, raises its receivables on schedule, and matches receipts against them', async () => {
    const contract = await created('finance', 'contract', { title: 'ERP 实施合同', account: account.id, amount: 300000 });
    const first = await created('finance', 'payment_plan', {
      title: '首付款',
      contract: contract.id,
      account: account.id,
      due_date: day(3),
      amount: 90000,
    });
    expect((await as('finance', 'POST', `/api/data/contract/${contract.id}/transitions/sign`)).body.error.code).toBe(
      'guard_failed',
    );
    const second = await created('finance', 'payment_plan', {
      title: '验收款',
      contract: contract.id,
      account: account.id,
      due_date: day(60),
      amount: 210000,
    });
    expect(await get('contract', contract.id)).toMatchObject({ planned_total: 300000 });
    expect((await as('finance', 'POST', `/api/data/contract/${contract.id}/transitions/sign`)).status).toBe(200);

    // Seven days before it is due, the instalment's timer raises the receivable (the first is due in 3 days: at once).
    await runDueJobs('workflow-timer', first.id);
    expect(await eventually(async () => (await get('payment_plan', first.id)).status === 'raised')).toBe(true);
    expect((await get('payment_plan', second.id)).status).toBe('planned');
    expect((await as('finance', 'POST', `/api/data/payment_plan/${second.id}/transitions/raise`)).status).toBe(200);
    const [r1, r2] = await Promise.all(
      [first, second].map(async (p) => get('receivable', (await get('payment_plan', p.id)).receivable)),
    );
    expect([r1.amount, r1.balance, r1.ageing, r2.amount]).toEqual([90000, 90000, 'not_due', 210000]);

    // 核销: one receipt over two receivables, a second receipt finishing the first (partial, several-to-several).
    const receiptA = await created('finance', 'receipt', { account: account.id, amount: 100000, received_date: day(0) });
    await created('finance', 'receipt_allocation', {
      receipt: receiptA.id,
      receivable: r1.id,
      amount: 60000,
      matched_on: day(0),
    });
    await created('finance', 'receipt_allocation', {
      receipt: receiptA.id,
      receivable: r2.id,
      amount: 40000,
      matched_on: day(0),
    });
    const receiptB = await created('finance', 'receipt', {
      account: account.id,
      amount: 50000,
      received_date: day(0),
      kind: 'pre_receipt',
    });
    await created('finance', 'receipt_allocation', {
      receipt: receiptB.id,
      receivable: r1.id,
      amount: 30000,
      matched_on: day(0),
    });
    expect(await get('receivable', r1.id)).toMatchObject({ received_amount: 90000, balance: 0 });
    expect(await get('receivable', r2.id)).toMatchObject({ received_amount: 40000, balance: 170000 });
    expect(await get('receipt', receiptA.id)).toMatchObject({ allocated_amount: 100000, unallocated: 0 });
    expect(await get('receipt', receiptB.id)).toMatchObject({ allocated_amount: 30000, unallocated: 20000 });
    // Matching beyond what a receipt holds, or beyond what a receivable is owed, is refused and writes nothing.
    const beyondReceipt = await as(
      'finance',
      'POST',
      '/api/data/receipt_allocation',
      { receipt: receiptB.id, receivable: r2.id, amount: 20000.01, matched_on: day(0) },
      { 'accept-language': 'zh-CN' },
    );
    expect([beyondReceipt.status, beyondReceipt.body.error?.code]).toEqual([409, 'receipt_over_allocated']);
    expect(beyondReceipt.body.error).toMatchObject({ details: [{ path: '/amount' }] });
    expect(beyondReceipt.body.error.message).toMatch(/未核销余额/);
    const receiptC = await created('finance', 'receipt', { account: account.id, amount: 10000, received_date: day(0) });
    const beyondReceivable = await as('finance', 'POST', '/api/data/receipt_allocation', {
      receipt: receiptC.id,
      receivable: r1.id,
      amount: 1,
      matched_on: day(0),
    });
    expect([beyondReceivable.status, beyondReceivable.body.error?.code]).toEqual([409, 'receivable_over_allocated']);
    // Raising an existing matching past the limit is refused too (r1 is settled in full).
    const lines = (
      await e.call(
        'GET',
        `/api/data/receipt_allocation?filter=${encodeURIComponent(JSON.stringify({ '==': [{ var: 'receipt' }, receiptB.id] }))}`,
      )
    ).body.data;
    expect(lines).toHaveLength(1);
    const raised = await as(
      'finance',
      'PATCH',
      `/api/data/receipt_allocation/${lines[0].id}`,
      { amount: 50000 },
      { 'if-match': `"${lines[0].version}"` },
    );
    expect([raised.status, raised.body.error?.code]).toEqual([409, 'receivable_over_allocated']);
    expect(await get('receipt', receiptB.id)).toMatchObject({ allocated_amount: 30000, unallocated: 20000 });
    expect(await get('receipt', receiptC.id)).toMatchObject({ allocated_amount: 0 });
    // The account statement: received and outstanding from roll-ups over roll-ups.
    expect(await get('contract', contract.id)).toMatchObject({ received_total: 130000, outstanding: 170000 });
    expect((await as('finance', 'POST', `/api/data/contract/${contract.id}/transitions/complete`)).body.error.code).toBe(
      'guard_failed',
    );
    const refund = await as('finance', 'POST', '/api/data/receipt', {
      account: account.id,
      amount: 20000,
      received_date: day(0),
      kind: 'refund',
    });
    expect(refund.body.error.details[0].path).toBe('/note');
  });

  it('counts each rep’s receipts (回款) of the period in the generated daily, weekly and monthly reports', async () => {
    // Beijing dates: the reports' periods are local.
    const beijing = (days = 0) => new Date(Date.now() + 8 * 3_600_000 + days * DAY).toISOString().slice(0, 10);
    const northCustomer = await created('rep_north', 'account', {
      name: '回款统计北方客户有限公司',
      region: 'north',
      grade: 'b',
    });
    const receipt = (customer: string, amount: number, received_date: string, kind = 'receipt') =>
      created('finance', 'receipt', {
        account: customer,
        amount,
        received_date,
        kind,
        ...(kind === 'refund' ? { note: '退款' } : {}),
      });
    await receipt(account.id, 12000, beijing());
    await receipt(account.id, 3000.5, beijing(), 'pre_receipt');
    await receipt(account.id, 500, beijing(), 'refund'); // money out: not 回款
    await receipt(northCustomer.id, 7000, beijing()); // rep_north's customer
    await receipt(account.id, 800, beijing(-40)); // another month

    const expected = async (rep: string, from: string, to: string) => {
      const [x] = await e.database.rows<{ n: number; amount: string }>(
        sql`select count(*)::int as n, coalesce(sum(r.amount), 0) as amount from receipt r join account a on a.id = r.account
            where r.deleted_at is null and a.owner_id = ${rep} and r.kind <> 'refund'
              and r.received_date >= ${from}::date and r.received_date < ${to}::date`,
      );
      return { receipts: x!.n, received_amount: Number(x!.amount) };
    };
    for (const period of ['daily', 'weekly', 'monthly']) {
      expect(await e.scheduler.run(`activity_report_${period}`)).toMatchObject({ failed: [] });
      const reports = (
        await e.call(
          'GET',
          `/api/data/activity_report?filter=${encodeURIComponent(JSON.stringify({ '==': [{ var: 'period' }, period] }))}&limit=50`,
        )
      ).body.data as any[];
      for (const rep of ['rep_east', 'rep_north']) {
        const report = reports.find((r) => r.rep === ids[rep])!;
        const want = await expected(ids[rep]!, report.period_start, report.period_end);
        expect([period, rep, report.receipts, report.received_amount]).toEqual([
          period,
          rep,
          want.receipts,
          want.received_amount,
        ]);
        if (period === 'daily') expect(want.receipts).toBeGreaterThanOrEqual(rep === 'rep_east' ? 2 : 1);
      }
    }
  });

  it('ages an unpaid receivable on timers into its bucket; a settled one stays', async () => {
    const old = await created('finance', 'receivable', {
      account: account.id,
      due_date: day(-45),
      amount: 5000,
      description: '旧款',
    });
    for (const bucket of ['overdue_1_30', 'overdue_31_60']) {
      await runDueJobs('workflow-timer', old.id);
      expect(await eventually(async () => (await get('receivable', old.id)).ageing === bucket)).toBe(true);
    }
    const paid = await created('finance', 'receivable', { account: account.id, due_date: day(-10), amount: 100 });
    const receipt = await created('finance', 'receipt', { account: account.id, amount: 100, received_date: day(0) });
    await created('finance', 'receipt_allocation', { receipt: receipt.id, receivable: paid.id, amount: 100, matched_on: day(0) });
    await runDueJobs('workflow-timer', paid.id);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await get('receivable', paid.id)).ageing).toBe('not_due');
  });

  it('blocks an order over the customer’s credit limit and warns above 80 %', async () => {
    const customer = (
      await e.call('POST', '/api/data/account', {
        name: '信用额度测试公司',
        region: 'north',
        grade: 'b',
        credit_limit: 100000,
        owner_id: ids.rep_north,
      })
    ).body.data;
    await created('finance', 'receivable', { account: customer.id, due_date: day(30), amount: 60000 });
    const refused = await as(
      'rep_north',
      'POST',
      '/api/data/order',
      { account: customer.id, amount: 50000 },
      { 'accept-language': 'zh-CN' },
    );
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'credit_limit_exceeded', details: [{ path: '/amount' }] });
    expect(refused.body.error.message).toMatch(/信用额度/);
    expect(
      Number(
        (await e.database.rows<{ n: number }>(sql`select count(*)::int as n from "order" where account = ${customer.id}`))[0].n,
      ),
    ).toBe(0);
    const warned = await as('rep_north', 'POST', '/api/data/order', { account: customer.id, amount: 25000 });
    expect(warned.status).toBe(201);
    const told = await e.database.rows<{ user_id: string }>(
      sql`select user_id from inbox.notifications where record_id = ${warned.body.data.id}`,
    );
    expect(told.map((t) => t.user_id).sort()).toEqual([ids.rep_north, ids.finance].sort());
    // Raising the order past the limit is refused too.
    const v = warned.body.data.version;
    expect(
      (await as('rep_north', 'PATCH', `/api/data/order/${warned.body.data.id}`, { amount: 45000, version: v })).body.error.code,
    ).toBe('credit_limit_exceeded');
  });

  it('closes a period: its documents refuse writes with a clear error; reopening takes a reason and is recorded', async () => {
    const period = await created('finance', 'accounting_period', { code: '2026-10' });
    expect((await as('rep_east', 'POST', `/api/data/accounting_period/${period.id}/transitions/close`)).status).toBe(403);
    const invoice = { account: account.id, issue_date: '2026-10-15', amount: 11300 };
    const octoberInvoice = await created('finance', 'invoice', { ...invoice, issue_date: '2026-10-20' });
    expect((await as('finance', 'POST', `/api/data/accounting_period/${period.id}/transitions/close`)).status).toBe(200);
    // Deleting a document of the closed period is refused like changing it; the record stays where it was.
    const deleteRefused = await as('finance', 'DELETE', `/api/data/invoice/${octoberInvoice.id}`, undefined, {
      'accept-language': 'zh-CN',
    });
    expect([deleteRefused.status, deleteRefused.body.error?.code]).toEqual([409, 'period_closed']);
    expect(deleteRefused.body.error.message).toMatch(/不能新增、修改或删除/);
    expect((await e.call('GET', `/api/data/invoice/${octoberInvoice.id}`)).status).toBe(200);
    const refused = await as('finance', 'POST', '/api/data/invoice', invoice, { 'accept-language': 'zh-CN' });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'period_closed', details: [{ path: '/period' }] });
    expect(refused.body.error.message).toMatch(/已结账/);
    expect((await as('finance', 'POST', '/api/data/invoice', { ...invoice, issue_date: '2026-11-02' })).status).toBe(201);
    expect((await as('finance', 'POST', `/api/data/accounting_period/${period.id}/transitions/reopen`)).status).toBe(422);
    expect(
      (
        await as('finance', 'POST', `/api/data/accounting_period/${period.id}/transitions/reopen`, {
          input: { reason: '补录十月发票' },
        })
      ).status,
    ).toBe(200);
    const history = (await e.call('GET', `/api/data/accounting_period/${period.id}/workflow-history`)).body.data.transitions;
    expect(history[0]).toMatchObject({ event: 'reopen', actor: ids.finance, input: { reason: '补录十月发票' } });
    const issued = await as('finance', 'POST', '/api/data/invoice', invoice);
    expect(issued.status).toBe(201);
    expect(issued.body.data).toMatchObject({ tax: 1300, period: '2026-10' });
    // Reopened, the October invoice may go.
    expect((await as('finance', 'DELETE', `/api/data/invoice/${octoberInvoice.id}`)).status).toBe(200);
  });

  it('e-mails the primary contact of each overdue receivable (electronic collection)', async () => {
    const customer = await created('rep_east', 'account', { name: '催收测试公司', region: 'east', grade: 'c' });
    await created('rep_east', 'contact', { name: '钱会计', account: customer.id, is_primary: true, email: 'qian@example.cn' });
    await created('finance', 'receivable', { account: customer.id, due_date: day(-5), amount: 8000, description: '二期款' });
    await created('finance', 'receivable', { account: customer.id, due_date: day(20), amount: 8000, description: '三期款' });
    const run = await e.scheduler.run('collection_reminder');
    expect(run.failed).toEqual([]);
    const mails = await e.database.rows<{ to_address: string; subject: any }>(
      sql`select to_address, subject from inbox.email_outbox where to_address = 'qian@example.cn'`,
    );
    expect(mails).toHaveLength(1);
    const subject = typeof mails[0].subject === 'string' ? JSON.parse(mails[0].subject) : mails[0].subject;
    expect(subject['zh-CN']).toMatch(/^付款提醒：YS-/);
  });

  it('raises the reimbursement from an approved expense request', async () => {
    const request = await created('rep_east', 'expense_request', {
      title: '上海客户拜访差旅',
      expense_type: 'travel',
      amount: 3200,
      planned_date: day(7),
    });
    const submitted = await as('rep_east', 'POST', `/api/data/expense_request/${request.id}/approval/submit`, {});
    expect(submitted.status).toBe(200);
    const manager = submitted.body.data.request.tasks[0];
    expect(manager.assignee).toBe(ids.manager_east);
    expect((await as('manager_east', 'POST', `/api/approvals/${manager.id}/approve`, {})).status).toBe(200);
    const task = (await as('finance', 'GET', '/api/approvals/inbox')).body.data.find((t: any) => t.recordId === request.id);
    expect((await as('finance', 'POST', `/api/approvals/${task.id}/approve`, {})).status).toBe(200);
    expect((await get('expense_request', request.id)).approval_status).toBe('approved');
    const claims = (
      await as(
        'rep_east',
        'GET',
        `/api/data/expense_claim?filter=${encodeURIComponent(JSON.stringify({ '==': [{ var: 'request' }, request.id] }))}`,
      )
    ).body.data;
    expect(claims).toMatchObject([{ title: '上海客户拜访差旅', amount: 3200, approval_status: 'draft', owner_id: ids.rep_east }]);
  });

  it('suggests care for declining and rising customers from aggregates over their orders, and birthday care tasks', async () => {
    const declining = await created('rep_east', 'account', { name: '订单下滑公司', region: 'east', grade: 'b' });
    const rising = await created('rep_east', 'account', { name: '订单上升公司', region: 'east', grade: 'b' });
    for (const [acc, before, recent] of [
      [declining, 200000, 50000],
      [rising, 10000, 90000],
    ] as const) {
      await created('rep_east', 'order', { account: acc.id, amount: before, order_date: day(-250) });
      await created('rep_east', 'order', { account: acc.id, amount: recent, order_date: day(-40) });
    }
    for (const name of ['care_declining', 'care_rising']) expect((await e.scheduler.run(name)).failed).toEqual([]);
    const suggestions = (await as('rep_east', 'GET', `/api/data/care_suggestion?limit=100`)).body.data;
    const kinds = (id: string) => suggestions.filter((s: any) => s.account === id).map((s: any) => s.kind);
    expect(kinds(declining.id)).toEqual(['declining']);
    expect(kinds(rising.id)).toEqual(['rising']);
    expect(suggestions.find((s: any) => s.account === declining.id).reason).toContain('50000');
    // Weekly again: no second suggestion while the first is open.
    await e.scheduler.run('care_declining');
    expect(
      (await as('rep_east', 'GET', `/api/data/care_suggestion?limit=100`)).body.data.filter(
        (s: any) => s.account === declining.id,
      ),
    ).toHaveLength(1);

    const today = new Date(Date.now() + 8 * 3600_000).toISOString().slice(5, 10);
    const contact = await created('rep_east', 'contact', { name: '孙经理', account: account.id, birthday: `1985-${today}` });
    await created('rep_east', 'contact', {
      name: '李经理',
      account: account.id,
      birthday: '1985-01-01' === `1985-${today}` ? '1985-01-02' : '1985-01-01',
    });
    expect((await e.scheduler.run('birthday_care')).failed).toEqual([]);
    const tasks = (await as('rep_east', 'GET', '/api/data/care_task?limit=100')).body.data;
    expect(tasks.map((t: any) => [t.contact, t.kind, t.stage])).toEqual([[contact.id, 'birthday', 'plan']]);
  });

  it('walks the contract, instalment, period-close and care processes along their shortest paths', async () => {
    const inputs: Record<string, unknown> = {
      reopen: { reason: '调整' },
      finish: { result: '已送达生日祝福' },
      record_feedback: { feedback: '客户感谢' },
    };
    let n = 0;
    const cases: { name: string; entity: string; field: string; user: string; create: () => Promise<any> }[] = [
      {
        name: 'care_process',
        entity: 'care_task',
        field: 'stage',
        user: 'rep_east',
        create: () => created('rep_east', 'care_task', { subject: '节日问候', kind: 'holiday', account: account.id }),
      },
      {
        name: 'period_close',
        entity: 'accounting_period',
        field: 'status',
        user: 'finance',
        create: () => created('finance', 'accounting_period', { code: `2030-${String(++n).padStart(2, '0')}` }),
      },
      {
        name: 'contract_process',
        entity: 'contract',
        field: 'status',
        user: 'finance',
        create: async () => {
          const c = await created('finance', 'contract', { title: '路径合同', account: account.id, amount: 1000 });
          const plan = await created('finance', 'payment_plan', {
            title: '全款',
            contract: c.id,
            account: account.id,
            due_date: day(90),
            amount: 1000,
          });
          await as('finance', 'POST', `/api/data/payment_plan/${plan.id}/transitions/raise`);
          const receivable = (await get('payment_plan', plan.id)).receivable;
          const receipt = await created('finance', 'receipt', { account: account.id, amount: 1000, received_date: day(0) });
          await created('finance', 'receipt_allocation', { receipt: receipt.id, receivable, amount: 1000, matched_on: day(0) });
          return c;
        },
      },
      {
        name: 'instalment_process',
        entity: 'payment_plan',
        field: 'status',
        user: 'finance',
        create: async () => {
          const c = await created('finance', 'contract', { title: '分期合同', account: account.id, amount: 500 });
          return created('finance', 'payment_plan', {
            title: '一期',
            contract: c.id,
            account: account.id,
            due_date: day(90),
            amount: 500,
          });
        },
      },
    ];
    for (const c of cases) {
      const doc = workflows.find((w) => w.name === c.name)!;
      const { machine } = compileWorkflow(doc);
      const data = { planned_total: 1, amount: 1, outstanding: 0, $user: {}, $input: {} };
      const events = [...new Set(Object.values(doc.states).flatMap((s) => Object.keys(s.on ?? {})))].map((type) => ({
        type,
        data,
      }));
      const paths = getShortestPaths(machine, { events });
      expect([...new Set(paths.map((p) => String(p.state.value)))].sort()).toEqual(Object.keys(doc.states).sort());
      for (const path of paths) {
        const record = await c.create();
        for (const step of path.steps.slice(1)) {
          const input = inputs[step.event.type];
          const res = await as(
            c.user,
            'POST',
            `/api/data/${c.entity}/${record.id}/transitions/${step.event.type}`,
            input ? { input } : undefined,
          );
          expect([c.name, step.event.type, res.status, res.body.error]).toEqual([c.name, step.event.type, 200, undefined]);
        }
        expect((await get(c.entity, record.id))[c.field]).toBe(String(path.state.value));
      }
    }
  });
});
