/**
 * SQL text for an entity's table and columns, made once per compiled entity, and the filter scope that
 * lets json-logic (engine/rules/to-sql.ts) name an entity's fields. Shared by reads (engine/data) and
 * permission scopes (engine/access), so it lives with the compiled model both build on.
 */
import { getTableName, sql, type SQL } from 'drizzle-orm';
import type { FilterScope } from '../rules/to-sql.js';
import type { CompiledEntity } from './compile.js';

/**
 * A cache of SQL text made once per compiled entity and key. It lives as long as the entity object: a
 * deploy compiles new entities, so nothing outlives the metadata it was made from. Hot reads build
 * their statements from such pieces: drizzle's per-chunk type checks, when it turns a statement into
 * text, were the costliest part of building a read.
 */
export function perEntity<T>() {
  const made = new WeakMap<CompiledEntity, Map<string, T>>();
  return (entity: CompiledEntity, key: string, make: () => T): T => {
    let byKey = made.get(entity);
    if (!byKey) made.set(entity, (byKey = new Map()));
    let value = byKey.get(key);
    if (value === undefined) byKey.set(key, (value = make()));
    return value;
  };
}

/** The entity's table, quoted (its name comes from validated metadata). */
export const tableText = (entity: CompiledEntity) => `"${getTableName(entity.table)}"`;
/** A column as `"table"."column"` text; the names come from validated metadata. */
export const columnText = (entity: CompiledEntity, field: string) => `${tableText(entity)}."${entity.columns[field].name}"`;

const columnRefs = perEntity<SQL>();
/** A column as the same SQL drizzle renders for a column object, made once. */
export const columnRef = (entity: CompiledEntity, field: string): SQL =>
  columnRefs(entity, field, () => sql.raw(columnText(entity, field)));

/** Refuses (throws) a field the caller may not read, naming the query parameter that used it. */
export type ReadableCheck = (field: string, param: string) => void;

/** The fields a json-logic filter over the entity may name: its columns, with their kinds. */
export function filterScope(
  entity: CompiledEntity,
  context: Record<string, unknown>,
  checkReadable: ReadableCheck = () => {},
): FilterScope {
  return {
    field: (name) => {
      const kind = entity.columnKinds.get(name);
      if (kind) checkReadable(name, 'filter');
      return kind ? { sql: columnRef(entity, name), kind } : undefined;
    },
    context,
  };
}
