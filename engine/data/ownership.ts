/**
 * Who owns a record and who else may see it: assignment and transfer (客户分配 / 客户转移), sharing,
 * work delegation (工作代理) and the hand-over of a leaving user's records. Every change is audited;
 * assignments also go to the assignment log.
 */
import { assertAssignable } from './pipeline.js';
import { apiRows } from '../db/api-rows.js';
import { and, eq, isNull, sql, type SQL } from 'drizzle-orm';
import { AppError, badRequest, notFound, unprocessable } from '../errors.js';
import type { CompiledEntity } from '../model/compile.js';
import { UUID, uuidv7 } from '../model/ids.js';
import { forbidden } from '../access/policy.js';
import type { Principal } from '../access/principal.js';
import { writeAudit, type AuditEntry } from '../audit/log.js';
import { compileFilter } from '../rules/to-sql.js';
import { columnText, filterScope, selectFrom } from './query.js';
import { decodeRows } from './records.js';
import type { Assigned } from './hooks.js';
import type { DataService, OperationContext } from './service.js';
import type { Db } from '../db/database.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const all = (...c: (SQL | undefined)[]) => and(...c.filter((x): x is SQL => x !== undefined));

export class OwnershipService {
  /**
   * @param onDelegationChange called when delegations change: the principals built from them must be rebuilt
   *   (auth sits above data, so it is handed in at construction rather than imported).
   */
  constructor(
    private readonly data: DataService,
    private readonly onDelegationChange: () => Promise<void> = async () => {},
  ) {
    data.hooks.provide('shareRecord', (tx, entity, id, user, access, note, source) =>
      this.shareAsEngine(tx, entity, id, user, access, note, source),
    );
    data.hooks.provide('unshareRecord', (tx, entity, id, user, note, source) =>
      this.unshareAsEngine(tx, entity, id, user, note, source),
    );
    data.hooks.provide('assignRecord', (tx, ctx, entity, id, to, note) => this.assignAsEngine(tx, ctx, entity, id, to, note));
  }

  private users(): CompiledEntity {
    return this.data.entity('user');
  }

  /** A live, active user, or a 422 pointing at `path`. */
  private async activeUser(tx: Db, id: unknown, path: string): Promise<string> {
    const users = this.users();
    if (typeof id !== 'string' || !UUID.test(id))
      throw unprocessable('invalid_reference', 'Not a user id', [
        { path, code: 'invalid_reference', message: 'must be a user id' },
      ]);
    const [u] = await tx
      .select({ id: users.columns.id, status: users.columns.employment_status })
      .from(users.table)
      .where(and(eq(users.columns.id, id), isNull(users.columns.deleted_at)));
    if (u?.status !== 'active')
      throw unprocessable('invalid_reference', 'The user does not exist or has left', [
        { path, code: 'invalid_reference', message: `no active user ${id}` },
      ]);
    return id;
  }

