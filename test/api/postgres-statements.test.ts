/**
 * Prepared statements on PostgreSQL (engine/db/database.ts `preparing`): drizzle asks postgres.js for
 * every query unprepared, so without the wrapper each statement is parsed and planned on every call —
 * a get by id cost twice its time when that slipped in. The engine's statements run prepared on the
 * connection; a statement planned for its values (the search) and COPY are not.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../engine/db/database.js';

const url = process.env.DATABASE_URL;

describe.skipIf(!url)('prepared statements on PostgreSQL', () => {
  let database: Database;
  beforeAll(async () => {
    // One connection: what it prepared is what pg_prepared_statements shows.
    database = await openDatabase({ url, max: 1 });
  });
  afterAll(() => database?.close());

  const prepared = async (marker: string) =>
    (
      await database.rows<{ n: number }>(
        sql`select count(*)::int as n from pg_prepared_statements where statement like ${`%${marker}%`} and statement not like '%pg_prepared_statements%'`,
      )
    )[0].n;

  it('prepares what drizzle sends, once per statement, and answers the same each time', async () => {
    const first = await database.rows<{ v: number; marker: string }>(sql`select ${41}::int + 1 as v, 'marker-drizzle' as marker`);
    const again = await database.rows<{ v: number }>(sql`select ${41}::int + 1 as v, 'marker-drizzle' as marker`);
    expect([first[0].v, again[0].v]).toEqual([42, 42]);
    expect(await prepared('marker-drizzle')).toBe(1);
    await database.db.transaction(async (tx) => {
      await database.rows(sql`select ${1}::int as v, 'marker-in-transaction' as marker`, tx);
    });
    expect(await prepared('marker-in-transaction')).toBe(1);
  });

  it('leaves unprepared what must be planned for its values', async () => {
    const rows = await database.rowsPlannedPerCall<{ v: number }>(sql`select ${7}::int as v, 'marker-per-call' as marker`);
    expect(rows[0].v).toBe(7);
    expect(await prepared('marker-per-call')).toBe(0);
  });
});
