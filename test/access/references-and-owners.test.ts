/**
 * References and owners inside the caller's scopes (issue 11, items 3 and 5): a reference may only point
 * at a record the caller may read — with the same answer for "not yours" and "does not exist" — and a
 * record may only be handed to someone the caller may assign to, on create, update and assign alike.
 * A restrict delete blocked by records the deleter cannot see says so without naming them.
 */
import { join, resolve } from 'node:path';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPackage } from '../../metadata/loader.js';
import { seedOrganisation } from '../../engine/auth/demo.js';
import { drivers, startEngine, type TestEngine } from '../support/engine.js';

const root = resolve(import.meta.dirname, '..', '..');

describe.each(drivers)('references and owners on %s', (driver) => {
  let e: TestEngine;
  const tokens: Record<string, string> = {};
  const ids: Record<string, string> = {};
  let northAccount: any;
  beforeAll(async () => {
    e = await startEngine(driver);
    expect(
      (await e.call('POST', '/api/meta/deploy', { documents: await loadPackage(join(root, 'sample-apps', 'sales')) })).status,
    ).toBe(201);
    const organisation = JSON.parse(await readFile(join(root, 'sample-apps', 'sales', 'data', 'organisation.json'), 'utf8'));
    organisation.users = organisation.users.filter((u: { username: string }) => u.username !== 'admin');
    const file = join(await mkdtemp(join(tmpdir(), 'org-')), 'organisation.json');
    await writeFile(file, JSON.stringify(organisation));
    for (const c of await seedOrganisation(e.data, e.auth, [file])) tokens[c.username] = await e.login(c.username, c.password);
    for (const u of (await e.call('GET', '/api/data/user?limit=50')).body.data) ids[u.username] = u.id;
    const made = await e.callAs(tokens.rep_north, 'POST', '/api/data/account', { name: '北方客户', region: 'north', grade: 'a' });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    northAccount = made.body.data;
  }, 180_000); // seeding users (scrypt) and deploying a sample app: slow on a busy machine
  afterAll(() => e?.stop());

  const as = (user: string, method: string, path: string, body?: unknown) => e.callAs(tokens[user], method, path, body);

  it('refuses a reference to a record the caller may not read, as if it did not exist', async () => {
    const foreign = await as('rep_east', 'POST', '/api/data/opportunity', {
      title: '越界商机',
      account: northAccount.id,
      opportunity_type: 'project',
    });
    const missing = await as('rep_east', 'POST', '/api/data/opportunity', {
      title: '越界商机',
      account: '01900000-0000-7000-8000-000000000000',
      opportunity_type: 'project',
    });
    expect([foreign.status, foreign.body.error.details[0].path, foreign.body.error.details[0].code]).toEqual([
      422,
      '/account',
      'invalid_reference',
    ]);
    // the same answer, but for the id itself
    expect(foreign.body.error.details[0].message.replace(northAccount.id, 'ID')).toBe(
      missing.body.error.details[0].message.replace('01900000-0000-7000-8000-000000000000', 'ID'),
    );
    const own = (await as('rep_east', 'POST', '/api/data/account', { name: '东方客户', region: 'east', grade: 'b' })).body.data;
    const opp = await as('rep_east', 'POST', '/api/data/opportunity', {
      title: '本人商机',
      account: own.id,
      opportunity_type: 'project',
    });
    expect(opp.status).toBe(201);
    const patched = await as('rep_east', 'PATCH', `/api/data/opportunity/${opp.body.data.id}`, {
      account: northAccount.id,
      version: opp.body.data.version,
    });
    expect([patched.status, patched.body.error.details[0].path]).toEqual([422, '/account']);
  });

  it('checks only the references an update moves: one sent back unchanged stands though the caller cannot read it', async () => {
    // An administrator links rep_east's opportunity to rep_north's account, which rep_east cannot read.
    const linked = await e.call('POST', '/api/data/opportunity', {
      title: '跨区商机',
      account: northAccount.id,
      opportunity_type: 'project',
      owner_id: ids.rep_east,
    });
    expect(linked.status).toBe(201);
    // rep_east edits the title, the form sending the account back as it was: the edit goes through.
    const edited = await as('rep_east', 'PATCH', `/api/data/opportunity/${linked.body.data.id}`, {
      title: '跨区商机（已更新）',
      account: northAccount.id,
      version: linked.body.data.version,
    });
    expect([edited.status, edited.body.data?.title]).toEqual([200, '跨区商机（已更新）']);
    // Moving it to a record the rep cannot read is still refused at the field, nothing written.
    const hidden = (await e.call('POST', '/api/data/account', { name: '北方二号', region: 'north', owner_id: ids.rep_north }))
      .body.data;
    const moved = await as('rep_east', 'PATCH', `/api/data/opportunity/${linked.body.data.id}`, {
      account: hidden.id,
      version: edited.body.data.version,
    });
    expect([moved.status, moved.body.error.details[0].path, moved.body.error.details[0].code]).toEqual([
      422,
      '/account',
      'invalid_reference',
    ]);
    expect((await e.call('GET', `/api/data/opportunity/${linked.body.data.id}`)).body.data.account).toBe(northAccount.id);
  });

  it('keeps restrict deletes whole, without naming records the deleter cannot see', async () => {
    // An administrator links a rep_east opportunity to rep_north's account: rep_north cannot see it.
    const hidden = await e.call('POST', '/api/data/opportunity', {
      title: '隐藏的商机',
      account: northAccount.id,
      opportunity_type: 'project',
      owner_id: ids.rep_east,
    });
    expect(hidden.status).toBe(201);
    const res = await as('rep_north', 'DELETE', `/api/data/account/${northAccount.id}`);
    expect([res.status, res.body.error.code]).toEqual([409, 'delete_restricted']);
    expect(res.body.error.message).toMatch(/^Records you cannot see still refer/);
    expect(JSON.stringify(res.body)).not.toContain(hidden.body.data.id);
    expect(JSON.stringify(res.body)).not.toContain('隐藏的商机');
  });

  it("hands records only to owners within the caller's assign scope: on assign, create and update", async () => {
    const pool = (
      await e.call('POST', '/api/data/lead', {
        company: '线索公司',
        contact_name: '王先生',
        mobile: '13800000000',
        owner_id: null,
      })
    ).body.data;
    expect(pool.owner_id).toBeNull();
    const handed = await as('rep_east', 'POST', `/api/data/lead/${pool.id}/assign`, { to: ids.rep_north });
    expect([handed.status, handed.body.error.code, handed.body.error.details[0].path]).toEqual([
      403,
      'outside_assign_scope',
      '/to',
    ]);
    expect((await e.call('GET', `/api/data/lead/${pool.id}`)).body.data.owner_id).toBeNull(); // nothing written
    expect((await as('rep_east', 'POST', `/api/data/lead/${pool.id}/assign`, { to: ids.rep_east })).status).toBe(200); // claiming is fine

    const forDirector = await as('rep_east', 'POST', '/api/data/lead', {
      company: '送给总监',
      contact_name: '李女士',
      mobile: '13900000000',
      owner_id: ids.director,
    });
    expect([forDirector.status, forDirector.body.error.code]).toEqual([
      403,
      expect.stringMatching(/assign_required|outside_assign_scope/),
    ]);

    // a manager assigns within the department, not outside it
    const acc = (await as('manager_east', 'POST', '/api/data/account', { name: '部门客户', region: 'east', grade: 'a' })).body
      .data;
    expect((await as('manager_east', 'POST', `/api/data/account/${acc.id}/assign`, { to: ids.rep_east })).status).toBe(200);
    const out = await as('manager_east', 'POST', `/api/data/account/${acc.id}/assign`, { to: ids.rep_north });
    expect([out.status, out.body.error.code]).toEqual([403, 'outside_assign_scope']);
    const current = (await as('manager_east', 'GET', `/api/data/account/${acc.id}`)).body.data;
    const patch = await as('manager_east', 'PATCH', `/api/data/account/${acc.id}`, {
      owner_id: ids.rep_north,
      version: current.version,
    });
    expect([patch.status, patch.body.error.code]).toEqual([403, 'outside_assign_scope']);
  });
});
