/**
 * The operation pipeline for records. Every read and write — REST, UI, workflows, imports, plugins —
 * calls these operations:
 *   resolve entity → authorize (action granted? scope → SQL where; readable/writable fields)
 *   → validate (ajv + json-logic rules) → compute (formulas) → write in a transaction, with its audit
 *   entries → shape output (strip unreadable fields).
 * Each operation is a few statements, never one per row (no N+1).
 */
import { and, eq, inArray, isNotNull, isNull, sql, type SQL } from 'drizzle-orm';
import type { Database, Db } from '../db/database.js';
import { AppError, badRequest, conflict, notFound, pointer, unprocessable, type ErrorDetail } from '../errors.js';
import type { AppModel, CompiledEntity } from '../model/compile.js';
import { UUID, uuidv7 } from '../model/ids.js';
import type { Principal } from '../access/principal.js';
import { Guard } from '../access/guard.js';
import { forbidden } from '../access/policy.js';
import { diff, writeAudit, type AuditEntry } from '../audit/log.js';
import { decodeRows, toColumnValues, toRecord } from './records.js';
import { columnRef, deletedCondition, effectiveSort, encodeCursor, keysetCondition, orderBy, parseListParams, selectFrom, whereConditions } from './query.js';
import { pageJson, parseRecord, selectJson, sortKeyOf, type JsonRow } from './render.js';
import { ruleViolations, schemaErrors, type Lang } from './validation.js';
import type { RegistryView } from '../registry/types.js';
import type { AutomationDoc, WorkflowAction } from '../../metadata/kinds.js';
import { evaluateRule, isTruthy } from '../rules/evaluate.js';

export interface OperationContext {
  /** The acting user. */
  principal: Principal | null;
  /** The engine's own calls skip permission checks — and must say so: this is never the default. */
  privileged?: boolean;
  lang: Lang;
}

/** The explicitly privileged context of the engine itself (seeding, cascades, jobs). */
export const engineContext = (lang: Lang = 'en'): OperationContext => ({ principal: null, privileged: true, lang });

export interface Page {
  data: Record<string, unknown>[];
  nextCursor: string | null;
  total?: number;
}

export const MAX_BULK = 1000;
/** PostgreSQL accepts at most 65,535 bound parameters per statement. */
const MAX_PARAMS = 65_000;

const MAX_AUTOMATION_DEPTH = 5;

const automationCache = new WeakMap<AppModel, Map<string, AutomationDoc[]>>();
/** The model's automations by entity, in name order. */
function automationsOf(model: AppModel) {
  let byEntity = automationCache.get(model);
  if (!byEntity) {
    byEntity = new Map();
    for (const a of model.documents.all<AutomationDoc>('automation').sort((x, y) => x.name.localeCompare(y.name))) {
      byEntity.set(a.entity, [...(byEntity.get(a.entity) ?? []), a]);
    }
    automationCache.set(model, byEntity);
  }
  return byEntity;
}

/** Any action may carry `when` (json-logic over the action's data): it is skipped when that does not hold. */
export const actionApplies = (action: WorkflowAction, data: Record<string, unknown>) => action.when === undefined || isTruthy(evaluateRule(action.when, data));

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const notFoundRecord = (entity: CompiledEntity, id: string) => notFound('record_not_found', `No ${entity.name} with id ${id}`);
/** A condition that may be absent (unrestricted). */
const all = (...conditions: (SQL | undefined)[]) => and(...conditions.filter((c): c is SQL => c !== undefined));

export class DataService {
  /** Called after a committed write (the auth service listens for changes to users and departments). */
  onWrite: (entity: string) => void = () => {};
  /** Queues an after-commit action in the transaction (set by the after-commit runner). */
  deferAction?: (tx: Db, job: { action: WorkflowAction; entity: string; record: Record<string, unknown>; data: Record<string, unknown> }) => Promise<unknown>;

  /**
   * The one way side-effect actions run (automations, schedules, workflows, approvals): skipped when
   * their `when` does not hold; queued in the transaction when they are after-commit (the action
   * type's or the document's choice); otherwise run now, in the transaction.
   */
  async runAction(tx: Db, ctx: OperationContext, entity: string, action: WorkflowAction, record: Record<string, unknown>, data: Record<string, unknown>, depth = 0): Promise<unknown> {
    if (!actionApplies(action, data)) return undefined;
    const definition = this.registry!.action(action.type)!;
    if (definition.afterCommit || action.afterCommit === true) {
      if (!this.deferAction) throw new Error('After-commit actions need the job queue');
      return this.deferAction(tx, { action, entity, record, data });
    }
    return this.performAction(tx, ctx, entity, action, record, data, depth);
  }

  /** Runs an action's side effect in the transaction (the after-commit runner calls this from the queue). */
  performAction(tx: Db, ctx: OperationContext, entity: string, action: WorkflowAction, record: Record<string, unknown>, data: Record<string, unknown>, depth = 0): Promise<unknown> {
    return this.registry!.action(action.type)!.run!({
      action,
      entity,
      record,
      data,
      tx,
      documents: this.model().documents,
      createRecord: (target, values) => this.create(engineContext(ctx.lang), target, values, tx, depth + 1) as Promise<Record<string, unknown>>,
      fire: (event, comment) => this.transition!(tx, entity, record.id as string, event, comment),
    });
  }

