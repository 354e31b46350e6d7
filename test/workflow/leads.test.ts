/**
 * Lead handling in the sales sample: assignment, follow-up, qualification and conversion into customer,
 * contact and opportunity — refused when another rep already works the customer (撞单) or when a
 * customer of that name exists — as the demo organisation's users.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers } from '../support/engine.js';
import { startOrg, type Org } from '../access/org.js';

describe.each(drivers)('lead handling (sales sample) on %s', (driver) => {
  let o: Org;
  beforeAll(async () => {
    o = await startOrg(driver);
  }, 60_000);
  afterAll(() => o?.e.stop());

  const fire = (user: 'rep_east' | 'marketing' | 'manager_east', id: string, event: string, body?: unknown) =>
    o.as(user, 'POST', `/api/data/lead/${id}/transitions/${event}`, body);
  /** A lead from marketing, assigned to rep_east and qualified. */
  const qualifiedLead = async (values: Record<string, unknown>) => {
    const created = await o.as('marketing', 'POST', '/api/data/lead', { owner_id: null, mobile: '13900000000', ...values });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const lead = created.body.data;
    expect(lead.status).toBe('new');
    expect((await fire('marketing', lead.id, 'assign', { input: { owner: o.ids.rep_east } })).status).toBe(200);
    for (const event of ['follow_up', 'qualify']) expect((await fire('rep_east', lead.id, event)).status).toBe(200);
    return lead;
  };
  const count = async (entity: string) => (await o.e.call('GET', `/api/data/${entity}?count=true&limit=1`)).body.total;

  it('assigns (managers and marketing only), follows up, qualifies and converts into a new customer, contact and opportunity', async () => {
    const lead = (
      await o.as('marketing', 'POST', '/api/data/lead', {
        company: '杭州新客户有限公司',
        contact_name: '陈经理',
        mobile: '13800000001',
        region: 'east',
        owner_id: null,
      })
    ).body.data;
    const notAllowed = await fire('rep_east', lead.id, 'assign', { input: { owner: o.ids.rep_east } });
    expect(notAllowed.status).toBe(403); // the rep may read a pool lead, not change it: assigning by workflow is for managers and marketing
    expect((await fire('marketing', lead.id, 'assign', { input: { owner: o.ids.rep_east } })).body.data.record).toMatchObject({
      status: 'assigned',
      owner_id: o.ids.rep_east,
    });
    for (const event of ['follow_up', 'qualify']) expect((await fire('rep_east', lead.id, event)).status).toBe(200);

    const converted = await fire('rep_east', lead.id, 'convert', {
      input: { opportunity_title: '杭州新客户 CRM 项目', amount: 120000 },
    });
    expect(converted.status, JSON.stringify(converted.body)).toBe(200);
    const after = converted.body.data.record;
    expect(after.status).toBe('converted');
    const account = (await o.as('rep_east', 'GET', `/api/data/account/${after.converted_account}`)).body.data;
    expect(account).toMatchObject({ name: '杭州新客户有限公司', region: 'east', owner_id: o.ids.rep_east });
    expect(account.archive_no).toMatch(/^EAST-C-\d{5}$/);
    const opportunity = (await o.as('rep_east', 'GET', `/api/data/opportunity/${after.converted_opportunity}`)).body.data;
    expect(opportunity).toMatchObject({
      title: '杭州新客户 CRM 项目',
      account: account.id,
      amount: 120000,
      stage: 'initial_contact',
      owner_id: o.ids.rep_east,
    });
    const contact = (await o.as('rep_east', 'GET', `/api/data/contact/${opportunity.contact}`)).body.data;
    expect(contact).toMatchObject({ name: '陈经理', account: account.id, mobile: '13800000001' });
    expect(converted.body.data.created.map((r: any) => r.id).sort()).toEqual([account.id, contact.id, opportunity.id].sort());
  });

  it('refuses to convert into a customer another rep has an open opportunity with (撞单), writing nothing', async () => {
    const theirs = o.accounts.rep_north;
    await o.e.call('POST', '/api/data/opportunity', { title: '钱销售的商机', account: theirs.id, owner_id: o.ids.rep_north });
    const lead = await qualifiedLead({ company: '撞单客户', contact_name: '李工' });
    const [opps, contacts] = [await count('opportunity'), await count('contact')];
    const res = await fire('rep_east', lead.id, 'convert', { input: { account: theirs.id, opportunity_title: '撞单商机' } });
    expect([res.status, res.body.error.code]).toEqual([409, 'duplicate_opportunity']);
    expect(res.body.error.details[0].path).toBe('/transitions/convert/checks/0');
    expect(res.body.error.message).toMatch(/撞单|another sales rep/);
    expect([await count('opportunity'), await count('contact')]).toEqual([opps, contacts]);
    expect((await o.as('rep_east', 'GET', `/api/data/lead/${lead.id}`)).body.data.status).toBe('qualified');

    // A customer whose deals are closed, or the rep's own, is fine: the lead converts into it.
    const mine = o.accounts.rep_east;
    await o.e.call('POST', '/api/data/opportunity', { title: '自己的商机', account: mine.id, owner_id: o.ids.rep_east });
    const ok = await fire('rep_east', lead.id, 'convert', { input: { account: mine.id, opportunity_title: '追加商机' } });
    expect(ok.status).toBe(200);
    expect(ok.body.data.record).toMatchObject({ status: 'converted', converted_account: mine.id });
    expect(ok.body.data.created).toHaveLength(2); // contact and opportunity; no new customer
  });

  it('refuses a new customer whose name exists already, and a conversion the guard does not allow', async () => {
    const existing = o.accounts.gm;
    const dup = await qualifiedLead({ company: existing.name, region: 'north' });
    const res = await fire('rep_east', dup.id, 'convert', { input: { opportunity_title: '重复客户商机' } });
    expect([res.status, res.body.error.code]).toEqual([409, 'customer_exists']);
    const noRegion = await qualifiedLead({ company: '无区域客户' });
    const guard = await fire('rep_east', noRegion.id, 'convert', { input: { opportunity_title: '无区域' } });
    expect([guard.status, guard.body.error.code]).toEqual([409, 'guard_failed']);
    const badInput = await fire('rep_east', noRegion.id, 'convert', { input: { opportunity_title: 'x', account: 'not-an-id' } });
    expect(badInput.status).toBe(422);
    expect(badInput.body.error.details.map((d: any) => d.path).sort()).toEqual(['/input/account', '/input/opportunity_title']);
  });

  it('refuses conversions that link to the wrong field, name unknown fields in `when` or check unknown entities', async () => {
    const { loadPackage } = await import('../../metadata/loader.js');
    const { join, resolve } = await import('node:path');
    const docs = await loadPackage(join(resolve(import.meta.dirname, '..', '..'), 'sample-apps', 'sales'));
    const wf = structuredClone(docs.find((d: any) => d.name === 'lead_handling')) as any;
    const convert = wf.states.qualified.on.convert;
    convert.actions[1].link = 'company';
    convert.actions[2].when = { '!!': [{ var: 'nickname' }] };
    convert.checks[0].entity = 'deal';
    const res = await o.e.call('POST', '/api/meta/deploy', { documents: [wf] });
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: any) => [d.path, d.code])).toEqual([
      ['/documents/0/states/qualified/on/convert/actions/1/link', 'invalid_link'],
      ['/documents/0/states/qualified/on/convert/actions/2/when/!!/0/var', 'unknown_field'],
      ['/documents/0/states/qualified/on/convert/checks/0/entity', 'unknown_entity'],
    ]);
  });
});
