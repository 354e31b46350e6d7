/**
 * The scenario of scenario.test.ts with the users' browsers in English: a rep creates an account (a
 * required field left empty is refused at the field, in English, before any request), an opportunity
 * from the account's related list, moves it on the kanban (allowed: sticks and is in the workflow history;
 * forbidden: snaps back with the reason in English), submits a quote for discount approval; the manager
 * approves it from the inbox; the rep sees the notification and the history. The English texts expected
 * are read from the API (labels, dictionary items, error messages, notifications) in English, not written
 * here. No page may log a console error; axe finds nothing serious. Screenshots end in -en.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { drivers } from '../support/engine.js';
import type { UserName } from '../access/org.js';
import { login, PHONE, settle, type UiPage } from './browser.js';
import { choose, poll, scenario, STEP } from './scenario-harness.js';

/** The characters of Chinese text: none may show in the English UI's chrome (data may be Chinese). */
const HAN = /[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]/;
/** The page's visible text, less the language switch's "中文" (a language is named in itself). */
const visibleText = async (page: Page) =>
  // biome-ignore lint/performance/useDomNodeTextContent: Playwright's innerText, the text as shown (hidden nodes left out)
  (await page.locator('body').innerText()).replace(/^中文$/m, '');

describe.each(drivers)('runtime UI in English in Chromium on %s', (driver) => {
  const s = scenario(driver);
  const { open, snap, axe } = s;
  /** The API in English, as the given user. */
  const api = (user: UserName, method: string, path: string, body?: unknown) =>
    s.org.as(user, method, path, body, { 'accept-language': 'en' });
  /** A field of the entity's form model in English: its label and its options' labels. */
  const field = async (entity: string, name: string) =>
    ((await api('rep_east', 'GET', `/api/meta/forms/${entity}?lang=en`)).body.data.fields as any[]).find((f) => f.name === name);
  const option = (f: any, value: string): string => f.options.find((o: any) => o.value === value).label;
  const messages = (page: Page) =>
    page
      .locator('.ant-message')
      .allTextContents()
      .then((t) => t.join(' '));

  let rep: UiPage;
  let accountId: string;
  let opportunityId: string;
  let quoteId: string;
  let stage: any;
  beforeAll(async () => {
    stage = await field('opportunity', 'stage');
  });

  it(
    'logs the rep in from an English login page',
    async () => {
      rep = await open('en');
      await rep.page.goto('/login');
      await settle(rep.page);
      expect(await visibleText(rep.page)).not.toMatch(HAN);
      await axe(rep.page, 'login');
      await snap(rep.page, 'login-en-desktop');
      await login(rep.page, 'rep_east', s.org.passwords.rep_east);
      await settle(rep.page);
      await rep.page.goto('/l/opportunity');
      await settle(rep.page);
      const entities = (await api('rep_east', 'GET', '/api/meta/documents?kind=entity')).body.data as any[];
      const opportunity = entities.find((e) => e.name === 'opportunity');
      await poll(() => rep.page.locator('h1').first().textContent()).toBe((opportunity.pluralLabel ?? opportunity.label).en);
    },
    STEP,
  );

  it(
    'lets the rep create an account: a required field left empty is refused at the field, in English, before any request',
    async () => {
      const { page, requests } = rep;
      await page.goto('/r/account/new');
      await settle(page);
      const name = await field('account', 'name');
      expect(name.label).not.toMatch(HAN);
      const before = requests.length;
      await page.getByTestId('save').click();
      await poll(() => page.locator('.ant-form-item-explain-error').allTextContents()).toContain(`"${name.label}" is required`);
      // The error is at the name field, and nothing went to the server.
      await poll(() =>
        page
          .locator('.ant-form-item-has-error', { has: page.locator('#root_name') })
          .last()
          .textContent(),
      ).toContain(`"${name.label}" is required`);
      expect(requests.slice(before)).toEqual([]);
      await axe(page, 'record (new, with errors)');
      await snap(page, 'record-new-errors-en-desktop');
      const region = await field('account', 'region');
      const grade = await field('account', 'grade');
      await page.locator('#root_name').fill('Zhejiang Example Trading Co.');
      await choose(page, 'root_region', option(region, 'east'));
      await choose(page, 'root_grade', option(grade, 'b'));
      await page.getByTestId('save').click();
      await page.waitForURL(/\/r\/account\/[0-9a-f-]{36}$/);
      accountId = page.url().split('/').pop()!;
      const saved = (await api('rep_east', 'GET', `/api/data/account/${accountId}`)).body.data;
      expect(saved).toMatchObject({
        name: 'Zhejiang Example Trading Co.',
        region: 'east',
        grade: 'b',
        owner_id: s.org.ids.rep_east,
      });
    },
    STEP,
  );

  it(
    "creates an opportunity from the account's related list, with the account filled in",
    async () => {
      const { page } = rep;
      await settle(page);
      await page.getByRole('tab', { name: /Related/ }).click();
      await page.getByTestId('related-opportunity').getByRole('button', { name: /New/ }).click();
      await page.waitForURL(/\/r\/opportunity\/new\?account=/);
      await settle(page);
      await poll(() =>
        page.locator('#root_account').locator('xpath=ancestor::div[contains(@class,"ant-select")][1]').textContent(),
      ).toContain('Zhejiang Example Trading Co.');
      await page.locator('#root_title').fill('Zhejiang Example ERP project');
      await page.locator('#root_amount').fill('380000');
      await page.getByTestId('save').click();
      await page.waitForURL(/\/r\/opportunity\/[0-9a-f-]{36}$/);
      opportunityId = page.url().split('/').pop()!;
      await settle(page);
      await poll(() => page.getByTestId('workflow-bar').textContent()).toContain(option(stage, 'initial_contact'));
      await axe(page, 'record');
      await snap(page, 'record-en-desktop');
      const saved = (await api('rep_east', 'GET', `/api/data/opportunity/${opportunityId}`)).body.data;
      expect(saved).toMatchObject({
        title: 'Zhejiang Example ERP project',
        account: accountId,
        amount: 380000,
        stage: 'initial_contact',
      });
    },
    STEP,
  );

  it(
    'moves the opportunity on the kanban: an allowed move sticks and is in the workflow history, forbidden ones snap back with the reason in English',
    async () => {
      const { page } = rep;
      await page.goto('/k/opportunity');
      await settle(page);
      await axe(page, 'kanban');
      const card = page.locator(`[data-card="${opportunityId}"]`);
      await card.dragTo(page.locator('[data-column="needs_confirmed"]'));
      await poll(async () => (await api('rep_east', 'GET', `/api/data/opportunity/${opportunityId}`)).body.data.stage).toBe(
        'needs_confirmed',
      );
      await poll(() => page.locator(`[data-column="needs_confirmed"] [data-card="${opportunityId}"]`).count()).toBe(1);
      const history = (await api('rep_east', 'GET', `/api/data/opportunity/${opportunityId}/workflow-history`)).body.data;
      expect(history.transitions[0]).toMatchObject({ from: 'initial_contact', to: 'needs_confirmed', actor: s.org.ids.rep_east });
      await poll(() => messages(page)).toContain('Moved');
      await snap(page, 'kanban-en-desktop');

      // ← from the keyboard: the API offers no step back to the first stage, so the card snaps back with
      // the stages' English labels.
      const offered = (await api('rep_east', 'GET', `/api/data/opportunity/${opportunityId}/transitions`)).body.data;
      expect((offered.transitions as any[]).map((t) => t.target)).not.toContain('initial_contact');
      await page.locator(`[data-card="${opportunityId}"]`).focus();
      await page.keyboard.press('ArrowLeft');
      await poll(() => messages(page)).toContain(
        `Cannot move: the process has no step from “${option(stage, 'needs_confirmed')}” to “${option(stage, 'initial_contact')}”`,
      );
      await poll(() => page.locator(`[data-column="needs_confirmed"] [data-card="${opportunityId}"]`).count()).toBe(1);

      // Dropped on "lost": the transition wants a loss reason the kanban cannot give; the API's refusal,
      // in English, is the reason shown (asked of the API the same way, which refuses and changes nothing).
      const lose = (offered.transitions as any[]).find((t) => t.target === 'lost');
      const refusal = await api('rep_east', 'POST', `/api/data/opportunity/${opportunityId}/transitions/${lose.event}`, {});
      expect(refusal.status).toBe(422);
      const reason = [refusal.body.error.message, ...(refusal.body.error.details ?? []).map((d: any) => d.message)].join('; ');
      expect(reason).not.toMatch(HAN);
      const refused = rep.expect(/status of 422 .* @ .*\/transitions\//);
      // The "lost" column is seven columns off, beyond the screen: a mouse drag would have to scroll the
      // board mid-drag, so the card's dragstart and the column's drop are sent as the browser sends them.
      const carried = await page.evaluateHandle(() => new DataTransfer());
      await page.locator(`[data-card="${opportunityId}"]`).dispatchEvent('dragstart', { dataTransfer: carried });
      await page.locator('[data-column="lost"]').dispatchEvent('drop', { dataTransfer: carried });
      await poll(() => messages(page)).toContain(`Cannot move: ${reason}`);
      refused();
      await poll(() => page.locator(`[data-column="needs_confirmed"] [data-card="${opportunityId}"]`).count()).toBe(1);
      expect(await messages(page)).not.toMatch(HAN);
      await snap(page, 'kanban-refused-en-desktop');
      expect((await api('rep_east', 'GET', `/api/data/opportunity/${opportunityId}`)).body.data.stage).toBe('needs_confirmed');
    },
    STEP,
  );

  it(
    'submits a quote with a 15 % discount for approval from the record page',
    async () => {
      const { page } = rep;
      await page.goto(`/r/quote/new?opportunity=${opportunityId}`);
      await settle(page);
      await page.locator('#root_list_amount').fill('200000');
      await page.locator('#root_discount').fill('15');
      await page.getByTestId('save').click();
      await page.waitForURL(/\/r\/quote\/[0-9a-f-]{36}$/);
      quoteId = page.url().split('/').pop()!;
      await settle(page);
      await page.getByTestId('submit-approval').click();
      await poll(() => page.getByTestId('approval-panel').textContent()).toContain('Pending');
      expect((await api('rep_east', 'GET', `/api/data/quote/${quoteId}/approval`)).body.data.status).toBe('pending');
      await axe(page, 'record (approval pending)');
      await snap(page, 'record-approval-en-desktop');
    },
    STEP,
  );

  it(
    'lets the manager find the quote in the inbox, in English, and approve it',
    async () => {
      const manager = await open('en');
      await login(manager.page, 'manager_east', s.org.passwords.manager_east);
      await manager.page.goto('/inbox');
      await settle(manager.page);
      await poll(() => manager.page.getByTestId('inbox-item').count()).toBe(1);
      const amount = new Intl.NumberFormat('en', { style: 'currency', currency: 'CNY', currencyDisplay: 'narrowSymbol' }).format(
        200000,
      );
      await poll(() => manager.page.getByTestId('task-detail').textContent()).toContain(amount);
      // The request is named by the approval's English label (the submitter's name is data).
      const approval = (await s.org.e.call('GET', '/api/meta/documents/approval/quote_discount')).body;
      await poll(() => manager.page.getByTestId('inbox-item').textContent()).toContain(approval.label.en);
      await axe(manager.page, 'inbox');
      await snap(manager.page, 'inbox-en-desktop');
      await manager.page.getByTestId('approve').click();
      const dialog = manager.page.getByRole('dialog');
      expect(await dialog.textContent()).not.toMatch(HAN);
      await dialog.getByRole('textbox').fill('Agreed, sign it soon');
      await dialog.getByRole('button', { name: 'OK' }).click();
      await poll(async () => (await api('rep_east', 'GET', `/api/data/quote/${quoteId}/approval`)).body.data.status).toBe(
        'approved',
      );
      await poll(() => manager.page.getByTestId('inbox-item').count()).toBe(0);
    },
    STEP,
  );

  it(
    'shows the rep the notification in English (unread, then read once opened) and the history with the transition',
    async () => {
      const { page } = rep;
      const unread = (await api('rep_east', 'GET', '/api/notifications?unread=true')).body.data as any[];
      const note = unread.find((n) => n.entity === 'quote' && n.recordId === quoteId);
      expect(note, 'an unread notification about the quote').toBeDefined();
      const subject = typeof note.subject === 'string' ? note.subject : note.subject.en;
      expect(subject).not.toMatch(HAN);
      await page.goto('/');
      await settle(page);
      await poll(() => page.getByTestId('bell').getAttribute('aria-label')).toBe(`Notifications (${unread.length})`);
      await axe(page, 'home');
      await snap(page, 'home-en-desktop');
      await page.getByTestId('bell').click();
      const item = page.locator('.ant-popover').getByTestId('notification').filter({ hasText: subject });
      await poll(() => item.count()).toBe(1);
      await snap(page, 'notifications-en-desktop');
      await item.getByRole('button').first().click();
      await page.waitForURL(new RegExp(`/r/quote/${quoteId}$`));
      await poll(async () =>
        ((await api('rep_east', 'GET', '/api/notifications?unread=true')).body.data as any[]).some((n) => n.id === note.id),
      ).toBe(false);
      await settle(page);
      await poll(() => page.getByTestId('approval-panel').textContent()).toContain('Approved');
      // The steps (with the manager's comment) come with the request's history, a query of their own.
      await poll(() => page.getByTestId('approval-panel').textContent()).toContain('Agreed, sign it soon');

      // The opportunity's history: the kanban's move, with the stages' English labels.
      await page.goto(`/r/opportunity/${opportunityId}`);
      await settle(page);
      await page.getByRole('tab', { name: 'History' }).click();
      await poll(() => page.getByTestId('workflow-entry').first().textContent()).toContain(
        `${option(stage, 'initial_contact')} → ${option(stage, 'needs_confirmed')}`,
      );
      // One entry for the move (its audit entry and its workflow history are written a moment apart)…
      expect(await page.getByTestId('workflow-entry').count()).toBe(1);
      expect(((await page.getByTestId('history').textContent()) ?? '').split('Moved on').length - 1).toBe(1);
      // …with how long the deal stayed in the stage it left.
      expect(await page.getByTestId('workflow-entry').first().textContent()).toMatch(
        new RegExp(`\\d+ (min|h|d) in ${option(stage, 'initial_contact')}`),
      );
      // The audit trail in words: what happened and the fields a person set, not the engine's bookkeeping.
      const trail = (await page.getByTestId('history').textContent()) ?? '';
      expect([trail.includes('Created'), trail.includes('Moved on'), /\bcreate\b|\btransition\b/.test(trail)]).toEqual([
        true,
        true,
        false,
      ]);
      const changed = await page.getByTestId('history-change').allTextContents();
      expect(changed.some((c) => /^(id|Created|Version):/.test(c))).toBe(false);
      await axe(page, 'record history');
      await snap(page, 'record-history-en-desktop');
    },
    STEP,
  );

  it(
    'shows the record on a 390 px phone in English',
    async () => {
      const phone = await open('en', PHONE);
      await login(phone.page, 'rep_east', s.org.passwords.rep_east);
      await phone.page.goto(`/r/opportunity/${opportunityId}`);
      await settle(phone.page);
      await poll(() => phone.page.getByTestId('workflow-bar').textContent()).toContain(option(stage, 'needs_confirmed'));
      await snap(phone.page, 'record-en-phone');
      await axe(phone.page, 'record on a phone');
      await phone.page.goto('/k/opportunity');
      await settle(phone.page);
      await snap(phone.page, 'kanban-en-phone');
    },
    STEP,
  );
});
