/**
 * Roll-ups in the record pipeline: every write of a child — create (one call for a whole bulk
 * create), update (a moved child refreshes its old and its new parent), assignment (when a roll-up
 * reads the owner), a backfill of the child's formulas, delete and restore (cascades included) —
 * recomputes the parents it touches, in the write's own transaction (refresh.ts).
 */
import { HOOK_ORDER } from '../data/hooks.js';
import { checkRule } from '../rules/check.js';
import type { DataService } from '../data/service.js';
import { refreshParentsOf, refreshParentsOfIds, rollupsOver } from './refresh.js';

export function registerRollups(data: DataService) {
  data.hooks.register({
    name: 'rollups',
    order: HOOK_ORDER.rollups,
    afterCreateAll: (tx, _ctx, entity, records) => refreshParentsOf(tx, data.model(), entity.name, records),
    afterUpdate: async (tx, _ctx, entity, before, after) => {
      const rollups = rollupsOver(data.model(), entity.name);
      if (!rollups.length) return;
      // Only a change the roll-ups can see: the reference, the aggregated field, a field the filter reads.
      const read = new Set(
        rollups.flatMap((r) => [
          String(r.field.doc.via),
          String(r.field.doc.field ?? ''),
          ...(r.field.doc.where === undefined
            ? []
            : checkRule(r.field.doc.where, { fields: new Set(entity.columnKinds.keys()) }).fieldsUsed),
        ]),
      );
      if ([...read].some((f) => JSON.stringify(before[f] ?? null) !== JSON.stringify(after[f] ?? null)))
        await refreshParentsOf(tx, data.model(), entity.name, [before, after]);
    },
    // A new owner matters to roll-ups that filter on it ("orders of the account's own rep").
    afterAssign: async (tx, _ctx, entity, assigned) => {
      const rollups = rollupsOver(data.model(), entity.name);
      const readsOwner = rollups.some(
        (r) =>
          r.field.doc.via === 'owner_id' ||
          r.field.doc.field === 'owner_id' ||
          (r.field.doc.where !== undefined &&
            checkRule(r.field.doc.where, { fields: new Set(entity.columnKinds.keys()) }).fieldsUsed.has('owner_id')),
      );
      if (readsOwner) await refreshParentsOfIds(tx, data.model(), entity, assigned.ids);
    },
    // A deploy's backfill that changed a child's formula changes what the parents sum.
    afterBackfill: (tx, entity, records) => refreshParentsOf(tx, data.model(), entity.name, records),
    afterRemove: (tx, entity, ids) => refreshParentsOfIds(tx, data.model(), entity, ids),
    afterRestore: (tx, entity, ids) => refreshParentsOfIds(tx, data.model(), entity, ids),
  });
}
