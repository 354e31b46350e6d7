/**
 * Applies a list of actions to a record inside a transaction, the one way workflows and approvals
 * do it: the `changes` of every action (set fields) are written with the caller's own changes in a
 * single versioned update, then the side effects run (create a record, notify …) against the record
 * as written. A failing action throws, and the caller's transaction rolls everything back.
 */
import type { Db } from '../db/database.js';
import { operationTime } from '../db/clock.js';
import type { CompiledEntity } from '../model/compile.js';
import type { RegistryView } from '../registry/types.js';
import type { WorkflowAction } from './kind.js';
import type { AuditEntry } from '../audit/log.js';
import { actionApplies, type DataService, type OperationContext } from '../data/service.js';
import { invalidWrite, normalizeInput, schemaErrors } from '../data/validation.js';

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
export const actionData = (ctx: OperationContext, record: Record<string, unknown>, input: unknown, now = new Date()) => ({
  ...record,
  $user: ctx.principal?.context ?? {},
  $input: input ?? {},
  $now: now.toISOString(),
});

/**
 * Created records the acting record keeps (`as` / `link`, e.g. a converted lead's customer) are made
 * before the record is written, in list order, so their ids are written — and validated — with the
 * state change; they see the record with the `set` changes applied. Every other side effect runs
 * after the write, against the record as written.
 */
const createsEarly = (action: WorkflowAction) =>
  action.type === 'create_record' && (action.as !== undefined || action.link !== undefined);

export async function runActions(data: DataService, registry: RegistryView, run: ActionRun) {
  const { tx, ctx, entity, record, actions, input } = run;
  const before = actionData(ctx, record, input, operationTime(tx));
  const changes: Record<string, unknown> = {};
  for (const action of actions) {
    if (actionApplies(action, before))
      Object.assign(
        changes,
        registry.action(action.type)!.changes?.({ action, entity: entity.name, record, data: before }) ?? {},
      );
  }
  Object.assign(changes, run.changes);
  // What the actions would write — often values from the transition's $input — is checked by the field
  // types like any write: a bad uuid or a number past its column is a 422 here, not a database error.
  Object.assign(changes, normalizeInput(entity, changes));
  const problems = schemaErrors(entity.validatePatch, changes, ctx.lang, '', entity);
  if (problems.length) throw invalidWrite(ctx.lang, problems, true);

  const created$: Record<string, Record<string, unknown>> = {};
  const created: Record<string, unknown>[] = [];
  const effect = async (action: WorkflowAction, target: Record<string, unknown>, actionsData: Record<string, unknown>) => {
    const result = await data.runAction(tx, ctx, entity.name, action, target, actionsData);
    if (result && typeof result === 'object' && 'id' in result) {
      created.push(result as Record<string, unknown>);
      if (typeof action.as === 'string') created$[action.as] = result as Record<string, unknown>;
      if (typeof action.link === 'string') changes[action.link] = (result as { id: unknown }).id;
    }
  };

  const prospective = { ...record, ...changes };
  const early = { ...actionData(ctx, prospective, input, operationTime(tx)), $created: created$ };
  for (const action of actions.filter(createsEarly)) await effect(action, prospective, early);

  const after = await data.applyUpdate(tx, ctx, entity, record, changes, run.expected, run.audit);
  const afterData = { ...actionData(ctx, after, input, operationTime(tx)), $created: created$ };
  for (const action of actions) {
    if (createsEarly(action) || !registry.action(action.type)!.run) continue;
    await effect(action, after, afterData);
  }
  return { record: after, created };
}
