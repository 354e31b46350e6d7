import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { drivers } from '../support/engine.js';
import { startOrg, type Org } from '../access/org.js';
import { queryGrams } from '../../engine/model/search.js';

describe.each(drivers)('global search on %s', (driver) => {
  let org: Org;
  beforeAll(async () => {
    org = await startOrg(driver);
    const created = await org.e.call('POST', '/api/data/account', [
      { name: '杭州华为技术有限公司', region: 'east', grade: 'a', owner_id: org.ids.rep_east, short_name: '机密简称' },
      { name: '北京华为云计算公司', region: 'north', grade: 'a', owner_id: org.ids.rep_north },
      { name: 'Acme Trading 50%_off', region: 'north', grade: 'b', owner_id: org.ids.rep_east },
    ]);
    expect(created.status).toBe(201);
    const contact = await org.e.call('POST', '/api/data/contact', {
      name: '王华为',
      account: created.body.data[0].id,
      owner_id: org.ids.rep_east,
    });
    expect(contact.status, JSON.stringify(contact.body)).toBe(201);
  }, 120_000);
  afterAll(() => org?.e.stop());

  const search = (user: Parameters<Org['as']>[0], q: string, extra = '') =>
    org.as(user, 'GET', `/api/search?q=${encodeURIComponent(q)}${extra}`);

  it('finds a two-character Chinese word across entities, grouped by entity, with the title', async () => {
    const res = await search('gm', '华为');
    expect(res.status).toBe(200);
    const byEntity = Object.fromEntries(res.body.data.map((g: any) => [g.entity, g]));
    expect(byEntity.account.records.map((r: any) => r.title).sort()).toEqual(['北京华为云计算公司', '杭州华为技术有限公司']);
    expect(byEntity.account.label['zh-CN']).toBeTruthy();
    expect(byEntity.contact.records.map((r: any) => r.title)).toEqual(['王华为']);
  });

  it('uses the bigram index: the expression index exists and the plan scans it on a large table', async () => {
    const [index] = await org.e.database.rows<{ def: string }>(
      sql`select indexdef as def from pg_indexes where tablename = 'account' and indexname = 's__account__search'`,
    );
    expect(index.def).toContain('meta.search_grams');
    await org.e.database.exec('set enable_seqscan = off');
    try {
      const plan = await org.e.database.rows<Record<string, string>>(
        sql`explain select id from account where meta.search_grams(account.name, account.short_name, account.archive_no, account.social_credit_code, account.phone) @> meta.search_grams('华为') and name ilike '%华为%'`,
      );
      expect(plan.map((r) => Object.values(r)[0]).join('\n')).toContain('s__account__search');
    } finally {
      await org.e.database.exec('reset enable_seqscan');
    }
  });

  it('keeps to the read scope: a rep finds only records they may read', async () => {
    const north = await search('rep_north', '华为');
    expect(north.body.data.find((g: any) => g.entity === 'account').records.map((r: any) => r.title)).toEqual([
      '北京华为云计算公司',
    ]);
    expect(north.body.data.find((g: any) => g.entity === 'contact')).toBeUndefined();
  });

  it('never matches on a field the caller may not read, and leaves out entities without read right', async () => {
    // service staff read accounts but not their short name (a searchable field)
    expect((await search('service', '机密简称')).body.data.find((g: any) => g.entity === 'account')).toBeUndefined();
    const gm = await search('gm', '机密简称');
    expect(gm.body.data.find((g: any) => g.entity === 'account')?.records).toHaveLength(1);
  });

  it('matches one character, mixed case and literal % and _ without treating them as wildcards', async () => {
    expect((await search('gm', '杭')).body.data.find((g: any) => g.entity === 'account').records).toHaveLength(1);
    expect((await search('gm', 'acme')).body.data.find((g: any) => g.entity === 'account').records).toHaveLength(1);
    expect((await search('gm', '50%_o')).body.data.find((g: any) => g.entity === 'account').records).toHaveLength(1);
    expect((await search('gm', '5%')).body.data.find((g: any) => g.entity === 'account')).toBeUndefined();
  });

  it('says when there are more matches than the limit', async () => {
    const res = await search('gm', '华为', '&limit=1&entities=account');
    expect(res.body.data).toHaveLength(1);
    expect(res.body.data[0]).toMatchObject({ entity: 'account', more: true });
    expect(res.body.data[0].records).toHaveLength(1);
  });

  it('refuses bad input with 400 in the caller’s language, and anonymous callers with 401', async () => {
    for (const [query, path] of [
      ['', '/query/q'],
      ['?q=%20%20', '/query/q'],
      [`?q=${'x'.repeat(201)}`, '/query/q'],
      ['?q=ab&limit=0', '/query/limit'],
      ['?q=ab&limit=abc', '/query/limit'],
      ['?q=ab&entities=nope', '/query/entities'],
      ['?q=ab&sort=x', '/query/sort'],
      ['?q=%00a', '/query/q'],
    ]) {
      const res = await org.as('gm', 'GET', `/api/search${query}`, undefined, { 'accept-language': 'zh-CN' });
      expect([query, res.status, res.body.error.details[0].path]).toEqual([query, 400, path]);
      expect(res.body.error.message).toMatch(/[\u4e00-\u9fff]/);
    }
    expect((await org.e.callAs(null, 'GET', '/api/search?q=ab')).status).toBe(401);
  });

  it("computes a query's bigrams as the database's index function does, leaving out only case it might fold otherwise", async () => {
    const texts = ['华为', '王建华', 'Acme TRADING', 'a"b\\c,{d}', 'Ärger über Öl', 'İstanbul', '😀表情😀', 'x'];
    for (const text of texts) {
      const [{ grams }] = await org.e.database.rows<{ grams: string[] }>(
        sql`select array(select distinct unnest(meta.search_grams(${text}::text))) as grams`,
      );
      const ours = queryGrams(text);
      // Never a bigram the index lacks (that would hide records); equal wherever case is plain.
      expect(
        ours.filter((g) => !grams.includes(g)),
        text,
      ).toEqual([]);
      if (!/[ÄÖÜİ]/.test(text)) expect([...ours].sort(), text).toEqual([...grams].sort());
      // Bound as one parameter, the array arrives whole (quotes, backslashes and commas included).
      const [{ same }] = await org.e.database.rows<{ same: boolean }>(
        sql`select ${sql.param(ours)}::text[] <@ meta.search_grams(${text}::text) and cardinality(${sql.param(ours)}::text[]) = ${ours.length} as same`,
      );
      expect(same, text).toBe(true);
    }
    expect(queryGrams('ÄÖ')).toEqual([]);
    // The keys are those of the SQL function earlier databases built their indexes with (so replacing it
    // kept them valid): its body, run here over several parts with a NULL among them.
    const parts = ['OPP-2026-07', null, '华为北京公司 第2期扩容', 'x', '', 'Ärger über Öl ÖL'];
    const [{ now, before }] = await org.e.database.rows<{ now: string[]; before: string[] }>(sql`
      select array(select distinct unnest(meta.search_grams(variadic ${sql.param(parts)}::text[])) order by 1) as now,
        array(select distinct substr(p, i, 2) from (select lower(x) p from unnest(${sql.param(parts)}::text[]) x where x is not null) s,
          generate_series(1, char_length(p) - 1) i order by 1) as before`);
    expect(now.length).toBeGreaterThan(20);
    expect(now).toEqual(before);
    // Upper-case Latin letters still find their records, through the grams and ILIKE.
    const res = await search('gm', 'ACME tr');
    expect(res.body.data.find((g: any) => g.entity === 'account').records.map((r: any) => r.title)).toEqual([
      'Acme Trading 50%_off',
    ]);
  });

  it('makes the list search use the same index and still find two-character words', async () => {
    const res = await org.as('gm', 'GET', `/api/data/account?q=${encodeURIComponent('华为')}`);
    expect(res.body.data).toHaveLength(2);
  });
});
