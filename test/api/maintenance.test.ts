/**
 * The embedded database's autovacuum (engine/db/maintenance.ts): PGlite has no autovacuum process, so
 * without it a statement planned while its table was empty keeps that plan however large the table
 * grows, and dead rows are never reclaimed. Checked: what changed enough is analyzed or vacuumed (the
 * planner then knows the table's size and values), what did not is left alone, and the thresholds are
 * autovacuum's. On PostgreSQL the server's autovacuum does it: nothing to do.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../engine/db/database.js';
import { analyzeWritten, dueTables, WRITTEN_IN_TRANSACTION } from '../../engine/db/maintenance.js';
import { drivers, startEngine, type TestEngine } from '../support/engine.js';

describe('maintenance of the embedded database', () => {
  let database: Database;
  beforeAll(async () => {
    database = await openDatabase();
    // The shape of every entity table: a primary key, soft deletion, a unique field (a partial index).
    await database.exec(`create table part (id uuid primary key, code text, deleted_at timestamptz);
      create unique index part_code on part (code) where deleted_at is null;
      create table quiet (id int primary key)`);
  });
  afterAll(() => database?.close());

  const stats = async (table: string) =>
    (
      await database.rows<{ analyzed: boolean; vacuumed: boolean; tuples: number; columns: number }>(
        sql`select s.last_analyze is not null as analyzed, s.last_vacuum is not null as vacuumed, c.reltuples::int as tuples,
          (select count(*)::int from pg_stats p where p.tablename = s.relname) as columns
          from pg_stat_user_tables s join pg_class c on c.oid = s.relid where s.relname = ${table}`,
      )
    )[0];

  it('gathers the statistics of a table that changed enough, and leaves the others alone', async () => {
    await database.exec(`insert into part (id, code) select gen_random_uuid(), 'P' || g from generate_series(1, 3000) g;
      insert into quiet values (1)`);
    // Never analyzed: the planner knows neither the table's size (-1) nor its values.
    expect(await stats('part')).toEqual({ analyzed: false, vacuumed: false, tuples: -1, columns: 0 });
    const done = await database.maintain();
    expect(done.analyzed).toContain('public.part');
    expect(done.analyzed).not.toContain('public.quiet'); // one row changed: below the threshold
    expect(await stats('part')).toEqual({ analyzed: true, vacuumed: false, tuples: 3000, columns: 3 });
    expect((await stats('quiet')).analyzed).toBe(false);
  });

  it('vacuums a table whose updates left many dead rows, then has nothing left to do', async () => {
    await database.exec(`update part set code = code || 'x'; update part set code = code || 'y'`);
    const done = await database.maintain();
    expect(done.vacuumed).toEqual(['public.part']);
    expect(done.analyzed).toEqual(['public.part']);
    expect(await stats('part')).toMatchObject({ analyzed: true, vacuumed: true, tuples: 3000 });
    expect(await database.maintain()).toEqual({ analyzed: [], vacuumed: [] });
  });

  it('holds to autovacuum’s default thresholds: 50 rows and 10 % changed for ANALYZE, 20 % dead for VACUUM', () => {
    const table = (name: string, live: number, dead: number, changed: number) => ({ name, live, dead, changed });
    expect(
      dueTables([
        table('a', 1000, 0, 150),
        table('b', 1000, 0, 151),
        table('c', 1000, 250, 0),
        table('d', 1000, 251, 0),
        table('e', 0, 51, 51),
      ]),
    ).toEqual({ analyzed: ['b', 'e'], vacuumed: ['d', 'e'] });
  });
});

describe.each(drivers)('the maintenance job on %s', (driver) => {
  let e: TestEngine;
  beforeAll(async () => {
    e = await startEngine(driver);
  });
  afterAll(() => e?.stop());

  it('runs every ten minutes on the embedded database; on PostgreSQL it is the server’s autovacuum', async () => {
    const crons = (await e.jobs.schedules()).filter((s: any) => s.name === 'database-maintenance').map((s: any) => s.cron);
    expect(crons).toEqual(driver === 'pglite' ? ['*/10 * * * *'] : []);
    await e.database.exec(`create table churn (id int primary key);
      insert into churn select generate_series(1, 500)`);
    const analyzed = async () =>
      (await e.database.rows<{ at: unknown }>(sql`select last_analyze as at from pg_stat_user_tables where relname = 'churn'`))[0]
        .at;
    const id = await e.jobs.send('database-maintenance', {});
    await expect.poll(async () => (await e.jobs.job('database-maintenance', id!))?.state, { timeout: 20_000 }).toBe('completed');
    if (driver === 'pglite') expect(await analyzed()).not.toBeNull();
    else expect(await e.database.maintain()).toEqual({ analyzed: [], vacuumed: [] });
  });
});

