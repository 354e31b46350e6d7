/**
 * Runs approval processes: submit, decide (approve / reject), delegate, recall, escalate, the
 * approver's inbox and the history on the record. Each operation is one transaction that locks the
 * request row first, so concurrent decisions on one request are counted one after the other and two
 * submissions of one record cannot both succeed (a partial unique index backs this up).
 *
 * The route through the steps is the compiled xstate machine's (engine/approvals/compile.ts); this
 * module counts the votes of a step and turns the machine's answer into tasks, record changes,
 * actions and notifications.
 */
import { recordJobFailure } from '../notifications/job-failures.js';
import { t, type Lang } from '../model/language.js';
import { sql } from 'drizzle-orm';
import { AppError, badRequest, conflict, notFound, unprocessable, pointer } from '../errors.js';
import type { Db } from '../db/database.js';
import type { AppModel, CompiledEntity } from '../model/compile.js';
import type { RegistryView } from '../registry/types.js';
import { forbidden } from '../access/policy.js';
import { UUID, uuidv7 } from '../model/ids.js';
import { SYSTEM_FIELDS } from '../model/system-fields.js';
import { evaluateRule, isTruthy } from '../rules/evaluate.js';
import { deliver, type Message } from '../notifications/inbox.js';
import type { JobQueue } from '../jobs/queue.js';
import { durationMs } from '../jobs/duration.js';
import { engineContext, type DataService, type OperationContext } from '../data/service.js';
import { HOOK_ORDER } from '../data/hooks.js';
import { loadPrincipal } from '../access/principal.js';
import { actionData, runActions } from '../workflow/run-actions.js';
import type { ApprovalDoc, ApprovalStep, ApproverSpec } from './kind.js';
import { compileApproval, stepOutcome, type CompiledApproval, type Resting } from './compile.js';
import { nowSql } from '../db/clock.js';

export const APPROVAL_SQL = `
create schema if not exists approval;
create table if not exists approval.requests (
  id uuid primary key,
  entity text not null,
  record_id uuid not null,
  approval text not null,
  status text not null check (status in ('pending', 'approved', 'rejected', 'returned', 'recalled')),
  step text,
  round integer not null default 0,
  submitter uuid,
  submitted_at timestamptz not null default now(),
  decided_at timestamptz,
  comment text
);
-- One pending request per record: a second concurrent submit fails here.
create unique index if not exists requests_one_pending on approval.requests (entity, record_id) where status = 'pending';
create index if not exists requests_record on approval.requests (entity, record_id, submitted_at);
create table if not exists approval.tasks (
  id uuid primary key,
  request_id uuid not null references approval.requests (id),
  step text not null,
  round integer not null,
  assignee uuid not null,
  status text not null check (status in ('pending', 'approved', 'rejected', 'delegated', 'escalated', 'cancelled')),
  origin text not null default 'step' check (origin in ('step', 'delegated', 'escalated')),
  from_user uuid,
  created_at timestamptz not null default now(),
  decided_at timestamptz,
  decided_by uuid,
  comment text
);
create index if not exists tasks_inbox on approval.tasks (assignee, created_at) where status = 'pending';
create index if not exists tasks_request on approval.tasks (request_id, round);
`;

const ESCALATION_QUEUE = 'approval-escalation';
const REMINDER_QUEUE = 'approval-reminder';
const STEP_FINISHED = { approved: 'approve', rejected: 'reject', returned: 'reject', recalled: 'recall' } as const;

interface RequestRow {
  id: string;
  entity: string;
  record_id: string;
  approval: string;
  status: string;
  step: string | null;
  round: number;
  submitter: string | null;
}
interface TaskRow {
  id: string;
  request_id: string;
  step: string;
  round: number;
  assignee: string;
  status: string;
}

const compiledCache = new WeakMap<AppModel, Map<string, CompiledApproval>>();
function approvalsOf(model: AppModel) {
  let byEntity = compiledCache.get(model);
  if (!byEntity) {
    byEntity = new Map(model.documents.all<ApprovalDoc>('approval').map((doc) => [doc.entity, compileApproval(doc)]));
    compiledCache.set(model, byEntity);
  }
  return byEntity;
}

const lockingCache = new WeakMap<AppModel, Map<string, { parent: CompiledEntity; via: string }[]>>();
/** By child entity: the collections it is a child in whose parent has an approval (its lock covers them). */
function lockingParentsOf(model: AppModel) {
  let byChild = lockingCache.get(model);
  if (!byChild) {
    byChild = new Map();
    for (const parent of model.entities.values()) {
      if (!approvalsOf(model).has(parent.name)) continue;
      for (const c of parent.doc.children ?? [])
        byChild.set(c.entity, [...(byChild.get(c.entity) ?? []), { parent, via: c.via }]);
    }
    lockingCache.set(model, byChild);
  }
  return byChild;
}

const both = (en: string, zh: string) => ({ en, 'zh-CN': zh });
const STATUS_ZH: Record<string, string> = {
  pending: '待审批',
  approved: '已通过',
  rejected: '已驳回',
  returned: '已退回',
  recalled: '已撤回',
  delegated: '已转办',
  escalated: '已上报',
  cancelled: '已取消',
};

