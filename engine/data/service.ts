/**
 * The record operations of every entity, behind one object the other services and the HTTP routes
 * hold. Each operation lives in its own file under ./operations and goes through the write phases of
 * ./pipeline.ts; services extend the pipeline through ./hooks.ts. This class only resolves entities and
 * guards for the current model and forwards — a facade, not a hub.
 */
import type { Database, Db } from '../db/database.js';
import { notFound } from '../errors.js';
import type { AppModel, CompiledEntity } from '../model/compile.js';
import { Guard } from '../access/guard.js';
import type { AuditEntry } from '../audit/log.js';
import type { RegistryView } from '../registry/types.js';
import type { ActionDoc as WorkflowAction } from '../registry/types.js';
import { performAction, runAction } from './actions.js';
import type { OperationContext, Page } from './context.js';
import { findWithRights } from './find.js';
import { RecordHooks } from './hooks.js';
import { mapDbErrors } from './pipeline.js';
import { create } from './operations/create.js';
import { get } from './operations/get.js';
import { history } from './operations/history.js';
import { list, listJson } from './operations/list.js';
import { aggregate, type AggregateSource } from './operations/aggregate.js';
import type { SQL } from 'drizzle-orm';
import { remove } from './operations/remove.js';
import { restore } from './operations/restore.js';
import { revert } from './operations/revert.js';
import { applyUpdate, update } from './operations/update.js';

export { engineContext, MAX_BULK, type OperationContext, type Page } from './context.js';
export { actionApplies } from './actions.js';

type Query = Record<string, string | undefined>;

export class DataService {
  constructor(
    readonly database: Database,
    readonly model: () => AppModel,
    readonly registry?: RegistryView,
    /** Where workflows, approvals and auth hook into the pipeline (registered at start-up). */
    readonly hooks: RecordHooks = new RecordHooks(),
  ) {}

  // ── resolve ──
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

  /** What json-logic sees besides the record: $user and $now. */
  context(ctx: OperationContext) {
    return { $user: ctx.principal?.context ?? {}, $now: new Date().toISOString() };
  }

  // ── operations (./operations/*) ──
  list = (ctx: OperationContext, entity: string, query: Query, action: 'read' | 'export' = 'read'): Promise<Page> =>
    list(this, ctx, entity, query, action);
  listJson = (ctx: OperationContext, entity: string, query: Query, action: 'read' | 'export' = 'read') =>
    listJson(this, ctx, entity, query, action);
  get = (ctx: OperationContext, entity: string, id: string, query: Query = {}) => get(this, ctx, entity, id, query);
  create = (ctx: OperationContext, entity: string, body: unknown, outer?: Db, depth = 0) =>
    create(this, ctx, entity, body, outer, depth);
  update = (ctx: OperationContext, entity: string, id: string, body: unknown, ifMatch?: string, note?: string) =>
    update(this, ctx, entity, id, body, ifMatch, note);
  remove = (ctx: OperationContext, entity: string, id: string, ifMatch?: string) => remove(this, ctx, entity, id, ifMatch);
  restore = (ctx: OperationContext, entity: string, id: string) => restore(this, ctx, entity, id);
  history = (ctx: OperationContext, entity: string, id: string) => history(this, ctx, entity, id);
  revert = (ctx: OperationContext, entity: string, id: string, body: unknown) => revert(this, ctx, entity, id, body);
  aggregate = <T extends { sql: SQL }>(
    ctx: OperationContext,
    entity: string,
    action: 'read' | 'export',
    build: (source: AggregateSource) => T,
  ) => aggregate(this, ctx, entity, action, build);

  // ── pieces other services build their operations from (workflows, approvals, ownership) ──
  /** Writes changes to a record already read and authorized in the transaction (see operations/update.ts). */
  applyUpdate = (
    tx: Db,
    ctx: OperationContext,
    entity: CompiledEntity,
    current: Record<string, unknown>,
    changes: Record<string, unknown>,
    expected: number,
    audit: { action: AuditEntry['action']; note?: string },
  ) => applyUpdate(this, tx, ctx, entity, current, changes, expected, audit);
  findWithRights = findWithRights;
  mapDbErrors = mapDbErrors;
  runAction = (
    tx: Db,
    ctx: OperationContext,
    entity: string,
    action: WorkflowAction,
    record: Record<string, unknown>,
    data: Record<string, unknown>,
    depth = 0,
  ) => runAction(this, tx, ctx, entity, action, record, data, depth);
  performAction = (
    tx: Db,
    ctx: OperationContext,
    entity: string,
    action: WorkflowAction,
    record: Record<string, unknown>,
    data: Record<string, unknown>,
    depth = 0,
  ) => performAction(this, tx, ctx, entity, action, record, data, depth);
  /** A write committed outside the operations here (a transition, an assignment): tell the hooks. */
  committed(entity: string) {
    this.hooks.afterCommit(entity);
  }
}
