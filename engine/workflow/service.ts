/**
 * Runs workflows: what the current user may do with a record now (and why not), and firing a
 * transition — guard, record update (state field + `set` actions), side-effect actions, history and
 * time-in-state — in ONE transaction. Two concurrent transitions on one record cannot both succeed:
 * the update is conditional on the version read.
 */
import { t as tr, type Lang } from '../model/language.js';
import { apiRows } from '../db/api-rows.js';
import { jobFailuresOf, recordJobFailure } from '../notifications/job-failures.js';
import { sql } from 'drizzle-orm';
import { AppError, badRequest, conflict, notFound } from '../errors.js';
import { and, isNull } from 'drizzle-orm';
import { compileFilter } from '../rules/to-sql.js';
import { filterScope } from '../data/query.js';
import type { Db } from '../db/database.js';
import type { CompiledEntity } from '../model/compile.js';
import type { RegistryView } from '../registry/types.js';
import { forbidden } from '../access/policy.js';
import { ajvErrorsToDetails, createAjv } from '../model/ajv.js';
import type { WorkflowAction, WorkflowTransition } from './kind.js';
import { actionApplies, engineContext, type DataService, type OperationContext } from '../data/service.js';
import { ruleViolations } from '../data/validation.js';
import { HOOK_ORDER } from '../data/hooks.js';
import { workflowsOf, type CompiledWorkflow } from './compile.js';
import { actionData, runActions } from './run-actions.js';
import type { JobQueue } from '../jobs/queue.js';
import { durationMs } from '../jobs/duration.js';
import type { AutoAdvance, WorkflowTimer } from './kind.js';
import type { AppModel } from '../model/compile.js';
import { toRecord } from '../data/records.js';
import { operationTime } from '../db/clock.js';
import { deferredWrite, isDeferring, keep, startDeferring } from '../db/deferred.js';
import { inputForm } from './input-form.js';
import { evaluateRule, isTruthy } from '../rules/evaluate.js';

/** A timer's job: fire `event` if the record still is in the stay (`since`: the history entry that entered it, 0 for creation). */
interface TimerJob {
  entity: string;
  id: string;
  workflow: string;
  state: string;
  event: string;
  since: number;
  timer: number;
  /** For `at` timers, the due time it was set for: when the date changes, a new job replaces it. */
  due?: string;
}
const TIMER_QUEUE = 'workflow-timer';

interface AutoAdvanceSpec {
  entity: CompiledEntity;
  workflow: CompiledWorkflow;
  state: string;
  spec: AutoAdvance;
}
const autoAdvanceCache = new WeakMap<AppModel, Map<string, AutoAdvanceSpec[]>>();
/** Auto-advancing states by the related entity whose changes may trigger them. */
function autoAdvancesOf(model: AppModel) {
  let byRelated = autoAdvanceCache.get(model);
  if (!byRelated) {
    byRelated = new Map();
    for (const entity of model.entities.values()) {
      for (const workflow of workflowsOf(entity)) {
        for (const [state, node] of Object.entries(workflow.doc.states)) {
          if (!node.autoAdvance) continue;
          const related = node.autoAdvance.related.entity;
          byRelated.set(related, [...(byRelated.get(related) ?? []), { entity, workflow, state, spec: node.autoAdvance }]);
        }
      }
    }
    autoAdvanceCache.set(model, byRelated);
  }
  return byRelated;
}

/** A transition a deferring transaction keeps (WorkflowService.defer): its history row, and its stays when the state changes. */
interface Transition {
  entity: string;
  record_id: string;
  workflow: string;
  event: string;
  from_state: string;
  to_state: string;
  actor: string | null;
  comment: string | null;
  input: unknown;
  at: string;
  /** The record's creation: where the stay in its initial state began, when its history begins here. */
  created_at: unknown;
}

/**
 * Writes transitions kept so far: their history rows in one statement, then their stays in another —
 * each record's open stay closed at its first transition here (or, for a record that predates its
 * history, one opened and closed for its initial state), and a stay for every state entered, closed
 * when the record's next transition here left it. Ids follow the order the transitions happened in.
 */
