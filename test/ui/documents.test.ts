/**
 * Documents in the browser: the global search box in the header (desktop and the 390 px phone,
 * keyboard), file fields and the attachments tab of a record, in zh-CN and en. Screenshots land in .ci-results/ui/documents-*.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { drivers } from '../support/engine.js';
import { startOrg, type Org } from '../access/org.js';
import { axeViolations, DESKTOP, launch, login, openPage, PHONE, serveUi, settle, shot, type UiPage } from './browser.js';

const STEP = 120_000;
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 15_000 });

describe.each(drivers)('documents UI in Chromium on %s', (driver) => {
  let org: Org;
  let ui: Awaited<ReturnType<typeof serveUi>>;
  let browser: Browser;
  const opened: UiPage[] = [];
  const tag = driver === 'pglite' ? '' : '-pg';
  const snap = (page: Page, name: string) => (tag ? Promise.resolve() : shot(page, `documents-${name}`));
  const open = async (lang: 'zh-CN' | 'en', viewport = DESKTOP) => {
    const p = await openPage(browser, ui.base, lang, viewport);
    opened.push(p);
    return p;
  };
  let accountId: string;

  beforeAll(async () => {
    org = await startOrg(driver, ['sales', 'finance']);
    const created = await org.e.call('POST', '/api/data/account', [
      { name: '杭州华为技术有限公司', region: 'east', grade: 'a', owner_id: org.ids.rep_east },
      { name: '北京华为云计算公司', region: 'north', grade: 'a', owner_id: org.ids.rep_north },
    ]);
    accountId = created.body.data[0].id;
    await org.e.call('POST', '/api/data/contact', { name: '王华为', account: accountId, owner_id: org.ids.rep_east });
    ui = await serveUi(org.e);
    browser = await launch();
  }, 240_000);
  afterAll(async () => {
    for (const p of opened) expect(p.errors.join('\n'), 'console errors').toBe('');
    await browser?.close();
    await ui?.close();
    await org?.e.stop();
  });

  it(
    'searches every entity from the header with the keyboard, grouped by entity, within the read scope',
    async () => {
      for (const lang of ['zh-CN', 'en'] as const) {
        const { page } = await open(lang);
        await login(page, 'rep_east', org.passwords.rep_east);
        await settle(page);
        // axe with the box in the header (antd's open option lists carry aria-selected without a role).
        if (lang === 'zh-CN') expect((await axeViolations(page)).join('\n')).toBe('');
        // "/" focuses the box (pressed again until the page has its shortcut: a loaded machine is slow)
        const box = page.getByRole('combobox', { name: lang === 'zh-CN' ? '全局搜索' : 'Search' });
        const focused = () => box.evaluate((el) => el === document.activeElement);
        await poll(async () => {
          if (!(await focused())) await page.keyboard.press('/');
          return focused();
        }).toBe(true);
        await page.keyboard.type('华为');
        const hits = page.getByTestId('search-hit');
        await poll(() => hits.count()).toBe(2); // the rep's account and contact; not rep_north's account
        expect(await page.locator('.mc-search-group').count()).toBe(2);
        await snap(page, `search-${lang}`);
        await page.keyboard.press('ArrowDown');
        await page.keyboard.press('Enter');
        await page.waitForURL(/\/r\/(account|contact)\//);
      }
    },
    STEP,
  );

  it(
    'works on a 390 px phone: a search button opens the box across the screen',
    async () => {
      const { page } = await open('zh-CN', PHONE);
      await login(page, 'rep_east', org.passwords.rep_east);
      await settle(page);
      await page.getByRole('button', { name: '全局搜索' }).click();
      await page.getByRole('dialog').getByRole('combobox').fill('华为');
      await poll(() => page.getByTestId('search-hit').count()).toBe(2);
      await snap(page, 'search-phone');
      await page.getByTestId('search-hit').first().click();
      await page.waitForURL(/\/r\/(account|contact)\//);
    },
    STEP,
  );

  it(
    'uploads receipts in a file field of the form and attaches a file on the attachments tab',
    async () => {
      const created = await org.as('rep_east', 'POST', '/api/data/expense_claim', {
        title: '上海出差',
        expense_type: 'travel',
        amount: 300,
        expense_date: '2026-11-20',
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const id = created.body.data.id;
      for (const lang of ['zh-CN', 'en'] as const) {
        const tab = await open(lang);
        const { page } = tab;
        tab.expect(/status of 422 .* @ .*\/api\/data\/expense_claim\/[^/]+\/email$/);
        await login(page, 'rep_east', org.passwords.rep_east);
        await page.goto(`/r/expense_claim/${id}`);
        await settle(page);
        const input = page.locator('.mc-form input[type=file]').first();
        await input.setInputFiles({
          name: `发票-${lang}.pdf`,
          mimeType: 'application/pdf',
          buffer: Buffer.from('%PDF-1.4 receipt'),
        });
        await poll(() => page.getByText(`发票-${lang}.pdf`).count()).toBeGreaterThan(0);
        await snap(page, `file-field-${lang}`);
        await page.getByRole('tab', { name: lang === 'zh-CN' ? '附件' : 'Attachments' }).click();
        await page.locator('.ant-tabs-tabpane-active input[type=file]').setInputFiles({
          name: `合同扫描-${lang}.png`,
          mimeType: 'image/png',
          buffer: Buffer.from('png'),
        });
        await poll(() => page.getByTestId('attachment').count()).toBe(lang === 'zh-CN' ? 1 : 2);
        await snap(page, `attachments-${lang}`);
        // the print button opens the entity's print template as PDF in a new tab
        const button = page.getByRole('button', { name: lang === 'zh-CN' ? '打印' : 'Print' }).first();
        const [popup] = await Promise.all([page.context().waitForEvent('page'), button.click()]);
        await poll(() => popup.url()).toContain(`/api/data/expense_claim/${id}/print`);
        await popup.close();
        // … and the e-mail button sends it as a PDF: a bad address is shown under its field, a good one
        // queues the mail and keeps the PDF in the attachments.
        await page.getByRole('button', { name: lang === 'zh-CN' ? '发送邮件' : 'E-mail' }).click();
        const dialog = page.locator('.ant-modal');
        const to = dialog.getByRole('combobox', { name: lang === 'zh-CN' ? '收件人' : 'To', exact: true });
        await to.fill('not-an-address');
        await to.press('Enter');
        await dialog.locator('.ant-modal-footer .ant-btn-primary').click();
        await poll(() =>
          dialog.getByText(lang === 'zh-CN' ? '不是有效的邮箱地址' : 'is not an e-mail address').count(),
        ).toBeGreaterThan(0);
        await snap(page, `email-refused-${lang}`);
        await dialog.locator('.ant-modal-footer .ant-btn-default').click();
        await page.getByRole('button', { name: lang === 'zh-CN' ? '发送邮件' : 'E-mail' }).click();
        await poll(() =>
          to.locator('xpath=ancestor::div[contains(@class,"ant-select")][1]').locator('.ant-select-selection-item').count(),
        ).toBe(0);
        await to.fill('buyer@customer.example.com');
        await to.press('Enter');
        await dialog.locator('.ant-modal-footer .ant-btn-primary').click();
        await poll(() => page.getByTestId('attachment').count()).toBe(lang === 'zh-CN' ? 2 : 4);
      }
      const phone = await open('zh-CN', PHONE);
      await login(phone.page, 'rep_east', org.passwords.rep_east);
      await phone.page.goto(`/r/expense_claim/${id}`);
      await settle(phone.page);
      await phone.page.getByRole('tab', { name: '附件' }).click();
      await poll(() => phone.page.getByTestId('attachment').count()).toBe(4);
      await snap(phone.page, 'attachments-phone');
    },
    STEP,
  );

  it(
    'comments on a record with an @mention that reaches the mentioned colleague',
    async () => {
      for (const lang of ['zh-CN', 'en'] as const) {
        const { page } = await open(lang);
        await login(page, 'rep_east', org.passwords.rep_east);
        await page.goto(`/r/account/${accountId}`);
        await settle(page);
        await page.getByRole('tab', { name: lang === 'zh-CN' ? '评论' : 'Comments' }).click();
        const box = page.locator('.ant-tabs-tabpane-active textarea');
        await box.click();
        await page.keyboard.type('@王');
        await poll(() => page.locator('.ant-mentions-dropdown-menu-item').count()).toBeGreaterThan(0);
        await page.locator('.ant-mentions-dropdown-menu-item', { hasText: 'manager_east' }).click();
        await page.keyboard.type(lang === 'zh-CN' ? ' 请看一下授信' : ' please check the credit');
        await page
          .getByRole('button', { name: lang === 'zh-CN' ? '发 表' : 'Post' })
          .or(page.getByRole('button', { name: lang === 'zh-CN' ? '发表' : 'Post' }))
          .first()
          .click();
        await poll(() => page.getByTestId('comment').count()).toBe(lang === 'zh-CN' ? 1 : 2);
        await snap(page, `comments-${lang}`);
      }
      const notes = await org.as('manager_east', 'GET', '/api/notifications?unread=true');
      expect(notes.body.data.filter((n: any) => n.template === 'comment_mention')).toHaveLength(2);
    },
    STEP,
  );
});
