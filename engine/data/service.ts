/**
 * The record operations of every entity, behind one object the other services and the HTTP routes
 * hold. Each operation lives in its own file under ./operations and goes through the write phases of
 * ./pipeline.ts; services extend the pipeline through ./hooks.ts. This class only resolves entities and
 * guards for the current model and forwards — a facade, not a hub.
 */
import type { Database } from '../db/database.js';
import { notFound } from '../errors.js';
import type { AppModel, CompiledEntity } from '../model/compile.js';
import { Guard } from '../access/guard.js';
import type { RegistryView } from '../registry/types.js';
import { performAction, runAction } from './actions.js';
import type { OperationContext } from './context.js';
import { findWithRights } from './find.js';
import { RecordHooks } from './hooks.js';
import { mapDbErrors } from './pipeline.js';
import { create } from './operations/create.js';
import { copy } from './operations/copy.js';
import { get } from './operations/get.js';
import { history } from './operations/history.js';
import { list, listJson } from './operations/list.js';
import { aggregate, type AggregateSource } from './operations/aggregate.js';
import type { SQL } from 'drizzle-orm';
import { remove } from './operations/remove.js';
import { restore } from './operations/restore.js';
import { revert } from './operations/revert.js';
import { search } from './operations/search.js';
import { applyUpdate, update } from './operations/update.js';

export { engineContext, MAX_BULK, type OperationContext, type Page } from './context.js';
export { actionApplies } from './actions.js';

/** An operation of ./operations with the service it runs against already given. */
type Bound<F> = F extends (data: DataService, ...rest: infer A) => infer R ? (...rest: A) => R : never;
// biome-ignore lint/suspicious/noExplicitAny: any operation's own parameters, kept exactly by Bound
const forward = <F extends (data: DataService, ...rest: any[]) => unknown>(data: DataService, operation: F) =>
  ((...rest: unknown[]) => operation(data, ...rest)) as Bound<F>;

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

  /** What json-logic sees besides the record: $user and $now (the operation's time: db/clock.ts). */
  context(ctx: OperationContext, now = new Date()) {
    return { $user: ctx.principal?.context ?? {}, $now: now.toISOString() };
  }

  // ── operations (./operations/*) ──
  list = forward(this, list);
  listJson = forward(this, listJson);
  get = forward(this, get);
  create = forward(this, create);
  copy = forward(this, copy);
  update = forward(this, update);
  remove = forward(this, remove);
  restore = forward(this, restore);
  history = forward(this, history);
  revert = forward(this, revert);
  search = forward(this, search);
  aggregate = <T extends { sql: SQL }>(
    ctx: OperationContext,
    entity: string,
    action: 'read' | 'export',
    build: (source: AggregateSource) => T,
  ) => aggregate(this, ctx, entity, action, build);

  // ── pieces other services build their operations from (workflows, approvals, ownership) ──
  /** Writes changes to a record already read and authorized in the transaction (see operations/update.ts). */
  applyUpdate = forward(this, applyUpdate);
  findWithRights = findWithRights;
  mapDbErrors = mapDbErrors;
  runAction = forward(this, runAction);
  performAction = forward(this, performAction);
  /** A write committed outside the operations here (a transition, an assignment): tell the hooks. */
  committed(entity: string) {
    this.hooks.afterCommit(entity);
  }
}
