/**
 * Saved list views stored on the server (engine/views/saved.ts): private by default, shared with roles or
 * everyone within what the owner may share, changed and deleted only by their owner; bad input writes
 * nothing and says where it is wrong, in the caller's language.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers } from '../support/engine.js';
import { startOrg, type Org } from '../access/org.js';

describe.each(drivers)('saved list views on %s', (driver) => {
  let org: Org;
  beforeAll(async () => {
    org = await startOrg(driver);
  }, 180_000);
  afterAll(() => org?.e.stop());

  const state = { columns: ['title', 'amount'], sort: '-amount', filter: [{ field: 'stage', op: 'oneOf', value: ['proposal'] }] };
  const names = async (user: Parameters<Org['as']>[0], entity = 'opportunity') =>
    (await org.as(user, 'GET', `/api/saved-views/${entity}`)).body.data.map((v: any) => v.name).sort();

  it('keeps a private view for its owner only', async () => {
    const r = await org.as('rep_east', 'POST', '/api/saved-views/opportunity', { name: ' 我的大单 ', state });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.data).toMatchObject({ name: '我的大单', state, mine: true, share: { roles: [], everyone: false } });
    expect(await names('rep_east')).toContain('我的大单');
    expect(await names('rep_north')).not.toContain('我的大单');
    expect(await names('manager_east')).not.toContain('我的大单');
    // the same name twice is a conflict naming the field
    const again = await org.as(
      'rep_east',
      'POST',
      '/api/saved-views/opportunity',
      { name: '我的大单', state },
      { 'accept-language': 'zh-CN' },
    );
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: 'duplicate_name', details: [{ path: '/name' }] });
    expect(again.body.error.message).toContain('已有名为');
  });

  it('shares with roles the owner holds; beyond them only with views.share', async () => {
    const own = await org.as('rep_north', 'POST', '/api/saved-views/opportunity', {
      name: 'reps',
      state,
      share: { roles: ['sales_rep'] },
    });
    expect(own.status, JSON.stringify(own.body)).toBe(201);
    expect(await names('rep_east')).toContain('reps');
    expect(await names('manager_east')).not.toContain('reps');
    const beyond = await org.as('rep_north', 'POST', '/api/saved-views/opportunity', {
      name: 'all',
      state,
      share: { everyone: true, roles: ['finance'] },
    });
    expect(beyond.status).toBe(403);
    expect(beyond.body.error.details.map((d: any) => d.path).sort()).toEqual(['/share/everyone', '/share/roles/0']);
    expect(await names('rep_north')).not.toContain('all');
    // a manager (views.share) shares with the reps and with everyone
    const team = await org.as('manager_east', 'POST', '/api/saved-views/opportunity', {
      name: 'team',
      state,
      share: { roles: ['sales_rep'] },
    });
    expect(team.status, JSON.stringify(team.body)).toBe(201);
    const everyone = await org.as('manager_east', 'POST', '/api/saved-views/opportunity', {
      name: 'everyone',
      state,
      share: { everyone: true },
    });
    expect(everyone.status).toBe(201);
    expect(await names('rep_east')).toEqual(expect.arrayContaining(['team', 'everyone', 'reps']));
    expect(await names('marketing', 'account')).toEqual([]);
    expect(await names('gm')).toContain('everyone');
    expect(await names('gm')).not.toContain('team');
    const seen = (await org.as('rep_east', 'GET', '/api/saved-views/opportunity')).body.data;
    // own views first, then shared ones with their owner's name
    expect(seen[0].mine).toBe(true);
    expect(seen.find((v: any) => v.name === 'team')).toMatchObject({ mine: false, ownerName: expect.any(String) });
  });

  it('only the owner changes or deletes a view', async () => {
    const seen = (await org.as('rep_east', 'GET', '/api/saved-views/opportunity')).body.data;
    const team = seen.find((v: any) => v.name === 'team');
    expect((await org.as('rep_east', 'PATCH', `/api/saved-views/opportunity/${team.id}`, { name: 'mine now' })).status).toBe(403);
    expect((await org.as('rep_east', 'DELETE', `/api/saved-views/opportunity/${team.id}`)).status).toBe(403);
    expect((await org.as('rep_north', 'DELETE', `/api/saved-views/opportunity/${seen[0].id}`)).status).toBe(404);
    const renamed = await org.as('manager_east', 'PATCH', `/api/saved-views/opportunity/${team.id}`, {
      name: 'east team',
      share: {},
    });
    expect(renamed.status, JSON.stringify(renamed.body)).toBe(200);
    expect(renamed.body.data).toMatchObject({ name: 'east team', share: { roles: [], everyone: false }, state });
    expect(await names('rep_east')).not.toContain('east team');
    expect((await org.as('manager_east', 'DELETE', `/api/saved-views/opportunity/${team.id}`)).status).toBe(200);
    expect(await names('manager_east')).not.toContain('east team');
    expect((await org.as('manager_east', 'DELETE', '/api/saved-views/opportunity/not-a-uuid')).status).toBe(404);
  });

  it('refuses bad input with paths, and entities the caller may not read', async () => {
    const bad = await org.as('rep_east', 'POST', '/api/saved-views/opportunity', {
      name: '',
      state: [],
      share: { roles: 'x', extra: 1 },
      other: true,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: any) => d.path).sort()).toEqual([
      '/name',
      '/other',
      '/share/extra',
      '/share/roles',
      '/state',
    ]);
    const big = await org.as('rep_east', 'POST', '/api/saved-views/opportunity', {
      name: 'big',
      state: { x: 'a'.repeat(20_000) },
    });
    expect(big.status).toBe(400);
    expect(big.body.error.details[0]).toMatchObject({ path: '/state', code: 'too_large' });
    expect((await org.as('rep_east', 'POST', '/api/saved-views/opportunity', 'text')).status).toBe(400);
    expect(
      (await org.as('rep_east', 'POST', '/api/saved-views/opportunity', { name: 'r', state, share: { roles: ['nobody'] } })).body
        .error.details[0].code,
    ).toBe('unknown_role');
    expect((await org.as('rep_east', 'GET', '/api/saved-views/nope')).status).toBe(404);
    expect((await org.as('marketing', 'GET', '/api/saved-views/expense_claim')).status).toBeGreaterThanOrEqual(403);
    expect(await names('rep_east')).not.toContain('big');
  });
});
