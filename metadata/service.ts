/**
 * Deploys metadata and keeps the compiled model current.
 *
 * A deploy validates the documents with what stays deployed, plans the schema change, and applies
 * plan + document versions in ONE transaction (PostgreSQL DDL is transactional): all or nothing.
 * Other processes learn about it through NOTIFY and recompile; the model is a cache keyed by version.
 */
import { sql } from 'drizzle-orm';
import type { Database, Db } from '../engine/db/database.js';
import { AppError, badRequest, type ErrorDetail } from '../engine/errors.js';
import type { Lang } from '../engine/model/language.js';
import { localizeDeployError } from './messages.js';
import { compileModel, type AppModel } from '../engine/model/compile.js';
import type { MetadataDocument, RegistryView } from '../engine/registry/types.js';
import { planSchema, type PlanStep } from './planner.js';
import { MetadataStore } from './store.js';
import { ajvErrorsToDetails, createAjv } from '../engine/model/ajv.js';
import { DocumentMap, MetadataValidator, type DocumentRef } from './validate.js';

export interface DeployRequest {
  documents: unknown[];
  delete?: DocumentRef[];
  dryRun?: boolean;
  allowDestructive?: boolean;
}

export interface DocumentChange {
  kind: string;
  name: string;
  change: 'created' | 'updated' | 'deleted';
  version: number;
}

export interface DeployResult {
  /** The metadata version in force after the call. */
  version: number;
  dryRun: boolean;
  applied: boolean;
  changes: DocumentChange[];
  plan: PlanStep[];
  /** Background work the deploy queued (backfills of existing records); follow it at GET /api/meta/jobs/:queue/:id. */
  jobs?: DeployJob[];
}

/** A job a deploy queued in its transaction. */
export interface DeployJob {
  queue: string;
  id: string;
  entity?: string;
  description: string;
}

const NOTIFY_CHANNEL = 'metacrm_metadata';

const requestSchema = {
  type: 'object',
  required: ['documents'],
  additionalProperties: false,
  properties: {
    documents: { type: 'array', maxItems: 2000 },
    delete: {
      type: 'array',
      items: {
        type: 'object',
        required: ['kind', 'name'],
        additionalProperties: false,
        properties: { kind: { type: 'string' }, name: { type: 'string' } },
      },
    },
    dryRun: { type: 'boolean' },
    allowDestructive: { type: 'boolean' },
  },
};
const validateRequest = createAjv().compile(requestSchema);

/** JSON with sorted keys, so a document read back from jsonb compares equal to the one sent. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Work that belongs to a deploy, done in its transaction with the models before and after it and its plan; returns the jobs it queued. */
export type DeployHook = (tx: Db, before: AppModel, after: AppModel, plan: PlanStep[]) => Promise<DeployJob[]>;

export class MetadataService {
  readonly store: MetadataStore;
  readonly validator: MetadataValidator;
  private current!: AppModel;
  private unlisten?: () => Promise<void>;
  private readonly listeners = new Set<(model: AppModel) => void>();
  private readonly deployHooks = new Set<DeployHook>();

  constructor(
    private readonly database: Database,
    private readonly registry: RegistryView,
    /**
     * How long a deploy's DDL may wait for a table's lock. A schema change waits behind every open
     * transaction on the table, and every later query on it waits behind the schema change: without a
     * bound, one long report would stall the whole table. Past it the deploy fails (503) and changes nothing.
     */
    private readonly lockTimeoutMs = 3000,
  ) {
    this.store = new MetadataStore(database);
    this.validator = new MetadataValidator(registry);
  }

  get model(): AppModel {
    return this.current;
  }

  onChange(listener: (model: AppModel) => void) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Runs `hook` inside every deploy's transaction, after the schema change and before the new documents
   * are recorded: what it writes (jobs to queue, say) commits or rolls back with the deploy.
   */
  onDeploy(hook: DeployHook) {
    this.deployHooks.add(hook);
    return () => this.deployHooks.delete(hook);
  }

  async start() {
    await this.store.bootstrap();
    await this.reload();
    this.unlisten = await this.database.listen(NOTIFY_CHANNEL, (payload) => {
      if (Number(payload) > this.current.version) this.reload().catch((e) => console.error('metadata reload failed', e));
    });
  }

  async stop() {
    await this.unlisten?.();
  }

  /** Recompiles the model from the store (on start and when another process deployed). */
  async reload(): Promise<AppModel> {
    const [version, current] = await Promise.all([this.store.currentVersion(), this.store.current()]);
    this.install(compileModel(version, new DocumentMap(current.map((c) => c.doc)), this.registry));
    return this.current;
  }

  private install(model: AppModel) {
    this.current = model;
    for (const l of this.listeners) l(model);
  }

