/**
 * A save that an automation warns about (a `warn` action): the record is written and the user is told why
 * they might reconsider, in their language — here the sales app's "customer visited too often" on a fourth
 * visit within seven days, saved from the generated form in Chromium (zh-CN and en). No console errors;
 * screenshots under .ci-results/ui/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { drivers } from '../support/engine.js';
import { startOrg, type Org } from '../access/org.js';
import { launch, login, openPage, serveUi, settle, shot, type UiPage } from './browser.js';

const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 15_000 });
/** Today in the sample app's time zone (the automation counts days in Asia/Shanghai). */
const today = () => new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date());

describe.each(drivers)('warnings after a save in Chromium on %s', (driver) => {
  let org: Org;
  let ui: Awaited<ReturnType<typeof serveUi>>;
  let browser: Browser;
  const pages: UiPage[] = [];
  const visits = async () =>
    (
      await org.as(
        'rep_east',
        'GET',
        `/api/data/activity?filter=${encodeURIComponent(JSON.stringify({ '==': [{ var: 'account' }, org.accounts.rep_east.id] }))}`,
      )
    ).body.data as { subject: string }[];

  beforeAll(async () => {
    org = await startOrg(driver, ['sales']);
    // Three visits this week: the next one is the fourth.
    for (const n of [1, 2, 3]) {
      const res = await org.as('rep_east', 'POST', '/api/data/activity', {
        subject: `第${n}次拜访`,
        activity_type: 'visit',
        activity_date: today(),
        account: org.accounts.rep_east.id,
      });
      expect([res.status, res.body.meta?.warnings]).toEqual([201, undefined]);
    }
    ui = await serveUi(org.e);
    browser = await launch();
  }, 240_000);
  afterAll(async () => {
    for (const p of pages) expect(p.errors.join('\n'), 'console errors').toBe('');
    await browser?.close();
    await ui?.close();
    await org?.e.stop();
  });

  for (const [lang, subject, warning] of [
    ['zh-CN', '第四次拜访', '该客户近 7 天已被拜访超过 3 次，请关注拜访效率。'],
    [
      'en',
      'Fifth visit',
      'This customer has been visited more than 3 times in the last 7 days — make sure the visits are worth it.',
    ],
  ] as const) {
    it(`saves the visit and shows the warning in ${lang}`, async () => {
      const rep = await openPage(browser, ui.base, lang);
      pages.push(rep);
      await login(rep.page, 'rep_east', org.passwords.rep_east);
      const { page } = rep;
      const query = new URLSearchParams({
        subject,
        activity_type: 'visit',
        activity_date: today(),
        account: org.accounts.rep_east.id,
      });
      await page.goto(`/r/activity/new?${query}`);
      await settle(page);
      await page.getByTestId('save').click();
      // The write went through (the page moves to the new record) and the warning is on screen.
      await page.waitForURL((u) => u.pathname.startsWith('/r/activity/') && !u.pathname.endsWith('/new'));
      await page.getByText(warning).waitFor();
      await poll(async () => (await visits()).map((v) => v.subject)).toContain(subject);
      if (driver === 'pglite') await shot(page, `warning-${lang}`);
    }, 120_000);
  }
});
