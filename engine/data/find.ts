/** Reading one record by id for an operation: within the caller's scope, 404 when it isn't there for them. */
import { sql, type SQL } from 'drizzle-orm';
import { rowsOf as resultRows, type Database, type Db } from '../db/database.js';
import { notFound } from '../errors.js';
import type { CompiledEntity } from '../model/compile.js';
import { UUID } from '../model/ids.js';
import type { Guard } from '../access/guard.js';
import { columnRef, deletedCondition, selectFrom, selectList, tableText } from './query.js';
import { decodeRows } from './records.js';
import { all } from './pipeline.js';
import type { RowsOf } from './context.js';

export const notFoundRecord = (entity: CompiledEntity, id: string) =>
  notFound('record_not_found', `No ${entity.name} with id ${id}`);

/** The columns a read selects: all of them, or `fields` with id and version. */
export const selectionNames = (entity: CompiledEntity, fields?: string[]) =>
  fields ? [...new Set(['id', 'version', ...fields])] : entity.columnNames;

/** The live record, within a scope (absent = any); 404 when it isn't there for the caller. */
export async function findActive(
  database: Database,
  db: Db,
  entity: CompiledEntity,
  id: string,
  scope: SQL | undefined,
  names: string[] = entity.columnNames,
) {
  if (!UUID.test(id)) throw notFoundRecord(entity, id);
  // Column text and the live-record condition come cached (see query.ts): this runs for every read by id.
  const query = sql`${selectFrom(entity, names)} where ${all(sql`${columnRef(entity, 'id')} = ${id}::uuid`, deletedCondition(entity, 'exclude'), scope)}`;
  const [row] = decodeRows(entity, await database.rows(query, db));
  if (!row) throw notFoundRecord(entity, id);
  return row;
}

/** Reads a record the caller can see, with flags for the further actions they may take on it. */
export async function findWithRights(
  db: Db,
  guard: Guard,
  entity: CompiledEntity,
  id: string,
  actions: ('update' | 'delete' | 'assign' | 'share')[],
  deleted = false,
  /** A child row written through its parent's collection: found among the parent's rows, updatable and removable there. */
  rowsOf?: RowsOf,
) {
  const within = rowsOf?.entity === entity.name ? rowsOf : undefined;
  const read = within ? sql`${columnRef(entity, within.via)} = ${within.parentId}::uuid` : guard.condition(entity, 'read', 'few');
  // The rights come as boolean columns beside the record's: `coalesce(<scope>, false) as "__update"`.
  const flags: SQL[] = [];
  for (const action of actions) {
    const c = within && (action === 'update' || action === 'delete') ? undefined : guard.optionalCondition(entity, action, 'few');
    const flag = c === undefined ? sql`true` : c === false ? sql`false` : sql`coalesce(${c}, false)`;
    flags.push(sql`, ${flag} as ${sql.raw(`"__${action}"`)}`);
  }
  if (!UUID.test(id)) throw notFoundRecord(entity, id);
  // Column text and the live-record condition come cached (see query.ts), as in findActive: every
  // transition, update and delete starts here.
  const [row] = decodeRows(
    entity,
    resultRows(
      await db.execute(
        sql`select ${selectList(entity, entity.columnNames)}${sql.join(flags)} from ${sql.raw(tableText(entity))}
          where ${all(sql`${columnRef(entity, 'id')} = ${id}::uuid`, deletedCondition(entity, deleted ? 'only' : 'exclude'), read)}`,
      ),
    ),
  );
  if (!row) throw notFoundRecord(entity, id);
  const rights = Object.fromEntries(actions.map((a) => [a, Boolean(row[`__${a}`])])) as Record<string, boolean>;
  for (const a of actions) delete row[`__${a}`];
  return { record: row, rights };
}