async function writeTransitions(tx: Db, kept: Transition[]): Promise<void> {
  const rows = kept.map((t, seq) => ({ ...t, seq }));
  await tx.execute(sql`insert into workflow.history (entity, record_id, workflow, event, from_state, to_state, actor, comment, input, at)
    select entity, record_id, workflow, event, from_state, to_state, actor, comment, input, at
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as h(seq int, entity text, record_id uuid, workflow text, event text,
      from_state text, to_state text, actor uuid, comment text, input jsonb, at timestamptz)
    order by seq`);
  const latest = new Map<string, { next_at: string | null }>();
  const moves = rows
    .filter((t) => t.from_state !== t.to_state)
    .map((t) => {
      const key = `${t.entity}/${t.record_id}`;
      const before = latest.get(key);
      if (before) before.next_at = t.at;
      const move = { ...t, first: !before, next_at: null as string | null };
      latest.set(key, move);
      return move;
    });
  if (!moves.length) return;
  await tx.execute(sql`
    with t as (select * from jsonb_to_recordset(${JSON.stringify(moves)}::jsonb) as t(seq int, entity text, record_id uuid,
        workflow text, from_state text, to_state text, at timestamptz, created_at timestamptz, first boolean, next_at timestamptz)),
      closed as (update workflow.stays s set left_at = t.at from t
        where t.first and s.entity = t.entity and s.record_id = t.record_id and s.left_at is null returning s.entity, s.record_id)
    insert into workflow.stays (entity, record_id, workflow, state, entered_at, left_at)
    select entity, record_id, workflow, state, entered_at, left_at from (
      select 2 * t.seq as o, t.entity, t.record_id, t.workflow, t.from_state as state, t.created_at as entered_at, t.at as left_at
        from t where t.first and not exists (select 1 from closed c where c.entity = t.entity and c.record_id = t.record_id)
      union all
      select 2 * t.seq + 1, t.entity, t.record_id, t.workflow, t.to_state, t.at, t.next_at from t
    ) s order by o`);
}

const DEFERRED_TRANSITIONS = deferredWrite<Transition>('deferred workflow history', writeTransitions);

export const WORKFLOW_SQL = `
create schema if not exists workflow;
create table if not exists workflow.history (
  id bigserial primary key,
  entity text not null,
  record_id uuid not null,
  workflow text not null,
  event text not null,
  from_state text not null,
  to_state text not null,
  actor uuid,
  at timestamptz not null default now(),
  comment text,
  input jsonb
);
create index if not exists history_record on workflow.history (entity, record_id, id);
-- One row per stay in a state: time in stage (阶段停留时间) is left_at - entered_at.
create table if not exists workflow.stays (
  id bigserial primary key,
  entity text not null,
  record_id uuid not null,
  workflow text not null,
  state text not null,
  entered_at timestamptz not null default now(),
  left_at timestamptz
);
create index if not exists stays_record on workflow.stays (entity, record_id, left_at);
create index if not exists stays_state on workflow.stays (entity, workflow, state, entered_at);
`;

const inputAjv = createAjv();
const inputValidators = new WeakMap<object, ReturnType<typeof inputAjv.compile>>();
const validatorFor = (schema: Record<string, unknown>) => {
  let v = inputValidators.get(schema);
  if (!v) inputValidators.set(schema, (v = inputAjv.compile(schema)));
  return v;
};

export interface TransitionOption {
  event: string;
  target: string;
  label?: { en: string; 'zh-CN': string };
  allowed: boolean;
  /** Why not, when not allowed. */
  reasons: { code: string; message: string }[];
  input?: Record<string, unknown>;
}

