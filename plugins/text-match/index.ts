/**
 * A `starts_with` json-logic operation, in memory and in SQL:
 *   { "starts_with": [{ "var": "archive_no" }, "EAST-"] }
 * In SQL it is a LIKE with the prefix escaped, so `%` and `_` in the prefix match themselves; with a
 * C-collation or text_pattern_ops index PostgreSQL serves it as an index range. The in-memory side lives in
 * operations.ts, which the web UI imports too.
 */
import { sql } from 'drizzle-orm';
import type { Plugin } from '../../engine/registry/types.js';
import { badRequest } from '../../engine/errors.js';
import type { SqlOperationCompiler } from '../../engine/rules/evaluate.js';
import { startsWith } from './operations.js';


const startsWithSql: SqlOperationCompiler = (args, ctx) => {
  const [target, prefix] = args as [{ var?: unknown } | undefined, unknown];
  const name = target && typeof target === 'object' && typeof target.var === 'string' ? target.var : undefined;
  const field = name === undefined ? undefined : ctx.field(name);
  if (args.length !== 2 || !field || typeof prefix !== 'string') {
    throw badRequest(
      'invalid_filter',
      'starts_with takes a text field and a string: {"starts_with": [{"var": "field"}, "prefix"]}',
      [{ path: ctx.path, message: 'expected [{"var": field}, "prefix"]' }],
    );
  }
  if (field.kind !== 'text')
    throw badRequest('type_mismatch', `starts_with needs a text field, not ${field.kind}`, [
      { path: ctx.path + '/0', message: 'not a text field' },
    ]);
  const pattern = prefix.replace(/[\\%_]/g, (c) => '\\' + c) + '%';
  // NULL never starts with anything (false); its negation is true, so NULL rows join the negated form.
  return ctx.negated ? sql`(${field.sql} not like ${pattern} or ${field.sql} is null)` : sql`${field.sql} like ${pattern}`;
};

const textMatch: Plugin = {
  name: 'text-match',
  operations: [{ name: 'starts_with', evaluate: startsWith, sql: startsWithSql }],
};

export default textMatch;