  /** Fires a workflow event as the engine inside a transaction (set by the workflow service; automations use it). */
  transition?: (tx: Db, entity: string, id: string, event: string, comment: string) => Promise<unknown>;
  /** Run in the creating transaction for each new record (workflows start the initial state's timers). */
  readonly onCreate: ((tx: Db, entity: CompiledEntity, record: Record<string, unknown>, ctx: OperationContext) => Promise<void>)[] = [];
  /**
   * Run before a record is changed or deleted, in the transaction, after the caller's rights were
   * checked (approvals lock pending records and guard their status field). Throw to refuse.
   */
  readonly onBeforeChange: ((tx: Db, ctx: OperationContext, entity: CompiledEntity, record: Record<string, unknown>, changes: Record<string, unknown> | null) => Promise<void>)[] = [];
  /** Run in the updating transaction after each update (workflows reset timers that read a changed date). */
  readonly onUpdate: ((tx: Db, entity: CompiledEntity, before: Record<string, unknown>, after: Record<string, unknown>) => Promise<void>)[] = [];

  constructor(
    readonly database: Database,
    readonly model: () => AppModel,
    private readonly registry?: RegistryView,
  ) {}

  /**
   * Runs the automations of a record change, in the change's transaction: a failing action rolls the
   * change back. Actions that create records can trigger automations in turn, up to a depth.
   */
  private async automate(tx: Db, ctx: OperationContext, entity: CompiledEntity, before: Record<string, unknown> | null, after: Record<string, unknown>, depth: number) {
    const automations = automationsOf(this.model()).get(entity.name);
    if (!automations?.length) return;
    const changed = (f: string) => before !== null && JSON.stringify(before[f] ?? null) !== JSON.stringify(after[f] ?? null);
    const data = { ...after, $old: before ?? {}, $user: ctx.principal?.context ?? {}, $now: new Date().toISOString() };
    for (const a of automations) {
      const t = a.trigger;
      const fires = before === null
        ? Boolean(t.created)
        : Boolean(t.updated) || (t.fieldChanged?.some(changed) ?? false) || (t.stateEntered !== undefined && [...entity.workflowFields].some((f) => changed(f) && after[f] === t.stateEntered));
      if (!fires || (a.condition !== undefined && !isTruthy(evaluateRule(a.condition, data)))) continue;
      if (depth >= MAX_AUTOMATION_DEPTH) throw conflict('automation_loop', `Automations triggered each other more than ${MAX_AUTOMATION_DEPTH} levels deep (last: ${a.name})`);
      for (const action of a.actions) await this.runAction(tx, ctx, entity.name, action, after, data, depth);
    }
  }

  entity(name: string): CompiledEntity {
    const entity = this.model().entity(name);
    if (!entity) throw notFound('unknown_entity', `There is no entity "${name}"`);
    return entity;
  }

  /** The deployed documents of the current model. */
  documents() {
    return this.model().documents;
  }

  /** Every deployed entity (for operations that span all of them, like a hand-over). */
  entities(): CompiledEntity[] {
    return [...this.model().entities.values()];
  }

  guard(ctx: OperationContext) {
    return new Guard(this.model(), ctx.principal, Boolean(ctx.privileged));
  }

  private context(ctx: OperationContext) {
    return { $user: ctx.principal?.context ?? {}, $now: new Date().toISOString() };
  }

  // ── reads ────────────────────────────────────────────────────────────────

  /** A list page as records (for the engine's own callers; the REST API sends listJson's bytes). */
  async list(ctx: OperationContext, entityName: string, query: Record<string, string | undefined>, action: 'read' | 'export' = 'read'): Promise<Page> {
    return JSON.parse((await this.listJson(ctx, entityName, query, action)).toString('utf8')) as Page;
  }