describe.each(drivers)('statistics inside one long transaction on %s', (driver) => {
  let e: TestEngine;
  beforeAll(async () => {
    e = await startEngine(driver);
    // An entity table's shape, its statistics gathered while it was empty (as after a deploy).
    await e.database.exec(`create table grown (id uuid primary key, code text, deleted_at timestamptz);
      create unique index grown_code on grown (code) where deleted_at is null; analyze grown`);
  });
  afterAll(() => e?.stop());

  it('analyzes the tables the transaction filled, and the look-up by id is planned on the primary key again', async () => {
    const plan = async (tx: any) =>
      (await e.database.rows<{ 'QUERY PLAN': string }>(sql`explain execute by_id('00000000-0000-7000-8000-000000000001')`, tx))
        .map((r) => r['QUERY PLAN'])
        .join('\n');
    const analyzedAt = new Map<string, number>();
    const analyze = (tx: any) =>
      analyzeWritten(
        () => e.database.rows(sql.raw(WRITTEN_IN_TRANSACTION), tx),
        (statement) => tx.execute(sql.raw(statement)),
        analyzedAt,
      );
    await e.database.db
      .transaction(async (tx) => {
        await tx.execute(sql`set local plan_cache_mode = force_generic_plan`);
        await tx.execute(sql`prepare by_id(uuid) as select id from grown where id = $1 and deleted_at is null`);
        // The statement first runs (and is planned) while the table holds one row; then it grows.
        await tx.execute(sql`insert into grown (id, code) values (gen_random_uuid(), 'F')`);
        await tx.execute(sql`execute by_id('00000000-0000-7000-8000-000000000001')`);
        await tx.execute(sql`insert into grown (id, code) select gen_random_uuid(), 'G' || g from generate_series(1, 3000) g`);
        // Still planned for the tiny table: every row read (a sequential scan, or the partial unique
        // index, which holds every live row), not one primary-key entry.
        const before = await plan(tx);
        expect(before).not.toContain('grown_pkey');
        expect(before).toMatch(/Seq Scan on grown|grown_code/);
        expect(await analyze(tx)).toEqual(['public.grown']);
        expect(await plan(tx)).toContain('grown_pkey');
        // Nothing written since: nothing to do; grown by more than a tenth: analyzed again.
        expect(await analyze(tx)).toEqual([]);
        await tx.execute(sql`insert into grown (id, code) select gen_random_uuid(), 'H' || g from generate_series(1, 200) g`);
        expect(await analyze(tx)).toEqual([]);
        await tx.execute(sql`insert into grown (id, code) select gen_random_uuid(), 'I' || g from generate_series(1, 200) g`);
        expect(await analyze(tx)).toEqual(['public.grown']);
        // A table named in `except` is left as it is, however much it grew.
        await tx.execute(sql`insert into grown (id, code) select gen_random_uuid(), 'J' || g from generate_series(1, 1000) g`);
        const except = () =>
          analyzeWritten(
            () => e.database.rows(sql.raw(WRITTEN_IN_TRANSACTION), tx),
            (statement) => tx.execute(sql.raw(statement)),
            analyzedAt,
            new Set(['public.grown']),
          );
        expect(await except()).toEqual([]);
        expect(await analyze(tx)).toEqual(['public.grown']);
        throw new Error('rolled back');
      })
      .catch((x) => expect((x as Error).message).toBe('rolled back'));
  });
});
