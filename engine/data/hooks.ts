/**
 * The extension points of the record pipeline. Services (workflows, approvals, auth, the after-commit
 * runner) register here once at start-up, each with an explicit order, instead of assigning fields of
 * the data service: what runs, and in which order, is written down in HOOK_ORDER rather than following
 * from the order of construction.
 */
import type { Db } from '../db/database.js';
import { AppError } from '../errors.js';
import type { CompiledEntity } from '../model/compile.js';
import type { ActionDoc } from '../registry/types.js';
import type { OperationContext } from './context.js';
import type { Lang } from '../model/language.js';

type Row = Record<string, unknown>;

/** Where each registered service runs: lower first. */
export const HOOK_ORDER = {
  /** Automations of the change (engine/automations/on-change.ts): first, as they always ran. */
  automations: 0,
  /** Formulas reading through a reference (engine/rollup/reference-formulas.ts): the dependents of a changed record. */
  referenceFormulas: 4,
  /** Roll-ups (engine/rollup/hook.ts): the parents of changed children recomputed before anyone reads them. */
  rollups: 5,
  /** Workflows: a related record created or changed (a milestone task) may complete its parent's stage. */
  workflowParents: 10,
  /** Workflows: a record created in a state with timers starts them; a moved date moves its timer. */
  workflowTimers: 20,
  /** Approvals: pending records are locked, the status field belongs to the approval. */
  approvals: 30,
  /** Auth: principals are rebuilt when users or departments change. */
  auth: 40,
} as const;

export interface RecordHook {
  /** Who registers (error messages, and one registration each). */
  name: string;
  order: number;
  /** Before a record is changed (changes) or deleted (null), in the transaction, after the caller's rights were checked. Throw to refuse. */
  beforeChange?(tx: Db, ctx: OperationContext, entity: CompiledEntity, record: Row, changes: Row | null): Promise<void>;
  /** In the creating transaction, for each new record; `depth` counts records created by automations of automations. */
  afterCreate?(tx: Db, ctx: OperationContext, entity: CompiledEntity, record: Row, depth: number): Promise<void>;
  /** In the creating transaction, once with all the records one create wrote (a bulk create: one call, not one per record). */
  afterCreateAll?(tx: Db, ctx: OperationContext, entity: CompiledEntity, records: Row[]): Promise<void>;
  /** In the updating transaction, after each update. */
  afterUpdate?(tx: Db, ctx: OperationContext, entity: CompiledEntity, before: Row, after: Row): Promise<void>;
  /** In an assignment's transaction, once with the records whose owner changed (a bulk assignment: one call). */
  afterAssign?(tx: Db, ctx: OperationContext, entity: CompiledEntity, assigned: Assigned): Promise<void>;
  /** In a backfill's transaction, with the records whose computed fields it rewrote (nobody edited them: no audit, no automations). */
  afterBackfill?(tx: Db, entity: CompiledEntity, records: Row[]): Promise<void>;
  /** In a delete's transaction, for each entity whose records it moved to the recycle bin (cascades included). */
  afterRemove?(tx: Db, entity: CompiledEntity, ids: string[]): Promise<void>;
  /** In a restore's transaction, for each entity whose records came back (cascades included). */
  afterRestore?(tx: Db, entity: CompiledEntity, ids: string[]): Promise<void>;
  /** After a write committed. */
  afterCommit?(entity: string): void;
}

/** Records an assignment gave a new owner. */
export interface Assigned {
  ids: string[];
  /** The owner each record had before. */
  formerOwners: Map<string, string | null>;
  /** The records as they are now (read once, on first call: hooks that need no rows cost nothing). */
  rows(): Promise<Row[]>;
}

/** A side-effect action queued in the transaction, run after commit. */
export interface DeferredAction {
  action: ActionDoc;
  entity: string;
  record: Row;
  data: Row;
}

/** What the pipeline asks of exactly one other service. */
export interface PipelineServices {
  /** Fires a workflow event as the engine inside a transaction (automations' fire action). */
  fireEvent(tx: Db, entity: string, id: string, event: string, comment: string): Promise<unknown>;
  /** Queues an after-commit action in the transaction. */
  deferAction(tx: Db, job: DeferredAction): Promise<unknown>;
  /** Shares a record with a user as the engine (the `share` action; engine/data/ownership.ts). */
  shareRecord(
    tx: Db,
    entity: string,
    id: string,
    user: unknown,
    access: 'read' | 'edit',
    note: string,
    source: string,
  ): Promise<void>;
  /** Removes the user's share of a record that `source` gave (without one: any the engine gave), as the engine. */
  unshareRecord(tx: Db, entity: string, id: string, user: unknown, note: string, source?: string): Promise<void>;
  /** Gives a record to another owner as the engine, through the assignment code (the `assign` action). */
  assignRecord(tx: Db, ctx: OperationContext, entity: string, id: string, to: unknown, note: string): Promise<unknown>;
  /** Submits a record to its approval on behalf of a user (the `submit_approval` action; engine/approvals/service.ts). */
  submitApproval(tx: Db, entity: string, id: string, submitter: unknown, lang: Lang, comment: string): Promise<unknown>;
}

