/**
 * Builds the runtime UI when its build is missing or older than its sources, so `npm start` (prestart)
 * and the browser tests always serve the current UI without a separate step. `--force` rebuilds anyway.
 * Each asset also gets a .gz twin, which the server sends to browsers that accept gzip.
 */
import { readdirSync, statSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { spawn } from 'node:child_process';

const here = import.meta.dirname;
const dist = join(here, 'dist');

/**
 * Whether the build is missing or older than any of its inputs: every source file the last build bundled
 * (recorded by the Vite config's recordInputs: runtime-ui/src, plugins' ui.tsx and operations.ts, the
 * engine's shared rules), the folders holding them and the plugins folder (a new file there, e.g. a new
 * plugin's widget, changes the folder), the build's own configuration and the package lock. A recorded
 * file that is gone, or no record at all, means stale too.
 */
export function isStale(distDir = dist, root = join(here, '..'), inputsFile = join(here, '.inputs.json')): boolean {
  const built = join(distDir, 'index.html');
  if (!existsSync(built) || !existsSync(inputsFile)) return true;
  const inputs = (JSON.parse(readFileSync(inputsFile, 'utf8')) as string[]).map((f) => join(root, f));
  if (inputs.some((f) => !existsSync(f))) return true;
  const folders = new Set([...inputs.map((f) => dirname(f)), join(root, 'plugins')]);
  const fixed = ['index.html', 'vite.config.ts', 'build.ts'].map((f) => join(here, f)).concat(join(root, 'package-lock.json'));
  const newestInput = Math.max(...[...inputs, ...folders, ...fixed].filter(existsSync).map((f) => statSync(f).mtimeMs));
  return newestInput > statSync(built).mtimeMs;
}

export async function buildUi(): Promise<void> {
  // Vite is loaded only to build: `npm start` imports this module for isStale and ensureBuilt.
  const { build } = await import('vite');
  await build({ configFile: join(here, 'vite.config.ts'), logLevel: 'warn' });
  const assets = join(dist, 'assets');
  for (const file of readdirSync(assets)) {
    if (!/\.(js|css|svg)$/.test(file)) continue;
    writeFileSync(join(assets, `${file}.gz`), gzipSync(readFileSync(join(assets, file)), { level: 9 }));
  }
}

/**
 * Builds in a process of its own with NODE_ENV=production: inside a test runner (NODE_ENV=test) Vite
 * would otherwise bundle React's and antd's development builds. The caller goes on meanwhile (`npm start`
 * starts the database and loads the demo data on the other core); a caller that exits takes the build
 * with it.
 */
export async function ensureBuilt(force = false): Promise<void> {
  if (!force && !isStale()) return;
  const cli = join(here, '..', 'node_modules', 'tsx', 'dist', 'cli.mjs');
  const run = spawn(process.execPath, [cli, import.meta.filename, '--force'], { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'production' } });
  const stop = () => run.exitCode === null && run.kill();
  process.on('exit', stop);
  const code = await new Promise<number | null>((done) => run.on('exit', done));
  process.off('exit', stop);
  if (code !== 0) throw new Error(`Building the web UI failed (exit ${code})`);
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  if (!process.argv.includes('--force') && !isStale()) process.exit(0);
  process.env.NODE_ENV = 'production';
  const started = Date.now();
  console.log('Building the web UI (runtime-ui) …');
  await buildUi();
  console.log(`Web UI built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
