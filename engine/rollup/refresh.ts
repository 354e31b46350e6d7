/**
 * Keeps roll-ups exact when their children change: in the child write's own transaction, the parents
 * the change touches (the old and the new one of a moved child) are locked — in id order, so two
 * writers can't deadlock — and then recomputed by a second statement, whose fresh snapshot sees every
 * child write committed before the lock was granted. Two concurrent child writes to one parent thus
 * take turns, and the second counts the first. The parent's formulas follow (they may read a roll-up),
 * and so do roll-ups of the parent's own parents. Nobody edited the parent: no version, no audit.
 */
import { sql } from 'drizzle-orm';
import type { Db } from '../db/database.js';
import { rowsOf } from '../db/database.js';
import type { AppModel, CompiledEntity, CompiledField } from '../model/compile.js';
import { decodeRows, decodeValue } from '../data/records.js';
import { aggregate, type RollupDoc } from './aggregate.js';
import { operationTime } from '../db/clock.js';

type Row = Record<string, unknown>;
/** Roll-ups that chain deeper than this (lines → orders → accounts → …) stop: a cycle would never settle. */
const MAX_DEPTH = 5;

const rollupCache = new WeakMap<AppModel, Map<string, { parent: CompiledEntity; field: CompiledField }[]>>();
/** The roll-up fields over each child entity. */
export function rollupsOver(model: AppModel, child: string) {
  let byChild = rollupCache.get(model);
  if (!byChild) {
    byChild = new Map();
    for (const parent of model.entities.values()) {
      for (const field of parent.fields.filter((f) => f.doc.type === 'rollup')) {
        const of = String(field.doc.of);
        byChild.set(of, [...(byChild.get(of) ?? []), { parent, field }]);
      }
    }
    rollupCache.set(model, byChild);
  }
  return byChild.get(child) ?? [];
}

/** Recomputes the roll-ups that read `child` for the parents these child rows (before and after a change) point at. */
export async function refreshParentsOf(tx: Db, model: AppModel, child: string, rows: Row[], depth = 0) {
  const byParent = new Map<CompiledEntity, Set<string>>();
  for (const { parent, field } of rollupsOver(model, child)) {
    const ids = byParent.get(parent) ?? new Set<string>();
    for (const r of rows) if (typeof r[String(field.doc.via)] === 'string') ids.add(r[String(field.doc.via)] as string);
    if (ids.size) byParent.set(parent, ids);
  }
  for (const [parent, ids] of byParent) await refresh(tx, model, parent, [...ids].sort(), depth);
}

/** The same, for child records named by id (deleted or restored ones, cascades included). */
export async function refreshParentsOfIds(tx: Db, model: AppModel, child: CompiledEntity, ids: string[]) {
  const rollups = rollupsOver(model, child.name);
  if (!rollups.length || !ids.length) return;
  const vias = [...new Set(rollups.map((r) => String(r.field.doc.via)))];
  const rows = rowsOf<Row>(
    await tx.execute(
      sql`select ${sql.join(
        vias.map((v) => sql.identifier(v)),
        sql`, `,
      )} from ${child.table} where id in ${ids}`,
    ),
  );
  await refreshParentsOf(tx, model, child.name, rows);
}

async function refresh(tx: Db, model: AppModel, parent: CompiledEntity, ids: string[], depth: number) {
  if (depth >= MAX_DEPTH) return;
  // 1. Lock (and wait for whoever else is recomputing these parents). NO KEY UPDATE, as the update
  // below takes: it does not conflict with the KEY SHARE locks the children's foreign keys hold, which
  // two concurrent child inserts both have — FOR UPDATE would deadlock them.
  await tx.execute(sql`select id from ${parent.table} where id in ${ids} order by id for no key update`);
  // 2. A new statement, a new snapshot: every child committed before the lock is counted.
  const rollups = parent.fields.filter((f) => f.doc.type === 'rollup');
  const rows = rowsOf<Row>(
    await tx.execute(sql`select *, ${sql.join(
      rollups.map(
        (f) => sql`${aggregate(model, f.doc as RollupDoc, sql`${parent.table}.id`)} as ${sql.identifier(`__${f.name}`)}`,
      ),
      sql`, `,
    )}
    from ${parent.table} where id in ${ids}`),
  );
  const changed: Row[] = [];
  for (const raw of rows) {
    const fresh: Row = {};
    for (const f of rollups) {
      fresh[f.name] = decodeValue(parent.columnKinds.get(f.name)!, raw[`__${f.name}`]);
      delete raw[`__${f.name}`];
    }
    const [current] = decodeRows(parent, [raw]);
    const next = { ...current, ...fresh };
    // Formulas of the parent may read a roll-up: they follow, in their order.
    for (const f of parent.writeHooks.filter((h) => h.doc.type === 'formula')) {
      const value = await f.type.onWrite!({
        field: f.doc,
        entity: parent.name,
        operation: 'update',
        record: next,
        tx,
        now: operationTime(tx),
        model,
      });
      if (value !== undefined) next[f.name] = value;
    }
    const set = parent.fields.filter(
      (f) =>
        (f.doc.type === 'rollup' || f.doc.type === 'formula') &&
        JSON.stringify(next[f.name] ?? null) !== JSON.stringify(current[f.name] ?? null),
    );
    if (!set.length) continue;
    await tx.execute(
      sql`update ${parent.table} set ${sql.join(
        set.map((f) => sql`${sql.identifier(f.name)} = ${columnValue(parent, f.name, next[f.name])}`),
        sql`, `,
      )} where id = ${current.id as string}`,
    );
    changed.push(current, next);
  }
  // The parent is a child of further roll-ups (order lines → orders → the account's total).
  if (changed.length) await refreshParentsOf(tx, model, parent.name, changed, depth + 1);
}

const columnValue = (entity: CompiledEntity, name: string, value: unknown) => {
  const kind = entity.columnKinds.get(name);
  if (value === null || value === undefined) return null;
  return kind === 'datetime' ? new Date(value as string).toISOString() : kind === 'json' ? JSON.stringify(value) : value;
};
