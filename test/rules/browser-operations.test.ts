/**
 * The browser evaluates rules with the server's operations: every json-logic operation the server
 * registers (the core plugin's and every shipped plugin's, enumerated from the registry — no list here)
 * gives the same answer in the web UI's evaluator (runtime-ui/src/record/rules.ts) as on the server, for
 * generated arguments. The browser side is what the browser runs: the module bundled by Vite for the
 * browser (its own copy of json-logic-js, nothing of Node) and run in a fresh JavaScript realm.
 */
import { runInNewContext } from 'node:vm';
import { join, resolve } from 'node:path';
import { build } from 'vite';
import { beforeAll, describe, expect, it } from 'vitest';
import { Registry } from '../../engine/registry/registry.js';
import { loadPlugins, shippedPlugins } from '../../engine/registry/load-plugins.js';
import { corePlugin } from '../../engine/core/index.js';
import { evaluateRule, registerOperation } from '../../engine/rules/evaluate.js';

const root = resolve(import.meta.dirname, '..', '..');
const seed = Number(process.env.SEED ?? Date.now() % 100_000);

/** A small deterministic generator (mulberry32), so a failure can be replayed with SEED=…. */
function random(s: number) {
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Browser {
  evaluate(logic: unknown, data: Record<string, unknown>): unknown;
  ruleViolations(rules: unknown[], data: Record<string, unknown>): { rule: string }[];
  knowsOperation(name: string): boolean;
}

describe('json-logic operations in the browser and on the server', () => {
  let browser: Browser;
  let operations: string[];

  beforeAll(async () => {
    // The server: the registry as the engine builds it (core + every shipped plugin), registered as engine.ts does.
    const registry = new Registry().use(corePlugin);
    const folder = join(root, 'plugins');
    for (const plugin of await loadPlugins(await shippedPlugins(folder), folder)) registry.use(plugin);
    for (const op of registry.operations()) registerOperation(op.name, op.evaluate, op.sql);
    operations = registry.operations().map((op) => op.name);

    // The browser: rules.ts bundled for the browser by Vite, run in a realm of its own.
    const out = (await build({
      configFile: false,
      logLevel: 'silent',
      root: join(root, 'runtime-ui'),
      build: {
        write: false,
        minify: false,
        lib: { entry: join(root, 'runtime-ui', 'src', 'record', 'rules.ts'), name: 'rules', formats: ['iife'] },
        rollupOptions: { external: [] },
      },
    })) as { output: { type: string; code?: string }[] }[] | { output: { type: string; code?: string }[] };
    const chunk = (Array.isArray(out) ? out[0] : out).output.find((o) => o.type === 'chunk')!;
    browser = runInNewContext(`${chunk.code}; rules`, {}) as Browser;
  }, 120_000);

  it('knows every operation the server registers', () => {
    expect(operations.length).toBeGreaterThan(0);
    for (const name of operations) expect(browser.knowsOperation(name), name).toBe(true);
  });

  it(`gives the same result for each operation on generated arguments (seed ${seed})`, () => {
    const next = random(seed);
    const pick = <T>(values: T[]) => values[Math.floor(next() * values.length)]!;
    const instant = () => new Date(Date.UTC(2020, 0, 1) + Math.floor(next() * 4 * 365 * 86_400_000)).toISOString();
    // Values of every kind a record or a rule hands an operation.
    const value = (): unknown =>
      pick([
        () => instant(),
        () => instant().slice(0, 10),
        () => Math.round((next() - 0.5) * 2000) / 10,
        () => Math.floor(next() * 40) - 10,
        () => pick(['day', 'week', 'month', 'year', 'Asia/Shanghai', 'America/New_York', 'UTC', 'Nowhere/City']),
        () => pick(['EAST-001', 'EAST-', 'east', '', 'WEST-9', '华东-01', '华东']),
        () => null,
        () => pick([true, false]),
        () => String(Math.floor(next() * 100)),
      ])();
    let compared = 0;
    for (const name of operations) {
      for (let i = 0; i < 300; i++) {
        const args = Array.from({ length: 1 + Math.floor(next() * 4) }, value);
        const data = Object.fromEntries(args.map((a, j) => [`a${j}`, a]));
        const rule = { [name]: args.map((_, j) => ({ var: `a${j}` })) };
        const server = evaluateRule(rule, data);
        const inBrowser = browser.evaluate(rule, data);
        expect(JSON.stringify(inBrowser), `${JSON.stringify(rule)} with ${JSON.stringify(data)} (seed ${seed})`).toBe(
          JSON.stringify(server),
        );
        compared++;
      }
    }
    expect(compared).toBe(operations.length * 300);
  });

  it('blocks a save exactly when the server refuses it: a rule over each operation', () => {
    const next = random(seed + 1);
    for (const name of operations) {
      for (let i = 0; i < 50; i++) {
        const a = new Date(Date.UTC(2024, 0, 1) + Math.floor(next() * 60 * 86_400_000)).toISOString();
        const b = next() < 0.5 ? 'EAST-1' : new Date(Date.UTC(2024, 0, 1) + Math.floor(next() * 60 * 86_400_000)).toISOString();
        const data = { a, b, n: Math.floor(next() * 10) - 3 };
        // As the form model sends it: `when: null` for a rule that always applies.
        const rule = { name: 'r', when: null, assert: { '!!': { [name]: [{ var: 'a' }, { var: 'b' }, { var: 'n' }] } }, message: 'm' };
        const serverRefuses = !evaluateRule({ '!!': rule.assert['!!'] }, data);
        expect(browser.ruleViolations([rule], data).length > 0, `${JSON.stringify(rule)} ${JSON.stringify(data)}`).toBe(
          serverRefuses,
        );
      }
    }
  });
});
