/** History: the audit trail of a record the caller can read (live or in the recycle bin), newest first. */
import { eq, sql } from 'drizzle-orm';
import { UUID } from '../../model/ids.js';
import { changesOf } from '../../audit/log.js';
import type { OperationContext } from '../context.js';
import { notFoundRecord } from '../find.js';
import { all, resolve } from '../pipeline.js';
import type { DataService } from '../service.js';

export async function history(data: DataService, ctx: OperationContext, entityName: string, id: string) {
  const { entity, guard } = resolve(data, ctx, entityName);
  const scope = guard.condition(entity, 'read', 'few');
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
    created: Record<string, unknown> | string | null;
    note: string | null;
  }>(sql`
    select id, version, action, actor, at, changes, case when action = 'create' then snapshot end as created, note
    from audit.log where entity = ${entity.name} and record_id = ${id} order by id desc limit 500`);
  const readable = guard.readable(entity);
  const json = <T>(v: T | string): T => (typeof v === 'string' ? JSON.parse(v) : v);
  return rows.map((r) => {
    const changes = changesOf({ action: r.action, changes: json(r.changes), snapshot: json(r.created) });
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