export class WorkflowService {
  constructor(
    private readonly data: DataService,
    private readonly registry: RegistryView,
    private readonly jobs: JobQueue,
  ) {
    jobs.define<TimerJob>({ name: TIMER_QUEUE, run: (job) => this.onTimer(job) });
    data.hooks.provide('fireEvent', (tx, entity, id, event, comment) =>
      this.fire(engineContext(), entity, id, event, { comment }, tx),
    );
    // A related record created or changed (a milestone task) may complete its parent's stage.
    data.hooks.register({
      name: 'workflow.parents',
      order: HOOK_ORDER.workflowParents,
      afterCreate: (tx, _ctx, entity, record) => this.advanceParents(tx, entity, null, record),
      afterUpdate: (tx, _ctx, entity, before, after) => this.advanceParents(tx, entity, before, after),
    });
    data.hooks.register({
      name: 'workflow.timers',
      order: HOOK_ORDER.workflowTimers,
      // A record created in a state with timers starts them, in the creating transaction.
      afterCreate: async (tx, _ctx, entity, record) => {
        const workflow = workflowsOf(entity).find((w) => w.applies(record));
        if (workflow?.doc.states[workflow.doc.initial]?.timers?.length)
          await this.startTimers(tx, entity, record, workflow, String(record[workflow.doc.stateField]), 0);
      },
      // A date an `at` timer of the current state reads has changed: set the timer again for the new date.
      afterUpdate: (tx, _ctx, entity, before, after) => this.moveTimers(tx, entity, before, after),
    });
  }

  /** A date an `at` timer of the current state reads has changed: the timer is set again for the new date. */
  private async moveTimers(tx: Db, entity: CompiledEntity, before: Record<string, unknown>, after: Record<string, unknown>) {
    const workflow = workflowsOf(entity).find((w) => w.applies(after));
    if (!workflow) return;
    const state = String(after[workflow.doc.stateField]);
    if (state !== before[workflow.doc.stateField]) return; // a transition sets its own timers
    const moved = (workflow.doc.states[state]?.timers ?? []).filter((t) => t.at !== undefined && before[t.at] !== after[t.at]);
    if (!moved.length || isDeferring(tx, DEFERRED_TRANSITIONS)) return;
    const [{ since }] = await this.data.database.rows<{ since: number }>(
      sql`select coalesce(max(id), 0)::int as since from workflow.history
      where entity = ${entity.name} and record_id = ${after.id as string} and from_state <> to_state`,
      tx,
    );
    await this.startTimers(tx, entity, after, workflow, state, Number(since), (t) => moved.includes(t));
  }

  /**
   * A related record changed (a milestone task done): states that advance when all their counted
   * related records are done fire their event, as the engine, in the same transaction.
   */
  private async advanceParents(
    tx: Db,
    changed: CompiledEntity,
    before: Record<string, unknown> | null,
    record: Record<string, unknown>,
  ) {
    for (const { entity, workflow, state, spec } of autoAdvancesOf(this.data.model()).get(changed.name) ?? []) {
      const parentId = record[spec.related.via];
      if (typeof parentId !== 'string') continue;
      const counts = (r: Record<string, unknown>) =>
        spec.related.where === undefined || isTruthy(evaluateRule(spec.related.where, r));
      const counted = counts(record);
      // Nothing to read when the change cannot complete the stage: the record is one of those counted and
      // not done itself (a stage's new task), or it is not counted and was not before (a plain task).
      if (counted && record.deleted_at == null && !isTruthy(evaluateRule(spec.all, record))) continue;
      if (!counted && (before === null || (!counts(before) && before[spec.related.via] === parentId))) continue;
      const [parent] = await this.data.database.rows<Record<string, unknown>>(
        sql`select * from ${entity.table} where id = ${parentId} and deleted_at is null`,
        tx,
      );
      if (!parent || parent[workflow.doc.stateField] !== state || workflowsOf(entity).find((w) => w.applies(parent)) !== workflow)
        continue;
      const related = (
        await tx
          .select()
          .from(changed.table)
          .where(sql`${changed.columns[spec.related.via]} = ${parentId} and ${changed.columns.deleted_at} is null`)
      ).map((r) => toRecord(r as Record<string, unknown>));
      const all = related.filter((r) => spec.related.where === undefined || isTruthy(evaluateRule(spec.related.where, r)));
      if (!all.length || !all.every((r) => isTruthy(evaluateRule(spec.all, r)))) continue;
      try {
        await this.fire(engineContext(), entity.name, parentId, spec.event, { comment: `auto: every ${changed.name} done` }, tx);
      } catch (e) {
        if (!(e instanceof AppError && e.status < 500)) throw e; // a guard that does not hold leaves the stage as it is
      }
    }
  }