const MISSING: Record<keyof PipelineServices, string> = {
  fireEvent: 'Firing workflow events needs the workflow service',
  deferAction: 'After-commit actions need the job queue',
  shareRecord: 'Sharing needs the ownership service',
  unshareRecord: 'Sharing needs the ownership service',
  assignRecord: 'Assigning needs the ownership service',
  submitApproval: 'Submitting needs the approval service',
};

export class RecordHooks {
  private hooks: RecordHook[] = [];
  private readonly services: Partial<PipelineServices> = {};
  /** Records created, updated or restored so far in this process, by entity (see `writesOf`). */
  private readonly writes = new Map<string, number>();

  /**
   * How many records of the entity this process has created, updated or restored so far: when the count
   * is the same after a transaction as before it, no write of this process touched the entity in it (a
   * new quote then has no lines to read back unless its request sent some).
   */
  writesOf(entity: string): number {
    return this.writes.get(entity) ?? 0;
  }

  private wrote(entity: CompiledEntity, n: number) {
    this.writes.set(entity.name, this.writesOf(entity.name) + n);
  }

  register(hook: RecordHook): void {
    if (this.hooks.some((h) => h.name === hook.name)) throw new Error(`Record hook "${hook.name}" is registered twice`);
    this.hooks = [...this.hooks, hook].sort((a, b) => a.order - b.order);
  }

  provide<K extends keyof PipelineServices>(name: K, service: PipelineServices[K]): void {
    if (this.services[name]) throw new Error(`Pipeline service "${name}" is provided twice`);
    this.services[name] = service;
  }

  service<K extends keyof PipelineServices>(name: K): PipelineServices[K] {
    const service = this.services[name];
    if (!service) throw new Error(MISSING[name]);
    return service;
  }

  async beforeChange(tx: Db, ctx: OperationContext, entity: CompiledEntity, record: Row, changes: Row | null) {
    for (const h of this.hooks) await h.beforeChange?.(tx, ctx, entity, record, changes);
  }

  /** `bulk`: the records came as an array, so a refusal of one names its place (`/3/amount`). */
  async afterCreate(tx: Db, ctx: OperationContext, entity: CompiledEntity, records: Row[], depth: number, bulk = false) {
    this.wrote(entity, records.length);
    for (const h of this.hooks) {
      await h.afterCreateAll?.(tx, ctx, entity, records);
      if (h.afterCreate)
        for (const [i, r] of records.entries()) {
          try {
            await h.afterCreate(tx, ctx, entity, r, depth);
          } catch (e) {
            if (!bulk || !(e instanceof AppError)) throw e;
            const details = e.details.length ? e.details : [{ path: '', code: e.code, message: e.message }];
            throw new AppError(
              e.status,
              e.code,
              e.message,
              details.map((d) => ({ ...d, path: `/${i}${d.path}` })),
              e.headers,
            );
          }
        }
    }
  }

  async afterAssign(tx: Db, ctx: OperationContext, entity: CompiledEntity, assigned: Assigned) {
    if (assigned.ids.length) for (const h of this.hooks) await h.afterAssign?.(tx, ctx, entity, assigned);
  }

  async afterBackfill(tx: Db, entity: CompiledEntity, records: Row[]) {
    if (records.length) for (const h of this.hooks) await h.afterBackfill?.(tx, entity, records);
  }

  async afterRemove(tx: Db, entity: CompiledEntity, ids: string[]) {
    if (ids.length) for (const h of this.hooks) await h.afterRemove?.(tx, entity, ids);
  }

  async afterRestore(tx: Db, entity: CompiledEntity, ids: string[]) {
    this.wrote(entity, ids.length);
    if (ids.length) for (const h of this.hooks) await h.afterRestore?.(tx, entity, ids);
  }

  async afterUpdate(tx: Db, ctx: OperationContext, entity: CompiledEntity, before: Row, after: Row) {
    this.wrote(entity, 1);
    for (const h of this.hooks) await h.afterUpdate?.(tx, ctx, entity, before, after);
  }

  afterCommit(entity: string) {
    for (const h of this.hooks) h.afterCommit?.(entity);
  }
}