export class ApprovalService {
  constructor(
    private readonly data: DataService,
    private readonly registry: RegistryView,
    private readonly jobs: JobQueue,
  ) {
    jobs.define<{ task: string }>({ name: ESCALATION_QUEUE, run: ({ task }) => this.escalate(task) });
    jobs.define<{ task: string }>({ name: REMINDER_QUEUE, run: ({ task }) => this.remind(task) });
    data.hooks.register({
      name: 'approvals',
      order: HOOK_ORDER.approvals,
      beforeChange: (tx, ctx, entity, record, changes) => this.guardChange(tx, ctx, entity, record, changes),
      // New rows of a pending record's child collection (quote lines), all of a bulk create at once.
      afterCreateAll: (tx, ctx, entity, records) => this.guardParents(tx, ctx, entity, records, null),
      afterCreate: async (_tx, ctx, entity, record) => {
        const approval = this.approvalOf(entity);
        const field = approval?.doc.statusField;
        if (!field || ctx.privileged) return;
        const initial = entity.fields.find((f) => f.name === field)?.doc.default ?? null;
        if ((record[field] ?? null) !== initial)
          throw unprocessable('validation_failed', `${field} is set by the approval ${approval.doc.name}`, [
            { path: pointer(field), code: 'approval_controlled', message: 'use POST …/approval/submit' },
          ]);
      },
    });
    // The `submit_approval` action: the engine submits a record on behalf of a user (a generated commission
    // statement goes to the rep's manager), in the transaction of the change that set it off.
    data.hooks.provide('submitApproval', async (tx, entity, id, submitter, lang, comment) => {
      const principal =
        typeof submitter === 'string' && UUID.test(submitter)
          ? await loadPrincipal(this.data.database, this.data.model(), submitter, tx)
          : undefined;
      if (!principal)
        throw unprocessable('invalid_reference', t(lang, 'The submitter is not an active user', '提交人不是在职用户'), [
          { path: '/submitter', code: 'invalid_reference', message: t(lang, 'no active user', '不是在职用户') },
        ]);
      return this.submit({ principal, lang }, entity, id, { comment }, tx);
    });
  }

  private approvalOf(entity: CompiledEntity) {
    return approvalsOf(this.data.model()).get(entity.name);
  }

  private required(entity: CompiledEntity, lang: Lang = 'en') {
    const approval = this.approvalOf(entity);
    if (!approval)
      throw notFound(
        'no_approval',
        t(lang, `${entity.label.en} has no approval process`, `${entity.label['zh-CN']}没有审批流程`),
      );
    return approval;
  }

  /**
   * Pending records are locked (only admins, the lock's roles and — if allowed — the current
   * approvers may change them), and the status field belongs to the approval.
   */
  private async guardChange(
    tx: Db,
    ctx: OperationContext,
    entity: CompiledEntity,
    record: Record<string, unknown>,
    changes: Record<string, unknown> | null,
  ) {
    await this.guardParents(tx, ctx, entity, [record], changes);
    const approval = this.approvalOf(entity);
    if (!approval || ctx.privileged) return;
    const field = approval.doc.statusField;
    if (field && changes && field in changes && changes[field] !== record[field]) {
      throw unprocessable('validation_failed', `${field} changes only through the approval ${approval.doc.name}`, [
        { path: pointer(field), code: 'approval_controlled', message: 'use POST …/approval/submit' },
      ]);
    }
    const [pending] = await this.pendingLocks(tx, ctx, entity, approval, [record.id as string]);
    // A pending record that is deleted takes its request with it: nobody is left deciding a binned record.
    if (pending && changes === null) {
      await tx.execute(
        sql`update approval.tasks set status = 'cancelled', decided_at = ${nowSql(tx)} where request_id = ${pending.id} and status = 'pending'`,
      );
      await tx.execute(
        sql`update approval.requests set status = 'recalled', step = null, decided_at = ${nowSql(tx)}, comment = 'record deleted' where id = ${pending.id}`,
      );
    }
  }

  /**
   * The pending requests of these records, in one query; refused (423) when the caller may not change
   * one of them — only admins, the lock's roles and, if allowed, its current approvers may.
   */
  private async pendingLocks(tx: Db, ctx: OperationContext, entity: CompiledEntity, approval: CompiledApproval, ids: string[]) {
    const lock = approval.doc.lock ?? {};
    const principal = ctx.principal!;
    const pending = await this.data.database.rows<{ id: string; approver: boolean }>(
      sql`
      select r.id, exists (select 1 from approval.tasks t where t.request_id = r.id and t.status = 'pending' and t.assignee in ${principal.selves}) as approver
      from approval.requests r where r.entity = ${entity.name} and r.record_id = any(${sql.param(ids)}::uuid[]) and r.status = 'pending'`,
      tx,
    );
    const mayChange = (p: { approver: boolean }) =>
      lock.enabled === false ||
      principal.roles.includes('admin') ||
      principal.roles.some((r) => lock.roles?.includes(r)) ||
      (lock.approvers && p.approver);
    if (pending.some((p) => !mayChange(p)))
      throw new AppError(
        423,
        'record_locked',
        t(
          ctx.lang,
          `This ${entity.label.en} is locked while its approval is pending`,
          `此${entity.label['zh-CN']}正在审批中，已锁定`,
        ),
      );
    return pending;
  }

  /**
   * The rows of a child collection (a quote's lines) are locked with their parent: adding, changing or
   * removing one of a pending record — or moving one to it — is refused as the parent's own change is.
   * The parents of all the rows are looked at together (a bulk create of lines: one query).
   */
  private async guardParents(
    tx: Db,
    ctx: OperationContext,
    entity: CompiledEntity,
    records: Record<string, unknown>[],
    changes: Record<string, unknown> | null,
  ) {
    if (ctx.privileged) return;
    for (const { parent, via } of lockingParentsOf(this.data.model()).get(entity.name) ?? []) {
      const approval = this.approvalOf(parent);
      const ids = new Set(
        [...records.map((r) => r[via]), changes?.[via]].filter((v): v is string => typeof v === 'string' && UUID.test(v)),
      );
      // The parent's own lock decides (a status-field change is not asked for: no changes of its own).
      if (approval && ids.size) await this.pendingLocks(tx, ctx, parent, approval, [...ids]);
    }
  }

