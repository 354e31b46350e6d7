/**
 * The one way side-effect actions run (automations, schedules, workflows, approvals): through the
 * registry's action types, in the change's transaction, or queued to run after commit.
 */
import type { Db } from '../db/database.js';
import { evaluateRule, isTruthy } from '../rules/evaluate.js';
import type { ActionDoc as WorkflowAction } from '../registry/types.js';
import { engineContext, type OperationContext } from './context.js';
import type { DataService } from './service.js';
import { findWithRights } from './find.js';
import { invalidWrite, normalizeInput, schemaErrors } from './validation.js';

/** Any action may carry `when` (json-logic over the action's data): it is skipped when that does not hold. */
export const actionApplies = (action: WorkflowAction, data: Record<string, unknown>) =>
  action.when === undefined || isTruthy(evaluateRule(action.when, data));

/**
 * Skipped when the action's `when` does not hold; queued in the transaction when it is after-commit
 * (the action type's or the document's choice); otherwise run now, in the transaction.
 */
export async function runAction(
  data: DataService,
  tx: Db,
  ctx: OperationContext,
  entity: string,
  action: WorkflowAction,
  record: Record<string, unknown>,
  actionData: Record<string, unknown>,
  depth = 0,
): Promise<unknown> {
  if (!actionApplies(action, actionData)) return undefined;
  const definition = data.registry!.action(action.type)!;
  if (definition.afterCommit || action.afterCommit === true)
    return data.hooks.service('deferAction')(tx, { action, entity, record, data: actionData });
  return performAction(data, tx, ctx, entity, action, record, actionData, depth);
}

/** Runs an action's side effect in the transaction (the after-commit runner calls this from the queue). */
export function performAction(
  data: DataService,
  tx: Db,
  ctx: OperationContext,
  entity: string,
  action: WorkflowAction,
  record: Record<string, unknown>,
  actionData: Record<string, unknown>,
  depth = 0,
): Promise<unknown> {
  // The engine acts for the automation; warnings of automations it sets off still reach the caller.
  const engine: OperationContext = { ...engineContext(ctx.lang), warnings: ctx.warnings, depth: depth + 1 };
  // Audit entries of shares, assignments and updates say who did it.
  const note =
    typeof actionData.$automation === 'string' ? `automation: ${actionData.$automation}` : `workflow action: ${action.type}`;
  return data.registry!.action(action.type)!.run!({
    action,
    entity,
    record,
    data: actionData,
    tx,
    documents: data.model().documents,
    createRecord: (target, values) => data.create(engine, target, values, tx, depth + 1) as Promise<Record<string, unknown>>,
    updateRecord: async (target, id, values) => {
      const compiled = data.entity(target);
      const changes = normalizeInput(compiled, values) as Record<string, unknown>;
      const problems = schemaErrors(compiled.validatePatch, changes, ctx.lang, '', compiled);
      if (problems.length) throw invalidWrite(ctx.lang, problems, true);
      const { record: current } = await findWithRights(tx, data.guard(engine), compiled, id, ['update']);
      return data.applyUpdate(tx, engine, compiled, current, changes, current.version as number, { action: 'update', note });
    },
    // A share's source defaults to what made it (`automation: sales_team_share`).
    share: (target, id, user, access, source) =>
      data.hooks.service('shareRecord')(tx, target, id, user, access, note, source ?? note),
    unshare: (target, id, user, source) => data.hooks.service('unshareRecord')(tx, target, id, user, note, source),
    assign: (target, id, to) => data.hooks.service('assignRecord')(tx, engine, target, id, to, note),
    warn: (warning) => void ctx.warnings?.push(warning),
    submitApproval: (target, id, submitter, comment) =>
      data.hooks.service('submitApproval')(tx, target, id, submitter, ctx.lang, comment),
    fire: (event, comment) => data.hooks.service('fireEvent')(tx, entity, record.id as string, event, comment),
    lang: ctx.lang,
  });
}
