/**
 * A reference to an entity the user may not read — a receivable's marketing campaign, for finance — in
 * Chromium: the list, and the record's form, show the receivables, the campaign as "无权访问", and ask
 * the API for nothing it refuses (before, the list asked to expand the campaign and got a 403 for the
 * whole page: an error banner over an empty list).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { drivers } from '../support/engine.js';
import { startOrg, type Org } from '../access/org.js';
import { launch, login, openPage, serveUi, settle, shot, type UiPage } from './browser.js';

const STEP = 120_000;
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 15_000 });
const today = new Date().toISOString().slice(0, 10);

describe.each(drivers)('references to entities the user may not read, in Chromium on %s', (driver) => {
  let org: Org;
  let ui: Awaited<ReturnType<typeof serveUi>>;
  let browser: Browser;
  let receivableId: string;
  let receivableNo: string;
  let savedView: string;
  const opened: UiPage[] = [];
  /** API answers of 400 and above the pages received. */
  const refused: string[] = [];

  beforeAll(async () => {
    org = await startOrg(driver, ['sales', 'finance']);
    const campaign = await org.e.call('POST', '/api/data/campaign', {
      name: '春季新品发布会',
      campaign_type: 'launch',
      start_date: today,
    });
    expect(campaign.status, JSON.stringify(campaign.body)).toBe(201);
    const receivable = await org.e.call('POST', '/api/data/receivable', {
      account: org.accounts.finance.id,
      campaign: campaign.body.data.id,
      due_date: today,
      amount: 12_000,
      description: '发布会赞助款',
    });
    expect(receivable.status, JSON.stringify(receivable.body)).toBe(201);
    receivableId = receivable.body.data.id;
    receivableNo = receivable.body.data.receivable_no;
    // What the page must not ask for: finance reads receivables, not campaigns.
    expect((await org.as('finance', 'GET', `/api/data/campaign/${campaign.body.data.id}`)).status).toBe(403);
    expect((await org.as('finance', 'GET', '/api/data/receivable?expand=campaign')).status).toBe(403);
    // The deployed lists leave the campaign out: finance puts it in a list of their own.
    const saved = await org.as('finance', 'POST', '/api/saved-views/receivable', {
      name: '按市场活动',
      state: { columns: ['receivable_no', 'account', 'campaign', 'amount', 'description'], sort: '-updated_at' },
    });
    expect(saved.status, JSON.stringify(saved.body)).toBe(201);
    savedView = saved.body.data.id;
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
    'lists the receivables with the campaign shown as no access, and opens one without a refused request',
    async () => {
      const p = await openPage(browser, ui.base, 'zh-CN');
      opened.push(p);
      const { page } = p;
      page.on('response', (r) => {
        if (r.url().includes('/api/') && r.status() >= 400) refused.push(`${r.status()} ${r.url()}`);
      });
      await login(page, 'finance', org.passwords.finance);
      await page.goto(`/l/receivable?saved=${savedView}`);
      await settle(page);
      const row = page.locator('tr', { hasText: '发布会赞助款' });
      await poll(() => row.count()).toBe(1);
      expect(await row.textContent()).toContain('无权访问');
      expect(await page.locator('.ant-alert-error').count()).toBe(0);
      if (driver === 'pglite') await shot(page, 'unreadable-reference-list-zh-desktop');

      await page.goto(`/r/receivable/${receivableId}`);
      await settle(page);
      const form = page.locator('form');
      await poll(() => form.textContent()).toContain(receivableNo);
      expect(await form.textContent()).toContain('无权访问');
      expect(refused).toEqual([]);
    },
    STEP,
  );

  it(
    "sums each kanban column of a formula that returns an amount (the receivable's balance) in ¥, like its cells",
    async () => {
      const p = await openPage(browser, ui.base, 'zh-CN');
      opened.push(p);
      const { page } = p;
      await login(page, 'finance', org.passwords.finance);
      await page.goto('/k/receivable');
      await settle(page);
      await poll(() => page.getByTestId('sum-not_due').textContent()).toContain('¥12,000.00');
    },
    STEP,
  );
});
