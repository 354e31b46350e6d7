/**
 * Input that passed validation and then crashed in PostgreSQL (issue 11, item 4), blanks accepted as
 * required text (item 11) and the smaller leaks of item 10: every such request now gets a 400/422 with
 * a code and a path, from the field types' own checks (ranges from the column type), cursor decoding and
 * filter limits — and writes nothing.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers, L, q, startEngine, type TestEngine } from '../support/engine.js';

const documents = [
  { kind: 'dictionary', name: 'gadget_state', label: L('State'), items: ['new', 'done'].map((v) => ({ value: v, label: L(v) })) },
  {
    kind: 'entity',
    name: 'gadget',
    label: L('Gadget', '小部件'),
    titleField: 'title',
    fields: [
      { name: 'title', type: 'text', label: L('Title', '名称'), required: true, maxLength: 100 },
      { name: 'code', type: 'text', label: L('Code', '编码'), unique: true },
      { name: 'qty', type: 'integer', label: L('Quantity', '数量') },
      { name: 'credit', type: 'currency', label: L('Credit', '信用额度') },
      { name: 'ratio', type: 'decimal', precision: 5, scale: 2, label: L('Ratio', '比率') },
      { name: 'day', type: 'date', label: L('Day', '日期') },
      { name: 'at', type: 'datetime', label: L('At', '时间') },
      { name: 'meta', type: 'json', label: L('Meta', '附加') },
      { name: 'state', type: 'picklist', dictionary: 'gadget_state', label: L('State', '状态') },
      { name: 'keeper', type: 'reference', to: 'user', label: L('Keeper', '保管人') },
    ],
  },
  {
    kind: 'workflow',
    name: 'gadget_flow',
    label: L('Gadget flow'),
    entity: 'gadget',
    stateField: 'state',
    initial: 'new',
    states: {
      new: {
        on: {
          finish: { target: 'done', label: L('Finish') },
          // the input goes into fields: the field types check it like any write
          hand: {
            target: 'new',
            label: L('Hand over'),
            input: { type: 'object', properties: { who: { type: 'string' }, n: { type: 'number' } } },
            actions: [{ type: 'set', values: { keeper: { var: '$input.who' }, qty: { var: '$input.n' } } }],
          },
        },
      },
      done: { type: 'final' },
    },
  },
];

const cursor = (s: string, v: unknown[], id = '00000000-0000-7000-8000-000000000000') =>
  Buffer.from(JSON.stringify({ s, v, id })).toString('base64url');

describe.each(drivers)('input hardening on %s', (driver) => {
  let e: TestEngine;
  let gadget: any;
  beforeAll(async () => {
    e = await startEngine(driver);
    const res = await e.call('POST', '/api/meta/deploy', { documents });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    gadget = (await e.call('POST', '/api/data/gadget', { title: 'first', code: 'G-1' })).body.data;
  });
  afterAll(() => e?.stop());

  const count = async () => Number((await e.database.rows<{ n: number }>(sql`select count(*)::int as n from gadget`))[0].n);
  const refused = async (body: Record<string, unknown>, path: string, code?: string) => {
    const before = await count();
    const res = await e.call('POST', '/api/data/gadget', { title: 'x', ...body });
    expect([res.status, res.body.error?.details?.map((d: any) => d.path)], JSON.stringify(body).slice(0, 80)).toEqual([
      422,
      [path],
    ]);
    if (code) expect(res.body.error.details[0].code).toBe(code);
    expect(await count()).toBe(before); // nothing written
  };

  it('refuses text PostgreSQL cannot store — NUL, lone surrogates — anywhere, also inside JSON', async () => {
    await refused({ title: 'a\u0000b' }, '/title', 'invalid_text');
    await refused({ title: 'a\uD800b' }, '/title', 'invalid_text');
    await refused({ meta: { note: ['ok', 'bad\u0000'] } }, '/meta/note/1', 'invalid_text');
    const patch = await e.call('PATCH', `/api/data/gadget/${gadget.id}`, { title: '\uDC00', version: gadget.version });
    expect([patch.status, patch.body.error.details[0].path]).toEqual([422, '/title']);
    expect((await e.call('GET', `/api/data/gadget?q=${encodeURIComponent('a\u0000')}`)).status).toBe(400);
    expect((await e.call('POST', '/api/data/gadget', { title: '😀 ok' })).status).toBe(201); // a proper pair is fine
  });

  it('bounds numbers by their column: integer, numeric(18,2), numeric(5,2)', async () => {
    await refused({ qty: 2147483648 }, '/qty');
    await refused({ qty: -2147483649 }, '/qty');
    await refused({ qty: 1.5 }, '/qty');
    await refused({ credit: 1e16 }, '/credit');
    await refused({ ratio: 1000 }, '/ratio');
    await refused({ ratio: 999.996 }, '/ratio'); // rounds to 1000.00 at scale 2
    const ok = await e.call('POST', '/api/data/gadget', {
      title: 'edges',
      qty: 2147483647,
      credit: 999999999999999.9,
      ratio: -999.99,
    });
    expect(ok.status).toBe(201);
    expect(ok.body.data).toMatchObject({ qty: 2147483647, ratio: -999.99 });
    const schema = (await e.call('GET', '/api/openapi.json')).body;
    expect(JSON.stringify(schema)).toContain('2147483647'); // clients (and the forms) see the range too
  });

  it('refuses dates and times PostgreSQL has not: year 0, 30 February, a leap second, year 275760', async () => {
    await refused({ day: '0000-01-01' }, '/day');
    await refused({ day: '2026-02-30' }, '/day');
    await refused({ at: '2026-06-30T23:59:60Z' }, '/at');
    await refused({ at: '+275760-09-13T00:00:00Z' }, '/at');
    await refused({ at: '0000-01-01T00:00:00Z' }, '/at');
    expect(
      (await e.call('POST', '/api/data/gadget', { title: 'leap', day: '2024-02-29', at: '2026-06-30T23:59:59.999+08:00' }))
        .status,
    ).toBe(201);
  });

  it('requires non-blank text and trims text on write', async () => {
    await refused({ title: '' }, '/title', 'required');
    await refused({ title: '   \t' }, '/title', 'required');
    const patch = await e.call('PATCH', `/api/data/gadget/${gadget.id}`, { title: '  ', version: gadget.version });
    expect([patch.status, patch.body.error.details[0].code]).toEqual([422, 'required']);
    const trimmed = await e.call('POST', '/api/data/gadget', { title: '  padded  ', code: ' C-2 ' });
    expect(trimmed.body.data).toMatchObject({ title: 'padded', code: 'C-2' });
    // trimmed before the unique check: ' C-2' is the same code
    const dup = await e.call('POST', '/api/data/gadget', { title: 'dup', code: 'C-2  ' });
    expect([dup.status, dup.body.error.code]).toEqual([422, 'unique_violation']);
    // …and says only "must be unique", not that another record has it
    expect(dup.body.error.message).not.toMatch(/another/i);
    const zh = await e.call('POST', '/api/data/gadget', { title: 'dup', code: 'C-2' }, { 'accept-language': 'zh-CN' });
    expect(zh.body.error.message).toBe('编码必须唯一');
  });

  it("decodes cursors by the sort field's type, refusing what the column cannot compare", async () => {
    const bad: [string, unknown][] = [
      ['qty', 1.5],
      ['qty', 2147483648],
      ['credit', 1e20],
      ['day', '2026-02-30'],
      ['day', '0000-01-01'],
      ['at', '1'],
      ['at', '2026-01-01T23:59:60Z'],
      ['title', 'a\u0000'],
      ['title', 42],
    ];
    for (const [field, value] of bad) {
      const res = await e.call('GET', `/api/data/gadget?sort=${field}&cursor=${cursor(field, [value])}`);
      expect([field, value, res.status, res.body.error.code, res.body.error.details[0].path]).toEqual([
        field,
        value,
        400,
        'invalid_cursor',
        '/query/cursor',
      ]);
    }
    // a real cursor still works
    const first = await e.call('GET', '/api/data/gadget?sort=at&limit=1');
    expect((await e.call('GET', `/api/data/gadget?sort=at&limit=1&cursor=${first.body.nextCursor}`)).status).toBe(200);
    const byDay = await e.call('GET', '/api/data/gadget?sort=-day&limit=1');
    expect((await e.call('GET', `/api/data/gadget?sort=-day&limit=1&cursor=${byDay.body.nextCursor}`)).status).toBe(200);
  });

  it('limits the size and depth of filters (400 with a code), in the query and in a POST body', async () => {
    const wide = { in: [{ var: 'title' }, Array.from({ length: 70_000 }, (_, i) => `v${i}`)] };
    const res = await e.call('GET', `/api/data/gadget?filter=${q(wide)}`);
    expect([res.status, res.body.error.code]).toEqual([400, 'filter_too_large']);
    const depth = 10_000;
    const deep = '{"!":['.repeat(depth) + 'true' + ']}'.repeat(depth);
    const res2 = await e.call('GET', `/api/data/gadget?filter=${encodeURIComponent(deep)}`);
    expect([res2.status, res2.body.error.code]).toEqual([400, 'filter_too_deep']);
    const assign = await e.call('POST', '/api/data/gadget/assign', `{"filter": ${deep}, "to": "${e.admin.id}"}`);
    expect([assign.status, assign.body.error.code, assign.body.error.details[0].path]).toEqual([
      400,
      'filter_too_deep',
      '/filter',
    ]);
  });

  it('checks transition input by the field types it is written to (422, not a database error)', async () => {
    const fire = (input: unknown) => e.call('POST', `/api/data/gadget/${gadget.id}/transitions/hand`, { input });
    const uuid = await fire({ who: 'not-a-uuid', n: 1 });
    expect([uuid.status, uuid.body.error.code, uuid.body.error.details[0].path]).toEqual([422, 'validation_failed', '/keeper']);
    const big = await fire({ who: e.admin.id, n: 2147483648 });
    expect([big.status, big.body.error.details[0].path]).toEqual([422, '/qty']);
    const ok = await fire({ who: e.admin.id, n: 7 });
    expect([ok.status, ok.body.data.record.keeper, ok.body.data.record.qty]).toEqual([200, e.admin.id, 7]);
  });

  it('looks transitions up without the object prototype', async () => {
    for (const event of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      const res = await e.call('POST', `/api/data/gadget/${gadget.id}/transitions/${event}`);
      expect([event, res.status, res.body.error.code]).toEqual([event, 409, 'invalid_transition']);
    }
  });

  it('refuses out-of-range versions and token expiries with 400', async () => {
    expect((await e.call('POST', `/api/data/gadget/${gadget.id}/revert`, { version: 2147483648 })).status).toBe(400);
    expect((await e.call('POST', `/api/data/gadget/${gadget.id}/transitions/finish`, { version: 2147483648 })).status).toBe(400);
    for (const expiresAt of ['2030', '+275760-01-01T00:00:00Z', '2030-02-30T00:00:00Z']) {
      const res = await e.call('POST', '/api/auth/tokens', { name: 'x', expiresAt });
      expect([expiresAt, res.status]).toEqual([expiresAt, 400]);
    }
  });
});
