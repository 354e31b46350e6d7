/**
 * The SQL of a roll-up: the aggregate of a child entity's field over the live child records that
 * reference one parent (and match the roll-up's filter). One expression, used when the parent itself
 * is written (the field type's hook), when a deploy backfills the field, and when children change
 * (refresh.ts) — so the three can't disagree.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { AppModel } from '../model/compile.js';
import type { FieldDoc } from '../registry/types.js';
import { compileFilter } from '../rules/to-sql.js';
import { columnRef, columnText, filterScope } from '../data/query.js';

export const ROLLUP_OPS = ['count', 'sum', 'min', 'max'] as const;
export type RollupOp = (typeof ROLLUP_OPS)[number];

/** A roll-up field as written: `of` the child entity, `via` its reference to this one, `op` over `field`. */
export interface RollupDoc extends FieldDoc {
  of: string;
  via: string;
  op: RollupOp;
  field?: string;
  where?: unknown;
  returns?: 'integer' | 'decimal' | 'currency' | 'date' | 'datetime';
}

const compiled = new WeakMap<object, Map<string, SQL>>();

/**
 * The aggregate for the parent whose id `parent` gives (a bound value or a column of an outer query).
 * Sums and counts of nothing are 0; min and max of nothing are NULL.
 */
export function aggregate(model: AppModel, field: RollupDoc, parent: SQL): SQL {
  const child = model.entity(field.of)!;
  let byField = compiled.get(child);
  if (!byField) compiled.set(child, (byField = new Map()));
  const key = JSON.stringify([field.via, field.op, field.field, field.where]);
  let where = byField.get(key);
  if (!where)
    byField.set(key, (where = field.where === undefined ? sql`true` : compileFilter(field.where, filterScope(child, {}))));
  const value = field.op === 'count' ? sql`count(*)` : sql.raw(`${field.op}(${columnText(child, field.field!)})`);
  const total = field.op === 'count' || field.op === 'sum' ? sql`coalesce(${value}, 0)` : value;
  return sql`(select ${total} from ${child.table} where ${columnRef(child, field.via)} = ${parent} and ${columnRef(child, 'deleted_at')} is null and ${where})`;
}
