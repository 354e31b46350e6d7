/**
 * json-logic → parameterized SQL (drizzle `sql` chunks), for filtering rows.
 *
 * The compiled filter selects exactly the rows for which json-logic-js (evaluate.ts) is truthy on the
 * in-memory record. Two things make that hard:
 *  - SQL is three-valued and json-logic is not. We compile to negation normal form (`!` is pushed down
 *    to the atoms with De Morgan, so no NOT ever sits above an atom) and decide each atom's outcome for a
 *    NULL column at compile time, in JS: `col < $1` becomes `(col < $1 OR col IS NULL)` exactly when
 *    json-logic says `null < literal` is true. An atom that is NULL where json-logic says false is fine:
 *    under and/or only, NULL behaves like false in a WHERE clause. (So the result may be NULL rather
 *    than false: use it as a WHERE condition; to negate a filter compile `{"!": rule}`, don't wrap NOT.)
 *  - JS coerces. Only comparisons between one field and one literal of the field's kind are compiled;
 *    the literal rules are in sql-values.ts.
 * Values are always bound parameters; identifiers come only from scope.field().
 */
import { type SQL, sql } from 'drizzle-orm';
import jsonLogic from 'json-logic-js';
import { pointer } from '../errors.js';
import { hasUnsafeSegment, isLogic, isTruthy, pluginSqlCompiler, resolveVar, type FieldRef } from './evaluate.js';

export type { FieldRef } from './evaluate.js';
import { bindLiteral, filterError, literalProblem } from './sql-values.js';

export interface FilterScope {
  /** Column expression and kind for a field name; undefined means unknown field. */
  field(name: string): FieldRef | undefined;
  /** Values of $-prefixed context variables: { $user: { id: '…', department: '…' }, $now: '2026-…' } */
  context?: Record<string, unknown>;
  /** JSON pointer of the rule in the request or document, prefixed to error paths. */
  path?: string;
}

/** A compiled condition, or a constant when the outcome doesn't depend on the row. */
type Cond = SQL | boolean;
type Operand = { field: FieldRef; name: string; path: string } | { value: unknown; path: string };

const SQL_OP: Record<string, string> = {
  '==': '=',
  '===': '=',
  '!=': '<>',
  '!==': '<>',
  '<': '<',
  '<=': '<=',
  '>': '>',
  '>=': '>=',
};
const NEGATE: Record<string, string> = { '=': '<>', '<>': '=', '<': '>=', '>=': '<', '>': '<=', '<=': '>' };
/** `literal OP field` is `field FLIP(OP) literal`. */
const FLIP: Record<string, string> = { '=': '=', '<>': '<>', '<': '>', '>': '<', '<=': '>=', '>=': '<=' };
const ORDERED = new Set(['<', '<=', '>', '>=']);

/** What json-logic-js itself answers for `op` on these values (passed through `var`, so never parsed as rules). */
const jsOp = (op: string, values: unknown[]): unknown =>
  jsonLogic.apply({ [op]: values.map((_, i) => ({ var: i })) } as never, values as never);

/**
 * Bounds on a filter's size, checked before compiling: the compiler recurses (10,000 levels overflow the
 * stack) and binds every literal (PostgreSQL takes at most 65,535 parameters in a statement).
 */
export const MAX_FILTER_DEPTH = 64;
export const MAX_FILTER_NODES = 10_000;

/** Walks the rule without recursion, so any depth is measured safely. */
function checkFilterSize(rule: unknown, path: string) {
  const stack: [unknown, number][] = [[rule, 1]];
  let nodes = 0;
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (++nodes > MAX_FILTER_NODES)
      throw filterError('filter_too_large', path, `A filter may hold at most ${MAX_FILTER_NODES} operators and values`);
    if (depth > MAX_FILTER_DEPTH)
      throw filterError('filter_too_deep', path, `A filter may nest at most ${MAX_FILTER_DEPTH} levels deep`);
    if (Array.isArray(node)) for (const item of node) stack.push([item, depth + 1]);
    else if (typeof node === 'object' && node !== null) for (const value of Object.values(node)) stack.push([value, depth + 1]);
  }
}

