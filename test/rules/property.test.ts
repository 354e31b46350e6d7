/**
 * THE property: for any supported rule, the rows PostgreSQL selects with compileFilter(rule) are exactly
 * the rows on which json-logic-js (evaluateRule) is truthy. Checked on PGlite and, when DATABASE_URL is
 * set, on a real PostgreSQL server, with NULL-heavy rows and small value domains so that comparisons
 * often hit equal values and boundaries.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { type SQL, sql } from 'drizzle-orm';
import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import postgres from 'postgres';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { compileFilter, type FieldRef, type FilterScope } from '../../engine/rules/to-sql.js';
import { evaluateRule, isTruthy } from '../../engine/rules/evaluate.js';
import type { ValueKind } from '../../engine/registry/value-kind.js';

type Row = {
  id: number;
  t: string | null;
  i: number | null;
  n: number | null;
  b: boolean | null;
  d: string | null;
  ts: string | null;
  tags: string[] | null;
};

// ---- value domains (small, so that equal values and boundaries are common) ----
const T_DATA = ['', 'a', 'b', 'ab', 'B', 'a b', 'null', '0', '10', '9', 'é', "it's", '😀', '\uFF21', 'ba'];
/** Literals for < <= > >=: no code unit ≥ U+D800 (see sql-values.ts). */
const T_ORDERED = ['', 'a', 'b', 'ab', 'B', 'null', '0', '10', '9', '5', 'é', 'z', 'a b', ' '];
const T_EQ = [...T_ORDERED, '😀', '\uFF21', "x'; drop table rules_prop; --"];
const I_DATA = [-1, 0, 1, 2, 10];
const I_LIT = [...I_DATA, 1.5, -0.5, 3];
const N_DATA = [-1.5, 0, 0.1, 1, 2.25, 10];
const N_LIT = [...N_DATA, 2, -1, 0.3];
const D_DATA = ['1999-07-04', '2024-02-29', '2025-01-01', '2025-12-31'];
const D_LIT = [...D_DATA, '2025-06-01'];
const TS_DATA = ['1970-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z', '2025-01-01T00:00:00.001Z', '2025-06-30T12:34:56.789Z'];
const TS_LIT = [...TS_DATA, '2025-03-01T00:00:00.000Z'];
const TAGS_DATA: string[][] = [[], ['a'], ['a', 'b'], ['b'], ['x', 'a'], [''], ['😀'], ['ab']];
const TAG_LIT = ['a', 'b', 'x', '', 'c', '😀', 'ab'];
const SUB_LIT = ['', 'a', 'b', 'ab', ' ', 'nu', '😀', 'é', "'", 'B'];

const KINDS: Record<string, ValueKind> = {
  t: 'text',
  i: 'integer',
  n: 'number',
  b: 'boolean',
  d: 'date',
  ts: 'datetime',
  tags: 'text[]',
};
const LITERALS: Record<string, { eq: unknown[]; ordered: unknown[] }> = {
  t: { eq: T_EQ, ordered: T_ORDERED },
  i: { eq: I_LIT, ordered: I_LIT },
  n: { eq: N_LIT, ordered: N_LIT },
  b: { eq: [true, false], ordered: [true, false] },
  d: { eq: D_LIT, ordered: D_LIT },
  ts: { eq: TS_LIT, ordered: TS_LIT },
};
const SCALARS = Object.keys(LITERALS);

const context = {
  $user: { level: 1, name: 'ab', names: ['a', 'ab', null], admin: false, since: '2025-01-01T00:00:00.000Z' },
  $now: '2025-03-01T00:00:00.000Z',
};

// ---- deterministic NULL-heavy rows ----
function makeRows(count: number): Row[] {
  let seed = 20260101; // mulberry32: a fixed seed, so failures reproduce
  const rnd = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  // The first rows walk through every value of every domain; the rest are random, 30% NULL.
  const pick = <T>(xs: readonly T[], k: number): T | null =>
    k < 2 * xs.length
      ? k % (xs.length + 1) === xs.length
        ? null
        : xs[k % (xs.length + 1)]!
      : rnd() < 0.3
        ? null
        : xs[Math.floor(rnd() * xs.length)]!;
  return Array.from({ length: count }, (_, k) => ({
    id: k + 1,
    t: pick(T_DATA, k),
    i: pick(I_DATA, k),
    n: pick(N_DATA, k),
    b: pick([true, false], k),
    d: pick(D_DATA, k),
    ts: pick(TS_DATA, k),
    tags: pick(TAGS_DATA, k),
  }));
}