  /**
   * A list page as the JSON of a Page, in UTF-8. PostgreSQL renders the records (engine/data/render.ts);
   * Node only joins their bytes, unless references are expanded.
   */
  async listJson(ctx: OperationContext, entityName: string, query: Record<string, string | undefined>, action: 'read' | 'export' = 'read'): Promise<Buffer<ArrayBuffer>> {
    const entity = this.entity(entityName);
    const guard = this.guard(ctx);
    const scope = guard.condition(entity, action);
    const params = parseListParams(entity, query);
    const checkReadable = guard.checkReadable(entity);
    for (const k of params.sort) checkReadable(k.field, 'sort');
    for (const f of params.fields ?? []) checkReadable(f, 'fields');
    for (const f of params.expand) checkReadable(f, 'expand');
    const readable = guard.readable(entity);
    const conditions = [...whereConditions(entity, params, this.context(ctx), checkReadable, readable), ...(scope ? [scope] : [])];
    const keys = effectiveSort(params.sort).map((k) => k.field);
    const select = selectJson(entity, this.selectionNames(entity, params.fields).filter(readable), keys);
    const order = orderBy(entity, params.sort);
    // The limit is written into the statement, not bound: with prepared statements PostgreSQL moves to a
    // generic plan, and a generic plan that can't see the limit prefers sorting every match over walking
    // the index. It is a validated integer (parseListParams), so it is safe as text.
    const page = (extra: SQL | undefined, limit: number) =>
      this.database.textRows(sql`${select} where ${all(...conditions, extra)} order by ${order} limit ${sql.raw(String(Math.trunc(limit)))}`);

    let rows: JsonRow[];
    if (params.cursor) {
      const { main, nullTail } = keysetCondition(entity, params.sort, params.cursor);
      rows = await page(main, params.limit + 1);
      // Descending single-key sorts: the NULL block follows the last value (see keysetCondition).
      if (nullTail && rows.length <= params.limit) rows = rows.concat(await page(nullTail, params.limit + 1 - rows.length));
    } else {
      rows = await page(undefined, params.limit + 1);
    }
    const more = rows.length > params.limit;
    if (more) rows.length = params.limit;
    const nextCursor = more ? encodeCursor(params.sort, sortKeyOf(entity, keys, rows[rows.length - 1])) : null;

    if (params.expand.length) {
      const records = rows.map(parseRecord);
      const [total] = await Promise.all([params.count ? this.count(entity, conditions) : undefined, this.expand(guard, entity, records, params.expand)]);
      return Buffer.from(JSON.stringify({ data: records, nextCursor, total } satisfies Page));
    }
    const total = params.count ? await this.count(entity, conditions) : undefined;
    return pageJson(rows, `"nextCursor":${JSON.stringify(nextCursor)}${total === undefined ? '' : `,"total":${total}`}`);
  }

  async get(ctx: OperationContext, entityName: string, id: string, query: Record<string, string | undefined> = {}) {
    const entity = this.entity(entityName);
    const guard = this.guard(ctx);
    const scope = guard.condition(entity, 'read');
    for (const key of Object.keys(query)) if (key !== 'fields' && key !== 'expand') throw badRequest('unknown_parameter', `Unknown query parameter "${key}"`, [{ path: `/query/${key}`, message: 'Unknown query parameter' }]);
    const { fields, expand } = parseListParams(entity, { fields: query.fields, expand: query.expand });
    const checkReadable = guard.checkReadable(entity);
    for (const f of fields ?? []) checkReadable(f, 'fields');
    for (const f of expand) checkReadable(f, 'expand');
    const record = await this.findActive(this.database.db, entity, id, scope, this.selectionNames(entity, fields));
    await this.expand(guard, entity, [record], expand);
    return guard.strip(entity, [record])[0];
  }

  /** The columns a read selects: all of them, or `fields` with id and version. */
  private selectionNames(entity: CompiledEntity, fields?: string[]) {
    return fields ? [...new Set(['id', 'version', ...fields])] : entity.columnNames;
  }

  private async count(entity: CompiledEntity, conditions: SQL[]) {
    const [row] = await this.database.db.select({ n: sql<number>`count(*)::int` }).from(entity.table).where(and(...conditions));
    return Number(row.n);
  }

  /**
   * Replaces reference ids by the referenced records the caller may read: one query per expanded
   * field. A reference to a record outside the caller's scope stays a bare id.
   */
  private async expand(guard: Guard, entity: CompiledEntity, records: Record<string, unknown>[], fields: string[]) {
    await Promise.all(
      fields.map(async (name) => {
        const target = this.entity(entity.field(name)!.reference!.to);
        const scope = guard.condition(target, 'read');
        const ids = [...new Set(records.map((r) => r[name]).filter((v): v is string => typeof v === 'string'))];
        if (!ids.length) return;
        const query = this.database.db.select().from(target.table).where(all(inArray(target.columns.id, ids), isNull(target.columns.deleted_at), scope));
        const rows = decodeRows(target, await this.database.rows(query.getSQL()));
        const byId = new Map(guard.strip(target, rows).map((r) => [r.id as string, r]));
        for (const r of records) if (typeof r[name] === 'string' && byId.has(r[name] as string)) r[name] = byId.get(r[name] as string);
      }),
    );
  }

  /** The live record, within a scope (absent = any); 404 when it isn't there for the caller. */
  private async findActive(db: Db, entity: CompiledEntity, id: string, scope: SQL | undefined, names: string[] = entity.columnNames) {
    if (!UUID.test(id)) throw notFoundRecord(entity, id);
    // Column text and the live-record condition come cached (see query.ts): this runs for every read by id.
    const query = sql`${selectFrom(entity, names)} where ${all(sql`${columnRef(entity, 'id')} = ${id}::uuid`, deletedCondition(entity, 'exclude'), scope)}`;
    const [row] = decodeRows(entity, await this.database.rows(query, db));
    if (!row) throw notFoundRecord(entity, id);
    return row;
  }

