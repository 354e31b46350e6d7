/**
 * A widget per field type, in Chromium (zh-CN), on an entity deployed for the test with one field of each
 * built-in type: what is typed, picked and switched in the generated form is what the API stores; a
 * reference is searched on the server as the user types; formulas and auto-numbers are read-only; in the
 * list, e-mail, phone and URL are links, percent, currency and multi-picklist show formatted, a reference
 * links to its record.
 */
import { describe, expect, it } from 'vitest';
import { drivers } from '../support/engine.js';
import { login, settle } from './browser.js';
import { choose, poll, scenario, STEP } from './scenario-harness.js';

const L = (en: string, zh: string) => ({ en, 'zh-CN': zh });
const documents = [
  { kind: 'dictionary', name: 'ui_tier', label: L('Tier', '级别'), items: [{ value: 'gold', label: L('Gold', '金牌') }, { value: 'silver', label: L('Silver', '银牌') }] },
  {
    kind: 'entity',
    name: 'ui_gadget',
    label: L('Gadget', '器件'),
    titleField: 'title',
    fields: [
      { name: 'title', type: 'text', label: L('Title', '名称'), required: true },
      { name: 'code', type: 'autonumber', pattern: 'G-{seq:3}', label: L('Code', '编号') },
      { name: 'note', type: 'textarea', label: L('Note', '说明') },
      { name: 'pieces', type: 'integer', label: L('Pieces', '件数') },
      { name: 'ratio', type: 'decimal', precision: 10, scale: 2, label: L('Ratio', '系数') },
      { name: 'price', type: 'currency', label: L('Price', '单价') },
      { name: 'share', type: 'percent', label: L('Share', '占比') },
      { name: 'active', type: 'boolean', label: L('Active', '启用') },
      { name: 'due', type: 'date', label: L('Due', '到期日') },
      { name: 'mail', type: 'email', label: L('E-mail', '邮箱') },
      { name: 'tel', type: 'phone', label: L('Phone', '电话') },
      { name: 'site', type: 'url', label: L('Website', '网址') },
      { name: 'tier', type: 'picklist', dictionary: 'ui_tier', label: L('Tier', '级别') },
      { name: 'tags', type: 'multipicklist', dictionary: 'ui_tier', label: L('Tags', '标签') },
      { name: 'account', type: 'reference', to: 'account', label: L('Account', '客户') },
      { name: 'payload', type: 'json', label: L('Payload', '附加数据') },
      { name: 'total', type: 'formula', returns: 'currency', expr: { '*': [{ var: 'price' }, { var: 'pieces' }] }, label: L('Total', '总价') },
    ],
  },
  {
    kind: 'view',
    name: 'ui_gadget_list',
    label: L('Gadgets', '器件'),
    entity: 'ui_gadget',
    lists: [
      {
        name: 'all',
        label: L('All gadgets', '全部器件'),
        columns: ['title', 'code', 'mail', 'tel', 'site', 'account', 'share', 'price', 'total', 'tags'],
        sort: '-updated_at',
      },
    ],
  },
];

describe.each(drivers)('a widget per field type in Chromium on %s', (driver) => {
  const s = scenario(driver);

  it(
    'stores what the form is given, searches references on the server, keeps computed fields read-only, and lists them formatted',
    async () => {
      const { org } = s;
      expect((await org.e.call('POST', '/api/meta/deploy', { documents })).status).toBe(201);
      const account = org.accounts.rep_east;
      const admin = await s.open('zh-CN');
      await login(admin.page, 'admin', org.passwords.admin);
      const { page } = admin;
      await page.goto('/r/ui_gadget/new');
      await settle(page);
      // Computed fields are not inputs.
      expect(await page.locator('input#root_total, input#root_code').count()).toBe(0);
      await page.locator('#root_title').fill('测试器件');
      await page.locator('#root_note').fill('第一行\n第二行');
      await page.locator('#root_pieces').fill('3');
      await page.locator('#root_ratio').fill('1.25');
      await page.locator('#root_price').fill('1200.5');
      await page.locator('#root_share').fill('35.5');
      await page.locator('#root_active').click();
      await page.locator('#root_due').click();
      await page.locator('#root_due').fill('2026-12-01');
      await page.keyboard.press('Enter');
      await page.locator('#root_mail').fill('buyer@example.cn');
      await page.locator('#root_tel').fill('13800138000');
      await page.locator('#root_site').fill('https://example.cn/a');
      await choose(page, 'root_tier', '金牌');
      await poll(() => page.locator('.ant-select-dropdown:visible').count()).toBe(0);
      await page.locator('#root_tags').click();
      await page.locator('.ant-select-dropdown:visible .ant-select-item-option[title="金牌"]').click();
      await page.locator('.ant-select-dropdown:visible .ant-select-item-option[title="银牌"]').click();
      await page.keyboard.press('Escape');
      await poll(() => page.locator('.ant-select-dropdown:visible').count()).toBe(0);
      // The reference searches the server as the user types.
      const typed = account.name.slice(0, 6);
      const searched = page.waitForRequest(
        (r) => new URL(r.url()).pathname === '/api/data/account' && new URL(r.url()).searchParams.get('q') === typed,
      );
      await page.locator('#root_account').click();
      await page.keyboard.type(typed);
      await searched;
      await page.locator('.ant-select-dropdown:visible .ant-select-item-option', { hasText: account.name }).click();
      await page.locator('#root_payload').fill('{"k": [1, 2], "ok": true}');
      await page.locator('#root_title').click();
      await page.getByTestId('save').click();
      await page.waitForURL(/\/r\/ui_gadget\/[0-9a-f-]{36}$/);
      const id = page.url().split('/').pop()!;
      const saved = (await org.e.call('GET', `/api/data/ui_gadget/${id}`)).body.data;
      expect(saved).toMatchObject({
        title: '测试器件',
        note: '第一行\n第二行',
        pieces: 3,
        ratio: 1.25,
        price: 1200.5,
        share: 35.5,
        active: true,
        due: '2026-12-01',
        mail: 'buyer@example.cn',
        tel: '13800138000',
        site: 'https://example.cn/a',
        tier: 'gold',
        account: account.id,
        payload: { k: [1, 2], ok: true },
        total: 3601.5,
        code: 'G-001',
      });
      expect([...saved.tags].sort()).toEqual(['gold', 'silver']);

      // Read back on the record page: computed values shown, not editable.
      await settle(page);
      await poll(() => page.locator('form').textContent()).toContain('¥3,601.50');
      expect(await page.locator('form').textContent()).toContain('G-001');
      expect(await page.locator('input#root_total, input#root_code').count()).toBe(0);
      await s.snap(page, 'widgets-record-zh');

      // The list: links and formatted values.
      await page.goto('/l/ui_gadget');
      await settle(page);
      const row = page.locator('tr.mc-row').first();
      await row.waitFor();
      await poll(() => row.locator('a[href="mailto:buyer@example.cn"]').count()).toBe(1);
      expect(await row.locator('a[href="tel:13800138000"]').count()).toBe(1);
      expect(await row.locator('a[href="https://example.cn/a"]').count()).toBe(1);
      expect(await row.locator(`a[href="/r/account/${account.id}"]`).count()).toBe(1);
      const text = (await row.textContent()) ?? '';
      for (const shown of ['35.5%', '¥1,200.50', '¥3,601.50', '金牌', '银牌', 'G-001']) expect(text).toContain(shown);
      await s.snap(page, 'widgets-list-zh');
    },
    STEP,
  );
});
