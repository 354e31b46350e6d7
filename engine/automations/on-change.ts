/**
 * Automations of record changes (created, updated, a field changed, a state entered, deleted): run in
 * the change's transaction, before the other record hooks, so a failing action rolls the change back.
 * `deleted` runs before the record goes to the recycle bin, so a `refuse` keeps it (a closed period).
 * Scheduled automations are ./schedule.ts.
 */
import type { Db } from '../db/database.js';
import { conflict } from '../errors.js';
import type { AppModel, CompiledEntity } from '../model/compile.js';
import { lookupValues, lookupValuesMany } from './lookups.js';
import { evaluateRule, isTruthy } from '../rules/evaluate.js';
import type { OperationContext } from '../data/context.js';
import { HOOK_ORDER } from '../data/hooks.js';
import type { DataService } from '../data/service.js';
import type { AutomationDoc } from './kind.js';
import { operationTime } from '../db/clock.js';

const MAX_AUTOMATION_DEPTH = 5;

const automationCache = new WeakMap<AppModel, Map<string, AutomationDoc[]>>();
/** The model's automations by entity, in name order. */
function automationsOf(model: AppModel) {
  let byEntity = automationCache.get(model);
  if (!byEntity) {
    byEntity = new Map();
    for (const a of model.documents.all<AutomationDoc>('automation').sort((x, y) => x.name.localeCompare(y.name))) {
      byEntity.set(a.entity, [...(byEntity.get(a.entity) ?? []), a]);
    }
    automationCache.set(model, byEntity);
  }
  return byEntity;
}

/**
 * Runs the automations of a record change, in the change's transaction: a failing action rolls the
 * change back. Actions that create records can trigger automations in turn, up to a depth.
 */
async function automate(
  service: DataService,
  tx: Db,
  ctx: OperationContext,
  entity: CompiledEntity,
  event: 'created' | 'updated' | 'deleted',
  before: Record<string, unknown> | null,
  after: Record<string, unknown>,
  depth: number,
) {
  const model = service.model();
  const automations = automationsOf(model).get(entity.name);
  // An import may be run without automations (a migration of old data should not greet every customer).
  if (!automations?.length || ctx.automations === false) return;
  const changed = (f: string) => before !== null && JSON.stringify(before[f] ?? null) !== JSON.stringify(after[f] ?? null);
  const actionData = { ...after, $old: before ?? {}, $user: ctx.principal?.context ?? {}, $now: operationTime(tx).toISOString() };
  for (const a of automations) {
    const t = a.trigger;
    const fires =
      event === 'created'
        ? Boolean(t.created)
        : event === 'deleted'
          ? Boolean(t.deleted)
          : Boolean(t.updated) ||
            (t.fieldChanged?.some(changed) ?? false) ||
            (t.stateEntered !== undefined && [...entity.workflowFields].some((f) => changed(f) && after[f] === t.stateEntered));
    if (!fires) continue;
    // Aggregates over related records, for this automation's condition and actions.
    const data = a.lookups
      ? {
          ...actionData,
          $automation: a.name,
          $lookup:
            (event === 'created' ? readAhead.get(after)?.get(a.name) : undefined) ??
            (await lookupValues(tx, model, a.lookups, { $record: after, $now: actionData.$now, $user: actionData.$user })),
        }
      : { ...actionData, $automation: a.name };
    if (a.condition !== undefined && !isTruthy(evaluateRule(a.condition, data))) continue;
    if (depth >= MAX_AUTOMATION_DEPTH)
      throw conflict(
        'automation_loop',
        `Automations triggered each other more than ${MAX_AUTOMATION_DEPTH} levels deep (last: ${a.name})`,
      );
    for (const action of a.actions) await service.runAction(tx, ctx, entity.name, action, after, data, depth);
  }
}

/** Lookups read ahead for the records of a bulk create (readAheadLookups), by record and automation. */
const readAhead = new WeakMap<Record<string, unknown>, Map<string, Record<string, unknown>>>();

/**
 * The lookups of a bulk create's `created` automations, read for all its records at once (one statement
 * per hundred records instead of one per record) — when no automation of the create writes records:
 * one record's writes could change what the next record's lookups read.
 */
async function readAheadLookups(
  service: DataService,
  tx: Db,
  ctx: OperationContext,
  entity: CompiledEntity,
  records: Record<string, unknown>[],
) {
  const automations = automationsOf(service.model()).get(entity.name)?.filter((a) => a.trigger.created) ?? [];
  if (records.length < 2 || ctx.automations === false || !automations.some((a) => a.lookups)) return;
  if (!automations.every((a) => a.actions.every((x) => service.registry?.action(x.type)?.writesNoRecords))) return;
  const $now = operationTime(tx).toISOString();
  const $user = ctx.principal?.context ?? {};
  for (const a of automations.filter((x) => x.lookups)) {
    const values = await lookupValuesMany(
      tx,
      service.model(),
      a.lookups,
      records.map(($record) => ({ $record, $now, $user })),
    );
    records.forEach((r, i) => {
      const byAutomation = readAhead.get(r) ?? new Map<string, Record<string, unknown>>();
      readAhead.set(r, byAutomation.set(a.name, values[i]));
    });
  }
}

export class ChangeAutomations {
  constructor(private readonly data: DataService) {
    data.hooks.register({
      name: 'automations',
      order: HOOK_ORDER.automations,
      afterCreateAll: (tx, ctx, entity, records) => readAheadLookups(this.data, tx, ctx, entity, records),
      afterCreate: (tx, ctx, entity, record, depth) => automate(this.data, tx, ctx, entity, 'created', null, record, depth),
      afterUpdate: (tx, ctx, entity, before, after) =>
        automate(this.data, tx, ctx, entity, 'updated', before, after, ctx.depth ?? 0),
      // An assignment is a change of owner_id: `updated` and `fieldChanged: ["owner_id"]` automations see it.
      afterAssign: async (tx, ctx, entity, assigned) => {
        const watching = automationsOf(this.data.model())
          .get(entity.name)
          ?.some((a) => a.trigger.updated || a.trigger.fieldChanged?.includes('owner_id'));
        if (!watching) return;
        for (const after of await assigned.rows()) {
          const before = { ...after, owner_id: assigned.formerOwners.get(after.id as string) ?? null };
          await automate(this.data, tx, ctx, entity, 'updated', before, after, ctx.depth ?? 0);
        }
      },
      beforeChange: async (tx, ctx, entity, record, changes) => {
        if (changes === null) await automate(this.data, tx, ctx, entity, 'deleted', record, record, ctx.depth ?? 0);
      },
    });
  }
}