  /** Reads a record the caller can see, with flags for the further actions they may take on it. */
  async findWithRights(db: Db, guard: Guard, entity: CompiledEntity, id: string, actions: ('update' | 'delete' | 'assign' | 'share')[], deleted = false) {
    const read = guard.condition(entity, 'read');
    const flags: Record<string, SQL> = {};
    for (const action of actions) {
      const c = guard.optionalCondition(entity, action);
      flags[`__${action}`] = c === undefined ? sql<boolean>`true` : c === false ? sql<boolean>`false` : sql<boolean>`coalesce(${c}, false)`;
    }
    if (!UUID.test(id)) throw notFoundRecord(entity, id);
    const [row] = (await db
      .select({ ...entity.columns, ...flags } as never)
      .from(entity.table)
      .where(all(eq(entity.columns.id, id), deleted ? isNotNull(entity.columns.deleted_at) : isNull(entity.columns.deleted_at), read))) as Record<string, unknown>[];
    if (!row) throw notFoundRecord(entity, id);
    const rights = Object.fromEntries(actions.map((a) => [a, Boolean(row[`__${a}`])])) as Record<string, boolean>;
    for (const a of actions) delete row[`__${a}`];
    return { record: toRecord(row), rights };
  }

  // ── writes ───────────────────────────────────────────────────────────────

  /** Creates one record (an object) or several (an array, all or nothing). */
  async create(ctx: OperationContext, entityName: string, body: unknown, outer?: Db, depth = 0) {
    const entity = this.entity(entityName);
    const guard = this.guard(ctx);
    guard.assertCan(entity, 'create');
    const bulk = Array.isArray(body);
    const items = bulk ? (body as unknown[]) : [body];
    if (!bulk && !isPlainObject(body)) throw badRequest('invalid_body', 'The body must be a JSON object (or an array of objects for a bulk create)');
    if (bulk && (items.length === 0 || items.length > MAX_BULK)) throw badRequest('invalid_body', `A bulk create takes 1 to ${MAX_BULK} records`);

    const errors: ErrorDetail[] = [];
    items.forEach((item, i) => errors.push(...schemaErrors(entity.validateCreate, item, ctx.lang, bulk ? pointer(i) : '')));
    if (errors.length) throw unprocessable('validation_failed', 'The record is invalid; nothing was written', errors);
    items.forEach((item, i) => guard.assertWritable(entity, Object.keys(item as object), bulk ? pointer(i) : ''));

    // Inside an outer transaction (a workflow action) this is a savepoint: it fails as a whole.
    const created = await (outer ?? this.database.db).transaction(async (tx) => {
      const now = new Date();
      const records: Record<string, unknown>[] = [];
      for (const [i, item] of items.entries()) {
        const record: Record<string, unknown> = { ...this.defaults(entity), ...(item as Record<string, unknown>) };
        errors.push(...this.initialState(entity, record, bulk ? pointer(i) : '', Boolean(ctx.privileged)));
        record.id = uuidv7(now.getTime());
        // Owner defaults to the creator; an explicit null makes an unowned record (a lead pool).
        if (!('owner_id' in (item as object))) record.owner_id = guard.userId;
        record.created_by = record.updated_by = guard.userId;
        // Formulas may read the creation time (a service ticket's deadline counts from it).
        record.created_at = record.updated_at = now.toISOString();
        await this.compute(tx, entity, 'create', record, now, false);
        errors.push(...ruleViolations(entity, { ...record, ...this.context(ctx) }, ctx.lang, bulk ? pointer(i) : ''));
        records.push(record);
      }
      await this.authorizeNewRecords(tx, guard, entity, records, bulk);
      errors.push(...(await this.missingReferences(tx, entity, records, bulk)));
      if (errors.length) throw unprocessable('validation_failed', 'The record is invalid; nothing was written', errors);
      await this.allocate(tx, entity, records, now);
      const rows: Record<string, unknown>[] = [];
      const perStatement = Math.max(1, Math.floor(MAX_PARAMS / (entity.fields.length + 8)));
      for (let i = 0; i < records.length; i += perStatement) {
        const chunk = records.slice(i, i + perStatement).map((r) => toColumnValues(entity, r));
        rows.push(...(await this.mapDbErrors(entity, () => tx.insert(entity.table).values(chunk).returning())));
      }
      const out = rows.map(toRecord);
      await writeAudit(tx, out.map((r) => ({ entity: entity.name, recordId: r.id as string, version: 1, action: 'create', actor: guard.userId, changes: diff(null, r), snapshot: r })));
      for (const r of out) await this.automate(tx, ctx, entity, null, r, depth);
      for (const hook of this.onCreate) for (const r of out) await hook(tx, entity, r, ctx);
      return out;
    });
    if (!outer) this.onWrite(entity.name);
    guard.strip(entity, created);
    return bulk ? created : created[0];
  }

  /**
   * A record served by a workflow starts in the workflow's initial state; only the engine itself
   * (an import, privileged) may create one elsewhere.
   */
  private initialState(entity: CompiledEntity, record: Record<string, unknown>, prefix: string, privileged: boolean): ErrorDetail[] {
    const workflow = entity.workflows.find((w) => w.applies(record));
    for (const field of entity.workflowFields) {
      if (workflow && workflow.doc.stateField === field) {
        if (record[field] === undefined || record[field] === null) record[field] = workflow.doc.initial;
        else if (record[field] !== workflow.doc.initial && !privileged) {
          return [{ path: prefix + pointer(field), code: 'workflow_controlled', message: `A new record starts in "${workflow.doc.initial}"; ${field} then changes through transitions of ${workflow.doc.name}` }];
        }
      } else if (entity.field(field)?.required && (record[field] === undefined || record[field] === null)) {
        return [{ path: prefix + pointer(field), code: 'required', message: `"${field}" is required` }];
      }
    }
    return [];
  }

