/**
 * List filters on fields of referenced records (`account.region`, `owner_id.department`): each path is a
 * sub-select inside the caller's read scope of the referenced entity (engine/data/operations/paths.ts). What a
 * report groups by a reference path, the list finds with the row's `_filter` — for a rep too, whose
 * orders for a customer they may not see group (and filter) as empty. Unreadable steps are refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers, L } from '../support/engine.js';
import { startOrg, type Org } from '../access/org.js';

describe.each(drivers)('list filters through references on %s', (driver) => {
  let org: Org;
  let orders: { id: string; account: string; owner_id: string }[] = [];
  let accounts: { id: string; region: string | null }[] = [];
  beforeAll(async () => {
    org = await startOrg(driver);
    const { e, ids } = org;
    const deployed = await e.call('POST', '/api/meta/deploy', {
      documents: [
        {
          kind: 'report',
          name: 'orders_by_region',
          label: L('Orders by account region'),
          entity: 'order',
          dimensions: [{ field: 'account.region' }],
          measures: [{ name: 'n', aggregate: 'count' }],
        },
      ],
    });
    expect(deployed.status, JSON.stringify(deployed.body)).toBe(201);
    const made = await e.call('POST', '/api/data/order', [
      ...(['rep_east', 'rep_north', 'manager_east', 'gm'] as const).map((u, i) => ({
        account: org.accounts[u].id,
        amount: 10 + i,
        status: 'accepted',
        owner_id: ids[u],
      })),
      // rep_north sells to rep_east's customer, whose region rep_north may not see
      { account: org.accounts.rep_east.id, amount: 7, status: 'accepted', owner_id: ids.rep_north },
    ]);
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    orders = (await e.call('GET', '/api/data/order?limit=500')).body.data;
    accounts = (await e.call('GET', '/api/data/account?limit=500')).body.data;
  }, 180_000);
  afterAll(() => org?.e.stop());

  const list = async (user: 'admin' | 'rep_north' | 'rep_east' | 'gm', entity: string, filter: unknown) => {
    const r = await org.as(
      user,
      'GET',
      `/api/data/${entity}?count=true&limit=500&filter=${encodeURIComponent(JSON.stringify(filter))}`,
    );
    return r;
  };

  it('finds the records whose referenced record has the value', async () => {
    const east = new Set(accounts.filter((a) => a.region === 'east').map((a) => a.id));
    const r = await list('admin', 'order', { '==': [{ var: 'account.region' }, 'east'] });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const expected = orders
      .filter((o) => east.has(o.account))
      .map((o) => o.id)
      .sort();
    expect(expected.length).toBeGreaterThan(0);
    expect(r.body.data.map((o: any) => o.id).sort()).toEqual(expected);
    // negated, and through two references (the order's account's owner's department)
    const not = await list('admin', 'order', { '!': { '==': [{ var: 'account.region' }, 'east'] } });
    expect(not.body.total).toBe(orders.length - expected.length);
    const dept = await list('admin', 'order', { '==': [{ var: 'account.owner_id.department' }, org.departments.sales_east] });
    expect(dept.status, JSON.stringify(dept.body)).toBe(200);
    expect(dept.body.total).toBeGreaterThan(0);
  });

  it("drills down from every report row to exactly the rows it counted, in the viewer's scope", async () => {
    for (const user of ['admin', 'rep_north', 'rep_east'] as const) {
      const report = (await org.as(user, 'GET', '/api/reports/orders_by_region')).body.data;
      expect(report.rows.length).toBeGreaterThan(0);
      for (const row of report.rows) {
        const r = await list(user, 'order', row._filter);
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        expect(r.body.total, `${user} ${row.account_region}`).toBe(row.n);
      }
    }
    // rep_north's order for rep_east's customer: the region is not rep_north's to read, so it is empty
    const hidden = await list('rep_north', 'order', { '==': [{ var: 'account.region' }, null] });
    expect(hidden.body.data.map((o: any) => o.amount)).toContain(7);
  });

  it('refuses a path through a field the caller may not read, an unknown step, or a non-reference', async () => {
    const credit = await list('rep_east', 'order', { '>': [{ var: 'account.credit_limit' }, 0] });
    expect(credit.status).toBe(403);
    expect(credit.body.error.code).toBe('field_not_readable');
    expect(JSON.stringify(credit.body)).not.toMatch(/\d{4,}/);
    const unknown = await list('admin', 'order', { '==': [{ var: 'account.nope' }, 1] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details[0]).toMatchObject({ code: 'unknown_field', path: '/query/filter/==/0' });
    const notRef = await list('admin', 'order', { '==': [{ var: 'amount.x' }, 1] });
    expect(notRef.status).toBe(400);
    const tooLong = await list('admin', 'order', { '==': [{ var: 'account.owner_id.department.parent.parent.name' }, 'x'] });
    expect(tooLong.status).toBe(400);
  });
});
