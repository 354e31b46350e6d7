/**
 * End users read the metadata their UI needs, not the security model or the deployments' plans
 * (issue 11, item 8); those who deploy still read everything.
 */
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPackage } from '../../metadata/loader.js';
import { drivers, startEngine, type TestEngine } from '../support/engine.js';

const root = resolve(import.meta.dirname, '..', '..');

describe.each(drivers)('metadata visibility on %s', (driver) => {
  let e: TestEngine;
  let rep: string;
  beforeAll(async () => {
    e = await startEngine(driver);
    expect(
      (await e.call('POST', '/api/meta/deploy', { documents: await loadPackage(join(root, 'sample-apps', 'sales')) })).status,
    ).toBe(201);
    const u = await e.createUser({ username: 'rep', display_name: 'Rep', roles: ['sales_rep'], password: 'rep password 123' });
    rep = await e.login('rep', u.password);
  }, 180_000); // seeding users (scrypt) and deploying a sample app: slow on a busy machine
  afterAll(() => e?.stop());

  it("gives a sales rep the UI's metadata only", async () => {
    const all = await e.callAs(rep, 'GET', '/api/meta/documents');
    expect(all.status).toBe(200);
    const kinds = new Set(all.body.data.map((d: any) => d.kind));
    expect(kinds.has('entity') && kinds.has('dictionary') && kinds.has('workflow')).toBe(true);
    for (const hidden of ['role', 'automation', 'template']) expect(kinds.has(hidden), hidden).toBe(false);
    expect(JSON.stringify(all.body)).not.toContain('"grants"');
    for (const path of [
      '/api/meta/documents?kind=role',
      '/api/meta/documents/role/sales_rep',
      '/api/meta/deployments',
      '/api/meta/documents/entity/account/versions',
    ]) {
      const res = await e.callAs(rep, 'GET', path);
      expect([path, res.status, res.body.error.code]).toEqual([path, 403, 'forbidden']);
    }
    expect((await e.callAs(rep, 'GET', '/api/meta/documents/entity/account')).status).toBe(200);
    // their own permissions come from /api/auth/me
    expect((await e.callAs(rep, 'GET', '/api/auth/me')).body.permissions.account).toBeDefined();
  });

  it('gives those who deploy everything', async () => {
    const kinds = new Set((await e.call('GET', '/api/meta/documents')).body.data.map((d: any) => d.kind));
    for (const kind of ['role', 'automation', 'template', 'entity']) expect(kinds.has(kind), kind).toBe(true);
    expect((await e.call('GET', '/api/meta/documents/role/sales_rep')).body.grants).toBeDefined();
    expect((await e.call('GET', '/api/meta/deployments')).body.data[0].version).toBeGreaterThan(1);
  });
});
