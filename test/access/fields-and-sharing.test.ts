import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers, q } from '../support/engine.js';
import { startOrg, type Org } from './org.js';

describe.each(drivers)('field-level permissions, sharing, assignment and delegation on %s', (driver) => {
  let org: Org;
  let opp: any;
  beforeAll(async () => {
    org = await startOrg(driver);
    opp = (
      await org.as('rep_east', 'POST', '/api/data/opportunity', {
        title: '赵的商机',
        account: org.accounts.rep_east.id,
        opportunity_type: 'project',
        amount: 50000,
        probability: 40,
      })
    ).body.data;
  }, 120_000);
  afterAll(() => org?.e.stop());

  describe('fields', () => {
    it('leaves unreadable fields out of every response: get, list, expand, export and history', async () => {
      const id = org.accounts.rep_east.id;
      const get = (await org.as('rep_east', 'GET', `/api/data/account/${id}`)).body.data;
      expect(get.name).toBe('rep_east 的客户');
      expect(get).not.toHaveProperty('credit_limit');
      expect(get).not.toHaveProperty('credit_rating');
      const list = (await org.as('rep_east', 'GET', '/api/data/account')).body.data;
      expect(list.every((a: any) => !('credit_limit' in a))).toBe(true);
      const expanded = (await org.as('rep_east', 'GET', `/api/data/opportunity/${opp.id}?expand=account`)).body.data;
      expect(expanded.account.name).toBe('rep_east 的客户');
      expect(expanded.account).not.toHaveProperty('credit_limit');
      const csv = (await org.as('rep_east', 'GET', '/api/data/account/export')).body as string;
      expect(csv.split('\r\n')[0]).not.toContain('Credit limit');
      expect(csv).not.toContain(String(org.accounts.rep_east.credit_limit));
      await org.e.call('PATCH', `/api/data/account/${id}`, {
        credit_limit: 777777,
        version: (await org.e.call('GET', `/api/data/account/${id}`)).body.data.version,
      });
      const history = (await org.as('rep_east', 'GET', `/api/data/account/${id}/history`)).body.data;
      expect(JSON.stringify(history)).not.toContain('777777');
      expect(JSON.stringify((await org.as('finance', 'GET', `/api/data/account/${id}/history`)).body.data)).toContain('777777');
      // marketing reads only a few opportunity fields
      const m = (await org.as('marketing', 'GET', `/api/data/opportunity/${opp.id}`)).body.data;
      expect(
        Object.keys(m)
          .filter(
            (k) =>
              !['id', 'created_at', 'created_by', 'updated_at', 'updated_by', 'owner_id', 'version', 'deleted_at'].includes(k),
          )
          .sort(),
      ).toEqual(['account', 'amount', 'campaign', 'expected_close_date', 'opportunity_type', 'source', 'stage', 'title']);
    });

    it('refuses filtering, sorting, selecting, searching-by-name and expanding an unreadable field', async () => {
      const cases = [
        [`filter=${q({ '>': [{ var: 'credit_limit' }, 0] })}`, '/query/filter'],
        ['sort=-credit_limit', '/query/sort'],
        ['fields=name,credit_rating', '/query/fields'],
      ];
      for (const [query, path] of cases) {
        const res = await org.as('rep_east', 'GET', `/api/data/account?${query}`);
        expect([query, res.status, res.body.error.code]).toEqual([query, 403, 'field_not_readable']);
        expect(res.body.error.details[0].path).toBe(path);
      }
      const expand = await org.as('marketing', 'GET', `/api/data/opportunity?expand=contact`);
      expect(expand.status).toBe(403);
      // a search never matches on a field the caller can't read
      await org.e.call('PATCH', `/api/data/account/${org.accounts.rep_east.id}`, {
        notes: 'secret-word',
        version: (await org.e.call('GET', `/api/data/account/${org.accounts.rep_east.id}`)).body.data.version,
      });
      expect((await org.as('service', 'GET', `/api/data/account?q=secret-word`)).body.data).toEqual([]);
    });

    it('refuses writing a field the role may not write, naming it, and writes nothing', async () => {
      const account = (await org.e.call('GET', `/api/data/account/${org.accounts.rep_east.id}`)).body.data;
      const rep = await org.as('rep_east', 'PATCH', `/api/data/account/${account.id}`, {
        credit_limit: 9,
        phone: '123456',
        version: account.version,
      });
      expect(rep.status).toBe(403);
      expect(rep.body.error).toMatchObject({ code: 'field_not_writable', details: [{ path: '/credit_limit' }] });
      const fin = await org.as('finance', 'PATCH', `/api/data/account/${account.id}`, { name: '改名', version: account.version });
      expect(fin.status).toBe(403);
      expect(fin.body.error.details[0].path).toBe('/name');
      const ok = await org.as('finance', 'PATCH', `/api/data/account/${account.id}`, {
        credit_limit: 88000,
        version: account.version,
      });
      expect(ok.status).toBe(200);
      expect(ok.body.data.credit_limit).toBe(88000);
      expect(ok.body.data).not.toHaveProperty('notes'); // finance can't read notes, even in its own write's response
      const create = await org.as('rep_east', 'POST', '/api/data/account', {
        name: '带额度',
        region: 'east',
        grade: 'a',
        credit_limit: 5,
      });
      expect(create.status).toBe(403);
      expect(create.body.error.details[0].path).toBe('/credit_limit');
    });
  });

  describe('sharing', () => {
    it('lets a user read, then edit, a record shared with them, and stops when unshared', async () => {
      const id = org.accounts.rep_east.id;
      expect((await org.as('rep_north', 'GET', `/api/data/account/${id}`)).status).toBe(404);
      const share = await org.as('rep_east', 'POST', `/api/data/account/${id}/shares`, {
        user: org.ids.rep_north,
        access: 'read',
      });
      expect(share.status).toBe(201);
      const seen = await org.as('rep_north', 'GET', `/api/data/account/${id}`);
      expect(seen.status).toBe(200);
      expect(
        (await org.as('rep_north', 'PATCH', `/api/data/account/${id}`, { phone: '1234567', version: seen.body.data.version }))
          .status,
      ).toBe(403);
      await org.as('rep_east', 'POST', `/api/data/account/${id}/shares`, { user: org.ids.rep_north, access: 'edit' });
      const edited = await org.as('rep_north', 'PATCH', `/api/data/account/${id}`, {
        phone: '7654321',
        version: seen.body.data.version,
      });
      expect(edited.status).toBe(200);
      const shares = (await org.as('rep_east', 'GET', `/api/data/account/${id}/shares`)).body.data;
      expect(shares).toMatchObject([{ user: org.ids.rep_north, access: 'edit' }]);
      expect((await org.as('rep_east', 'DELETE', `/api/data/account/${id}/shares/${shares[0].id}`)).status).toBe(200);
      expect((await org.as('rep_north', 'GET', `/api/data/account/${id}`)).status).toBe(404);
    });

    it('shares with a whole department', async () => {
      const id = org.accounts.rep_north.id;
      expect((await org.as('service', 'GET', `/api/data/opportunity?limit=1`)).status).toBe(403);
      await org.as('rep_north', 'POST', `/api/data/account/${id}/shares`, {
        department: org.departments.sales_east,
        access: 'read',
      });
      expect((await org.as('rep_east', 'GET', `/api/data/account/${id}`)).status).toBe(200);
      expect((await org.as('manager_east', 'GET', `/api/data/account/${id}`)).status).toBe(200);
      expect((await org.as('gm', 'GET', `/api/data/account/${id}`)).status).toBe(200); // gm sees all anyway
      expect(
        (
          await org.as('rep_north', 'POST', `/api/data/account/${id}/shares`, {
            user: org.ids.rep_east,
            department: org.departments.sales_east,
            access: 'read',
          })
        ).status,
      ).toBe(400);
      expect(
        (await org.as('rep_north', 'POST', `/api/data/account/${id}/shares`, { user: org.ids.rep_east, access: 'write' })).status,
      ).toBe(400);
    });
  });

  describe('assignment, transfer, delegation and hand-over', () => {
    it('transfers all of one rep’s customers in bulk, with an assignment log', async () => {
      const made = await org.e.call(
        'POST',
        '/api/data/account',
        [1, 2, 3].map((i) => ({ name: `转移客户 ${i}`, region: 'east', grade: 'c', owner_id: org.ids.rep_east })),
      );
      const ids = made.body.data.map((a: any) => a.id);
      const res = await org.as('manager_east', 'POST', '/api/data/account/assign', {
        from: org.ids.rep_east,
        to: org.ids.manager_east,
        filter: { in: ['转移客户', { var: 'name' }] },
        reason: '调岗',
      });
      expect(res.status).toBe(200);
      expect(res.body.data.assigned).toBe(3);
      for (const id of ids) expect((await org.as('rep_east', 'GET', `/api/data/account/${id}`)).status).toBe(404);
      const log = (await org.as('manager_east', 'GET', `/api/data/account/${ids[0]}/assignments`)).body.data;
      expect(log).toMatchObject([
        { from_owner: org.ids.rep_east, to_owner: org.ids.manager_east, actor: org.ids.manager_east, reason: '调岗' },
      ]);
      // a manager can't move another team's records, even in bulk: they are simply outside the scope
      const other = await org.as('manager_east', 'POST', '/api/data/account/assign', {
        from: org.ids.rep_north,
        to: org.ids.manager_east,
      });
      expect(other.body.data.assigned).toBe(0);
      expect((await org.as('manager_east', 'POST', '/api/data/account/assign', { to: org.ids.rep_east })).status).toBe(400);
      expect(
        (
          await org.as('manager_east', 'POST', `/api/data/account/${ids[0]}/assign`, {
            to: '01900000-0000-7000-8000-000000000000',
          })
        ).status,
      ).toBe(422);
    });

    it('lets a delegate act with everything the delegator could, for the period only', async () => {
      const northAccount = (
        await org.as('rep_north', 'POST', '/api/data/account', { name: '钱的新客户', region: 'north', grade: 'b' })
      ).body.data.id;
      expect((await org.as('rep_east', 'GET', `/api/data/account/${northAccount}`)).status).toBe(404);
      const now = Date.now();
      const d = await org.as('rep_north', 'POST', '/api/delegations', {
        delegate: org.ids.rep_east,
        startsAt: new Date(now - 60_000).toISOString(),
        endsAt: new Date(now + 3600_000).toISOString(),
      });
      expect(d.status).toBe(201);
      const seen = await org.as('rep_east', 'GET', `/api/data/account/${northAccount}`);
      expect(seen.status).toBe(200);
      expect(
        (
          await org.as('rep_east', 'PATCH', `/api/data/account/${northAccount}`, {
            phone: '88888888',
            version: seen.body.data.version,
          })
        ).status,
      ).toBe(200);
      expect((await org.as('rep_east', 'GET', '/api/auth/me')).body.actingFor).toEqual([org.ids.rep_north]);
      // someone else's work can only be delegated by a user manager
      expect(
        (
          await org.as('rep_east', 'POST', '/api/delegations', {
            delegator: org.ids.rep_north,
            delegate: org.ids.service,
            startsAt: new Date(now).toISOString(),
            endsAt: new Date(now + 1000).toISOString(),
          })
        ).status,
      ).toBe(403);
      expect(
        (
          await org.as('rep_north', 'POST', '/api/delegations', {
            delegate: org.ids.rep_east,
            startsAt: new Date(now).toISOString(),
            endsAt: new Date(now - 1000).toISOString(),
          })
        ).status,
      ).toBe(400);
      expect((await org.as('rep_north', 'DELETE', `/api/delegations/${d.body.data.id}`)).status).toBe(200);
      expect((await org.as('rep_east', 'GET', `/api/data/account/${northAccount}`)).status).toBe(404);
      // a future delegation grants nothing yet
      await org.as('rep_north', 'POST', '/api/delegations', {
        delegate: org.ids.rep_east,
        startsAt: new Date(now + 3600_000).toISOString(),
        endsAt: new Date(now + 7200_000).toISOString(),
      });
      expect((await org.as('rep_east', 'GET', `/api/data/account/${northAccount}`)).status).toBe(404);
    });

    it('hands a leaving rep’s records over for good', async () => {
      const before = (await org.as('rep_north', 'GET', '/api/data/account?limit=100')).body.data.filter(
        (a: any) => a.owner_id === org.ids.rep_north,
      ).length;
      expect(before).toBeGreaterThan(0);
      expect(
        (await org.as('manager_east', 'POST', `/api/users/${org.ids.rep_north}/handover`, { to: org.ids.rep_east })).status,
      ).toBe(403);
      const res = await org.as('admin', 'POST', `/api/users/${org.ids.rep_north}/handover`, {
        to: org.ids.rep_east,
        reason: '离职交接',
      });
      expect(res.status).toBe(200);
      expect(res.body.data.reassigned.account).toBe(before);
      const mine = await org.as('rep_east', 'GET', `/api/data/account/${org.accounts.rep_north.id}`);
      expect(mine.body.data.owner_id).toBe(org.ids.rep_east);
    });
  });
});
