/**
 * Update: some fields of a record whose version the client read (optimistic locking). applyUpdate is
 * the write half, shared with reverts and workflow transitions.
 */
import type { Db } from '../../db/database.js';
import { badRequest, pointer, unprocessable, type ErrorDetail } from '../../errors.js';
import { invalidWrite, normalizeInput } from '../validation.js';
import type { CompiledEntity } from '../../model/compile.js';
import { forbidden } from '../../access/policy.js';
import { diff, writeAudit, type AuditEntry } from '../../audit/log.js';
import type { OperationContext } from '../context.js';
import { findActive, findWithRights } from '../find.js';
import { readChildren, splitChildren, writeChildren } from './children.js';
import { snapshotDefaults } from '../reference-values.js';
import {
  assertAssignable,
  compute,
  expectedVersion,
  isPlainObject,
  mapDbErrors,
  missingReferences,
  withoutSnapshots,
  resolve,
  ruleViolations,
  validateSchema,
  versionConflict,
} from '../pipeline.js';
import { toColumnValues } from '../records.js';
import { updateVersioned } from '../writes.js';
import { operationTime } from '../../db/clock.js';
import type { DataService } from '../service.js';

export async function update(
  data: DataService,
  ctx: OperationContext,
  entityName: string,
  id: string,
  body: unknown,
  ifMatch?: string,
  note?: string,
  /** An outer transaction (a parent's write of its child rows): a savepoint in it, committed with it. */
  outer?: Db,
) {
  const { entity, guard } = resolve(data, ctx, entityName);
  guard.assertCan(entity, 'update');
  if (!isPlainObject(body)) throw badRequest('invalid_body', 'The body must be a JSON object of the fields to change');
  // Declared child collections (quote lines) are written after the record, in its transaction.
  const { own, children } = splitChildren(entity, body, ctx.lang);
  body = normalizeInput(entity, own);
  validateSchema(entity.validatePatch, [body], ctx, false, entity, true);
  const { version: bodyVersion, ...changes } = body as Record<string, unknown> & { version?: number };
  const expected = expectedVersion(ifMatch, bodyVersion);
  guard.assertWritable(entity, Object.keys(changes));

  const updated = await (outer ?? data.database.db).transaction(async (tx) => {
    const ownerChange = 'owner_id' in changes;
    const { record: current, rights } = await findWithRights(
      tx,
      guard,
      entity,
      id,
      ownerChange ? ['update', 'assign'] : ['update'],
      false,
      ctx.rowsOf,
    );
    if (!rights.update) throw forbidden(`You may read this ${entity.name} but not change it`);
    if (ownerChange && !rights.assign && changes.owner_id !== current.owner_id)
      throw forbidden('Changing the owner needs the assign right', [
        { path: '/owner_id', code: 'assign_required', message: 'needs the assign right' },
      ]);
    const workflow = entity.workflows.find((w) => w.applies(current));
    if (workflow && workflow.doc.stateField in changes && changes[workflow.doc.stateField] !== current[workflow.doc.stateField]) {
      throw unprocessable(
        'validation_failed',
        `${workflow.doc.stateField} changes only through the transitions of ${workflow.doc.name}`,
        [{ path: pointer(workflow.doc.stateField), code: 'workflow_controlled', message: 'use POST …/transitions/:event' }],
      );
    }
    let after = await applyUpdate(data, tx, ctx, entity, current, changes, expected, {
      action: note ? 'revert' : 'update',
      note,
    });
    const toOther =
      ownerChange &&
      changes.owner_id &&
      changes.owner_id !== current.owner_id &&
      !guard.principal?.selves.includes(changes.owner_id as string);
    if (toOther && !guard.privileged) await assertAssignable(tx, guard, entity, [id], ctx.lang);
    if (children.size) {
      await writeChildren(data, ctx, tx, entity, id, children, false);
      // The children's roll-ups (the quote's total) and the formulas over them changed the record.
      after = await findActive(data.database, tx, entity, id, undefined);
    }
    return after;
  });
  if (!outer) {
    data.hooks.afterCommit(entity.name);
    for (const c of children.keys()) data.hooks.afterCommit(c.entity);
  }
  const [shaped] = guard.strip(entity, [updated]);
  if (entity.doc.children?.length && !outer) await readChildren(data, ctx, entity, [shaped]);
  return shaped;
}

/**
 * Writes changes to a record already read (and authorized) in this transaction: formulas, rules,
 * references, auto-numbers, the versioned UPDATE and its audit entry.
 */
export async function applyUpdate(
  data: DataService,
  tx: Db,
  ctx: OperationContext,
  entity: CompiledEntity,
  current: Record<string, unknown>,
  changes: Record<string, unknown>,
  expected: number,
  audit: { action: AuditEntry['action']; note?: string },
) {
  if (current.version !== expected) throw versionConflict(entity, expected, current.version as number);
  await data.hooks.beforeChange(tx, ctx, entity, current, changes);
  // compute, validate
  const errors: ErrorDetail[] = [];
  const now = operationTime(tx);
  // A reference moved to another record takes its defaultFrom snapshots again (unless sent).
  const snapshots = await snapshotDefaults(tx, data.model(), entity, { ...current, ...changes }, current);
  Object.assign(changes, snapshots);
  const record = { ...current, ...changes };
  const computed = await compute(tx, entity, 'update', record, now, false, data.model(), ctx.lang);
  errors.push(...ruleViolations(entity, { ...record, ...data.context(ctx, now) }, ctx.lang));
  // Only references that move are looked up: one sent back unchanged (a form or table row sent whole)
  // stands, even when its target has since left the caller's read scope — and costs no query. Snapshots
  // (defaultFrom) were taken by the engine, not chosen by the caller.
  const moved = Object.fromEntries(
    Object.entries(withoutSnapshots(changes, snapshots)).filter(
      ([k, v]) => JSON.stringify(v ?? null) !== JSON.stringify(current[k] ?? null),
    ),
  );
  errors.push(...(await missingReferences(data, tx, entity, [moved], false, data.guard(ctx), ctx.lang)));
  if (errors.length) throw invalidWrite(ctx.lang, errors, true);
  Object.assign(computed, await compute(tx, entity, 'update', record, now, true, data.model()));

  // write
  const userId = ctx.principal?.userId ?? null;
  const set = toColumnValues(entity, { ...changes, ...computed, updated_at: now.toISOString(), updated_by: userId });
  const after = await mapDbErrors(
    entity,
    () => updateVersioned(tx, entity, current.id as string, expected, set),
    ctx.lang,
  );
  // Someone else saved (or deleted) between our read and our write.
  if (!after) throw versionConflict(entity, expected);
  // audit, automate
  await writeAudit(tx, [
    {
      entity: entity.name,
      recordId: current.id as string,
      version: after.version as number,
      action: audit.action,
      actor: userId,
      changes: diff(current, after),
      snapshot: after,
      note: audit.note,
    },
  ]);
  await data.hooks.afterUpdate(tx, ctx, entity, current, after);
  return after;
}