// ---- the rule grammar ----
// Everything compileFilter accepts, except what it rejects with a 400 because JS and SQL can't agree
// (see sql-values.ts / to-sql.ts): ordering against text literals with code units ≥ U+D800, datetimes
// not in toISOString() form, comparisons on text[]/json fields, `field in "string"`, field var defaults.
const v = (name: string) => ({ var: name });
const CMP = ['==', '===', '!=', '!==', '<', '<=', '>', '>='] as const;
const isOrdered = (op: string) => op.startsWith('<') || op.startsWith('>');
const literal = (field: string, ordered: boolean) =>
  ordered
    ? fc.constantFrom(...LITERALS[field]!.ordered)
    : fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...LITERALS[field]!.eq) }, { weight: 1, arbitrary: fc.constant(null) });

const comparison = fc
  .tuple(fc.constantFrom(...CMP), fc.constantFrom(...SCALARS), fc.boolean())
  .chain(([op, f, literalFirst]) => literal(f, isOrdered(op)).map((lit) => ({ [op]: literalFirst ? [lit, v(f)] : [v(f), lit] })));

const between = fc
  .tuple(fc.constantFrom('<', '<='), fc.constantFrom(...SCALARS), fc.boolean())
  .chain(([op, f, fieldInMiddle]) =>
    fc.tuple(literal(f, true), literal(f, true)).map(([lo, hi]) => ({ [op]: fieldInMiddle ? [lo, v(f), hi] : [v(f), lo, v(f)] })),
  );

const inList = fc
  .constantFrom(...SCALARS)
  .chain((f) => fc.array(literal(f, false), { maxLength: 4 }).map((list) => ({ in: [v(f), list] })));

const substring = fc.constantFrom(...SUB_LIT).map((s) => ({ in: [s, v('t')] }));
const arrayContains = fc.constantFrom(...TAG_LIT).map((s) => ({ in: [s, v('tags')] }));
const nullCheck = fc
  .tuple(fc.constantFrom('==', '!=', '===', '!=='), fc.constantFrom(...Object.keys(KINDS)), fc.boolean())
  .map(([op, f, nullFirst]) => ({ [op]: nullFirst ? [null, v(f)] : [v(f), null] }));
const truthiness = fc
  .tuple(fc.constantFrom(...Object.keys(KINDS)), fc.constantFrom('bare', '!!', '!![]'))
  .map(([f, form]) => (form === 'bare' ? v(f) : form === '!!' ? { '!!': v(f) } : { '!!': [v(f)] }));
const CONTEXT_RULES: unknown[] = [
  { '==': [v('i'), v('$user.level')] },
  { '<': [v('ts'), v('$now')] },
  { '>=': [v('ts'), v('$user.since')] },
  { in: [v('t'), v('$user.names')] },
  { in: [v('$user.name'), v('t')] },
  { '==': [v('$user.name'), 'ab'] },
  { '!=': [v('t'), v('$user.missing')] },
  v('$user.admin'),
  { '==': [v('t'), v('$user.name')] },
];
const withContext = fc.constantFrom(...CONTEXT_RULES);