  /**
   * The transaction's workflow writes wait: timers are not set within it — its caller sets those of the
   * records' final states after the commit (restartTimers) — and history and stays are kept and written
   * together at flushDeferred (db/deferred.ts), a thousand transitions per statement. The demo-data load
   * walks thousands of records through states whose timers would only be replaced.
   */
  defer(tx: Db) {
    startDeferring(tx, DEFERRED_TRANSITIONS);
  }

  /** When a timer is due for this stay: `after` from now, `at` from the record's date field (undefined: no date). */
  private dueAt(timer: WorkflowTimer, record: Record<string, unknown>, entered: Date): Date | undefined {
    if (timer.after) return new Date(entered.getTime() + durationMs(timer.after));
    const value = record[timer.at!];
    if (value === null || value === undefined) return undefined;
    // A date is taken at 00:00 UTC (a date field carries no time zone).
    const at = new Date(String(value).length === 10 ? `${value}T00:00:00Z` : String(value));
    return new Date(at.getTime() + (timer.offset ? durationMs(timer.offset) : 0));
  }

  /** Queues the timers of a stay (what `timerJobs` makes of it) in the transaction, unless it defers them. */
  private async startTimers(tx: Db, ...stay: Parameters<WorkflowService['timerJobs']>) {
    if (isDeferring(tx, DEFERRED_TRANSITIONS)) return;
    await this.jobs.sendMany(TIMER_QUEUE, this.timerJobs(...stay), { tx });
  }

  /** The jobs of the timers of a stay that began now (`since`: the history entry that began it). */
  private timerJobs(
    entity: CompiledEntity,
    record: Record<string, unknown>,
    workflow: CompiledWorkflow,
    state: string,
    since: number,
    which: (t: WorkflowTimer) => boolean = () => true,
  ): { data: TimerJob; startAfter: Date }[] {
    const now = new Date();
    const jobs: { data: TimerJob; startAfter: Date }[] = [];
    for (const [i, timer] of (workflow.doc.states[state]?.timers ?? []).entries()) {
      const due = which(timer) ? this.dueAt(timer, record, now) : undefined;
      if (!due) continue;
      jobs.push({
        data: {
          entity: entity.name,
          id: record.id as string,
          workflow: workflow.doc.name,
          state,
          event: timer.event,
          since,
          timer: i,
          ...(timer.at ? { due: due.toISOString() } : {}),
        },
        startAfter: due,
      });
    }
    return jobs;
  }

  /**
   * Sets the timers of the records' current states again, as of now (the demo-data loader calls this
   * after moving records' times into the past: their deadlines moved). A timer set before, for
   * another due time, then ends quietly when it comes.
   */
  async restartTimers(entityName: string, ids: string[]) {
    const entity = this.data.entity(entityName);
    if (!workflowsOf(entity).some((w) => Object.values(w.doc.states).some((s) => s.timers?.length)) || !ids.length) return;
    await this.data.database.db.transaction(async (tx) => {
      const rows = (
        await tx.select().from(entity.table).where(sql`${entity.columns.id} in ${ids} and ${entity.columns.deleted_at} is null`)
      ).map((r) => toRecord(r as Record<string, unknown>));
      // The history entry that began each record's stay, for all of them at once.
      const sinceRows = await this.data.database.rows<{ record_id: string; since: number }>(
        sql`select record_id::text, max(id)::int as since from workflow.history
        where entity = ${entity.name} and record_id = any(${sql.param(rows.map((r) => r.id))}::uuid[]) and from_state <> to_state
        group by record_id`,
        tx,
      );
      const sinceOf = new Map(sinceRows.map((r) => [r.record_id, Number(r.since)]));
      const jobs: { data: TimerJob; startAfter: Date }[] = [];
      for (const record of rows) {
        const workflow = workflowsOf(entity).find((w) => w.applies(record));
        const state = workflow && String(record[workflow.doc.stateField]);
        if (!workflow?.doc.states[state!]?.timers?.length) continue;
        jobs.push(...this.timerJobs(entity, record, workflow, state!, sinceOf.get(record.id as string) ?? 0));
      }
      for (let i = 0; i < jobs.length; i += 1000) await this.jobs.sendMany(TIMER_QUEUE, jobs.slice(i, i + 1000), { tx });
    });
  }

