/**
 * `npm start` rebuilds the UI when any input of its bundle changed (runtime-ui/build.ts isStale): the
 * build records every source file it bundled, which includes what lies outside runtime-ui/src — the
 * plugins' widgets and operations (import.meta.glob) and the rules shared with the engine — and a newer
 * file among them, a new file beside them or a new plugin, makes the build stale. Checked on the real
 * record of the last build, and on a temporary copy for the mtimes (no build needed).
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, isStale } from '../../runtime-ui/build.js';

const root = resolve(import.meta.dirname, '..', '..');

describe('the UI build watches every input of its bundle', () => {
  let temp: string;
  beforeAll(async () => {
    await ensureBuilt();
    temp = mkdtempSync(join(tmpdir(), 'ui-inputs-'));
  }, 300_000);
  afterAll(() => rmSync(temp, { recursive: true, force: true }));

  it('records what the bundle was made from: every plugin widget and operation module, the shared rules', () => {
    const inputs: string[] = JSON.parse(readFileSync(join(root, 'runtime-ui', '.inputs.json'), 'utf8'));
    // What main.tsx and record/rules.ts pull in by glob, as found on disk now.
    const globbed = readdirSync(join(root, 'plugins')).flatMap((p) =>
      ['ui.tsx', 'operations.ts'].map((f) => `plugins/${p}/${f}`).filter((f) => existsSync(join(root, f))),
    );
    expect(globbed.length).toBeGreaterThanOrEqual(2);
    for (const file of [...globbed, 'engine/rules/operations.ts', 'engine/rules/evaluate.ts', 'runtime-ui/src/main.tsx'])
      expect(inputs, file).toContain(file);
    expect(inputs.filter((f) => f.includes('node_modules'))).toEqual([]);
    expect(isStale()).toBe(false);
  });

  it('is stale when a plugin widget is newer than the build, when a plugin is added, or when an input is gone', () => {
    // A copy: a built stamp, one plugin's widget, and the record naming it.
    const dist = join(temp, 'dist');
    mkdirSync(dist);
    mkdirSync(join(temp, 'plugins', 'rating'), { recursive: true });
    copyFileSync(join(root, 'plugins', 'rating', 'ui.tsx'), join(temp, 'plugins', 'rating', 'ui.tsx'));
    const record = join(temp, 'inputs.json');
    writeFileSync(record, JSON.stringify(['plugins/rating/ui.tsx']));
    const past = new Date(Date.now() - 3_600_000);
    for (const p of ['plugins/rating/ui.tsx', 'plugins/rating', 'plugins']) utimesSync(join(temp, p), past, past);
    writeFileSync(join(dist, 'index.html'), '<!doctype html>');
    const stale = () => isStale(dist, temp, record);
    expect(stale()).toBe(false);

    // The widget edited after the build.
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(temp, 'plugins', 'rating', 'ui.tsx'), later, later);
    expect(stale()).toBe(true);
    utimesSync(join(temp, 'plugins', 'rating', 'ui.tsx'), past, past);
    expect(stale()).toBe(false);

    // A new plugin with a widget (a new folder under plugins/).
    mkdirSync(join(temp, 'plugins', 'stars'));
    utimesSync(join(temp, 'plugins'), later, later);
    expect(stale()).toBe(true);
    utimesSync(join(temp, 'plugins'), past, past);
    expect(stale()).toBe(false);

    // A recorded input removed; no record at all.
    rmSync(join(temp, 'plugins', 'rating', 'ui.tsx'));
    expect(stale()).toBe(true);
    expect(isStale(dist, temp, join(temp, 'missing.json'))).toBe(true);
  });
});
