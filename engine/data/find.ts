/** Reading one record by id for an operation: within the caller's scope, 404 when it isn't there for them. */
import { fillPlaceholders, sql, type Placeholder, type SQL } from 'drizzle-orm';
import { renderQuery, rowsOf as resultRows, rowsOfText, type Database, type Db } from '../db/database.js';
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

/** A read by id with rights, as text and values with the id a placeholder: see findWithRights. */
interface ReadById {
  text: string;
  params: unknown[];
}
/** The key of the engine's own reads (no principal) in the caches below. */
const ENGINE = {};
const readsById = new WeakMap<CompiledEntity, WeakMap<object, Map<string, ReadById>>>();

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
  let rows: Record<string, unknown>[];
  if (!within && guard.conditionsFixed(entity, ['read', ...actions])) {
    // Every transition, update and delete starts here, and a principal's scopes are the same SQL for
    // every record they read: made into text once per entity, principal and actions, then only bound.
    const who = guard.privileged || !guard.principal ? ENGINE : guard.principal;
    let byWho = readsById.get(entity);
    if (!byWho) readsById.set(entity, (byWho = new WeakMap()));
    let byKey = byWho.get(who);
    if (!byKey) byWho.set(who, (byKey = new Map()));
    const key = `${actions.join(',')}|${deleted}`;
    let read = byKey.get(key);
    if (!read) {
      const { sql: text, params } = renderQuery(db, readWithRights(guard, entity, sql.placeholder('id'), actions, deleted));
      byKey.set(key, (read = { text, params }));
    }
    if (!UUID.test(id)) throw notFoundRecord(entity, id);
    rows = await rowsOfText(db, read.text, fillPlaceholders(read.params, { id }));
  } else {
    const query = readWithRights(guard, entity, id, actions, deleted, within);
    if (!UUID.test(id)) throw notFoundRecord(entity, id);
    rows = resultRows(await db.execute(query));
  }
  const [row] = decodeRows(entity, rows);
  if (!row) throw notFoundRecord(entity, id);
  const rights = Object.fromEntries(actions.map((a) => [a, Boolean(row[`__${a}`])])) as Record<string, boolean>;
  for (const a of actions) delete row[`__${a}`];
  return { record: row, rights };
}

/** The record with its rights as boolean columns beside its own: `coalesce(<scope>, false) as "__update"`. */
function readWithRights(
  guard: Guard,
  entity: CompiledEntity,
  id: string | Placeholder,
  actions: ('update' | 'delete' | 'assign' | 'share')[],
  deleted: boolean,
  within?: RowsOf,
): SQL {
  const read = within ? sql`${columnRef(entity, within.via)} = ${within.parentId}::uuid` : guard.condition(entity, 'read', 'few');
  const flags: SQL[] = [];
  for (const action of actions) {
    const c = within && (action === 'update' || action === 'delete') ? undefined : guard.optionalCondition(entity, action, 'few');
    const flag = c === undefined ? sql`true` : c === false ? sql`false` : sql`coalesce(${c}, false)`;
    flags.push(sql`, ${flag} as ${sql.raw(`"__${action}"`)}`);
  }
  // Column text and the live-record condition come cached (see query.ts), as in findActive.
  return sql`select ${selectList(entity, entity.columnNames)}${sql.join(flags)} from ${sql.raw(tableText(entity))}
    where ${all(sql`${columnRef(entity, 'id')} = ${id}::uuid`, deletedCondition(entity, deleted ? 'only' : 'exclude'), read)}`;
}
