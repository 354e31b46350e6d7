/**
 * `npm run bench:ui` — the web UI in headless Chromium (Debian's, as the browser tests), each number
 * beside the same page as plain server-rendered HTML of the same rows (the floor) and their ratio:
 *   - JavaScript shipped (gzip) for the login page plus a list page;
 *   - cold load of a list page (empty cache, logged in) until its first rows are visible;
 *   - warm navigation from the list to a record until its form is visible;
 *   - main-thread time (CDP: scripts, style, layout, tasks) to render a 50-row list;
 *   - time per keystroke typing into a 40-field form (keydown → the next frame painted).
 * Runs on an in-memory PGlite engine with the sample sales app and 200 opportunities; medians of
 * --runs (default 7). Results are printed and written to .bench/ui.json.
 */
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import type { Page } from 'playwright-core';
import { withUi, UI_DIST } from '../../engine/http/static.js';
import { ensureBuilt } from '../../runtime-ui/build.js';
import { startOrg } from '../access/org.js';
import { launch, login } from '../ui/browser.js';

const runs = Number(process.argv.find((a) => a.startsWith('--runs='))?.split('=')[1] ?? 7);
const root = resolve(import.meta.dirname, '..', '..');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const esc = (v: unknown) => String(v ?? '').replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

await ensureBuilt();
const org = await startOrg('pglite');
const e = org.e;
// A wide entity for the keystroke test: 40 text fields.
const wide = {
  kind: 'entity',
  name: 'bench_wide',
  label: { en: 'Wide form', 'zh-CN': '宽表单' },
  titleField: 'f01',
  fields: Array.from({ length: 40 }, (_, i) => ({
    name: `f${String(i + 1).padStart(2, '0')}`,
    type: 'text',
    label: { en: `Field ${i + 1}`, 'zh-CN': `字段 ${i + 1}` },
  })),
};
const deployed = await e.call('POST', '/api/meta/deploy', { documents: [wide] });
if (deployed.status !== 201) throw new Error(JSON.stringify(deployed.body));
// The demo administrator may use every entity, the wide one included.
const USER = 'admin';
const account = org.accounts.rep_east.id;
const rows = Array.from({ length: 200 }, (_, i) => ({
  title: `基准商机 ${i + 1}`,
  account,
  amount: 10000 + i * 137,
  expected_close_date: '2026-12-31',
}));
for (let i = 0; i < rows.length; i += 100) await org.as('rep_east', 'POST', '/api/data/opportunity', rows.slice(i, i + 100));

// The floor: the same rows as plain HTML rendered on the server, read through the same API.
const floor = new Hono();
const token = org.tokens[USER];
const apiGet = async (path: string) =>
  (await e.app.request(path, { headers: { authorization: `Bearer ${token}` } })).json() as Promise<any>;
const COLS = ['title', 'opportunity_no', 'stage', 'amount', 'probability', 'expected_close_date', 'updated_at'];
floor.get('/floor/list', async (c) => {
  const page = await apiGet(`/api/data/opportunity?limit=50&sort=-updated_at&fields=${COLS.join(',')}&count=true`);
  const body = page.data
    .map(
      (r: any) =>
        `<tr>${COLS.map((k) => `<td>${k === 'title' ? `<a href="/floor/record/${r.id}">${esc(r[k])}</a>` : esc(r[k])}</td>`).join('')}</tr>`,
    )
    .join('');
  return c.html(
    `<!doctype html><meta charset="utf-8"><title>list</title><p>${page.total}</p><table><thead><tr>${COLS.map((k) => `<th>${k}</th>`).join('')}</tr></thead><tbody>${body}</tbody></table>`,
  );
});
floor.get('/floor/record/:id', async (c) => {
  const r = (await apiGet(`/api/data/opportunity/${c.req.param('id')}`)).data;
  return c.html(
    `<!doctype html><meta charset="utf-8"><title>record</title><form id="f">${Object.entries(r)
      .map(([k, v]) => `<label>${k}<input name="${k}" value="${esc(v)}"></label>`)
      .join('')}</form>`,
  );
});
floor.get('/floor/form', (c) =>
  c.html(
    `<!doctype html><meta charset="utf-8"><title>form</title><form>${wide.fields.map((f) => `<label>${f.label.en}<input id="${f.name}" name="${f.name}"></label>`).join('')}</form>`,
  ),
);
const ui = withUi(e.app);
floor.all('*', (c) => ui.fetch(c.req.raw, c.env));
const server = serve({ fetch: floor.fetch, port: 0, hostname: '127.0.0.1' });
await new Promise((r) => server.once('listening', r));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const browser = await launch();
const context = await browser.newContext({ viewport: { width: 1366, height: 820 }, locale: 'zh-CN', baseURL: base });
await context.addInitScript(() => localStorage.setItem('mc.lang', 'zh-CN'));
const page = await context.newPage();
await login(page, USER, org.passwords[USER]);
const cookies = await context.cookies();

/** 1. JavaScript shipped for the login page and a list page (gzip, as served). */
async function jsShipped() {
  const fresh = await browser.newContext({ baseURL: base });
  const p = await fresh.newPage();
  const scripts = new Set<string>();
  p.on('response', (r) => {
    if (r.url().endsWith('.js')) scripts.add(new URL(r.url()).pathname);
  });
  await login(p, USER, org.passwords[USER]);
  await p.goto('/l/opportunity');
  await p.locator('tr.mc-row').first().waitFor();
  await fresh.close();
  let gz = 0;
  for (const s of scripts) gz += statSync(join(UI_DIST, `${s}.gz`)).size;
  const floorBytes = 0; // the HTML floor ships no JavaScript
  return { kb: gz / 1024, files: scripts.size, floorBytes };
}