  /**
   * New records must fall inside the caller's create scope, and handing one to another owner needs
   * the assign right.
   */
  private async authorizeNewRecords(tx: Db, guard: Guard, entity: CompiledEntity, records: Record<string, unknown>[], bulk: boolean) {
    if (!guard.principal || guard.privileged) return;
    const principal = guard.principal;
    const foreignOwners = [...new Set(records.map((r) => r.owner_id as string | null).filter((o): o is string => Boolean(o) && !principal.selves.includes(o!)))];
    if (foreignOwners.length && !guard.can(entity, 'assign')) {
      throw forbidden('Creating a record for another owner needs the assign right', [{ path: (bulk ? '/0' : '') + '/owner_id', code: 'assign_required', message: 'needs the assign right' }]);
    }
    const departments = new Map<string, string | null>();
    const users = this.model().entity('user');
    if (users && foreignOwners.length) {
      const rows = await tx.select({ id: users.columns.id, department: users.columns.department }).from(users.table).where(inArray(users.columns.id, foreignOwners));
      for (const r of rows) departments.set(r.id as string, r.department as string | null);
      const unknown = foreignOwners.filter((o) => !departments.has(o));
      if (unknown.length) throw unprocessable('invalid_reference', 'The owner is not a user', [{ path: '/owner_id', code: 'invalid_reference', message: `No user ${unknown[0]}` }]);
    }
    records.forEach((record, i) => {
      const owner = record.owner_id as string | null;
      const department = owner && principal.selves.includes(owner) ? principal.departmentId : owner ? departments.get(owner) : null;
      if (!guard.admits(entity, 'create', record, department)) {
        throw forbidden(`This ${entity.name} is outside what you may create`, [{ path: bulk ? pointer(i) : '', code: 'outside_scope', message: 'outside your create scope' }]);
      }
    });
  }

  /** Changes some fields of a record whose version the client read (optimistic locking). */
  async update(ctx: OperationContext, entityName: string, id: string, body: unknown, ifMatch?: string, note?: string) {
    const entity = this.entity(entityName);
    const guard = this.guard(ctx);
    guard.assertCan(entity, 'update');
    if (!isPlainObject(body)) throw badRequest('invalid_body', 'The body must be a JSON object of the fields to change');
    const errors = schemaErrors(entity.validatePatch, body, ctx.lang);
    if (errors.length) throw unprocessable('validation_failed', 'The change is invalid; nothing was written', errors);
    const { version: bodyVersion, ...changes } = body as Record<string, unknown> & { version?: number };
    const expected = this.expectedVersion(ifMatch, bodyVersion);
    guard.assertWritable(entity, Object.keys(changes));

    const updated = await this.database.db.transaction(async (tx) => {
      const ownerChange = 'owner_id' in changes;
      const { record: current, rights } = await this.findWithRights(tx, guard, entity, id, ownerChange ? ['update', 'assign'] : ['update']);
      if (!rights.update) throw forbidden(`You may read this ${entity.name} but not change it`);
      if (ownerChange && !rights.assign && changes.owner_id !== current.owner_id) throw forbidden('Changing the owner needs the assign right', [{ path: '/owner_id', code: 'assign_required', message: 'needs the assign right' }]);
      const workflow = entity.workflows.find((w) => w.applies(current));
      if (workflow && workflow.doc.stateField in changes && changes[workflow.doc.stateField] !== current[workflow.doc.stateField]) {
        throw unprocessable('validation_failed', `${workflow.doc.stateField} changes only through the transitions of ${workflow.doc.name}`, [
          { path: pointer(workflow.doc.stateField), code: 'workflow_controlled', message: 'use POST …/transitions/:event' },
        ]);
      }
      return this.applyUpdate(tx, ctx, entity, current, changes, expected, { action: note ? 'revert' : 'update', note });
    });
    this.onWrite(entity.name);
    return guard.strip(entity, [updated])[0];
  }