export function compileFilter(rule: unknown, scope: FilterScope): SQL {
  checkFilterSize(rule, scope.path ?? '');
  const c = new Compiler(scope).bool(rule, false, scope.path ?? '');
  return typeof c === 'boolean' ? (c ? sql`true` : sql`false`) : c;
}

class Compiler {
  constructor(private readonly scope: FilterScope) {}

  /** Compiles a rule used for its truthiness; `negated` = under an odd number of `!`. */
  bool(node: unknown, negated: boolean, path: string): Cond {
    if (Array.isArray(node)) throw filterError('invalid_filter', path, 'An array is not a condition');
    if (!isLogic(node)) {
      if (typeof node === 'object' && node !== null)
        throw filterError('invalid_filter', path, 'An object in a rule must have exactly one key: the operator');
      return isTruthy(node) !== negated; // a literal: true = all rows
    }
    const op = Object.keys(node)[0]!;
    const at = path + pointer(op);
    const raw = node[op];
    const args = Array.isArray(raw) ? raw : [raw];
    const argPath = (i: number) => (Array.isArray(raw) ? at + pointer(i) : at);
    switch (op) {
      case 'and':
      case 'or': {
        if (args.length === 0) throw filterError('invalid_filter', at, `"${op}" needs at least one condition`);
        const parts = args.map((a, i) => this.bool(a, negated, argPath(i)));
        // De Morgan: under negation, and becomes or and vice versa.
        return (op === 'and') !== negated ? all(parts) : any(parts);
      }
      case '!':
      case '!!':
        if (args.length !== 1) throw filterError('invalid_filter', at, `"${op}" takes exactly one argument`);
        return this.bool(args[0], op === '!' ? !negated : negated, argPath(0));
      case 'var': {
        const o = this.operand(node, path);
        return 'field' in o ? truthiness(o, negated) : isTruthy(o.value) !== negated;
      }
      case '==':
      case '===':
      case '!=':
      case '!==':
      case '>':
      case '>=':
        this.arity(op, args, 2, at);
        return this.compare(op, this.operand(args[0], argPath(0)), this.operand(args[1], argPath(1)), negated, at);
      case '<':
      case '<=': {
        if (args.length === 3) {
          // Between: json-logic's `a < b < c` is `(a < b) && (b < c)`.
          const [a, b, c] = args.map((x, i) => this.operand(x, argPath(i)));
          const parts = [this.compare(op, a!, b!, negated, at), this.compare(op, b!, c!, negated, at)];
          return negated ? any(parts) : all(parts);
        }
        this.arity(op, args, 2, at);
        return this.compare(op, this.operand(args[0], argPath(0)), this.operand(args[1], argPath(1)), negated, at);
      }
      case 'in':
        this.arity(op, args, 2, at);
        return this.contains(this.operand(args[0], argPath(0)), this.operand(args[1], argPath(1)), negated, at);
      case 'some':
        this.arity(op, args, 2, at);
        return this.some(args, negated, at, argPath);
      default: {
        const compiler = pluginSqlCompiler(op);
        if (!compiler) throw filterError('unsupported_operator', at, `Operator "${op}" can't be used in a filter`);
        const field = (name: string) => (hasUnsafeSegment(name) ? undefined : this.scope.field(name));
        return compiler(args, { field, negated, path: at, context: this.scope.context });
      }
    }
  }

  private arity(op: string, args: unknown[], n: number, at: string) {
    if (args.length !== n) throw filterError('invalid_filter', at, `"${op}" takes exactly ${n} arguments`);
  }

