/**
 * A kanban grouped by a plain picklist (no workflow), in Chromium (zh-CN): a dragged card sets the
 * picklist through PATCH with the record's version, and a move the entity's rules refuse snaps back with
 * the API's message — the record unchanged.
 */
import { describe, expect, it } from 'vitest';
import { drivers } from '../support/engine.js';
import { login, settle } from './browser.js';
import { poll, scenario, STEP } from './scenario-harness.js';

const L = (en: string, zh: string) => ({ en, 'zh-CN': zh });
const documents = [
  {
    kind: 'dictionary',
    name: 'ui_priority',
    label: L('Priority', '优先级'),
    items: [
      { value: 'high', label: L('High', '高') },
      { value: 'normal', label: L('Normal', '中') },
      { value: 'low', label: L('Low', '低') },
    ],
  },
  {
    kind: 'entity',
    name: 'ui_issue',
    label: L('Issue', '问题'),
    titleField: 'title',
    fields: [
      { name: 'title', type: 'text', label: L('Title', '标题'), required: true },
      { name: 'priority', type: 'picklist', dictionary: 'ui_priority', label: L('Priority', '优先级'), required: true },
      { name: 'amount', type: 'currency', label: L('Amount', '金额') },
    ],
    rules: [
      {
        name: 'big_is_not_low',
        field: 'priority',
        assert: { or: [{ '!=': [{ var: 'priority' }, 'low'] }, { '<': [{ var: 'amount' }, 10000] }] },
        message: L('An issue of ¥10,000 or more cannot be low priority.', '金额一万元及以上的问题不能设为低优先级。'),
      },
    ],
  },
  { kind: 'view', name: 'ui_issue_board', label: L('Board', '看板'), entity: 'ui_issue', kanban: { groupBy: 'priority', cardFields: ['amount'], sumField: 'amount' } },
];

describe.each(drivers)('a kanban by a picklist in Chromium on %s', (driver) => {
  const s = scenario(driver);

  it(
    'sets the picklist when a card is dropped, and snaps a card back with the reason the API gives',
    async () => {
      const { org } = s;
      expect((await org.e.call('POST', '/api/meta/deploy', { documents })).status).toBe(201);
      const made = await org.e.call('POST', '/api/data/ui_issue', [
        { title: '小问题', priority: 'normal', amount: 500 },
        { title: '大问题', priority: 'high', amount: 50000 },
      ]);
      expect(made.status, JSON.stringify(made.body)).toBe(201);
      const [small, big] = made.body.data as { id: string }[];
      const admin = await s.open('zh-CN');
      await login(admin.page, 'admin', org.passwords.admin);
      const { page } = admin;
      admin.expect(/422/); // the refused move's answer, which the browser logs
      await page.goto('/k/ui_issue');
      await settle(page);
      await poll(() => page.locator('[data-column="normal"] [data-card]').count()).toBe(1);

      await page.locator(`[data-card="${small.id}"]`).dragTo(page.locator('[data-column="low"]'));
      await poll(async () => (await org.e.call('GET', `/api/data/ui_issue/${small.id}`)).body.data.priority).toBe('low');
      await poll(() => page.locator(`[data-column="low"] [data-card="${small.id}"]`).count()).toBe(1);

      await page.locator(`[data-card="${big.id}"]`).dragTo(page.locator('[data-column="low"]'));
      await poll(() =>
        page
          .locator('.ant-message')
          .allTextContents()
          .then((t) => t.join(' ')),
      ).toMatch(/无法移动：.*金额一万元及以上的问题不能设为低优先级。/);
      await poll(() => page.locator(`[data-column="high"] [data-card="${big.id}"]`).count()).toBe(1);
      const after = (await org.e.call('GET', `/api/data/ui_issue/${big.id}`)).body.data;
      expect(after).toMatchObject({ priority: 'high', version: 1 });
      await s.snap(page, 'kanban-picklist-refused-zh');
    },
    STEP,
  );
});
