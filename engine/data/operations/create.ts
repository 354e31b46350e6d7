/** Create: one record (an object) or several (an array, all or nothing), through every write phase. */
import { inArray } from 'drizzle-orm';
import type { Db } from '../../db/database.js';
import { badRequest, pointer, unprocessable, type ErrorDetail } from '../../errors.js';
import { invalidWrite, normalizeInput } from '../validation.js';
import type { CompiledEntity } from '../../model/compile.js';
import { uuidv7 } from '../../model/ids.js';
import { operationTime } from '../../db/clock.js';
import type { Guard } from '../../access/guard.js';
import { forbidden } from '../../access/policy.js';
import { writeAudit } from '../../audit/log.js';
import { MAX_BULK, MAX_PARAMS, type OperationContext } from '../context.js';
import {
  allocate,
  assertAssignable,
  compute,
  defaults,
  isPlainObject,
  mapDbErrors,
  missingReferences,
  withoutSnapshots,
  resolve,
  ruleViolations,
  validateSchema,
} from '../pipeline.js';
import { toColumnValues } from '../records.js';
import { insertRecords } from '../writes.js';
import type { DataService } from '../service.js';
import { findActive } from '../find.js';
import { followingTogether, snapshotDefaults } from '../reference-values.js';
import { readChildren, splitChildren, writeChildren } from './children.js';

export async function create(data: DataService, ctx: OperationContext, entityName: string, body: unknown, outer?: Db, depth = 0) {
  // resolve, authorize
  const { entity, guard } = resolve(data, ctx, entityName);
  guard.assertCan(entity, 'create');
  const bulk = Array.isArray(body);
  // Declared child collections (quote lines) are written after the records, in their transaction.
  const split = (bulk ? (body as unknown[]) : [body]).map((item) => splitChildren(entity, item, ctx.lang));
  const items = split.map((s) => normalizeInput(entity, s.own));
  if (!bulk && !isPlainObject(body))
    throw badRequest('invalid_body', 'The body must be a JSON object (or an array of objects for a bulk create)');
  if (bulk && (items.length === 0 || items.length > MAX_BULK))
    throw badRequest('invalid_body', `A bulk create takes 1 to ${MAX_BULK} records`);

  // validate
  validateSchema(entity.validateCreate, items, ctx, bulk, entity);
  items.forEach((item, i) => guard.assertWritable(entity, Object.keys(item as object), bulk ? pointer(i) : ''));

  // A new record's child collections hold only what its request or its transaction's writes put there.
  const childEntities = [...new Set((entity.doc.children ?? []).map((c) => c.entity))];
  const childWrites = childEntities.map((e) => data.hooks.writesOf(e));
  const childrenWritten = () => childEntities.some((e, i) => data.hooks.writesOf(e) !== childWrites[i]);
  // Inside an outer transaction (a workflow action) this is a savepoint: it fails as a whole.
  const created = await (outer ?? data.database.db).transaction(async (tx) => {
    const errors: ErrorDetail[] = [];
    const now = operationTime(tx);
    const records: Record<string, unknown>[] = [];
    // What each record took by defaultFrom: the engine's read, so not held to the caller's read scope below.
    const snapshots: Record<string, unknown>[] = [];
    // Ids of one create ascend in the order of the items (a v7 id's random part would not), so rows
    // written together — the lines of a quote — read back in the order they were sent.
    const ids = items.map(() => uuidv7(now.getTime())).sort();
    // Formulas and snapshots read through references: for all the records at once (reference-values.ts).
    await followingTogether(tx, items as Record<string, unknown>[], async () => {
      for (const [i, item] of items.entries()) {
        const record: Record<string, unknown> = { ...defaults(entity), ...(item as Record<string, unknown>) };
        errors.push(...initialState(entity, record, bulk ? pointer(i) : '', Boolean(ctx.privileged)));
        record.id = ids[i];
        // Owner defaults to the creator; an explicit null makes an unowned record (a lead pool).
        if (!('owner_id' in (item as object))) record.owner_id = guard.userId;
        record.created_by = record.updated_by = guard.userId;
        // Formulas may read the creation time (a service ticket's deadline counts from it).
        record.created_at = record.updated_at = now.toISOString();
        // snapshots (defaultFrom: the product's list price), compute, then the rules over the computed record
        snapshots.push(await snapshotDefaults(tx, data.model(), entity, record));
        await compute(tx, entity, 'create', record, now, false, data.model(), ctx.lang);
        errors.push(...ruleViolations(entity, { ...record, ...data.context(ctx, now) }, ctx.lang, bulk ? pointer(i) : ''));
        records.push(record);
      }
    });
    await authorizeNewRecords(data, tx, guard, entity, records, bulk);
    const sent = records.map((r, i) => withoutSnapshots(r, snapshots[i]!));
    errors.push(...(await missingReferences(data, tx, entity, sent, bulk, guard, ctx.lang)));
    if (errors.length) throw invalidWrite(ctx.lang, errors);
    await allocate(tx, entity, records, now);
    // write
    const out: Record<string, unknown>[] = [];
    const perStatement = Math.max(1, Math.floor(MAX_PARAMS / (entity.fields.length + 8)));
    for (let i = 0; i < records.length; i += perStatement) {
      const chunk = records.slice(i, i + perStatement).map((r) => toColumnValues(entity, r));
      out.push(...(await mapDbErrors(entity, () => insertRecords(tx, entity, chunk), ctx.lang)));
    }
    // Records made for someone else: that owner must be one the caller may assign to.
    const principal = guard.principal;
    const handedOver = out
      .filter((r) => r.owner_id && principal && !principal.selves.includes(r.owner_id as string))
      .map((r) => r.id as string);
    if (!guard.privileged) await assertAssignable(tx, guard, entity, handedOver, ctx.lang, bulk ? '/0/owner_id' : '/owner_id');
    // audit, automate (automations and the other record hooks)
    await writeAudit(
      tx,
      out.map((r) => ({
        entity: entity.name,
        recordId: r.id as string,
        version: 1,
        action: 'create',
        actor: guard.userId,
        snapshot: r,
      })),
    );
    await data.hooks.afterCreate(tx, ctx, entity, out, depth, bulk);
    if (split.some((s) => s.children.size)) {
      for (const [i, r] of out.entries()) {
        if (!split[i].children.size) continue;
        await writeChildren(data, ctx, tx, entity, r.id as string, split[i].children, true, bulk ? pointer(i) : '', depth);
        // The children's roll-ups (the quote's total) and the formulas over them changed the record.
        out[i] = await findActive(data.database, tx, entity, r.id as string, undefined);
      }
    }
    // Rows an automation added (a standard fee line) changed the roll-ups of the records they belong to.
    if (childrenWritten())
      for (const [i, r] of out.entries())
        if (!split[i].children.size) out[i] = await findActive(data.database, tx, entity, r.id as string, undefined);
    return out;
  });
  if (!outer) {
    data.hooks.afterCommit(entity.name);
    for (const c of new Set(split.flatMap((s) => [...s.children.keys()].map((k) => k.entity)))) data.hooks.afterCommit(c);
  }
  // shape
  guard.strip(entity, created);
  // Inside an outer transaction (an automation's create_record) nobody reads the answer's children, and the
  // connection is the transaction's (PGlite has only one).
  if (entity.doc.children?.length && !bulk && !outer) {
    await readChildren(data, ctx, entity, created, !split.some((s) => s.children.size) && !childrenWritten());
  }
  return bulk ? created : created[0];
}

