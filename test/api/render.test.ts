/**
 * List pages are rendered as JSON by PostgreSQL (engine/data/render.ts) while single reads decode rows
 * in Node (engine/data/records.ts): for generated records of every value kind the two must agree, and
 * keyset cursors made from the rendered sort keys must page through ties at full timestamp precision.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sql } from 'drizzle-orm';
import { drivers, q, startEngine, type TestEngine } from '../support/engine.js';
import { testApp } from './fixtures.js';

const text = fc.string({ unit: 'grapheme', maxLength: 40 });
const jsonValue = fc.jsonValue({ maxDepth: 3 }).filter((v) => !JSON.stringify(v).includes('\\u0000'));
const day = fc
  .date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2999-12-31T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10));
const instant = fc
  .date({ min: new Date('1000-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true })
  .map((d) => d.toISOString());

/** Deals with any mix of values (and nulls) the fixture's deal entity accepts. */
const deal = fc
  .record(
    {
      title: text.filter((s) => s.trim().length > 0),
      stage: fc.constantFrom('new', 'won', 'lost'),
      tags: fc.subarray(['hot', 'vip']),
      amount: fc.option(fc.integer({ min: 0, max: 99_999_999_999 }).map((cents) => cents / 100)),
      probability: fc.option(fc.integer({ min: 0, max: 100 })),
      quantity: fc.option(fc.integer({ min: 1, max: 1000 })),
      close_date: fc.option(day),
      closed_at: fc.option(instant),
      hot: fc.boolean(),
      extra: fc.option(jsonValue),
      code: fc.option(fc.integer({ min: 0, max: 1e6 }).map((n) => `AB-${n}`)),
    },
    { requiredKeys: ['title'] },
  )
  .map((d) => (d.stage === 'won' && !d.close_date ? { ...d, close_date: '2026-11-23' } : d)); // the fixture's rule

describe.each(drivers)('rendering records in PostgreSQL on %s', (driver) => {
  let e: TestEngine;

  beforeAll(async () => {
    e = await startEngine(driver);
    expect((await e.call('POST', '/api/meta/deploy', { documents: testApp() })).status).toBe(201);
  });
  afterAll(() => e?.stop());

  const listAll = async (query: string) => {
    const seen: any[] = [];
    let cursor: string | null = null;
    do {
      const res = await e.call('GET', `/api/data/deal?${query}${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      seen.push(...res.body.data);
      cursor = res.body.nextCursor;
      // A cursor that does not move on would page forever: fail instead.
      expect(seen.length, `paging ${query} does not end`).toBeLessThan(1000);
    } while (cursor);
    return seen;
  };

  it('lists every generated record exactly as a single read decodes it', async () => {
    const deals = fc.sample(deal, 150);
    const created = await e.call('POST', '/api/data/deal', deals);
    expect(created.status, JSON.stringify(created.body.error)).toBe(201);
    // Timestamps written with microseconds (as imports and now() do): both paths cut them to milliseconds.
    await e.database.rows(sql`update deal set closed_at = closed_at + interval '0.000987 seconds' where closed_at is not null`);

    const listed = await listAll('limit=37&sort=-amount');
    expect(listed).toHaveLength(deals.length);
    const byId = new Map(listed.map((r) => [r.id, r]));
    for (const record of created.body.data) {
      const single = (await e.call('GET', `/api/data/deal/${record.id}`)).body.data;
      expect(byId.get(record.id)).toStrictEqual(single);
      // …and the values are the ones written (numbers as numbers, dates as text, JSON as JSON).
      const { closed_at, ...rest } = record;
      expect(single).toMatchObject(rest);
      if (closed_at) expect(single.closed_at).toBe(closed_at);
    }
  });

  it("keeps a JSON field's string value a string on every path", async () => {
    const created = await e.call('POST', '/api/data/deal', { title: 'JSON strings', extra: '12', code: 'JS-1' });
    expect(created.body.data.extra).toBe('12');
    expect((await e.call('GET', `/api/data/deal/${created.body.data.id}`)).body.data.extra).toBe('12');
    const listed = await e.call('GET', `/api/data/deal?fields=extra&filter=${q({ '==': [{ var: 'code' }, 'JS-1'] })}`);
    expect(listed.body.data).toEqual([{ id: created.body.data.id, version: 1, extra: '12' }]);
    const patched = await e.call('PATCH', `/api/data/deal/${created.body.data.id}`, { version: 1, extra: 'a"b' });
    expect(patched.body.data.extra).toBe('a"b');
  });

  it('keeps the order and the key set of the fields asked for, and only the readable ones', async () => {
    const [first] = (await e.call('GET', '/api/data/deal?limit=1&fields=amount,title')).body.data;
    expect(Object.keys(first)).toEqual(['id', 'version', 'amount', 'title']);
  });

  it('pages through every sortable kind with cursors made from the rendered keys, each record once and in order', async () => {
    const everyone = (await listAll('limit=200&fields=title')).map((r) => r.id).sort();
    expect(everyone.length).toBeGreaterThan(150);
    // Values of these kinds compare the same in JavaScript as in PostgreSQL (text depends on the collation).
    const ordered = ['amount', 'probability', 'quantity', 'close_date', 'closed_at', 'hot'];
    for (const field of [...ordered, 'title', 'code']) {
      for (const desc of [false, true]) {
        const listed = await listAll(`limit=13&sort=${desc ? '-' : ''}${field}&fields=${field}`);
        expect(listed.map((r) => r.id).sort(), `${field} ${desc ? 'desc' : 'asc'}`).toEqual(everyone);
        if (!ordered.includes(field)) continue;
        // Ascending puts NULLs first, descending puts them last; the values between are monotonic.
        const values = listed.map((r) => r[field]);
        const nulls = values.filter((v) => v === null).length;
        expect(desc ? values.slice(values.length - nulls) : values.slice(0, nulls)).toEqual(Array(nulls).fill(null));
        const rest = desc ? values.slice(0, values.length - nulls) : values.slice(nulls);
        for (let i = 1; i < rest.length; i++)
          expect(desc ? rest[i - 1] >= rest[i] : rest[i - 1] <= rest[i], `${field} at ${i}`).toBe(true);
      }
    }
  });

  it('pages through records that share a timestamp to the microsecond, in both directions', async () => {
    // One bulk create: one transaction, so created_at (now()) is the same instant for every row.
    const batch = await e.call(
      'POST',
      '/api/data/deal',
      Array.from({ length: 7 }, (_, i) => ({ title: `Tie ${i}`, code: 'TI-1' })),
    );
    expect(batch.status).toBe(201);
    await e.database.rows(
      sql`update deal set created_at = date_trunc('second', created_at) + interval '0.123456 seconds' where code = 'TI-1'`,
    );
    const ids = batch.body.data.map((d: any) => d.id).sort();
    for (const sort of ['-created_at', 'created_at']) {
      const listed = await listAll(`limit=2&sort=${sort}&fields=title&filter=${q({ '==': [{ var: 'code' }, 'TI-1'] })}`);
      expect(listed.map((r) => r.id).sort()).toEqual(ids);
      // Ties fall back on id, in the direction of the sort.
      const order = listed.map((r) => r.id);
      expect(order).toEqual(sort.startsWith('-') ? [...ids].reverse() : ids);
    }
  });
});
