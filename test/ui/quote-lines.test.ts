/**
 * A quote's lines in the record page, in Chromium as the demo rep (zh-CN): the child collection shows as
 * a table of rows under the quote's fields, a changed quantity saves with the quote in one PATCH and the
 * quote's totals follow; a new version is made with the copy button. No console errors; screenshots
 * under .ci-results/ui/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { drivers } from '../support/engine.js';
import { startOrg, type Org } from '../access/org.js';
import { launch, login, openPage, serveUi, settle, shot, type UiPage } from './browser.js';

const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 15_000 });

describe.each(drivers)('quote lines in the record page in Chromium on %s', (driver) => {
  let org: Org;
  let ui: Awaited<ReturnType<typeof serveUi>>;
  let browser: Browser;
  let rep: UiPage;
  let quote: any;

  beforeAll(async () => {
    org = await startOrg(driver, ['sales']);
    const products = await org.e.call('POST', '/api/data/product', [
      { name: 'ERP 标准版', code: 'ERP-UI-1', unit: '套', list_price: 100000, cost: 55000, floor_price: 80000 },
      { name: '服务器', code: 'SRV-UI-1', unit: '台', list_price: 50000, cost: 40000, floor_price: 40000 },
    ]);
    const [erp, server] = products.body.data;
    const opportunity = (
      await org.as('rep_east', 'POST', '/api/data/opportunity', { title: '界面报价商机', account: org.accounts.rep_east.id })
    ).body.data;
    const res = await org.as('rep_east', 'POST', '/api/data/quote', {
      opportunity: opportunity.id,
      lines: [
        { product: erp.id, quantity: 1 },
        { product: server.id, quantity: 2, discount: 5 },
      ],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    quote = res.body.data;
    ui = await serveUi(org.e);
    browser = await launch();
    rep = await openPage(browser, ui.base, 'zh-CN');
    await login(rep.page, 'rep_east', org.passwords.rep_east);
  }, 240_000);
  afterAll(async () => {
    expect(rep?.errors.join('\n') ?? '', 'console errors').toBe('');
    await browser?.close();
    await ui?.close();
    await org?.e.stop();
  });

  it('shows the lines as rows, saves a changed quantity with the quote, and the totals follow', async () => {
    const { page } = rep;
    await page.goto(`/r/quote/${quote.id}`);
    await settle(page);
    await page.getByText('报价明细').first().waitFor();
    await poll(() => page.locator('.mc-child-row').count()).toBe(2);
    // one line per child (the labels once, above the first line), the computed money columns summed
    const [first, second] = await page
      .locator('.mc-child-row')
      .evaluateAll((rows) => rows.map((r) => r.getBoundingClientRect().height));
    expect(first).toBeLessThan(64);
    expect(second).toBeLessThan(40);
    await poll(() => page.getByTestId('lines-totals').textContent()).toContain('¥195,000.00');
    if (driver === 'pglite') await shot(page, 'quote-lines');
    await page.locator('.mc-child-row').first().scrollIntoViewIfNeeded();
    if (driver === 'pglite') await shot(page, 'quote-lines-rows');
    await page.locator('#root_lines_0_quantity').fill('3');
    await page.getByTestId('save').click();
    await poll(async () => (await org.as('rep_east', 'GET', `/api/data/quote/${quote.id}`)).body.data.lines_total).toBe(395000);
    const after = (await org.as('rep_east', 'GET', `/api/data/quote/${quote.id}`)).body.data;
    expect(after.lines.map((l: any) => l.quantity)).toEqual([3, 2]);
    expect(rep.requests.filter((r) => r.startsWith('PATCH /api/data/quote_line'))).toEqual([]);
  }, 120_000);

  it('makes a new version with the copy button and opens it', async () => {
    const { page } = rep;
    await page.getByTestId('copy').click();
    await page.waitForURL((u) => u.pathname.startsWith('/r/quote/') && !u.pathname.endsWith(quote.id));
    await settle(page);
    const id = new URL(page.url()).pathname.split('/').pop()!;
    const copy = (await org.as('rep_east', 'GET', `/api/data/quote/${id}`)).body.data;
    expect(copy).toMatchObject({ version_no: 2, previous_version: quote.id, lines_total: 395000 });
    await poll(() => page.locator('.mc-child-row').count()).toBe(2);
    // "添加明细" says what it does, and adds an empty line
    await page.getByRole('button', { name: '添加明细' }).click();
    await poll(() => page.locator('.mc-child-row').count()).toBe(3);
    if (driver === 'pglite') {
      // on a phone each line is a compact card with its labels
      await page.setViewportSize({ width: 390, height: 844 });
      await page.locator('.mc-child-row').first().scrollIntoViewIfNeeded();
      await shot(page, 'quote-lines-phone');
    }
  }, 120_000);
});