  // ── submit and recall ──────────────────────────────────────────────────────

  /**
   * Submit and recall: one transaction that reads the record with the caller's read scope and then
   * locks it, so submissions and recalls of one record take turns (the partial unique index on
   * pending requests is the backstop).
   */
  private async onRecord(
    ctx: OperationContext,
    entityName: string,
    id: string,
    body: unknown,
    work: (
      tx: Db,
      entity: CompiledEntity,
      approval: CompiledApproval,
      record: Record<string, unknown>,
      comment: string | undefined,
    ) => Promise<{ request: string; record: Record<string, unknown> }>,
    outer?: Db,
  ) {
    const comment = this.comment(body);
    const entity = this.data.entity(entityName);
    const approval = this.required(entity, ctx.lang);
    const guard = this.data.guard(ctx);
    // Inside an outer transaction (the demo-data loader) this is a savepoint.
    const result = await (outer ?? this.data.database.db).transaction(async (tx) => {
      const { record } = await this.data.findWithRights(tx, guard, entity, id, []);
      await tx.execute(sql`select 1 from ${entity.table} where id = ${id} for update`);
      return work(tx, entity, approval, record, comment);
    });
    this.data.committed(entity.name);
    return { ...(await this.requestView(result.request, outer)), record: guard.strip(entity, [result.record])[0] };
  }

  async submit(ctx: OperationContext, entityName: string, id: string, body: unknown, outer?: Db) {
    return this.onRecord(
      ctx,
      entityName,
      id,
      body,
      async (tx, entity, approval, record, comment) => {
        const doc = approval.doc;
        const principal = ctx.principal;
        const mayOwner = (doc.submitters?.owner ?? true) && principal?.selves.includes(record.owner_id as string);
        const mayRole = principal?.roles.some((r) => doc.submitters?.roles?.includes(r));
        if (!ctx.privileged && !mayOwner && !mayRole) {
          throw forbidden(
            t(
              ctx.lang,
              `Only the owner${doc.submitters?.roles?.length ? ` or ${doc.submitters.roles.join(', ')}` : ''} may submit this ${entity.label.en} for approval`,
              `只有负责人${doc.submitters?.roles?.length ? `或${doc.submitters.roles.join('、')}` : ''}可以提交此${entity.label['zh-CN']}审批`,
            ),
          );
        }
        const [last] = await this.data.database.rows<{ status: string }>(
          sql`select status from approval.requests
        where entity = ${entity.name} and record_id = ${id} order by submitted_at desc, id desc limit 1`,
          tx,
        );
        if (last?.status === 'pending')
          throw conflict('approval_pending', t(ctx.lang, 'This record is already waiting for approval', '此记录已在审批中'));
        if (last?.status === 'approved')
          throw conflict('already_approved', t(ctx.lang, 'This record has been approved already', '此记录已审批通过'));
        const data = actionData(ctx, record, undefined);
        if (doc.entryCriteria !== undefined && !isTruthy(evaluateRule(doc.entryCriteria, data))) {
          const message = doc.entryMessage?.[ctx.lang] ?? 'The record does not meet the conditions for this approval';
          throw conflict('entry_criteria_not_met', message, [
            { path: '/entryCriteria', code: 'entry_criteria_not_met', message },
          ]);
        }
        const request: RequestRow = {
          id: uuidv7(),
          entity: entity.name,
          record_id: id,
          approval: doc.name,
          status: 'pending',
          step: null,
          round: 0,
          submitter: principal?.userId ?? null,
        };
        await tx.execute(sql`insert into approval.requests (id, entity, record_id, approval, status, submitter, comment, submitted_at)
        values (${request.id}, ${entity.name}, ${id}, ${doc.name}, 'pending', ${request.submitter}, ${comment ?? null}, ${nowSql(tx)})`);
        const after = await this.advance(
          tx,
          ctx,
          entity,
          approval,
          request,
          record,
          approval.next('idle', 'SUBMIT', data),
          'submit',
        );
        return { request: request.id, record: after };
      },
      outer,
    );
  }

  async recall(ctx: OperationContext, entityName: string, id: string, body: unknown, outer?: Db) {
    return this.onRecord(
      ctx,
      entityName,
      id,
      body,
      async (tx, entity, approval, record, comment) => {
        const [request] = await this.data.database.rows<RequestRow>(
          sql`select * from approval.requests
        where entity = ${entity.name} and record_id = ${id} and status = 'pending' for update`,
          tx,
        );
        if (!request) throw conflict('not_pending', t(ctx.lang, 'There is no pending approval to recall', '没有可撤回的审批'));
        if (!ctx.privileged && !ctx.principal!.selves.includes(request.submitter ?? ''))
          throw forbidden(t(ctx.lang, 'Only the submitter may recall the request', '只有提交人可以撤回审批'));
        await tx.execute(
          sql`update approval.tasks set status = 'cancelled', decided_at = ${nowSql(tx)} where request_id = ${request.id} and status = 'pending'`,
        );
        const after = await this.advance(
          tx,
          ctx,
          entity,
          approval,
          request,
          record,
          approval.next(request.step!, 'RECALL', actionData(ctx, record, undefined)),
          'recall',
          comment,
        );
        return { request: request.id, record: after };
      },
      outer,
    );
  }