  /**
   * Changes the owner of the records the caller may assign: one record (`id`), or in bulk those
   * matching `from` (all of one rep's records) and/or a json-logic `filter`.
   */
  async assign(ctx: OperationContext, entityName: string, body: unknown, id?: string) {
    const entity = this.data.entity(entityName);
    const guard = this.data.guard(ctx);
    if (!isObject(body)) throw badRequest('invalid_body', 'Send { "to": userId, "reason"?: text }');
    const { to, from, filter, reason } = body;
    if (reason !== undefined && (typeof reason !== 'string' || reason.length > 500))
      throw badRequest('invalid_request', 'reason must be text of at most 500 characters', [
        { path: '/reason', message: 'invalid' },
      ]);
    if (!id && from === undefined && filter === undefined)
      throw badRequest('invalid_request', 'A bulk assignment needs "from" or "filter"', [
        { path: '/from', message: 'required without filter' },
      ]);
    const scope = guard.condition(entity, 'assign');
    const read = guard.condition(entity, 'read');
    const result = await this.data.database.db.transaction(async (tx) => {
      const toUser = await this.activeUser(tx, to, '/to');
      const conditions: (SQL | undefined)[] = [isNull(entity.columns.deleted_at), scope];
      if (id) {
        if (!UUID.test(id)) throw notFound('record_not_found', `No ${entity.name} with id ${id}`);
        conditions.push(eq(entity.columns.id, id));
      }
      if (from !== undefined) {
        if (typeof from !== 'string' || !UUID.test(from))
          throw badRequest('invalid_request', 'from must be a user id', [{ path: '/from', message: 'must be a user id' }]);
        conditions.push(eq(entity.columns.owner_id, from));
      }
      if (filter !== undefined) {
        const checkReadable = guard.checkReadable(entity);
        try {
          conditions.push(
            compileFilter(
              filter,
              filterScope(entity, { $user: ctx.principal?.context ?? {}, $now: new Date().toISOString() }, checkReadable),
            ),
          );
        } catch (e) {
          const err = e as { details?: { path: string }[] };
          if (err.details) err.details = err.details.map((d) => ({ ...d, path: '/filter' + d.path }));
          throw e;
        }
      }
      const t = entity.table;
      const c = entity.columns;
      const rows = await this.reassign(tx, entity, conditions, toUser, guard.userId);
      if (id && !rows.length) {
        // Nothing changed: already theirs, not assignable by the caller, or not visible at all.
        const [visible] = await tx
          .select({ owner: c.owner_id, assignable: scope ? sql<boolean>`coalesce(${scope}, false)` : sql<boolean>`true` })
          .from(t)
          .where(all(eq(c.id, id), isNull(c.deleted_at), read));
        if (!visible) throw notFound('record_not_found', `No ${entity.name} with id ${id}`);
        if (!visible.assignable) throw forbidden(`You may not assign this ${entity.name}`);
      }
      if (!guard.privileged && !ctx.principal?.selves.includes(toUser))
        await assertAssignable(
          tx,
          guard,
          entity,
          rows.map((r) => r.id),
          ctx.lang,
          '/to',
        );
      await this.logAssignments(tx, entity, rows, toUser, guard.userId, typeof reason === 'string' ? reason : null);
      await this.data.hooks.afterAssign(tx, ctx, entity, assignedRecords(this.data, tx, entity, rows));
      return { assigned: rows.length, to: toUser, ids: rows.map((r) => r.id) };
    });
    this.data.committed(entity.name);
    return result;
  }

  /** The owner change itself; the old owner comes from the same statement, so the log can't disagree with the change. */
  private reassign(tx: Db, entity: CompiledEntity, conditions: (SQL | undefined)[], toUser: string, actor: string | null) {
    const t = entity.table;
    const c = entity.columns;
    return this.data.database.rows<{ id: string; version: number; from_owner: string | null }>(
      sql`update ${t} set owner_id = ${toUser}, version = ${t}.version + 1, updated_at = now(), updated_by = ${actor}
          from (select ${c.id} as rid, ${c.owner_id} as old_owner from ${t} where ${all(...conditions)} for update) old
          where ${t}.id = old.rid and old.old_owner is distinct from ${toUser}::uuid
          returning ${t}.id, ${t}.version, old.old_owner as from_owner`,
      tx,
    );
  }

  /**
   * The `assign` action of workflows and automations: the engine gives one record to an active user in
   * the change's transaction — the same owner change, assignment log, audit and owner automations as
   * the API's, with `note` (which automation or workflow did it) as the reason.
   */
  async assignAsEngine(tx: Db, ctx: OperationContext, entityName: string, id: string, to: unknown, note: string) {
    const entity = this.data.entity(entityName);
    const toUser = await this.activeUser(tx, to, '/to');
    if (!UUID.test(id)) throw notFound('record_not_found', `No ${entity.name} with id ${id}`);
    const rows = await this.reassign(tx, entity, [isNull(entity.columns.deleted_at), eq(entity.columns.id, id)], toUser, null);
    await this.logAssignments(tx, entity, rows, toUser, null, note);
    await this.data.hooks.afterAssign(tx, ctx, entity, assignedRecords(this.data, tx, entity, rows));
    return { assigned: rows.length, to: toUser };
  }

  /**
   * The `share` action: shares a record with a user for reading or editing, as the engine, in the
   * change's transaction (a temporary sales team's member gets the deal). Audited with `note`. The share
   * is recorded under `source` (what gave it: `sales_team:<id>`), beside any other share of the user.
   */
  async shareAsEngine(
    tx: Db,
    entityName: string,
    id: string,
    user: unknown,
    access: 'read' | 'edit',
    note: string,
    source: string,
  ) {
    const entity = this.data.entity(entityName);
    const target = await this.activeUser(tx, user, '/to');
    if (!UUID.test(id)) throw notFound('record_not_found', `No ${entity.name} with id ${id}`);
    await findActiveId(tx, entity, id);
    await tx.execute(sql`insert into auth.shares (id, entity, record_id, user_id, department_id, access, created_by, source)
        values (${uuidv7()}, ${entity.name}, ${id}, ${target}, ${null}, ${access}, ${null}, ${source})
        on conflict (entity, record_id, coalesce(user_id, department_id), coalesce(source, '')) do update set access = excluded.access`);
    await writeAudit(tx, [
      {
        entity: entity.name,
        recordId: id,
        action: 'share',
        actor: null,
        changes: { [`share:user:${target}`]: [null, access] },
        note,
      },
    ]);
  }

