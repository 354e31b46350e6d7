/**
 * The runtime UI in a real browser, as the demo users use it, in zh-CN and en: login (wrong password,
 * lockout, expired session), a rep creating an account (a required field left empty is refused at the
 * field, in Chinese, before any request), an opportunity from the account's related list, kanban moves
 * (allowed: sticks and is in the workflow history; forbidden: snaps back with the reason), a quote
 * submitted for discount approval, the manager approving it from the inbox, the rep seeing the
 * notification. No page may log a console error; axe-core finds no critical or serious violation on
 * the login, list, record, kanban and inbox pages. Screenshots of every page land in .ci-results/ui/.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { drivers } from '../support/engine.js';
import { login, PHONE, settle, type UiPage } from './browser.js';
import { choose, poll, scenario, STEP } from './scenario-harness.js';

describe.each(drivers)('runtime UI in Chromium on %s', (driver) => {
  const s = scenario(driver);
  const { open, snap, axe } = s;
  let org: typeof s.org;
  beforeAll(() => {
    org = s.org;
  });

  let rep: UiPage;
  let accountId: string;
  let opportunityId: string;
  let quoteId: string;

  it(
    'logs in, refusing a wrong password and showing when a locked account unlocks',
    async () => {
      const login = await open('zh-CN');
      const { page } = login;
      login.expect(/status of (401|423) .* @ .*\/api\/auth\/login$/);
      await page.goto('/login');
      await settle(page);
      await axe(page, 'login');
      await snap(page, 'login-zh-desktop');
      await page.locator('#username').fill('rep_east');
      await page.locator('#password').fill('not the password');
      await page.locator('#password').press('Enter');
      await poll(() => page.getByTestId('login-error').textContent()).toContain('用户名或密码错误');
      // A locked account: the message names the time it unlocks, in the user's language.
      for (let i = 0; i < 6; i++)
        await org.e.call('POST', '/api/auth/login', { username: 'service', password: 'wrong' }, { authorization: '' });
      await page.locator('#username').fill('service');
      await page.locator('#password').fill('wrong again');
      await page.locator('#password').press('Enter');
      await poll(() => page.getByTestId('login-error').textContent()).toMatch(
        /账户已锁定，解锁时间：\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}/,
      );
    },
    STEP,
  );

  it(
    'sends an expired session to the login and then on to the page asked for',
    async () => {
      rep = await open('zh-CN');
      await login(rep.page, 'rep_east', org.passwords.rep_east);
      // The home page's own requests (my tasks, approvals…) finish first: only the next page's meet the lost session.
      await settle(rep.page);
      await rep.context.clearCookies();
      // The page's requests after the session is gone are refused — whichever answers first sends it to the
      // login — until the rep has logged in again.
      const refused = rep.expect(/status of 401 .* @ .*\/api\//);
      await rep.page.goto('/l/opportunity');
      await rep.page.waitForURL(/\/login\?/);
      expect(decodeURIComponent(rep.page.url())).toContain('next=/l/opportunity');
      await rep.page.locator('#username').fill('rep_east');
      await rep.page.locator('#password').fill(org.passwords.rep_east);
      await rep.page.locator('#password').press('Enter');
      await rep.page.waitForURL(/\/l\/opportunity$/);
      await settle(rep.page);
      refused();
      await poll(() => rep.page.locator('h1').first().textContent()).toBe('商机');
    },
    STEP,
  );

  it(
    'lets a rep create an account: a required field left empty is refused at the field, in Chinese, before any request',
    async () => {
      const { page, requests } = rep;
      await page.goto('/r/account/new');
      await settle(page);
      await snap(page, 'record-new-zh-desktop');
      const before = requests.length;
      await page.getByTestId('save').click();
      await poll(() => page.locator('.ant-form-item-explain-error').allTextContents()).toContain('必须填写 "客户名称"');
      expect(requests.slice(before).filter((r) => r.startsWith('POST'))).toEqual([]);
      await axe(page, 'record (new, with errors)');
      await page.locator('#root_name').fill('浙江示例贸易有限公司');
      await choose(page, 'root_region', '华东');
      await choose(page, 'root_grade', 'B');
      await page.getByTestId('save').click();
      await page.waitForURL(/\/r\/account\/[0-9a-f-]{36}$/);
      accountId = page.url().split('/').pop()!;
      const saved = (await org.as('rep_east', 'GET', `/api/data/account/${accountId}`)).body.data;
      expect(saved).toMatchObject({ name: '浙江示例贸易有限公司', region: 'east', grade: 'b', owner_id: org.ids.rep_east });
    },
    STEP,
  );

  it(
    "creates an opportunity from the account's related list, with the account filled in",
    async () => {
      const { page } = rep;
      await page.getByRole('tab', { name: /相关记录/ }).click();
      await page.getByTestId('related-opportunity').getByRole('button', { name: /新建/ }).click();
      await page.waitForURL(/\/r\/opportunity\/new\?account=/);
      await settle(page);
      await poll(() =>
        page.locator('#root_account').locator('xpath=ancestor::div[contains(@class,"ant-select")][1]').textContent(),
      ).toContain('浙江示例贸易有限公司');
      await page.locator('#root_title').fill('浙江示例 ERP 项目');
      await page.locator('#root_amount').fill('380000');
      await page.getByTestId('save').click();
      await page.waitForURL(/\/r\/opportunity\/[0-9a-f-]{36}$/);
      opportunityId = page.url().split('/').pop()!;
      await settle(page);
      await poll(() => page.getByTestId('workflow-bar').textContent()).toContain('初次接触');
      await axe(page, 'record');
      await snap(page, 'record-zh-desktop');
      const saved = (await org.as('rep_east', 'GET', `/api/data/opportunity/${opportunityId}`)).body.data;
      expect(saved).toMatchObject({ title: '浙江示例 ERP 项目', account: accountId, amount: 380000, stage: 'initial_contact' });
    },
    STEP,
  );

  it(
    'moves the opportunity on the kanban: an allowed move sticks and is in the workflow history, a forbidden one snaps back with the reason',
    async () => {
      const { page } = rep;
      await page.goto('/k/opportunity');
      await settle(page);
      await axe(page, 'kanban');
      await snap(page, 'kanban-zh-desktop');
      const card = page.locator(`[data-card="${opportunityId}"]`);
      await card.dragTo(page.locator('[data-column="needs_confirmed"]'));
      await poll(async () => (await org.as('rep_east', 'GET', `/api/data/opportunity/${opportunityId}`)).body.data.stage).toBe(
        'needs_confirmed',
      );
      await poll(() => page.locator(`[data-column="needs_confirmed"] [data-card="${opportunityId}"]`).count()).toBe(1);
      const history = (await org.as('rep_east', 'GET', `/api/data/opportunity/${opportunityId}/workflow-history`)).body.data;
      expect(history.transitions[0]).toMatchObject({ from: 'initial_contact', to: 'needs_confirmed', actor: org.ids.rep_east });

      // From the keyboard (← moves a card one column left): no step leads back from 需求确定 to 初次接触,
      // so the card snaps back with the reason.
      await page.locator(`[data-card="${opportunityId}"]`).focus();
      await page.keyboard.press('ArrowLeft');
      await poll(() =>
        page
          .locator('.ant-message')
          .allTextContents()
          .then((t) => t.join(' ')),
      ).toContain('无法移动：流程不允许从「需求确定」直接到「初次接触」');
      await poll(() => page.locator(`[data-column="needs_confirmed"] [data-card="${opportunityId}"]`).count()).toBe(1);
      expect((await org.as('rep_east', 'GET', `/api/data/opportunity/${opportunityId}`)).body.data.stage).toBe('needs_confirmed');
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
      // The approval's status field is the engine's: read-only from the form model alone, without the
      // approval document (the page no longer asks for it).
      await page.locator('#root_approval_status').waitFor();
      expect(
        await page
          .locator('#root_approval_status')
          .evaluate((el) => el.matches('input, textarea') || Boolean(el.querySelector('input'))),
      ).toBe(false);
      expect(rep.requests.filter((r) => r.includes('/api/meta/documents/approval'))).toEqual([]);
      await page.getByTestId('submit-approval').click();
      await poll(() => page.getByTestId('approval-panel').textContent()).toContain('审批中');
      await snap(page, 'record-approval-zh-desktop');
    },
    STEP,
  );

  it(
    'lets the manager find the quote in the inbox and approve it',
    async () => {
      const manager = await open('zh-CN');
      await login(manager.page, 'manager_east', org.passwords.manager_east);
      await manager.page.goto('/inbox');
      await settle(manager.page);
      await poll(() => manager.page.getByTestId('inbox-item').count()).toBe(1);
      await poll(() => manager.page.getByTestId('task-detail').textContent()).toContain('¥200,000.00');
      await axe(manager.page, 'inbox');
      await snap(manager.page, 'inbox-zh-desktop');
      await manager.page.getByTestId('approve').click();
      await manager.page.getByRole('dialog').getByRole('textbox').fill('同意，尽快签约');
      await manager.page
        .getByRole('dialog')
        .getByRole('button', { name: /OK|确\s*定/ })
        .click();
      await poll(async () => (await org.as('rep_east', 'GET', `/api/data/quote/${quoteId}/approval`)).body.data.status).toBe(
        'approved',
      );
      await poll(() => manager.page.getByTestId('inbox-item').count()).toBe(0);
    },
    STEP,
  );

  it(
    'shows the rep the notification and the approval in the history',
    async () => {
      const { page } = rep;
      await page.goto('/');
      await settle(page);
      await poll(() => page.getByTestId('bell').getAttribute('aria-label')).toMatch(/通知 \([1-9]\d*\)/);
      await snap(page, 'home-zh-desktop');
      await page.getByTestId('bell').click();
      await poll(() => page.getByTestId('notification').first().textContent()).toContain('已通过');
      await page.goto(`/r/quote/${quoteId}`);
      await settle(page);
      await poll(() => page.getByTestId('approval-panel').textContent()).toContain('已通过');
      await page.getByRole('tab', { name: '历史' }).click();
      // The trail in words: the creation and the changes, by who made them, not the engine's action names.
      await poll(() => page.getByTestId('history').textContent()).toContain('创建');
      expect(await page.getByTestId('history').textContent()).not.toMatch(/\bcreate\b|\bupdate\b/);
    },
    STEP,
  );

  it(
    "shows a plugin field type with the plugin's own widget: the rating plugin's stars, in the form and in the list",
    async () => {
      const survey = {
        kind: 'entity',
        name: 'ui_survey',
        label: { en: 'Survey', 'zh-CN': '满意度调查' },
        titleField: 'title',
        fields: [
          { name: 'title', type: 'text', label: { en: 'Title', 'zh-CN': '标题' }, required: true },
          { name: 'score', type: 'rating', max: 5, label: { en: 'Score', 'zh-CN': '评分' } },
        ],
      };
      expect((await org.e.call('POST', '/api/meta/deploy', { documents: [survey] })).status).toBe(201);
      const admin = await open('zh-CN');
      await login(admin.page, 'admin', org.passwords.admin);
      await admin.page.goto('/r/ui_survey/new');
      await settle(admin.page);
      await admin.page.locator('#root_title').fill('华东客户回访');
      await admin.page.locator('#root_score li').nth(3).click();
      await admin.page.getByTestId('save').click();
      await admin.page.waitForURL(/\/r\/ui_survey\/[0-9a-f-]{36}$/);
      const id = admin.page.url().split('/').pop();
      expect((await org.e.call('GET', `/api/data/ui_survey/${id}`)).body.data.score).toBe(4);
      await admin.page.goto('/l/ui_survey');
      await settle(admin.page);
      await poll(() => admin.page.locator('tr.mc-row .ant-rate-star-full').count()).toBe(4);
    },
    STEP,
  );

  it(
    'lists records with labels, tags and ¥, in Chinese and English, on desktop and phone; axe finds nothing serious',
    async () => {
      const { page } = rep;
      await page.goto('/l/opportunity');
      await settle(page);
      await poll(() => page.getByTestId('total').textContent()).toMatch(/共 \d+ 条/);
      await poll(() => page.locator('table').textContent()).toContain('¥380,000.00');
      await axe(page, 'list');
      await snap(page, 'list-zh-desktop');

      const phone = await open('zh-CN', PHONE);
      await login(phone.page, 'rep_east', org.passwords.rep_east);
      for (const [path, name] of [
        ['/l/opportunity', 'list'],
        [`/r/opportunity/${opportunityId}`, 'record'],
        ['/k/opportunity', 'kanban'],
        ['/', 'home'],
      ]) {
        await phone.page.goto(path);
        await settle(phone.page);
        if (name === 'list') await poll(() => phone.page.getByTestId('cards').isVisible()).toBe(true);
        await snap(phone.page, `${name}-zh-phone`);
      }

      const en = await open('en');
      await login(en.page, 'rep_north', org.passwords.rep_north);
      await en.page.goto('/r/account/new');
      await settle(en.page);
      const before = en.requests.length;
      await en.page.getByTestId('save').click();
      await poll(() => en.page.locator('.ant-form-item-explain-error').allTextContents()).toContain('"Account name" is required');
      expect(en.requests.slice(before).filter((r) => r.startsWith('POST'))).toEqual([]);
      await snap(en.page, 'record-new-en-desktop');
      await en.page.goto('/l/account');
      await settle(en.page);
      await poll(() => en.page.locator('h1').first().textContent()).toBe('Accounts');
      await snap(en.page, 'list-en-desktop');
      await en.page.goto('/k/opportunity');
      await settle(en.page);
      await snap(en.page, 'kanban-en-desktop');
      const enPhone = await open('en', PHONE);
      await login(enPhone.page, 'rep_north', org.passwords.rep_north);
      await enPhone.page.goto('/l/account');
      await settle(enPhone.page);
      await snap(enPhone.page, 'list-en-phone');
    },
    STEP * 2,
  );
});