  // ── decisions ──────────────────────────────────────────────────────────────

  /** Approve or reject one's task; the step's mode decides whether the request moves on. */
  async decide(ctx: OperationContext, taskId: string, decision: 'approve' | 'reject', body: unknown, outer?: Db) {
    const comment = this.comment(body);
    let entityName = '';
    const requestId = await (outer ?? this.data.database.db).transaction(async (tx) => {
      const { task, request } = await this.openTask(tx, ctx, taskId);
      entityName = request.entity;
      const entity = this.data.entity(request.entity);
      const approval = this.required(entity, ctx.lang);
      await tx.execute(sql`update approval.tasks set status = ${decision === 'approve' ? 'approved' : 'rejected'}, decided_at = ${nowSql(tx)},
        decided_by = ${ctx.principal?.userId ?? null}, comment = ${comment ?? null} where id = ${task.id}`);
      const step = approval.doc.steps.find((s) => s.name === request.step)!;
      const [votes] = await this.data.database.rows<{ approved: number; rejected: number; pending: number }>(
        sql`
        select count(*) filter (where status = 'approved')::int as approved, count(*) filter (where status = 'rejected')::int as rejected,
          count(*) filter (where status = 'pending')::int as pending
        from approval.tasks where request_id = ${request.id} and round = ${request.round}`,
        tx,
      );
      const outcome = stepOutcome(step, votes);
      if (!outcome) return request.id; // the step waits for more decisions
      await tx.execute(
        sql`update approval.tasks set status = 'cancelled', decided_at = ${nowSql(tx)} where request_id = ${request.id} and round = ${request.round} and status = 'pending'`,
      );
      const { record } = await this.data.findWithRights(tx, this.data.guard(engineContext()), entity, request.record_id, []);
      await this.advance(
        tx,
        ctx,
        entity,
        approval,
        request,
        record,
        approval.next(request.step!, outcome, actionData(ctx, record, undefined)),
        'decide',
        comment,
      );
      return request.id;
    });
    this.data.committed(entityName);
    return this.requestView(requestId, outer);
  }

  /** Hands one's task to another user (转办), who decides in one's place. */
  async delegate(ctx: OperationContext, taskId: string, body: unknown) {
    const comment = this.comment(body);
    const to = (body as { to?: unknown } | undefined)?.to;
    if (typeof to !== 'string' || !UUID.test(to))
      throw badRequest('invalid_request', t(ctx.lang, '"to" must be the id of a user', '"to" 必须是用户的 id'), [
        { path: '/to', code: 'required', message: t(ctx.lang, 'a user id', '用户 id') },
      ]);
    const requestId = await this.data.database.db.transaction(async (tx) => {
      const { task, request } = await this.openTask(tx, ctx, taskId);
      const [user] = await this.activeUsers(tx, [to]);
      if (!user)
        throw unprocessable('invalid_reference', t(ctx.lang, 'No active user with that id', '没有该 id 的在职用户'), [
          { path: '/to', code: 'invalid_reference', message: t(ctx.lang, `No active user ${to}`, `没有在职用户 ${to}`) },
        ]);
      const [dup] = await this.data.database.rows(
        sql`select 1 from approval.tasks where request_id = ${request.id} and round = ${request.round} and assignee = ${to} and status = 'pending'`,
        tx,
      );
      if (dup || to === task.assignee)
        throw conflict(
          'already_assigned',
          t(ctx.lang, 'That user already has this approval to decide', '该用户已经是此审批的审批人'),
        );
      await tx.execute(
        sql`update approval.tasks set status = 'delegated', decided_at = ${nowSql(tx)}, decided_by = ${ctx.principal?.userId ?? null}, comment = ${comment ?? null} where id = ${task.id}`,
      );
      await this.assign(tx, request, this.stepOf(request), [user], 'delegated', task.assignee);
      return request.id;
    });
    return this.requestView(requestId);
  }

  /** A task that waited too long goes to its assignee's manager (who may escalate in turn). */
  private async escalate(taskId: string) {
    await this.data.database.db.transaction(async (tx) => {
      const [task] = await this.data.database.rows<TaskRow & { manager: string | null }>(
        sql`
        select t.*, u.manager from approval.tasks t join approval.requests r on r.id = t.request_id
        left join "user" u on u.id = t.assignee
        where t.id = ${taskId} for update of r`,
        tx,
      );
      if (task?.status !== 'pending') return;
      const [request] = await this.data.database.rows<RequestRow>(
        sql`select * from approval.requests where id = ${task.request_id}`,
        tx,
      );
      const [manager] = task.manager ? await this.activeUsers(tx, [task.manager]) : [];
      if (!manager) {
        // Nobody to escalate to: the task waits on, and the owner and the log hear of it.
        await recordJobFailure(
          this.data.database,
          {
            kind: 'escalation',
            job: `approval ${request.approval}, step ${request.step}`,
            entity: this.data.entity(request.entity),
            recordId: request.record_id,
            error: new AppError(409, 'no_manager', `The approver ${task.assignee} has no active manager to escalate to`),
            reason: {
              en: 'The approver has no active manager to escalate to; the task waits for them.',
              'zh-CN': '审批人没有可上报的在职上级，任务仍由其审批。',
            },
          },
          tx,
        );
        return;
      }
      const [dup] = await this.data.database.rows(
        sql`select 1 from approval.tasks where request_id = ${request.id} and round = ${request.round} and assignee = ${manager.id} and status = 'pending'`,
        tx,
      );
      if (dup) return; // the manager already decides this step
      await tx.execute(sql`update approval.tasks set status = 'escalated', decided_at = ${nowSql(tx)} where id = ${task.id}`);
      await this.assign(tx, request, this.stepOf(request), [manager], 'escalated', task.assignee);
    });
  }