  /** Deploys documents; errors come in the caller's language (metadata/messages.ts). */
  async deploy(request: unknown, actor?: string | null, lang: Lang = 'en'): Promise<DeployResult> {
    try {
      return await this.apply(request, actor);
    } catch (e) {
      throw localizeDeployError(e, lang);
    }
  }

  private async apply(request: unknown, actor?: string | null): Promise<DeployResult> {
    if (!validateRequest(request))
      throw badRequest('invalid_request', 'The deploy request is malformed', ajvErrorsToDetails(validateRequest.errors));
    const req = request as unknown as DeployRequest;
    const outcome = await this.database.db.transaction(async (tx) => {
      // Deploys are serialised across processes; readers are never blocked by this lock.
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext('metacrm.deploy'))`);
      // After the deploy lock: deploys queue behind each other without a bound, tables' locks with one.
      await tx.execute(sql.raw(`set local lock_timeout = ${Math.max(1, Math.trunc(this.lockTimeoutMs))}`));
      const version = await this.store.currentVersion(tx);
      const deployed = await this.store.current(tx);
      const before =
        version === this.current.version
          ? this.current
          : compileModel(version, new DocumentMap(deployed.map((d) => d.doc)), this.registry);

      const { errors, result } = this.validator.validate(
        req.documents,
        deployed.map((d) => d.doc),
        req.delete ?? [],
      );
      if (!result)
        throw badRequest(
          'invalid_metadata',
          `The metadata is invalid (${errors.length} problem${errors.length === 1 ? '' : 's'})`,
          errors,
        );

      const versions = new Map(deployed.map((d) => [DocumentMap.key(d.doc.kind, d.doc.name), d]));
      const changes: (DocumentChange & { doc?: MetadataDocument })[] = [];
      for (const doc of req.documents as MetadataDocument[]) {
        const old = versions.get(DocumentMap.key(doc.kind, doc.name));
        if (old && canonical(old.doc) === canonical(doc)) continue;
        changes.push({
          kind: doc.kind,
          name: doc.name,
          change: old ? 'updated' : 'created',
          version: (old?.version ?? 0) + 1,
          doc,
        });
      }
      for (const ref of req.delete ?? []) {
        changes.push({
          kind: ref.kind,
          name: ref.name,
          change: 'deleted',
          version: versions.get(DocumentMap.key(ref.kind, ref.name))!.version + 1,
        });
      }

      const after = compileModel(version + 1, result, this.registry);
      const plan = planSchema(before.entities, after.entities);
      const destructive = plan.filter((s) => s.destructive);
      if (destructive.length && !req.allowDestructive && !req.dryRun) {
        throw new AppError(
          409,
          'destructive_change',
          'The deploy would lose data; send allowDestructive: true to apply it',
          destructive.map((s) => ({ path: `/${s.entity}${s.field ? '/' + s.field : ''}`, code: s.op, message: s.description })),
        );
      }
      const publicChanges = changes.map(({ doc: _doc, ...c }) => c);
      if (req.dryRun || changes.length === 0)
        return {
          kind: 'unchanged' as const,
          result: { version, dryRun: Boolean(req.dryRun), applied: false, changes: publicChanges, plan },
        };

      for (const step of plan) {
        if (step.afterCommit) continue; // a deploy hook queues it (metadata/schema-builds.ts)
        for (const statement of step.sql) {
          try {
            await tx.execute(sql.raw(statement));
          } catch (e) {
            const detail: ErrorDetail = {
              path: `/${step.entity}${step.field ? '/' + step.field : ''}`,
              code: step.op,
              message: `${step.description}: ${(e as Error).message}`,
            };
            // 55P03 lock_not_available: a transaction kept the table for longer than lockTimeoutMs.
            if ((e as { code?: string }).code === '55P03' || (e as { cause?: { code?: string } }).cause?.code === '55P03') {
              throw new AppError(
                503,
                'table_busy',
                `${step.entity} stayed locked by other transactions for ${this.lockTimeoutMs} ms; nothing was deployed, try again`,
                [detail],
              );
            }
            throw badRequest('deploy_failed', `Applying the schema change failed; nothing was deployed`, [detail]);
          }
        }
      }
      const jobs: DeployJob[] = [];
      for (const hook of this.deployHooks) jobs.push(...(await hook(tx, before, after, plan)));
      await this.store.record(
        tx,
        { version: version + 1, deployedBy: actor, summary: publicChanges, plan },
        changes.map((c) => ({ ...c, deleted: c.change === 'deleted' })),
      );
      await tx.execute(sql`select pg_notify(${NOTIFY_CHANNEL}, ${String(version + 1)})`);
      return {
        kind: 'applied' as const,
        model: after,
        result: {
          version: version + 1,
          dryRun: false,
          applied: true,
          changes: publicChanges,
          plan,
          ...(jobs.length ? { jobs } : {}),
        },
      };
    });
    if (outcome.kind === 'applied') this.install(outcome.model);
    return outcome.result;
  }
}
