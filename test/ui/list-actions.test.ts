/**
 * The list page's actions in Chromium, as the demo sales manager (zh-CN, and en where cheap): the recycle
 * bin and restore, bulk select → assign (transfer) and delete, the column chooser (remembered across a
 * reload), the filter builder (a picklist's "is one of" with a relative date), quick search and
 * click-to-sort. Every outcome is checked through the API — the rows shown are compared with the API's
 * own answer to the same question, asked independently. No console errors; screenshots (desktop and
 * 390 px phone) under .ci-results/ui/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { drivers } from '../support/engine.js';
import { startOrg, type Org, type UserName } from '../access/org.js';
import { appears, axeViolations, DESKTOP, launch, login, openPage, PHONE, pickOption, serveUi, settle, shot, type UiPage } from './browser.js';

const STEP = 120_000;
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 15_000 });
const ZONE = 'Asia/Shanghai';
/** A day `offset` days from today, as the manager's time zone counts days. */
const dayFromToday = (offset: number) => {
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: ZONE }).format(new Date());
  const d = new Date(`${today}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + offset);
  return d.toISOString().slice(0, 10);
};
/** The first day of this month and of the next, in the manager's time zone. */
const monthBounds = () => {
  const [y, m] = dayFromToday(0).split('-').map(Number);
  return [`${y}-${String(m).padStart(2, '0')}-01`, new Date(Date.UTC(y, m, 1)).toISOString().slice(0, 10)];
};
/** The last day of this month: a close date "this month" even when it is still ahead. */
const monthEnd = () => {
  const next = new Date(`${monthBounds()[1]}T00:00:00Z`);
  next.setUTCDate(next.getUTCDate() - 1);
  return next.toISOString().slice(0, 10);
};
const PREFIX = '列表测试';
/** The test's opportunities: title, source, expected close date (days from today), amount. */
const DEALS: [string, string | null, number, number][] = [
  ['华为 ERP 升级', 'seminar', 0, 120_000],
  ['华为 云服务', 'advertising', -10, 80_000],
  ['杭州物流平台', 'seminar', -45, 300_000],
  ['苏州工厂 MES', 'referral', -5, 45_000],
  ['上海银行 CRM', 'advertising', 40, 510_000],
  ['南京医院 HIS', null, -3, 66_000],
  ['宁波港口调度', 'seminar', -29, 99_000],
  ['无锡学校一卡通', 'seminar', -30, 18_000],
];

describe.each(drivers)('list page actions in Chromium on %s', (driver) => {
  let org: Org;
  let ui: Awaited<ReturnType<typeof serveUi>>;
  let browser: Browser;
  const opened: UiPage[] = [];
  const tag = driver === 'pglite' ? '' : '-pg';
  const snap = (page: Page, name: string) => (tag ? Promise.resolve() : shot(page, name));
  const open = async (user: UserName = 'manager_east', lang: 'zh-CN' | 'en' = 'zh-CN', viewport = DESKTOP) => {
    const p = await openPage(browser, ui.base, lang, viewport);
    opened.push(p);
    await login(p.page, user, org.passwords[user]);
    return p;
  };
  let manager: UiPage;
  /** Opportunity ids by title. */
  const ids = new Map<string, string>();
  const admin = (path: string) => org.e.call('GET', path);
  const list = async (user: UserName, query: Record<string, string>) => {
    const res = await org.as(user, 'GET', `/api/data/opportunity?${new URLSearchParams({ limit: '200', ...query })}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.data as any[];
  };
  /** The titles in the table's rows, top to bottom. */
  const shownTitles = (page: Page) => page.locator('tr.mc-row td:nth-child(2)').allTextContents();
  // A click on the chooser landing while the list re-renders was seen lost on a loaded CI machine
  // ("did not change its state"): clicked again, at most three times, and then it must hold.
  const uncheckColumn = async (page: Page, name: string) => {
    const box = page.locator('.ant-popover').getByRole('checkbox', { name });
    for (let i = 0; i < 3 && (await box.isChecked()); i++) await box.click();
    expect(await box.isChecked()).toBe(false);
  };
  const ours = (titles: string[]) => titles.filter((t) => t.startsWith(PREFIX));

  beforeAll(async () => {
    org = await startOrg(driver, ['sales']);
    expect((await org.as('manager_east', 'PATCH', '/api/auth/me', { time_zone: ZONE })).status).toBe(200);
    const made = await org.as(
      'manager_east',
      'POST',
      '/api/data/opportunity',
      [
        ...DEALS,
        ['待恢复商机', 'agent', 0, 1_000],
        ['转移商机甲', 'agent', 0, 2_000],
        ['转移商机乙', 'agent', 0, 3_000],
        ['删除商机甲', 'agent', 0, 4_000],
        ['删除商机乙', 'agent', 0, 5_000],
      ].map(([title, source, offset, amount]) => ({
        title: `${PREFIX} ${title}`,
        account: org.accounts.manager_east.id,
        opportunity_type: 'project',
        ...(source ? { source } : {}),
        expected_close_date: dayFromToday(offset as number),
        amount,
      })),
    );
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const monthEndDeal = await org.as('manager_east', 'POST', '/api/data/opportunity', {
      title: `${PREFIX} 月底签约`,
      account: org.accounts.manager_east.id,
      opportunity_type: 'project',
      source: 'partner',
      expected_close_date: monthEnd(),
      amount: 77_000,
    });
    expect(monthEndDeal.status, JSON.stringify(monthEndDeal.body)).toBe(201);
    ids.set('月底签约', monthEndDeal.body.data.id);
    for (const r of made.body.data) ids.set(r.title.slice(PREFIX.length + 1), r.id);
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
    'restores a deleted record from the recycle bin: it is back in the list',
    async () => {
      const { page } = manager;
      const id = ids.get('待恢复商机')!;
      expect((await org.as('manager_east', 'DELETE', `/api/data/opportunity/${id}`)).status).toBe(200);
      expect((await admin(`/api/data/opportunity/${id}`)).status).toBe(404);
      await page.goto('/l/opportunity?view=all');
      await settle(page);
      expect(await shownTitles(page)).not.toContain(`${PREFIX} 待恢复商机`);
      await page.getByRole('button', { name: '回收站' }).click();
      await poll(() => page.locator('h1').first().textContent()).toBe('商机 · 回收站');
      // the bin shows exactly what the API has in it
      const binned = (await list('manager_east', { deleted: 'only' })).map((r) => r.title);
      await poll(async () => (await shownTitles(page)).sort()).toEqual(binned.sort());
      expect((await axeViolations(page)).join('\n'), 'axe on the recycle bin').toBe('');
      await snap(page, 'list-bin-zh-desktop');
      await page.locator('tr.mc-row', { hasText: '待恢复商机' }).getByRole('button', { name: /恢\s*复/ }).click();
      await poll(async () => (await admin(`/api/data/opportunity/${id}`)).status).toBe(200);
      expect((await admin(`/api/data/opportunity/${id}`)).body.data.deleted_at ?? null).toBeNull();
      await poll(() => page.locator('tr.mc-row', { hasText: '待恢复商机' }).count()).toBe(0);
      // leaving the bin: the record is in the list again
      await page.getByRole('button', { name: '回收站' }).click();
      await poll(() => page.locator('h1').first().textContent()).toBe('商机');
      await poll(() => shownTitles(page)).toContain(`${PREFIX} 待恢复商机`);
    },
    STEP,
  );

  it(
    'transfers the selected records to another user: their owners change, the others stay',
    async () => {
      const { page } = manager;
      await page.goto('/l/opportunity?view=all');
      await settle(page);
      for (const t of ['转移商机甲', '转移商机乙']) await page.getByRole('checkbox', { name: `${PREFIX} ${t}` }).check();
      await poll(() => page.getByText('已选 2 项').count()).toBe(1);
      await page.getByRole('button', { name: '分配' }).click();
      const dialog = page.getByRole('dialog').filter({ hasText: '分配' });
      await pickOption(
        page,
        () => dialog.getByRole('combobox').first().click(),
        '赵',
        '赵销售',
        () => appears(dialog.locator('.ant-select-selection-item', { hasText: '赵销售' })),
      );
      await snap(page, 'list-assign-zh-desktop');
      await dialog.getByRole('button', { name: /确\s*定/ }).click();
      // the API's count of what it transferred
      await poll(() => page.locator('.ant-message').textContent()).toContain('分配 · 共 2 条');
      for (const t of ['转移商机甲', '转移商机乙'])
        await poll(async () => (await admin(`/api/data/opportunity/${ids.get(t)}`)).body.data.owner_id).toBe(org.ids.rep_east);
      // nothing else changed hands
      for (const t of ['删除商机甲', '华为 ERP 升级'])
        expect((await admin(`/api/data/opportunity/${ids.get(t)}`)).body.data.owner_id).toBe(org.ids.manager_east);
      await poll(() => page.getByText('已选 2 项').count()).toBe(0);
    },
    STEP,
  );

  it(
    'deletes the selected records: they leave the list and are in the recycle bin',
    async () => {
      const { page } = manager;
      await page.goto('/l/opportunity?view=all');
      await settle(page);
      for (const t of ['删除商机甲', '删除商机乙']) await page.getByRole('checkbox', { name: `${PREFIX} ${t}` }).check();
      await page.getByRole('button', { name: '删除' }).click();
      const confirm = page.getByRole('dialog').filter({ hasText: '确定删除所选记录？' });
      await confirm.getByRole('button', { name: /确\s*定/ }).click();
      // A click lost while the dialog opened (seen once on a loaded CI machine) leaves it open: once more.
      if (!(await confirm.waitFor({ state: 'hidden', timeout: 5_000 }).then(() => true, () => false)))
        await confirm.getByRole('button', { name: /确\s*定/ }).click();
      for (const t of ['删除商机甲', '删除商机乙'])
        await poll(async () => (await admin(`/api/data/opportunity/${ids.get(t)}`)).status).toBe(404);
      const binned = (await list('admin', { deleted: 'only' })).map((r) => r.id);
      expect(binned).toEqual(expect.arrayContaining([ids.get('删除商机甲'), ids.get('删除商机乙')]));
      expect(binned).not.toContain(ids.get('华为 ERP 升级'));
      await poll(async () => ours(await shownTitles(page))).not.toContain(`${PREFIX} 删除商机甲`);
      expect(ours(await shownTitles(page))).not.toContain(`${PREFIX} 删除商机乙`);
      await page.getByRole('button', { name: '回收站' }).click();
      await poll(async () => (await shownTitles(page)).sort()).toEqual([`${PREFIX} 删除商机乙`, `${PREFIX} 删除商机甲`].sort());
    },
    STEP,
  );

  it(
    'deletes what it may and names every record it could not, with the reason; those stay selected',
    async () => {
      const { page } = manager;
      const refusals = manager.expect(/status of 409 .*\/api\/data\/account\//); // the two refused deletes
      // Two fresh accounts go; the manager's own account and the rep's keep their deals (delete restricted).
      const fresh = await org.as('manager_east', 'POST', '/api/data/account', [
        { name: '批量删除客户甲', region: 'east', grade: 'c' },
        { name: '批量删除客户乙', region: 'east', grade: 'c' },
      ]);
      expect(fresh.status, JSON.stringify(fresh.body)).toBe(201);
      const dealOf = await org.as('rep_east', 'POST', '/api/data/opportunity', {
        title: `${PREFIX} 代表的商机`, account: org.accounts.rep_east.id, opportunity_type: 'project',
      });
      expect(dealOf.status, JSON.stringify(dealOf.body)).toBe(201);
      const keep = [org.accounts.manager_east, org.accounts.rep_east] as { id: string; name: string }[];
      await page.goto('/l/account');
      await settle(page);
      for (const name of ['批量删除客户甲', '批量删除客户乙', ...keep.map((a) => a.name)])
        await page.getByRole('checkbox', { name }).check();
      await page.getByRole('button', { name: '删除' }).click();
      const confirm = page.getByRole('dialog').filter({ hasText: '确定删除所选记录？' });
      await confirm.getByRole('button', { name: /确\s*定/ }).click();
      const report = page.getByRole('dialog').filter({ hasText: '已删除 2 条，2 条未能删除' });
      await report.waitFor();
      const items = await report.getByTestId('delete-refused').locator('li').allTextContents();
      expect(items).toHaveLength(2);
      for (const account of keep) {
        const item = items.find((i) => i.startsWith(account.name));
        expect(item, items.join('\n')).toMatch(/：有 \d+ 条商机仍关联此客户，需先删除或转移$/);
        expect((await admin(`/api/data/account/${account.id}`)).status).toBe(200);
      }
      for (const made of fresh.body.data) expect((await admin(`/api/data/account/${made.id}`)).status).toBe(404);
      await snap(page, 'list-delete-refused-zh-desktop');
      await report.getByRole('button', { name: /知\s*道\s*了|确\s*定|OK/ }).click();
      // The refused stay selected, for another try once their deals are dealt with.
      await poll(async () => page.getByText('已选 2 项').count()).toBeGreaterThan(0);
      for (const account of keep) expect(await page.getByRole('checkbox', { name: account.name }).isChecked()).toBe(true);
      refusals();
    },
    STEP,
  );

  it(
    'hides a column with the column chooser; it stays hidden after a reload',
    async () => {
      const { page } = manager;
      await page.goto('/l/opportunity?view=all');
      await settle(page);
      const header = () => page.locator('thead th').allTextContents();
      await poll(header).toContain('预计金额');
      await page.getByRole('button', { name: '列' }).click();
      await uncheckColumn(page, '预计金额');
      await poll(header).not.toContain('预计金额');
      expect(await header()).toContain('预计成交日期');
      await page.reload();
      await settle(page);
      await poll(header).toContain('预计成交日期');
      expect(await header()).not.toContain('预计金额');
      // Another list view of the same entity keeps its own columns.
      await page.goto('/l/opportunity?view=open');
      await settle(page);
      await poll(header).toContain('预计金额');
      // A saved view starts with its own columns, and the chooser changes them too.
      const saved = await org.as('manager_east', 'POST', '/api/saved-views/opportunity', {
        name: '金额视图',
        state: { columns: ['title', 'amount', 'source'], sort: '-amount' },
      });
      expect(saved.status, JSON.stringify(saved.body)).toBe(201);
      await page.goto(`/l/opportunity?saved=${saved.body.data.id}`);
      await settle(page);
      await poll(header).toContain('商机来源');
      expect(await header()).toContain('预计金额');
      expect(await header()).not.toContain('预计成交日期');
      await page.getByRole('button', { name: '列' }).click();
      await uncheckColumn(page, '商机来源');
      await poll(header).not.toContain('商机来源');
      await page.reload();
      await settle(page);
      await poll(header).toContain('预计金额');
      expect(await header()).not.toContain('商机来源');
      // put it back on the first view (the next tests read amounts)
      await page.goto('/l/opportunity?view=all');
      await settle(page);
      await page.getByRole('button', { name: '列' }).click();
      await page.locator('.ant-popover').getByRole('checkbox', { name: '预计金额' }).check();
      await poll(header).toContain('预计金额');
    },
    STEP,
  );

  it(
    'filters with a picklist “is one of” and “last 30 days”: the rows are the API’s answer to the same json-logic',
    async () => {
      const { page } = manager;
      await page.goto('/l/opportunity?view=all');
      await settle(page);
      await page.getByRole('button', { name: '筛选' }).click();
      const builder = page.getByTestId('filter-builder');
      await builder.waitFor();
      /** Picks an option of a select; `search` types first (the field list is long, and drawn only in part). */
      const choose = async (select: ReturnType<Page['locator']>, label: string, search?: string) => {
        // the select's box, not its search input (the value shown lies over the input)
        await select.locator('xpath=ancestor::div[contains(@class,"ant-select ")][1]').click();
        if (search) await page.keyboard.type(search);
        await page.locator(`.ant-select-dropdown:visible .ant-select-item-option[title="${label}"]`).click();
      };
      await builder.getByRole('button', { name: '添加条件' }).click();
      await choose(builder.getByRole('combobox', { name: '字段' }).nth(0), '商机来源', '商机来源');
      // "属于" is the picklist's first operator
      await poll(() => builder.locator('.ant-select-selection-item').allTextContents()).toContain('属于');
      const values = builder.getByRole('combobox', { name: '商机来源 值' });
      await choose(values, '研讨会');
      // a multiple choice stays open for the next one
      await page.locator('.ant-select-dropdown:visible .ant-select-item-option[title="广告"]').click();
      await page.keyboard.press('Escape');
      await poll(() => builder.locator('.ant-select-selection-overflow-item .ant-select-selection-item').allTextContents()).toEqual(['研讨会', '广告']);
      await builder.getByRole('button', { name: '添加条件' }).click();
      await choose(builder.getByRole('combobox', { name: '字段' }).nth(1), '预计成交日期', '预计成交');
      await choose(builder.getByRole('combobox', { name: '预计成交日期 值' }), '最近 30 天');
      await poll(() => page.locator('.ant-select-dropdown:visible').count()).toBe(0);
      await page.evaluate(() => window.scrollTo(0, 0));
      await snap(page, 'list-filter-zh-desktop');
      await builder.getByRole('button', { name: /应\s*用/ }).click();
      const expected = (
        await list('manager_east', {
          filter: JSON.stringify({
            and: [
              { in: [{ var: 'source' }, ['seminar', 'advertising']] },
              { '>=': [{ var: 'expected_close_date' }, dayFromToday(-29)] },
              { '<=': [{ var: 'expected_close_date' }, dayFromToday(0)] },
            ],
          }),
        })
      ).map((r) => r.title);
      // the question has an answer that neither condition alone gives
      expect(expected.length).toBeGreaterThan(1);
      expect(expected.length).toBeLessThan((await list('manager_east', { filter: JSON.stringify({ in: [{ var: 'source' }, ['seminar', 'advertising']] }) })).length);
      await poll(async () => (await shownTitles(page)).sort()).toEqual(expected.sort());
      await poll(() => page.getByTestId('total').textContent()).toBe(`共 ${expected.length} 条`);
      // The filter lives in the URL: a reload shows the same rows.
      await page.reload();
      await settle(page);
      await poll(async () => (await shownTitles(page)).sort()).toEqual(expected.sort());
    },
    STEP,
  );

  it(
    'in English, “This month” is the whole calendar month: a close date still ahead this month is in it',
    async () => {
      const en = await open('manager_east', 'en');
      const { page } = en;
      await page.goto('/l/opportunity?view=all');
      await settle(page);
      await page.getByRole('button', { name: 'Filter' }).click();
      const builder = page.getByTestId('filter-builder');
      await builder.getByRole('button', { name: 'Add condition' }).click();
      await builder.getByRole('combobox', { name: 'Field' }).locator('xpath=ancestor::div[contains(@class,"ant-select ")][1]').click();
      await page.keyboard.type('Expected close');
      await page.locator('.ant-select-dropdown:visible .ant-select-item-option[title="Expected close date"]').click();
      await builder
        .getByRole('combobox', { name: 'Expected close date Value' })
        .locator('xpath=ancestor::div[contains(@class,"ant-select ")][1]')
        .click();
      await page.locator('.ant-select-dropdown:visible .ant-select-item-option[title="This month"]').click();
      await poll(() => page.locator('.ant-select-dropdown:visible').count()).toBe(0);
      await page.evaluate(() => window.scrollTo(0, 0));
      await snap(page, 'list-filter-en-desktop');
      await builder.getByRole('button', { name: 'Apply' }).click();
      const [first, next] = monthBounds();
      const expected = (
        await list('manager_east', {
          filter: JSON.stringify({
            and: [{ '>=': [{ var: 'expected_close_date' }, first] }, { '<': [{ var: 'expected_close_date' }, next] }],
          }),
        })
      ).map((r) => r.title);
      expect(expected).toContain(`${PREFIX} 月底签约`);
      await poll(async () => (await shownTitles(page)).sort()).toEqual(expected.sort());
      await poll(() => page.getByTestId('total').textContent()).toBe(`${expected.length} records`);
    },
    STEP,
  );

  it(
    'searches with the quick search: the rows are the API’s answer to q',
    async () => {
      const { page } = manager;
      await page.goto('/l/opportunity?view=all');
      await settle(page);
      const search = page.getByRole('searchbox', { name: '搜索…' });
      await search.fill('华为');
      await search.press('Enter');
      await poll(() => page.url()).toContain('q=');
      const expected = (await list('manager_east', { q: '华为' })).map((r) => r.title);
      expect(expected.length).toBeGreaterThan(0);
      expect(expected.length).toBeLessThan((await list('manager_east', {})).length);
      await poll(async () => (await shownTitles(page)).sort()).toEqual(expected.sort());
      await snap(page, 'list-search-zh-desktop');
    },
    STEP,
  );

  it(
    'sorts by a clicked column header, ascending then descending, in the API’s order',
    async () => {
      const { page } = manager;
      await page.goto('/l/opportunity?view=all');
      await settle(page);
      const amount = page.getByRole('columnheader', { name: '预计金额' });
      await amount.getByRole('button').click();
      await poll(() => amount.getAttribute('aria-sort')).toBe('ascending');
      const ascending = (await list('manager_east', { sort: 'amount' })).map((r) => r.title);
      await poll(shownTitles.bind(null, page)).toEqual(ascending);
      await amount.getByRole('button').click();
      await poll(() => amount.getAttribute('aria-sort')).toBe('descending');
      const descending = (await list('manager_east', { sort: '-amount' })).map((r) => r.title);
      expect(descending).not.toEqual(ascending);
      await poll(shownTitles.bind(null, page)).toEqual(descending);
      expect(page.url()).toContain('sort=-amount');
    },
    STEP,
  );

  it(
    'shows the list in English on desktop and as cards on a 390 px phone',
    async () => {
      const en = await open('manager_east', 'en');
      await en.page.goto('/l/opportunity?view=all');
      await settle(en.page);
      await poll(() => en.page.locator('h1').first().textContent()).toBe('Opportunities');
      await en.page.getByRole('button', { name: 'Recycle bin' }).click();
      await poll(() => en.page.locator('h1').first().textContent()).toBe('Opportunities · Recycle bin');
      await poll(() => en.page.locator('tr.mc-row').count()).toBeGreaterThan(0);
      await snap(en.page, 'list-bin-en-desktop');
      for (const lang of ['zh-CN', 'en'] as const) {
        const phone = await open('manager_east', lang, PHONE);
        await phone.page.goto('/l/opportunity?view=all');
        await settle(phone.page);
        const expected = (await list('manager_east', {})).length;
        await poll(() => phone.page.getByTestId('cards').locator('.mc-panel').count()).toBe(Math.min(expected, 50));
        await snap(phone.page, `list-actions-${lang === 'en' ? 'en' : 'zh'}-phone`);
        await phone.page.goto('/l/opportunity?view=all&bin=1');
        await settle(phone.page);
        await poll(() => phone.page.getByTestId('cards').locator('.mc-panel').count()).toBeGreaterThan(0);
        await snap(phone.page, `list-bin-${lang === 'en' ? 'en' : 'zh'}-phone`);
      }
      // A card in the bin has its restore button too.
      const { page } = opened.at(-1)!;
      const card = page.getByTestId('cards').locator('.mc-panel', { hasText: '删除商机乙' });
      await card.getByRole('button', { name: 'Restore' }).click();
      await poll(async () => (await admin(`/api/data/opportunity/${ids.get('删除商机乙')}`)).status).toBe(200);
      await poll(() => card.count()).toBe(0);

      // Cards are selected by their checkboxes; the toolbar's actions take the selection.
      const phone = await open('manager_east', 'zh-CN', PHONE);
      await phone.page.goto('/l/opportunity?view=all');
      await settle(phone.page);
      const picks = ['删除商机乙', '待恢复商机'];
      for (const t of picks) await phone.page.getByRole('checkbox', { name: `${PREFIX} ${t}` }).check();
      // The selection's bar stays at the bottom of the screen, in reach wherever the cards were ticked.
      const bar = phone.page.getByTestId('selection-bar');
      await poll(() => bar.getByText('已选 2 项').count()).toBe(1);
      const box = await bar.boundingBox();
      expect(box && box.y + box.height).toBeCloseTo(PHONE.height, 0);
      await snap(phone.page, 'list-select-zh-phone');
      await bar.getByRole('button', { name: /删\s*除/ }).click();
      const confirm = phone.page.getByRole('dialog').filter({ hasText: '确定删除所选记录？' });
      await confirm.getByRole('button', { name: /确\s*定/ }).click();
      for (const t of picks) await poll(async () => (await admin(`/api/data/opportunity/${ids.get(t)}`)).status).toBe(404);
      await poll(() => phone.page.getByTestId('cards').locator('.mc-panel', { hasText: picks[0] }).count()).toBe(0);
    },
    STEP,
  );
});
