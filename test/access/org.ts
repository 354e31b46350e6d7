/**
 * The sample organisation for access tests: the sales app and its roles, the demo department tree
 *   总公司 hq ─ 销售部 sales ─ 华东销售组 sales_east, 华北销售组 sales_north
 *            ├ 市场部 marketing ├ 客服部 service └ 财务部 finance
 * with one user per sample role, everyone logged in, and one account owned by each user.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadPackage } from '../../metadata/loader.js';
import { seedOrganisation } from '../../engine/auth/demo.js';
import { startEngine, type Driver, type Response, type TestEngine } from '../support/engine.js';
import type { EngineOptions } from '../../engine/engine.js';

const root = resolve(import.meta.dirname, '..', '..');

export const USERS = [
  'gm',
  'director',
  'manager_east',
  'rep_east',
  'rep_north',
  'marketing',
  'service',
  'finance',
  'admin',
] as const;
export type UserName = (typeof USERS)[number];

export interface Org {
  e: TestEngine;
  ids: Record<UserName, string>;
  tokens: Record<UserName, string>;
  passwords: Record<UserName, string>;
  departments: Record<string, string>;
  /** The account each user owns. */
  accounts: Record<UserName, any>;
  as(user: UserName, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
}

export async function startOrg(driver: Driver, apps: string[] = ['sales'], options: EngineOptions = {}): Promise<Org> {
  const e = await startEngine(driver, options);
  for (const app of apps) {
    const deployed = await e.call('POST', '/api/meta/deploy', { documents: await loadPackage(join(root, 'sample-apps', app)) });
    if (deployed.status !== 201) throw new Error(JSON.stringify(deployed.body));
  }
  // The harness already made an "admin"; the demo organisation brings its own.
  await e.data.database.db.execute(
    (await import('drizzle-orm')).sql`update "user" set username = 'harness_admin' where username = 'admin'`,
  );
  const credentials = await seedOrganisation(
    e.data,
    e.auth,
    apps.map((app) => join(root, 'sample-apps', app, 'data', 'organisation.json')).filter(existsSync),
  );
  const passwords = Object.fromEntries(credentials.map((c) => [c.username, c.password])) as Record<UserName, string>;
  const tokens = {} as Record<UserName, string>;
  for (const u of USERS) tokens[u] = await e.login(u, passwords[u]);
  const users = (await e.call('GET', '/api/data/user?limit=50')).body.data;
  const ids = Object.fromEntries(users.map((u: any) => [u.username, u.id])) as Record<UserName, string>;
  const depts = (await e.call('GET', '/api/data/department?limit=50')).body.data;
  const departments = Object.fromEntries(depts.map((d: any) => [d.code, d.id]));
  const created = await e.call(
    'POST',
    '/api/data/account',
    USERS.map((u, i) => ({
      name: `${u} 的客户`,
      region: i % 2 ? 'east' : 'north',
      grade: 'b',
      credit_limit: 1000 * (i + 1),
      owner_id: ids[u],
    })),
  );
  if (created.status !== 201) throw new Error(JSON.stringify(created.body));
  const accounts = Object.fromEntries(USERS.map((u, i) => [u, created.body.data[i]])) as Record<UserName, any>;
  return {
    e,
    ids,
    tokens,
    passwords,
    departments,
    accounts,
    as: (user, method, path, body, headers) => e.callAs(tokens[user], method, path, body, headers),
  };
}
