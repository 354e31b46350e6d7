/**
 * Every sample role × every record action × every scope kind, through the HTTP API, on accounts owned
 * across the department tree. The expectations are written out per role below, from the role
 * documents' intent (sample-apps/sales/roles), not computed by the code under test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers, q } from '../support/engine.js';
import { startOrg, USERS, type Org, type UserName } from './org.js';

const SALES_TREE: UserName[] = ['director', 'manager_east', 'rep_east', 'rep_north'];
const EAST: UserName[] = ['manager_east', 'rep_east'];

/** Whose accounts each user may act on, per action ('*' = everyone's; [] = the action is not granted). */
const EXPECTED: Record<UserName, Record<'read' | 'update' | 'delete' | 'export' | 'assign' | 'share', UserName[] | '*'>> = {
  gm: { read: '*', update: '*', delete: [], export: '*', assign: '*', share: '*' },
  director: {
    read: SALES_TREE,
    update: SALES_TREE,
    delete: SALES_TREE,
    export: SALES_TREE,
    assign: SALES_TREE,
    share: SALES_TREE,
  },
  manager_east: { read: EAST, update: EAST, delete: EAST, export: EAST, assign: EAST, share: EAST },
  rep_east: {
    read: ['rep_east'],
    update: ['rep_east'],
    delete: ['rep_east'],
    export: ['rep_east'],
    assign: [],
    share: ['rep_east'],
  },
  rep_north: {
    read: ['rep_north'],
    update: ['rep_north'],
    delete: ['rep_north'],
    export: ['rep_north'],
    assign: [],
    share: ['rep_north'],
  },
  marketing: { read: '*', update: [], delete: [], export: [], assign: [], share: [] },
  service: { read: '*', update: [], delete: [], export: [], assign: [], share: [] },
  finance: { read: '*', update: '*', delete: [], export: '*', assign: [], share: [] },
  admin: { read: '*', update: '*', delete: '*', export: '*', assign: '*', share: '*' },
};
const owners = (spec: UserName[] | '*') => (spec === '*' ? [...USERS] : spec);
const granted = (spec: UserName[] | '*') => spec === '*' || spec.length > 0;