  /**
   * Writes changes to a record already read (and authorized) in this transaction: formulas, rules,
   * references, auto-numbers, the versioned UPDATE and its audit entry. Shared by updates, reverts
   * and workflow transitions.
   */
  async applyUpdate(tx: Db, ctx: OperationContext, entity: CompiledEntity, current: Record<string, unknown>, changes: Record<string, unknown>, expected: number, audit: { action: AuditEntry['action']; note?: string }) {
    if (current.version !== expected) throw this.versionConflict(entity, expected, current.version as number);
    for (const hook of this.onBeforeChange) await hook(tx, ctx, entity, current, changes);
    const errors: ErrorDetail[] = [];
    const now = new Date();
    const record = { ...current, ...changes };
    const computed = await this.compute(tx, entity, 'update', record, now, false);
    errors.push(...ruleViolations(entity, { ...record, ...this.context(ctx) }, ctx.lang));
    errors.push(...(await this.missingReferences(tx, entity, [changes], false)));
    if (errors.length) throw unprocessable('validation_failed', 'The change is invalid; nothing was written', errors);
    Object.assign(computed, await this.compute(tx, entity, 'update', record, now, true));

    const userId = ctx.principal?.userId ?? null;
    const set = toColumnValues(entity, { ...changes, ...computed, updated_at: now.toISOString(), updated_by: userId });
    const [row] = await this.mapDbErrors(entity, () =>
      tx
        .update(entity.table)
        .set({ ...set, version: sql`${entity.columns.version} + 1` })
        .where(and(eq(entity.columns.id, current.id as string), eq(entity.columns.version, expected), isNull(entity.columns.deleted_at)))
        .returning(),
    );
    // Someone else saved (or deleted) between our read and our write.
    if (!row) throw this.versionConflict(entity, expected);
    const after = toRecord(row);
    await writeAudit(tx, [{ entity: entity.name, recordId: current.id as string, version: after.version as number, action: audit.action, actor: userId, changes: diff(current, after), snapshot: after, note: audit.note }]);
    await this.automate(tx, ctx, entity, current, after, 0);
    for (const hook of this.onUpdate) await hook(tx, entity, current, after);
    return after;
  }

  /** Moves a record to the recycle bin, applying each reference's delete behaviour to its dependants. */
  async remove(ctx: OperationContext, entityName: string, id: string, ifMatch?: string) {
    const entity = this.entity(entityName);
    const guard = this.guard(ctx);
    guard.assertCan(entity, 'delete');
    const expected = ifMatch === undefined ? undefined : this.expectedVersion(ifMatch, undefined);
    const result = await this.database.db.transaction(async (tx) => {
      const { record, rights } = await this.findWithRights(tx, guard, entity, id, ['delete']);
      if (!rights.delete) throw forbidden(`You may read this ${entity.name} but not delete it`);
      if (expected !== undefined && record.version !== expected) throw this.versionConflict(entity, expected, record.version as number);
      for (const hook of this.onBeforeChange) await hook(tx, ctx, entity, record, null);
      const at = new Date();
      const audit: AuditEntry[] = [];
      await this.softDelete(tx, entity, [id], at, ctx, guard.userId, audit);
      await writeAudit(tx, audit);
      return { id, deleted_at: at.toISOString() };
    });
    this.onWrite(entity.name);
    return result;
  }

  /**
   * The delete behaviour of references is the schema's, not the caller's: dependants are cleared or
   * binned whatever the caller's rights on them (as a database ON DELETE would), and audited.
   */
  private async softDelete(tx: Db, entity: CompiledEntity, ids: string[], at: Date, ctx: OperationContext, actor: string | null, audit: AuditEntry[]): Promise<void> {
    for (const ref of entity.referencedBy) {
      const child = this.entity(ref.entity);
      const refersToIds = and(inArray(child.columns[ref.field], ids), isNull(child.columns.deleted_at));
      if (ref.onDelete === 'restrict') {
        const [hit] = await tx.select({ n: sql<number>`count(*)::int` }).from(child.table).where(refersToIds);
        if (Number(hit.n) > 0) {
          throw conflict('delete_restricted', `${hit.n} ${child.label[ctx.lang]} record(s) still refer to this ${entity.label[ctx.lang]}; delete or reassign them first`, [
            { path: `/${child.name}/${ref.field}`, code: 'restrict', message: `${hit.n} ${child.name}.${ref.field} reference(s)` },
          ]);
        }
      } else if (ref.onDelete === 'set_null') {
        const cleared = await tx
          .update(child.table)
          .set({ [ref.field]: null, version: sql`${child.columns.version} + 1`, updated_at: at, updated_by: actor })
          .where(refersToIds)
          .returning({ id: child.columns.id, version: child.columns.version, was: sql<string>`${ids.length === 1 ? ids[0] : null}::uuid` });
        for (const c of cleared) audit.push({ entity: child.name, recordId: c.id as string, version: c.version as number, action: 'update', actor, changes: { [ref.field]: [c.was ?? 'deleted', null] }, note: `${entity.name} deleted` });
      } else {
        const children = await tx.update(child.table).set({ deleted_at: at, version: sql`${child.columns.version} + 1` }).where(refersToIds).returning({ id: child.columns.id, version: child.columns.version });
        for (const c of children) audit.push({ entity: child.name, recordId: c.id as string, version: c.version as number, action: 'delete', actor, note: `cascade from ${entity.name}` });
        if (children.length) await this.softDelete(tx, child, children.map((c) => c.id as string), at, ctx, actor, audit);
      }
    }
    const deleted = await tx
      .update(entity.table)
      .set({ deleted_at: at, version: sql`${entity.columns.version} + 1`, updated_by: actor })
      .where(and(inArray(entity.columns.id, ids), isNull(entity.columns.deleted_at)))
      .returning({ id: entity.columns.id, version: entity.columns.version });
    for (const d of deleted) if (!audit.some((a) => a.recordId === d.id && a.action === 'delete')) audit.push({ entity: entity.name, recordId: d.id as string, version: d.version as number, action: 'delete', actor });
  }