  /**
   * A timer fires its event as the engine, if the record is still in the stay that started it (a
   * later visit to the same state has timers of its own). An `at` timer whose date moved has been
   * replaced by one for the new date. A guard that does not hold, or a record gone, ends the timer quietly.
   */
  private async onTimer(job: TimerJob) {
    const entity = this.data.model().entity(job.entity);
    const workflow = (entity ? workflowsOf(entity) : undefined)?.find((w) => w.doc.name === job.workflow);
    const timer = workflow?.doc.states[job.state]?.timers?.[job.timer];
    if (!entity || !workflow || !timer || timer.event !== job.event) return; // the metadata changed since
    const [row] = await this.data.database.rows<{ state: string | null; since: number }>(sql`
      select r.${sql.identifier(workflow.doc.stateField)} as state,
        (select coalesce(max(h.id), 0)::int from workflow.history h where h.entity = ${entity.name} and h.record_id = r.id and h.from_state <> h.to_state) as since
      from ${entity.table} r where r.id = ${job.id} and r.deleted_at is null`);
    if (!row || row.state !== job.state || Number(row.since) !== job.since) return;
    if (timer.at) {
      // The date moved since this job was set: the job set for the new date decides.
      const record = await this.data.get(engineContext(), entity.name, job.id);
      if (this.dueAt(timer, record, new Date())?.toISOString() !== job.due) return;
    }
    try {
      await this.fire(engineContext(), entity.name, job.id, job.event, {
        comment: `timer: ${timer.after ?? `${timer.at}${timer.offset ?? ''}`}`,
      });
    } catch (e) {
      // The guard does not hold, or the record moved on: nothing was due.
      if (e instanceof AppError && (e.code === 'guard_failed' || e.code === 'invalid_transition')) return;
      // Anything else the client-side checks refused (an entity rule, a lock…) will not fix itself by
      // retrying: it is kept, logged and told to the owner instead of vanishing.
      if (e instanceof AppError && e.status < 500) {
        await recordJobFailure(this.data.database, {
          kind: 'timer',
          job: `${job.workflow}: ${job.event} (${job.state})`,
          entity,
          recordId: job.id,
          error: e,
        });
        return;
      }
      throw e; // retried by the queue
    }
  }

  private served(entity: CompiledEntity, record: Record<string, unknown>, lang: Lang = 'en'): CompiledWorkflow {
    const workflow = workflowsOf(entity).find((w) => w.applies(record));
    if (!workflow)
      throw notFound(
        'no_workflow',
        tr(lang, `No workflow serves this ${entity.name}`, `没有流程适用于此${entity.label['zh-CN']}`),
      );
    return workflow;
  }

  private data$(ctx: OperationContext, record: Record<string, unknown>, input: unknown, now?: Date) {
    return actionData(ctx, record, input, now);
  }

  private roleProblem(ctx: OperationContext, t: WorkflowTransition) {
    if (ctx.privileged || !t.roles?.length) return undefined;
    if (t.roles.some((r) => ctx.principal!.roles.includes(r))) return undefined;
    const names = t.roles
      .map(
        (r) => (this.data.documents().get('role', r) as { label?: Record<string, string> } | undefined)?.label?.[ctx.lang] ?? r,
      )
      .join(ctx.lang === 'zh-CN' ? '、' : ', ');
    return { code: 'role_required', message: tr(ctx.lang, `Needs one of the roles: ${names}`, `需要以下角色之一：${names}`) };
  }

