/**
 * What the browser takes from the server, in Chromium as the demo users: the user's language (saved with
 * the switch through PATCH /api/auth/me, the one a fresh browser starts in after login, the one the API
 * answers in), rules using the server's own operations (a core one, hours_between, and a plugin's,
 * starts_with: saving what the server accepts, refusing at the field what it refuses), and the kanban's
 * column counts and sums over all of a column's records in the user's scope and the list's filter
 * (expectations computed through the API as the same user). No console errors; screenshots.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { drivers, q } from '../support/engine.js';
import type { Org, UserName } from '../access/org.js';
import textMatch from '../../plugins/text-match/index.js';
import { DESKTOP, login, PHONE, settle } from './browser.js';
import { scenario } from './scenario-harness.js';

const STEP = 120_000;
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 15_000 });

describe.each(drivers)('the server’s truth in Chromium on %s', (driver) => {
  const s = scenario(driver, { plugins: [textMatch] });
  let org: Org;
  beforeAll(() => {
    org = s.org;
  });
  const snap = s.snap;
  /** A fresh browser context (nothing remembered), in the browser language given. */
  const open = (lang: 'zh-CN' | 'en', viewport = DESKTOP) => s.open(lang, viewport);
  const myLanguage = async (user: UserName) => (await org.as(user, 'GET', '/api/auth/me')).body.language;

  it(
    'remembers the language per user on the server: a fresh browser starts in it after login, the API answers in it',
    async () => {
      expect(await myLanguage('rep_north')).toBeNull();
      const first = await open('zh-CN');
      await login(first.page, 'rep_north', org.passwords.rep_north);
      await first.page.getByRole('menuitem', { name: '首页' }).waitFor();
      await first.page.locator('.mc-header').getByText('EN', { exact: true }).click();
      await first.page.getByRole('menuitem', { name: 'Home' }).waitFor();
      await poll(() => myLanguage('rep_north')).toBe('en');

      // Another machine: a Chinese browser that has never seen this user. The login page is in the
      // browser's language; after login the UI is in the user's.
      const second = await open('zh-CN');
      await second.page.goto('/login');
      await second.page.getByRole('button', { name: '登录' }).waitFor();
      await login(second.page, 'rep_north', org.passwords.rep_north);
      await second.page.getByRole('menuitem', { name: 'Home' }).waitFor();
      expect(await second.page.getByRole('menuitem', { name: '首页' }).count()).toBe(0);
      await second.page.goto('/l/account');
      await settle(second.page);
      await second.page.getByRole('button', { name: /New/ }).waitFor();
      await snap(second.page, 'language-saved-en');
      // The API's refusals are in the user's language, even when the request asks for Chinese.
      second.expect(/status of 400/);
      const refusal = await second.page.evaluate(async () => {
        const res = await fetch('/api/data/account?sum=name', { headers: { 'accept-language': 'zh-CN' } });
        return { status: res.status, body: await res.json() };
      });
      expect(refusal.status).toBe(400);
      expect(refusal.body.error.message).toMatch(/Cannot sum "name": not a number field/);

      // Back to Chinese, from the settings page this time: saved too, and a fresh English browser follows it.
      await second.page.goto('/settings');
      await second.page.locator('.ant-segmented').getByText('中文', { exact: true }).click();
      await second.page.getByRole('menuitem', { name: '首页' }).waitFor();
      await poll(() => myLanguage('rep_north')).toBe('zh-CN');
      const third = await open('en');
      await third.page.goto('/login');
      await third.page.getByRole('button', { name: 'Log in' }).waitFor();
      await login(third.page, 'rep_north', org.passwords.rep_north);
      await third.page.getByRole('menuitem', { name: '首页' }).waitFor();
      third.expect(/status of 400/);
      const zh = await third.page.evaluate(async () => (await fetch('/api/data/account?sum=name', { headers: { 'accept-language': 'en' } })).json());
      expect(zh.error.message).toMatch(/不是数值字段/);
    },
    STEP,
  );

  it(
    'saves a record whose rules use hours_between and a plugin’s starts_with when the server accepts it, and refuses it at the field when the server would',
    async () => {
      const entity = (await org.e.call('GET', '/api/meta/documents/entity/schedule')).body;
      const rules = [
        ...(entity.rules ?? []),
        { name: 'at_most_a_day', field: 'end_at', assert: { '<=': [{ hours_between: [{ var: 'start_at' }, { var: 'end_at' }] }, 24] },
          message: { en: 'A schedule lasts at most 24 hours.', 'zh-CN': '日程最长 24 小时。' } },
        { name: 'no_hash_subject', field: 'subject', assert: { '!': { starts_with: [{ var: 'subject' }, '#'] } },
          message: { en: 'The subject must not start with #.', 'zh-CN': '主题不能以 # 开头。' } },
      ];
      const deployed = await org.e.call('POST', '/api/meta/deploy', { documents: [{ ...entity, rules }] });
      expect(deployed.status, JSON.stringify(deployed.body)).toBe(201);

      const { page, requests } = await open('zh-CN');
      await login(page, 'rep_east', org.passwords.rep_east);
      const start = '2026-12-01T01:00:00.000Z';
      const cases = [
        { subject: '拜访客户', end: '2026-12-01T03:30:00.000Z' }, // 2.5 h: accepted
        { subject: '出差两天', end: '2026-12-02T09:00:00.000Z' }, // 32 h: hours_between refuses
        { subject: '#内部会议', end: '2026-12-01T02:00:00.000Z' }, // starts_with refuses
      ];
      for (const c of cases) {
        const values = { subject: c.subject, plan_kind: 'appointment', start_at: start, end_at: c.end };
        // What the server says about these values (a dry run would be the same check: create, then remove).
        const server = await org.as('rep_east', 'POST', '/api/data/schedule', values, { 'accept-language': 'zh-CN' });
        if (server.status === 201) await org.as('rep_east', 'DELETE', `/api/data/schedule/${server.body.data.id}`);
        else expect(server.status, JSON.stringify(server.body)).toBe(422);
        const refusedAt = (server.body.error?.details ?? []).map((d: any) => d.path);

        await page.goto(`/r/schedule/new?${new URLSearchParams(values)}`);
        await settle(page);
        const before = requests.length;
        await page.getByTestId('save').click();
        if (server.status === 201) {
          await page.waitForURL(/\/r\/schedule\/[0-9a-f-]{36}$/);
          const id = page.url().split('/').pop()!;
          expect((await org.as('rep_east', 'GET', `/api/data/schedule/${id}`)).body.data.subject).toBe(c.subject);
        } else {
          const message = (server.body.error.details as any[]).map((d) => d.message).join(' ');
          const field = refusedAt[0].replace(/^\//, '');
          await poll(() => page.locator(`.ant-form-item:has(#root_${field}) .ant-form-item-explain-error`).allTextContents()).toContainEqual(
            expect.stringContaining(message.includes('24') ? '日程最长 24 小时' : '主题不能以 # 开头'),
          );
          expect(message).toMatch(field === 'end_at' ? /24 小时/ : /# 开头/);
          // Refused in the browser: nothing was sent.
          expect(requests.slice(before).filter((r) => r.startsWith('POST'))).toEqual([]);
          if (field === 'end_at') {
            await page.waitForTimeout(400); // the message slides in
            await snap(page, 'rule-hours-between-zh');
          }
        }
      }
    },
    STEP,
  );

  it(
    'shows each kanban column’s count and sum over all its records, in the user’s scope and the list’s filter',
    async () => {
      // 210 open opportunities of rep_east's (more than the 200 cards a column shows), some of rep_north's
      // (outside rep_east's scope), a few moved on to the next stage.
      const amounts = (n: number, seed: number) => Array.from({ length: n }, (_, i) => ((i * 7919 + seed) % 100_000) + 0.25 * (i % 4));
      const made = await org.e.call('POST', '/api/data/opportunity', [
        ...amounts(210, 1).map((amount, i) => ({
          title: `${i % 3 ? 'Alpha' : 'Beta'} 项目 ${i}`,
          account: org.accounts.rep_east.id,
          amount: i % 10 === 9 ? null : amount,
          owner_id: org.ids.rep_east,
        })),
        ...amounts(15, 2).map((amount, i) => ({ title: `Alpha 北方 ${i}`, account: org.accounts.rep_north.id, amount, owner_id: org.ids.rep_north })),
      ]);
      expect(made.status, JSON.stringify(made.body).slice(0, 500)).toBe(201);
      for (const record of made.body.data.filter((_: unknown, i: number) => i % 40 === 1 || i === 212)) {
        const options = (await org.e.call('GET', `/api/data/opportunity/${record.id}/transitions`)).body.data;
        const next = options.transitions.find((t: any) => t.target === 'needs_confirmed');
        const fired = await org.e.call('POST', `/api/data/opportunity/${record.id}/transitions/${next.event}`, {});
        expect(fired.status, JSON.stringify(fired.body)).toBe(200);
      }

      /** Count and sum of a column as rep_east reads it, page by page through the list API. */
      const expected = async (stage: string, extra: unknown, search?: string) => {
        const filter = q(extra ? { and: [{ '==': [{ var: 'stage' }, stage] }, extra] } : { '==': [{ var: 'stage' }, stage] });
        let cursor: string | null = null;
        let count = 0;
        let sum = 0;
        do {
          const res: any = await org.as('rep_east', 'GET',
            `/api/data/opportunity?filter=${filter}&limit=100&fields=amount${search ? `&q=${encodeURIComponent(search)}` : ''}${cursor ? `&cursor=${cursor}` : ''}`);
          expect(res.status).toBe(200);
          count += res.body.data.length;
          sum += res.body.data.reduce((s: number, r: any) => s + (r.amount ?? 0), 0);
          cursor = res.body.nextCursor;
        } while (cursor);
        return { count, sum: Math.round(sum * 100) / 100 };
      };
      const stages = ((await org.e.call('GET', '/api/meta/documents/dictionary/sales_stage')).body.items as any[]).map((i) => i.value);
      const view = (await org.as('rep_east', 'GET', '/api/meta/views/opportunity')).body.data;
      const openFilter = view.lists[0].filter;
      const number = (text: string | null) => Number((text ?? '').replace(/[^0-9.-]/g, ''));
      const check = async (page: Page, extra: unknown, search?: string) => {
        let nonEmpty = 0;
        for (const stage of stages) {
          const want = await expected(stage, extra, search);
          await poll(async () => number(await page.getByTestId(`count-${stage}`).textContent())).toBe(want.count);
          await poll(async () => number(await page.getByTestId(`sum-${stage}`).textContent())).toBe(want.sum);
          if (want.count) nonEmpty++;
        }
        return nonEmpty;
      };

      const { page } = await open('zh-CN');
      await login(page, 'rep_east', org.passwords.rep_east);
      // The whole kanban: more than 200 records in the first column, counted and summed by the server.
      await page.goto('/k/opportunity');
      await settle(page);
      expect((await expected('initial_contact', undefined)).count).toBeGreaterThan(200);
      expect(await check(page, undefined)).toBeGreaterThanOrEqual(2);
      await snap(page, 'kanban-server-sums-zh');

      // The column shows its cards a page at a time: the next page comes when its end is scrolled into
      // view; at the end every record of the column is a card, each once.
      const first = await expected('initial_contact', undefined);
      const cards = (p: Page) => p.locator('[data-column="initial_contact"] [data-card]');
      const more = (p: Page) => p.getByTestId('more-initial_contact');
      await poll(() => cards(page).count()).toBe(50);
      expect(await more(page).textContent()).toMatch(new RegExp(`加载更多\\s*\\(${first.count - 50}\\)`));
      for (let shown = 50; shown < first.count; shown = Math.min(shown + 50, first.count)) {
        // The page that brings the last cards takes the button away: it may go while being scrolled to.
        await more(page).scrollIntoViewIfNeeded({ timeout: 5_000 }).catch(() => {});
        await poll(() => cards(page).count()).toBe(Math.min(shown + 50, first.count));
      }
      expect(await more(page).count()).toBe(0);
      const ids = await cards(page).evaluateAll((els) => els.map((e) => e.getAttribute('data-card')));
      expect(new Set(ids).size).toBe(first.count);
      expect(number(await page.getByTestId('count-initial_contact').textContent())).toBe(first.count);
      // Where the browser cannot tell what is in view (no IntersectionObserver), the button loads the next page.
      const plain = await open('zh-CN');
      await plain.context.addInitScript(() => Reflect.deleteProperty(window, 'IntersectionObserver'));
      await login(plain.page, 'rep_east', org.passwords.rep_east);
      await plain.page.goto('/k/opportunity');
      await poll(() => cards(plain.page).count()).toBe(50);
      await more(plain.page).scrollIntoViewIfNeeded();
      await plain.page.waitForTimeout(500);
      expect(await cards(plain.page).count()).toBe(50); // nothing loads by itself
      await more(plain.page).click();
      await poll(() => cards(plain.page).count()).toBe(100);
      expect(await more(plain.page).textContent()).toMatch(new RegExp(`加载更多\\s*\\(${first.count - 100}\\)`));

      // From the list searched for "Alpha": the kanban keeps the list's view and search.
      await page.goto('/l/opportunity?q=Alpha');
      await settle(page);
      await page.getByRole('button', { name: /看板/ }).click();
      await page.waitForURL(/\/k\/opportunity\?.*q=Alpha/);
      await page.getByTestId('kanban-filter').waitFor();
      await settle(page);
      expect(await check(page, openFilter, 'Alpha')).toBeGreaterThanOrEqual(2);
      await snap(page, 'kanban-list-filter-zh');

      const phone = await open('en', PHONE);
      await login(phone.page, 'rep_east', org.passwords.rep_east);
      await phone.page.goto('/k/opportunity');
      await settle(phone.page);
      await snap(phone.page, 'kanban-server-sums-en-phone');
    },
    STEP,
  );
});
