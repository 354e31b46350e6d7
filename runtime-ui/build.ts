/**
 * Builds the runtime UI when its build is missing or older than its sources, so `npm start` (prestart)
 * and the browser tests always serve the current UI without a separate step. `--force` rebuilds anyway.
 * Each asset also gets a .gz twin, which the server sends to browsers that accept gzip.
 */
import { readdirSync, statSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { build } from 'vite';

const here = import.meta.dirname;
const dist = join(here, 'dist');
const stamp = join(dist, 'index.html');

function newest(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(path).map((f) => newest(join(path, f))));
}

export function isStale(): boolean {
  if (!existsSync(stamp)) return true;
  const sources = [join(here, 'src'), join(here, 'index.html'), join(here, 'vite.config.ts'), join(here, '..', 'package-lock.json')];
  return Math.max(...sources.filter(existsSync).map(newest)) > statSync(stamp).mtimeMs;
}

export async function buildUi(): Promise<void> {
  await build({ configFile: join(here, 'vite.config.ts'), logLevel: 'warn' });
  const assets = join(dist, 'assets');
  for (const file of readdirSync(assets)) {
    if (!/\.(js|css|svg)$/.test(file)) continue;
    writeFileSync(join(assets, `${file}.gz`), gzipSync(readFileSync(join(assets, file)), { level: 9 }));
  }
}

/**
 * Builds in a process of its own with NODE_ENV=production: inside a test runner (NODE_ENV=test) Vite
 * would otherwise bundle React's and antd's development builds.
 */
export async function ensureBuilt(force = false): Promise<void> {
  if (!force && !isStale()) return;
  const cli = join(here, '..', 'node_modules', 'tsx', 'dist', 'cli.mjs');
  const run = spawnSync(process.execPath, [cli, import.meta.filename, '--force'], { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'production' } });
  if (run.status !== 0) throw new Error(`Building the web UI failed (exit ${run.status})`);
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  if (!process.argv.includes('--force') && !isStale()) process.exit(0);
  process.env.NODE_ENV = 'production';
  const started = Date.now();
  console.log('Building the web UI (runtime-ui) …');
  await buildUi();
  console.log(`Web UI built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