  /** What the caller may do with the record now; the others with the reasons they can't. */
  async transitions(ctx: OperationContext, entityName: string, id: string) {
    const entity = this.data.entity(entityName);
    const guard = this.data.guard(ctx);
    const { record, rights } = await this.data.findWithRights(this.data.database.db, guard, entity, id, ['update']);
    const workflow = this.served(entity, record, ctx.lang);
    const state = String(record[workflow.doc.stateField]);
    const options: TransitionOption[] = Object.entries(workflow.doc.states[state]?.on ?? {}).map(([event, t]) => {
      const reasons: TransitionOption['reasons'] = [];
      if (!rights.update)
        reasons.push({
          code: 'forbidden',
          message: tr(ctx.lang, `You may not change this ${entity.label.en}`, `您无权修改此${entity.label['zh-CN']}`),
        });
      const role = this.roleProblem(ctx, t);
      if (role) reasons.push(role);
      // Guards that read $input can only be judged with the input: they are checked when fired.
      const needsInput = t.input !== undefined;
      if (!needsInput && workflow.next(state, { type: event, data: this.data$(ctx, record, {}) }) === undefined) {
        reasons.push({
          code: 'guard_failed',
          message: t.guardMessage?.[ctx.lang] ?? tr(ctx.lang, 'The conditions for this step are not met', '尚不满足此步骤的条件'),
        });
      } else if (!needsInput) {
        // "Allowed" means it would succeed: the record as the transition would write it must meet the entity's rules.
        for (const v of this.ruleProblems(ctx, entity, workflow, record, state, event))
          reasons.push({ code: 'rule_violation', message: v.message });
      }
      return {
        event,
        target: t.target,
        label: t.label,
        allowed: reasons.length === 0,
        reasons,
        ...(t.input ? { input: inputForm(t.input, entity, this.data.model(), ctx.lang, t.actions) } : {}),
      };
    });
    return {
      workflow: workflow.doc.name,
      stateField: workflow.doc.stateField,
      state,
      final: workflow.doc.states[state]?.type === 'final',
      transitions: options,
    };
  }

  /** The entity rules the record would break after a transition: its state change and its actions' `set`s. */
  private ruleProblems(
    ctx: OperationContext,
    entity: CompiledEntity,
    workflow: CompiledWorkflow,
    record: Record<string, unknown>,
    from: string,
    event: string,
  ) {
    const t = workflow.transition(from, event)!;
    const data = actionData(ctx, record, undefined);
    const actions = [
      ...(workflow.doc.states[from].exit ?? []),
      ...(t.actions ?? []),
      ...(t.target !== from ? (workflow.doc.states[t.target]?.entry ?? []) : []),
    ];
    const changes: Record<string, unknown> = {};
    for (const action of actions) {
      if (actionApplies(action, data))
        Object.assign(changes, this.registry.action(action.type)?.changes?.({ action, entity: entity.name, record, data }) ?? {});
    }
    changes[workflow.doc.stateField] = t.target;
    return ruleViolations(
      entity,
      { ...record, ...changes, $user: ctx.principal?.context ?? {}, $now: new Date().toISOString() },
      ctx.lang,
    );
  }

