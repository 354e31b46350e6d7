/**
 * A view's record layout conditions in Chromium (zh-CN): the customer archive (sample-apps/sales/views/
 * account_archive.json) shows the churn note only while the churn status is warned, deferred or churned
 * (`visibleWhen`), and requires it once the customer has churned (`requiredWhen`) — refused at the field
 * before any request is sent, saved once filled. The same account in the reps' compact card (a layout
 * without the conditions) is untouched by them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { drivers } from '../support/engine.js';
import { startOrg, type Org } from '../access/org.js';
import { engineContext } from '../../engine/data/service.js';
import { DESKTOP, launch, login, openPage, serveUi, settle, shot, type UiPage } from './browser.js';

const STEP = 120_000;
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 15_000 });

describe.each(drivers)('record layout conditions in Chromium on %s', (driver) => {
  let org: Org;
  let ui: Awaited<ReturnType<typeof serveUi>>;
  let browser: Browser;
  let manager: UiPage;
  const ids: Record<'normal' | 'warned' | 'churned', string> = { normal: '', warned: '', churned: '' };

  beforeAll(async () => {
    org = await startOrg(driver, ['sales']);
    const made = await org.as('admin', 'POST', '/api/data/account', [
      ...(['normal', 'warned', 'churned'] as const).map((state) => ({
        name: `流失状态 ${state} 的客户`,
        region: 'east',
        grade: 'a',
        owner_id: org.ids.rep_east,
      })),
    ]);
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    [ids.normal, ids.warned, ids.churned] = made.body.data.map((a: { id: string }) => a.id);
    const fire = (id: string, event: string, input?: unknown) =>
      org.e.workflows.fire(engineContext(), 'account', id, event, input === undefined ? {} : { input });
    await fire(ids.warned, 'warn');
    await fire(ids.churned, 'warn');
    await fire(ids.churned, 'defer', { reason: '预算推迟' });
    const churned = await fire(ids.churned, 'confirm', { reason: '已转向竞争对手' });
    // The note the confirmation wrote is cleared: the layout must now ask for one.
    const cleared = await org.as('admin', 'PATCH', `/api/data/account/${ids.churned}`, {
      churn_note: null,
      version: churned.record.version,
    });
    expect(cleared.status, JSON.stringify(cleared.body)).toBe(200);
    ui = await serveUi(org.e);
    browser = await launch();
    manager = await openPage(browser, ui.base, 'zh-CN', DESKTOP);
    await login(manager.page, 'manager_east', org.passwords.manager_east);
  }, 240_000);
  afterAll(async () => {
    if (manager) expect(manager.errors.join('\n'), 'console errors').toBe('');
    await browser?.close();
    await ui?.close();
    await org?.e.stop();
  });

  /** Opens the account in the archive layout, on the tab that holds the churn fields (流失状态). */
  const openAccount = async (id: string) => {
    const { page } = manager;
    await page.goto(`/r/account/${id}`);
    await settle(page);
    await page.locator('#root_name').waitFor();
    for (const tab of await page.locator('form [role="tab"]').all()) {
      if (await page.getByText('流失状态', { exact: true }).first().isVisible()) break;
      await tab.click();
    }
    await page.getByText('流失状态', { exact: true }).first().waitFor();
    return page;
  };

  it(
    'shows the churn note only in the states the layout names',
    async () => {
      let page = await openAccount(ids.normal);
      await page.waitForTimeout(300);
      expect(await page.locator('#root_churn_note').count()).toBe(0);
      page = await openAccount(ids.warned);
      await poll(() => page.locator('#root_churn_note').count()).toBe(1);
      // visible, not required: no required mark on its label
      expect(await page.locator('.ant-form-item-required', { hasText: '流失说明' }).count()).toBe(0);
    },
    STEP,
  );

  it(
    'requires the note of a churned customer at the field, before any request, and saves it once filled',
    async () => {
      const page = await openAccount(ids.churned);
      await poll(() => page.locator('#root_churn_note').count()).toBe(1);
      const note = page.locator('#root_churn_note');
      expect(await note.inputValue()).toBe('');
      // The label carries the required mark while the condition holds.
      expect(await page.locator('.ant-form-item-required', { hasText: '流失说明' }).count()).toBe(1);
      // Another change, then save: the empty note is refused in the browser.
      await page.locator('#root_notes').fill('客户已停止采购');
      await page.locator('#root_notes').blur();
      const before = manager.requests.length;
      await page.getByTestId('save').click();
      await poll(() => page.locator('.ant-form-item-explain-error').allTextContents()).toEqual(['必须填写 "流失说明"']);
      await page.waitForTimeout(400); // the message slides in
      expect(manager.requests.slice(before).filter((r) => r.startsWith('PATCH'))).toEqual([]);
      await shot(page, `layout-required-when-zh${driver === 'pglite' ? '' : '-pg'}`);
      await note.fill('客户已与竞争对手签约');
      await note.blur();
      await page.getByTestId('save').click();
      await poll(async () => (await org.as('admin', 'GET', `/api/data/account/${ids.churned}`)).body.data.churn_note).toBe(
        '客户已与竞争对手签约',
      );
    },
    STEP,
  );
});