/** Every atom over the domains (each also negated): checked exhaustively, in batches. */
function allAtoms(): unknown[] {
  const atoms: unknown[] = [...CONTEXT_RULES];
  for (const f of SCALARS) {
    const { eq, ordered } = LITERALS[f]!;
    for (const op of CMP)
      for (const lit of isOrdered(op) ? ordered : [...eq, null]) atoms.push({ [op]: [v(f), lit] }, { [op]: [lit, v(f)] });
    for (const op of ['<', '<=']) for (const lo of ordered) for (const hi of ordered) atoms.push({ [op]: [lo, v(f), hi] });
    for (const op of ['<', '<=']) for (const lit of ordered) atoms.push({ [op]: [v(f), lit, v(f)] });
    atoms.push({ in: [v(f), []] }, { in: [v(f), [null]] });
    eq.forEach((lit, k) => atoms.push({ in: [v(f), [lit]] }, { in: [v(f), [lit, eq[(k + 1) % eq.length], null]] }));
  }
  for (const f of Object.keys(KINDS)) {
    for (const op of ['==', '!=', '===', '!==']) atoms.push({ [op]: [v(f), null] }, { [op]: [null, v(f)] });
    atoms.push(v(f), { '!!': v(f) }, { '!!': [v(f)] });
  }
  for (const s of SUB_LIT) atoms.push({ in: [s, v('t')] });
  for (const s of TAG_LIT) atoms.push({ in: [s, v('tags')] });
  return atoms.flatMap((a) => [a, { '!': a }]);
}

const atom = fc.oneof(
  { weight: 8, arbitrary: comparison },
  { weight: 2, arbitrary: between },
  { weight: 2, arbitrary: inList },
  { weight: 2, arbitrary: substring },
  { weight: 2, arbitrary: arrayContains },
  { weight: 2, arbitrary: nullCheck },
  { weight: 3, arbitrary: truthiness },
  { weight: 1, arbitrary: withContext },
  { weight: 1, arbitrary: fc.boolean() },
);

const { rule } = fc.letrec<{ rule: unknown }>((tie) => ({
  rule: fc.oneof(
    { maxDepth: 4, depthSize: 'small' },
    { weight: 4, arbitrary: atom },
    { weight: 1, arbitrary: fc.array(tie('rule'), { minLength: 1, maxLength: 3 }).map((xs) => ({ and: xs })) },
    { weight: 1, arbitrary: fc.array(tie('rule'), { minLength: 1, maxLength: 3 }).map((xs) => ({ or: xs })) },
    { weight: 1, arbitrary: fc.tuple(tie('rule'), fc.boolean()).map(([x, wrap]) => ({ '!': wrap ? [x] : x })) },
    { weight: 1, arbitrary: tie('rule').map((x) => ({ '!!': x })) },
  ),
}));

