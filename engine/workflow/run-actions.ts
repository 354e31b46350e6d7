/**
 * Applies a list of actions to a record inside a transaction, the one way workflows and approvals
 * do it: the `changes` of every action (set fields) are written with the caller's own changes in a
 * single versioned update, then the side effects run (create a record, notify …) against the record
 * as written. A failing action throws, and the caller's transaction rolls everything back.
 */
import type { Db } from '../db/database.js';
import type { CompiledEntity } from '../model/compile.js';
import type { RegistryView } from '../registry/types.js';
import type { WorkflowAction } from '../../metadata/kinds.js';
import type { AuditEntry } from '../audit/log.js';
import { engineContext, type DataService, type OperationContext } from '../data/service.js';

export interface ActionRun {
  tx: Db;
  ctx: OperationContext;
  entity: CompiledEntity;
  record: Record<string, unknown>;
  actions: WorkflowAction[];
  /** Changes of the caller's own (a state field) written with the actions' ones. */
  changes: Record<string, unknown>;
  /** The version the caller read (optimistic locking). */
  expected: number;
  audit: { action: AuditEntry['action']; note?: string };
  input?: unknown;
}

/** What json-logic in actions sees: the record, $user, $input and $now. */
export const actionData = (ctx: OperationContext, record: Record<string, unknown>, input: unknown) => ({
  ...record,
  $user: ctx.principal?.context ?? {},
  $input: input ?? {},
  $now: new Date().toISOString(),
});

export async function runActions(data: DataService, registry: RegistryView, run: ActionRun) {
  const { tx, ctx, entity, record, actions, input } = run;
  const before = actionData(ctx, record, input);
  const changes: Record<string, unknown> = {};
  for (const action of actions) Object.assign(changes, registry.action(action.type)!.changes?.({ action, entity: entity.name, record, data: before }) ?? {});
  Object.assign(changes, run.changes);
  const after = await data.applyUpdate(tx, ctx, entity, record, changes, run.expected, run.audit);
  const afterData = actionData(ctx, after, input);
  const created: Record<string, unknown>[] = [];
  for (const action of actions) {
    const effect = registry.action(action.type)!.run;
    if (!effect) continue;
    const result = await effect({
      action,
      entity: entity.name,
      record: after,
      data: afterData,
      tx,
      documents: data.documents(),
      createRecord: (e, values) => data.create(engineContext(ctx.lang), e, values, tx) as Promise<Record<string, unknown>>,
    });
    if (result && typeof result === 'object' && 'id' in result) created.push(result as Record<string, unknown>);
  }
  return { record: after, created };
}
