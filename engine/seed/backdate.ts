/**
 * Backdating: demo data is written today through the ordinary operations, and then, in the same
 * transaction, its timestamps are moved to the times the generator planned — creation, each audit
 * entry, each workflow transition, the stays in each state (time in stage), approval requests and
 * tasks — so that a history funnel or an ageing report has two years of history to show.
 *
 * This rewrites history, which nothing else in the product may do: only the demo-data loader
 * imports this module, no route reaches it, and it touches only rows the load itself wrote (audit
 * and history ids past the marks taken when the load began, approval rows stamped with the load's
 * own transaction time).
 */
import { sql } from 'drizzle-orm';
import type { Database, Db } from '../db/database.js';
import type { AppModel } from '../model/compile.js';

/** The last ids of the append-only logs at a moment of the load. */
export interface Mark {
  audit: number;
  history: number;
  stays: number;
}

export async function mark(database: Database, tx: Db): Promise<Mark> {
  const [row] = await database.rows<{ audit: number; history: number; stays: number }>(
    sql`select
    (select coalesce(max(id), 0) from audit.log)::bigint as audit,
    (select coalesce(max(id), 0) from workflow.history)::bigint as history,
    (select coalesce(max(id), 0) from workflow.stays)::bigint as stays`,
    tx,
  );
  return { audit: Number(row.audit), history: Number(row.history), stays: Number(row.stays) };
}

/** Everything one event of a walk wrote (ids after `from`, up to `to`) happened at `at`. */
export interface Segment {
  from: Mark;
  to: Mark;
  at: Date;
}

export interface BackdatePlan {
  /** Where the load began. */
  start: Mark;
  /** Planned creation times of records. */
  created: { id: string; at: Date }[];
  segments: Segment[];
  /** Date fields stamped "now" by actions, set to the time of the change that set them (else the record's last change). */
  restamp: { entity: string; ids: string[]; fields: string[] }[];
}

const json = (v: unknown) => JSON.stringify(v);

export async function backdate(database: Database, tx: Db, model: AppModel, plan: BackdatePlan) {
  const { start } = plan;
  const segments = plan.segments.filter((s) => s.to.audit > s.from.audit || s.to.history > s.from.history);
  const auditSegments = json(segments.map((s) => ({ lo: s.from.audit, hi: s.to.audit, at: s.at.toISOString() })));
  const historySegments = json(segments.map((s) => ({ lo: s.from.history, hi: s.to.history, at: s.at.toISOString() })));
  const created = json(plan.created.map((c) => ({ id: c.id, at: c.at.toISOString() })));

  // Audit entries: what an event wrote, at the event's time; a planned record's creation, at its time.
  await tx.execute(sql`update audit.log a set at = s.at
    from jsonb_to_recordset(${auditSegments}::jsonb) as s(lo bigint, hi bigint, at timestamptz) where a.id > s.lo and a.id <= s.hi`);
  await tx.execute(sql`update audit.log a set at = p.at
    from jsonb_to_recordset(${created}::jsonb) as p(id uuid, at timestamptz) where a.record_id = p.id and a.action = 'create' and a.id > ${start.audit}`);
  await tx.execute(sql`update workflow.history h set at = s.at
    from jsonb_to_recordset(${historySegments}::jsonb) as s(lo bigint, hi bigint, at timestamptz) where h.id > s.lo and h.id <= s.hi`);

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

  // Stays: the first one entered at creation, each later one at the transition that opened it, and
  // each closed at the transition that closed it.
  await tx.execute(sql`
    with h as (select entity, record_id, at, row_number() over (partition by entity, record_id order by id) as n
               from workflow.history where id > ${start.history} and from_state <> to_state),
    s as (select id, entity, record_id, row_number() over (partition by entity, record_id order by id) as n
          from workflow.stays where id > ${start.stays})
    update workflow.stays st set
      entered_at = coalesce(hin.at, (select min(a.at) from audit.log a where a.entity = s.entity and a.record_id = s.record_id and a.action = 'create'), st.entered_at),
      left_at = case when st.left_at is null then null else coalesce(hout.at, st.left_at) end
    from s
      left join h hin on hin.entity = s.entity and hin.record_id = s.record_id and hin.n = s.n - 1
      left join h hout on hout.entity = s.entity and hout.record_id = s.record_id and hout.n = s.n
    where st.id = s.id`);

  for (const r of plan.restamp) {
    const entity = model.entity(r.entity);
    if (!entity || !r.ids.length) continue;
    for (const name of r.fields) {
      const field = entity.field(name);
      if (!field || (field.doc.type !== 'date' && field.doc.type !== 'datetime')) continue;
      // The time of the change that last set this field (a ticket's resolved_at is the resolve, not its later close).
      const last = sql`coalesce(
        (select max(a.at) from audit.log a where a.entity = ${entity.name} and a.record_id = t.id
          and (a.changes ? ${name} or (a.action = 'create' and a.changes = '{}' and a.snapshot ->> ${name} is not null))),
        (select max(a.at) from audit.log a where a.entity = ${entity.name} and a.record_id = t.id))`;
      await tx.execute(sql`update ${entity.table} t set ${sql.identifier(name)} = ${field.doc.type === 'date' ? sql`(${last} at time zone 'UTC')::date` : last}
        where t.id in (select value::uuid from jsonb_array_elements_text(${json(r.ids)}::jsonb)) and t.${sql.identifier(name)} is not null`);
    }
  }
}

/**
 * An approval step taken by the load: the request's and its tasks' times that the step stamped with
 * the transaction's own time (now()) become the step's planned time.
 */
export async function backdateApproval(tx: Db, requestId: string, at: Date) {
  const t = at.toISOString();
  // One statement for both tables (the two updates touch different rows).
  await tx.execute(sql`with request as (update approval.requests set
      submitted_at = case when submitted_at = now() then ${t}::timestamptz else submitted_at end,
      decided_at = case when decided_at = now() then ${t}::timestamptz else decided_at end
    where id = ${requestId})
    update approval.tasks set
      created_at = case when created_at = now() then ${t}::timestamptz else created_at end,
      decided_at = case when decided_at = now() then ${t}::timestamptz else decided_at end
    where request_id = ${requestId}`);
}
