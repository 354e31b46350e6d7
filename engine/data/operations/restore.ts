/** Restore: takes a record out of the recycle bin, with the dependants its deletion cascaded to. */
import { and, eq, inArray, sql } from 'drizzle-orm';
import { AppError, notFound } from '../../errors.js';
import type { CompiledEntity } from '../../model/compile.js';
import { forbidden } from '../../access/policy.js';
import { writeAudit, type AuditEntry } from '../../audit/log.js';
import type { OperationContext } from '../context.js';
import { findWithRights } from '../find.js';
import { mapDbErrors, resolve } from '../pipeline.js';
import { toRecord } from '../records.js';
import type { DataService } from '../service.js';

export async function restore(data: DataService, ctx: OperationContext, entityName: string, id: string) {
  const { entity, guard } = resolve(data, ctx, entityName);
  guard.assertCan(entity, 'delete');
  const restored = await data.database.db.transaction(async (tx) => {
    const { record, rights } = await findWithRights(tx, guard, entity, id, ['delete'], true).catch((e) => {
      throw e instanceof AppError && e.status === 404
        ? notFound('record_not_found', `No deleted ${entity.name} with id ${id} in your recycle bin`)
        : e;
    });
    if (!rights.delete) throw forbidden(`You may not restore this ${entity.name}`);
    const at = new Date(record.deleted_at as string);
    const audit: AuditEntry[] = [];
    const restoreTree = async (e: CompiledEntity, ids: string[]) => {
      for (const ref of e.referencedBy.filter((r) => r.onDelete === 'cascade')) {
        const child = data.entity(ref.entity);
        const children = await tx
          .update(child.table)
          .set({ deleted_at: null, version: sql`${child.columns.version} + 1` })
          .where(and(inArray(child.columns[ref.field], ids), eq(child.columns.deleted_at, at)))
          .returning({ id: child.columns.id, version: child.columns.version });
        for (const c of children)
          audit.push({
            entity: child.name,
            recordId: c.id as string,
            version: c.version as number,
            action: 'restore',
            actor: guard.userId,
            note: `cascade from ${e.name}`,
          });
        if (children.length)
          await restoreTree(
            child,
            children.map((c) => c.id as string),
          );
        await data.hooks.afterRestore(
          tx,
          child,
          children.map((c) => c.id as string),
        );
      }
    };
    const [row] = await mapDbErrors(
      entity,
      () =>
        tx
          .update(entity.table)
          .set({ deleted_at: null, version: sql`${entity.columns.version} + 1`, updated_by: guard.userId })
          .where(eq(entity.columns.id, id))
          .returning(),
      ctx.lang,
    );
    await mapDbErrors(entity, () => restoreTree(entity, [id]), ctx.lang);
    await data.hooks.afterRestore(tx, entity, [id]);
    const after = toRecord(row);
    audit.unshift({
      entity: entity.name,
      recordId: id,
      version: after.version as number,
      action: 'restore',
      actor: guard.userId,
      snapshot: after,
    });
    await writeAudit(tx, audit);
    return after;
  });
  data.hooks.afterCommit(entity.name);
  return guard.strip(entity, [restored])[0];
}