  /**
   * The `unshare` action: removes the user's share of a record that `source` gave — without a source,
   * every share a workflow or automation gave; a share made by hand stays (nothing to do when none).
   */
  async unshareAsEngine(tx: Db, entityName: string, id: string, user: unknown, note: string, source?: string) {
    const entity = this.data.entity(entityName);
    if (typeof user !== 'string' || !UUID.test(user) || !UUID.test(id)) return;
    const rows = await this.data.database.rows<{ access: string }>(
      sql`delete from auth.shares where entity = ${entity.name} and record_id = ${id}::uuid and user_id = ${user}::uuid
          and ${source === undefined ? sql`source is not null` : sql`source = ${source}`} returning access`,
      tx,
    );
    if (rows.length)
      await writeAudit(tx, [
        {
          entity: entity.name,
          recordId: id,
          action: 'unshare',
          actor: null,
          changes: { [`share:user:${user}`]: [rows[0].access, null] },
          note,
        },
      ]);
  }

  private async logAssignments(
    tx: Db,
    entity: CompiledEntity,
    rows: { id: string; version: number; from_owner: string | null }[],
    to: string,
    actor: string | null,
    reason: string | null,
  ) {
    if (!rows.length) return;
    const values = rows.map((r) => sql`(${entity.name}, ${r.id}, ${r.from_owner}, ${to}, ${actor}, ${reason})`);
    await tx.execute(
      sql`insert into audit.assignments (entity, record_id, from_owner, to_owner, actor, reason) values ${sql.join(values, sql`, `)}`,
    );
    await writeAudit(
      tx,
      rows.map(
        (r): AuditEntry => ({
          entity: entity.name,
          recordId: r.id,
          version: Number(r.version),
          action: 'assign',
          actor,
          changes: { owner_id: [r.from_owner, to] },
          note: reason ?? undefined,
        }),
      ),
    );
  }

  async assignmentLog(ctx: OperationContext, entityName: string, id: string) {
    await this.data.history(ctx, entityName, id); // the same visibility as the record's history
    return apiRows(
      await this.data.database.rows(sql`select id, from_owner, to_owner, actor, at, reason from audit.assignments
      where entity = ${entityName} and record_id = ${id} order by id desc`),
      ['id'],
    );
  }

  // ── sharing ──

  async share(ctx: OperationContext, entityName: string, id: string, body: unknown) {
    const entity = this.data.entity(entityName);
    const guard = this.data.guard(ctx);
    if (!isObject(body)) throw badRequest('invalid_body', 'Send { "user" | "department": id, "access": "read" | "edit" }');
    const { user, department, access } = body;
    const details = [];
    if ((user === undefined) === (department === undefined))
      details.push({ path: '/user', message: 'give exactly one of user or department' });
    if (access !== 'read' && access !== 'edit') details.push({ path: '/access', message: 'must be "read" or "edit"' });
    if (details.length) throw badRequest('invalid_request', 'The share is invalid', details);
    return this.data.database.db.transaction(async (tx) => {
      await this.assertShareable(tx, ctx, entity, id);
      let target: string;
      if (user !== undefined) target = await this.activeUser(tx, user, '/user');
      else {
        const depts = this.data.entity('department');
        const [d] =
          typeof department === 'string' && UUID.test(department)
            ? await tx
                .select({ id: depts.columns.id })
                .from(depts.table)
                .where(and(eq(depts.columns.id, department), isNull(depts.columns.deleted_at)))
            : [];
        if (!d)
          throw unprocessable('invalid_reference', 'No such department', [
            { path: '/department', code: 'invalid_reference', message: 'no such department' },
          ]);
        target = department as string;
      }
      const shareId = uuidv7();
      const [row] = await this.data.database.rows<{ id: string }>(
        sql`insert into auth.shares (id, entity, record_id, user_id, department_id, access, created_by)
            values (${shareId}, ${entity.name}, ${id}, ${user !== undefined ? target : null}, ${department !== undefined ? target : null}, ${access as string}, ${guard.userId})
            on conflict (entity, record_id, coalesce(user_id, department_id), coalesce(source, '')) do update set access = excluded.access returning id`,
        tx,
      );
      await writeAudit(tx, [
        {
          entity: entity.name,
          recordId: id,
          action: 'share',
          actor: guard.userId,
          changes: { [user !== undefined ? `share:user:${target}` : `share:department:${target}`]: [null, access] },
        },
      ]);
      return { id: row.id, entity: entity.name, record: id, user: user ?? null, department: department ?? null, access };
    });
  }

