/**
 * The sales sample's quote discount approval: above 10 % the rep's manager decides, above 20 % a
 * sales director too; a director's rejection goes back to the manager.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers } from '../support/engine.js';
import { startOrg, type Org, type UserName } from '../access/org.js';

describe.each(drivers)('quote discount approval (sales sample) on %s', (driver) => {
  let o: Org;
  let opportunity: any;
  beforeAll(async () => {
    o = await startOrg(driver);
    opportunity = (
      await o.as('rep_east', 'POST', '/api/data/opportunity', {
        title: '报价商机',
        account: o.accounts.rep_east.id,
        amount: 100000,
      })
    ).body.data;
  }, 60_000);
  afterAll(() => o?.e.stop());

  const quote = async (discount: number) => {
    const res = await o.as('rep_east', 'POST', '/api/data/quote', { opportunity: opportunity.id, list_amount: 100000, discount });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.data;
  };
  const submit = (id: string) => o.as('rep_east', 'POST', `/api/data/quote/${id}/approval/submit`);
  const decide = async (user: UserName, id: string, decision: 'approve' | 'reject') => {
    const task = (await o.as(user, 'GET', '/api/approvals/inbox')).body.data.find((t: any) => t.recordId === id);
    expect(task, `${user}'s task`).toBeDefined();
    return (await o.as(user, 'POST', `/api/approvals/${task.id}/${decision}`)).body.data.request;
  };

  it('needs no approval up to 10 %, and says so', async () => {
    const q = await quote(8);
    expect(q.quoted_amount).toBe(92000);
    const res = await submit(q.id);
    expect([res.status, res.body.error.code, res.body.error.message]).toEqual([
      409,
      'entry_criteria_not_met',
      'Discounts up to 10 % need no approval',
    ]);
  });

  it('goes to the manager only between 10 and 20 %', async () => {
    const q = await quote(15);
    expect((await submit(q.id)).body.data.request.step).toBe('manager');
    expect((await decide('manager_east', q.id, 'approve')).status).toBe('approved');
  });

  it('adds the director above 20 %; the director’s rejection goes back to the manager', async () => {
    const q = await quote(30);
    await submit(q.id);
    expect((await decide('manager_east', q.id, 'approve')).step).toBe('director');
    const back = await decide('director', q.id, 'reject');
    expect([back.status, back.step]).toEqual(['pending', 'manager']);
    const returned = await decide('manager_east', q.id, 'reject');
    expect(returned.status).toBe('returned');
    expect((await o.as('rep_east', 'GET', `/api/data/quote/${q.id}`)).body.data.approval_status).toBe('returned');
  });
});
