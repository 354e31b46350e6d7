/**
 * Backdating: the demo data's records are created in bulk today through the ordinary operations, and
 * then, in the same transaction, their creation times are moved to the times the generator planned —
 * so that a history funnel or an ageing report has two years of history to show. (Their workflow
 * events and approval steps need none of this: the loader fires each at its planned time, on the
 * transaction's clock.)
 *
 * This rewrites history, which nothing else in the product may do: only the demo-data loader
 * imports this module, no route reaches it, and it touches only rows the load itself wrote (audit
 * and stay ids past the marks taken when the load began).
 */
import { sql } from 'drizzle-orm';
import type { Database, Db } from '../db/database.js';
import type { AppModel } from '../model/compile.js';

/** The last ids of the append-only logs at a moment of the load. */
export interface Mark {
  audit: number;
  stays: number;
  notifications: number;
}

export async function mark(database: Database, tx: Db): Promise<Mark> {
  const [row] = await database.rows<{ audit: number; stays: number; notifications: number }>(
    sql`select
    (select coalesce(max(id), 0) from audit.log)::bigint as audit,
    (select coalesce(max(id), 0) from workflow.stays)::bigint as stays,
    (select coalesce(max(id), 0) from inbox.notifications)::bigint as notifications`,
    tx,
  );
  return { audit: Number(row.audit), stays: Number(row.stays), notifications: Number(row.notifications) };
}

export interface BackdatePlan {
  /** Where the load began. */
  start: Mark;
  /** Planned creation times of records. */
  created: { entity: string; id: string; at: Date }[];
}

const json = (v: unknown) => JSON.stringify(v);

export async function backdate(database: Database, tx: Db, model: AppModel, plan: BackdatePlan) {
  const { start } = plan;
  const created = json(plan.created.map((c) => ({ entity: c.entity, id: c.id, at: c.at.toISOString() })));

  // A planned record's creation, at its time.
  await tx.execute(sql`update audit.log a set at = p.at
    from jsonb_to_recordset(${created}::jsonb) as p(entity text, id uuid, at timestamptz)
    where a.entity = p.entity and a.record_id = p.id and a.action = 'create' and a.id > ${start.audit}`);
  // Its first stay (opened, for its initial state, by its first transition) began at its creation.
  await tx.execute(sql`update workflow.stays st set entered_at = p.at
    from jsonb_to_recordset(${created}::jsonb) as p(entity text, id uuid, at timestamptz)
    where st.id = (select min(s.id) from workflow.stays s where s.entity = p.entity and s.record_id = p.id and s.id > ${start.stays})`);

  // Records (planned ones and those actions created on the way): created and updated as their audit trail says.
  const touched = await database.rows<{ entity: string }>(
    sql`select distinct entity from audit.log where id > ${start.audit}`,
    tx,
  );
  for (const { entity: name } of touched) {
    const entity = model.entity(name);
    if (!entity) continue;
    await tx.execute(sql`update ${entity.table} t set created_at = coalesce(c.first, t.created_at), updated_at = greatest(coalesce(c.first, t.created_at), c.last)
      from (select record_id, min(at) filter (where action = 'create') as first, max(at) as last
            from audit.log where entity = ${name} and id > ${start.audit} group by record_id) c
      where t.id = c.record_id`);
  }
}
