/**
 * The in-memory side of json-logic, the product's only expression language.
 *
 * json-logic-js is used as is, with three safety changes made once, at module load:
 *  - `method` (calls arbitrary methods on values: a path to `Function` and code execution) is removed
 *    (json-logic-js 2.x no longer ships it, but a different copy of the library might);
 *  - `var` is replaced by a version that only follows own properties and refuses `__proto__`,
 *    `prototype` and `constructor` segments, so even a var name computed at run time
 *    (`{"var": {"cat": ["__pro", "to__"]}}`) can't reach prototypes;
 *  - operators are looked up only by exact name (json-logic-js also resolves dotted names like
 *    `"var.prototype.constructor"` by walking its operations table; we refuse those).
 *
 * Plugins extend the language with registerOperation(); the SQL compiler (to-sql.ts) and the static
 * checker (check.ts) ask this module which operators exist.
 */
import jsonLogic from 'json-logic-js';
import { badRequest, pointer } from '../errors.js';
import type { SqlOperationCompiler } from '../registry/types.js';

jsonLogic.rm_operation('method');

/** Operators json-logic-js knows out of the box (`method` deliberately absent). */
export const STANDARD_OPERATIONS: ReadonlySet<string> = new Set([
  '==',
  '===',
  '!=',
  '!==',
  '>',
  '>=',
  '<',
  '<=',
  '!',
  '!!',
  'and',
  'or',
  'if',
  '?:',
  'in',
  'cat',
  'substr',
  '+',
  '-',
  '*',
  '/',
  '%',
  'min',
  'max',
  'merge',
  'var',
  'missing',
  'missing_some',
  'map',
  'filter',
  'reduce',
  'all',
  'none',
  'some',
  'log',
]);

/** Operators whose second argument is a rule evaluated against each array element, not the record. */
export const SCOPED_OPERATIONS: ReadonlySet<string> = new Set(['map', 'filter', 'reduce', 'all', 'none', 'some']);

/** Property names that lead to prototypes; a var path containing one never resolves. */
export const UNSAFE_SEGMENTS: ReadonlySet<string> = new Set(['__proto__', 'prototype', 'constructor']);

export type { FieldRef, SqlOperationCompiler, SqlOperationContext } from '../registry/types.js';

// biome-ignore lint/suspicious/noExplicitAny: json-logic-js calls operations with the data as `this` and any arguments
type OperationFn = (this: any, ...args: any[]) => unknown;

const plugins = new Map<string, { sql?: SqlOperationCompiler }>();

/**
 * Adds an operator to the language (for every rule: checks, in-memory evaluation and, if `sqlCompiler`
 * is given, SQL filters). `fn` is called with the evaluated arguments and `this` = the data.
 * Standard operators can't be replaced: that would silently change the meaning of existing rules.
 */
export function registerOperation(name: string, fn: OperationFn, sqlCompiler?: SqlOperationCompiler): void {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`Invalid operation name "${name}": use letters, digits and _`);
  if (STANDARD_OPERATIONS.has(name) || name === 'method')
    throw new Error(`Operation "${name}" is built in and can't be replaced`);
  jsonLogic.add_operation(name, fn);
  plugins.set(name, { sql: sqlCompiler });
}

export const isKnownOperation = (name: string) => STANDARD_OPERATIONS.has(name) || plugins.has(name);
/** The SQL compiler of a plugin operation, if it has one. */
export const pluginSqlCompiler = (name: string) => plugins.get(name)?.sql;

/** Splits a var name into path segments the way json-logic-js does. */
export const varSegments = (name: string | number) => String(name).split('.');
export const hasUnsafeSegment = (name: string | number) => varSegments(name).some((s) => UNSAFE_SEGMENTS.has(s));

const unsafeVar = (name: unknown, path = '') =>
  badRequest(
    'unsafe_rule',
    `Variable "${String(name)}" is not allowed: __proto__, prototype and constructor can't be used in variable names`,
    [{ path, code: 'unsafe_rule', message: 'Unsafe variable name' }],
  );

/**
 * Resolves a var path like json-logic-js does (dot-separated, `not_found` when a step is missing),
 * but only through own properties: `{"var": "toString"}` is null, not Object.prototype.toString.
 */
export function resolveVar(data: unknown, name: unknown, notFound: unknown = null): unknown {
  if (name === undefined || name === null || name === '') return data;
  if (typeof name !== 'string' && typeof name !== 'number') return notFound;
  if (hasUnsafeSegment(name)) throw unsafeVar(name);
  let current: unknown = data;
  for (const seg of varSegments(name)) {
    if (current === null || current === undefined) return notFound;
    const holder = typeof current === 'object' || typeof current === 'string' ? Object(current) : undefined;
    if (!holder || !Object.hasOwn(holder, seg)) return notFound;
    current = (holder as Record<string, unknown>)[seg];
    if (current === undefined) return notFound;
  }
  return current;
}

jsonLogic.add_operation('var', function (this: unknown, name: unknown, notFound?: unknown) {
  return resolveVar(this, name, notFound === undefined ? null : notFound);
});

/** json-logic truthiness: like JS, except that an empty array is falsy. */
export const isTruthy = (value: unknown): boolean => jsonLogic.truthy(value);

/** json-logic's notion of an operation: an object with exactly one key (anything else is a literal). */
export const isLogic = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 1;

/**
 * Refuses what must never run: unknown or dotted operators, `method`, unsafe literal var names.
 * (Computed var names are caught at run time by the safe `var` above.)
 */
function assertRunnable(rule: unknown, path: string): void {
  if (Array.isArray(rule)) {
    rule.forEach((r, i) => assertRunnable(r, path + pointer(i)));
    return;
  }
  if (!isLogic(rule)) return;
  const op = Object.keys(rule)[0]!;
  const at = path + pointer(op);
  if (op === 'method')
    throw badRequest('unsafe_rule', 'The "method" operator is not allowed', [
      { path: at, code: 'unsafe_rule', message: 'Operator "method" is not allowed' },
    ]);
  if (!isKnownOperation(op))
    throw badRequest('unknown_operator', `Unknown operator "${op}"`, [
      { path: at, code: 'unknown_operator', message: `Unknown operator "${op}"` },
    ]);
  const args = rule[op];
  if (op === 'var') {
    const name = Array.isArray(args) ? args[0] : args;
    if ((typeof name === 'string' || typeof name === 'number') && hasUnsafeSegment(name)) throw unsafeVar(name, at);
  }
  assertRunnable(args, at); // a lone argument (`{"!": x}`) sits at the operator's own path
}

/** Rules already vetted (rules are usually metadata objects evaluated many times). */
const vetted = new WeakSet<object>();

/**
 * Evaluates a rule against data (a record merged with `$` context variables, e.g.
 * `{ ...record, $user: {...}, $now: '…' }`). Throws AppError 400 for unsafe or unknown operators.
 */
export function evaluateRule(rule: unknown, data: Record<string, unknown>): unknown {
  if (typeof rule === 'object' && rule !== null && !vetted.has(rule)) {
    assertRunnable(rule, '');
    vetted.add(rule);
  }
  return jsonLogic.apply(rule as never, data);
}
