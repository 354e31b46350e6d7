/**
 * The settings page in Chromium, as a demo sales rep of the test's own organisation (zh-CN, en on desktop
 * and a 390 px phone): a personal API token is created and shown once, listed, works for an API call, and
 * once revoked gets 401; changing the password refuses a wrong current one at its field and a short new one
 * before anything is sent, then ends the session — the old password no longer logs in, the new one does,
 * and the API tokens made before are revoked. Outcomes checked through the API; no console errors;
 * screenshots under .ci-results/ui/.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { drivers } from '../support/engine.js';
import type { Org } from '../access/org.js';
import { axeViolations, DESKTOP, login, PHONE, settle } from './browser.js';
import { scenario } from './scenario-harness.js';

const STEP = 120_000;
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 15_000 });
const USER = 'rep_north';

describe.each(drivers)('settings page in Chromium on %s', (driver) => {
  const s = scenario(driver);
  let org: Org;
  beforeAll(() => {
    org = s.org;
  });
  const snap = s.snap;
  // Pages are closed when their step is done: the password change ends every session of the user, and a
  // page left open would meet it at its next poll of the unread count (a 401 outside the step that expects it).
  const open = async (lang: 'zh-CN' | 'en' = 'zh-CN', viewport = DESKTOP, password = org.passwords[USER]) => {
    const p = await s.open(lang, viewport);
    await login(p.page, USER, password);
    return p;
  };
  const loginStatus = async (password: string) =>
    (await org.e.callAs(null, 'POST', '/api/auth/login', { username: USER, password })).status;
  const tokensOf = async (token: string) => (await org.e.callAs(token, 'GET', '/api/auth/tokens')).body.data as any[];

  it(
    'creates a personal API token shown once, lists it, uses it, and revokes it: then it gets 401',
    async () => {
      const rep = await open();
      const { page } = rep;
      await page.goto('/settings');
      await settle(page);
      await page.getByLabel('令牌名称').fill('ERP 同步');
      await page.getByRole('button', { name: '创建' }).click();
      const shown = page.getByTestId('new-token').locator('code');
      await shown.waitFor();
      const token = (await shown.textContent())!.trim();
      expect(token).toMatch(/^mct/);
      // it works for an API call, as its owner
      const me = await org.e.callAs(token, 'GET', '/api/auth/me');
      expect(me.status).toBe(200);
      expect(me.body.user.username).toBe(USER);
      // listed, as the API lists it
      const row = page.getByTestId('tokens').locator('tr', { hasText: 'ERP 同步' });
      await poll(() => row.textContent()).toContain('有效');
      const listed = (await tokensOf(org.tokens[USER])).filter((t) => t.name === 'ERP 同步');
      expect(listed).toHaveLength(1);
      expect(listed[0].revoked_at).toBeNull();
      await snap(page, 'settings-token-zh-desktop');
      // shown once: after a reload it is listed, but its secret is nowhere on the page
      await page.reload();
      await settle(page);
      await poll(() => row.count()).toBe(1);
      expect(await page.getByTestId('new-token').count()).toBe(0);
      expect(await page.locator('body').textContent()).not.toContain(token);
      // revoke (asked first)
      await row.getByRole('button', { name: '吊销' }).click();
      await page
        .locator('.ant-popconfirm')
        .getByRole('button', { name: /确\s*定|OK/ })
        .click();
      await poll(async () => (await org.e.callAs(token, 'GET', '/api/auth/me')).status).toBe(401);
      expect((await tokensOf(org.tokens[USER])).find((t) => t.name === 'ERP 同步').revoked_at).not.toBeNull();
      await poll(() => row.textContent()).toContain('已吊销');
      // a revoked token has nothing left to revoke
      expect(await row.getByRole('button', { name: '吊销' }).count()).toBe(0);
      await settle(page);
      await page.mouse.move(1, 1);
      await page.waitForTimeout(400); // the tag's colour transition
      expect((await axeViolations(page)).join('\n'), 'axe on the settings page').toBe('');
      await snap(page, 'settings-zh-desktop');
      await rep.context.close();
    },
    STEP,
  );

  it(
    'shows the settings in English and on a 390 px phone',
    async () => {
      for (const [lang, viewport, name] of [
        ['en', DESKTOP, 'settings-en-desktop'],
        ['zh-CN', PHONE, 'settings-zh-phone'],
        ['en', PHONE, 'settings-en-phone'],
      ] as const) {
        const { page, context } = await open(lang, viewport);
        await page.goto('/settings');
        await settle(page);
        await poll(() => page.locator('h1').first().textContent()).toBe(lang === 'en' ? 'Settings' : '个人设置');
        await poll(() => page.getByTestId('tokens').textContent()).toContain(lang === 'en' ? 'Revoked' : '已吊销');
        // nothing wider than the screen
        expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(viewport.width);
        await snap(page, name);
        await context.close();
      }
    },
    STEP,
  );

  it(
    'changes the password: a wrong current one is refused at its field, a short new one before sending; then only the new one logs in',
    async () => {
      const old = org.passwords[USER];
      const fresh = 'Neues-Passwort-2026';
      // a token made with the old password: changing it ends the token too
      const made = await org.as(USER, 'POST', '/api/auth/tokens', { name: '旧令牌' });
      expect(made.status).toBe(201);
      const rep = await open();
      const { page } = rep;
      await page.goto('/settings');
      await settle(page);
      const current = page.getByLabel('当前密码');
      const next = page.getByLabel('新密码');
      const save = page.getByRole('button', { name: '保存' });

      // a short new password: refused in the browser, nothing sent
      const before = rep.requests.length;
      await current.fill(old);
      await next.fill('short');
      await save.click();
      await poll(() => page.locator('.ant-form-item-explain-error').allTextContents()).toContain('密码至少需要 10 个字符');
      expect(rep.requests.slice(before).filter((r) => r.includes('/api/auth/password'))).toEqual([]);

      // a wrong current password: the API's 403, shown at the field
      const refused = rep.expect(/status of 403 .* @ .*\/api\/auth\/password$/);
      await current.fill('not my password');
      await next.fill(fresh);
      await save.click();
      await poll(() => page.locator('.ant-form-item-explain-error').allTextContents()).toContain('当前密码错误');
      refused();
      expect(await loginStatus(old)).toBe(200);
      await snap(page, 'settings-password-error-zh-desktop');

      await current.fill(old);
      // What the page still had in flight (the unread count, me, the menu) meets the ended session: 401s,
      // expected until the user has logged in again.
      const ended = rep.expect(/status of 401 .* @ .*\/api\//);
      await save.click();
      // the session has ended with the old password: back to the login, told why
      await page.waitForURL(/\/login/);
      await poll(() => page.locator('.ant-message').textContent()).toContain('请用新密码重新登录');
      expect(await loginStatus(old)).toBe(401);
      expect(await loginStatus(fresh)).toBe(200);
      expect((await org.e.callAs(made.body.data.token, 'GET', '/api/auth/me')).status).toBe(401);
      // and the new password logs in on the page
      await login(page, USER, fresh);
      await settle(page);
      ended();
      await poll(() => page.locator('h1').first().textContent()).toBe('首页');
    },
    STEP,
  );
});
