/**
 * Child collections: a record and its lines written in one request, one transaction — rows with an id
 * updated, rows without created, missing ones deleted; a bad row answers 422 at /lines/i/field and
 * writes nothing; the child's permissions hold; roll-ups over the lines are exact in the answer; GET
 * returns the lines inline in position order; deploy checks the declaration; forms carry the table.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers, L, startEngine, type TestEngine } from '../support/engine.js';

const lineEntity = {
  kind: 'entity',
  name: 'bill_line',
  label: L('Bill line', '单据明细'),
  fields: [
    { name: 'bill', type: 'reference', to: 'bill', label: L('Bill', '单据'), required: true, onDelete: 'cascade' },
    { name: 'line_no', type: 'integer', label: L('No.', '序号') },
    { name: 'item', type: 'text', label: L('Item', '品名'), required: true },
    { name: 'quantity', type: 'decimal', label: L('Quantity', '数量'), min: 0.01, required: true },
    { name: 'price', type: 'currency', label: L('Price', '单价'), min: 0 },
    {
      name: 'amount',
      type: 'formula',
      returns: 'currency',
      label: L('Amount', '金额'),
      expr: { '*': [{ var: 'quantity' }, { var: 'price' }] },
    },
  ],
};
const billEntity = {
  kind: 'entity',
  name: 'bill',
  label: L('Bill', '单据'),
  fields: [
    { name: 'title', type: 'text', label: L('Title', '标题'), required: true },
    {
      name: 'total',
      type: 'rollup',
      label: L('Total', '合计'),
      of: 'bill_line',
      via: 'bill',
      op: 'sum',
      field: 'amount',
      returns: 'currency',
    },
    { name: 'line_count', type: 'rollup', label: L('Lines', '行数'), of: 'bill_line', via: 'bill', op: 'count' },
    { name: 'revision', type: 'integer', label: L('Revision', '版本号'), default: 1, min: 1 },
    { name: 'previous', type: 'reference', to: 'bill', label: L('Previous revision', '上一版本') },
    { name: 'note', type: 'text', label: L('Note', '备注') },
  ],
  children: [{ name: 'lines', entity: 'bill_line', via: 'bill', label: L('Lines', '明细'), position: 'line_no' }],
  copy: {
    set: { revision: { '+': [{ var: 'revision' }, 1] }, previous: { var: 'id' } },
    reset: ['note'],
    label: L('New revision', '新版本'),
  },
};
// A standard bill gets its service fee line from an automation, in the creating transaction.
const feeLine = {
  kind: 'automation',
  name: 'bill_fee_line',
  label: L('Service fee line', '服务费明细'),
  entity: 'bill',
  trigger: { created: true },
  condition: { '==': [{ var: 'note' }, 'standard'] },
  actions: [
    { type: 'create_record', entity: 'bill_line', values: { bill: { var: 'id' }, item: '服务费', quantity: 1, price: 100 } },
  ],
};
const clerk = {
  kind: 'role',
  name: 'bill_clerk',
  label: L('Clerk', '文员'),
  grants: [
    { entity: 'bill', read: 'all', create: 'all', update: 'all' },
    { entity: 'bill_line', read: 'all' },
  ],
};

describe.each(drivers)('child collections on %s', (driver) => {
  let e: TestEngine;
  let clerkToken: string;
  beforeAll(async () => {
    e = await startEngine(driver);
    const res = await e.call('POST', '/api/meta/deploy', { documents: [billEntity, lineEntity, feeLine, clerk] });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const user = await e.createUser({
      username: 'clerk',
      display_name: '文员',
      roles: ['bill_clerk'],
      password: 'clerk-password-1',
    });
    clerkToken = await e.login('clerk', user.password);
  });
  afterAll(() => e?.stop());

  const count = async (entity: string) => (await e.call('GET', `/api/data/${entity}?count=true&limit=1`)).body.total as number;

  it('creates a record with its lines in one write; the roll-ups are in the answer and GET returns the lines in order', async () => {
    const res = await e.call('POST', '/api/data/bill', {
      title: '采购单 A',
      lines: [
        { item: '服务器', quantity: 2, price: 30000 },
        { item: '交换机', quantity: 1, price: 8000.5 },
      ],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.data).toMatchObject({ total: 68000.5, line_count: 2 });
    expect(res.body.data.lines.map((l: any) => [l.line_no, l.item, l.amount])).toEqual([
      [1, '服务器', 60000],
      [2, '交换机', 8000.5],
    ]);
    const got = (await e.call('GET', `/api/data/bill/${res.body.data.id}`)).body.data;
    expect(got.lines).toHaveLength(2);
    expect(got.lines[0].bill).toBe(res.body.data.id);
  });

  it('answers a new record with the lines its transaction wrote, and with none when nothing wrote any', async () => {
    const plain = await e.call('POST', '/api/data/bill', { title: '无明细单据' });
    expect(plain.status, JSON.stringify(plain.body)).toBe(201);
    expect(plain.body.data.lines).toEqual([]);
    // No line was sent: the automation's line is in the answer all the same.
    const standard = await e.call('POST', '/api/data/bill', { title: '标准单据', note: 'standard' });
    expect(standard.status, JSON.stringify(standard.body)).toBe(201);
    expect(standard.body.data.lines.map((l: any) => [l.item, l.amount])).toEqual([['服务费', 100]]);
    expect(standard.body.data).toMatchObject({ total: 100, line_count: 1 });
  });

  it('updates rows with an id, creates rows without, deletes rows left out — and audits each', async () => {
    const bill = (
      await e.call('POST', '/api/data/bill', {
        title: '采购单 B',
        lines: [
          { item: 'a', quantity: 1, price: 10 },
          { item: 'b', quantity: 1, price: 20 },
          { item: 'c', quantity: 1, price: 30 },
        ],
      })
    ).body.data;
    const [a, b, c] = bill.lines;
    // A row read from GET goes back as it is (system columns and formulas ignored), b changes, c goes, d comes.
    const res = await e.call('PATCH', `/api/data/bill/${bill.id}`, {
      version: bill.version,
      lines: [{ ...b, quantity: 3 }, a, { item: 'd', quantity: 2, price: 5 }],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data.lines.map((l: any) => [l.line_no, l.item, l.amount])).toEqual([
      [1, 'b', 60],
      [2, 'a', 10],
      [3, 'd', 10],
    ]);
    expect(res.body.data).toMatchObject({ total: 80, line_count: 3, version: bill.version + 1 });
    expect((await e.call('GET', `/api/data/bill_line/${c.id}`)).status).toBe(404);
    expect((await e.call('GET', `/api/data/bill_line?deleted=only&limit=50`)).body.data.map((l: any) => l.id)).toContain(c.id);
    const history = (await e.call('GET', `/api/data/bill_line/${b.id}/history`)).body.data;
    expect(history.map((h: any) => h.action)).toEqual(expect.arrayContaining(['create', 'update']));
    // Unchanged rows are not written again (a moved row is: its position changed).
    expect((await e.call('GET', `/api/data/bill_line/${a.id}`)).body.data).toMatchObject({ version: 2, line_no: 2 });
    const same = await e.call('PATCH', `/api/data/bill/${bill.id}`, {
      version: res.body.data.version,
      lines: res.body.data.lines,
    });
    expect(same.status).toBe(200);
    expect(same.body.data.lines.map((l: any) => l.version)).toEqual(res.body.data.lines.map((l: any) => l.version));
    // An empty array removes every line.
    const emptied = await e.call('PATCH', `/api/data/bill/${bill.id}`, { version: same.body.data.version, lines: [] });
    expect(emptied.body.data).toMatchObject({ total: 0, line_count: 0, lines: [] });
  });

  it('refuses a bad row with its path and writes nothing', async () => {
    const bills = await count('bill');
    const lines = await count('bill_line');
    const res = await e.call(
      'POST',
      '/api/data/bill',
      {
        title: '坏单据',
        lines: [
          { item: 'ok', quantity: 1, price: 1 },
          { item: 'ok2', quantity: 1, price: 1 },
          { item: 'bad', quantity: 0, price: 1 },
        ],
      },
      { 'accept-language': 'zh-CN' },
    );
    expect(res.status).toBe(422);
    expect(res.body.error.details.map((d: any) => d.path)).toContain('/lines/2/quantity');
    expect(await count('bill')).toBe(bills);
    expect(await count('bill_line')).toBe(lines);

    // On an update: the record's own change is rolled back with the rows.
    const bill = (await e.call('POST', '/api/data/bill', { title: '单据 C', lines: [{ item: 'x', quantity: 1, price: 5 }] })).body
      .data;
    const bad = await e.call('PATCH', `/api/data/bill/${bill.id}`, {
      version: bill.version,
      title: '改了',
      lines: [{ ...bill.lines[0], quantity: 2 }, { quantity: 1 }],
    });
    expect(bad.status).toBe(422);
    expect(bad.body.error.details.map((d: any) => d.path)).toContain('/lines/1/item');
    const after = (await e.call('GET', `/api/data/bill/${bill.id}`)).body.data;
    expect(after).toMatchObject({ title: '单据 C', total: 5, version: bill.version });
    expect(after.lines[0].quantity).toBe(1);

    // Not an array, not an object, an id of another record's line, a line sent to another record.
    const other = (await e.call('POST', '/api/data/bill', { title: '单据 D', lines: [{ item: 'y', quantity: 1 }] })).body.data;
    for (const [lines, path] of [
      [{}, '/lines'],
      [[1], '/lines/0'],
      [[{ id: other.lines[0].id, item: 'z', quantity: 1 }], '/lines/0/id'],
      [[{ item: 'z', quantity: 1, bill: other.id }], '/lines/0/bill'],
    ] as const) {
      const r = await e.call('PATCH', `/api/data/bill/${bill.id}`, { version: bill.version, lines });
      expect(r.status, JSON.stringify(lines)).toBe(422);
      expect(r.body.error.details.map((d: any) => d.path)).toContain(path);
    }
    expect((await e.call('GET', `/api/data/bill/${other.id}`)).body.data.lines).toHaveLength(1);
  });

  it("goes through the child's permissions: a clerk who may not create lines is refused, and nothing is written", async () => {
    const bills = await count('bill');
    const res = await e.callAs(clerkToken, 'POST', '/api/data/bill', {
      title: '文员的单据',
      lines: [{ item: 'x', quantity: 1 }],
    });
    expect(res.status).toBe(403);
    expect(res.body.error.details[0].path).toMatch(/^\/lines/);
    expect(await count('bill')).toBe(bills);
    // Without lines the clerk may create the bill, and sees lines read-only.
    const own = await e.callAs(clerkToken, 'POST', '/api/data/bill', { title: '文员的单据' });
    expect(own.status).toBe(201);
    expect(own.body.data.lines).toEqual([]);
  });

  it('copies a record with its lines in one transaction: computed fields, reset fields, overrides', async () => {
    const bill = (
      await e.call('POST', '/api/data/bill', {
        title: '报价 v1',
        note: '首版',
        lines: [
          { item: 'a', quantity: 2, price: 10 },
          { item: 'b', quantity: 1, price: 5 },
        ],
      })
    ).body.data;
    const res = await e.call('POST', `/api/data/bill/${bill.id}/copy`, { title: '报价 v2' });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.data).toMatchObject({
      title: '报价 v2',
      revision: 2,
      previous: bill.id,
      note: null,
      total: 25,
      line_count: 2,
    });
    expect(res.body.data.lines.map((l: any) => [l.line_no, l.item, l.amount])).toEqual([
      [1, 'a', 20],
      [2, 'b', 5],
    ]);
    expect(res.body.data.lines.every((l: any) => !bill.lines.some((o: any) => o.id === l.id))).toBe(true);
    // The original is untouched; copying the copy counts on.
    expect((await e.call('GET', `/api/data/bill/${bill.id}`)).body.data).toMatchObject({ revision: 1, line_count: 2 });
    const third = await e.call('POST', `/api/data/bill/${res.body.data.id}/copy`);
    expect(third.body.data).toMatchObject({ title: '报价 v2', revision: 3, previous: res.body.data.id });

    // An override that does not fit is a 422 and nothing is written.
    const bills = await count('bill');
    const bad = await e.call('POST', `/api/data/bill/${bill.id}/copy`, { revision: 0 });
    expect(bad.status).toBe(422);
    expect(bad.body.error.details.map((d: any) => d.path)).toContain('/revision');
    expect(await count('bill')).toBe(bills);
    // Copying needs the create right on the record and its rows; an entity without `copy` is refused.
    const denied = await e.callAs(clerkToken, 'POST', `/api/data/bill/${bill.id}/copy`);
    expect(denied.status).toBe(403);
    expect(await count('bill')).toBe(bills);
    expect((await e.call('POST', `/api/data/bill_line/${bill.lines[0].id}/copy`)).status).toBe(400);
    expect((await e.call('POST', `/api/data/bill/00000000-0000-7000-8000-000000000000/copy`)).status).toBe(404);
    const openapi = (await e.call('GET', '/api/openapi.json')).body;
    expect(openapi.paths['/api/data/bill/{id}/copy']).toBeDefined();
    expect(openapi.paths['/api/data/bill_line/{id}/copy']).toBeUndefined();
    expect(openapi.components.schemas.BillCreate.properties.lines.type).toBe('array');
  });

  it('describes the collection in the forms and checks the declaration at deploy', async () => {
    const form = (await e.call('GET', '/api/meta/forms/bill?lang=zh-CN')).body.data;
    expect(form.create.properties.lines).toMatchObject({ type: 'array', title: '明细' });
    expect(Object.keys(form.create.properties.lines.items.properties)).toEqual(
      expect.arrayContaining(['item', 'quantity', 'price']),
    );
    expect(form.create.properties.lines.items.properties.bill).toBeUndefined();
    expect(form.update.properties.lines.items.properties.id).toBeDefined();

    const bad = await e.call('POST', '/api/meta/deploy', {
      documents: [
        {
          ...billEntity,
          children: [
            { name: 'lines', entity: 'nothing', via: 'bill', label: L('x') },
            { name: 'more', entity: 'bill_line', via: 'item', label: L('x') },
            { name: 'title', entity: 'bill_line', via: 'bill', label: L('x'), position: 'item' },
          ],
        },
      ],
    });
    expect(bad.status).toBe(400);
    const paths = bad.body.error.details.map((d: any) => d.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/documents/0/children/0/entity',
        '/documents/0/children/1/via',
        '/documents/0/children/2/name',
        '/documents/0/children/2/position',
      ]),
    );
  });
});