/** Time from navigation start until `selector` is visible, in a fresh context (cold cache) with the session. */
async function cold(path: string, selector: string) {
  const c = await browser.newContext({ baseURL: base, locale: 'zh-CN' });
  await c.addCookies(cookies);
  await c.addInitScript(() => localStorage.setItem('mc.lang', 'zh-CN'));
  const p = await c.newPage();
  const t0 = Date.now();
  await p.goto(path);
  await p.locator(selector).first().waitFor();
  const ms = Date.now() - t0;
  await c.close();
  return ms;
}

/** Warm navigation: on a loaded list, click the first row's link and wait for `target`. */
async function warmNav(p: Page, listPath: string, link: string, target: string) {
  await p.goto(listPath);
  await p.locator(link).first().waitFor();
  await p.waitForLoadState('networkidle');
  const t0 = Date.now();
  await p.locator(link).first().click();
  await p.locator(target).first().waitFor();
  return Date.now() - t0;
}

/** Main-thread time (CDP Performance metrics) spent from navigation until the rows are visible. */
async function mainThread(p: Page, path: string, selector: string) {
  const cdp = await p.context().newCDPSession(p);
  await cdp.send('Performance.enable');
  const metric = async () => {
    const { metrics } = await cdp.send('Performance.getMetrics');
    const m = Object.fromEntries(metrics.map((x: any) => [x.name, x.value]));
    return (m.TaskDuration as number) * 1000;
  };
  await p.goto('about:blank');
  const before = await metric();
  await p.goto(path);
  await p.locator(selector).nth(49).waitFor();
  await p.waitForLoadState('networkidle');
  const ms = (await metric()) - before;
  await cdp.detach();
  return ms;
}

/** Milliseconds from each keydown until the next frame, typing 20 characters into the 21st field. */
async function keystrokes(p: Page, path: string, field: string) {
  await p.goto(path);
  await p.locator(field).waitFor();
  await p.waitForLoadState('networkidle');
  await p.evaluate(() => {
    (window as any).__keys = [];
    document.addEventListener(
      'keydown',
      () => {
        const t0 = performance.now();
        requestAnimationFrame(() => setTimeout(() => (window as any).__keys.push(performance.now() - t0), 0));
      },
      true,
    );
  });
  await p.locator(field).click();
  await p.keyboard.type('客户拜访纪要abcdefghijklmn', { delay: 60 });
  await p.waitForTimeout(200);
  const times: number[] = await p.evaluate(() => (window as any).__keys);
  return median(times);
}

const result: Record<string, { ui: number; floor: number; unit: string }> = {};
const js = await jsShipped();
result['JS for login + list (gzip)'] = { ui: js.kb, floor: 0, unit: 'KB' };
const coldUi: number[] = [],
  coldFloor: number[] = [],
  navUi: number[] = [],
  navFloor: number[] = [],
  mtUi: number[] = [],
  mtFloor: number[] = [],
  keyUi: number[] = [],
  keyFloor: number[] = [];
for (let i = 0; i < runs; i++) {
  coldUi.push(await cold('/l/opportunity', 'tr.mc-row'));
  coldFloor.push(await cold('/floor/list', 'tbody tr'));
  navUi.push(await warmNav(page, '/l/opportunity', 'tr.mc-row a', '#root_title'));
  navFloor.push(await warmNav(page, '/floor/list', 'tbody tr a', 'form#f input'));
  mtUi.push(await mainThread(page, '/l/opportunity', 'tr.mc-row'));
  mtFloor.push(await mainThread(page, '/floor/list', 'tbody tr'));
  keyUi.push(await keystrokes(page, '/r/bench_wide/new', '#root_f21'));
  keyFloor.push(await keystrokes(page, '/floor/form', '#f21'));
}
result['cold list load → first rows'] = { ui: median(coldUi), floor: median(coldFloor), unit: 'ms' };
result['warm list → record'] = { ui: median(navUi), floor: median(navFloor), unit: 'ms' };
result['main thread, 50-row list'] = { ui: median(mtUi), floor: median(mtFloor), unit: 'ms' };
result['per keystroke, 40-field form'] = { ui: median(keyUi), floor: median(keyFloor), unit: 'ms' };

console.log(`\nweb UI in headless Chromium (median of ${runs}; floor: the same rows as server-rendered HTML)\n`);
console.log('measure'.padEnd(32), 'UI'.padStart(10), 'floor'.padStart(10), 'ratio'.padStart(8));
for (const [name, r] of Object.entries(result))
  console.log(
    name.padEnd(32),
    `${r.ui.toFixed(1)} ${r.unit}`.padStart(10),
    `${r.floor.toFixed(1)} ${r.unit}`.padStart(10),
    (r.floor ? (r.ui / r.floor).toFixed(1) : '—').padStart(8),
  );
console.log(`(${js.files} JavaScript files for login + list)`);
mkdirSync(join(root, '.bench'), { recursive: true });
writeFileSync(
  join(root, '.bench', 'ui.json'),
  JSON.stringify({ at: new Date().toISOString(), runs, result, jsFiles: js.files }, null, 2),
);
await browser.close();
server.close();
await e.stop();
process.exit(0);
