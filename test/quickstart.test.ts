/**
 * The README's quick start, as a user runs it: `npm start` with no DATABASE_URL starts on the
 * embedded database, deploys the sample sales app on first start, serves on PORT, refuses a second
 * start on the same data while it runs, and keeps its data across restarts without redeploying.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const port = 3900 + Math.floor(Math.random() * 90);
const base = `http://127.0.0.1:${port}`;

async function start(dataDir: string): Promise<{ proc: ChildProcess; output: () => string }> {
  // Demo data is tested in test/seed; here the lists start empty.
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), DATA_DIR: dataDir, SEED_DEMO_DATA: '0' };
  delete env.DATABASE_URL;
  const proc = spawn('npm', ['start'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  proc.stdout!.on('data', (d) => (output += d));
  proc.stderr!.on('data', (d) => (output += d));
  // Three sample apps to deploy on a shared, busy machine: allow 90 s. Up means this process said
  // so: a health answer alone could come from the previous server while it is still shutting down.
  for (let i = 0; i < 360; i++) {
    try {
      const listening = output.includes(`listening on http://localhost:${port}`);
      if (listening && (await fetch(`${base}/api/health`)).ok) return { proc, output: () => output };
    } catch {
      /* not up yet */
    }
    if (proc.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`npm start did not come up:\n${output}`);
}

async function waitFor(check: () => boolean) {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 50));
}

async function stop(proc: ChildProcess) {
  const exited = new Promise((r) => proc.once('exit', r));
  process.kill(-proc.pid!, 'SIGTERM');
  await exited;
  // npm may exit before the server it started has let go of the port.
  for (let i = 0; i < 200; i++) {
    try {
      await fetch(`${base}/api/health`);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('quick start (npm start on the embedded database)', () => {
  let dataDir: string;
  afterAll(async () => {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const login = async (username: string, password: string) => {
    const res = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    expect(res.status).toBe(200);
    return { authorization: `Bearer ${(await res.json()).token}` };
  };

  it('deploys the sample app and demo users on first start, serves it, and keeps data across a restart', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'metacrm-quickstart-'));
    const first = await start(dataDir);
    let rep: Record<string, string>;
    try {
      expect(first.output()).toMatch(/Deployed sample app "sales"/);
      expect(first.output()).toMatch(/Deployed sample app "finance"/);
      expect(first.output()).toMatch(/Deployed sample app "service"/);
      const health = await (await fetch(`${base}/api/health`)).json();
      expect(health).toMatchObject({ status: 'ok', database: 'pglite', metadataVersion: 4 });
      expect((await fetch(`${base}/api/data/account`)).status).toBe(401);

      // one demo user per sample role, with the password printed once (and kept in the data folder)
      await waitFor(() => /rep_east\s+(\S+)/.test(first.output()));
      const credentials = Object.fromEntries(
        [...first.output().matchAll(/^(\w+)\s+(\S{12})\s+([\w, ]+)$/gm)].map((m) => [m[1], m[2]]),
      );
      expect(Object.keys(credentials).sort()).toEqual([
        'admin',
        'director',
        'engineer',
        'finance',
        'gm',
        'manager_east',
        'marketing',
        'rep_east',
        'rep_north',
        'service',
        'service_dir',
        'service_mgr',
      ]);
      expect(await readFile(join(dataDir, 'demo-users.txt'), 'utf8')).toContain(credentials.rep_east);

      rep = await login('rep_east', credentials.rep_east);
      const entities = (await (await fetch(`${base}/api/meta/documents?kind=entity`, { headers: rep })).json()).data
        .map((d: any) => d.name)
        .sort();
      // Every entity document of the three sample apps is deployed, beside the built-in user and department.
      const shipped = (
        await Promise.all(['sales', 'finance', 'service'].map((app) => readdir(join(root, 'sample-apps', app, 'entities'))))
      )
        .flat()
        .map((f) => f.replace(/\.json$/, ''));
      expect(shipped.length).toBeGreaterThan(40);
      expect(entities).toEqual([...shipped, 'department', 'user'].sort());
      const created = await fetch(`${base}/api/data/account`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...rep },
        body: JSON.stringify({ name: '上海示例科技有限公司', region: 'east', grade: 'a' }),
      });
      expect(created.status).toBe(201);
      const account = (await created.json()).data;
      expect(account.archive_no).toBe('EAST-A-00001');
      expect(account).not.toHaveProperty('credit_limit'); // finance's business, not the rep's
      // The finance sample works with the demo organisation: the rep's claim reaches the rep's manager.
      const post = (path: string, body: unknown, headers: Record<string, string>) =>
        fetch(`${base}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify(body),
        });
      const claim = (
        await (
          await post(
            '/api/data/expense_claim',
            { title: '差旅', expense_type: 'travel', amount: 320, expense_date: '2026-11-20', receipts: 1 },
            rep,
          )
        ).json()
      ).data;
      expect((await post(`/api/data/expense_claim/${claim.id}/approval/submit`, {}, rep)).status).toBe(200);
      const manager = await login('manager_east', credentials.manager_east);
      const inbox = (await (await fetch(`${base}/api/approvals/inbox`, { headers: manager })).json()).data;
      expect(inbox.map((t: any) => [t.recordId, t.step])).toEqual([[claim.id, 'manager']]);
      const openapi = await (await fetch(`${base}/api/openapi.json`, { headers: rep })).json();
      expect(Object.keys(openapi.paths)).toContain('/api/data/opportunity/{id}');
      // A second start on the same data, while this one runs, would damage the embedded database: refused.
      const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port + 100), DATA_DIR: dataDir };
      delete env.DATABASE_URL;
      // Run without blocking this process: a synchronous spawn held the event loop for the whole start,
      // and the first server closed the idle keep-alive connection that the next fetch then reused.
      const refused = await new Promise<{ status: number | null; stderr: string }>((done) => {
        const second = spawn(process.execPath, ['--import', 'tsx', 'engine/main.ts'], { cwd: root, env });
        let stderr = '';
        second.stderr.on('data', (d) => (stderr += d));
        second.on('close', (status) => done({ status, stderr }));
      });
      expect(refused.status).toBe(1);
      expect(refused.stderr).toMatch(/The embedded database in .* is in use by process \d+/);
      expect((await fetch(`${base}/api/health`)).ok).toBe(true);
    } finally {
      await stop(first.proc);
    }

    const second = await start(dataDir);
    try {
      expect(second.output()).not.toMatch(/Deployed sample app/);
      expect(second.output()).toMatch(/Demo users and their passwords: .*demo-users\.txt/);
      const list = await (await fetch(`${base}/api/data/account?q=${encodeURIComponent('示例')}`, { headers: rep! })).json();
      expect(list.data.map((a: any) => a.name)).toEqual(['上海示例科技有限公司']);
      expect((await (await fetch(`${base}/api/health`)).json()).metadataVersion).toBe(4);
    } finally {
      await stop(second.proc);
    }
  }, 300_000); // two starts, each deploying three sample apps, on a busy shared machine
});