  async shares(ctx: OperationContext, entityName: string, id: string) {
    const entity = this.data.entity(entityName);
    await this.data.get(ctx, entity.name, id, { fields: 'id' });
    return apiRows(
      await this.data.database.rows(sql`select id, user_id as "user", department_id as department, access, source, created_by, created_at
      from auth.shares where entity = ${entity.name} and record_id = ${id} order by created_at`),
    );
  }

  async unshare(ctx: OperationContext, entityName: string, id: string, shareId: string) {
    const entity = this.data.entity(entityName);
    const guard = this.data.guard(ctx);
    return this.data.database.db.transaction(async (tx) => {
      await this.assertShareable(tx, ctx, entity, id);
      const rows = await this.data.database.rows<{ user_id: string | null; department_id: string | null; access: string }>(
        sql`delete from auth.shares where id = ${UUID.test(shareId) ? shareId : null}::uuid and entity = ${entity.name} and record_id = ${id} returning user_id, department_id, access`,
        tx,
      );
      if (!rows.length) throw notFound('share_not_found', 'No such share on this record');
      const r = rows[0];
      await writeAudit(tx, [
        {
          entity: entity.name,
          recordId: id,
          action: 'unshare',
          actor: guard.userId,
          changes: { [r.user_id ? `share:user:${r.user_id}` : `share:department:${r.department_id}`]: [r.access, null] },
        },
      ]);
      return { removed: shareId };
    });
  }

  private async assertShareable(tx: Db, ctx: OperationContext, entity: CompiledEntity, id: string) {
    const guard = this.data.guard(ctx);
    guard.assertCan(entity, 'share');
    const read = guard.condition(entity, 'read');
    const share = guard.condition(entity, 'share');
    if (!UUID.test(id)) throw notFound('record_not_found', `No ${entity.name} with id ${id}`);
    const [row] = await tx
      .select({ ok: share ? sql<boolean>`coalesce(${share}, false)` : sql<boolean>`true` })
      .from(entity.table)
      .where(all(eq(entity.columns.id, id), isNull(entity.columns.deleted_at), read));
    if (!row) throw notFound('record_not_found', `No ${entity.name} with id ${id}`);
    if (!row.ok) throw forbidden(`You may not share this ${entity.name}`);
  }

  // ── delegation and hand-over ──

  /** A delegation lets `delegate` act as `delegator` for a period. Users delegate their own work; managers of users anyone's. */
  async delegate(ctx: OperationContext, body: unknown) {
    const principal = this.requireUser(ctx);
    if (!isObject(body)) throw badRequest('invalid_body', 'Send { "delegator"?, "delegate", "startsAt", "endsAt" }');
    const delegator = body.delegator ?? principal.userId;
    const { delegate, startsAt, endsAt } = body;
    if (delegator !== principal.userId && !principal.system.has('users.manage'))
      throw forbidden('Only user managers may delegate someone else’s work', [{ path: '/delegator', message: 'not you' }]);
    const details = [];
    const start = typeof startsAt === 'string' ? Date.parse(startsAt) : NaN;
    const end = typeof endsAt === 'string' ? Date.parse(endsAt) : NaN;
    if (Number.isNaN(start)) details.push({ path: '/startsAt', message: 'an ISO 8601 date-time' });
    if (Number.isNaN(end)) details.push({ path: '/endsAt', message: 'an ISO 8601 date-time' });
    if (!details.length && end <= start) details.push({ path: '/endsAt', message: 'must be after startsAt' });
    if (delegate === delegator) details.push({ path: '/delegate', message: 'cannot delegate to oneself' });
    if (details.length) throw badRequest('invalid_request', 'The delegation is invalid', details);
    const id = uuidv7();
    await this.data.database.db.transaction(async (tx) => {
      await this.activeUser(tx, delegate, '/delegate');
      const users = this.users();
      const [d] =
        typeof delegator === 'string' && UUID.test(delegator)
          ? await tx.select({ id: users.columns.id }).from(users.table).where(eq(users.columns.id, delegator))
          : [];
      if (!d)
        throw unprocessable('invalid_reference', 'No such delegator', [
          { path: '/delegator', code: 'invalid_reference', message: 'no such user' },
        ]);
      await tx.execute(sql`insert into auth.delegations (id, delegator, delegate, starts_at, ends_at, created_by)
        values (${id}, ${delegator as string}, ${delegate as string}, ${new Date(start).toISOString()}::timestamptz, ${new Date(end).toISOString()}::timestamptz, ${principal.userId})`);
    });
    await this.onDelegationChange();
    return { id, delegator, delegate, startsAt: new Date(start).toISOString(), endsAt: new Date(end).toISOString() };
  }

