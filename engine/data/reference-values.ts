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
import { UUID } from '../model/ids.js';

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
      const row = await readTarget(tx, target, first, readable, value);
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

/** The records of a bulk write whose references are being followed, and what was read for them. */
interface Batch {
  records: Row[];
  /** By target entity and fields read: the rows by id (null: no such record). */
  read: Map<string, Map<string, Row | null>>;
}
const batches = new WeakMap<Db, Batch>();

/**
 * Runs `work` — the per-record formulas and snapshots of a bulk create, which only read — with the
 * references of all `records` followed together: the first look-up through a reference reads the
 * targets of every record at once (the products of 500 quote lines: one query, not 1,000). A value not
 * among them (a reference a snapshot just took) is read on its own.
 */
export async function followingTogether<T>(tx: Db, records: Row[], work: () => Promise<T>): Promise<T> {
  if (records.length < 2 || batches.has(tx)) return work();
  batches.set(tx, { records, read: new Map() });
  try {
    return await work();
  } finally {
    batches.delete(tx);
  }
}

async function readTarget(tx: Db, target: CompiledEntity, via: string, names: string[], id: string): Promise<Row | undefined> {
  const batch = batches.get(tx);
  const one = async (ids: string[]) =>
    decodeRows(
      target,
      await tx
        .execute(sql`${selectFrom(target, ['id', ...names])} where ${target.columns.id} = any(${sql.param(ids)}::uuid[])`)
        .then(rowsFrom),
    );
  if (!batch) return (await one([id]))[0];
  id = id.toLowerCase();
  const key = `${target.name}\u0000${names.join(',')}`;
  let rows = batch.read.get(key);
  if (!rows?.has(id)) {
    const ids = rows
      ? [id]
      : [...new Set([id, ...batch.records.flatMap((r) => (typeof r[via] === 'string' && UUID.test(r[via]) ? [r[via].toLowerCase()] : []))])];
    if (!rows) batch.read.set(key, (rows = new Map()));
    for (const i of ids) rows.set(i, null);
    for (const row of await one(ids)) rows.set(row.id as string, row);
  }
  return rows.get(id) ?? undefined;
}

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