  private stepOf(request: RequestRow): ApprovalStep {
    return this.required(this.data.entity(request.entity)).doc.steps.find((s) => s.name === request.step)!;
  }

  /**
   * The caller's pending task and its request, both locked: the request row first (every operation on a
   * request takes it first, so they queue in one order and cannot deadlock), then the task row, read by
   * a statement of its own. Reading the task in the statement that waited for the request's lock would
   * see it as it was before the lock was granted — on PostgreSQL two concurrent decisions on a `first`
   * step would then both find their task pending, and both win.
   */
  private async openTask(tx: Db, ctx: OperationContext, taskId: string) {
    if (!UUID.test(taskId)) throw notFound('task_not_found', t(ctx.lang, `No approval task ${taskId}`, `没有审批任务 ${taskId}`));
    const [locked] = await this.data.database.rows<{ request_id: string }>(
      sql`select t.request_id from approval.tasks t join approval.requests r on r.id = t.request_id
      where t.id = ${taskId} for update of r`,
      tx,
    );
    if (!locked) throw notFound('task_not_found', t(ctx.lang, `No approval task ${taskId}`, `没有审批任务 ${taskId}`));
    const [task] = await this.data.database.rows<TaskRow>(sql`select * from approval.tasks where id = ${taskId} for update`, tx);
    // Delegation for a period (工作代理): the delegate acts for the assignee.
    if (!ctx.privileged && !ctx.principal!.selves.includes(task.assignee))
      throw forbidden(t(ctx.lang, 'This approval task is not yours', '这不是您的审批任务'));
    const [request] = await this.data.database.rows<RequestRow>(
      sql`select * from approval.requests where id = ${task.request_id}`,
      tx,
    );
    const closed = task.status === 'pending' ? request.status : task.status;
    if (task.status !== 'pending' || request.status !== 'pending')
      throw conflict('task_closed', t(ctx.lang, `This task is already ${closed}`, `此任务${STATUS_ZH[closed] ?? closed}`));
    return { task, request };
  }

  // ── moving a request ───────────────────────────────────────────────────────

  /**
   * Puts the request where the machine says: a step gets its approvers' tasks; an outcome closes the
   * request. The status field and the outcome's actions are written on the record.
   */
  private async advance(
    tx: Db,
    ctx: OperationContext,
    entity: CompiledEntity,
    approval: CompiledApproval,
    request: RequestRow,
    record: Record<string, unknown>,
    resting: Resting,
    cause: 'submit' | 'decide' | 'recall',
    comment?: string,
  ) {
    const doc = approval.doc;
    const status = 'step' in resting ? 'pending' : resting.outcome;
    if ('step' in resting) {
      const round = request.round + 1;
      await tx.execute(sql`update approval.requests set step = ${resting.step.name}, round = ${round} where id = ${request.id}`);
      Object.assign(request, { step: resting.step.name, round });
      const approvers = await this.resolve(tx, resting.step.approvers, request.submitter, record);
      if (!approvers.length) {
        throw conflict(
          'no_approver',
          `Nobody can decide the step "${resting.step.label[ctx.lang]}": ${describe(resting.step.approvers)} resolves to no active user`,
          [{ path: pointer('steps', resting.index, 'approvers'), code: 'no_approver', message: 'no active user' }],
        );
      }
      await this.assign(tx, request, resting.step, approvers, 'step', null);
    } else {
      await tx.execute(
        sql`update approval.requests set status = ${resting.outcome}, step = null, decided_at = ${nowSql(tx)} where id = ${request.id}`,
      );
      const submitters = await this.activeUsers(tx, request.submitter ? [request.submitter] : []);
      const title = this.title(entity, record);
      const words = {
        approved: ['approved', '已通过'],
        rejected: ['rejected', '已驳回'],
        returned: ['returned to you for changes', '已退回修改'],
        recalled: ['recalled', '已撤回'],
      }[resting.outcome];
      if (resting.outcome !== 'recalled') {
        await deliver(
          tx,
          submitters,
          {
            subject: both(`${doc.label.en}: ${title} ${words[0]}`, `${doc.label['zh-CN']}：${title} ${words[1]}`),
            body: both(
              `${title} was ${words[0]}.${comment ? ` Comment: ${comment}` : ''}`,
              `${title} ${words[1]}。${comment ? `意见：${comment}` : ''}`,
            ),
          },
          { entity: entity.name, recordId: request.record_id, template: `approval:${resting.outcome}` },
        );
      }
    }
    // The record: the status field, and the actions of submitting or of the outcome.
    const finished = 'step' in resting ? undefined : STEP_FINISHED[resting.outcome];
    const actions = [
      ...(cause === 'submit' ? (doc.actions?.submit ?? []) : []),
      ...(finished ? (doc.actions?.[finished] ?? []) : []),
    ];
    const changes = doc.statusField && record[doc.statusField] !== status ? { [doc.statusField]: status } : {};
    if (!actions.length && !Object.keys(changes).length) return record;
    const { record: after } = await runActions(this.data, this.registry, {
      tx,
      ctx: { ...ctx, privileged: true },
      entity,
      record,
      actions,
      changes,
      expected: record.version as number,
      audit: { action: 'update', note: `approval ${doc.name}: ${cause === 'submit' ? 'submitted' : status}` },
    });
    return after;
  }