/**
 * A record served by a workflow starts in the workflow's initial state; only the engine itself
 * (an import, privileged) may create one elsewhere.
 */
export function initialState(
  entity: CompiledEntity,
  record: Record<string, unknown>,
  prefix: string,
  privileged: boolean,
): ErrorDetail[] {
  const workflow = entity.workflows.find((w) => w.applies(record));
  for (const field of entity.workflowFields) {
    if (workflow && workflow.doc.stateField === field) {
      if (record[field] === undefined || record[field] === null) record[field] = workflow.doc.initial;
      else if (record[field] !== workflow.doc.initial && !privileged) {
        return [
          {
            path: prefix + pointer(field),
            code: 'workflow_controlled',
            message: `A new record starts in "${workflow.doc.initial}"; ${field} then changes through transitions of ${workflow.doc.name}`,
          },
        ];
      }
    } else if (entity.field(field)?.required && (record[field] === undefined || record[field] === null)) {
      return [{ path: prefix + pointer(field), code: 'required', message: `"${field}" is required` }];
    }
  }
  return [];
}

/**
 * New records must fall inside the caller's create scope, and handing one to another owner needs
 * the assign right.
 */
export async function authorizeNewRecords(
  data: DataService,
  tx: Db,
  guard: Guard,
  entity: CompiledEntity,
  records: Record<string, unknown>[],
  bulk: boolean,
) {
  if (!guard.principal || guard.privileged) return;
  const principal = guard.principal;
  const foreignOwners = [
    ...new Set(
      records.map((r) => r.owner_id as string | null).filter((o): o is string => Boolean(o) && !principal.selves.includes(o!)),
    ),
  ];
  if (foreignOwners.length && !guard.can(entity, 'assign')) {
    throw forbidden('Creating a record for another owner needs the assign right', [
      { path: (bulk ? '/0' : '') + '/owner_id', code: 'assign_required', message: 'needs the assign right' },
    ]);
  }
  const departments = new Map<string, string | null>();
  const users = data.model().entity('user');
  if (users && foreignOwners.length) {
    const rows = await tx
      .select({ id: users.columns.id, department: users.columns.department })
      .from(users.table)
      .where(inArray(users.columns.id, foreignOwners));
    for (const r of rows) departments.set(r.id as string, r.department as string | null);
    const unknown = foreignOwners.filter((o) => !departments.has(o));
    if (unknown.length)
      throw unprocessable('invalid_reference', 'The owner is not a user', [
        { path: '/owner_id', code: 'invalid_reference', message: `No user ${unknown[0]}` },
      ]);
  }
  records.forEach((record, i) => {
    const owner = record.owner_id as string | null;
    const department = owner && principal.selves.includes(owner) ? principal.departmentId : owner ? departments.get(owner) : null;
    if (!guard.admits(entity, 'create', record, department)) {
      throw forbidden(`This ${entity.name} is outside what you may create`, [
        { path: bulk ? pointer(i) : '', code: 'outside_scope', message: 'outside your create scope' },
      ]);
    }
  });
}