describe.each(drivers)('permission matrix on %s', (driver) => {
  let org: Org;
  beforeAll(async () => {
    org = await startOrg(driver);
  }, 120_000);
  afterAll(() => org?.e.stop());

  const ownerOf = (accountId: string) => USERS.find((u) => org.accounts[u].id === accountId);

  it.each(USERS)('%s lists, counts and reads exactly the accounts of their scope', async (user) => {
    const want = owners(EXPECTED[user].read).sort();
    const list = await org.as(
      user,
      'GET',
      `/api/data/account?limit=100&count=true&filter=${q({ in: [' 的客户', { var: 'name' }] })}`,
    );
    expect(list.status).toBe(200);
    expect(list.body.data.map((a: any) => ownerOf(a.id)).sort()).toEqual(want);
    expect(list.body.total).toBe(want.length);
    for (const owner of USERS) {
      const res = await org.as(user, 'GET', `/api/data/account/${org.accounts[owner].id}`);
      expect([owner, res.status]).toEqual([owner, want.includes(owner) ? 200 : 404]);
    }
  });

  it.each(USERS)(
    '%s updates exactly the accounts of their update scope (404 outside what they can see, 403 when seen but not editable)',
    async (user) => {
      const canUpdate = owners(EXPECTED[user].update);
      const canRead = owners(EXPECTED[user].read);
      // finance may only write credit fields; everyone else edits the phone
      const change = user === 'finance' ? { credit_rating: 'aa' } : { phone: '021-12345678' };
      for (const owner of USERS) {
        const account = (await org.e.call('GET', `/api/data/account/${org.accounts[owner].id}`)).body.data;
        const res = await org.as(user, 'PATCH', `/api/data/account/${account.id}`, { ...change, version: account.version });
        const expected = !granted(EXPECTED[user].update)
          ? 403
          : canUpdate.includes(owner)
            ? 200
            : canRead.includes(owner)
              ? 403
              : 404;
        expect([owner, res.status]).toEqual([owner, expected]);
      }
    },
  );

  it.each(USERS)('%s exports exactly the accounts of their export scope', async (user) => {
    const res = await org.as(user, 'GET', `/api/data/account/export?ids=true&filter=${q({ in: [' 的客户', { var: 'name' }] })}`);
    if (!granted(EXPECTED[user].export)) {
      expect(res.status).toBe(403);
      return;
    }
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/csv/);
    const lines = (res.body as string)
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\r\n');
    const header = lines[0].split(',');
    const idColumn = header.indexOf('ID'); // headers are labels (docs/import-export.md)
    expect(
      lines
        .slice(1)
        .map((l) => ownerOf(l.split(',')[idColumn]))
        .sort(),
    ).toEqual(owners(EXPECTED[user].export).sort());
  });

  it.each(USERS)('%s shares exactly the accounts of their share scope', async (user) => {
    for (const owner of USERS) {
      const res = await org.as(user, 'POST', `/api/data/account/${org.accounts[owner].id}/shares`, {
        user: org.ids.service,
        access: 'read',
      });
      const canRead = owners(EXPECTED[user].read).includes(owner);
      const expected = !granted(EXPECTED[user].share)
        ? 403
        : owners(EXPECTED[user].share).includes(owner)
          ? 201
          : canRead
            ? 403
            : 404;
      expect([owner, res.status]).toEqual([owner, expected]);
    }
  });

  it.each(USERS)('%s assigns exactly the accounts of their assign scope', async (user) => {
    for (const owner of USERS) {
      const account = org.accounts[owner];
      // claim it (a new owner must be in the assigner's own scope: references-and-owners.test.ts) and give it
      // straight back, so later tests still see the original owners
      const res = await org.as(user, 'POST', `/api/data/account/${account.id}/assign`, { to: org.ids[user], reason: 'matrix' });
      const canRead = owners(EXPECTED[user].read).includes(owner);
      const expected = !granted(EXPECTED[user].assign)
        ? 403
        : owners(EXPECTED[user].assign).includes(owner)
          ? 200
          : canRead
            ? 403
            : 404;
      expect([owner, res.status]).toEqual([owner, expected]);
      if (res.status === 200 && owner !== user) {
        expect(res.body.data.assigned).toBe(1);
        const back = await org.e.call('POST', `/api/data/account/${account.id}/assign`, { to: org.ids[owner] });
        expect(back.body.data.assigned).toBe(1);
      }
    }
  });

  it.each(USERS)(
    '%s deletes exactly the accounts of their delete scope, and restores them from their recycle bin',
    async (user) => {
      const created = await org.e.call(
        'POST',
        '/api/data/account',
        USERS.map((owner) => ({ name: `${user}→${owner} 待删`, region: 'east', grade: 'c', owner_id: org.ids[owner] })),
      );
      const victims = Object.fromEntries(USERS.map((owner, i) => [owner, created.body.data[i].id]));
      for (const owner of USERS) {
        const res = await org.as(user, 'DELETE', `/api/data/account/${victims[owner]}`);
        const canRead = owners(EXPECTED[user].read).includes(owner);
        const expected = !granted(EXPECTED[user].delete)
          ? 403
          : owners(EXPECTED[user].delete).includes(owner)
            ? 200
            : canRead
              ? 403
              : 404;
        expect([owner, res.status]).toEqual([owner, expected]);
      }
      if (granted(EXPECTED[user].delete)) {
        const bin = await org.as(
          user,
          'GET',
          `/api/data/account?deleted=only&limit=100&filter=${q({ in: [`${user}→`, { var: 'name' }] })}`,
        );
        const binned = owners(EXPECTED[user].delete).filter((o) => owners(EXPECTED[user].read).includes(o));
        expect(bin.body.data.length).toBe(binned.length);
        const restored = await org.as(user, 'POST', `/api/data/account/${bin.body.data[0].id}/restore`);
        expect(restored.status).toBe(200);
      }
    },
  );

  it('creates with the create scope and needs the assign right to create for someone else', async () => {
    expect(
      (await org.as('rep_east', 'POST', '/api/data/account', { name: 'rep 新客户', region: 'east', grade: 'a' })).body.data
        .owner_id,
    ).toBe(org.ids.rep_east);
    const forOther = await org.as('rep_east', 'POST', '/api/data/account', {
      name: 'rep 代建',
      region: 'east',
      grade: 'a',
      owner_id: org.ids.rep_north,
    });
    expect(forOther.status).toBe(403);
    expect(forOther.body.error.details[0].path).toBe('/owner_id');
    const manager = await org.as('manager_east', 'POST', '/api/data/account', {
      name: '经理代建',
      region: 'east',
      grade: 'a',
      owner_id: org.ids.rep_east,
    });
    expect(manager.status).toBe(201);
    expect(
      (await org.as('marketing', 'POST', '/api/data/account', { name: '市场建客户', region: 'east', grade: 'a' })).status,
    ).toBe(403);
    expect(
      (await org.as('service', 'POST', '/api/data/lead', { company: '客服建线索', status: 'new', phone: '010-1234567' })).status,
    ).toBe(403);
  });

  it('applies json-logic condition scopes: reps see their own leads and the unassigned pool, and may claim from it', async () => {
    const leads = await org.e.call('POST', '/api/data/lead', [
      { company: '公海线索', status: 'new', phone: '010-1', owner_id: null },
      { company: '赵的线索', status: 'new', phone: '010-2', owner_id: org.ids.rep_east },
      { company: '钱的线索', status: 'new', phone: '010-3', owner_id: org.ids.rep_north },
    ]);
    expect(leads.status).toBe(201);
    const [pool, east, north] = leads.body.data;
    const seen = async (user: UserName) =>
      (await org.as(user, 'GET', `/api/data/lead?limit=100`)).body.data.map((l: any) => l.company).sort();
    expect(await seen('rep_east')).toEqual(['公海线索', '赵的线索'].sort());
    expect(await seen('rep_north')).toEqual(['公海线索', '钱的线索'].sort());
    expect((await org.as('rep_east', 'GET', `/api/data/lead/${north.id}`)).status).toBe(404);
    // claiming: the assign scope is "unassigned leads only"
    expect((await org.as('rep_east', 'POST', `/api/data/lead/${pool.id}/assign`, { to: org.ids.rep_east })).status).toBe(200);
    expect(await seen('rep_north')).toEqual(['钱的线索']);
    expect((await org.as('rep_east', 'POST', `/api/data/lead/${east.id}/assign`, { to: org.ids.rep_north })).status).toBe(403);
  });

  it('refuses the metadata and user-management rights to whoever lacks them', async () => {
    expect((await org.as('director', 'POST', '/api/meta/deploy', { documents: [] })).status).toBe(403);
    expect(
      (await org.as('rep_east', 'POST', `/api/users/${org.ids.rep_north}/password`, { password: 'a-new-password-123' })).status,
    ).toBe(403);
    expect((await org.as('admin', 'POST', '/api/meta/deploy', { documents: [] })).status).toBe(200);
    const me = (await org.as('rep_east', 'GET', '/api/auth/me')).body;
    expect(me).toMatchObject({ user: { username: 'rep_east' }, roles: ['sales_rep'], system: [] });
    expect(me.permissions.account.actions.read).toEqual(['own']);
    expect(me.permissions.account.readableFields).not.toContain('credit_limit');
  });
});