// ---- databases ----
interface Db {
  name: string;
  execute(q: SQL): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

function columns(table: string): FilterScope {
  return {
    field: (name) =>
      KINDS[name]
        ? ({ sql: sql`${sql.identifier(table)}.${sql.identifier(name)}`, kind: KINDS[name]! } satisfies FieldRef)
        : undefined,
    context,
  };
}

async function setUp(db: Db, table: string, rows: Row[]): Promise<Row[]> {
  const tbl = sql.identifier(table);
  // t gets a linguistic collation (as a database created with en_US.UTF-8 would give it), so that
  // ordering comparisons only agree with JS if the compiler really compares in code point order.
  await db.execute(
    sql`create table ${tbl} (id int primary key, t text collate "und-x-icu", i integer, n numeric(18,2), b boolean, d date, ts timestamptz, tags text[])`,
  );
  const values = rows.map((r) => {
    const tags =
      r.tags === null
        ? sql`NULL`
        : r.tags.length === 0
          ? sql`'{}'::text[]`
          : sql`ARRAY[${sql.join(
              r.tags.map((x) => sql`${x}`),
              sql`, `,
            )}]::text[]`;
    return sql`(${r.id}, ${r.t}::text, ${r.i}::integer, ${r.n}::numeric, ${r.b}::boolean, ${r.d}::date, ${r.ts}::timestamptz, ${tags})`;
  });
  await db.execute(sql`insert into ${tbl} values ${sql.join(values, sql`, `)}`);
  // Read back and normalise to the in-memory representation of value-kind.ts.
  const back = await db.execute(sql`select id, t, i, n::text as n, b, to_char(d, 'YYYY-MM-DD') as d,
    to_char(ts at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as ts, tags from ${tbl} order by id`);
  return back.map((r) => ({
    id: Number(r.id),
    t: r.t as string | null,
    i: r.i as number | null,
    n: r.n === null ? null : Number(r.n),
    b: r.b as boolean | null,
    d: r.d as string | null,
    ts: r.ts as string | null,
    tags: r.tags as string[] | null,
  }));
}

const table = `rules_prop_${process.pid}_${Date.now()}`;
const dbs: { db: Db; rows: Row[] }[] = [];

beforeAll(async () => {
  const generated = makeRows(80);
  const pg = new PGlite();
  const lite = drizzlePglite(pg);
  const pgliteDb: Db = {
    name: 'pglite',
    execute: async (q) => (await lite.execute(q)).rows as Record<string, unknown>[],
    close: () => pg.close(),
  };
  dbs.push({ db: pgliteDb, rows: await setUp(pgliteDb, table, generated) });
  if (process.env.DATABASE_URL) {
    const client = postgres(process.env.DATABASE_URL, { max: 1, onnotice: () => {} });
    const real = drizzlePostgres(client);
    const realDb: Db = {
      name: 'postgresql',
      execute: async (q) => [...((await real.execute(q)) as unknown as Record<string, unknown>[])],
      close: async () => {
        await real.execute(sql`drop table if exists ${sql.identifier(table)}`);
        await client.end();
      },
    };
    dbs.push({ db: realDb, rows: await setUp(realDb, table, generated) });
  }
}, 30_000);

afterAll(async () => {
  for (const { db } of dbs) await db.close();
});

describe('compileFilter agrees with json-logic-js', () => {
  it('reads back what was generated', () => {
    for (const { rows } of dbs) expect(rows).toEqual(makeRows(80));
    const has = (col: keyof Row, x: unknown) => dbs[0]!.rows.some((r) => JSON.stringify(r[col]) === JSON.stringify(x));
    for (const x of [...T_DATA, null]) expect(has('t', x), `t = ${x}`).toBe(true);
    for (const x of [...TAGS_DATA, null]) expect(has('tags', x), `tags = ${JSON.stringify(x)}`).toBe(true);
  });

  it('selects exactly the rows json-logic accepts, for every atom over the domains', async () => {
    const atoms = allAtoms();
    expect(atoms.length).toBeGreaterThan(1000);
    const tbl = sql.identifier(table);
    for (let start = 0; start < atoms.length; start += 250) {
      const batch = atoms.slice(start, start + 250);
      // One query per batch: the ids each condition selects, as one aggregate column per condition.
      const cols = batch.map(
        (a, k) => sql`array_agg(id order by id) filter (where ${compileFilter(a, columns(table))}) as ${sql.identifier(`c${k}`)}`,
      );
      for (const { db, rows } of dbs) {
        const [got] = await db.execute(sql`select ${sql.join(cols, sql`, `)} from ${tbl}`);
        batch.forEach((a, k) => {
          const expected = rows.filter((row) => isTruthy(evaluateRule(a, { ...row, ...context }))).map((row) => row.id);
          expect(((got![`c${k}`] as number[] | null) ?? []).map(Number), `${db.name}: ${JSON.stringify(a)}`).toEqual(expected);
        });
      }
    }
  }, 60_000);

  it('selects exactly the rows json-logic accepts, for generated rules', async () => {
    let selective = 0;
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(rule, async (r) => {
        runs++;
        const compiled = compileFilter(r, columns(table));
        for (const { db, rows } of dbs) {
          const expected = rows.filter((row) => isTruthy(evaluateRule(r, { ...row, ...context }))).map((row) => row.id);
          const got = (await db.execute(sql`select id from ${sql.identifier(table)} where ${compiled} order by id`)).map((x) =>
            Number(x.id),
          );
          if (db === dbs[0]!.db && expected.length > 0 && expected.length < rows.length) selective++;
          expect(got, `${db.name}: ${JSON.stringify(r)}`).toEqual(expected);
        }
      }),
      { numRuns: 500 },
    );
    // Guard against a grammar that degenerates into all-or-nothing filters.
    expect(selective / runs).toBeGreaterThan(0.5);
  }, 60_000);
});