  /** Creates tasks for approvers, tells them, and sets the step's escalation timers. */
  private async assign(
    tx: Db,
    request: RequestRow,
    step: ApprovalStep,
    approvers: { id: string; email: string | null }[],
    origin: 'step' | 'delegated' | 'escalated',
    from: string | null,
  ) {
    const ids = approvers.map(() => uuidv7());
    await tx.execute(
      sql`insert into approval.tasks (id, request_id, step, round, assignee, status, origin, from_user, created_at) values ${sql.join(
        approvers.map(
          (a, i) => sql`(${ids[i]}, ${request.id}, ${step.name}, ${request.round}, ${a.id}, 'pending', ${origin}, ${from}, ${nowSql(tx)})`,
        ),
        sql`, `,
      )}`,
    );
    const entity = this.data.entity(request.entity);
    const approval = this.required(entity);
    const [record] = await this.data.database.rows<Record<string, unknown>>(
      sql`select * from ${entity.table} where id = ${request.record_id}`,
      tx,
    );
    const title = this.title(entity, record ?? {});
    const message: Message = {
      subject: both(`Approval needed: ${approval.doc.label.en} – ${title}`, `待审批：${approval.doc.label['zh-CN']} – ${title}`),
      body: both(`${step.label.en}: please approve or reject ${title}.`, `${step.label['zh-CN']}：请审批 ${title}。`),
    };
    await deliver(tx, approvers, message, { entity: entity.name, recordId: request.record_id, template: 'approval:task' });
    for (const [queue, timing] of [
      [ESCALATION_QUEUE, step.escalation],
      [REMINDER_QUEUE, step.reminder],
    ] as const) {
      if (!timing) continue;
      const startAfter = new Date(Date.now() + durationMs(timing.after));
      for (const task of ids) await this.jobs.send(queue, { task }, { tx, startAfter });
    }
  }

  /** A task still waiting reminds its approver once (催办). */
  private async remind(taskId: string) {
    await this.data.database.db.transaction(async (tx) => {
      const [task] = await this.data.database.rows<TaskRow & { entity: string; record_id: string; approval: string }>(
        sql`
        select t.*, r.entity, r.record_id, r.approval from approval.tasks t join approval.requests r on r.id = t.request_id where t.id = ${taskId}`,
        tx,
      );
      if (task?.status !== 'pending') return;
      const entity = this.data.model().entity(task.entity);
      const doc = this.data.model().documents.get<ApprovalDoc>('approval', task.approval);
      if (!entity || !doc) return;
      const [record] = await this.data.database.rows<Record<string, unknown>>(
        sql`select * from ${entity.table} where id = ${task.record_id}`,
        tx,
      );
      const title = this.title(entity, record ?? {});
      await deliver(
        tx,
        await this.activeUsers(tx, [task.assignee]),
        {
          subject: both(
            `Reminder: ${doc.label.en} – ${title} is waiting for you`,
            `催办：${doc.label['zh-CN']} – ${title} 等待您审批`,
          ),
          body: both(`${title} still needs your decision.`, `${title} 仍在等待您的审批。`),
        },
        { entity: entity.name, recordId: task.record_id, template: 'approval:reminder' },
      );
    });
  }

  private title(entity: CompiledEntity, record: Record<string, unknown>) {
    return String((entity.titleField && record[entity.titleField]) ?? record.id ?? '');
  }

  private async activeUsers(tx: Db, ids: string[]) {
    if (!ids.length) return [];
    return this.data.database.rows<{ id: string; email: string | null }>(
      sql`select id, email from "user"
      where id in ${ids} and deleted_at is null and employment_status = 'active' order by username`,
      tx,
    );
  }

  /** The active users an approver specification names, for this submitter and record. */
  private async resolve(tx: Db, spec: ApproverSpec, submitter: string | null, record: Record<string, unknown>) {
    const rows = (q: ReturnType<typeof sql>) => this.data.database.rows<{ id: string }>(q, tx);
    let ids: string[] = [];
    switch (spec.type) {
      case 'users':
        ids = (await rows(sql`select id from "user" where username in ${spec.users} and deleted_at is null`)).map((r) => r.id);
        break;
      case 'role':
        ids = (await rows(sql`select id from "user" where roles @> array[${spec.role}]::text[] and deleted_at is null`)).map(
          (r) => r.id,
        );
        break;
      case 'manager':
      case 'manager_chain': {
        const levels = spec.type === 'manager' ? 1 : spec.levels;
        ids = (
          await rows(sql`with recursive chain (id, level) as (
            select manager, 1 from "user" where id = ${submitter} and manager is not null
            union all
            select u.manager, c.level + 1 from chain c join "user" u on u.id = c.id where u.manager is not null and c.level < ${levels}
          ) select id from chain order by level`)
        ).map((r) => r.id);
        break;
      }
      case 'field':
        ids = typeof record[spec.field] === 'string' ? [record[spec.field] as string] : [];
        break;
      case 'department_head': {
        // departmentsField: the heads of every department the record names (a complaint to several at once).
        const named =
          spec.departmentsField === undefined
            ? undefined
            : ([] as unknown[]).concat(record[spec.departmentsField] ?? []).filter((c): c is string => typeof c === 'string');
        if (named && !named.length) break;
        ids = (
          await rows(
            named
              ? sql`select head as id from department where code in ${named} and deleted_at is null and head is not null`
              : spec.department
                ? sql`select head as id from department where code = ${spec.department} and deleted_at is null and head is not null`
                : sql`select d.head as id from "user" u join department d on d.id = u.department where u.id = ${submitter} and d.head is not null`,
          )
        ).map((r) => r.id);
        break;
      }
    }
    return this.activeUsers(tx, [...new Set(ids)]);
  }

