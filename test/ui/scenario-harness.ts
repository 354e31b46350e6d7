/**
 * What the browser tests share (the scenarios in zh-CN and en, and pages tested alone): the engine with the
 * demo organisation (the sales app and the rating plugin unless told otherwise), the UI served around it, one Chromium, pages that must log
 * no console error, axe checks and screenshots taken once (from the PGlite run), and the antd pickers.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Driver } from '../support/engine.js';
import type { EngineOptions } from '../../engine/engine.js';
import { startOrg, type Org } from '../access/org.js';
import rating from '../../plugins/rating/index.js';
import { axeViolations, DESKTOP, launch, openPage, serveUi, shot, type UiPage } from './browser.js';

export const STEP = 120_000;
/** Waits up to 15 s for a condition the page reaches asynchronously (queries, animations). */
export const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 15_000 });

type Plugin = NonNullable<EngineOptions['plugins']>[number];

export interface Scenario {
  org: Org;
  /** A new browser page (its own context) in the language and viewport; its console errors fail the suite. */
  open(lang: 'zh-CN' | 'en', viewport?: typeof DESKTOP): Promise<UiPage>;
  /** A screenshot into .ci-results/ui/ — from the PGlite run only; the PostgreSQL run checks the same behaviour. */
  snap(page: Page, name: string): Promise<void>;
  /** Fails on any critical or serious axe-core violation. */
  axe(page: Page, what: string): Promise<void>;
}

/** Registers the suite's beforeAll / afterAll (call inside describe) and returns the scenario, filled in by beforeAll. */
export function scenario(
  driver: Driver,
  { apps = ['sales'], plugins = [rating] }: { apps?: string[]; plugins?: Plugin[] } = {},
): Scenario {
  let ui: Awaited<ReturnType<typeof serveUi>> | undefined;
  let browser: Browser | undefined;
  const opened: UiPage[] = [];
  const s = {
    async open(lang, viewport = DESKTOP) {
      const p = await openPage(browser!, ui!.base, lang, viewport);
      opened.push(p);
      return p;
    },
    snap: (page, name) => (driver === 'pglite' ? shot(page, name) : Promise.resolve()),
    async axe(page, what) {
      expect((await axeViolations(page)).join('\n'), `axe on ${what}`).toBe('');
    },
  } as Scenario;

  beforeAll(async () => {
    s.org = await startOrg(driver, apps, { plugins });
    ui = await serveUi(s.org.e);
    browser = await launch();
  }, 240_000);
  afterAll(async () => {
    for (const p of opened) expect(p.errors.join('\n'), 'console errors').toBe('');
    await browser?.close();
    await ui?.close();
    await s.org?.e.stop();
  });
  return s;
}

/** Picks a value in an antd Select (picklists, references) by its label. */
export async function choose(page: Page, id: string, label: string) {
  // The select's box, not its search input: a default value (the field's) lies over the input.
  await page.locator(`#${id}`).locator('xpath=ancestor::div[contains(@class,"ant-select")][1]').click();
  await page.locator(`.ant-select-dropdown:visible .ant-select-item-option[title="${label}"]`).click();
}
