/**
 * The import wizard and the export menu in Chromium (issue 15), zh-CN and en, desktop and phone: a
 * Chinese-Excel (GB18030) CSV with one bad row uploaded from the list page, columns suggested, the dry run
 * naming the bad row's column and value, the good rows imported with a progress bar, the error file
 * offered, the records in the list; an XLSX export downloaded from the list's menu.
 */
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { drivers, startEngine, type TestEngine } from '../support/engine.js';
import { importApp } from '../import/fixtures.js';
import { DESKTOP, launch, login, openPage, PHONE, serveUi, settle, shot, type UiPage } from './browser.js';

const STEP = 120_000;
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 15_000 });

describe.each(drivers)('import wizard in Chromium on %s', (driver) => {
  let e: TestEngine;
  let ui: Awaited<ReturnType<typeof serveUi>>;
  let browser: Browser;
  const opened: UiPage[] = [];
  const tag = driver === 'pglite' ? '' : '-pg';
  const open = async (lang: 'zh-CN' | 'en', viewport = DESKTOP) => {
    const p = await openPage(browser, ui.base, lang, viewport);
    opened.push(p);
    return p;
  };

  beforeAll(async () => {
    e = await startEngine(driver);
    expect((await e.call('POST', '/api/meta/deploy', { documents: importApp() })).status).toBe(201);
    ui = await serveUi(e);
    browser = await launch();
  }, 240_000);
  afterAll(async () => {
    for (const p of opened) expect(p.errors.join('\n'), 'console errors').toBe('');
    await browser?.close();
    await ui?.close();
    await e?.stop();
  });

  it(
    'uploads a GBK CSV from the list, checks it, imports the good rows and shows the result (zh-CN, desktop)',
    async () => {
      const p = await open('zh-CN');
      const { page } = p;
      await login(page, 'admin', e.admin.password);
      await page.goto('/l/company');
      await settle(page);
      await page.getByRole('button', { name: '导入' }).click();
      await page.waitForURL(/\/import\/company$/);
      await settle(page);
      if (!tag) await shot(page, 'import-upload-zh-desktop');
      const csv = '公司名称,行业,成立日期,营收\r\n浏览器机械,制造业,2026年11月27日,"1,000"\r\n浏览器软件,种地,2026/2/30,abc\r\n';
      await page
        .locator('input[type=file]')
        .setInputFiles({ name: '客户.csv', mimeType: 'text/csv', buffer: iconv.encode(csv, 'gb18030') });
      await poll(() => page.getByText('GB18030').count()).toBeGreaterThan(0);
      // suggested: every column mapped by its Chinese label
      await poll(() =>
        page.locator('.ant-select', { has: page.getByRole('combobox', { name: '导入到字段 行业' }) }).textContent(),
      ).toContain('行业');
      await page.getByLabel('导入正确的行，跳过错误行').check();
      await settle(page);
      if (!tag) await shot(page, 'import-map-zh-desktop');
      await page.getByRole('button', { name: '检查数据' }).click();
      await poll(() => page.getByText('不是可选值之一', { exact: false }).count()).toBeGreaterThan(0);
      await poll(() => page.getByText('种地', { exact: false }).first().isVisible()).toBe(true);
      await settle(page);
      if (!tag) await shot(page, 'import-check-zh-desktop');
      expect((await e.call('GET', '/api/data/company?count=true')).body.total).toBe(0);
      await page.getByRole('button', { name: '开始导入' }).click();
      await poll(() => page.getByText('导入完成').count()).toBeGreaterThan(0);
      await poll(() => page.getByRole('button', { name: '下载错误文件' }).isVisible()).toBe(true);
      await poll(() => page.getByRole('button', { name: '撤销本次导入' }).isVisible()).toBe(true);
      await settle(page);
      if (!tag) await shot(page, 'import-result-zh-desktop');
      const rows = (await e.call('GET', '/api/data/company')).body.data;
      expect(rows.map((r: any) => [r.name, r.industry, r.founded, r.revenue])).toEqual([
        ['浏览器机械', 'manufacturing', '2026-11-27', 1000],
      ]);
      const download = page.waitForEvent('download');
      await page.getByRole('button', { name: '下载错误文件' }).click();
      expect((await download).suggestedFilename()).toBe('company-errors.csv');
    },
    STEP,
  );

  it(
    'exports the list as Excel from the menu, and shows the wizard in English on a phone',
    async () => {
      const p = await open('en', PHONE);
      const { page } = p;
      await login(page, 'admin', e.admin.password);
      await page.goto('/l/company');
      await settle(page);
      await page.getByRole('button', { name: 'Export' }).click();
      const download = page.waitForEvent('download');
      await page.getByText('Export Excel').click();
      expect((await download).suggestedFilename()).toBe('Company.xlsx');
      await page.getByRole('button', { name: 'Import' }).click();
      await page.waitForURL(/\/import\/company$/);
      await settle(page);
      if (!tag) await shot(page, 'import-upload-en-phone');
      await page.locator('input[type=file]').setInputFiles({
        name: 'c.csv',
        mimeType: 'text/csv',
        buffer: Buffer.from('\uFEFFCompany name,Revenue\r\nPhone Co,5\r\n'),
      });
      await poll(() => page.getByRole('button', { name: 'Check data' }).count()).toBe(1);
      await settle(page);
      if (!tag) await shot(page, 'import-map-en-phone');
      await page.getByRole('button', { name: 'Check data' }).click();
      await poll(() => page.getByText('All rows passed the check').count()).toBe(1);
      await page.getByRole('button', { name: 'Import now' }).click();
      await poll(() => page.getByText('Import finished').count()).toBe(1);
      await settle(page);
      if (!tag) await shot(page, 'import-result-en-phone');
      await page.getByRole('button', { name: 'Undo this import' }).click();
      await page.getByRole('button', { name: 'OK' }).click();
      await poll(() => page.getByText('Undone').count()).toBeGreaterThan(0);
      expect(
        (
          await e.call(
            'GET',
            `/api/data/company?filter=${encodeURIComponent(JSON.stringify({ '==': [{ var: 'name' }, 'Phone Co'] }))}`,
          )
        ).body.data,
      ).toEqual([]);
      const desktop = await open('en', DESKTOP);
      await login(desktop.page, 'admin', e.admin.password);
      await desktop.page.goto('/import/company');
      await settle(desktop.page);
      if (!tag) await shot(desktop.page, 'import-upload-en-desktop');
    },
    STEP,
  );
});
