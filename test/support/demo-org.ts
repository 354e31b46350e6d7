/**
 * The demo organisation of the sample apps on a test engine: departments, heads and users from each
 * app's data/organisation.json (without the administrator, whom the test engine has already), each
 * logged in with a password of the test's own.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sql } from 'drizzle-orm';
import { expect } from 'vitest';
import { mergeOrganisations, seedOrganisation } from '../../engine/auth/demo.js';
import type { WorkflowDoc } from '../../engine/workflow/kind.js';
import { loadPackage } from '../../metadata/loader.js';
import { startEngine, type Driver, type TestEngine } from './engine.js';

export async function seedDemoOrganisation(e: TestEngine, appFolders: string[]) {
  const org = mergeOrganisations(
    await Promise.all(appFolders.map(async (a) => JSON.parse(await readFile(join(a, 'data', 'organisation.json'), 'utf8')))),
  );
  const file = join(await mkdtemp(join(tmpdir(), 'metacrm-org-')), 'organisation.json');
  await writeFile(file, JSON.stringify({ ...org, users: org.users.filter((u) => u.username !== 'admin') }));
  await seedOrganisation(e.data, e.auth, [file]);
  const users = await e.database.rows<{ id: string; username: string }>(
    sql`select id, username from "user" where username <> 'admin'`,
  );
  const ids: Record<string, string> = {};
  const tokens: Record<string, string> = {};
  for (const u of users) {
    ids[u.username] = u.id;
    await e.auth.setPassword(u.id, `${u.username}-test-password`);
    tokens[u.username] = await e.login(u.username, `${u.username}-test-password`);
  }
  return { ids, tokens };
}

/**
 * The three sample apps deployed on a fresh test engine with their demo organisation, and the calls the
 * process tests share: as a demo user, read a record, create one (asserting 201).
 */
export async function startSampleApps(driver: Driver) {
  const root = resolve(import.meta.dirname, '..', '..');
  const apps = ['sales', 'finance', 'service'].map((a) => join(root, 'sample-apps', a));
  const e = await startEngine(driver);
  const workflows: WorkflowDoc[] = [];
  for (const folder of apps) {
    const docs = await loadPackage(folder);
    workflows.push(...(docs.filter((d: any) => d.kind === 'workflow') as WorkflowDoc[]));
    const res = await e.call('POST', '/api/meta/deploy', { documents: docs });
    if (res.status !== 201) throw new Error(`deploy of ${folder}: ${JSON.stringify(res.body)}`);
  }
  const { ids, tokens } = await seedDemoOrganisation(e, apps);
  const as = (user: string, method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
    e.callAs(tokens[user]!, method, path, body, headers);
  const get = async (entity: string, id: string) => (await e.call('GET', `/api/data/${entity}/${id}`)).body.data;
  const created = async (user: string, entity: string, body: unknown) => {
    const res = await as(user, 'POST', `/api/data/${entity}`, body);
    expect([entity, res.status, res.body.error]).toEqual([entity, 201, undefined]);
    return res.body.data;
  };
  return { e, ids, tokens, workflows, as, get, created };
}
