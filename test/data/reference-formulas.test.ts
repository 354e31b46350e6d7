/**
 * Formulas that read through a reference ({"var": "part.unit"}) and follow the referenced record when
 * it changes, in the same transaction, roll-ups included; `defaultFrom` snapshots that do not follow;
 * formulas over a dictionary item's attributes ({"var": "grade.weight"}), backfilled when a redeploy
 * changes an attribute; and the deploy checks of those paths.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers, L, startEngine, type TestEngine } from '../support/engine.js';

const grade = (weights: Record<string, number>) => ({
  kind: 'dictionary',
  name: 'part_grade',
  label: L('Grade', '等级'),
  items: Object.entries(weights).map(([value, weight]) => ({ value, label: L(value), attributes: { weight } })),
});
const part = {
  kind: 'entity',
  name: 'part',
  label: L('Part', '零件'),
  fields: [
    { name: 'name', type: 'text', label: L('Name', '名称'), required: true },
    { name: 'price', type: 'currency', label: L('Price', '价格') },
    { name: 'unit', type: 'text', label: L('Unit', '单位') },
  ],
};
const order = {
  kind: 'entity',
  name: 'porder',
  label: L('Order', '订单'),
  fields: [
    { name: 'title', type: 'text', label: L('Title', '标题') },
    {
      name: 'list_total',
      type: 'rollup',
      label: L('List total', '原价合计'),
      of: 'prow',
      via: 'porder',
      op: 'sum',
      field: 'list_amount',
      returns: 'currency',
    },
    {
      name: 'total',
      type: 'rollup',
      label: L('Total', '合计'),
      of: 'prow',
      via: 'porder',
      op: 'sum',
      field: 'amount',
      returns: 'currency',
    },
  ],
};
const row = {
  kind: 'entity',
  name: 'prow',
  label: L('Order row', '订单行'),
  fields: [
    { name: 'porder', type: 'reference', to: 'porder', label: L('Order', '订单'), onDelete: 'cascade' },
    { name: 'part', type: 'reference', to: 'part', label: L('Part', '零件'), required: true },
    { name: 'quantity', type: 'integer', label: L('Quantity', '数量'), required: true },
    { name: 'unit_price', type: 'currency', label: L('Unit price', '单价'), defaultFrom: 'part.price' },
    { name: 'grade', type: 'picklist', dictionary: 'part_grade', label: L('Grade', '等级') },
    { name: 'unit', type: 'formula', returns: 'text', label: L('Unit', '单位'), expr: { var: 'part.unit' } },
    {
      name: 'list_amount',
      type: 'formula',
      returns: 'currency',
      label: L('At list price', '按标准价'),
      expr: { '*': [{ var: 'quantity' }, { var: 'part.price' }] },
    },
    {
      name: 'amount',
      type: 'formula',
      returns: 'currency',
      label: L('Amount', '金额'),
      expr: { '*': [{ var: 'quantity' }, { var: 'unit_price' }] },
    },
    {
      name: 'score',
      type: 'formula',
      returns: 'decimal',
      label: L('Score', '得分'),
      expr: { '*': [{ var: 'grade.weight' }, 100] },
    },
  ],
};

describe.each(drivers)('formulas through references and dictionary attributes on %s', (driver) => {
  let e: TestEngine;
  beforeAll(async () => {
    e = await startEngine(driver);
    const res = await e.call('POST', '/api/meta/deploy', { documents: [grade({ a: 0.5, b: 0.2 }), part, order, row] });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  });
  afterAll(() => e?.stop());

  const get = async (entity: string, id: string) => (await e.call('GET', `/api/data/${entity}/${id}`)).body.data;
  const post = async (entity: string, body: unknown) => {
    const res = await e.call('POST', `/api/data/${entity}`, body);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.data;
  };

  it('reads through a reference, follows the referenced record, and snapshots defaultFrom at create', async () => {
    const bolt = await post('part', { name: '螺栓', price: 2.5, unit: '个' });
    const nut = await post('part', { name: '螺母', price: 1, unit: '只' });
    const o = await post('porder', { title: '订单' });
    const r1 = await post('prow', { porder: o.id, part: bolt.id, quantity: 10 });
    const r2 = await post('prow', { porder: o.id, part: bolt.id, quantity: 4, unit_price: 2 });
    expect(r1).toMatchObject({ unit: '个', unit_price: 2.5, list_amount: 25, amount: 25 });
    expect(r2).toMatchObject({ unit_price: 2, list_amount: 10, amount: 8 });
    expect(await get('porder', o.id)).toMatchObject({ list_total: 35, total: 33 });

    // The part's price and unit change: live formulas and the roll-up over them follow; snapshots stay.
    const res = await e.call('PATCH', `/api/data/part/${bolt.id}`, { version: bolt.version, price: 3, unit: '枚' });
    expect(res.status).toBe(200);
    expect(await get('prow', r1.id)).toMatchObject({ unit: '枚', unit_price: 2.5, list_amount: 30, amount: 25, version: 1 });
    expect(await get('prow', r2.id)).toMatchObject({ list_amount: 12, amount: 8 });
    expect(await get('porder', o.id)).toMatchObject({ list_total: 42, total: 33 });

    // Another part: the snapshot is taken again from it, unless a price is sent.
    const moved = await e.call('PATCH', `/api/data/prow/${r1.id}`, { version: 1, part: nut.id });
    expect(moved.body.data).toMatchObject({ unit: '只', unit_price: 1, list_amount: 10, amount: 10 });
    const priced = await e.call('PATCH', `/api/data/prow/${r2.id}`, { version: r2.version, part: nut.id, unit_price: 0.8 });
    expect(priced.body.data).toMatchObject({ unit_price: 0.8, amount: 3.2 });
  });

  it("reads a dictionary item's attribute, and a redeploy that changes it backfills the rows", async () => {
    const p = await post('part', { name: '垫片', price: 1 });
    const a = await post('prow', { part: p.id, quantity: 1, grade: 'a' });
    const b = await post('prow', { part: p.id, quantity: 1, grade: 'b' });
    const none = await post('prow', { part: p.id, quantity: 1 });
    expect([a.score, b.score, none.score]).toEqual([50, 20, null]);
    const res = await e.call('POST', '/api/meta/deploy', { documents: [grade({ a: 0.6, b: 0.2 })] });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.jobs.map((j: any) => j.entity)).toContain('prow');
    const deadline = Date.now() + 20_000;
    while ((await get('prow', a.id)).score !== 60 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect((await get('prow', a.id)).score).toBe(60);
    expect((await get('prow', b.id)).score).toBe(20);
    // A relabelled item (attributes unchanged) queues nothing.
    const relabel = grade({ a: 0.6, b: 0.2 });
    relabel.items[0].label = L('A grade', 'A 级');
    const quiet = await e.call('POST', '/api/meta/deploy', { documents: [relabel] });
    expect((quiet.body.jobs ?? []).map((j: any) => j.entity)).not.toContain('prow');
  });

  it('chains through formulas of referenced records: a change two steps away reaches the records, and a reference snapshot takes a reference', async () => {
    const vendor = {
      kind: 'entity',
      name: 'vendor',
      label: L('Vendor', '供应商'),
      fields: [
        { name: 'name', type: 'text', label: L('Name', '名称') },
        { name: 'rating', type: 'decimal', label: L('Rating', '评分') },
      ],
    };
    const item = {
      kind: 'entity',
      name: 'item',
      label: L('Item', '物料'),
      fields: [
        { name: 'vendor', type: 'reference', to: 'vendor', label: L('Vendor', '供应商') },
        {
          name: 'vendor_rating',
          type: 'formula',
          returns: 'decimal',
          label: L('Rating', '评分'),
          expr: { var: 'vendor.rating' },
        },
      ],
    };
    const line = {
      kind: 'entity',
      name: 'iline',
      label: L('Line', '行'),
      fields: [
        { name: 'item', type: 'reference', to: 'item', label: L('Item', '物料') },
        { name: 'quantity', type: 'integer', label: L('Quantity', '数量') },
        { name: 'vendor', type: 'reference', to: 'vendor', label: L('Vendor', '供应商'), defaultFrom: 'item.vendor' },
        {
          name: 'weighted',
          type: 'formula',
          returns: 'decimal',
          label: L('Weighted', '加权'),
          expr: { '*': [{ var: 'quantity' }, { var: 'item.vendor_rating' }] },
        },
        // Read through a reference that is itself a snapshot: taken after it.
        { name: 'vendor_name', type: 'text', label: L('Vendor name', '供应商名称'), defaultFrom: 'vendor.name' },
      ],
    };
    const deployed = await e.call('POST', '/api/meta/deploy', { documents: [vendor, item, line] });
    expect(deployed.status, JSON.stringify(deployed.body)).toBe(201);
    const v = await post('vendor', { name: '华东五金', rating: 0.8 });
    const i = await post('item', { vendor: v.id });
    const l = await post('iline', { item: i.id, quantity: 10 });
    expect([i.vendor_rating, l.weighted, l.vendor, l.vendor_name]).toEqual([0.8, 8, v.id, '华东五金']);
    const res = await e.call('PATCH', `/api/data/vendor/${v.id}`, { version: v.version, rating: 0.5 });
    expect(res.status).toBe(200);
    expect((await get('item', i.id)).vendor_rating).toBe(0.5);
    expect(await get('iline', l.id)).toMatchObject({ weighted: 5, version: 1 });

    // A bulk create reads the targets of all its records together: every record still gets its own
    // item's values, an id sent in capitals included (it is the same record, stored in lower case), and a snapshot's reference (the vendor, not among the
    // records' own values) is read on its own.
    const v2 = await post('vendor', { name: '华南电气', rating: 0.9 });
    const i2 = await post('item', { vendor: v2.id });
    const bulk = await e.call('POST', '/api/data/iline', [
      { item: i.id, quantity: 1 },
      { item: i2.id.toUpperCase(), quantity: 2 },
      { item: i.id, quantity: 3, vendor: v2.id },
      { item: i2.id, quantity: 4 },
    ]);
    expect(bulk.status, JSON.stringify(bulk.body)).toBe(201);
    expect(bulk.body.data.map((r: any) => [r.weighted, r.vendor, r.vendor_name])).toEqual([
      [0.5, v.id, '华东五金'],
      [1.8, v2.id, '华南电气'],
      [1.5, v2.id, '华南电气'],
      [3.6, v2.id, '华南电气'],
    ]);
    expect(bulk.body.data[1].item).toBe(i2.id);

    // A path of two steps is refused with the way round; a reference snapshot must land in a reference to the same entity.
    const chained = structuredClone(line);
    chained.fields.push({
      name: 'direct',
      type: 'formula',
      returns: 'decimal',
      label: L('d'),
      expr: { var: 'item.vendor.rating' },
    } as never);
    chained.fields.push({ name: 'wrong', type: 'reference', to: 'item', label: L('w'), defaultFrom: 'item.vendor' } as never);
    const refused = await e.call('POST', '/api/meta/deploy', { documents: [chained] });
    expect(refused.status).toBe(400);
    expect(refused.body.error.details.map((d: any) => `${d.path} ${d.code}`)).toEqual([
      '/documents/0/fields/5/expr invalid_path',
      '/documents/0/fields/6/defaultFrom invalid_path',
    ]);
    expect(refused.body.error.details[0].message).toMatch(/give item a formula reading "vendor\.rating"/);
  });

  it('checks the paths at deploy', async () => {
    const bad = structuredClone(row);
    bad.fields.push(
      { name: 'f1', type: 'formula', returns: 'decimal', label: L('f1'), expr: { var: 'part.nope' } } as never,
      { name: 'f2', type: 'formula', returns: 'decimal', label: L('f2'), expr: { var: 'quantity.x' } } as never,
      { name: 'f3', type: 'formula', returns: 'decimal', label: L('f3'), expr: { var: 'grade.height' } } as never,
      { name: 'f4', type: 'currency', label: L('f4'), defaultFrom: 'part.nothing' } as never,
      { name: 'f5', type: 'currency', label: L('f5'), defaultFrom: 'quantity.price' } as never,
    );
    const res = await e.call('POST', '/api/meta/deploy', { documents: [bad] });
    expect(res.status).toBe(400);
    const n = row.fields.length;
    const paths = res.body.error.details.map((d: any) => d.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        `/documents/0/fields/${n}/expr`,
        `/documents/0/fields/${n + 1}/expr`,
        `/documents/0/fields/${n + 2}/expr`,
        `/documents/0/fields/${n + 3}/defaultFrom`,
        `/documents/0/fields/${n + 4}/defaultFrom`,
      ]),
    );
  });
});