  /** A comparison operand: a field, or a value known at compile time (literal or `$` context variable). */
  private operand(node: unknown, path: string): Operand {
    if (Array.isArray(node)) {
      // json-logic evaluates each element of an array literal: allow literals and context variables.
      return {
        path,
        value: node.map((n, i) => {
          const o = this.operand(n, path + pointer(i));
          if ('field' in o) throw filterError('unsupported_operator', o.path, 'A list may only contain literals, not fields');
          return o.value;
        }),
      };
    }
    if (!isLogic(node)) {
      if (typeof node === 'object' && node !== null)
        throw filterError('invalid_filter', path, 'An object in a rule must have exactly one key: the operator');
      return { value: node, path };
    }
    const op = Object.keys(node)[0]!;
    if (op !== 'var') {
      throw filterError(
        'unsupported_operator',
        path,
        `Only a field ({"var": …}) or a literal can be compared in a filter, not a "${op}" expression`,
      );
    }
    const raw = node.var;
    const [name, fallback] = Array.isArray(raw) ? raw : [raw];
    if (typeof name !== 'string' && typeof name !== 'number')
      throw filterError('invalid_filter', path, 'Variable names must be literal strings');
    if (hasUnsafeSegment(name)) throw filterError('unsafe_rule', path, `Variable "${name}" is not allowed`);
    const key = String(name);
    if (key.startsWith('$')) {
      const dflt = fallback === undefined ? null : this.operand(fallback, path + pointer('var', 1));
      if (dflt && 'field' in dflt) throw filterError('unsupported_operator', dflt.path, 'A default value must be a literal');
      return { value: resolveVar(this.scope.context ?? {}, key, dflt ? dflt.value : null), path };
    }
    // Fields of a typed record are always present (null when empty), so a default would never apply.
    if (Array.isArray(raw) && raw.length > 1)
      throw filterError('invalid_filter', path, "A field variable in a filter can't have a default value");
    const field = key === '' ? undefined : this.scope.field(key);
    if (!field) throw filterError('unknown_field', path, `Unknown field "${key}"`);
    if (field.kind === 'json')
      throw filterError('type_mismatch', path, `Field "${key}" holds JSON, which can't be used in a filter`);
    return { field, name: key, path };
  }

  /** `a OP b` for == === != !== < <= > >=. */
  private compare(op: string, a: Operand, b: Operand, negated: boolean, at: string): Cond {
    if (!('field' in a) && !('field' in b)) return isTruthy(jsOp(op, [a.value, b.value])) !== negated;
    if ('field' in a && 'field' in b)
      throw filterError(
        'unsupported_operator',
        at,
        `Comparing two fields ("${a.name}", "${b.name}") isn't supported in a filter: compare a field with a literal`,
      );
    const fieldFirst = 'field' in a;
    const f = (fieldFirst ? a : b) as Extract<Operand, { field: FieldRef }>;
    const lit = (fieldFirst ? b : a) as Extract<Operand, { value: unknown }>;
    const col = f.field.sql;
    let sqlOp = SQL_OP[op]!;
    if (lit.value === null || lit.value === undefined) {
      if (ORDERED.has(sqlOp)) throw filterError('type_mismatch', lit.path, `null can only be compared with ==, !=, === or !==`);
      // v == null is true exactly when v is null, for every kind.
      return (sqlOp === '=') !== negated ? sql`${col} IS NULL` : sql`${col} IS NOT NULL`;
    }
    const ordered = ORDERED.has(sqlOp);
    this.checkLiteral(f, lit, ordered);
    // json-logic's answer for a NULL column, computed with the operands in their original order.
    let nullTrue = isTruthy(jsOp(op, fieldFirst ? [null, lit.value] : [lit.value, null]));
    if (!fieldFirst) sqlOp = FLIP[sqlOp]!;
    if (negated) {
      sqlOp = NEGATE[sqlOp]!; // non-null values are totally ordered, so NOT(a < b) is a >= b
      nullTrue = !nullTrue;
    }
    // JS orders strings by code unit: COLLATE "C" (byte order) agrees for the literals sql-values allows.
    const lhs = ordered && f.field.kind === 'text' ? sql`${col} COLLATE "C"` : col;
    const atom = sql`${lhs} ${sql.raw(sqlOp)} ${bindLiteral(f.field.kind, lit.value)}`;
    return nullTrue ? sql`(${atom} OR ${col} IS NULL)` : atom;
  }

