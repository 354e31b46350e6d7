/**
 * Approvals, the record page's workflow bar and the home page in Chromium, as the demo users (zh-CN, en
 * where cheap): the manager rejects a quote from the inbox with a comment and delegates another to the
 * director (it is then in the director's inbox); the rep recalls a third on its record page — each request's
 * status checked through the API. The workflow bar shows a transition the rep may not fire disabled, with
 * the reasons the API gives (a guard's message, a role required), and the time in the current stage. The
 * home page shows the approval tasks, open stage tasks, unread notifications and recently viewed records
 * the API says it should. No console errors; screenshots under .ci-results/ui/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { sql } from 'drizzle-orm';
import { drivers } from '../support/engine.js';
import { startOrg, type Org, type UserName } from '../access/org.js';
import { appears, axeViolations, DESKTOP, launch, login, openPage, pickOption, serveUi, settle, shot, type UiPage } from './browser.js';

const STEP = 120_000;
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 15_000 });

describe.each(drivers)('approvals, the workflow bar and the home page in Chromium on %s', (driver) => {
  let org: Org;
  let ui: Awaited<ReturnType<typeof serveUi>>;
  let browser: Browser;
  const opened: UiPage[] = [];
  const tag = driver === 'pglite' ? '' : '-pg';
  const snap = (page: Page, name: string) => (tag ? Promise.resolve() : shot(page, name));
  const open = async (user: UserName, lang: 'zh-CN' | 'en' = 'zh-CN') => {
    const p = await openPage(browser, ui.base, lang, DESKTOP);
    opened.push(p);
    await login(p.page, user, org.passwords[user]);
    return p;
  };
  const ok = async (res: Promise<{ status: number; body: any }>, status = 200) => {
    const r = await res;
    expect(r.status, JSON.stringify(r.body)).toBe(status);
    return r.body.data;
  };
  const fire = (id: string, event: string) => ok(org.as('rep_east', 'POST', `/api/data/opportunity/${id}/transitions/${event}`, {}));
  const approval = async (quote: string) => ok(org.as('rep_east', 'GET', `/api/data/quote/${quote}/approval`));
  const inboxOf = async (user: UserName) => (await ok(org.as(user, 'GET', '/api/approvals/inbox'))) as any[];
  /** The transitions as the API gives them to the rep, in a language. */
  const transitions = async (id: string, lang: 'zh-CN' | 'en') =>
    (await ok(org.as('rep_east', 'GET', `/api/data/opportunity/${id}/transitions`, undefined, { 'accept-language': lang }))).transitions as any[];

  let rep: UiPage;
  /** In the proposal stage without an amount (its "quote" step's guard fails), for three days and five hours. */
  let proposal: any;
  /** In negotiation: signing needs a manager. */
  let negotiation: any;
  /** Quotes with a 15 % discount, each submitted for the manager's approval. */
  const quotes: Record<'reject' | 'delegate' | 'recall' | 'home', any> = {} as any;

  beforeAll(async () => {
    org = await startOrg(driver, ['sales']);
    const account = org.accounts.rep_east.id;
    proposal = await ok(
      org.as('rep_east', 'POST', '/api/data/opportunity', { title: '流程测试 方案阶段', account, opportunity_type: 'project' }),
      201,
    );
    for (const event of ['confirm_needs', 'submit_proposal']) await fire(proposal.id, event);
    await org.e.data.database.db.execute(
      sql`update workflow.stays set entered_at = now() - interval '3 days 5 hours' where record_id = ${proposal.id} and left_at is null`,
    );
    negotiation = await ok(
      org.as('rep_east', 'POST', '/api/data/opportunity', {
        title: '流程测试 商务谈判',
        account,
        opportunity_type: 'project',
        amount: 500_000,
        expected_close_date: '2031-06-30',
      }),
      201,
    );
    for (const event of ['confirm_needs', 'submit_proposal', 'quote', 'confirm_intent', 'negotiate']) await fire(negotiation.id, event);
    for (const key of ['reject', 'delegate', 'recall', 'home'] as const) {
      quotes[key] = await ok(
        org.as('rep_east', 'POST', '/api/data/quote', { opportunity: negotiation.id, list_amount: 100_000, discount: 15 }),
        201,
      );
      await ok(org.as('rep_east', 'POST', `/api/data/quote/${quotes[key].id}/approval/submit`, {}));
    }
    // Stage tasks of the rep's (one done, one not) and someone else's: what "my open tasks" is about.
    await ok(
      org.e.call('POST', '/api/data/task', [
        { subject: '准备演示环境', status: 'execute', opportunity: proposal.id, owner_id: org.ids.rep_east },
        { subject: '已完成的调研', status: 'done', opportunity: proposal.id, owner_id: org.ids.rep_east },
        { subject: '别人的任务', status: 'execute', opportunity: proposal.id, owner_id: org.ids.rep_north },
      ]),
      201,
    );
    ui = await serveUi(org.e);
    browser = await launch();
    rep = await open('rep_east');
  }, 240_000);
  afterAll(async () => {
    for (const p of opened) expect(p.errors.join('\n'), 'console errors').toBe('');
    await browser?.close();
    await ui?.close();
    await org?.e.stop();
  });

  /** The tooltip of a transition's button, hovered. */
  const tooltipOf = async (page: Page, event: string) => {
    await page.getByTestId(`transition-${event}`).locator('xpath=..').hover();
    const tip = page.locator('.ant-tooltip:visible .ant-tooltip-inner');
    await tip.waitFor();
    return (await tip.textContent())!.trim();
  };

  it(
    'shows a transition the rep may not fire disabled, with the API’s reasons, and the time in stage',
    async () => {
      const { page } = rep;
      await page.goto(`/r/opportunity/${proposal.id}`);
      await settle(page);
      const bar = page.getByTestId('workflow-bar');
      // a guard: the amount is missing
      const quote = (await transitions(proposal.id, 'zh-CN')).find((t) => t.event === 'quote');
      expect(quote.allowed).toBe(false);
      expect(quote.reasons.map((r: any) => r.code)).toEqual(['guard_failed']);
      expect(await page.getByTestId('transition-quote').isDisabled()).toBe(true);
      expect(await tooltipOf(page, 'quote')).toBe(quote.reasons.map((r: any) => r.message).join('；'));
      // from the keyboard too: the disabled button's wrapper takes the focus and names the reason
      await page.mouse.move(1, 1);
      await page.locator('.ant-tooltip:visible').waitFor({ state: 'hidden' });
      const wrapper = page.getByTestId('transition-quote').locator('xpath=..');
      await wrapper.focus();
      await poll(() => page.locator('.ant-tooltip:visible .ant-tooltip-inner').textContent()).toBe(
        quote.reasons.map((r: any) => r.message).join('；'),
      );
      expect(await wrapper.getAttribute('aria-label')).toContain(quote.reasons[0].message);
      await wrapper.blur();
      expect((await axeViolations(page)).join('\n'), 'axe on the record with disabled transitions').toBe('');
      // an allowed one is enabled
      expect(await page.getByTestId('transition-lose').isEnabled()).toBe(true);
      // time in stage, from the API's stay
      const stays = (await ok(org.as('rep_east', 'GET', `/api/data/opportunity/${proposal.id}/workflow-history`))).stays as any[];
      const stay = stays.find((s) => s.state === 'proposal' && !s.leftAt);
      const days = Math.floor(stay.seconds / 86_400);
      const hours = Math.floor((stay.seconds % 86_400) / 3_600);
      expect(days).toBeGreaterThan(0);
      await poll(() => bar.textContent()).toContain(`已停留 ${days} 天 ${hours} 小时`);
      await snap(page, 'workflow-guard-zh-desktop');

      // a role: signing needs a manager
      await page.goto(`/r/opportunity/${negotiation.id}`);
      await settle(page);
      const sign = (await transitions(negotiation.id, 'zh-CN')).find((t) => t.event === 'sign');
      expect(sign.reasons.map((r: any) => r.code)).toEqual(['role_required']);
      expect(await page.getByTestId('transition-sign').isDisabled()).toBe(true);
      expect(await tooltipOf(page, 'sign')).toBe(sign.reasons.map((r: any) => r.message).join('；'));
      await snap(page, 'workflow-role-zh-desktop');

      // in English, the API's English reasons and the time in English units
      const en = await open('rep_east', 'en');
      await en.page.goto(`/r/opportunity/${negotiation.id}`);
      await settle(en.page);
      const signEn = (await transitions(negotiation.id, 'en')).find((t) => t.event === 'sign');
      expect(await tooltipOf(en.page, 'sign')).toBe(signEn.reasons.map((r: any) => r.message).join('；'));
      expect(signEn.reasons[0].message).not.toBe(sign.reasons[0].message);
      await snap(en.page, 'workflow-role-en-desktop');
      await en.page.goto(`/r/opportunity/${proposal.id}`);
      await settle(en.page);
      await poll(() => en.page.getByTestId('workflow-bar').textContent()).toContain(`In stage for ${days} d ${hours} h`);
    },
    STEP,
  );

  it(
    'lets the manager reject a quote from the inbox with a comment',
    async () => {
      const manager = await open('manager_east');
      const { page } = manager;
      await page.goto('/inbox');
      await settle(page);
      const mine = await inboxOf('manager_east');
      await poll(() => page.getByTestId('inbox-item').count()).toBe(mine.length);
      await page.getByTestId('inbox-item').filter({ hasText: quotes.reject.quote_no }).click();
      await poll(() => page.getByTestId('task-detail').textContent()).toContain(quotes.reject.quote_no);
      await page.getByTestId('task-detail').getByRole('button', { name: '驳回' }).click();
      const dialog = page.getByRole('dialog').filter({ hasText: '驳回' });
      await dialog.getByRole('textbox', { name: '意见' }).fill('折扣过高，请重新报价');
      await snap(page, 'inbox-reject-zh-desktop');
      await dialog.getByRole('button', { name: /确\s*定/ }).click();
      // the manager's step returns a rejected quote to the rep for changes (quote_discount: onReject "submitter")
      await poll(async () => (await approval(quotes.reject.id)).status).toBe('returned');
      const [request] = await ok(org.as('rep_east', 'GET', `/api/data/quote/${quotes.reject.id}/approvals`));
      expect(request.tasks.find((t: any) => t.status === 'rejected')).toMatchObject({
        comment: '折扣过高，请重新报价',
        assignee: org.ids.manager_east,
      });
      expect((await inboxOf('manager_east')).map((t) => t.recordId)).not.toContain(quotes.reject.id);
      await poll(() => page.getByTestId('inbox-item').filter({ hasText: quotes.reject.quote_no }).count()).toBe(0);
      // the rep sees the rejection and its comment on the quote
      await rep.page.goto(`/r/quote/${quotes.reject.id}`);
      await settle(rep.page);
      await poll(() => rep.page.getByTestId('approval-panel').textContent()).toContain('退回修改');
      expect(await rep.page.getByTestId('approval-panel').textContent()).toContain('已驳回'); // the manager's task
      // returned for changes: the rep may submit again
      expect((await approval(quotes.reject.id)).canSubmit).toBe(true);
      expect(await rep.page.getByTestId('submit-approval').isEnabled()).toBe(true);
      await snap(rep.page, 'record-returned-zh-desktop');
      expect(await rep.page.getByTestId('approval-panel').textContent()).toContain('折扣过高，请重新报价');
    },
    STEP,
  );

  it(
    'lets the manager delegate a task to the director: it is in the director’s inbox, not the manager’s',
    async () => {
      const manager = await open('manager_east');
      const { page } = manager;
      await page.goto('/inbox');
      await settle(page);
      await page.getByTestId('inbox-item').filter({ hasText: quotes.delegate.quote_no }).click();
      await poll(() => page.getByTestId('task-detail').textContent()).toContain(quotes.delegate.quote_no);
      await page.getByTestId('task-detail').getByRole('button', { name: '转交' }).click();
      const dialog = page.getByRole('dialog').filter({ hasText: '转交' });
      await pickOption(
        page,
        () => dialog.getByRole('combobox', { name: '用户' }).click(),
        '李',
        '李总监',
        () => appears(dialog.locator('.ant-select-selection-item', { hasText: '李总监' })),
      );
      await dialog.getByRole('textbox', { name: '意见' }).fill('出差中，请总监代为审批');
      await dialog.getByRole('button', { name: /确\s*定/ }).click();
      await poll(async () => (await inboxOf('director')).map((t) => t.recordId)).toContain(quotes.delegate.id);
      expect((await inboxOf('manager_east')).map((t) => t.recordId)).not.toContain(quotes.delegate.id);
      expect((await approval(quotes.delegate.id)).status).toBe('pending');
      await poll(() => page.getByTestId('inbox-item').filter({ hasText: quotes.delegate.quote_no }).count()).toBe(0);
      // the director finds it in their inbox
      const director = await open('director');
      await director.page.goto('/inbox');
      await settle(director.page);
      await poll(() => director.page.getByTestId('inbox-item').filter({ hasText: quotes.delegate.quote_no }).count()).toBe(1);
      // its steps show the manager's task as delegated, not recalled
      await director.page.getByTestId('inbox-item').filter({ hasText: quotes.delegate.quote_no }).click();
      await poll(() => director.page.getByTestId('task-detail').textContent()).toContain('已转交');
      expect(await director.page.getByTestId('task-detail').textContent()).not.toContain('已撤回');
      await snap(director.page, 'inbox-delegated-zh-desktop');
    },
    STEP,
  );

  it(
    'lets the rep recall a pending request on the record page',
    async () => {
      const { page } = rep;
      expect((await approval(quotes.recall.id)).canRecall).toBe(true);
      await page.goto(`/r/quote/${quotes.recall.id}`);
      await settle(page);
      const panel = page.getByTestId('approval-panel');
      await poll(() => panel.textContent()).toContain('审批中');
      await panel.getByRole('button', { name: '撤回' }).click();
      await poll(async () => (await approval(quotes.recall.id)).status).toBe('recalled');
      await poll(() => panel.textContent()).toContain('已撤回');
      expect(await panel.getByRole('button', { name: '撤回' }).count()).toBe(0);
      expect((await inboxOf('manager_east')).map((t) => t.recordId)).not.toContain(quotes.recall.id);
      await snap(page, 'record-recalled-zh-desktop');
    },
    STEP,
  );

  it(
    'shows on the home page the approval tasks, open tasks, unread notifications and recent records the API says',
    async () => {
      // the manager: their approval tasks
      const manager = await open('manager_east');
      await manager.page.goto('/');
      await settle(manager.page);
      const inbox = await inboxOf('manager_east');
      expect(inbox.map((t) => t.recordId)).toContain(quotes.home.id);
      const approvals = manager.page.getByTestId('home-approvals');
      await poll(() => approvals.locator('h2').textContent()).toBe(`我的审批待办 (${inbox.length})`);
      expect((await approvals.locator('li a').allTextContents()).sort()).toEqual(inbox.map((t) => t.title).sort());

      // the rep: open stage tasks, unread notifications, recently viewed
      const { page } = rep;
      await page.goto('/');
      await settle(page);
      const openTasks = (await ok(
        org.as(
          'rep_east',
          'GET',
          `/api/data/task?limit=100&filter=${encodeURIComponent(
            JSON.stringify({ and: [{ '==': [{ var: 'owner_id' }, org.ids.rep_east] }, { '!=': [{ var: 'status' }, 'done'] }] }),
          )}`,
        ),
      )) as any[];
      expect(openTasks.map((t) => t.subject)).toContain('准备演示环境');
      expect(openTasks.map((t) => t.subject)).not.toContain('已完成的调研');
      const tasks = page.getByTestId('home-tasks');
      await poll(() => tasks.locator('h2').textContent()).toBe(`我的待办任务 (${openTasks.length})`);
      expect((await tasks.locator('li > a:not(.mc-task-parent)').allTextContents()).sort()).toEqual(
        openTasks.map((t) => t.subject).sort(),
      );
      // Each names the deal whose stage waits on it.
      const deals = await Promise.all(
        openTasks
          .filter((t) => t.opportunity)
          .map(async (t) => (await ok(org.as('rep_east', 'GET', `/api/data/opportunity/${t.opportunity}`))).title as string),
      );
      expect(deals.length).toBeGreaterThan(0);
      expect((await tasks.locator('.mc-task-parent').allTextContents()).sort()).toEqual(deals.sort());

      const unread = (await ok(org.as('rep_east', 'GET', '/api/notifications?unread=true'))) as any[];
      expect(unread.length).toBeGreaterThan(0); // the rejection, at least
      const notes = page.getByTestId('home-unread');
      await poll(() => notes.locator('h2').textContent()).toBe(`未读通知 (${unread.length})`);
      const subjects = await notes.locator('.mc-notification-subject').allTextContents();
      expect(subjects).toEqual(unread.slice(0, 8).map((n) => (typeof n.subject === 'string' ? n.subject : n.subject['zh-CN'])));
      // Newest first, by when they happened.
      const times = unread.map((n) => Date.parse(n.createdAt));
      expect(times).toEqual([...times].sort((a, b) => b - a));

      // the records the rep opened in this browser, latest first, titled as the API has them
      const title = async (entity: string, id: string, field: string) =>
        (await ok(org.as('rep_east', 'GET', `/api/data/${entity}/${id}`)))[field];
      const recent = page.getByTestId('home-recent').locator('li a');
      await poll(() => recent.allTextContents()).toEqual([
        await title('quote', quotes.recall.id, 'quote_no'),
        await title('quote', quotes.reject.id, 'quote_no'),
        await title('opportunity', negotiation.id, 'title'),
        await title('opportunity', proposal.id, 'title'),
      ]);
      await snap(page, 'home-rep-zh-desktop');

      const en = await open('rep_east', 'en');
      await en.page.goto('/');
      await settle(en.page);
      await poll(() => en.page.getByTestId('home-tasks').locator('h2').textContent()).toBe(`My open tasks (${openTasks.length})`);
      await snap(en.page, 'home-rep-en-desktop');
    },
    STEP,
  );
});