  /** Takes a record out of the recycle bin, with the dependants its deletion cascaded to. */
  async restore(ctx: OperationContext, entityName: string, id: string) {
    const entity = this.entity(entityName);
    const guard = this.guard(ctx);
    guard.assertCan(entity, 'delete');
    const restored = await this.database.db.transaction(async (tx) => {
      const { record, rights } = await this.findWithRights(tx, guard, entity, id, ['delete'], true).catch((e) => {
        throw e instanceof AppError && e.status === 404 ? notFound('record_not_found', `No deleted ${entity.name} with id ${id} in your recycle bin`) : e;
      });
      if (!rights.delete) throw forbidden(`You may not restore this ${entity.name}`);
      const at = new Date(record.deleted_at as string);
      const audit: AuditEntry[] = [];
      const restoreTree = async (e: CompiledEntity, ids: string[]) => {
        for (const ref of e.referencedBy.filter((r) => r.onDelete === 'cascade')) {
          const child = this.entity(ref.entity);
          const children = await tx
            .update(child.table)
            .set({ deleted_at: null, version: sql`${child.columns.version} + 1` })
            .where(and(inArray(child.columns[ref.field], ids), eq(child.columns.deleted_at, at)))
            .returning({ id: child.columns.id, version: child.columns.version });
          for (const c of children) audit.push({ entity: child.name, recordId: c.id as string, version: c.version as number, action: 'restore', actor: guard.userId, note: `cascade from ${e.name}` });
          if (children.length) await restoreTree(child, children.map((c) => c.id as string));
        }
      };
      const [row] = await this.mapDbErrors(entity, () =>
        tx.update(entity.table).set({ deleted_at: null, version: sql`${entity.columns.version} + 1`, updated_by: guard.userId }).where(eq(entity.columns.id, id)).returning(),
      );
      await this.mapDbErrors(entity, () => restoreTree(entity, [id]));
      const after = toRecord(row);
      audit.unshift({ entity: entity.name, recordId: id, version: after.version as number, action: 'restore', actor: guard.userId, snapshot: after });
      await writeAudit(tx, audit);
      return after;
    });
    this.onWrite(entity.name);
    return guard.strip(entity, [restored])[0];
  }

  // ── history ──────────────────────────────────────────────────────────────

  /** The audit trail of a record the caller can read (live or in the recycle bin), newest first. */
  async history(ctx: OperationContext, entityName: string, id: string) {
    const entity = this.entity(entityName);
    const guard = this.guard(ctx);
    const scope = guard.condition(entity, 'read');
    if (!UUID.test(id)) throw notFoundRecord(entity, id);
    const [visible] = await this.database.db.select({ id: entity.columns.id }).from(entity.table).where(all(eq(entity.columns.id, id), scope));
    if (!visible) throw notFoundRecord(entity, id);
    const rows = await this.database.rows<{ id: string; version: number | null; action: string; actor: string | null; at: Date | string; changes: Record<string, [unknown, unknown]> | string; note: string | null }>(sql`
      select id, version, action, actor, at, changes, note from audit.log where entity = ${entity.name} and record_id = ${id} order by id desc limit 500`);
    const readable = guard.readable(entity);
    return rows.map((r) => {
      const changes = (typeof r.changes === "string" ? JSON.parse(r.changes) : r.changes) as Record<string, [unknown, unknown]>;
      return {
        id: Number(r.id),
        version: r.version,
        action: r.action,
        actor: r.actor,
        at: new Date(r.at).toISOString(),
        changes: Object.fromEntries(Object.entries(changes).filter(([f]) => readable(f)).map(([f, [from, to]]) => [f, { from, to }])),
        ...(r.note ? { note: r.note } : {}),
      };
    });
  }

  /** Puts a record back as it was at an earlier version: an audited update, under the same permissions. */
  async revert(ctx: OperationContext, entityName: string, id: string, body: unknown) {
    const entity = this.entity(entityName);
    const target = (body as { version?: unknown })?.version;
    if (!Number.isInteger(target) || (target as number) < 1) throw badRequest('invalid_request', 'Send { "version": n }: the version to go back to', [{ path: '/version', message: 'a positive integer' }]);
    const current = await this.get(ctx, entityName, id);
    const [entry] = await this.database.rows<{ snapshot: Record<string, unknown> | string | null }>(sql`
      select snapshot from audit.log where entity = ${entity.name} and record_id = ${id} and version = ${target as number} and snapshot is not null order by id desc limit 1`);
    if (!entry) throw notFound('version_not_found', `Version ${target} of this ${entity.name} is not in its history`);
    const snapshot = typeof entry.snapshot === 'string' ? JSON.parse(entry.snapshot) : entry.snapshot!;
    const changes: Record<string, unknown> = {};
    for (const f of entity.fields) {
      if (f.readOnly || !(f.name in current)) continue;
      if (JSON.stringify(snapshot[f.name] ?? null) !== JSON.stringify(current[f.name] ?? null)) changes[f.name] = snapshot[f.name] ?? null;
    }
    return this.update(ctx, entityName, id, { ...changes, version: current.version }, undefined, `revert to version ${target}`);
  }

