/**
 * The calendar page (/c/:entity) in Chromium as the demo sales rep: the schedules of the view's calendar
 * ("mine": owned or listing me as a participant; "my team": every one I may read), a drag to another day
 * that the server records (PATCH with the version), a refused drag (an overlap) that snaps back, a click
 * that opens the record, and a click on an empty day that opens a new one there. Screenshots in zh-CN and
 * en, desktop and a 390 px phone, under .ci-results/ui/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { drivers } from '../support/engine.js';
import { startOrg, type Org } from '../access/org.js';
import { DESKTOP, launch, login, openPage, PHONE, serveUi, settle, shot, type UiPage } from './browser.js';

const STEP = 120_000;
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 15_000 });
const pad = (n: number) => String(n).padStart(2, '0');
/** A local calendar day (the browser runs in this machine's time zone, as Node does). */
const dayOf = (d: Date) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
/** Today (or `offset` days from it) at a local hour, as the API writes instants. */
const localAt = (offset: number, hour: number, minute = 0) => {
  const now = new Date();
  return new Date(now.getFullYear(), now.getMonth(), now.getDate() + offset, hour, minute).toISOString();
};

describe.each(drivers)('the schedule calendar in Chromium on %s', (driver) => {
  let org: Org;
  let ui: Awaited<ReturnType<typeof serveUi>>;
  let browser: Browser;
  const opened: UiPage[] = [];
  const tag = driver === 'pglite' ? '' : '-pg';
  const snap = (page: Page, name: string) => (tag ? Promise.resolve() : shot(page, name));
  const open = async (viewport = DESKTOP, lang: 'zh-CN' | 'en' = 'zh-CN', user: 'rep_east' | 'manager_east' = 'rep_east') => {
    const p = await openPage(browser, ui.base, lang, viewport);
    opened.push(p);
    await login(p.page, user, org.passwords[user]);
    return p;
  };
  const schedule: Record<string, any> = {};
  const make = async (user: 'rep_east' | 'manager_east' | 'rep_north', key: string, body: Record<string, unknown>) => {
    const res = await org.as(user, 'POST', '/api/data/schedule', { plan_kind: 'appointment', schedule_type: 'visit', ...body });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    schedule[key] = res.body.data;
  };

  beforeAll(async () => {
    org = await startOrg(driver, ['sales']);
    // These users keep no time zone of their own: the calendar is laid out in the browser's, like the
    // local times this test writes (the demo organisation gives everyone Shanghai's). The last test
    // gives the manager Tokyo's.
    for (const user of ['rep_east', 'manager_east', 'rep_north'] as const)
      expect((await org.as(user, 'PATCH', '/api/auth/me', { time_zone: null })).body.timeZone ?? null).toBeNull();
    await make('rep_east', 'visit', {
      subject: '拜访华信科技',
      start_at: localAt(0, 10),
      end_at: localAt(0, 11, 30),
      account: org.accounts.rep_east.id,
    });
    await make('rep_east', 'call', {
      subject: '电话回访中科',
      schedule_type: 'call',
      start_at: localAt(0, 14),
      end_at: localAt(0, 15),
    });
    await make('manager_east', 'meeting', {
      subject: '周例会',
      schedule_type: 'meeting',
      start_at: localAt(0, 16),
      end_at: localAt(0, 17),
      participants: [org.ids.rep_east],
    });
    await make('manager_east', 'review', {
      subject: '经理审阅合同',
      schedule_type: 'business',
      start_at: localAt(0, 8),
      end_at: localAt(0, 9),
    });
    await make('rep_north', 'north', { subject: '华北客户拜访', start_at: localAt(0, 10), end_at: localAt(0, 11) });
    // rep_east is busy tomorrow 10:00–12:00: moving the visit there is refused (overlap)
    await make('rep_east', 'busy', {
      subject: '投标答疑',
      schedule_type: 'business',
      start_at: localAt(2, 9),
      end_at: localAt(2, 12),
    });
    ui = await serveUi(org.e);
    browser = await launch();
  }, 240_000);
  afterAll(async () => {
    for (const p of opened) expect(p.errors.join('\n'), 'console errors').toBe('');
    await browser?.close();
    await ui?.close();
    await org?.e.stop();
  });

  const event = (page: Page, key: string) => page.locator(`[data-event="${schedule[key].id}"]`).first();

  it(
    'shows my schedules and my team’s, and takes screenshots in both languages',
    async () => {
      const rep = await open();
      const { page } = rep;
      // every schedule (the default list holds only those not over yet: the time of day would decide)
      await page.goto('/l/schedule?view=all');
      await settle(page);
      // the participants column shows names, not ids
      await poll(async () => (await page.locator('tr', { hasText: '周例会' }).first().textContent()) ?? '').toContain('赵销售');
      await snap(page, 'schedule-list-zh');
      await page.getByRole('button', { name: '日历' }).click();
      await page.waitForURL(/\/c\/schedule$/);
      await event(page, 'visit').waitFor();
      await event(page, 'meeting').waitFor(); // I take part in it
      expect(await event(page, 'review').count()).toBe(0); // my manager's own, not mine
      expect(await event(page, 'north').count()).toBe(0);
      await settle(page);
      await page.setViewportSize({ width: 1280, height: 900 });
      await settle(page);
      await snap(page, 'calendar-week-zh');
      await page.getByTestId('calendar-scope').getByText('团队').click();
      await event(page, 'review').waitFor(); // my department's
      expect(await event(page, 'north').count()).toBe(0); // another department's
      await page.getByRole('button', { name: '月', exact: true }).click();
      await event(page, 'visit').waitFor();
      await settle(page);
      await snap(page, 'calendar-month-team-zh');

      const en = await open({ width: 1280, height: 900 }, 'en');
      await en.page.goto('/c/schedule');
      await event(en.page, 'visit').waitFor();
      await en.page.getByRole('button', { name: 'Week', exact: true }).waitFor();
      await settle(en.page);
      await snap(en.page, 'calendar-week-en');

      for (const lang of ['zh-CN', 'en'] as const) {
        const phone = await open(PHONE, lang);
        await phone.page.goto('/c/schedule');
        await event(phone.page, 'visit').waitFor();
        await settle(phone.page);
        // nothing wider than the phone
        expect(await phone.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
        await snap(phone.page, `calendar-list-${lang === 'en' ? 'en' : 'zh'}-phone`);
        await phone.page.getByRole('button', { name: lang === 'en' ? 'Day' : '日', exact: true }).click();
        await event(phone.page, 'visit').waitFor();
        await settle(phone.page);
        await snap(phone.page, `calendar-day-${lang === 'en' ? 'en' : 'zh'}-phone`);
      }
    },
    STEP,
  );

  /** Drags an event onto another day's cell of the month view. */
  const drag = async (page: Page, key: string, day: string) => {
    const from = await event(page, key).boundingBox();
    const cell = await page.locator(`td.fc-daygrid-day[data-date="${day}"]`).boundingBox();
    if (!from || !cell) throw new Error(`nothing to drag (${key} → ${day})`);
    await page.mouse.move(from.x + 10, from.y + from.height / 2);
    await page.mouse.down();
    await page.mouse.move(from.x + 20, from.y + from.height / 2 + 5, { steps: 5 });
    await page.mouse.move(cell.x + cell.width / 2, cell.y + cell.height / 2, { steps: 15 });
    await page.waitForTimeout(200);
    await page.mouse.up();
  };

  it(
    'moves a schedule to another day by dragging it, and puts back a move the server refuses',
    async () => {
      const rep = await open({ width: 1280, height: 900 });
      const { page } = rep;
      rep.expect(/status of 409 .*\/api\/data\/schedule\//); // the refused move below
      await page.goto('/c/schedule');
      await page.getByRole('button', { name: '月', exact: true }).click();
      await event(page, 'visit').waitFor();
      await settle(page);
      const tomorrow = new Date();
      tomorrow.setDate(tomorrow.getDate() + 1);
      // the last cell of the month grid has no "tomorrow" in it: go back a day then
      const target = (await page.locator(`td.fc-daygrid-day[data-date="${dayOf(tomorrow)}"]`).count())
        ? tomorrow
        : new Date(Date.now() - 86_400_000);
      await drag(page, 'visit', dayOf(target));
      const moved = () => org.as('rep_east', 'GET', `/api/data/schedule/${schedule.visit.id}`).then((r) => r.body.data);
      await poll(async () => dayOf(new Date((await moved()).start_at))).toBe(dayOf(target));
      const record = await moved();
      // the same hours, one day on; the version went up
      expect(new Date(record.start_at).getHours()).toBe(10);
      expect(new Date(record.end_at).getTime() - new Date(record.start_at).getTime()).toBe(90 * 60_000);
      expect(record.version).toBe(2);
      await page.getByText('已改期').first().waitFor();

      // onto the day I am busy: the server refuses (overlap), the event goes back
      const busyDay = new Date();
      busyDay.setDate(busyDay.getDate() + 2);
      if (await page.locator(`td.fc-daygrid-day[data-date="${dayOf(busyDay)}"]`).count()) {
        await settle(page);
        await drag(page, 'visit', dayOf(busyDay));
        await page.getByText('冲突').first().waitFor();
        expect(dayOf(new Date((await moved()).start_at))).toBe(dayOf(target));
        await poll(async () =>
          page.locator(`td.fc-daygrid-day[data-date="${dayOf(target)}"] [data-event="${schedule.visit.id}"]`).count(),
        ).toBe(1);
      }
      // someone else changed the call since the calendar read it: 409 version_conflict, put back and reloaded
      const renamed = await org.as('rep_east', 'PATCH', `/api/data/schedule/${schedule.call.id}`, {
        location: '线上',
        version: 1,
      });
      expect(renamed.status).toBe(200);
      await settle(page);
      await drag(page, 'call', dayOf(target));
      await page.getByText('该记录已被他人修改，已重新加载').first().waitFor();
      const call = (await org.as('rep_east', 'GET', `/api/data/schedule/${schedule.call.id}`)).body.data;
      expect([dayOf(new Date(call.start_at)), call.version]).toEqual([dayOf(new Date()), 2]);
      await settle(page);
      // the toasts gone, for a clean picture
      await page
        .locator('.ant-message-notice')
        .first()
        .waitFor({ state: 'detached', timeout: 10_000 })
        .catch(() => undefined);
      await snap(page, 'calendar-after-drag-zh');
    },
    STEP,
  );

  it(
    'opens a schedule by a click and a new one on an empty day',
    async () => {
      const { page } = await open({ width: 1280, height: 900 });
      await page.goto('/c/schedule');
      await event(page, 'call').click();
      await page.waitForURL(new RegExp(`/r/schedule/${schedule.call.id}$`));
      await page.getByText('电话回访中科').first().waitFor();
      // participants are picked by name
      await page.getByRole('combobox', { name: '参与人' }).click();
      await page.getByRole('combobox', { name: '参与人' }).fill('王');
      await page.locator('.ant-select-item-option', { hasText: '王经理' }).click();
      await page.keyboard.press('Escape');
      await page.getByRole('button', { name: /保\s*存/ }).click();
      await poll(
        async () => (await org.as('rep_east', 'GET', `/api/data/schedule/${schedule.call.id}`)).body.data.participants,
      ).toEqual([org.ids.manager_east]);
      await settle(page);
      await snap(page, 'schedule-record-zh');
      await page.goto('/c/schedule');
      await page.getByRole('button', { name: '月', exact: true }).click();
      await event(page, 'call').waitFor();
      const empty = new Date();
      empty.setDate(empty.getDate() + 3);
      const cell = page.locator(`td.fc-daygrid-day[data-date="${dayOf(empty)}"]`);
      if (!(await cell.count())) return;
      const box = (await cell.boundingBox())!;
      await page.mouse.click(box.x + box.width / 2, box.y + box.height - 8);
      await page.waitForURL(/\/r\/schedule\/new\?/);
      const params = new URL(page.url()).searchParams;
      expect(new Date(params.get('start_at')!).getHours()).toBe(9);
      expect(dayOf(new Date(params.get('start_at')!))).toBe(dayOf(empty));
      await settle(page);
      await snap(page, 'calendar-new-zh');
    },
    STEP,
  );
  it(
    "lays the calendar out in the user's own time zone, not the browser's, and starts new ones there",
    async () => {
      const zone = 'Asia/Tokyo';
      const set = await org.as('manager_east', 'PATCH', '/api/auth/me', { time_zone: zone });
      expect(set.status, JSON.stringify(set.body)).toBe(200);
      const hourIn = (iso: string) =>
        Number(new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', hourCycle: 'h23' }).format(new Date(iso)));
      // A call at 10:00 on Tokyo's today (01:00 UTC; Tokyo keeps +9 all year): in the week the calendar
      // opens on, whatever the browser's date, and in the 10:00 row of the week view, not the browser's 01:00.
      const tokyoToday = new Intl.DateTimeFormat('en-CA', { timeZone: zone }).format(new Date());
      await make('manager_east', 'tokyo', {
        subject: '东京时间上午的电话',
        schedule_type: 'call',
        start_at: new Date(`${tokyoToday}T10:00:00+09:00`).toISOString(),
        end_at: new Date(`${tokyoToday}T10:30:00+09:00`).toISOString(),
      });
      const { page } = await open({ width: 1280, height: 900 }, 'en', 'manager_east');
      await page.goto('/c/schedule');
      await event(page, 'tokyo').waitFor();
      await settle(page);
      const expected = `${pad(hourIn(schedule.tokyo.start_at))}:00:00`;
      expect(expected).toBe('10:00:00');
      const slot = (await page.locator(`td.fc-timegrid-slot-lane[data-time="${expected}"]`).boundingBox())!;
      const box = (await event(page, 'tokyo').boundingBox())!;
      expect(Math.abs(box.y - slot.y), `the call at ${expected} in ${zone}`).toBeLessThan(6);
      await snap(page, 'calendar-week-tokyo-en');
      // A day clicked in the month view opens a new schedule at 09:00 in Tokyo.
      await page.getByRole('button', { name: 'Month', exact: true }).click();
      await event(page, 'tokyo').waitFor();
      const empty = new Date();
      empty.setDate(empty.getDate() + 3);
      const cell = page.locator(`td.fc-daygrid-day[data-date="${dayOf(empty)}"]`);
      if (!(await cell.count())) return;
      const area = (await cell.boundingBox())!;
      await page.mouse.click(area.x + area.width / 2, area.y + area.height - 8);
      await page.waitForURL(/\/r\/schedule\/new\?/);
      const start = new URL(page.url()).searchParams.get('start_at')!;
      expect(hourIn(start)).toBe(9);
      expect(new Intl.DateTimeFormat('en-CA', { timeZone: zone }).format(new Date(start))).toBe(dayOf(empty));
    },
    STEP,
  );
});
