/**
 * The import graph keeps its shape (docs/architecture.md, "Layers"): no layer imports a higher one
 * (.dependency-cruiser.cjs), no module cycle, and no two folders import each other, directly or round
 * a longer circle. Fails CI the moment a change adds one.
 */
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { cruise, type ICruiseResult } from 'dependency-cruiser';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const config = createRequire(import.meta.url)('../.dependency-cruiser.cjs');

/** engine/data/operations/create.ts → engine/data; metadata/x.ts → metadata; engine/errors.ts → engine/errors. */
const folderOf = (path: string) => {
  const parts = path.split('/');
  if (parts[0] === 'engine') return parts.length > 2 ? `engine/${parts[1]}` : `engine/${parts[1]!.replace(/[.]ts$/, '')}`;
  if (parts[0] === 'plugins') return `plugins/${parts[1]}`;
  return parts[0]!;
};

describe('import graph', () => {
  it('has no upward import, no module cycle and no folder cycle', async () => {
    const previous = process.cwd();
    process.chdir(root);
    let result: ICruiseResult;
    try {
      const { output } = await cruise(['engine', 'metadata', 'plugins'], {
        ...config.options,
        ruleSet: { forbidden: config.forbidden },
        validate: true,
      });
      result = output as ICruiseResult;
    } finally {
      process.chdir(previous);
    }
    const violations = result.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`);
    expect(violations).toEqual([]);

    const edges = new Map<string, Set<string>>();
    for (const m of result.modules) {
      if (!/^(engine|metadata|plugins)\//.test(m.source)) continue;
      for (const d of m.dependencies) {
        if (!/^(engine|metadata|plugins)\//.test(d.resolved)) continue;
        const [a, b] = [folderOf(m.source), folderOf(d.resolved)];
        if (a !== b) edges.set(a, (edges.get(a) ?? new Set()).add(b));
      }
    }
    expect(edges.get('engine/data')?.has('engine/rules')).toBe(true); // the graph is really there
    // Depth-first search for a circle between folders.
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (folder: string, trail: string[]) => {
      if (state.get(folder) === 'done') return;
      if (state.get(folder) === 'open') return void cycles.push([...trail.slice(trail.indexOf(folder)), folder].join(' → '));
      state.set(folder, 'open');
      for (const next of edges.get(folder) ?? []) visit(next, [...trail, folder]);
      state.set(folder, 'done');
    };
    for (const folder of edges.keys()) visit(folder, []);
    expect(cycles).toEqual([]);
  });
});
