/**
 * The INSERT and the versioned UPDATE of records, as statement text and driver values. drizzle's query
 * builders walk every column of the table on every write — the values or assignments, then the
 * returning list — with a type check per piece: building an opportunity's update took 0.26 ms, as long
 * as the embedded database took to run it. Here the returning list is made once per entity, the rest is
 * joined as text, and each value is encoded by its column as drizzle would (timestamps, numerics, arrays,
 * JSON). Identifiers come from validated metadata; values are always bound parameters.
 */
import { rowsOfText, type Db } from '../db/database.js';
import type { CompiledEntity } from '../model/compile.js';
import { perEntity, tableText } from '../model/sql-refs.js';
import { decodeRows } from './records.js';

const returningLists = perEntity<string>();
/** ` returning <every column as its field>`: the record as reads return it (see decodeRows). */
const returning = (entity: CompiledEntity) =>
  returningLists(
    entity,
    '',
    () =>
      ` returning ${entity.columnNames
        .map((n) => {
          const column = entity.columns[n].name;
          return column === n ? `"${column}"` : `"${column}" as "${n}"`;
        })
        .join(', ')}`,
  );

/** A value as the column's driver type: drizzle's own encoder for the column. */
const encode = (entity: CompiledEntity, field: string, value: unknown) =>
  value === null ? null : entity.columns[field].mapToDriverValue(value);

/**
 * Inserts records (in memory form, see toColumnValues) and returns them as stored. A field a record
 * leaves undefined takes the column's default, as in drizzle's insert.
 */
export async function insertRecords(
  tx: Db,
  entity: CompiledEntity,
  records: Record<string, unknown>[],
): Promise<Record<string, unknown>[]> {
  const names = entity.columnNames;
  const params: unknown[] = [];
  const rows = records.map((record) => {
    const values = names.map((n) => {
      const value = record[n];
      if (value === undefined) return 'default';
      params.push(encode(entity, n, value));
      return `$${params.length}`;
    });
    return `(${values.join(', ')})`;
  });
  const columns = names.map((n) => `"${entity.columns[n].name}"`).join(', ');
  const text = `insert into ${tableText(entity)} (${columns}) values ${rows.join(', ')}${returning(entity)}`;
  return decodeRows(entity, await rowsOfText(tx, text, params));
}

/**
 * Sets the columns of a live record at the expected version, and its version one higher; returns the
 * record as stored, or undefined when it is no longer there at that version (someone else saved).
 */
export async function updateVersioned(
  tx: Db,
  entity: CompiledEntity,
  id: string,
  expected: number,
  set: Record<string, unknown>,
): Promise<Record<string, unknown> | undefined> {
  const params: unknown[] = [];
  const assignments: string[] = [];
  // As drizzle's update: undefined leaves a column as it is, and only the table's columns are set.
  for (const [n, value] of Object.entries(set)) {
    if (value === undefined || n === 'version' || !entity.columns[n]) continue;
    params.push(encode(entity, n, value));
    assignments.push(`"${entity.columns[n].name}" = $${params.length}`);
  }
  params.push(id, expected);
  const text = `update ${tableText(entity)} set ${[...assignments, '"version" = "version" + 1'].join(', ')}
    where "id" = $${params.length - 1} and "version" = $${params.length} and "deleted_at" is null${returning(entity)}`;
  const [row] = decodeRows(entity, await rowsOfText(tx, text, params));
  return row;
}
