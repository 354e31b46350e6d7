import { describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { AppError } from '../../engine/errors.js';
import type { ValueKind } from '../../engine/registry/value-kind.js';
import { compileFilter, type FilterScope } from '../../engine/rules/to-sql.js';
import { registerOperation } from '../../engine/rules/evaluate.js';

const KINDS: Record<string, ValueKind> = {
  t: 'text',
  i: 'integer',
  n: 'number',
  b: 'boolean',
  d: 'date',
  ts: 'datetime',
  u: 'uuid',
  tags: 'text[]',
  j: 'json',
};
const scope: FilterScope = {
  field: (name) => (Object.hasOwn(KINDS, name) ? { sql: sql`${sql.identifier(name)}`, kind: KINDS[name]! } : undefined),
  context: { $user: { id: 7, name: 'ann', admin: true, teams: ['a', 'b'] }, $now: '2026-01-02T03:04:05.678Z' },
};
const dialect = new PgDialect();
const q = (rule: unknown, s: FilterScope = scope) => {
  const { sql: text, params } = dialect.sqlToQuery(compileFilter(rule, s));
  return { sql: text, params };
};
const v = (name: string) => ({ var: name });

/** The AppError compileFilter throws, as { status, code, path }. */
const failure = (rule: unknown, s: FilterScope = scope) => {
  try {
    compileFilter(rule, s);
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    const err = e as AppError;
    return { status: err.status, code: err.code, path: err.details[0]?.path };
  }
  throw new Error(`compiled: ${JSON.stringify(rule)}`);
};

describe('compileFilter: SQL shapes', () => {
  it('compiles equality to an index-friendly atom', () => {
    expect(q({ '==': [v('t'), 'x'] })).toEqual({ sql: '"t" = $1', params: ['x'] });
    expect(q({ '===': [v('i'), 3] })).toEqual({ sql: '"i" = $1::bigint', params: [3] });
  });

  it('adds OR IS NULL exactly when json-logic is true for null', () => {
    // null < 5 is 0 < 5: true in JS
    expect(q({ '<': [v('i'), 5] })).toEqual({ sql: '("i" < $1::bigint OR "i" IS NULL)', params: [5] });
    // null > 5 is false
    expect(q({ '>': [v('i'), 5] })).toEqual({ sql: '"i" > $1::bigint', params: [5] });
    // operands flipped: 5 < i is i > 5; 5 < null is false
    expect(q({ '<': [5, v('i')] })).toEqual({ sql: '"i" > $1::bigint', params: [5] });
    expect(q({ '!=': [v('t'), 'x'] })).toEqual({ sql: '("t" <> $1 OR "t" IS NULL)', params: ['x'] });
  });

  it('pushes negation down (De Morgan) instead of wrapping NOT', () => {
    expect(q({ '!': { and: [{ '==': [v('t'), 'x'] }, { '>': [v('i'), 1] }] } })).toEqual({
      sql: '(("t" <> $1 OR "t" IS NULL) OR ("i" <= $2::bigint OR "i" IS NULL))',
      params: ['x', 1],
    });
    expect(q({ '!': [{ '!': { '==': [v('t'), 'x'] } }] })).toEqual({ sql: '"t" = $1', params: ['x'] });
  });

  it('compiles null checks, truthiness and literal rules', () => {
    expect(q({ '==': [v('t'), null] }).sql).toBe('"t" IS NULL');
    expect(q({ '!=': [null, v('t')] }).sql).toBe('"t" IS NOT NULL');
    expect(q(v('t')).sql).toBe(`"t" <> ''`);
    expect(q({ '!!': [v('i')] }).sql).toBe('"i" <> 0');
    expect(q({ '!': v('b') }).sql).toBe('("b" = false OR "b" IS NULL)');
    expect(q({ '!!': v('tags') }).sql).toBe('cardinality("tags") > 0');
    expect(q(v('d')).sql).toBe('"d" IS NOT NULL');
    expect(q(true)).toEqual({ sql: 'true', params: [] });
    expect(q(false)).toEqual({ sql: 'false', params: [] });
  });

  it('compares text in code point order and casts typed literals', () => {
    expect(q({ '>=': [v('t'), 'b'] })).toEqual({ sql: '"t" COLLATE "C" >= $1', params: ['b'] });
    expect(q({ '==': [v('d'), '2026-02-28'] })).toEqual({ sql: '"d" = $1::date', params: ['2026-02-28'] });
    expect(q({ '<': [v('ts'), '2026-01-01T00:00:00.000Z'] }).sql).toBe('"ts" < $1::timestamptz');
    expect(q({ '>': [v('n'), 2.5] }).sql).toBe('"n" > $1::numeric');
    expect(q({ '>': [v('i'), 2.5] }).sql).toBe('"i" > $1::numeric'); // not rounded to an integer
    expect(q({ '==': [v('b'), false] }).sql).toBe('"b" = $1::boolean');
  });

  it('compiles between as two comparisons', () => {
    expect(q({ '<=': [1, v('i'), 10] })).toEqual({
      sql: '("i" >= $1::bigint AND ("i" <= $2::bigint OR "i" IS NULL))',
      params: [1, 10],
    });
  });

  it('compiles the three forms of in', () => {
    expect(q({ in: [v('i'), [1, 2]] })).toEqual({ sql: '"i" IN ($1::bigint, $2::bigint)', params: [1, 2] });
    expect(q({ in: [v('t'), ['a', null]] })).toEqual({ sql: '("t" IN ($1) OR "t" IS NULL)', params: ['a'] });
    expect(q({ '!': { in: [v('t'), ['a']] } })).toEqual({ sql: '("t" NOT IN ($1) OR "t" IS NULL)', params: ['a'] });
    expect(q({ in: [v('t'), []] }).sql).toBe('false');
    expect(q({ in: ['ab', v('t')] })).toEqual({ sql: 'strpos("t", $1) > 0', params: ['ab'] });
    expect(q({ in: ['', v('t')] }).sql).toBe(`"t" <> ''`); // json-logic: '' never contains anything
    expect(q({ in: ['vip', v('tags')] })).toEqual({ sql: '"tags" @> ARRAY[$1]::text[]', params: ['vip'] });
    expect(q({ '!': { in: ['vip', v('tags')] } }).sql).toBe('(NOT ("tags" @> ARRAY[$1]::text[]) OR "tags" IS NULL)');
  });

  it('resolves $ context variables at compile time', () => {
    expect(q({ '==': [v('i'), v('$user.id')] })).toEqual({ sql: '"i" = $1::bigint', params: [7] });
    expect(q({ in: [v('t'), v('$user.teams')] })).toEqual({ sql: '"t" IN ($1, $2)', params: ['a', 'b'] });
    expect(q({ '==': [v('t'), v('$user.nothing')] }).sql).toBe('"t" IS NULL'); // as json-logic: missing is null
    // A condition on context alone folds to a constant.
    expect(q({ or: [v('$user.admin'), { '==': [v('i'), v('$user.id')] }] }).sql).toBe('true');
    expect(q({ and: [{ '==': [v('$user.name'), 'bob'] }, { '==': [v('i'), 1] }] }).sql).toBe('false');
  });

  it('binds every value, even hostile ones', () => {
    const evil = "x'; drop table accounts; --";
    const r = q({ or: [{ '==': [v('t'), evil] }, { in: [evil, v('t')] }, { in: [evil, v('tags')] }, { in: [v('t'), [evil]] }] });
    expect(r.sql).not.toContain('drop');
    expect(r.params).toEqual([evil, evil, evil, evil]);
  });

  it('compiles plugin operations through their SQL compiler', () => {
    registerOperation(
      'starts_with',
      (s: unknown, p: unknown) => typeof s === 'string' && typeof p === 'string' && s.startsWith(p),
      (args, ctx) => {
        const f = ctx.field((args[0] as { var: string }).var)!;
        const test = sql`starts_with(${f.sql}, ${sql.param(args[1])})`;
        return ctx.negated ? sql`(NOT ${test} OR ${f.sql} IS NULL)` : test;
      },
    );
    registerOperation('js_only', () => true);
    expect(q({ '!': { starts_with: [v('t'), 'ab'] } })).toEqual({
      sql: '(NOT starts_with("t", $1) OR "t" IS NULL)',
      params: ['ab'],
    });
    expect(failure({ and: [{ js_only: [] }] })).toEqual({ status: 400, code: 'unsupported_operator', path: '/and/0/js_only' });
  });
});

describe('compileFilter: bad input', () => {
  it('rejects unknown fields', () => {
    expect(failure({ and: [true, { '==': [v('nope'), 1] }] })).toEqual({
      status: 400,
      code: 'unknown_field',
      path: '/and/1/==/0',
    });
  });

  it('rejects unknown and unsupported operators, including method', () => {
    expect(failure({ or: [{ foo: [1] }] })).toEqual({ status: 400, code: 'unsupported_operator', path: '/or/0/foo' });
    expect(failure({ method: [v('t'), 'toUpperCase'] })).toEqual({ status: 400, code: 'unsupported_operator', path: '/method' });
    expect(failure({ if: [true, true, false] })).toEqual({ status: 400, code: 'unsupported_operator', path: '/if' });
  });

  it('rejects field-vs-field and nested expressions as operands', () => {
    expect(failure({ '==': [v('t'), v('t')] })).toEqual({ status: 400, code: 'unsupported_operator', path: '/==' });
    expect(failure({ '<': [v('i'), { '+': [1, 2] }] })).toEqual({ status: 400, code: 'unsupported_operator', path: '/</1' });
    expect(failure({ in: [v('t'), [v('t')]] })).toEqual({ status: 400, code: 'unsupported_operator', path: '/in/1/0' });
  });

  it('rejects literals that do not fit the field kind', () => {
    expect(failure({ '==': [v('i'), '5'] })).toEqual({ status: 400, code: 'type_mismatch', path: '/==/1' });
    expect(failure({ '<': [v('t'), 5] })).toEqual({ status: 400, code: 'type_mismatch', path: '/</1' });
    expect(failure({ '==': [v('b'), 1] })).toEqual({ status: 400, code: 'type_mismatch', path: '/==/1' });
    expect(failure({ '==': [v('d'), '2026-02-30'] })).toEqual({ status: 400, code: 'type_mismatch', path: '/==/1' });
    expect(failure({ '>': [v('ts'), '2026-01-01T00:00:00Z'] })).toEqual({ status: 400, code: 'type_mismatch', path: '/>/1' });
    expect(failure({ '==': [v('u'), 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'] })).toEqual({
      status: 400,
      code: 'type_mismatch',
      path: '/==/1',
    });
    expect(failure({ '<': [v('i'), null] })).toEqual({ status: 400, code: 'type_mismatch', path: '/</1' });
    expect(failure({ '==': [v('tags'), 'a'] })).toEqual({ status: 400, code: 'type_mismatch', path: '/==/1' });
    expect(failure({ in: [v('i'), [1, 'x']] })).toEqual({ status: 400, code: 'type_mismatch', path: '/in/1/1' });
    expect(failure({ '<': [v('t'), '😀'] })).toEqual({ status: 400, code: 'type_mismatch', path: '/</1' });
    expect(failure(v('j'))).toEqual({ status: 400, code: 'type_mismatch', path: '' });
  });

  it('rejects empty and/or and wrong arities', () => {
    expect(failure({ and: [] })).toEqual({ status: 400, code: 'invalid_filter', path: '/and' });
    expect(failure({ '!': { or: [] } })).toEqual({ status: 400, code: 'invalid_filter', path: '/!/or' });
    expect(failure({ '==': [v('t')] })).toEqual({ status: 400, code: 'invalid_filter', path: '/==' });
    expect(failure({ '>': [1, v('i'), 3] })).toEqual({ status: 400, code: 'invalid_filter', path: '/>' });
  });

  it('refuses prototype paths and prefixes the scope path', () => {
    expect(failure({ '==': [v('__proto__'), 1] })).toEqual({ status: 400, code: 'unsafe_rule', path: '/==/0' });
    expect(failure({ '==': [v('$user.constructor'), 1] })).toEqual({ status: 400, code: 'unsafe_rule', path: '/==/0' });
    expect(failure({ '==': [v('nope'), 1] }, { ...scope, path: '/filter' })).toEqual({
      status: 400,
      code: 'unknown_field',
      path: '/filter/==/0',
    });
  });
});
