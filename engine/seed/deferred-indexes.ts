/**
 * A bulk load's secondary indexes, built once at its end instead of row by row. The indexes that serve
 * lists — sorts, filters, composite views, the search bigrams — are read by no statement of the load, yet
 * every row version written pays for each of them: an opportunity walked through its stages is written
 * four times into fifteen indexes. The load drops those in its transaction and creates them again
 * before it commits, as PostgreSQL's manual advises for populating a database ("Remove Indexes"). Kept:
 * primary keys, unique indexes (they refuse duplicates as the rows are written) and the indexes of
 * reference and user-list fields, which the load's own look-ups, roll-ups and scopes read.
 *
 * Both the drop and the build are DDL inside the load's transaction: a failed load rolls them back with
 * its rows. The statements are made by the planner from the compiled model's index specs (identifiers
 * from validated metadata only).
 */
import { sql } from 'drizzle-orm';
import type { Database, Db } from '../db/database.js';
import type { AppModel, CompiledEntity, IndexSpec } from '../model/compile.js';
import { createIndexSql, dropIndexSql } from '../../metadata/planner.js';

export interface DeferredIndex {
  table: string;
  index: IndexSpec;
}

/** The indexes of an entity no statement of a load reads: those of sorts, filters and search. */
export function deferrableIndexes(entity: CompiledEntity): IndexSpec[] {
  return entity.indexes.filter((index) => {
    if (index.unique) return false;
    const [first] = index.columns;
    const field = entity.field(first);
    const lookedUp = Boolean(field && (field.reference || field.type.userList) && index.columns.length <= 2);
    return !lookedUp;
  });
}

/** Drops the deferrable indexes that exist (a pending after-commit build may not have made one yet). */
export async function dropDeferrableIndexes(database: Database, tx: Db, model: AppModel): Promise<DeferredIndex[]> {
  const wanted = [...model.entities.values()].flatMap((entity) =>
    deferrableIndexes(entity).map((index) => ({ table: entity.name, index })),
  );
  if (!wanted.length) return [];
  const existing = await database.rows<{ name: string }>(
    sql`select indexname as name from pg_indexes
      where schemaname = current_schema() and indexname = any(${sql.param(wanted.map((w) => w.index.name))}::text[])`,
    tx,
  );
  const names = new Set(existing.map((r) => r.name));
  const dropped = wanted.filter((w) => names.has(w.index.name));
  for (const { index } of dropped) await tx.execute(sql.raw(dropIndexSql(index.name)));
  return dropped;
}

/** Builds the dropped indexes again, each over the table as the load left it. */
export async function buildDeferredIndexes(tx: Db, dropped: DeferredIndex[]) {
  for (const { table, index } of dropped) await tx.execute(sql.raw(createIndexSql(table, index)));
}