  private comment(body: unknown): string | undefined {
    if (body !== undefined && body !== null && (typeof body !== 'object' || Array.isArray(body)))
      throw badRequest('invalid_body', 'Send { "comment"? }');
    const comment = (body as { comment?: unknown } | undefined)?.comment;
    if (comment !== undefined && (typeof comment !== 'string' || comment.length > 2000))
      throw badRequest('invalid_request', 'comment must be text of at most 2000 characters', [
        { path: '/comment', code: 'invalid', message: 'text, at most 2000 characters' },
      ]);
    return comment as string | undefined;
  }

  // ── reading ────────────────────────────────────────────────────────────────

  private async requestView(id: string, tx?: Db) {
    const [request] = await this.data.database.rows<Record<string, unknown>>(
      sql`select id, approval, entity, record_id as "recordId", status, step, round,
      submitter, submitted_at as "submittedAt", decided_at as "decidedAt", comment from approval.requests where id = ${id}`,
      tx,
    );
    const tasks = await this.tasksOf([id], tx);
    return { request: { ...iso(request), tasks: this.withStepLabels(String(request?.approval), tasks) } };
  }

  /** Each task with its step's label (a reader sees "Manager approval", not the step's code). */
  private withStepLabels(approval: string, tasks: Record<string, unknown>[]) {
    const steps = this.data.model().documents.get<ApprovalDoc>('approval', approval)?.steps ?? [];
    return tasks.map((task) => ({ ...task, stepLabel: steps.find((s) => s.name === task.step)?.label ?? null }));
  }

  private async tasksOf(requests: string[], tx?: Db) {
    if (!requests.length) return [];
    const rows = await this.data.database.rows<Record<string, unknown>>(
      sql`select t.id, t.request_id as "requestId", t.step, t.round, t.assignee,
        u.display_name as "assigneeName", t.status, t.origin, t.from_user as "fromUser", t.created_at as "createdAt", t.decided_at as "decidedAt",
        t.decided_by as "decidedBy", t.comment
      from approval.tasks t left join "user" u on u.id = t.assignee where t.request_id in ${requests} order by t.created_at, t.id`,
      tx,
    );
    return rows.map(iso);
  }

  /**
   * Where the record stands and what the caller may do about it (what a record page needs to show
   * "Submit for approval", "Recall" or "Approve / Reject"): the latest request, whether the caller may
   * submit now (and why not), may recall, and the caller's open task.
   */
  async state(ctx: OperationContext, entityName: string, id: string) {
    const entity = this.data.entity(entityName);
    const approval = this.required(entity, ctx.lang);
    const record = await this.data
      .findWithRights(this.data.database.db, this.data.guard(ctx), entity, id, [])
      .then((r) => r.record);
    const [latest] = await this.data.database.rows<{
      id: string;
      status: string;
      step: string | null;
      submitter: string | null;
    }>(sql`
      select id, status, step, submitter from approval.requests where entity = ${entity.name} and record_id = ${id} order by submitted_at desc, id desc limit 1`);
    const doc = approval.doc;
    const principal = ctx.principal;
    const reasons: { code: string; message: string }[] = [];
    const mayOwner = (doc.submitters?.owner ?? true) && principal?.selves.includes(record.owner_id as string);
    if (!ctx.privileged && !mayOwner && !principal?.roles.some((r) => doc.submitters?.roles?.includes(r)))
      reasons.push({
        code: 'forbidden',
        message: t(ctx.lang, 'Only the owner or the listed roles may submit', '只有负责人或指定角色可以提交审批'),
      });
    if (latest?.status === 'pending')
      reasons.push({ code: 'approval_pending', message: t(ctx.lang, 'This record is already waiting for approval', '此记录已在审批中') });
    if (latest?.status === 'approved')
      reasons.push({ code: 'already_approved', message: t(ctx.lang, 'This record has been approved already', '此记录已审批通过') });
    if (doc.entryCriteria !== undefined && !isTruthy(evaluateRule(doc.entryCriteria, actionData(ctx, record, undefined)))) {
      reasons.push({
        code: 'entry_criteria_not_met',
        message: doc.entryMessage?.[ctx.lang] ?? 'The record does not meet the conditions for this approval',
      });
    }
    const [task] =
      latest?.status === 'pending' && principal
        ? await this.data.database.rows<{ id: string }>(
            sql`select id from approval.tasks where request_id = ${latest.id} and status = 'pending' and assignee in ${principal.selves} order by created_at limit 1`,
          )
        : [];
    return {
      approval: doc.name,
      label: doc.label,
      status: latest?.status ?? 'none',
      step: latest?.step ?? null,
      stepLabel: doc.steps.find((st) => st.name === latest?.step)?.label ?? null,
      canSubmit: reasons.length === 0,
      reasons,
      canRecall:
        latest?.status === 'pending' && (Boolean(ctx.privileged) || Boolean(principal?.selves.includes(latest.submitter ?? ''))),
      task: task?.id ?? null,
    };
  }

