/**
 * The `view` document kind and GET /api/meta/views/:entity: deploy checks with precise paths, the
 * sample app's two customer-archive views (rep card, sales-department archive) chosen by role with
 * labels in the language and unreadable fields left out, and the defaults generated without a view.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers } from '../support/engine.js';
import { startOrg, type Org } from '../access/org.js';

const view = (extra: Record<string, unknown>) => ({
  kind: 'view',
  name: 'bad_view',
  label: { en: 'Bad', 'zh-CN': '坏' },
  entity: 'account',
  ...extra,
});

describe.each(drivers)('views on %s', (driver) => {
  let org: Org;
  beforeAll(async () => {
    org = await startOrg(driver);
  });
  afterAll(() => org?.e.stop());

  const deploy = (doc: unknown) => org.e.call('POST', '/api/meta/deploy', { documents: [doc], dryRun: true });

  it('refuses views that name what does not exist, with the path of each', async () => {
    const res = await deploy(
      view({
        roles: ['nobody'],
        lists: [
          {
            name: 'x',
            label: { en: 'X', 'zh-CN': '叉' },
            columns: ['name', 'nope'],
            sort: '-missing',
            filter: { '==': [{ var: 'ghost' }, 1] },
          },
        ],
        kanban: { groupBy: 'name', sumField: 'grade' },
        layout: {
          sections: [{ fields: ['name', 'created_at'] }],
          requiredWhen: { phantom: true },
          related: [
            { entity: 'contact', via: 'name' },
            { entity: 'nothing', via: 'account' },
          ],
        },
      }),
    );
    expect(res.status).toBe(400);
    const paths = Object.fromEntries(res.body.error.details.map((d: any) => [d.path, d.code]));
    expect(paths).toMatchObject({
      '/documents/0/roles/0': 'unknown_role',
      '/documents/0/lists/0/columns/1': 'unknown_field',
      '/documents/0/lists/0/sort': 'unknown_field',
      '/documents/0/lists/0/filter/==/0/var': 'unknown_field',
      '/documents/0/kanban/groupBy': 'invalid_group_field',
      '/documents/0/kanban/sumField': 'invalid_sum_field',
      '/documents/0/layout/sections/0/fields/1': 'unknown_field',
      '/documents/0/layout/requiredWhen/phantom': 'unknown_field',
      '/documents/0/layout/related/0/via': 'invalid_reference',
      '/documents/0/layout/related/1/entity': 'unknown_entity',
    });
  });

  it('refuses a view of an entity that is not deployed, and a malformed one by its meta-schema', async () => {
    expect((await deploy(view({ entity: 'spaceship' }))).body.error.details[0]).toMatchObject({
      path: '/documents/0/entity',
      code: 'unknown_entity',
    });
    const res = await deploy(view({ layout: { sections: [] } }));
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].path).toMatch(/^\/documents\/0\/layout\/sections/);
  });

  it('gives reps the compact customer card and the sales department the full archive, in their language', async () => {
    const rep = (await org.as('rep_east', 'GET', '/api/meta/views/account?lang=zh-CN')).body.data;
    expect(rep.layouts.map((l: any) => l.name)).toEqual(['account_rep_card']);
    expect(rep.layouts[0].sections[0].label).toBe('基本信息');
    expect(rep.layouts[0].related.map((r: any) => [r.entity, r.label])).toEqual([
      ['activity', '拜访纪要'],
      ['contact', '联系人'],
      ['opportunity', '商机'],
    ]);
    expect(rep.lists.map((l: any) => l.name)).toEqual(['my_customers', 'all_customers']);
    // Reps may not read credit terms: the column is left out of the shared list.
    expect(rep.lists[1].columns).not.toContain('credit_rating');

    const manager = (await org.as('manager_east', 'GET', '/api/meta/views/account', undefined, { 'accept-language': 'en' })).body
      .data;
    expect(manager.layouts.map((l: any) => l.name)).toEqual(['account_archive']);
    const archive = manager.layouts[0];
    expect(archive.sections.map((s: any) => s.tab ?? null)).toEqual([null, 'Contact & address', 'Value & credit', 'Status']);
    expect(archive.related[0]).toMatchObject({ entity: 'order', label: 'Order history' });
    expect(archive.requiredWhen.churn_note).toEqual({ '==': [{ var: 'churn_status' }, 'churned'] });
    expect(manager.lists.map((l: any) => l.name)).toEqual(['all_customers', 'key_customers']);
  });

  it('generates defaults where no view is deployed: kanban by the workflow state, related lists from references', async () => {
    const order = (await org.as('rep_east', 'GET', '/api/meta/views/order?lang=en')).body.data;
    expect(order.lists).toHaveLength(1);
    expect(order.lists[0].columns.length).toBeGreaterThan(2);
    expect(order.layouts[0].name).toBe('default');
    expect(order.kanban).toMatchObject({ groupBy: 'status', sumField: 'amount' }); // its workflow's state, its first currency field
    const opportunity = (await org.as('rep_east', 'GET', '/api/meta/views/opportunity?lang=zh-CN')).body.data;
    expect(opportunity.kanban).toEqual({
      groupBy: 'stage',
      cardFields: ['account', 'amount', 'expected_close_date'],
      sumField: 'amount',
    });
    expect(opportunity.layouts[0].related.map((r: any) => r.entity)).toEqual(expect.arrayContaining(['quote', 'task']));
  });

  it('answers 404 for an entity the caller may not read', async () => {
    const res = await org.as('finance', 'GET', '/api/meta/views/lead');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('unknown_entity');
    expect((await org.as('rep_east', 'GET', '/api/meta/views/spaceship')).status).toBe(404);
  });
});
