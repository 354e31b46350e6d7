/**
 * Browser-test harness: the product served as `npm start` serves it (the API with the built UI around
 * it, engine/http/static.ts) on a free port, and Debian's Chromium driven by playwright-core. Every page
 * records console errors (a test fails on any), runs axe-core on demand, and saves screenshots under
 * .ci-results/ui/ for a reviewer.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { withUi } from '../../engine/http/static.js';
import { ensureBuilt } from '../../runtime-ui/build.js';
import type { TestEngine } from '../support/engine.js';

const root = resolve(import.meta.dirname, '..', '..');
export const SHOTS = join(root, '.ci-results', 'ui');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export async function serveUi(e: TestEngine) {
  await ensureBuilt();
  const server = serve({ fetch: withUi(e.app).fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, close: () => new Promise<void>((r) => server.close(() => r())) };
}

export async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`No Chromium at ${CHROMIUM}: apt-get install -y chromium fonts-noto-cjk (.ci/run does)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

export interface UiPage {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught exceptions seen so far. */
  errors: string[];
  /**
   * Answers the test provokes on purpose (a wrong password's 401): the browser itself logs every 4xx
   * response as a console error, which is not the page failing. Returns a function that ends the
   * expectation (what a lost session provokes is expected only until the user has logged in again).
   */
  expect(pattern: RegExp): () => void;
  /** API requests sent, as "METHOD /path". */
  requests: string[];
}

export const DESKTOP = { width: 1366, height: 820 };
export const PHONE = { width: 390, height: 844 };

export async function openPage(browser: Browser, base: string, lang: 'zh-CN' | 'en', viewport = DESKTOP): Promise<UiPage> {
  // Reduced motion: antd then draws dialogs and popovers in place at once (runtime-ui/src/main.tsx), so
  // a click is never sent to where a dialog still zooming in will not be (lost clicks on a loaded machine).
  const context = await browser.newContext({ viewport, locale: lang, baseURL: base, reducedMotion: 'reduce' });
  // The language the UI starts in (before a user has chosen one) follows the browser's.
  await context.addInitScript((l) => localStorage.setItem('mc.lang', l), lang);
  const page = await context.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  const expected: RegExp[] = [];
  page.on('console', (m) => {
    const line = `${m.text()} @ ${m.location().url}`;
    if (m.type() === 'error' && !expected.some((e) => e.test(line))) errors.push(line);
  });
  page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
  page.on('request', (r) => {
    if (r.url().includes('/api/')) requests.push(`${r.method()} ${new URL(r.url()).pathname}`);
  });
  const expect = (pattern: RegExp) => {
    expected.push(pattern);
    return () => {
      expected.splice(expected.indexOf(pattern), 1);
    };
  };
  return { context, page, errors, requests, expect };
}

export async function login(page: Page, username: string, password: string) {
  await page.goto('/login');
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(password);
  await page.locator('#password').press('Enter');
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
}

/** Critical and serious axe-core violations on the page as it is now. */
export async function axeViolations(page: Page): Promise<string[]> {
  // Let antd's colour transitions (0.2 s) finish: axe reads the colours as they are at that instant.
  // Nothing hovered either (a hovered button shows its lighter hover colour).
  await page.mouse.move(1, 1);
  await page.waitForTimeout(400);
  // A toast ("已创建") fades out over 0.3 s: read mid-fade its text has no contrast. Wait until it is gone.
  await page
    .locator('.ant-message-notice')
    .first()
    .waitFor({ state: 'detached', timeout: 10_000 })
    .catch(() => undefined);
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => (window as any).axe.run(document, { resultTypes: ['violations'] }));
  return (result.violations as any[])
    .filter((v) => v.impact === 'critical' || v.impact === 'serious')
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.nodes
          .slice(0, 3)
          .map((n: any) => `${n.target.join(' ')} ${n.html.slice(0, 120)} ${JSON.stringify(n.any?.[0]?.data ?? '')}`)
          .join(' | ')}`,
    );
}

export async function shot(page: Page, name: string) {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

/** Waits until no request is in flight for a moment (queries settled, page drawn). */
export async function settle(page: Page) {
  await page.waitForLoadState('networkidle');
  await page.waitForTimeout(150);
}

/** Whether the locator appears within a few seconds. */
export const appears = (locator: Locator, timeout = 3_000) =>
  locator.waitFor({ timeout }).then(
    () => true,
    () => false,
  );

/**
 * Picks an option of a single-choice antd Select by searching: opens it, types, clicks the option. The
 * options are replaced when the search answers, and a click on the list being replaced is lost — so it
 * picks again (at most three times) until `chosen` says the choice took.
 */
export async function pickOption(
  page: Page,
  open: () => Promise<void>,
  search: string,
  option: string,
  chosen: () => Promise<boolean>,
) {
  for (let attempt = 0; attempt < 3; attempt++) {
    // A dropdown left open by the attempt before (its search typed in) would close on the click that opens it.
    if (attempt > 0) await page.keyboard.press('Escape');
    await open();
    await page.keyboard.type(search);
    await page.locator('.ant-select-item-option', { hasText: option }).click();
    if (await chosen()) return;
  }
  throw new Error(`"${option}" could not be picked`);
}
