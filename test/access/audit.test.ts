import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers } from '../support/engine.js';
import { startOrg, type Org } from './org.js';

describe.each(drivers)('audit trail on %s', (driver) => {
  let org: Org;
  beforeAll(async () => {
    org = await startOrg(driver);
  }, 120_000);
  afterAll(() => org?.e.stop());

  it('records who changed which fields from what to what, for every kind of change', async () => {
    const created = (
      await org.as('rep_east', 'POST', '/api/data/opportunity', {
        title: '审计商机',
        account: org.accounts.rep_east.id,
        opportunity_type: 'project',
        amount: 1000,
        probability: 20,
      })
    ).body.data;
    const id = created.id;
    const v2 = (await org.as('rep_east', 'PATCH', `/api/data/opportunity/${id}`, { amount: 5000, version: 1 })).body.data;
    await org.as('rep_east', 'POST', `/api/data/opportunity/${id}/shares`, { user: org.ids.rep_north, access: 'read' });
    await org.as('manager_east', 'POST', `/api/data/opportunity/${id}/assign`, { to: org.ids.manager_east, reason: '重点客户' });
    await org.as('manager_east', 'DELETE', `/api/data/opportunity/${id}`);
    await org.as('manager_east', 'POST', `/api/data/opportunity/${id}/restore`);

    const history = (await org.as('manager_east', 'GET', `/api/data/opportunity/${id}/history`)).body.data;
    expect(history.map((h: any) => h.action)).toEqual(['restore', 'delete', 'assign', 'share', 'update', 'create']);
    const byAction = Object.fromEntries(history.map((h: any) => [h.action, h]));
    expect(byAction.create).toMatchObject({ version: 1, actor: org.ids.rep_east });
    expect(byAction.create.changes.title).toEqual({ from: null, to: '审计商机' });
    expect(byAction.update).toMatchObject({ version: v2.version, actor: org.ids.rep_east });
    expect(byAction.update.changes).toEqual({ amount: { from: 1000, to: 5000 }, weighted_amount: { from: 200, to: 1000 } });
    expect(byAction.assign.changes.owner_id).toEqual({ from: org.ids.rep_east, to: org.ids.manager_east });
    expect(byAction.assign.note).toBe('重点客户');
    expect(byAction.delete.actor).toBe(org.ids.manager_east);
    for (const h of history) expect(Date.parse(h.at)).toBeGreaterThan(Date.now() - 60_000);
    // history is as private as the record
    expect((await org.as('rep_north', 'GET', `/api/data/opportunity/${id}/history`)).status).toBe(200); // shared with him
    expect((await org.as('service', 'GET', `/api/data/opportunity/${id}/history`)).status).toBe(403);
    expect((await org.as('marketing', 'GET', `/api/data/opportunity/00000000-0000-7000-8000-000000000000/history`)).status).toBe(
      404,
    );
  });

  it('reverts a record to an earlier version as a new, audited change under the same permissions', async () => {
    const rec = (
      await org.as('rep_east', 'POST', '/api/data/account', { name: '回滚客户', region: 'east', grade: 'a', phone: '111111' })
    ).body.data;
    await org.as('rep_east', 'PATCH', `/api/data/account/${rec.id}`, { phone: '222222', grade: 'b', version: 1 });
    await org.as('rep_east', 'PATCH', `/api/data/account/${rec.id}`, { phone: '333333', version: 2 });
    expect((await org.as('rep_north', 'POST', `/api/data/account/${rec.id}/revert`, { version: 1 })).status).toBe(404);
    expect((await org.as('rep_east', 'POST', `/api/data/account/${rec.id}/revert`, { version: 99 })).status).toBe(404);
    expect((await org.as('rep_east', 'POST', `/api/data/account/${rec.id}/revert`, { version: 'one' })).status).toBe(400);
    const reverted = await org.as('rep_east', 'POST', `/api/data/account/${rec.id}/revert`, { version: 1 });
    expect(reverted.status).toBe(200);
    expect(reverted.body.data).toMatchObject({ phone: '111111', grade: 'a', version: 4 });
    const [last] = (await org.as('rep_east', 'GET', `/api/data/account/${rec.id}/history`)).body.data;
    expect(last).toMatchObject({
      action: 'revert',
      version: 4,
      note: 'revert to version 1',
      changes: { phone: { from: '333333', to: '111111' }, grade: { from: 'b', to: 'a' } },
    });
    // fields the caller can't see are left as they are (refusing would reveal that they changed) …
    await org.as('finance', 'PATCH', `/api/data/account/${rec.id}`, { credit_limit: 123, version: 4 });
    await org.as('rep_east', 'PATCH', `/api/data/account/${rec.id}`, { phone: '444444', version: 5 });
    expect((await org.as('rep_east', 'POST', `/api/data/account/${rec.id}/revert`, { version: 4 })).body.data.phone).toBe(
      '111111',
    );
    expect((await org.e.call('GET', `/api/data/account/${rec.id}`)).body.data.credit_limit).toBe(123);
    // … while one they can read but not write is refused, by name
    await org.as('finance', 'PATCH', `/api/data/account/${rec.id}`, { credit_rating: 'aa', version: 7 });
    await org.as('finance', 'PATCH', `/api/data/account/${rec.id}`, { credit_rating: 'bb', version: 8 });
    // version 2 had another phone and grade: finance reads them but may not write them
    const financeRevert = await org.as('finance', 'POST', `/api/data/account/${rec.id}/revert`, { version: 2 });
    expect(financeRevert.status).toBe(403);
    expect(financeRevert.body.error.code).toBe('field_not_writable');
    expect(financeRevert.body.error.details.map((d: any) => d.path)).toEqual(['/grade', '/phone']);
    expect((await org.as('finance', 'POST', `/api/data/account/${rec.id}/revert`, { version: 8 })).body.data.credit_rating).toBe(
      'aa',
    );
  });

  it('shows each user the deleted records they could read, and lets them restore those', async () => {
    const mine = (await org.as('rep_east', 'POST', '/api/data/account', { name: '回收站客户', region: 'east', grade: 'c' })).body
      .data;
    const theirs = (
      await org.as('rep_north', 'POST', '/api/data/account', { name: '别人的回收站客户', region: 'north', grade: 'c' })
    ).body.data;
    await org.as('rep_east', 'DELETE', `/api/data/account/${mine.id}`);
    await org.as('rep_north', 'DELETE', `/api/data/account/${theirs.id}`);
    const bin = (await org.as('rep_east', 'GET', '/api/data/account?deleted=only')).body.data.map((a: any) => a.name);
    expect(bin).toContain('回收站客户');
    expect(bin).not.toContain('别人的回收站客户');
    expect((await org.as('rep_east', 'POST', `/api/data/account/${theirs.id}/restore`)).status).toBe(404);
    expect((await org.as('rep_east', 'POST', `/api/data/account/${mine.id}/restore`)).status).toBe(200);
    expect((await org.as('rep_north', 'POST', `/api/data/account/${theirs.id}/restore`)).status).toBe(200);
  });
});
