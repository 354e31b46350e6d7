/**
 * Values read through a record's fields: `product.list_price` (a field of the record a reference points
 * at: one step) and `decision_role.weight` (an attribute of the dictionary item a picklist holds). Formulas
 * read them (engine/core/field-types.ts) and `defaultFrom` snapshots them at create (./pipeline.ts's
 * callers). Paths are checked at deploy (checkPath); here they are only followed.
 */
import { sql } from 'drizzle-orm';
import type { Db } from '../db/database.js';
import type { AppModel, CompiledEntity } from '../model/compile.js';
import { decodeRows } from './records.js';
import { selectFrom } from './query.js';

export { checkPath, groupPaths } from '../model/reference-paths.js';

type Row = Record<string, unknown>;

/**
 * The values of `paths` for one record, nested as json-logic reads them ({ product: { list_price: 12 } }):
 * one query per reference that has a value, dictionary attributes from the model. A missing target or
 * item gives nulls.
 */
export async function followPaths(
  tx: Db,
  model: AppModel,
  entity: CompiledEntity,
  record: Row,
  paths: Map<string, string[]>,
): Promise<Record<string, Row>> {
  const out: Record<string, Row> = {};
  for (const [first, names] of paths) {
    const field = entity.field(first);
    const values: Row = Object.fromEntries(names.map((n) => [n, null]));
    out[first] = values;
    const value = record[first];
    if (value === null || value === undefined || !field) continue;
    if (field.reference) {
      const target = model.entity(field.reference.to);
      if (!target || typeof value !== 'string') continue;
      const readable = names.filter((n) => target.columns[n]);
      const [row] = decodeRows(
        target,
        await tx.execute(sql`${selectFrom(target, readable)} where ${target.columns.id} = ${value}::uuid`).then(rowsFrom),
      );
      if (row) for (const n of readable) values[n] = row[n] ?? null;
    } else if (typeof field.doc.dictionary === 'string') {
      const dictionary = model.dictionaries.get(field.doc.dictionary);
      const item = dictionary?.items.find((i) => i.value === value);
      for (const n of names) values[n] = item?.attributes?.[n] ?? null;
    }
  }
  return out;
}

const rowsFrom = (result: unknown): Row[] => (Array.isArray(result) ? result : (result as { rows: Row[] }).rows);

/**
 * `defaultFrom` snapshots: on create, each such field the record leaves empty takes the referenced
 * record's value. On update (`current` given), when the reference changes to another record and the
 * field is not sent, or sent unchanged (a table row sent back whole), it is taken again from the new one.
 * The values set are written into `record` and returned.
 */
export async function snapshotDefaults(tx: Db, model: AppModel, entity: CompiledEntity, record: Row, current?: Row) {
  const taken: Row = {};
  // The fields to take, by the reference they read through: one look-up per reference (a product's price
  // and unit) — but a reference that is itself being taken (a contract's campaign, from its deal) is
  // looked up first, so that fields read through it see the value taken.
  let wanted = new Map<string, { field: string; from: string }[]>();
  const take = async () => {
    if (!wanted.size) return;
    const paths = new Map([...wanted].map(([first, fields]) => [first, [...new Set(fields.map((f) => f.from))]]));
    const values = await followPaths(tx, model, entity, record, paths);
    for (const [first, fields] of wanted) {
      for (const { field, from } of fields) {
        const value = values[first]?.[from] ?? null;
        if (value !== null || current) record[field] = taken[field] = value;
      }
    }
    wanted = new Map();
  };
  for (const f of entity.fields) {
    const from = f.doc.defaultFrom;
    if (typeof from !== 'string') continue;
    const [first, second] = from.split('.');
    if ([...wanted.values()].some((fields) => fields.some((w) => w.field === first))) await take();
    if (current) {
      const moved = (record[first] ?? null) !== (current[first] ?? null);
      const kept = JSON.stringify(record[f.name] ?? null) === JSON.stringify(current[f.name] ?? null);
      if (!moved || !kept) continue;
    } else if (record[f.name] !== undefined && record[f.name] !== null) continue;
    wanted.set(first, [...(wanted.get(first) ?? []), { field: f.name, from: second }]);
  }
  await take();
  return taken;
}
