/** History: the audit trail of a record the caller can read (live or in the recycle bin), newest first. */
import { eq, sql } from 'drizzle-orm';
import { UUID } from '../../model/ids.js';
import type { OperationContext } from '../context.js';
import { notFoundRecord } from '../find.js';
import { all, resolve } from '../pipeline.js';
import type { DataService } from '../service.js';

export async function history(data: DataService, ctx: OperationContext, entityName: string, id: string) {
  const { entity, guard } = resolve(data, ctx, entityName);
  const scope = guard.condition(entity, 'read');
  if (!UUID.test(id)) throw notFoundRecord(entity, id);
  const [visible] = await data.database.db
    .select({ id: entity.columns.id })
    .from(entity.table)
    .where(all(eq(entity.columns.id, id), scope));
  if (!visible) throw notFoundRecord(entity, id);
  const rows = await data.database.rows<{
    id: string;
    version: number | null;
    action: string;
    actor: string | null;
    at: Date | string;
    changes: Record<string, [unknown, unknown]> | string;
    note: string | null;
  }>(sql`
    select id, version, action, actor, at, changes, note from audit.log where entity = ${entity.name} and record_id = ${id} order by id desc limit 500`);
  const readable = guard.readable(entity);
  return rows.map((r) => {
    const changes = (typeof r.changes === 'string' ? JSON.parse(r.changes) : r.changes) as Record<string, [unknown, unknown]>;
    return {
      id: Number(r.id),
      version: r.version,
      action: r.action,
      actor: r.actor,
      at: new Date(r.at).toISOString(),
      changes: Object.fromEntries(
        Object.entries(changes)
          .filter(([f]) => readable(f))
          .map(([f, [from, to]]) => [f, { from, to }]),
      ),
      ...(r.note ? { note: r.note } : {}),
    };
  });
}