  /** `{"in": [needle, haystack]}`: list membership, substring or array element. */
  private contains(needle: Operand, haystack: Operand, negated: boolean, at: string): Cond {
    if (!('field' in needle) && !('field' in haystack)) return isTruthy(jsOp('in', [needle.value, haystack.value])) !== negated;
    if ('field' in needle && 'field' in haystack)
      throw filterError(
        'unsupported_operator',
        at,
        `"in" between two fields ("${needle.name}", "${haystack.name}") isn't supported in a filter`,
      );
    if ('field' in needle) return this.inList(needle, haystack as Extract<Operand, { value: unknown }>, negated);
    const f = haystack as Extract<Operand, { field: FieldRef }>;
    const { value, path } = needle as Extract<Operand, { value: unknown }>;
    const col = f.field.sql;
    if (f.field.kind === 'text') {
      this.checkLiteral(f, needle as Extract<Operand, { value: unknown }>, false);
      // json-logic: a null or '' field is never searched (`!b` short-circuits), else indexOf(sub) !== -1.
      // strpos(x, '') is 1, so the empty substring is just "non-empty field".
      if (value === '') return negated ? sql`(${col} = '' OR ${col} IS NULL)` : sql`${col} <> ''`;
      const found = sql`strpos(${col}, ${sql.param(value)})`;
      return negated ? sql`(${found} = 0 OR ${col} IS NULL)` : sql`${found} > 0`;
    }
    if (f.field.kind === 'text[]') {
      if (typeof value !== 'string' || literalProblem('text', value, false))
        throw filterError('type_mismatch', path, `"${f.name}" is a list of strings: look for a string in it`);
      // @> (array contains) so a GIN index on the column can serve it.
      const has = sql`${col} @> ARRAY[${sql.param(value)}]::text[]`;
      return negated ? sql`(NOT (${has}) OR ${col} IS NULL)` : has;
    }
    if (f.field.kind === 'uuid[]') {
      // A user in a list of users ("contains me": {"in": [{"var": "$user.id"}, {"var": "participants"}]}).
      if (value === null || value === undefined) return negated;
      if (literalProblem('uuid', value, false))
        throw filterError('type_mismatch', path, `"${f.name}" is a list of user ids: look for a user id in it`);
      const has = sql`${col} @> ARRAY[${sql.param(value)}]::uuid[]`;
      return negated ? sql`(NOT (${has}) OR ${col} IS NULL)` : has;
    }
    throw filterError('type_mismatch', f.path, `"in" looks inside text or multi-value fields; "${f.name}" is ${f.field.kind}`);
  }

  /**
   * `{"some": [{"var": "participants"}, {"in": [{"var": ""}, [v1, v2…]]}]}`: a multi-value field shares a
   * value with a list — the array overlap `&&`, which a GIN index serves. Other `some` forms have no SQL.
   */
  private some(args: unknown[], negated: boolean, at: string, argPath: (i: number) => string): Cond {
    const list = this.operand(args[0], argPath(0));
    const predicate = args[1] as Record<string, unknown> | undefined;
    const inArgs = isLogic(predicate) && Array.isArray(predicate.in) ? (predicate.in as unknown[]) : undefined;
    const item = inArgs?.[0] as Record<string, unknown> | undefined;
    if (
      !('field' in list) ||
      (list.field.kind !== 'text[]' && list.field.kind !== 'uuid[]') ||
      inArgs?.length !== 2 ||
      !isLogic(item) ||
      !(item.var === '' || (Array.isArray(item.var) && item.var[0] === ''))
    )
      throw filterError(
        'unsupported_operator',
        at,
        '"some" can be used in a filter only as {"some": [{"var": "<multi-value field>"}, {"in": [{"var": ""}, [values…]]}]}',
      );
    const values = this.operand(inArgs[1], argPath(1) + '/in/1');
    if ('field' in values)
      throw filterError('unsupported_operator', values.path, 'Look the items up in a list of values, not a field');
    if (values.value === null || values.value === undefined) return negated;
    if (!Array.isArray(values.value)) throw filterError('type_mismatch', values.path, 'Expected a list of values');
    const kind = list.field.kind === 'uuid[]' ? 'uuid' : 'text';
    const items = values.value.filter((v) => v !== null);
    items.forEach((v, i) => {
      const problem = literalProblem(kind, v, false);
      if (problem)
        throw filterError(
          'type_mismatch',
          values.path + pointer(i),
          `"${list.name}" holds ${kind} values: compare with ${problem}`,
        );
    });
    if (!items.length) return negated;
    const col = list.field.sql;
    const overlaps = sql`${col} && ${sql.param(items)}::${sql.raw(kind)}[]`;
    return negated ? sql`(NOT (${overlaps}) OR ${col} IS NULL)` : overlaps;
  }