  // ── helpers ──────────────────────────────────────────────────────────────

  private defaults(entity: CompiledEntity): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const f of entity.fields) if (f.doc.default !== undefined) out[f.name] = structuredClone(f.doc.default);
    return out;
  }

  /**
   * Runs the field types' write hooks in dependency order: computing ones (formulas) before validation,
   * allocating ones (auto-numbers) after it, so a refused record uses up no number.
   */
  private async compute(tx: Db, entity: CompiledEntity, operation: 'create' | 'update', record: Record<string, unknown>, now: Date, allocating: boolean) {
    const computed: Record<string, unknown> = {};
    for (const f of entity.writeHooks) {
      if (Boolean(f.type.allocates) !== allocating) continue;
      const value = await f.type.onWrite!({ field: f.doc, entity: entity.name, operation, record, tx, now });
      if (value !== undefined) record[f.name] = computed[f.name] = value;
    }
    return computed;
  }

  /** Allocating hooks (auto-numbers) for new records: all records at once where the type can. */
  private async allocate(tx: Db, entity: CompiledEntity, records: Record<string, unknown>[], now: Date) {
    for (const f of entity.writeHooks.filter((h) => h.type.allocates)) {
      if (f.type.allocateMany && records.length > 1) {
        const values = await f.type.allocateMany({ field: f.doc, entity: entity.name, records, tx, now });
        records.forEach((r, i) => (r[f.name] = values[i]));
      } else {
        for (const record of records) {
          const value = await f.type.onWrite!({ field: f.doc, entity: entity.name, operation: 'create', record, tx, now });
          if (value !== undefined) record[f.name] = value;
        }
      }
    }
  }

  /** References must point at live records (the foreign key alone would accept recycle-bin ones). */
  private async missingReferences(tx: Db, entity: CompiledEntity, records: Record<string, unknown>[], bulk: boolean): Promise<ErrorDetail[]> {
    const errors: ErrorDetail[] = [];
    await Promise.all(
      entity.fields
        .filter((f) => f.reference && records.some((r) => typeof r[f.name] === 'string'))
        .map(async (f) => {
          const target = this.entity(f.reference!.to);
          const ids = [...new Set(records.map((r) => r[f.name]).filter((v): v is string => typeof v === 'string'))];
          const found = await tx.select({ id: target.columns.id }).from(target.table).where(and(inArray(target.columns.id, ids), isNull(target.columns.deleted_at)));
          const live = new Set(found.map((r) => r.id as string));
          records.forEach((r, i) => {
            if (typeof r[f.name] === 'string' && !live.has(r[f.name] as string)) {
              errors.push({ path: (bulk ? pointer(i) : '') + pointer(f.name), code: 'invalid_reference', message: `No ${target.name} with id ${r[f.name]}` });
            }
          });
        }),
    );
    return errors;
  }

  private expectedVersion(ifMatch: string | undefined, bodyVersion: number | undefined): number {
    const raw = ifMatch !== undefined ? ifMatch.replace(/^W\//, '').replace(/"/g, '').trim() : bodyVersion;
    if (raw === undefined) throw new AppError(428, 'version_required', 'Send the version you read, in If-Match or as "version" in the body');
    const version = Number(raw);
    if (!Number.isInteger(version) || version < 1) throw badRequest('invalid_version', 'The version must be a positive integer', [{ path: ifMatch !== undefined ? '/headers/if-match' : '/version', message: 'not a version' }]);
    return version;
  }

  private versionConflict(entity: CompiledEntity, expected: number, actual?: number) {
    return conflict('version_conflict', `The ${entity.name} was changed by someone else (you sent version ${expected}${actual ? `, it is now ${actual}` : ''}); reload it and try again`);
  }

  /** Unique and foreign-key violations become 422s that name the field. */
  async mapDbErrors<T>(entity: CompiledEntity, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (e) {
      // drizzle wraps the driver's error; postgres.js and PGlite name the constraint differently.
      const err = ((e as { cause?: unknown }).cause ?? e) as { code?: string; constraint_name?: string; constraint?: string; detail?: string };
      const constraint = err.constraint_name ?? err.constraint;
      if (err.code === '23505') {
        const index = entity.indexes.find((i) => i.name === constraint);
        const fields = index?.columns ?? [];
        throw unprocessable('unique_violation', `Another ${entity.name} already has this ${fields.join(', ') || 'value'}`, fields.map((f) => ({ path: pointer(f), code: 'unique', message: 'must be unique' })));
      }
      if (err.code === '23503') {
        const field = entity.fields.find((f) => f.reference && constraint?.endsWith(`__${f.name}`));
        throw unprocessable('invalid_reference', 'A referenced record does not exist', [{ path: field ? pointer(field.name) : '', code: 'invalid_reference', message: err.detail ?? 'does not exist' }]);
      }
      throw e;
    }
  }
}