  /** Every request on the record with its tasks, newest first, for whoever can read the record. */
  async history(ctx: OperationContext, entityName: string, id: string) {
    const entity = this.data.entity(entityName);
    await this.data.get(ctx, entityName, id, { fields: 'id' });
    const requests = await this.data.database.rows<
      Record<string, unknown> & { id: string }
    >(sql`select id, approval, status, step, round, submitter,
        submitted_at as "submittedAt", decided_at as "decidedAt", comment
      from approval.requests where entity = ${entity.name} and record_id = ${id} order by submitted_at desc, id desc`);
    const tasks = await this.tasksOf(requests.map((r) => r.id));
    return requests.map((r) => ({
      ...iso(r),
      tasks: this.withStepLabels(
        String(r.approval),
        tasks.filter((t) => t.requestId === r.id),
      ),
    }));
  }

  /** The caller's pending approval tasks (and those of whoever they stand in for), oldest first. */
  async inbox(ctx: OperationContext) {
    const principal = ctx.principal!;
    const rows = await this.data.database.rows<
      Record<string, unknown> & { entity: string; recordId: string; approval: string; step: string }
    >(sql`
      select t.id, t.step, t.assignee, t.origin, t.created_at as "createdAt", r.id as "requestId", r.approval, r.entity, r.record_id as "recordId",
        r.submitter, s.display_name as "submitterName", r.submitted_at as "submittedAt"
      from approval.tasks t join approval.requests r on r.id = t.request_id left join "user" s on s.id = r.submitter
      where t.assignee in ${principal.selves} and t.status = 'pending' order by t.created_at, t.id limit 200`);
    // Titles: one query per entity, not per task.
    const titles = new Map<string, string>();
    for (const name of new Set(rows.map((r) => r.entity))) {
      const entity = this.data.model().entity(name);
      if (!entity) continue;
      const ids = rows.filter((r) => r.entity === name).map((r) => r.recordId);
      const found = await this.data.database.rows<{ id: string; title: unknown }>(
        sql`select id, ${entity.titleField ? sql.identifier(entity.titleField) : sql`id`}::text as title from ${entity.table} where id in ${ids}`,
      );
      for (const f of found) titles.set(f.id, String(f.title ?? ''));
    }
    return rows.map((r) => {
      const doc = this.data.model().documents.get<ApprovalDoc>('approval', r.approval);
      return {
        ...iso(r),
        title: titles.get(r.recordId) ?? null,
        approvalLabel: doc?.label ?? null,
        stepLabel: doc?.steps.find((s) => s.name === r.step)?.label ?? null,
      };
    });
  }

  /**
   * One task with the record to decide on. While the task is open its approver sees the approval's
   * `fields` (default: the title and status fields), read-only, even without a grant on the entity — plus
   * whatever their own roles let them read. Once the task is closed (decided, delegated, escalated,
   * cancelled) the task no longer opens the record: only the approver's own rights do.
   */
  async task(ctx: OperationContext, taskId: string) {
    if (!UUID.test(taskId)) throw notFound('task_not_found', t(ctx.lang, `No approval task ${taskId}`, `没有审批任务 ${taskId}`));
    const [task] = await this.data.database.rows<{
      requestId: string;
      assignee: string;
      entity: string;
      recordId: string;
      status: string;
      requestStatus: string;
      approval: string;
    }>(sql`
      select t.id, t.request_id as "requestId", t.assignee, t.status, r.status as "requestStatus", r.approval, r.entity, r.record_id as "recordId"
      from approval.tasks t join approval.requests r on r.id = t.request_id where t.id = ${taskId}`);
    if (!task || (!ctx.privileged && !ctx.principal!.selves.includes(task.assignee)))
      throw notFound('task_not_found', t(ctx.lang, `No approval task ${taskId} of yours`, `没有您的审批任务 ${taskId}`));
    const entity = this.data.entity(task.entity);
    const open = task.status === 'pending' && task.requestStatus === 'pending';
    const guard = this.data.guard(ctx);
    let record: Record<string, unknown> | null = null;
    let approverFields: string[] = [];
    if (open) {
      const doc = this.data.model().documents.get<ApprovalDoc>('approval', task.approval);
      approverFields = doc?.fields ?? [entity.titleField, doc?.statusField].filter((f): f is string => Boolean(f));
      const full = await this.data.get(engineContext(ctx.lang), task.entity, task.recordId);
      const readable = guard.readable(entity);
      const shown = new Set([...SYSTEM_FIELDS, ...approverFields]);
      record = Object.fromEntries(Object.entries(full).filter(([k]) => shown.has(k) || readable(k)));
    } else {
      // Closed: the record as the caller's own rights show it, if at all.
      record = await this.data.get(ctx, task.entity, task.recordId).catch((e) => {
        if (e instanceof AppError && (e.status === 404 || e.status === 403)) return null;
        throw e;
      });
    }
    return { ...(await this.requestView(task.requestId)), task: taskId, taskOpen: open, approverFields, record };
  }
}

function describe(spec: ApproverSpec) {
  switch (spec.type) {
    case 'users':
      return `the users ${spec.users.join(', ')}`;
    case 'role':
      return `the role ${spec.role}`;
    case 'manager':
      return "the submitter's manager";
    case 'manager_chain':
      return `the submitter's managers (${spec.levels} levels)`;
    case 'field':
      return `the field ${spec.field}`;
    case 'department_head':
      return spec.departmentsField
        ? `the heads of the departments in ${spec.departmentsField}`
        : spec.department
          ? `the head of ${spec.department}`
          : "the head of the submitter's department";
  }
}

/** Timestamps as ISO strings whatever the driver returned. */
function iso<T extends Record<string, unknown>>(row: T): T {
  const out: Record<string, unknown> = { ...row };
  for (const k of ['submittedAt', 'decidedAt', 'createdAt'])
    if (out[k] != null) out[k] = new Date(out[k] as string).toISOString();
  return out as T;
}
