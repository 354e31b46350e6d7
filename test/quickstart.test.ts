/**
 * The README's quick start, as a user runs it: `npm start` with no DATABASE_URL starts on the
 * embedded database, deploys the sample sales app on first start, serves on PORT, and keeps its
 * data across restarts without redeploying.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const port = 3900 + Math.floor(Math.random() * 90);
const base = `http://127.0.0.1:${port}`;

async function start(dataDir: string): Promise<{ proc: ChildProcess; output: () => string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), DATA_DIR: dataDir };
  delete env.DATABASE_URL;
  const proc = spawn('npm', ['start'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  proc.stdout!.on('data', (d) => (output += d));
  proc.stderr!.on('data', (d) => (output += d));
  for (let i = 0; i < 120; i++) {
    try {
      if ((await fetch(`${base}/api/health`)).ok) return { proc, output: () => output };
    } catch {
      /* not up yet */
    }
    if (proc.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`npm start did not come up:\n${output}`);
}

async function stop(proc: ChildProcess) {
  const exited = new Promise((r) => proc.once('exit', r));
  process.kill(-proc.pid!, 'SIGTERM');
  await exited;
}

describe('quick start (npm start on the embedded database)', () => {
  let dataDir: string;
  afterAll(async () => {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('deploys the sample app on first start, serves it, and keeps data across a restart', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'metacrm-quickstart-'));
    const first = await start(dataDir);
    try {
      expect(first.output()).toMatch(/Deployed sample app "sales"/);
      const health = await (await fetch(`${base}/api/health`)).json();
      expect(health).toMatchObject({ status: 'ok', database: 'pglite', metadataVersion: 1 });
      const entities = (await (await fetch(`${base}/api/meta/documents?kind=entity`)).json()).data.map((d: any) => d.name).sort();
      expect(entities).toEqual(['account', 'activity', 'contact', 'lead', 'opportunity', 'product']);
      const created = await fetch(`${base}/api/data/account`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: '上海示例科技有限公司', region: 'east', grade: 'a' }),
      });
      expect(created.status).toBe(201);
      expect((await created.json()).data.archive_no).toBe('EAST-A-00001');
      const openapi = await (await fetch(`${base}/api/openapi.json`)).json();
      expect(Object.keys(openapi.paths)).toContain('/api/data/opportunity/{id}');
    } finally {
      await stop(first.proc);
    }

    const second = await start(dataDir);
    try {
      expect(second.output()).not.toMatch(/Deployed sample app/);
      const list = await (await fetch(`${base}/api/data/account?q=${encodeURIComponent('示例')}`)).json();
      expect(list.data.map((a: any) => a.archive_no)).toEqual(['EAST-A-00001']);
      expect((await (await fetch(`${base}/api/health`)).json()).metadataVersion).toBe(1);
    } finally {
      await stop(second.proc);
    }
  }, 90_000);
});
