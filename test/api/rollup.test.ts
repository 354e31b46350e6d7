/**
 * Roll-up fields: count, sum, min and max of a child's field over the records that reference the
 * parent, optionally filtered, exact after every kind of child write (create, bulk create, update,
 * moving a child, delete with cascades, restore), concurrent ones included; chained (lines → orders →
 * vendor) and read by formulas; filtered and sorted like any column; backfilled on deploy; checked.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers, L, q, startEngine, type TestEngine } from '../support/engine.js';

const app = [
  {
    kind: 'dictionary',
    name: 'line_status',
    label: L('Status'),
    items: ['open', 'shipped'].map((v) => ({ value: v, label: L(v) })),
  },
  {
    kind: 'entity',
    name: 'vendor',
    label: L('Vendor'),
    fields: [
      { name: 'name', type: 'text', label: L('Name'), required: true },
      {
        name: 'po_total',
        type: 'rollup',
        label: L('Ordered'),
        of: 'po',
        via: 'vendor',
        op: 'sum',
        field: 'total',
        returns: 'currency',
      },
    ],
  },
  {
    kind: 'entity',
    name: 'po',
    label: L('Purchase order'),
    fields: [
      { name: 'title', type: 'text', label: L('Title'), required: true },
      { name: 'vendor', type: 'reference', to: 'vendor', label: L('Vendor'), onDelete: 'cascade' },
      { name: 'lines', type: 'rollup', label: L('Lines'), of: 'po_line', via: 'po', op: 'count' },
      {
        name: 'total',
        type: 'rollup',
        label: L('Total'),
        of: 'po_line',
        via: 'po',
        op: 'sum',
        field: 'amount',
        returns: 'currency',
      },
      {
        name: 'open_total',
        type: 'rollup',
        label: L('Open'),
        of: 'po_line',
        via: 'po',
        op: 'sum',
        field: 'amount',
        returns: 'currency',
        where: { '==': [{ var: 'status' }, 'open'] },
      },
      {
        name: 'biggest',
        type: 'rollup',
        label: L('Biggest line'),
        of: 'po_line',
        via: 'po',
        op: 'max',
        field: 'amount',
        returns: 'currency',
      },
      {
        name: 'first_date',
        type: 'rollup',
        label: L('First line'),
        of: 'po_line',
        via: 'po',
        op: 'min',
        field: 'line_date',
        returns: 'date',
      },
      { name: 'with_tax', type: 'formula', label: L('With tax'), returns: 'currency', expr: { '*': [{ var: 'total' }, 1.13] } },
    ],
  },
  {
    kind: 'entity',
    name: 'po_line',
    label: L('Line'),
    fields: [
      { name: 'po', type: 'reference', to: 'po', label: L('Order'), onDelete: 'cascade' },
      { name: 'amount', type: 'currency', label: L('Amount'), required: true },
      { name: 'status', type: 'picklist', dictionary: 'line_status', label: L('Status'), default: 'open' },
      { name: 'line_date', type: 'date', label: L('Date') },
    ],
  },
];

describe.each(drivers)('roll-up fields on %s', (driver) => {
  let e: TestEngine;
  let vendor: any;
  beforeAll(async () => {
    e = await startEngine(driver);
    expect((await e.call('POST', '/api/meta/deploy', { documents: app })).status).toBe(201);
    vendor = (await e.call('POST', '/api/data/vendor', { name: '华信供应商' })).body.data;
  });
  afterAll(() => e?.stop());

  const get = async (entity: string, id: string) => (await e.call('GET', `/api/data/${entity}/${id}`)).body.data;
  const newPo = async (title = '采购单') => (await e.call('POST', '/api/data/po', { title, vendor: vendor.id })).body.data;
  const line = async (po: string, amount: number, extra: Record<string, unknown> = {}) => {
    const res = await e.call('POST', '/api/data/po_line', { po, amount, ...extra });
    expect(res.status).toBe(201);
    return res.body.data;
  };

  it('counts, sums, filters, takes min and max — and formulas and the grandparent follow', async () => {
    const po = await newPo();
    expect(po).toMatchObject({ lines: 0, total: 0, open_total: 0, biggest: null, first_date: null, with_tax: 0 });
    await line(po.id, 100, { line_date: '2026-03-02' });
    await line(po.id, 250.5, { status: 'shipped', line_date: '2026-01-15' });
    // A bulk create is one write: all its lines counted.
    expect(
      (
        await e.call('POST', '/api/data/po_line', [
          { po: po.id, amount: 10 },
          { po: po.id, amount: 20 },
        ])
      ).status,
    ).toBe(201);
    expect(await get('po', po.id)).toMatchObject({
      lines: 4,
      total: 380.5,
      open_total: 130,
      biggest: 250.5,
      first_date: '2026-01-15',
      with_tax: 429.97,
    });
    expect((await get('vendor', vendor.id)).po_total).toBe(380.5);
  });

  it('follows updates, a child moved to another parent, deletes with cascades and restores', async () => {
    const a = await newPo('A');
    const b = await newPo('B');
    const l1 = await line(a.id, 100);
    const l2 = await line(a.id, 50);
    const patch = async (id: string, body: Record<string, unknown>) => {
      const current = await get('po_line', id);
      expect((await e.call('PATCH', `/api/data/po_line/${id}`, { ...body, version: current.version })).status).toBe(200);
    };
    await patch(l1.id, { amount: 120 });
    expect(await get('po', a.id)).toMatchObject({ total: 170, open_total: 170 });
    await patch(l1.id, { status: 'shipped' });
    expect(await get('po', a.id)).toMatchObject({ total: 170, open_total: 50 });
    await patch(l2.id, { po: b.id }); // moved: the old parent loses it, the new one gains it
    expect(await get('po', a.id)).toMatchObject({ lines: 1, total: 120 });
    expect(await get('po', b.id)).toMatchObject({ lines: 1, total: 50 });
    const before = (await get('vendor', vendor.id)).po_total;
    expect((await e.call('DELETE', `/api/data/po_line/${l1.id}`)).status).toBe(200);
    expect(await get('po', a.id)).toMatchObject({ lines: 0, total: 0, biggest: null });
    expect((await get('vendor', vendor.id)).po_total).toBe(before - 120);
    expect((await e.call('POST', `/api/data/po_line/${l1.id}/restore`)).status).toBe(200);
    expect(await get('po', a.id)).toMatchObject({ lines: 1, total: 120 });
    // Deleting the order bins its lines with it (cascade): the vendor's total drops by the order's.
    expect((await e.call('DELETE', `/api/data/po/${b.id}`)).status).toBe(200);
    expect((await get('vendor', vendor.id)).po_total).toBe(before - 50);
    expect((await e.call('POST', `/api/data/po/${b.id}/restore`)).status).toBe(200);
    expect(await get('po', b.id)).toMatchObject({ lines: 1, total: 50 });
    expect((await get('vendor', vendor.id)).po_total).toBe(before);
  });

  it('stays exact under concurrent child writes to one parent', async () => {
    const po = await newPo('并发');
    const n = 24;
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) => e.call('POST', '/api/data/po_line', { po: po.id, amount: i + 1 })),
    );
    expect(results.every((r) => r.status === 201)).toBe(true);
    expect(await get('po', po.id)).toMatchObject({ lines: n, total: (n * (n + 1)) / 2 });
    // Concurrent deletes and updates too.
    const lines = results.map((r) => r.body.data);
    await Promise.all([
      ...lines.slice(0, 8).map((l) => e.call('DELETE', `/api/data/po_line/${l.id}`)),
      ...lines.slice(8, 16).map((l) => e.call('PATCH', `/api/data/po_line/${l.id}`, { amount: 1000, version: l.version })),
    ]);
    const rest = lines.slice(16).reduce((s, l) => s + l.amount, 0);
    const [{ sum }] = await e.database.rows<{ sum: string }>(
      sql`select sum(amount)::text as sum from po_line where po = ${po.id} and deleted_at is null`,
    );
    expect(Number(sum)).toBe(8 * 1000 + rest);
    expect(await get('po', po.id)).toMatchObject({ lines: 16, total: 8 * 1000 + rest });
  });

  it('is filtered and sorted like any column', async () => {
    const big = await newPo('大单');
    await line(big.id, 99999);
    const list = await e.call('GET', `/api/data/po?filter=${q({ '>': [{ var: 'total' }, 50000] })}&sort=-total`);
    expect(list.body.data.map((p: any) => p.title)).toEqual(['大单']);
    const sorted = (await e.call('GET', '/api/data/po?sort=-lines&limit=1')).body.data[0];
    expect(sorted.title).toBe('并发');
    expect((await e.call('PATCH', `/api/data/po/${big.id}`, { total: 1, version: big.version })).status).toBe(422);
  });

  it('is backfilled when a deploy adds one to an entity with records', async () => {
    const docs = structuredClone(app) as any[];
    docs
      .find((d) => d.name === 'vendor')
      .fields.push({ name: 'order_count', type: 'rollup', label: L('Orders'), of: 'po', via: 'vendor', op: 'count' });
    const deployed = await e.call('POST', '/api/meta/deploy', { documents: docs });
    expect(deployed.status).toBe(201);
    const expected = Number(
      (
        await e.database.rows<{ n: number }>(
          sql`select count(*)::int as n from po where vendor = ${vendor.id} and deleted_at is null`,
        )
      )[0].n,
    );
    const until = Date.now() + 15_000;
    while ((await get('vendor', vendor.id)).order_count !== expected && Date.now() < until)
      await new Promise((r) => setTimeout(r, 200));
    expect((await get('vendor', vendor.id)).order_count).toBe(expected);
  });

  it('follows an assignment when it filters on the owner; owner_id automations see the assignment', async () => {
    const buyer = await e.createUser({ username: 'buyer', display_name: '采购员', roles: [], password: 'buyer password 1' });
    // The vendor as deployed now (earlier tests added fields), with one more roll-up.
    const vendorDoc = (await e.call('GET', '/api/meta/documents/entity/vendor')).body;
    vendorDoc.fields.push({
      name: 'admins_orders',
      type: 'rollup',
      label: L("Admin's orders"),
      of: 'po',
      via: 'vendor',
      op: 'count',
      where: { '==': [{ var: 'owner_id' }, e.admin.id] },
    });
    const docs: any[] = [vendorDoc];
    docs.push({
      kind: 'automation',
      name: 'po_reassigned',
      label: L('Reassigned'),
      entity: 'po',
      trigger: { fieldChanged: ['owner_id'] },
      actions: [{ type: 'create_record', entity: 'po_line', values: { po: { var: 'id' }, amount: 1, status: 'shipped' } }],
    });
    const deployed = await e.call('POST', '/api/meta/deploy', { documents: docs });
    expect([deployed.status, deployed.body.error]).toEqual([201, undefined]);
    const other = (await e.call('POST', '/api/data/vendor', { name: '独立供应商' })).body.data;
    const [p1, p2] = await Promise.all(
      ['甲', '乙'].map(async (title) => (await e.call('POST', '/api/data/po', { title, vendor: other.id })).body.data),
    );
    expect((await get('vendor', other.id)).admins_orders).toBe(2);
    expect((await e.call('POST', `/api/data/po/${p1.id}/assign`, { to: buyer.id })).status).toBe(200);
    expect((await get('vendor', other.id)).admins_orders).toBe(1);
    // The automation ran for the assigned order only, in the assignment's transaction.
    expect(await get('po', p1.id)).toMatchObject({ lines: 1, total: 1 });
    expect(await get('po', p2.id)).toMatchObject({ lines: 0 });
    // A bulk assignment back: one call, both roll-ups and automations follow.
    const back = await e.call('POST', '/api/data/po/assign', { to: e.admin.id, from: buyer.id });
    expect([back.status, back.body.data?.assigned]).toEqual([200, 1]);
    expect((await get('vendor', other.id)).admins_orders).toBe(2);
    expect(await get('po', p1.id)).toMatchObject({ lines: 2 });
    const removed = await e.call('POST', '/api/meta/deploy', {
      documents: [],
      delete: [{ kind: 'automation', name: 'po_reassigned' }],
    });
    expect(removed.status).toBe(201);
  });

  it('follows a deploy that changes the formula of the field it sums (the backfill refreshes the parents)', async () => {
    const current = async (name: string) => (await e.call('GET', `/api/meta/documents/entity/${name}`)).body;
    const [poDoc, lineDoc] = [await current('po'), await current('po_line')];
    const net = (rate: number) => ({
      name: 'net',
      type: 'formula',
      label: L('Net'),
      returns: 'currency',
      expr: { '*': [{ var: 'amount' }, rate] },
    });
    poDoc.fields.push({
      name: 'net_total',
      type: 'rollup',
      label: L('Net total'),
      of: 'po_line',
      via: 'po',
      op: 'sum',
      field: 'net',
      returns: 'currency',
    });
    const po = await newPo('净额');
    await line(po.id, 100);
    await line(po.id, 300);
    const deploy = async (rate: number) => {
      const res = await e.call('POST', '/api/meta/deploy', {
        documents: [poDoc, { ...lineDoc, fields: [...lineDoc.fields, net(rate)] }],
      });
      expect([res.status, res.body.error]).toEqual([201, undefined]);
    };
    const settles = async (expected: number) => {
      const until = Date.now() + 20_000;
      while ((await get('po', po.id)).net_total !== expected && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
      return (await get('po', po.id)).net_total;
    };
    await deploy(0.9);
    expect(await settles(360)).toBe(360);
    await deploy(0.8); // only the lines' formula changed: their backfill must carry it to the orders
    expect(await settles(320)).toBe(320);
    expect((await get('po_line', (await line(po.id, 10)).id)).net).toBe(8);
    expect((await get('po', po.id)).net_total).toBe(328);
  });

  it('refuses roll-ups that cannot be computed, naming the option', async () => {
    const bad = (field: Record<string, unknown>) => {
      const docs = structuredClone(app) as any[];
      docs.find((d) => d.name === 'vendor').fields.push({ name: 'bad', type: 'rollup', label: L('Bad'), ...field });
      return e.call('POST', '/api/meta/deploy', { documents: docs });
    };
    const cases: [Record<string, unknown>, string][] = [
      [{ of: 'nothing', via: 'vendor', op: 'count' }, '/of'],
      [{ of: 'po', via: 'title', op: 'count' }, '/via'],
      [{ of: 'po', via: 'vendor', op: 'sum', field: 'title' }, '/field'],
      [{ of: 'po_line', via: 'po', op: 'max', field: 'line_date' }, '/returns'],
      [{ of: 'po', via: 'vendor', op: 'count', where: { '==': [{ var: 'nope' }, 1] } }, '/where'],
    ];
    for (const [field, path] of cases) {
      const res = await bad(field);
      expect([path, res.status, res.body.error.code]).toEqual([path, 400, 'invalid_metadata']);
      expect(res.body.error.details.map((d: any) => d.path).join(' ')).toContain(path);
    }
  });
});
