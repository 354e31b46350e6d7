/** Remove: moves a record to the recycle bin, applying each reference's delete behaviour to its dependants. */
import { and, inArray, isNull, sql } from 'drizzle-orm';
import type { Db } from '../../db/database.js';
import { conflict } from '../../errors.js';
import { t } from '../../model/language.js';
import type { CompiledEntity } from '../../model/compile.js';
import { forbidden } from '../../access/policy.js';
import { writeAudit, type AuditEntry } from '../../audit/log.js';
import type { OperationContext } from '../context.js';
import { findWithRights } from '../find.js';
import { expectedVersion, resolve, versionConflict } from '../pipeline.js';
import type { DataService } from '../service.js';
import { operationTime } from '../../db/clock.js';

export async function remove(
  data: DataService,
  ctx: OperationContext,
  entityName: string,
  id: string,
  ifMatch?: string,
  /** An outer transaction (a parent's write dropping a child row): a savepoint in it. */
  outer?: Db,
) {
  const { entity, guard } = resolve(data, ctx, entityName);
  guard.assertCan(entity, 'delete');
  const expected = ifMatch === undefined ? undefined : expectedVersion(ifMatch, undefined);
  const result = await (outer ?? data.database.db).transaction(async (tx) => {
    const { record, rights } = await findWithRights(tx, guard, entity, id, ['delete'], false, ctx.rowsOf);
    if (!rights.delete) throw forbidden(`You may read this ${entity.name} but not delete it`);
    if (expected !== undefined && record.version !== expected) throw versionConflict(entity, expected, record.version as number);
    await data.hooks.beforeChange(tx, ctx, entity, record, null);
    const at = operationTime(tx);
    const audit: AuditEntry[] = [];
    await softDelete(data, tx, entity, [id], at, ctx, guard.userId, audit);
    await writeAudit(tx, audit);
    return { id, deleted_at: at.toISOString() };
  });
  if (!outer) data.hooks.afterCommit(entity.name);
  return result;
}

/**
 * The delete behaviour of references is the schema's, not the caller's: dependants are cleared or
 * binned whatever the caller's rights on them (as a database ON DELETE would), and audited.
 */
export async function softDelete(
  data: DataService,
  tx: Db,
  entity: CompiledEntity,
  ids: string[],
  at: Date,
  ctx: OperationContext,
  actor: string | null,
  audit: AuditEntry[],
): Promise<void> {
  for (const ref of entity.referencedBy) {
    const child = data.entity(ref.entity);
    const refersToIds = and(inArray(child.columns[ref.field], ids), isNull(child.columns.deleted_at));
    if (ref.onDelete === 'restrict') {
      // Integrity holds whoever can see the dependants; the answer counts only those the caller can
      // read and says that others exist, without naming or counting them.
      const readable = data.guard(ctx).optionalCondition(child, 'read');
      const [hit] = await tx
        .select({
          n: sql<number>`count(*)::int`,
          visible: readable === false ? sql<number>`0` : sql<number>`count(*) filter (where ${readable ?? sql`true`})::int`,
        })
        .from(child.table)
        .where(refersToIds);
      if (Number(hit.n) > 0) {
        const visible = Number(hit.visible);
        const hidden = Number(hit.n) > visible;
        const label = child.label[ctx.lang];
        const message = t(
          ctx.lang,
          `${visible ? `${visible} ${label} record(s)${hidden ? ' and records you cannot see' : ''}` : 'Records you cannot see'} still refer to this ${entity.label.en}; they must be deleted or reassigned first`,
          `${visible ? `有 ${visible} 条${label}${hidden ? '以及您无权查看的记录' : ''}` : '有您无权查看的记录'}仍关联此${entity.label['zh-CN']}，需先删除或转移`,
        );
        throw conflict('delete_restricted', message, [{ path: `/${child.name}/${ref.field}`, code: 'restrict', message }]);
      }
    } else if (ref.onDelete === 'set_null') {
      const cleared = await tx
        .update(child.table)
        .set({ [ref.field]: null, version: sql`${child.columns.version} + 1`, updated_at: at, updated_by: actor })
        .where(refersToIds)
        .returning({
          id: child.columns.id,
          version: child.columns.version,
          was: sql<string>`${ids.length === 1 ? ids[0] : null}::uuid`,
        });
      for (const c of cleared)
        audit.push({
          entity: child.name,
          recordId: c.id as string,
          version: c.version as number,
          action: 'update',
          actor,
          changes: { [ref.field]: [c.was ?? 'deleted', null] },
          note: `${entity.name} deleted`,
        });
    } else {
      const children = await tx
        .update(child.table)
        .set({ deleted_at: at, version: sql`${child.columns.version} + 1` })
        .where(refersToIds)
        .returning({ id: child.columns.id, version: child.columns.version });
      for (const c of children)
        audit.push({
          entity: child.name,
          recordId: c.id as string,
          version: c.version as number,
          action: 'delete',
          actor,
          note: `cascade from ${entity.name}`,
        });
      if (children.length)
        await softDelete(
          data,
          tx,
          child,
          children.map((c) => c.id as string),
          at,
          ctx,
          actor,
          audit,
        );
      await data.hooks.afterRemove(
        tx,
        child,
        children.map((c) => c.id as string),
      );
    }
  }
  const deleted = await tx
    .update(entity.table)
    .set({ deleted_at: at, version: sql`${entity.columns.version} + 1`, updated_by: actor })
    .where(and(inArray(entity.columns.id, ids), isNull(entity.columns.deleted_at)))
    .returning({ id: entity.columns.id, version: entity.columns.version });
  for (const d of deleted)
    if (!audit.some((a) => a.recordId === d.id && a.action === 'delete'))
      audit.push({ entity: entity.name, recordId: d.id as string, version: d.version as number, action: 'delete', actor });
  await data.hooks.afterRemove(
    tx,
    entity,
    deleted.map((d) => d.id as string),
  );
}