  async delegations(ctx: OperationContext) {
    const principal = this.requireUser(ctx);
    const mine = principal.system.has('users.manage')
      ? sql`true`
      : sql`(delegator = ${principal.userId} or delegate = ${principal.userId})`;
    return apiRows(
      await this.data.database.rows(sql`select id, delegator, delegate, starts_at as "startsAt", ends_at as "endsAt", revoked_at as "revokedAt", created_by as "createdBy"
      from auth.delegations where ${mine} order by starts_at desc limit 200`),
    );
  }

  async revokeDelegation(ctx: OperationContext, id: string) {
    const principal = this.requireUser(ctx);
    const mine = principal.system.has('users.manage') ? sql`true` : sql`delegator = ${principal.userId}`;
    const rows = await this.data.database.rows(sql`update auth.delegations set revoked_at = now()
      where id = ${UUID.test(id) ? id : null}::uuid and revoked_at is null and ${mine} returning id`);
    if (!rows.length) throw notFound('delegation_not_found', 'No such active delegation of yours');
    await this.onDelegationChange();
    return { revoked: id };
  }

  /**
   * Hands every record a user owns, in every entity, to another user for good (a rep leaves):
   * one audited, logged bulk assignment per entity, in one transaction.
   */
  async handOver(ctx: OperationContext, userId: string, body: unknown) {
    const principal = this.requireUser(ctx);
    if (!principal.system.has('users.manage')) throw forbidden('Handing over a user’s records needs the users.manage right');
    if (!isObject(body)) throw badRequest('invalid_body', 'Send { "to": userId, "reason"?: text }');
    if (!UUID.test(userId)) throw notFound('record_not_found', `No user with id ${userId}`);
    const reason = typeof body.reason === 'string' ? body.reason : 'hand-over';
    const result = await this.data.database.db.transaction(async (tx) => {
      const to = await this.activeUser(tx, body.to, '/to');
      const counts: Record<string, number> = {};
      for (const entity of this.data.entities()) {
        const t = entity.table;
        const rows = await this.data.database.rows<{ id: string; version: number; from_owner: string | null }>(
          sql`update ${t} set owner_id = ${to}, version = ${t}.version + 1, updated_at = now(), updated_by = ${principal.userId}
              where owner_id = ${userId} and deleted_at is null returning id, version, ${userId}::uuid as from_owner`,
          tx,
        );
        await this.logAssignments(tx, entity, rows, to, principal.userId, reason);
        if (rows.length) counts[entity.name] = rows.length;
      }
      return { from: userId, to, reassigned: counts };
    });
    for (const name of Object.keys(result.reassigned)) this.data.committed(name);
    return result;
  }

  private requireUser(ctx: OperationContext): Principal {
    if (!ctx.principal) throw new AppError(401, 'unauthenticated', 'Log in first');
    return ctx.principal;
  }
}

/** A live record of the entity, or 404 (the engine shares only what exists). */
async function findActiveId(tx: Db, entity: CompiledEntity, id: string) {
  const [row] = await tx
    .select({ id: entity.columns.id })
    .from(entity.table)
    .where(and(eq(entity.columns.id, id), isNull(entity.columns.deleted_at)));
  if (!row) throw notFound('record_not_found', `No ${entity.name} with id ${id}`);
}

/** What the record hooks learn of an assignment; the rows are read only if a hook asks. */
function assignedRecords(
  data: DataService,
  tx: Db,
  entity: CompiledEntity,
  rows: { id: string; from_owner: string | null }[],
): Assigned {
  const ids = rows.map((r) => r.id);
  let read: Promise<Record<string, unknown>[]> | undefined;
  return {
    ids,
    formerOwners: new Map(rows.map((r) => [r.id, r.from_owner])),
    rows: () => {
      read ??= data.database
        .rows(sql`${selectFrom(entity, entity.columnNames)} where ${sql.raw(columnText(entity, 'id'))} in ${ids}`, tx)
        .then((raw) => decodeRows(entity, raw));
      return read;
    },
  };
}