  /** Fires one transition. Body: { comment?, input?, version? }. */
  async fire(ctx: OperationContext, entityName: string, id: string, event: string, body: unknown, outer?: Db) {
    const entity = this.data.entity(entityName);
    const guard = this.data.guard(ctx);
    const { comment, input, version } = (body ?? {}) as { comment?: unknown; input?: unknown; version?: unknown };
    if (body !== undefined && (typeof body !== 'object' || body === null || Array.isArray(body)))
      throw badRequest(
        'invalid_body',
        tr(ctx.lang, 'Send { "comment"?, "input"?, "version"? }', '请发送 { "comment"?, "input"?, "version"? }'),
      );
    if (comment !== undefined && (typeof comment !== 'string' || comment.length > 2000))
      throw badRequest(
        'invalid_request',
        tr(ctx.lang, 'comment must be text of at most 2000 characters', '备注须为不超过 2000 字的文本'),
        [{ path: '/comment', message: tr(ctx.lang, 'invalid', '无效') }],
      );
    if (version !== undefined && (!Number.isInteger(version) || (version as number) < 1 || (version as number) > 2147483647))
      throw badRequest('invalid_version', tr(ctx.lang, 'version must be a positive integer', 'version 必须是正整数'), [
        { path: '/version', message: tr(ctx.lang, 'not a version', '不是有效的版本号') },
      ]);

    // Inside an outer transaction (an auto-advance) this is a savepoint.
    const result = await (outer ?? this.data.database.db).transaction(async (tx) => {
      const { record, rights } = await this.data.findWithRights(tx, guard, entity, id, ['update']);
      if (!rights.update)
        throw forbidden(
          tr(
            ctx.lang,
            `You may read this ${entity.label.en} but not change it`,
            `您可以查看但不能修改此${entity.label['zh-CN']}`,
          ),
        );
      const workflow = this.served(entity, record, ctx.lang);
      const from = String(record[workflow.doc.stateField]);
      const t = workflow.transition(from, event);
      if (!t) {
        const known = Object.keys(workflow.doc.states[from]?.on ?? {});
        throw new AppError(
          409,
          'invalid_transition',
          tr(
            ctx.lang,
            `"${event}" is not possible from "${from}"${known.length ? `; possible: ${known.join(', ')}` : ' (a final state)'}`,
            `当前状态"${from}"下不能执行"${event}"${known.length ? `；可执行：${known.join('、')}` : '（已是终止状态）'}`,
          ),
        );
      }
      const role = this.roleProblem(ctx, t);
      if (role) throw forbidden(role.message, [{ path: `/transitions/${event}`, code: role.code, message: role.message }]);
      if (t.input) {
        const validate = validatorFor(t.input);
        if (!validate(input ?? {}))
          throw new AppError(
            422,
            'validation_failed',
            tr(ctx.lang, 'The transition input is invalid', '流转输入无效'),
            ajvErrorsToDetails(validate.errors, '/input'),
          );
      } else if (input !== undefined)
        throw badRequest('invalid_request', tr(ctx.lang, `"${event}" takes no input`, `"${event}"不接受输入`), [
          { path: '/input', message: tr(ctx.lang, 'not expected', '不应提供') },
        ]);

      const data = this.data$(ctx, record, input, operationTime(tx));
      await this.runChecks(tx, ctx, t, event, record, data);
      const to = workflow.next(from, { type: event, data });
      if (to === undefined) {
        const why =
          t.guardMessage?.[ctx.lang] ?? tr(ctx.lang, `The conditions for "${event}" are not met`, `尚不满足"${event}"的条件`);
        throw new AppError(409, 'guard_failed', why, [{ path: `/transitions/${event}`, code: 'guard_failed', message: why }]);
      }

      // exit actions of the old state, the transition's, entry actions of the new one — in that order.
      const actions: WorkflowAction[] = [
        ...(workflow.doc.states[from].exit ?? []),
        ...(t.actions ?? []),
        ...(to !== from ? (workflow.doc.states[to].entry ?? []) : []),
      ];
      const { record: after, created } = await runActions(this.data, this.registry, {
        tx,
        ctx,
        entity,
        record,
        actions,
        input,
        changes: { [workflow.doc.stateField]: to },
        expected: (version as number | undefined) ?? (record.version as number),
        audit: { action: 'transition', note: `${event}: ${from} → ${to}` },
      });
      const entered = await this.record(tx, entity, {
        record_id: id,
        workflow: workflow.doc.name,
        event,
        from_state: from,
        to_state: to,
        actor: ctx.principal?.userId ?? null,
        comment: (comment as string | undefined) ?? null,
        input: input ?? null,
        created_at: record.created_at,
      });
      if (to !== from) await this.startTimers(tx, entity, after, workflow, to, entered);
      return { record: after, from, to, created };
    });
    this.data.committed(entity.name);
    return { ...result, record: guard.strip(entity, [result.record])[0] };
  }

  /**
   * Duplicate checks (撞单): refuse when a record of another entity matches — looked for as the engine,
   * whatever the caller may see, and only its existence is told.
   */
  private async runChecks(
    tx: Db,
    ctx: OperationContext,
    t: WorkflowTransition,
    event: string,
    record: Record<string, unknown>,
    data: Record<string, unknown>,
  ) {
    for (const [i, check] of (t.checks ?? []).entries()) {
      if (check.when !== undefined && !isTruthy(evaluateRule(check.when, data))) continue;
      const target = this.data.entity(check.entity);
      const where = compileFilter(
        check.filter,
        filterScope(target, { $record: record, $input: data.$input, $user: data.$user, $now: data.$now }),
      );
      const [hit] = await tx
        .select({ id: target.columns.id })
        .from(target.table)
        .where(and(isNull(target.columns.deleted_at), where))
        .limit(1);
      if (hit) {
        const code = check.code ?? 'duplicate_found';
        throw conflict(code, check.message[ctx.lang], [
          { path: `/transitions/${event}/checks/${i}`, code, message: check.message[ctx.lang] },
        ]);
      }
    }
  }

