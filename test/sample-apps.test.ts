import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { loadPackage } from '../metadata/loader.js';
import { drivers, q, startEngine, type TestEngine } from './support/engine.js';

const salesFolder = join(resolve(import.meta.dirname, '..'), 'sample-apps', 'sales');

/** Dictionaries ../shared/DOMAIN.md §1 asks for (types and statuses). */
const DOMAIN_DICTIONARIES = [
  'employee_category',
  'contact_category',
  'industry',
  'product_category',
  'customer_category',
  'partner_type',
  'order_type',
  'opportunity_source',
  'sales_type',
  'sales_activity_type',
  'marketing_activity_type',
  'schedule_type',
  'customer_status',
  'sales_status',
  'order_status',
  'task_status',
];

describe.each(drivers)('sample sales app on %s', (driver) => {
  let e: TestEngine;
  let account: any;
  beforeAll(async () => {
    e = await startEngine(driver);
    const res = await e.call('POST', '/api/meta/deploy', { documents: await loadPackage(salesFolder) });
    expect(res.status).toBe(201);
    account = (
      await e.call('POST', '/api/data/account', {
        name: '北京示例科技有限公司',
        region: 'north',
        grade: 'b',
        industry: 'manufacturing',
      })
    ).body.data;
  });
  afterAll(() => e?.stop());

  it('has every dictionary of DOMAIN.md §1, labelled in English and Chinese', async () => {
    const dicts = (await e.call('GET', '/api/meta/documents?kind=dictionary')).body.data;
    const names = dicts.map((d: any) => d.name);
    expect(names).toEqual(expect.arrayContaining(DOMAIN_DICTIONARIES));
    for (const d of dicts) for (const item of d.items) expect(item.label['zh-CN']).toMatch(/[\u4e00-\u9fff]|^[A-Z0-9]+$/); // Chinese, or a code like "A" or "OEM"
    const status = dicts.find((d: any) => d.name === 'customer_status');
    expect(status.items.map((i: any) => i.label['zh-CN'])).toEqual(['忠诚', '友好', '正常', '一般', '较差', '危机']);
    const stages = dicts.find((d: any) => d.name === 'sales_stage').items.map((i: any) => i.value);
    expect(stages).toEqual([
      'initial_contact',
      'needs_confirmed',
      'proposal',
      'quotation',
      'intent',
      'negotiation',
      'contract_signed',
      'won',
      'lost',
    ]);
  });

  it('numbers customer archives by region and grade', () => {
    expect(account.archive_no).toBe('NORTH-B-00001');
  });

  it('runs an opportunity through its sales process, rules and formula', async () => {
    const opp = await e.call('POST', '/api/data/opportunity', {
      title: 'ERP 二期',
      account: account.id,
      opportunity_type: 'project',
      amount: 800000,
      probability: 60,
    });
    expect(opp.status).toBe(201);
    expect(opp.body.data).toMatchObject({ stage: 'initial_contact', weighted_amount: 480000 });
    expect(opp.body.data.opportunity_no).toMatch(/^OPP-\d{6}-0001$/);
    const id = opp.body.data.id;
    const fire = (event: string, headers: Record<string, string> = {}) =>
      e.call('POST', `/api/data/opportunity/${id}/transitions/${event}`, undefined, headers);
    for (const event of ['confirm_needs', 'submit_proposal', 'quote', 'confirm_intent'])
      expect((await fire(event)).status).toBe(200);
    expect((await e.call('GET', `/api/data/opportunity/${id}`)).body.data).toMatchObject({
      stage: 'intent',
      probability: 60,
      weighted_amount: 480000,
    });
    // negotiation needs an expected close date (an entity rule), with the message in the caller's language
    const missingDate = await fire('negotiate', { 'accept-language': 'zh-CN' });
    expect(missingDate.status).toBe(422);
    expect(missingDate.body.error.details).toMatchObject([{ path: '/expected_close_date', code: 'rule_violation' }]);
    expect(missingDate.body.error.details[0].message).toMatch(/[\u4e00-\u9fff]/);
    const version = (await e.call('GET', `/api/data/opportunity/${id}`)).body.data.version;
    await e.call('PATCH', `/api/data/opportunity/${id}`, { expected_close_date: '2026-12-20', version });
    for (const event of ['negotiate', 'sign', 'win']) expect((await fire(event)).status).toBe(200);
    expect((await e.call('GET', `/api/data/opportunity/${id}`)).body.data).toMatchObject({
      stage: 'won',
      probability: 100,
      weighted_amount: 800000,
    });

    // the customer can't be deleted while an opportunity refers to it (restrict)
    const contact = (
      await e.call('POST', '/api/data/contact', {
        name: '王经理',
        account: account.id,
        contact_category: 'final_decision_maker',
        birthday: '1980-05-01',
      })
    ).body.data;
    expect(contact.id).toBeDefined();
    expect((await e.call('DELETE', `/api/data/account/${account.id}`)).status).toBe(409);

    const list = await e.call(
      'GET',
      `/api/data/opportunity?filter=${q({ '==': [{ var: 'stage' }, 'won'] })}&sort=-amount&expand=account`,
    );
    expect(list.body.data.map((o: any) => [o.title, o.account.name])).toEqual([['ERP 二期', '北京示例科技有限公司']]);
  });

  it('describes itself truthfully in OpenAPI: real responses match the documented schemas', async () => {
    const doc = (await e.call('GET', '/api/openapi.json')).body;
    expect(doc.openapi).toBe('3.1.0');
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    (addFormats as any).default ? (addFormats as any).default(ajv) : (addFormats as any)(ajv);
    ajv.addKeyword('x-dictionary').addKeyword('x-reference');
    for (const [name, schema] of Object.entries(doc.components.schemas))
      ajv.addSchema(schema as object, `#/components/schemas/${name}`);
    const validate = (name: string, value: unknown) => {
      const v = ajv.getSchema(`#/components/schemas/${name}`)!;
      return v(value) ? [] : v.errors;
    };

    const page = (await e.call('GET', '/api/data/opportunity')).body;
    expect(page.data.length).toBeGreaterThan(0);
    expect(validate('OpportunityPage', page)).toEqual([]);
    expect(validate('Opportunity', page.data[0])).toEqual([]);
    expect(validate('Account', (await e.call('GET', `/api/data/account/${account.id}`)).body.data)).toEqual([]);
    const error = (await e.call('POST', '/api/data/opportunity', { amount: 'lots' })).body;
    expect(validate('Error', error)).toEqual([]);
    // what the document says is invalid, the API refuses, and the other way round
    expect(
      validate('OpportunityCreate', { title: 'x', account: account.id, opportunity_type: 'project', stage: 'bogus' }),
    ).not.toEqual([]);
    expect(
      validate('OpportunityCreate', { title: 'x', account: account.id, opportunity_type: 'project', stage: 'proposal' }),
    ).toEqual([]);
    for (const entity of ['account', 'contact', 'lead', 'opportunity', 'activity', 'product']) {
      expect(Object.keys(doc.paths)).toEqual(
        expect.arrayContaining([`/api/data/${entity}`, `/api/data/${entity}/{id}`, `/api/data/${entity}/{id}/restore`]),
      );
    }
  });
});
