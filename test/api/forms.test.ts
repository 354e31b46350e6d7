/**
 * GET /api/meta/forms/:entity and the form-schema module behind it: labels in the caller's language,
 * labelled choices in dictionary order, read-only computed fields, the caller's field permissions, plugin
 * widgets, and the promise that the forms and the server's validator describe the same records.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers, L, startEngine } from '../support/engine.js';
import { startOrg, type Org } from '../access/org.js';
import { recordSchemas } from '../../engine/model/form-schema.js';
import type { JsonSchema } from '../../engine/registry/types.js';
import rating from '../../plugins/rating/index.js';

/** A form schema without what is only there for people: titles, help, read-only marks, choice labels. */
function strip(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(strip);
  if (!schema || typeof schema !== 'object') return schema;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'title' || key === 'description' || key === 'readOnly' || key === 'default') continue;
    if (key === 'oneOf' && Array.isArray(value) && value.every((v) => v && typeof v === 'object' && 'const' in v)) {
      out.enum = value.map((v) => v.const);
      continue;
    }
    // Under `properties` the keys are field names (a field may be called "title"), not keywords.
    out[key] =
      key === 'properties' ? Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, strip(v)])) : strip(value);
  }
  return out;
}

describe.each(drivers)('form schemas on %s', (driver) => {
  let o: Org;
  beforeAll(async () => {
    o = await startOrg(driver);
  });
  afterAll(() => o?.e.stop());

  it('titles and labels follow ?lang, then Accept-Language', async () => {
    const zh = (await o.as('gm', 'GET', '/api/meta/forms/opportunity?lang=zh-CN')).body.data;
    expect(zh.entity).toEqual({
      name: 'opportunity',
      label: '商机',
      titleField: 'title',
      workflow: 'project_sales',
      approval: null,
      copy: null,
    });
    expect(zh.create.properties.title.title).toBe('商机名称');
    expect(zh.read.properties.probability).toMatchObject({ title: '成交概率', description: '赢单可能性，0–100%。' });
    expect(zh.uiSchema.probability['ui:help']).toBe('赢单可能性，0–100%。');
    expect(zh.fields.find((f: any) => f.name === 'stage')).toMatchObject({
      label: '销售阶段',
      type: 'picklist',
      dictionary: 'sales_stage',
      sortable: true,
      filterable: true,
    });
    const en = (await o.as('gm', 'GET', '/api/meta/forms/opportunity', undefined, { 'accept-language': 'en-US' })).body.data;
    expect(en.entity.label).toBe('Opportunity');
    expect(en.create.properties.title.title).toBe('Title');
    const byHeader = (await o.as('gm', 'GET', '/api/meta/forms/opportunity', undefined, { 'accept-language': 'zh-CN,zh;q=0.9' }))
      .body.data;
    expect(byHeader.entity.label).toBe('商机');
    const quote = (await o.as('gm', 'GET', '/api/meta/forms/quote?lang=en')).body.data;
    expect(quote.entity.approval).toBe('quote_discount');
  });

  it('offers picklist values as oneOf with their labels, in dictionary order; inactive ones only when reading', async () => {
    const form = (await o.as('gm', 'GET', '/api/meta/forms/opportunity?lang=zh-CN')).body.data;
    const stage = form.update.properties.stage;
    expect(stage.enum).toBeUndefined();
    expect(stage.oneOf.slice(0, 3)).toEqual([
      { const: 'initial_contact', title: '初次接触' },
      { const: 'needs_confirmed', title: '需求确定' },
      { const: 'proposal', title: '提交方案' },
    ]);
    expect(stage.oneOf.map((c: any) => c.const)).toEqual(
      form.fields.find((f: any) => f.name === 'stage').options.map((i: any) => i.value),
    );
    const product = (await o.as('gm', 'GET', '/api/meta/forms/product?lang=en')).body.data;
    const category = Object.entries(product.read.properties).find(([, p]: any) =>
      p.oneOf?.some((c: any) => c.const === 'perpetual_license'),
    );
    expect(category).toBeDefined();
    const [name] = category!;
    expect(product.read.properties[name].oneOf).toContainEqual({
      const: 'perpetual_license',
      title: 'Perpetual licence (discontinued)',
    });
    expect(product.create.properties[name].oneOf.map((c: any) => c.const)).not.toContain('perpetual_license');
  });

  it("starts a new record's form from the fields' defaults (create only: an update keeps what the record has)", async () => {
    const form = (await o.as('gm', 'GET', '/api/meta/forms/opportunity?lang=en')).body.data;
    expect(form.create.properties.stage.default).toBe('initial_contact');
    expect(form.update.properties.stage.default).toBeUndefined();
    expect(form.create.properties.title.default).toBeUndefined();
  });

  it('marks formulas and auto-numbers read-only and leaves them out of create and update', async () => {
    const form = (await o.as('gm', 'GET', '/api/meta/forms/opportunity?lang=en')).body.data;
    expect(form.read.properties.weighted_amount.readOnly).toBe(true);
    expect(form.read.properties.opportunity_no.readOnly).toBe(true);
    expect(form.create.properties.weighted_amount).toBeUndefined();
    expect(form.update.properties.opportunity_no).toBeUndefined();
    // a computed value is shown as what it returns (¥ for a currency formula), read-only
    expect(form.uiSchema.weighted_amount).toMatchObject({ 'ui:widget': 'currency', 'ui:readonly': true });
    expect(form.uiSchema.opportunity_no['ui:widget']).toBe('readonly');
    expect(form.fields.find((f: any) => f.name === 'weighted_amount').writable).toBe(false);
    expect(form.uiSchema.amount).toMatchObject({ 'ui:widget': 'currency', 'ui:options': { currency: 'CNY' } });
    expect(form.uiSchema.account).toMatchObject({
      'ui:widget': 'reference',
      'ui:options': { entity: 'account', titleField: 'name' },
    });
    expect(form.create.properties.account).toMatchObject({ type: 'string', format: 'uuid' });
    expect(form.create.properties.expected_close_date.format).toBe('date');
    expect(form.rules).toContainEqual(
      expect.objectContaining({
        name: 'close_date_required',
        field: 'expected_close_date',
        message: 'Expected close date is required in the negotiation and contract-signed stages.',
      }),
    );
  });

  it('leaves out the fields a role may not read, and the rules over them', async () => {
    const gm = (await o.as('gm', 'GET', '/api/meta/forms/opportunity?lang=en')).body.data;
    const marketing = (await o.as('marketing', 'GET', '/api/meta/forms/opportunity?lang=en')).body.data;
    expect(gm.read.properties.competitors).toBeDefined();
    for (const part of ['create', 'update', 'read']) expect(marketing[part].properties.competitors).toBeUndefined();
    expect(marketing.uiSchema.competitors).toBeUndefined();
    expect(marketing.uiSchema['ui:order']).not.toContain('competitors');
    expect(marketing.fields.map((f: any) => f.name)).not.toContain('competitors');
    expect(marketing.fields.map((f: any) => f.name)).toContain('amount');
    expect(marketing.read.properties.id).toBeDefined();
    // marketing may not create opportunities: no write allowlist beyond its read list, but reading is allowed.
    expect(marketing.rules.every((r: any) => r.field !== 'competitors')).toBe(true);
  });

  it('refuses an unknown entity, a language it does not speak, and callers without read access', async () => {
    const unknown = await o.as('gm', 'GET', '/api/meta/forms/nothing_here');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('unknown_entity');
    const lang = await o.as('gm', 'GET', '/api/meta/forms/opportunity?lang=fr', undefined, { 'accept-language': 'zh-CN' });
    expect(lang.status).toBe(400);
    expect(lang.body.error).toMatchObject({
      code: 'invalid_parameter',
      message: 'lang 只能是 zh-CN 或 en',
      details: [{ path: '/query/lang' }],
    });
    expect((await o.e.callAs(null, 'GET', '/api/meta/forms/opportunity')).status).toBe(401);
  });

  it('describes exactly what the validator accepts', async () => {
    const model = o.e.metadata.model;
    for (const entity of model.entities.values()) {
      for (const lang of ['en', 'zh-CN'] as const) {
        const annotated = recordSchemas(entity, { lang, labels: model, access: { readable: null, writable: null } });
        expect(strip(annotated.create), `${entity.name} create`).toEqual(entity.schemas.create);
        expect(strip(annotated.patch), `${entity.name} patch`).toEqual(entity.schemas.patch);
      }
    }
    // The validator compiled exactly these schemas.
    const opportunity = model.entity('opportunity')!;
    expect(opportunity.validateCreate.schema).toBe(opportunity.schemas.create);
    expect(opportunity.validatePatch.schema).toBe(opportunity.schemas.patch);
  });
});

describe('a plugin field type in forms', () => {
  it('contributes its widget and options through the registry', async () => {
    const e = await startEngine('pglite', { plugins: [rating] });
    try {
      const survey = {
        kind: 'entity',
        name: 'survey',
        label: L('Survey', '满意度调查'),
        fields: [
          {
            name: 'customer',
            type: 'text',
            label: L('Customer', '客户'),
            required: true,
            placeholder: L('Who answered', '受访客户'),
          },
          { name: 'score', type: 'rating', max: 3, label: L('Score', '评分') },
        ],
      };
      expect((await e.call('POST', '/api/meta/deploy', { documents: [survey] })).status).toBe(201);
      const form = (await e.call('GET', '/api/meta/forms/survey?lang=zh-CN')).body.data;
      expect(form.uiSchema.score).toEqual({ 'ui:widget': 'rating', 'ui:options': { max: 3 } });
      expect(form.uiSchema.customer).toEqual({ 'ui:widget': 'text', 'ui:placeholder': '受访客户' });
      expect(form.create.properties.score).toMatchObject({ title: '评分', type: ['integer', 'null'], maximum: 3 });
      expect(form.create.required).toEqual(['customer']);
    } finally {
      await e.stop();
    }
  });
});