  /** `{"in": [field, [v1, v2…]]}`: json-logic uses indexOf, i.e. strict equality. */
  private inList(f: Extract<Operand, { field: FieldRef }>, list: Extract<Operand, { value: unknown }>, negated: boolean): Cond {
    const { value } = list;
    if (typeof value === 'string')
      throw filterError('unsupported_operator', list.path, 'A field can only be looked up in a list of values, not in a string');
    if (!Array.isArray(value)) {
      // json-logic: a haystack without indexOf (null, number, boolean) contains nothing.
      if (value === null || value === undefined || typeof value === 'number' || typeof value === 'boolean') return negated;
      throw filterError('type_mismatch', list.path, 'Expected a list of values');
    }
    if (f.field.kind === 'text[]' || f.field.kind === 'uuid[]')
      throw filterError('type_mismatch', f.path, `"${f.name}" is a list: use {"in": [value, {"var": "${f.name}"}]}`);
    const hasNull = value.some((v) => v === null);
    const values = value.filter((v) => v !== null);
    value.forEach((v, i) => v === null || this.checkLiteral(f, { value: v, path: list.path + pointer(i) }, false));
    const col = f.field.sql;
    const params = sql.join(
      values.map((v) => bindLiteral(f.field.kind, v)),
      sql`, `,
    );
    if (!negated) {
      const parts: Cond[] = [values.length > 0 && sql`${col} IN (${params})`, hasNull && sql`${col} IS NULL`];
      return any(parts);
    }
    const notIn = values.length > 0 ? sql`${col} NOT IN (${params})` : sql`${col} IS NOT NULL`;
    return hasNull ? notIn : values.length > 0 ? sql`(${notIn} OR ${col} IS NULL)` : true;
  }

  private checkLiteral(f: Extract<Operand, { field: FieldRef }>, lit: { value: unknown; path: string }, ordered: boolean) {
    const problem = literalProblem(f.field.kind, lit.value, ordered);
    if (problem)
      throw filterError('type_mismatch', lit.path, `"${f.name}" is a ${f.field.kind} field: compare it with ${problem}`);
  }
}

/** json-logic truthiness of a field: '' 0 false null [] are falsy. */
function truthiness(o: { field: FieldRef; name: string; path: string }, negated: boolean): SQL {
  const col = o.field.sql;
  const [yes, no] = ((): [SQL, SQL] => {
    switch (o.field.kind) {
      case 'boolean':
        return [sql`${col} = true`, sql`${col} = false`];
      case 'text':
        return [sql`${col} <> ''`, sql`${col} = ''`];
      case 'integer':
      case 'number':
        return [sql`${col} <> 0`, sql`${col} = 0`];
      case 'text[]':
      case 'uuid[]':
        return [sql`cardinality(${col}) > 0`, sql`cardinality(${col}) = 0`];
      default: // date, datetime, uuid: never empty strings
        return [sql`${col} IS NOT NULL`, sql`${col} IS NULL`];
    }
  })();
  if (!negated) return yes;
  return ['date', 'datetime', 'uuid'].includes(o.field.kind) ? no : sql`(${no} OR ${col} IS NULL)`;
}

/** AND of conditions, folding constants. */
function all(parts: Cond[]): Cond {
  if (parts.includes(false)) return false;
  const rest = parts.filter((p): p is SQL => typeof p !== 'boolean');
  return rest.length === 0 ? true : rest.length === 1 ? rest[0]! : sql`(${sql.join(rest, sql` AND `)})`;
}

/** OR of conditions, folding constants (`false` entries are dropped). */
function any(parts: (Cond | false)[]): Cond {
  if (parts.includes(true)) return true;
  const rest = parts.filter((p): p is SQL => typeof p !== 'boolean');
  return rest.length === 0 ? false : rest.length === 1 ? rest[0]! : sql`(${sql.join(rest, sql` OR `)})`;
}
