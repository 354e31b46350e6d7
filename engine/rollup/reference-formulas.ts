/**
 * Formulas that read through a reference (`{"var": "product.unit"}` on a quote line) stay exact when the
 * referenced record changes: in the same transaction, the records pointing at it are recomputed — in
 * keyset batches of 500, each batch one read — and those whose formulas changed are written (no version,
 * no audit: nobody edited them, as with roll-ups); roll-ups over them follow (hooks.afterBackfill). Only
 * a change of a field such a formula reads triggers it. A path is one step, but the recomputation chains:
 * a recomputed formula that other records read through their reference recomputes those in turn (a
 * quote's `opportunity.account_grade` over the deal's `account.grade`), up to MAX_CHAIN levels.
 */
import { sql } from 'drizzle-orm';
import type { Db } from '../db/database.js';
import { HOOK_ORDER } from '../data/hooks.js';
import type { DataService } from '../data/service.js';
import type { AppModel, CompiledEntity } from '../model/compile.js';
import { decodeRows } from '../data/records.js';
import { selectFrom } from '../data/query.js';
import { checkRule } from '../rules/check.js';
import { operationTime } from '../db/clock.js';

type Row = Record<string, unknown>;
const BATCH = 500;
/** Levels a change travels through formulas reading formulas of other records (as roll-ups climb five). */
export const MAX_CHAIN = 5;

interface Dependent {
  entity: CompiledEntity;
  /** The dependent's reference field pointing at the changed entity. */
  via: string;
  /** Fields of the changed entity its formulas read. */
  reads: string[];
}

const cache = new WeakMap<AppModel, Map<string, Dependent[]>>();
/** Per target entity: the entities whose formulas read its fields through a reference. */
export function dependentsOf(model: AppModel, target: string): Dependent[] {
  let byTarget = cache.get(model);
  if (!byTarget) {
    byTarget = new Map();
    for (const entity of model.entities.values()) {
      const found = new Map<string, Set<string>>();
      for (const f of entity.fields.filter((x) => x.doc.type === 'formula')) {
        for (const p of checkRule(f.doc.expr, { fields: new Set() }).pathsUsed) {
          const [first, second] = p.split('.');
          const ref = entity.field(first)?.reference;
          if (!ref) continue;
          const key = `${ref.to}\u0000${first}`;
          found.set(key, (found.get(key) ?? new Set()).add(second));
        }
      }
      for (const [key, reads] of found) {
        const [to, via] = key.split('\u0000');
        byTarget.set(to, [...(byTarget.get(to) ?? []), { entity, via, reads: [...reads] }]);
      }
    }
    cache.set(model, byTarget);
  }
  return byTarget.get(target) ?? [];
}

export function registerReferenceFormulas(data: DataService) {
  data.hooks.register({
    name: 'referenceFormulas',
    order: HOOK_ORDER.referenceFormulas,
    afterUpdate: async (tx, _ctx, entity, before, after) => {
      for (const d of dependentsOf(data.model(), entity.name)) {
        if (d.reads.some((f) => JSON.stringify(before[f] ?? null) !== JSON.stringify(after[f] ?? null)))
          await recomputeDependents(data, tx, d, after.id as string);
      }
    },
  });
}

/**
 * Recomputes the formulas of the records whose `via` points at `id` (recycle bin included); the records
 * whose formulas changed pass the change on to their own dependents (`level` counts the steps).
 */
async function recomputeDependents(data: DataService, tx: Db, d: Dependent, id: string, level = 1) {
  const model = data.model();
  const entity = model.entity(d.entity.name);
  if (!entity) return;
  const formulas = entity.writeHooks.filter((h) => h.doc.type === 'formula');
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const rows = decodeRows(
      entity,
      await data.database.rows(
        sql`${selectFrom(entity, entity.columnNames)} where ${entity.columns[d.via]} = ${id}::uuid and ${entity.columns.id} > ${after}::uuid order by ${entity.columns.id} limit ${sql.raw(String(BATCH))}`,
        tx,
      ),
    );
    if (!rows.length) return;
    const changed: Row[] = [];
    const onward: { id: string; fields: Set<string> }[] = [];
    const now = operationTime(tx);
    for (const row of rows) {
      const next = { ...row };
      for (const f of formulas) {
        const value = await f.type.onWrite!({
          field: f.doc,
          entity: entity.name,
          operation: 'update',
          record: next,
          tx,
          now,
          model,
        });
        if (value !== undefined) next[f.name] = value;
      }
      const set = formulas.filter((f) => JSON.stringify(next[f.name] ?? null) !== JSON.stringify(row[f.name] ?? null));
      if (!set.length) continue;
      await tx.execute(
        sql`update ${entity.table} set ${sql.join(
          set.map((f) => sql`${sql.identifier(f.name)} = ${next[f.name] ?? null}`),
          sql`, `,
        )} where id = ${row.id as string}::uuid`,
      );
      changed.push(next);
      onward.push({ id: row.id as string, fields: new Set(set.map((f) => f.name)) });
    }
    // Roll-ups over the recomputed records (a quote's total over its lines) follow.
    await data.hooks.afterBackfill(tx, entity, changed);
    // So do the records reading the recomputed formulas through a reference of their own.
    if (level < MAX_CHAIN)
      for (const next of dependentsOf(model, entity.name))
        for (const r of onward)
          if (next.reads.some((f) => r.fields.has(f))) await recomputeDependents(data, tx, next, r.id, level + 1);
    after = rows[rows.length - 1].id as string;
    if (rows.length < BATCH) return;
  }
}
