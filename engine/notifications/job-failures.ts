/**
 * Background work that failed — a workflow timer, an approval escalation, a scheduled automation — is
 * never silent: it is logged, kept in `audit.job_failures` (shown on the record's workflow history and
 * to administrators at GET /api/jobs/failures), and its record's owner gets a notification saying what
 * did not happen and why.
 */
import { sql } from 'drizzle-orm';
import type { Database, Db } from '../db/database.js';
import { AppError } from '../errors.js';
import { logFailure } from '../log.js';
import type { CompiledEntity } from '../model/compile.js';
import { apiRows } from '../db/api-rows.js';
import { deliver } from './inbox.js';

export const JOB_FAILURES_SQL = `
create schema if not exists audit;
create table if not exists audit.job_failures (
  id bigserial primary key,
  at timestamptz not null default now(),
  kind text not null check (kind in ('timer', 'escalation', 'automation')),
  job text not null,
  entity text,
  record_id uuid,
  code text not null,
  message text not null
);
create index if not exists job_failures_record on audit.job_failures (entity, record_id, id desc);
`;

export interface JobFailure {
  kind: 'timer' | 'escalation' | 'automation';
  /** What was to happen, e.g. "timer expire of claim_flow", "automation overdue_reminder". */
  job: string;
  entity?: CompiledEntity;
  recordId?: string;
  error: unknown;
  /** Why, in both languages, when the job knows better than the error's text (the owner reads it in theirs). */
  reason?: { en: string; 'zh-CN': string };
}

const KIND_ZH = { timer: '定时流转', escalation: '审批上报', automation: '定时自动化' } as const;

/** Logs, keeps and tells the record's owner about a failed background job. */
export async function recordJobFailure(database: Database, failure: JobFailure, tx: Db = database.db) {
  const code = failure.error instanceof AppError ? failure.error.code : 'internal_error';
  const message =
    failure.error instanceof AppError
      ? [failure.error.message, ...failure.error.details.map((d) => d.message)]
          .filter((m, i, all) => m && all.indexOf(m) === i)
          .join('; ')
      : 'An unexpected error; see the server log';
  logFailure(
    `${failure.kind} ${failure.job}${failure.recordId ? ` on ${failure.entity?.name} ${failure.recordId}` : ''} failed`,
    failure.error,
  );
  await tx.execute(sql`insert into audit.job_failures (kind, job, entity, record_id, code, message)
    values (${failure.kind}, ${failure.job}, ${failure.entity?.name ?? null}, ${failure.recordId ?? null}, ${code}, ${message.slice(0, 2000)})`);
  if (!failure.entity || !failure.recordId) return;
  const [owner] = await database.rows<{ id: string; email: string | null }>(
    sql`
    select u.id, u.email from ${failure.entity.table} r join "user" u on u.id = r.owner_id where r.id = ${failure.recordId}`,
    tx,
  );
  if (!owner) return;
  const title = failure.entity.label;
  await deliver(
    tx,
    [{ id: owner.id, email: null }],
    {
      subject: {
        en: `${failure.kind === 'timer' ? 'A timed step' : failure.kind === 'escalation' ? 'An escalation' : 'A scheduled automation'} did not run on a ${title.en}`,
        'zh-CN': `${title['zh-CN']}的${KIND_ZH[failure.kind]}未能执行`,
      },
      body: {
        en: `${failure.job}: ${failure.reason?.en ?? message}`,
        'zh-CN': `${failure.job}：${failure.reason?.['zh-CN'] ?? message}`,
      },
    },
    { entity: failure.entity.name, recordId: failure.recordId, template: `job-failure:${failure.kind}` },
  );
}

/** Failures of one record, newest first. */
export async function jobFailuresOf(database: Database, entity: string, recordId: string) {
  return apiRows(
    await database.rows(sql`select id, at, kind, job, code, message from audit.job_failures
    where entity = ${entity} and record_id = ${recordId} order by id desc limit 50`),
    ['id'],
  );
}

/** The latest failures, for administrators. */
export async function recentJobFailures(database: Database, limit = 100) {
  return apiRows(
    await database.rows(sql`select id, at, kind, job, entity, record_id, code, message from audit.job_failures
    order by id desc limit ${limit}`),
    ['id'],
  );
}
