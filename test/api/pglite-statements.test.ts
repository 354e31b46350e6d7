/**
 * The embedded database's named prepared statements (engine/db/pglite-statements.ts): a statement run
 * again answers what an unprepared one answers, values of every type bind as PGlite binds them, a
 * schema change never leaves a stale statement behind, errors keep their codes, and the cache stays
 * bounded.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PGlite } from '@electric-sql/pglite';
import { openDatabase, type Database } from '../../engine/db/database.js';
import { prepareStatements } from '../../engine/db/pglite-statements.js';

/** Counts the Parse messages PGlite receives: a prepared statement run again sends none. */
function countParses(client: PGlite) {
  const raw = client.execProtocolRaw.bind(client);
  const counter = { parses: 0 };
  client.execProtocolRaw = (message, options) => {
    const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
    for (let at = 0; at < message.length; at += 1 + view.getInt32(at + 1)) if (message[at] === 0x50) counter.parses++;
    return raw(message, options);
  };
  return counter;
}

describe('prepared statements on the embedded database', () => {
  let database: Database;
  let client: PGlite;
  let counter: { parses: number };
  beforeAll(async () => {
    database = await openDatabase();
    client = (database.db as unknown as { $client: PGlite }).$client;
    counter = countParses(client);
    await database.exec(`create table lot (id uuid primary key, title text not null unique, tags text[], data jsonb,
      price numeric(12,2), at timestamptz, day date, done boolean, n int)`);
  });
  afterAll(() => database?.close());

  const insert = (id: string, title: string, extra: Partial<Record<string, unknown>> = {}) =>
    client.query(
      'insert into lot (id, title, tags, data, price, at, day, done, n) values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning *',
      [id, title, extra.tags ?? null, extra.data ?? null, extra.price ?? null, extra.at ?? null, extra.day ?? null, extra.done ?? null, extra.n ?? null],
    );

  it('parses a statement once and binds values of every type as PGlite does', async () => {
    const before = counter.parses;
    const first = await insert('01900000-0000-7000-8000-000000000001', 'a', {
      tags: ['x', 'y "q"', 'z,w'],
      data: { k: [1, { deep: '值' }] },
      price: '12.50',
      at: new Date('2026-01-02T03:04:05.678Z'),
      day: '2026-02-03',
      done: true,
      n: 7,
    });
    const second = await insert('01900000-0000-7000-8000-000000000002', 'b');
    expect(counter.parses - before).toBe(1);
    expect(first.rows[0]).toMatchObject({
      title: 'a',
      tags: ['x', 'y "q"', 'z,w'],
      data: { k: [1, { deep: '值' }] },
      price: '12.50',
      day: '2026-02-03',
      done: true,
      n: 7,
    });
    expect(String(first.rows[0] && (first.rows[0] as { at: unknown }).at)).toMatch(/^2026-01-02 03:04:05\.678\+00/);
    expect(second.rows[0]).toMatchObject({ title: 'b', tags: null, data: null, n: null });
    expect(second.affectedRows).toBe(1);
    // The same rows through drizzle, prepared and planned per call.
    const query = sql`select id, title, tags, data, price, n from lot where title in ${['a', 'b']} order by title`;
    expect(await database.rowsPlannedPerCall(query)).toEqual(await database.rows(query));
  });

  it('reads its answers as PGlite reads them: rows as objects or arrays, every type, text of any length and script', async () => {
    const text = `select id, title, tags, data, price, at, day, done, n, $1::text as note, $2::text as blank,
      repeat($3::text, 3) as long, null::int as nothing, 1 as title from lot where title = any($4::text[]) order by lot.title`;
    const params = ['短', '', 'Ünïcödé · 销售机会 · 𝒳 · plain ascii long enough to pass forty bytes', ['a', 'b']];
    for (const rowMode of [undefined, 'array'] as const) {
      const own = await client.query(text, params, { rowMode, prepare: false } as never);
      const first = await client.query(text, params, { rowMode });
      const again = await client.query(text, params, { rowMode });
      expect(own.rows).toHaveLength(2);
      expect(first).toEqual(own);
      expect(again).toEqual(own);
    }
    // A union in parentheses (every reference look-up) is a statement like any other.
    const parses = counter.parses;
    const union = '(select 0 as k, title from lot where title = $1) union all (select 1, title from lot where title = $2)';
    for (let i = 0; i < 3; i++) expect((await client.query(union, ['a', 'b'])).rows).toEqual([{ k: 0, title: 'a' }, { k: 1, title: 'b' }]);
    expect(counter.parses - parses).toBe(1);
    // A duplicate column name: the last one wins in an object row, as in PGlite's.
    expect((await client.query<{ title: unknown }>(text, params)).rows[0].title).toBe(1);
    const updated = await client.query('update lot set n = coalesce(n, 0) + 1 where title = any($1::text[])', [['a', 'b']]);
    expect(updated).toMatchObject({ affectedRows: 2, rowCount: 2, command: 'UPDATE', rows: [] });
  });

  it('delivers notifications of a prepared statement to listeners', async () => {
    const heard: string[] = [];
    const stop = await client.listen('lot_changes', (payload) => heard.push(payload));
    await client.query('select pg_notify($1, $2)', ['lot_changes', 'one']);
    await client.query('select pg_notify($1, $2)', ['lot_changes', 'two']);
    await expect.poll(() => heard).toEqual(['one', 'two']);
    await stop();
  });

  it('forgets its statements when the schema changes, in and out of transactions', async () => {
    const all = () => client.query<Record<string, unknown>>('select * from lot order by title');
    expect(Object.keys((await all()).rows[0])).not.toContain('note');
    await client.query('alter table lot add column note text');
    expect((await all()).rows[0]).toHaveProperty('note', null);
    await database.db.transaction(async (tx) => {
      await tx.execute(sql`alter table lot add column grade int`);
      const rows = await tx.execute(sql`select * from lot order by title`);
      expect((rows as unknown as { rows: unknown[] }).rows[0]).toHaveProperty('grade', null);
    });
    await database.exec('alter table lot add column extra text; comment on table lot is $$lots$$');
    expect((await all()).rows[0]).toHaveProperty('extra', null);
  });

  it('prepares again a statement whose table changed behind its back, outside a transaction', async () => {
    await client.exec(`create function widen() returns void language plpgsql as $$ begin alter table lot add column wide text; end $$`);
    const all = () => client.query<Record<string, unknown>>('select * from lot order by title');
    await all();
    // A select that changes the schema is not recognised as a schema change: PostgreSQL refuses the
    // stale statement (0A000), and outside a transaction it is prepared again and run.
    await client.query('select widen()');
    expect((await all()).rows[0]).toHaveProperty('wide', null);
  });

  it('keeps the error codes, the query text and the connection usable', async () => {
    const error = await insert('01900000-0000-7000-8000-000000000003', 'a').catch((e) => e);
    expect(error).toMatchObject({ code: '23505', query: expect.stringContaining('insert into lot') });
    const syntax = await client.query('select from where').catch((e) => e);
    expect(syntax).toMatchObject({ code: '42601' });
    const rolledBack = await database.db
      .transaction(async (tx) => {
        await tx.execute(sql`insert into lot (id, title) values (${'01900000-0000-7000-8000-000000000004'}, ${'c'})`);
        await tx.execute(sql`insert into lot (id, title) values (${'01900000-0000-7000-8000-000000000005'}, ${'c'})`);
      })
      .catch((e) => e);
    expect(rolledBack.cause).toMatchObject({ code: '23505' }); // drizzle's error around PGlite's
    expect((await client.query('select count(*)::int as n from lot')).rows).toEqual([{ n: 2 }]);
  });

  it('closes the least recently used statements beyond its bound', async () => {
    const own = await PGlite.create();
    prepareStatements(own, { max: 5 });
    const parses = countParses(own);
    for (let i = 0; i < 12; i++) expect((await own.query(`select ${i}::int as n where $1::int = 1`, [1])).rows).toEqual([{ n: i }]);
    await own.query('select 11::int as n where $1::int = 1', [1]);
    expect(parses.parses).toBe(12); // the most recent one stayed
    await own.query('select 0::int as n where $1::int = 1', [1]);
    expect(parses.parses).toBe(13); // the first one was closed
    const kept = await own.query<{ n: number }>('select count(*)::int as n from pg_prepared_statements');
    expect(kept.rows[0].n).toBeLessThanOrEqual(5);
    await own.close();
  });
});
