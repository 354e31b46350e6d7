/**
 * The pages and dialogs the scenario test does not walk, in Chromium as the demo sales manager (zh-CN):
 * the dashboard (number cards, ECharts canvases, a click drilling down to exactly the records behind a
 * number), saving a list view on the server, and on a record page: the unsaved-changes prompt, the 409
 * conflict dialog, reverting to an earlier version, the assign dialog, and a workflow transition whose
 * input (its JSON Schema) is asked for in a dialog. No console errors; axe on the dashboard; screenshots
 * (desktop and phone) under .ci-results/ui/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { drivers } from '../support/engine.js';
import { startOrg, type Org } from '../access/org.js';
import { engineContext } from '../../engine/data/service.js';
import {
  appears,
  axeViolations,
  DESKTOP,
  launch,
  login,
  openPage,
  PHONE,
  pickOption,
  serveUi,
  settle,
  shot,
  type UiPage,
} from './browser.js';

const STEP = 120_000;
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 15_000 });
const today = new Date().toISOString().slice(0, 10);

describe.each(drivers)('dashboard, saved views and record dialogs in Chromium on %s', (driver) => {
  let org: Org;
  let ui: Awaited<ReturnType<typeof serveUi>>;
  let browser: Browser;
  const opened: UiPage[] = [];
  const tag = driver === 'pglite' ? '' : '-pg';
  const snap = (page: Page, name: string) => (tag ? Promise.resolve() : shot(page, name));
  const open = async (viewport = DESKTOP, lang: 'zh-CN' | 'en' = 'zh-CN') => {
    const p = await openPage(browser, ui.base, lang, viewport);
    opened.push(p);
    await login(p.page, 'manager_east', org.passwords.manager_east);
    return p;
  };
  let manager: UiPage;
  const account = () => org.accounts.rep_east;

  beforeAll(async () => {
    org = await startOrg(driver, ['sales']);
    // Three orders this month by the manager's rep: what the "orders this month" card counts.
    const made = await org.e.call('POST', '/api/data/order', [
      ...[100, 200, 300].map((amount) => ({
        account: account().id,
        amount,
        order_date: today,
        status: 'accepted',
        owner_id: org.ids.rep_east,
      })),
      // and one long ago, which the card does not count
      { account: account().id, amount: 50, order_date: '2020-01-15', status: 'accepted', owner_id: org.ids.rep_east },
    ]);
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    ui = await serveUi(org.e);
    browser = await launch();
    manager = await open();
  }, 240_000);
  afterAll(async () => {
    for (const p of opened) expect(p.errors.join('\n'), 'console errors').toBe('');
    await browser?.close();
    await ui?.close();
    await org?.e.stop();
  });

  it(
    'shows the home dashboard and drills down from a number to exactly its records',
    async () => {
      const { page } = manager;
      await page.getByRole('menuitem', { name: '仪表盘' }).click();
      await page.waitForURL(/\/d$/);
      await poll(() => page.getByTestId('widget-orders_month').textContent()).toContain('3');
      await poll(() => page.getByTestId('widget-funnel').locator('canvas').count()).toBeGreaterThan(0);
      await page.getByRole('heading', { name: '销售团队' }).waitFor();
      await settle(page);
      expect((await axeViolations(page)).join('\n'), 'axe on the dashboard').toBe('');
      await snap(page, 'dashboard-zh');
      await page.getByTestId('widget-orders_month').locator('.ant-statistic').click();
      await page.waitForURL(/\/l\/order\?where=/);
      await page.getByTestId('drill-filter').waitFor();
      await poll(() => page.getByTestId('total').textContent()).toBe('共 3 条');
      await snap(page, 'dashboard-drill-zh');
      // removing the drill filter shows every order again
      await page.getByTestId('drill-filter').locator('.anticon-close').click();
      await poll(() => page.getByTestId('total').textContent()).not.toBe('共 3 条');
      const phone = await open(PHONE);
      await phone.page.goto('/d');
      await poll(() => phone.page.getByTestId('widget-funnel').locator('canvas').count()).toBeGreaterThan(0);
      await settle(phone.page);
      await snap(phone.page, 'dashboard-zh-phone');
    },
    STEP,
  );

  it(
    'saves a list view on the server and opens it again',
    async () => {
      const { page } = manager;
      await page.goto('/l/order?sort=-amount');
      await settle(page);
      await page.getByRole('button', { name: '另存为视图' }).click();
      await page.getByLabel('视图名称').fill('大额订单');
      await page
        .getByRole('dialog')
        .getByRole('button', { name: /确\s*定/ })
        .click();
      await poll(async () =>
        (await org.as('manager_east', 'GET', '/api/saved-views/order')).body.data.map((v: any) => v.name),
      ).toEqual(['大额订单']);
      const saved = (await org.as('manager_east', 'GET', '/api/saved-views/order')).body.data[0];
      expect(saved.state.sort).toBe('-amount');
      await poll(() => page.url()).toContain(`saved=${saved.id}`);
      await page.goto('/l/order');
      await settle(page);
      // Pick it as a user would — and again if a busy machine swallowed the click while the dropdown was
      // still opening (antd's animation): the assertion is that choosing the view brings its state back.
      const option = page.locator('.ant-select-item-option', { hasText: '大额订单' });
      await poll(async () => {
        if (!page.url().includes('sort=-amount')) {
          if (!(await option.isVisible())) await page.getByTestId('view-picker').click();
          await option.click({ timeout: 3_000 }).catch(() => undefined);
        }
        return page.url();
      }).toContain('sort=-amount');
      await snap(page, 'saved-view-zh');
    },
    STEP,
  );

  it(
    'asks before leaving unsaved changes and shows a conflict when someone else saved first',
    async () => {
      const { page } = manager;
      await page.goto(`/r/account/${account().id}`);
      await settle(page);
      const name = page.locator('#root_name');
      await name.fill('华东客户（改）');
      await name.blur();
      await poll(() => page.getByTestId('save').getAttribute('data-changed')).toContain('name');
      // leaving asks; staying keeps the edit
      await page.getByRole('menuitem', { name: '首页' }).click();
      const ask = page.getByRole('dialog').filter({ hasText: '有未保存的修改，确定离开吗？' });
      await ask.waitFor();
      expect(await ask.count(), 'one question, not a stack of them').toBe(1);
      await ask.getByRole('button', { name: /取\s*消/ }).click();
      await ask.waitFor({ state: 'detached' });
      expect(page.url()).toContain(`/r/account/${account().id}`);
      expect(await name.inputValue()).toBe('华东客户（改）');
      // someone else saves the phone in between: saving opens the conflict dialog naming it
      const current = (await org.as('admin', 'GET', `/api/data/account/${account().id}`)).body.data;
      const other = await org.as('admin', 'PATCH', `/api/data/account/${account().id}`, {
        version: current.version,
        phone: '021-5555 0000',
      });
      expect(other.status, JSON.stringify(other.body)).toBe(200);
      // the browser logs the 409 it provokes on purpose
      manager.expect(/status of 409 .* @ .*\/api\/data\/account\//);
      await page.getByTestId('save').click();
      const dialog = page.getByRole('dialog').filter({ hasText: '记录已被他人修改' });
      await dialog.waitFor();
      expect(await dialog.textContent()).toContain('021-5555 0000');
      await snap(page, 'record-conflict-zh');
      await dialog.getByRole('button', { name: '覆盖保存' }).click();
      await poll(async () => (await org.as('admin', 'GET', `/api/data/account/${account().id}`)).body.data.name).toBe(
        '华东客户（改）',
      );
      expect((await org.as('admin', 'GET', `/api/data/account/${account().id}`)).body.data.phone).toBe('021-5555 0000');
    },
    STEP,
  );

  it(
    'reverts to an earlier version from the history',
    async () => {
      const { page } = manager;
      const before = (await org.as('admin', 'GET', `/api/data/account/${account().id}`)).body.data;
      await page.goto(`/r/account/${account().id}`);
      await settle(page);
      await page.getByRole('tab', { name: '历史' }).click();
      // the newest entry is the overwrite; revert to the version before it (the original name)
      const reverts = page.getByTestId('history').getByRole('button', { name: '恢复到此版本' });
      await poll(() => reverts.count()).toBeGreaterThan(0);
      await reverts.last().click();
      await page
        .locator('.ant-popconfirm')
        .getByRole('button', { name: /确\s*定|OK/ })
        .click();
      await poll(
        async () => (await org.as('admin', 'GET', `/api/data/account/${account().id}`)).body.data.version,
      ).toBeGreaterThan(before.version);
      const after = (await org.as('admin', 'GET', `/api/data/account/${account().id}`)).body.data;
      expect(after.name).not.toBe('华东客户（改）');
    },
    STEP,
  );

  it(
    'assigns the record to someone in the manager’s team',
    async () => {
      const { page } = manager;
      await page.goto(`/r/account/${account().id}`);
      await settle(page);
      await page.getByRole('button', { name: '分配' }).click();
      const dialog = page.getByRole('dialog').filter({ hasText: '分配' });
      await pickOption(
        page,
        () => dialog.getByRole('combobox').first().click(),
        'manager_east',
        'manager_east',
        () => appears(dialog.locator('.ant-select-selection-item', { hasText: 'manager_east' })),
      );
      await dialog.getByRole('button', { name: /确\s*定/ }).click();
      await poll(async () => (await org.as('admin', 'GET', `/api/data/account/${account().id}`)).body.data.owner_id).toBe(
        org.ids.manager_east,
      );
    },
    STEP,
  );

  it(
    'asks for a transition’s input in a dialog, validating it before sending',
    async () => {
      const { page } = manager;
      await org.e.workflows.fire(engineContext(), 'account', account().id, 'warn', {});
      await page.goto(`/r/account/${account().id}`);
      await settle(page);
      await page.getByTestId('transition-defer').click();
      const dialog = page.getByRole('dialog').filter({ hasText: '暂缓流失' });
      await dialog.waitFor();
      // the input's field is labelled in the user's language, not by its key
      await dialog.getByText('原因').first().waitFor();
      expect(await dialog.textContent()).not.toContain('reason');
      const sent = manager.requests.length;
      await dialog.getByRole('button', { name: /确\s*定/ }).click();
      // the reason is required: nothing is sent, the dialog stays
      await page.waitForTimeout(500);
      expect(manager.requests.slice(sent).filter((r) => r.includes('/transitions/defer'))).toEqual([]);
      await dialog.locator('input, textarea').first().fill('客户预算下季度到位');
      await snap(page, 'transition-input-zh');
      await dialog.getByRole('button', { name: /确\s*定/ }).click();
      await poll(async () => (await org.as('admin', 'GET', `/api/data/account/${account().id}`)).body.data.churn_status).toBe(
        'deferred',
      );
      expect((await org.as('admin', 'GET', `/api/data/account/${account().id}`)).body.data.churn_note).toBe('客户预算下季度到位');
    },
    STEP,
  );

  it(
    'marks done in the step bar only the stages the record passed through: a lost deal was never won',
    async () => {
      const { page } = manager;
      const made = await org.as('manager_east', 'POST', '/api/data/opportunity', {
        title: '阶段条测试商机',
        account: account().id,
        opportunity_type: 'project',
      });
      expect(made.status, JSON.stringify(made.body)).toBe(201);
      const id = made.body.data.id;
      const fire = (event: string, body: unknown = {}) =>
        org.as('manager_east', 'POST', `/api/data/opportunity/${id}/transitions/${event}`, body);
      expect((await fire('confirm_needs')).status).toBe(200);
      expect((await fire('lose', { input: { loss_reason: '预算取消' } })).status).toBe(200);
      await page.goto(`/r/opportunity/${id}`);
      await settle(page);
      const steps = page.getByTestId('workflow-bar').locator('.ant-steps-item');
      await poll(() => steps.count()).toBeGreaterThan(5);
      const status = async (title: string) =>
        (await steps.filter({ hasText: title }).first().getAttribute('class'))?.match(
          /ant-steps-item-(finish|process|wait)/,
        )?.[1];
      expect({
        first: await status('初次接触'),
        confirmed: await status('需求确定'),
        negotiation: await status('商务谈判'),
        won: await status('赢单'),
        lost: await status('输单'),
      }).toEqual({ first: 'finish', confirmed: 'finish', negotiation: 'wait', won: 'wait', lost: 'process' });
      await snap(page, 'record-steps-lost-zh-desktop');
    },
    STEP,
  );

  it(
    'asks for a user-type transition input with the user picker, by name, not as an id',
    async () => {
      const { page } = manager;
      const lead = await org.as('manager_east', 'POST', '/api/data/lead', {
        company: '时区测试公司',
        contact_name: '王先生',
        mobile: '13800138001',
        source: 'referral',
      });
      expect(lead.status, JSON.stringify(lead.body)).toBe(201);
      await page.goto(`/r/lead/${lead.body.data.id}`);
      await settle(page);
      await page.getByTestId('transition-assign').click();
      const dialog = page.getByRole('dialog').filter({ hasText: '新负责人' });
      await dialog.waitFor();
      await pickOption(
        page,
        () => dialog.getByRole('combobox').first().click(),
        '赵',
        '赵销售',
        () => appears(dialog.locator('.ant-select-selection-item', { hasText: '赵销售' })),
      );
      await snap(page, 'transition-user-input-zh');
      await dialog.getByRole('button', { name: /确\s*定/ }).click();
      await dialog.waitFor({ state: 'hidden' }); // sent and accepted (a refusal keeps the dialog open with its reason)
      await poll(async () => (await org.as('admin', 'GET', `/api/data/lead/${lead.body.data.id}`)).body.data.owner_id).toBe(
        org.ids.rep_east,
      );
    },
    STEP,
  );

  it(
    'shows and picks date-times in the user’s own time zone, chosen on the settings page',
    async () => {
      // 02:30 UTC: 10:30 in Shanghai, 21:30 the evening before in New York.
      const made = await org.as('manager_east', 'POST', '/api/data/schedule', {
        subject: '时区测试会议',
        plan_kind: 'appointment',
        schedule_type: 'visit',
        start_at: '2031-03-05T02:30:00.000Z',
        end_at: '2031-03-05T03:30:00.000Z',
      });
      expect(made.status, JSON.stringify(made.body)).toBe(201);
      const id = made.body.data.id;
      expect((await org.as('manager_east', 'PATCH', '/api/auth/me', { time_zone: 'Asia/Shanghai' })).status).toBe(200);
      const { page } = await open();
      const row = () => page.locator('tr', { hasText: '时区测试会议' }).first().textContent();
      await page.goto('/l/schedule?view=all');
      await poll(row).toContain('2031/03/05 10:30');

      await page.goto('/settings');
      await settle(page);
      const zoneNow = async () => (await org.as('manager_east', 'GET', '/api/auth/me')).body.timeZone;
      await pickOption(
        page,
        () => page.getByTestId('time-zone').click(),
        'America/New_York',
        'America/New_York',
        () =>
          expect
            .poll(zoneNow, { timeout: 10_000 })
            .toBe('America/New_York')
            .then(
              () => true,
              () => false,
            ),
      );
      await poll(() => page.getByTestId('time-zone-now').textContent()).toMatch(/\d\d:\d\d/);
      await snap(page, 'settings-time-zone-zh');

      await page.goto('/l/schedule?view=all');
      await poll(row).toContain('2031/03/04 21:30');
      await page.goto(`/r/schedule/${id}`);
      await settle(page);
      await poll(() => page.locator('#root_start_at').inputValue()).toBe('2031-03-04 21:30');
      // Another user, in Tokyo, sees the same instant at their own clock.
      expect((await org.as('admin', 'PATCH', '/api/auth/me', { time_zone: 'Asia/Tokyo' })).status).toBe(200);
      const tokyo = await openPage(browser, ui.base, 'zh-CN');
      opened.push(tokyo);
      await login(tokyo.page, 'admin', org.passwords.admin);
      await tokyo.page.goto('/l/schedule?view=all');
      await poll(() => tokyo.page.locator('tr', { hasText: '时区测试会议' }).first().textContent()).toContain('2031/03/05 11:30');
      // A time picked on the form is the New York wall clock: 22:00 there is 03:00 UTC.
      await page.locator('#root_start_at').click();
      await page.locator('#root_start_at').fill('2031-03-04 22:00');
      await page.keyboard.press('Enter');
      await page.getByTestId('save').click();
      await poll(async () => (await org.as('admin', 'GET', `/api/data/schedule/${id}`)).body.data.start_at).toBe(
        '2031-03-05T03:00:00.000Z',
      );
    },
    STEP,
  );
});
