import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers, q, startEngine, type TestEngine } from '../support/engine.js';
import { testApp } from './fixtures.js';

describe.each(drivers)('records API on %s', (driver) => {
  let e: TestEngine;
  let acme: any;

  beforeAll(async () => {
    e = await startEngine(driver);
    const deployed = await e.call('POST', '/api/meta/deploy', { documents: testApp() });
    expect(deployed.status).toBe(201);
    acme = (await e.call('POST', '/api/data/account', { name: 'Acme', region: 'east' })).body.data;
  });
  afterAll(() => e?.stop());

  const countRows = async (table: string) => {
    const [row] = await e.database.rows<{ n: number }>(
      (await import('drizzle-orm')).sql.raw(`select count(*)::int as n from "${table}"`),
    );
    return Number(row.n);
  };

  describe('create', () => {
    it('stores typed values, applies defaults, computes formulas and stamps system columns', async () => {
      const res = await e.call('POST', '/api/data/deal', {
        title: 'ERP rollout',
        account: acme.id,
        amount: 120000.456,
        probability: 35,
        quantity: 3,
        tags: ['hot'],
        close_date: '2026-12-31',
        closed_at: '2026-11-01T08:30:00+08:00',
        extra: { source: 'fair', n: [1, 2] },
      });
      expect(res.status).toBe(201);
      const d = res.body.data;
      expect(res.headers.get('location')).toBe(`/api/data/deal/${d.id}`);
      expect(res.headers.get('etag')).toBe('"1"');
      expect(d).toMatchObject({
        title: 'ERP rollout',
        stage: 'new',
        hot: false,
        amount: 120000.46,
        probability: 35,
        quantity: 3,
        tags: ['hot'],
        version: 1,
        deleted_at: null,
      });
      expect(d.weighted).toBe(42000.16);
      expect(d.big).toBe(true);
      expect(d.close_date).toBe('2026-12-31');
      expect(d.closed_at).toBe('2026-11-01T00:30:00.000Z');
      expect(d.extra).toEqual({ source: 'fair', n: [1, 2] });
      expect(d.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(Date.parse(d.created_at)).toBeGreaterThan(Date.now() - 60_000);
      const fetched = await e.call('GET', `/api/data/deal/${d.id}`);
      expect(fetched.body.data).toEqual(d);
    });

    it('refuses a bad record with every problem listed, and writes nothing', async () => {
      const before = await countRows('deal');
      const res = await e.call('POST', '/api/data/deal', {
        amount: -5,
        probability: 150,
        stage: 'bogus',
        tags: ['hot', 'hot'],
        quantity: 2.5,
        close_date: '2026-02-30',
        code: 'bad',
        weighted: 1,
        id: 'x',
        nonsense: true,
      });
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('validation_failed');
      const paths = res.body.error.details.map((d: any) => d.path).sort();
      expect(paths).toEqual(
        [
          '/amount',
          '/close_date',
          '/code',
          '/id',
          '/nonsense',
          '/probability',
          '/quantity',
          '/stage',
          '/tags',
          '/title',
          '/weighted',
        ].sort(),
      );
      for (const d of res.body.error.details) expect(d.message).toEqual(expect.any(String));
      expect(await countRows('deal')).toBe(before);
    });

    it('refuses inactive dictionary values, bad e-mails, URLs and phone numbers', async () => {
      const deal = await e.call('POST', '/api/data/deal', { title: 't', stage: 'old' });
      expect(deal.status).toBe(422);
      expect(deal.body.error.details[0].path).toBe('/stage');
      const acc = await e.call('POST', '/api/data/account', {
        name: 'Bad contact',
        region: 'east',
        email: 'not-an-email',
        website: 'no scheme',
        phone: 'call me',
      });
      expect(acc.status).toBe(422);
      expect(acc.body.error.details.map((d: any) => d.path).sort()).toEqual(['/email', '/phone', '/website']);
      const ok = await e.call('POST', '/api/data/account', {
        name: 'Good contact',
        region: 'north',
        email: 'li.lei@example.cn',
        website: 'https://example.cn',
        phone: '+86 010-12345678',
      });
      expect(ok.status).toBe(201);
    });

    it('checks json-logic rules with messages in the caller’s language', async () => {
      const en = await e.call('POST', '/api/data/deal', { title: 'Won deal', stage: 'won' });
      expect(en.status).toBe(422);
      expect(en.body.error.details).toEqual([
        { path: '/close_date', code: 'rule_violation', rule: 'won_needs_close_date', message: 'A won deal needs a close date' },
      ]);
      const zh = await e.call(
        'POST',
        '/api/data/deal',
        { title: 'Won deal', stage: 'won' },
        { 'accept-language': 'zh-CN,zh;q=0.9' },
      );
      expect(zh.body.error.details[0].message).toBe('赢单必须填写成交日期');
      const ok = await e.call('POST', '/api/data/deal', { title: 'Won deal', stage: 'won', close_date: '2026-10-01' });
      expect(ok.status).toBe(201);
    });

    it('refuses references to missing or deleted records', async () => {
      const missing = await e.call('POST', '/api/data/deal', { title: 't', account: '01900000-0000-7000-8000-000000000000' });
      expect(missing.status).toBe(422);
      expect(missing.body.error.details[0]).toMatchObject({ path: '/account', code: 'invalid_reference' });
      const gone = (await e.call('POST', '/api/data/account', { name: 'Gone Ltd', region: 'east' })).body.data;
      expect((await e.call('DELETE', `/api/data/account/${gone.id}`)).status).toBe(200);
      const res = await e.call('POST', '/api/data/note', { body: 'x', account: gone.id });
      expect(res.status).toBe(422);
      expect(res.body.error.details[0].path).toBe('/account');
    });

    it('bulk-creates all or nothing', async () => {
      const before = await countRows('deal');
      const bad = await e.call('POST', '/api/data/deal', [
        { title: 'b1' },
        { title: 'b2', amount: -1 },
        { title: 'b3', stage: 'won' },
      ]);
      expect(bad.status).toBe(422);
      expect(bad.body.error.details.map((d: any) => d.path)).toEqual(['/1/amount']);
      const ruleFail = await e.call('POST', '/api/data/deal', [{ title: 'b1' }, { title: 'b3', stage: 'won' }]);
      expect(ruleFail.status).toBe(422);
      expect(ruleFail.body.error.details.map((d: any) => d.path)).toEqual(['/1/close_date']);
      expect(await countRows('deal')).toBe(before);
      const ok = await e.call(
        'POST',
        '/api/data/deal',
        Array.from({ length: 30 }, (_, i) => ({ title: `bulk ${i}`, amount: i * 10 })),
      );
      expect(ok.status).toBe(201);
      expect(ok.body.data).toHaveLength(30);
      expect(await countRows('deal')).toBe(before + 30);
      expect((await e.call('POST', '/api/data/deal', [])).status).toBe(400);
    });

    it(
      'numbers auto-number fields per prefix, uniquely under concurrent inserts' +
        (driver === 'pglite' ? ' (PGlite runs one statement at a time: this cannot fail here, only on PostgreSQL)' : ''),
      async () => {
        expect(acme.archive_no).toMatch(/^EAST-\d{4}$/);
        const created = await Promise.all(
          Array.from({ length: 24 }, (_, i) =>
            e.call('POST', '/api/data/account', { name: `Concurrent ${i}`, region: i % 2 ? 'east' : 'north' }),
          ),
        );
        expect(created.every((r) => r.status === 201)).toBe(true);
        const numbers = created.map((r) => r.body.data.archive_no as string);
        expect(new Set(numbers).size).toBe(24);
        const north = numbers
          .filter((n) => n.startsWith('NORTH-'))
          .map((n) => Number(n.slice(6)))
          .sort((a, b) => a - b);
        expect(north).toHaveLength(12);
        expect(north[11] - north[0]).toBe(11); // consecutive within the prefix
        // a record refused by validation takes no number
        const last = (await e.call('POST', '/api/data/account', { name: 'Before refusal', region: 'north' })).body.data
          .archive_no;
        expect((await e.call('POST', '/api/data/account', { name: 'Reject Me', region: 'north' })).status).toBe(422);
        const next = (await e.call('POST', '/api/data/account', { name: 'After refusal', region: 'north' })).body.data.archive_no;
        expect(Number(next.slice(6))).toBe(Number(last.slice(6)) + 1);
        const readOnly = await e.call('POST', '/api/data/account', { name: 'Sneaky', region: 'east', archive_no: 'EAST-9999' });
        expect(readOnly.status).toBe(422);
        expect(readOnly.body.error.details[0].path).toBe('/archive_no');
      },
    );

    it('numbers a bulk create in one reservation per prefix, in order, without gaps', async () => {
      const res = await e.call(
        'POST',
        '/api/data/account',
        [1, 2, 3, 4, 5].map((i) => ({ name: `Bulk numbered ${i}`, region: i % 2 ? 'east' : 'north' })),
      );
      expect(res.status).toBe(201);
      const numbers = res.body.data.map((a: any) => a.archive_no as string);
      const east = numbers.filter((n: string) => n.startsWith('EAST-')).map((n: string) => Number(n.slice(5)));
      const north = numbers.filter((n: string) => n.startsWith('NORTH-')).map((n: string) => Number(n.slice(6)));
      expect(east).toEqual([east[0], east[0] + 1, east[0] + 2]);
      expect(north).toEqual([north[0], north[0] + 1]);
      const next = (await e.call('POST', '/api/data/account', { name: 'After bulk', region: 'east' })).body.data.archive_no;
      expect(Number(next.slice(5))).toBe(east[2] + 1);
    });

    it('reports unique violations on the field', async () => {
      const dup = await e.call('POST', '/api/data/account', { name: 'Acme', region: 'north' });
      expect(dup.status).toBe(422);
      expect(dup.body.error).toMatchObject({ code: 'unique_violation', details: [{ path: '/name' }] });
    });
  });

  describe('update', () => {
    it('changes fields with the version read, recomputes formulas and bumps the version', async () => {
      const d = (await e.call('POST', '/api/data/deal', { title: 'Upd', amount: 1000, probability: 10 })).body.data;
      const res = await e.call('PATCH', `/api/data/deal/${d.id}`, { probability: 50 }, { 'if-match': '"1"' });
      expect(res.status).toBe(200);
      expect(res.body.data).toMatchObject({ probability: 50, weighted: 500, version: 2, title: 'Upd' });
      expect(res.headers.get('etag')).toBe('"2"');
      expect(Date.parse(res.body.data.updated_at)).toBeGreaterThanOrEqual(Date.parse(d.updated_at));
      const viaBody = await e.call('PATCH', `/api/data/deal/${d.id}`, { amount: 2000, version: 2 });
      expect(viaBody.body.data).toMatchObject({ weighted: 1000, version: 3 });
    });

    it('refuses a stale version with 409 and changes nothing', async () => {
      const d = (await e.call('POST', '/api/data/deal', { title: 'Stale', amount: 1 })).body.data;
      await e.call('PATCH', `/api/data/deal/${d.id}`, { amount: 2, version: 1 });
      const stale = await e.call('PATCH', `/api/data/deal/${d.id}`, { amount: 3, version: 1 });
      expect(stale.status).toBe(409);
      expect(stale.body.error.code).toBe('version_conflict');
      expect((await e.call('GET', `/api/data/deal/${d.id}`)).body.data).toMatchObject({ amount: 2, version: 2 });
    });

    it(
      'lets exactly one of two concurrent updates of the same version win' +
        (driver === 'pglite' ? ' (PGlite runs one statement at a time: this cannot fail here, only on PostgreSQL)' : ''),
      async () => {
        const d = (await e.call('POST', '/api/data/deal', { title: 'Race', amount: 1 })).body.data;
        const results = await Promise.all(
          [10, 20, 30, 40].map((amount) => e.call('PATCH', `/api/data/deal/${d.id}`, { amount, version: 1 })),
        );
        expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409, 409]);
        const winner = results.find((r) => r.status === 200)!.body.data.amount;
        expect((await e.call('GET', `/api/data/deal/${d.id}`)).body.data).toMatchObject({ amount: winner, version: 2 });
      },
    );

    it('needs a version, validates the change and the rules on the merged record', async () => {
      const d = (await e.call('POST', '/api/data/deal', { title: 'Rules' })).body.data;
      expect((await e.call('PATCH', `/api/data/deal/${d.id}`, { amount: 5 })).status).toBe(428);
      expect((await e.call('PATCH', `/api/data/deal/${d.id}`, { amount: 5 }, { 'if-match': 'abc' })).status).toBe(400);
      const rule = await e.call('PATCH', `/api/data/deal/${d.id}`, { stage: 'won', version: 1 });
      expect(rule.status).toBe(422);
      expect(rule.body.error.details[0].path).toBe('/close_date');
      const nullRequired = await e.call('PATCH', `/api/data/deal/${d.id}`, { title: null, version: 1 });
      expect(nullRequired.status).toBe(422);
      expect(nullRequired.body.error.details[0].path).toBe('/title');
      const readOnly = await e.call('PATCH', `/api/data/deal/${d.id}`, {
        weighted: 5,
        created_at: '2020-01-01T00:00:00Z',
        version: 1,
      });
      expect(readOnly.status).toBe(422);
      expect(readOnly.body.error.details.map((x: any) => x.path).sort()).toEqual(['/created_at', '/weighted']);
      expect((await e.call('GET', `/api/data/deal/${d.id}`)).body.data.version).toBe(1);
    });

    it('answers 404 for unknown entities and ids, 400 for malformed JSON', async () => {
      expect((await e.call('GET', '/api/data/nope')).body.error.code).toBe('unknown_entity');
      expect((await e.call('GET', '/api/data/nope')).status).toBe(404);
      expect((await e.call('GET', '/api/data/deal/01900000-0000-7000-8000-000000000000')).status).toBe(404);
      expect((await e.call('GET', '/api/data/deal/not-a-uuid')).status).toBe(404);
      expect(
        (await e.call('PATCH', '/api/data/deal/01900000-0000-7000-8000-000000000000', { amount: 1, version: 1 })).status,
      ).toBe(404);
      const malformed = await e.call('POST', '/api/data/deal', '{"title": ');
      expect(malformed.status).toBe(400);
      expect(malformed.body.error.code).toBe('invalid_json');
      expect((await e.call('POST', '/api/data/deal', '"just a string"')).status).toBe(400);
    });

    it('refuses bodies over 16 MiB with 413, writing nothing', async () => {
      const before = (await e.call('GET', '/api/data/deal?count=true&limit=1')).body.total;
      const huge = JSON.stringify({ title: 'x'.repeat(16 * 1024 * 1024 + 1) });
      const res = await e.call('POST', '/api/data/deal', huge);
      expect([res.status, res.body.error.code]).toEqual([413, 'body_too_large']);
      expect((await e.call('GET', '/api/data/deal?count=true&limit=1')).body.total).toBe(before);
    });
  });

  describe('delete and restore', () => {
    it('soft-deletes into the recycle bin and restores', async () => {
      const d = (await e.call('POST', '/api/data/deal', { title: 'Bin me', amount: 7 })).body.data;
      const del = await e.call('DELETE', `/api/data/deal/${d.id}`);
      expect(del.status).toBe(200);
      expect((await e.call('GET', `/api/data/deal/${d.id}`)).status).toBe(404);
      expect((await e.call('DELETE', `/api/data/deal/${d.id}`)).status).toBe(404);
      const bin = await e.call('GET', `/api/data/deal?deleted=only&filter=${q({ '==': [{ var: 'id' }, d.id] })}`);
      expect(bin.body.data).toHaveLength(1);
      const restored = await e.call('POST', `/api/data/deal/${d.id}/restore`);
      expect(restored.status).toBe(200);
      expect(restored.body.data).toMatchObject({ title: 'Bin me', deleted_at: null, version: 3 });
      expect((await e.call('POST', `/api/data/deal/${d.id}/restore`)).status).toBe(404);
    });

    it('applies restrict, set-null and cascade to dependants, and restores the cascade', async () => {
      const acc = (await e.call('POST', '/api/data/account', { name: 'Parent Co', region: 'east' })).body.data;
      const deal = (await e.call('POST', '/api/data/deal', { title: 'Child deal', account: acc.id })).body.data;
      const note = (await e.call('POST', '/api/data/note', { body: 'n1', deal: deal.id, account: acc.id })).body.data;

      const restricted = await e.call('DELETE', `/api/data/account/${acc.id}`);
      expect(restricted.status).toBe(409);
      expect(restricted.body.error.code).toBe('delete_restricted');
      expect((await e.call('GET', `/api/data/note/${note.id}`)).body.data.account).toBe(acc.id);

      // cascade: deleting the deal takes its note into the bin, restoring brings it back
      expect((await e.call('DELETE', `/api/data/deal/${deal.id}`)).status).toBe(200);
      expect((await e.call('GET', `/api/data/note/${note.id}`)).status).toBe(404);
      expect((await e.call('POST', `/api/data/deal/${deal.id}/restore`)).status).toBe(200);
      expect((await e.call('GET', `/api/data/note/${note.id}`)).status).toBe(200);

      // set null: once the deal is gone, the account can go and the note forgets it
      await e.call('DELETE', `/api/data/deal/${deal.id}`);
      await e.call('POST', `/api/data/note/${note.id}/restore`);
      expect((await e.call('DELETE', `/api/data/account/${acc.id}`)).status).toBe(200);
      const orphan = (await e.call('GET', `/api/data/note/${note.id}`)).body.data;
      expect(orphan.account).toBeNull();
    });

    it('refuses to delete with a stale If-Match', async () => {
      const d = (await e.call('POST', '/api/data/deal', { title: 'Guarded' })).body.data;
      expect((await e.call('DELETE', `/api/data/deal/${d.id}`, undefined, { 'if-match': '"7"' })).status).toBe(409);
      expect((await e.call('DELETE', `/api/data/deal/${d.id}`, undefined, { 'if-match': '"1"' })).status).toBe(200);
    });
  });

  describe('list', () => {
    let ids: string[];
    const amounts = [500, null, 100, 300, null, 300, 900, 100, 700, null, 200, 300];
    beforeAll(async () => {
      const res = await e.call(
        'POST',
        '/api/data/deal',
        amounts.map((amount, i) => ({
          title: `List ${String(i).padStart(2, '0')}${i % 3 === 0 ? ' 华东' : ''}`,
          amount,
          tags: i % 2 ? ['vip'] : ['hot', 'vip'],
          code: `LS-${i}`,
          stage: i % 4 === 0 ? 'lost' : 'new',
        })),
      );
      ids = res.body.data.map((d: any) => d.id);
    });
    const listFilter = { in: ['LS-', { var: 'code' }] };

    const pages = async (sort: string, limit: number) => {
      const seen: any[] = [];
      let cursor: string | null = null;
      for (let i = 0; i < 20; i++) {
        const res: any = await e.call(
          'GET',
          `/api/data/deal?filter=${q(listFilter)}&sort=${sort}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`,
        );
        expect(res.status).toBe(200);
        seen.push(...res.body.data);
        cursor = res.body.nextCursor;
        if (!cursor) break;
      }
      return seen;
    };

    const expected = (desc: boolean) => {
      const rows = amounts.map((amount, i) => ({ amount, id: ids[i] }));
      const cmpId = (a: any, b: any) => (a.id < b.id ? -1 : 1) * (desc ? -1 : 1);
      return rows
        .sort((a, b) => {
          if (a.amount === b.amount) return cmpId(a, b);
          if (a.amount === null) return desc ? 1 : -1; // empty values first ascending, last descending
          if (b.amount === null) return desc ? -1 : 1;
          return (a.amount - b.amount) * (desc ? -1 : 1);
        })
        .map((r) => r.id);
    };

    it.each([1, 2, 5, 50])('pages through every row exactly once with a keyset cursor (limit %i)', async (limit) => {
      expect((await pages('-amount', limit)).map((d) => d.id)).toEqual(expected(true));
      expect((await pages('amount', limit)).map((d) => d.id)).toEqual(expected(false));
    });

    it('pages with several sort keys in mixed directions', async () => {
      const rows = await pages('stage,-amount', 3);
      expect(rows).toHaveLength(amounts.length);
      expect(new Set(rows.map((r) => r.id)).size).toBe(amounts.length);
      const stages = rows.map((r) => r.stage);
      expect(stages).toEqual([...stages].sort());
    });

    it('writes list pages (JSON built by PostgreSQL) exactly as single reads: same values, same formats', async () => {
      await e.call('POST', '/api/data/deal', {
        title: 'Formats',
        amount: 1234.5,
        probability: 12.345,
        tags: ['hot', 'vip'],
        close_date: '2026-02-28',
        closed_at: '2026-03-01T23:59:59.999+08:00',
        extra: { nested: [1, 'два', null] },
        code: 'FM-1',
      });
      const page = (await e.call('GET', '/api/data/deal?limit=500')).body.data;
      expect(page.length).toBeGreaterThan(amounts.length);
      for (const record of page) expect(record).toEqual((await e.call('GET', `/api/data/deal/${record.id}`)).body.data);
      const formats = page.find((r: any) => r.title === 'Formats');
      expect(formats).toMatchObject({
        amount: 1234.5,
        probability: 12.345,
        closed_at: '2026-03-01T15:59:59.999Z',
        close_date: '2026-02-28',
        tags: ['hot', 'vip'],
        extra: { nested: [1, 'два', null] },
      });
    });

    it('filters with json-logic compiled to SQL', async () => {
      const res = await e.call(
        'GET',
        `/api/data/deal?filter=${q({ and: [listFilter, { '>=': [{ var: 'amount' }, 300] }, { in: ['hot', { var: 'tags' }] }] })}&sort=amount&count=true`,
      );
      const want = amounts
        .map((a, i) => ({ a, i }))
        .filter(({ a, i }) => a !== null && a >= 300 && i % 2 === 0)
        .map(({ i }) => ids[i]);
      expect(res.body.data.map((d: any) => d.id).sort()).toEqual(want.sort());
      expect(res.body.total).toBe(want.length);
    });

    it('adds the sums of number fields over every matching record, not only the page (sum=)', async () => {
      const filter = q({ and: [listFilter, { '>=': [{ var: 'amount' }, 100] }] });
      // Expected: every matching record, read page by page through the list itself.
      const every: any[] = [];
      let cursor: string | null | undefined;
      do {
        const page = await e.call('GET', `/api/data/deal?filter=${filter}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        every.push(...page.body.data);
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(every.length).toBeGreaterThan(2);
      const total = (name: string) => every.reduce((s, r) => s + (r[name] ?? 0), 0);
      const res = await e.call('GET', `/api/data/deal?filter=${filter}&limit=1&count=true&sum=amount,quantity`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.data).toHaveLength(1);
      expect(res.body.total).toBe(every.length);
      expect(res.body.sums.amount).toBeCloseTo(total('amount'), 2);
      expect(res.body.sums.quantity).toBe(total('quantity'));
      // Without count, only the sums; nothing matching sums to 0.
      const none = await e.call('GET', `/api/data/deal?filter=${q({ '==': [{ var: 'title' }, 'no such deal'] })}&sum=amount`);
      expect(none.body).toMatchObject({ data: [], sums: { amount: 0 } });
      expect(none.body.total).toBeUndefined();
      for (const [sum, code] of [['title', 'not_a_number'], ['nope', 'unknown_field']]) {
        const bad = await e.call('GET', `/api/data/deal?sum=${sum}`, undefined, { 'accept-language': 'zh-CN' });
        expect(bad.status).toBe(400);
        expect(bad.body.error.code).toBe(code);
        expect(bad.body.error.details[0].path).toBe('/query/sum');
      }
      const zh = await e.call('GET', '/api/data/deal?sum=title', undefined, { 'accept-language': 'zh-CN' });
      expect(zh.body.error.message).toMatch(/不是数值字段/);
    });

    it('searches searchable fields with q, selects fields and expands references', async () => {
      const hits = await e.call('GET', `/api/data/deal?q=${encodeURIComponent('华东')}&fields=title`);
      expect(hits.body.data.length).toBe(4);
      for (const d of hits.body.data) expect(Object.keys(d).sort()).toEqual(['id', 'title', 'version']);
      const wild = await e.call('GET', `/api/data/deal?q=${encodeURIComponent('%')}`);
      expect(wild.body.data).toEqual([]); // % is matched literally, not as a wildcard

      const acc = (await e.call('POST', '/api/data/account', { name: 'Expand Co', region: 'east' })).body.data;
      await e.call('POST', '/api/data/deal', [
        { title: 'Exp 1', account: acc.id, code: 'EX-1' },
        { title: 'Exp 2', account: acc.id, code: 'EX-2' },
        { title: 'Exp 3', code: 'EX-3' },
      ]);
      const expanded = await e.call(
        'GET',
        `/api/data/deal?filter=${q({ in: ['EX-', { var: 'code' }] })}&expand=account&sort=title`,
      );
      expect(expanded.body.data.map((d: any) => d.account?.name ?? null)).toEqual(['Expand Co', 'Expand Co', null]);
      const one = await e.call('GET', `/api/data/deal/${expanded.body.data[0].id}?expand=account`);
      expect(one.body.data.account.archive_no).toBe(acc.archive_no);
    });

    it('refuses bad list parameters with 400 and a path', async () => {
      const cases: [string, string, string][] = [
        [`filter=${encodeURIComponent('{"==": [')}`, 'invalid_json', '/query/filter'],
        [`filter=${q({ '==': [{ var: 'nope' }, 1] })}`, 'unknown_field', '/query/filter/==/0'],
        [`filter=${q({ method: [{ var: 'title' }, 'toString'] })}`, 'unsupported_operator', '/query/filter/method'],
        [`filter=${q({ '==': [{ var: 'amount' }, 'lots'] })}`, 'type_mismatch', '/query/filter/==/1'],
        ['sort=nope', 'unknown_field', '/query/sort'],
        ['sort=extra', 'unsortable_field', '/query/sort'],
        ['limit=0', 'invalid_limit', '/query/limit'],
        ['limit=100000', 'invalid_limit', '/query/limit'],
        ['cursor=garbage', 'invalid_cursor', '/query/cursor'],
        ['fields=title,nope', 'unknown_field', '/query/fields'],
        ['expand=title', 'not_a_reference', '/query/expand'],
        ['bogus=1', 'unknown_parameter', '/query/bogus'],
      ];
      for (const [query, code, path] of cases) {
        const res = await e.call('GET', `/api/data/deal?${query}`);
        expect([query, res.status, res.body.error.code]).toEqual([query, 400, code]);
        expect(res.body.error.details[0].path.startsWith(path)).toBe(true);
      }
      // a cursor made for one sort order can't be replayed with another
      const page = await e.call('GET', '/api/data/deal?sort=amount&limit=1');
      const replay = await e.call('GET', `/api/data/deal?sort=title&cursor=${page.body.nextCursor}`);
      expect(replay.body.error.code).toBe('invalid_cursor');
    });

    it('treats injection attempts as plain values', async () => {
      const evil = `x'); drop table deal; --`;
      const created = await e.call('POST', '/api/data/deal', { title: evil });
      expect(created.status).toBe(201);
      const found = await e.call('GET', `/api/data/deal?filter=${q({ '==': [{ var: 'title' }, evil] })}`);
      expect(found.body.data.map((d: any) => d.title)).toEqual([evil]);
      const weird = await e.call('GET', `/api/data/deal?sort=${encodeURIComponent('title;drop table deal')}`);
      expect(weird.status).toBe(400);
      expect(await countRows('deal')).toBeGreaterThan(0);
    });
  });
});