  /**
   * The history entry and, when the state changes, the stays: the current stay is closed (or, for a
   * record that predates its history, one is opened and closed for its initial state) and the new one
   * opened — all in one statement, one round trip. A deferring transaction keeps them for its flush.
   */
  private async record(tx: Db, entity: CompiledEntity, move: Omit<Transition, 'entity' | 'at'>): Promise<number> {
    const at = operationTime(tx).toISOString();
    // No timer is set in a deferring transaction: nothing asks for the entry's id.
    if (await keep(tx, DEFERRED_TRANSITIONS, [{ ...move, entity: entity.name, at }])) return 0;
    const { record_id: id, workflow, event, from_state: from, to_state: to, actor, comment, input } = move;
    const history = sql`insert into workflow.history (entity, record_id, workflow, event, from_state, to_state, actor, comment, input, at)
      values (${entity.name}, ${id}, ${workflow}, ${event}, ${from}, ${to}, ${actor}, ${comment}, ${input === null ? null : JSON.stringify(input)}::jsonb, ${at}::timestamptz) returning id`;
    if (from === to) {
      const [entry] = await this.data.database.rows<{ id: number }>(sql`${history}`, tx);
      return Number(entry.id);
    }
    // Sub-statements of one WITH run in no set order: the two stays go in one INSERT, ordered, so that
    // their ids follow time.
    const [entry] = await this.data.database.rows<{ id: number }>(
      sql`
      with entry as (${history}),
      closed as (update workflow.stays set left_at = ${at}::timestamptz where entity = ${entity.name} and record_id = ${id} and left_at is null returning id),
      opened as (
        insert into workflow.stays (entity, record_id, workflow, state, entered_at, left_at)
        select entity, record_id, workflow, state, entered_at, left_at from (
          select 1 as seq, ${entity.name}::text as entity, r.id as record_id, ${workflow}::text as workflow, ${from}::text as state, r.created_at as entered_at, ${at}::timestamptz as left_at
            from ${entity.table} r where r.id = ${id} and not exists (select 1 from closed)
          union all
          select 2, ${entity.name}::text, ${id}::uuid, ${workflow}::text, ${to}::text, ${at}::timestamptz, null
        ) s order by seq
        returning id)
      select (select id from entry)::int as id, (select count(*) from opened)::int as opened`,
      tx,
    );
    return Number(entry.id);
  }

  /** Transition history and time spent in each state, for anyone who can read the record. */
  async history(ctx: OperationContext, entityName: string, id: string) {
    const entity = this.data.entity(entityName);
    await this.data.get(ctx, entityName, id, { fields: 'id' });
    const [transitions, stays] = await Promise.all([
      this.data.database.rows<{
        at: Date | string;
      }>(sql`select id, workflow, event, from_state as "from", to_state as "to", actor, at, comment, input
        from workflow.history where entity = ${entity.name} and record_id = ${id} order by id desc`),
      this.data.database.rows<{
        state: string;
        entered_at: Date | string;
        left_at: Date | string | null;
      }>(sql`select state, entered_at, left_at
        from workflow.stays where entity = ${entity.name} and record_id = ${id} order by id`),
    ]);
    return {
      failures: await jobFailuresOf(this.data.database, entity.name, id),
      transitions: apiRows(transitions, ['id']),
      stays: stays.map((s) => {
        const entered = new Date(s.entered_at);
        const left = s.left_at ? new Date(s.left_at) : null;
        return {
          state: s.state,
          enteredAt: entered.toISOString(),
          leftAt: left?.toISOString() ?? null,
          seconds: Math.round(((left ?? new Date()).getTime() - entered.getTime()) / 1000),
        };
      }),
    };
  }
}
