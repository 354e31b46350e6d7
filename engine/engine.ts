/**
 * Wires the parts together: database → registry → metadata service (compiled model) → auth → data
 * pipeline → HTTP app. Used by the server entry point, the tests and the benchmark alike.
 */
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { openDatabase, type Database, type OpenOptions } from './db/database.js';
import { Registry } from './registry/registry.js';
import { registerOperation } from './rules/evaluate.js';
import type { Plugin } from './registry/types.js';
import { corePlugin } from './core/index.js';
import { MetadataService } from '../metadata/service.js';
import { loadPackage } from '../metadata/loader.js';
import { DataService } from './data/service.js';
import { HOOK_ORDER } from './data/hooks.js';
import { OwnershipService } from './data/ownership.js';
import { AUDIT_SQL } from './audit/log.js';
import { COLLATION_SQL } from './data/collation.js';
import { SEARCH_SQL } from './model/search.js';
import { FILES_SQL } from './files/table.js';
import { COMMENTS_SQL } from './data/operations/comments.js';
import { LocalFileStorage, type FileStorage } from './files/storage.js';
import { JOB_FAILURES_SQL } from './notifications/job-failures.js';
import { AuthService, type AuthOptions } from './auth/service.js';
import { createUser, type NewUser } from './auth/users.js';
import { registerRollups } from './rollup/hook.js';
import { registerReferenceFormulas } from './rollup/reference-formulas.js';
import { createApp } from './http/app.js';
import type { TrustProxy } from './http/client.js';
import { logFailure } from './log.js';
import { WORKFLOW_SQL, WorkflowService } from './workflow/service.js';
import { INBOX_SQL, Inbox } from './notifications/inbox.js';
import { JobQueue, type JobQueueOptions } from './jobs/queue.js';
import { APPROVAL_SQL, ApprovalService } from './approvals/service.js';
import { AutomationScheduler } from './automations/schedule.js';
import { DatabaseMaintenance } from './jobs/database-maintenance.js';
import { FileRetentionJob } from './jobs/file-retention.js';
import type { FileRetention } from './files/retention.js';
import { AfterCommitActions } from './automations/after-commit.js';
import { ChangeAutomations } from './automations/on-change.js';
import { MailSender, type MailOptions } from './notifications/mailer.js';
import { FieldBackfill } from '../metadata/backfill.js';
import { SchemaBuilds } from '../metadata/schema-builds.js';
import { ReportService } from './reports/service.js';
import { DashboardService } from './reports/dashboards.js';
import { TARGET_SQL, TargetService } from './reports/targets.js';
import { IMPORT_SQL, ImportService } from './imports/service.js';
import { SAVED_VIEWS_SQL, SavedViews } from './views/saved.js';
import { uuidv7 } from './model/ids.js';

export interface EngineOptions extends OpenOptions {
  plugins?: Plugin[];
  /** An already open database (tests share one). */
  database?: Database;
  auth?: AuthOptions;
  jobs?: JobQueueOptions;
  /** SMTP for the e-mail outbox (default: SMTP_URL and MAIL_FROM from the environment). */
  mail?: MailOptions;
  /** How long a deploy's schema change may wait for a table's lock (default 3 s). */
  deployLockTimeoutMs?: number;
  /** Whether X-Forwarded-For names the client (TRUST_PROXY; default: no, the socket's peer does). */
  trustProxy?: TrustProxy;
  /** Where uploaded import files are kept (default: imports/ in the data folder, else in the system's temp folder). */
  importDir?: string;
  /** Where uploaded files go (default: a folder in the system's temporary directory; engine/main.ts gives the data folder's). */
  files?: FileStorage;
  /** How long removed attachments and uploads no record took are kept (files/retention.ts). */
  fileRetention?: FileRetention;
}

/** Users and departments: entities like any other, deployed with the engine on first start. */
export const SYSTEM_PACKAGE = join(resolve(import.meta.dirname, '..'), 'metadata', 'system');

export async function createEngine(options: EngineOptions = {}) {
  const database = options.database ?? (await openDatabase(options));
  const registry = new Registry().use(corePlugin);
  for (const plugin of options.plugins ?? []) registry.use(plugin);
  // json-logic has one operation table per process (json-logic-js is a singleton).
  for (const op of registry.operations()) registerOperation(op.name, op.evaluate, op.sql);
  await database.exec(AUDIT_SQL);
  await database.exec(COLLATION_SQL);
  await database.exec(SEARCH_SQL);
  await database.exec(FILES_SQL);
  await database.exec(COMMENTS_SQL);
  await database.exec(JOB_FAILURES_SQL);
  await database.exec(WORKFLOW_SQL);
  await database.exec(INBOX_SQL);
  await database.exec(APPROVAL_SQL);
  await database.exec(TARGET_SQL);
  await database.exec(IMPORT_SQL);
  await database.exec(SAVED_VIEWS_SQL);
  const metadata = new MetadataService(database, registry, options.deployLockTimeoutMs);
  await metadata.start();
  if (!metadata.model.entity('user')) await metadata.deploy({ documents: await loadPackage(SYSTEM_PACKAGE) });

  const auth = new AuthService(database, metadata, options.auth);
  await auth.start();
  const data = new DataService(database, () => metadata.model, registry);
  // Who a user is (department, roles, manager) feeds every principal: rebuild them when it changes.
  data.hooks.register({
    name: 'auth',
    order: HOOK_ORDER.auth,
    afterCommit: (entity) => {
      if (entity === 'user' || entity === 'department') auth.invalidate().catch((e) => logFailure('auth invalidation failed', e));
    },
  });
  registerRollups(data);
  registerReferenceFormulas(data);
  const ownership = new OwnershipService(data, () => auth.invalidate());
  const jobs = new JobQueue(database, options.jobs);
  const workflows = new WorkflowService(data, registry, jobs);
  const approvals = new ApprovalService(data, registry, jobs);
  const scheduler = new AutomationScheduler(data, jobs);
  new AfterCommitActions(data, registry, jobs);
  const maintenance = new DatabaseMaintenance(database, jobs);
  new ChangeAutomations(data);
  const backfill = new FieldBackfill(database, () => metadata.model, jobs, metadata, data.hooks);
  const schemaBuilds = new SchemaBuilds(database, () => metadata.model, jobs, metadata);
  const files = options.files ?? new LocalFileStorage(join(tmpdir(), 'metacrm-files'));
  const fileRetention = new FileRetentionJob(jobs, database, files, options.fileRetention);
  const mailer = new MailSender(database, jobs, {
    ...(options.mail ?? { url: process.env.SMTP_URL, from: process.env.MAIL_FROM }),
    files,
  });
  const imports = new ImportService(
    database,
    data,
    jobs,
    files,
    options.importDir ?? join(options.dataDir ?? join(tmpdir(), 'metacrm'), 'imports'),
  );
  await jobs.start();
  await mailer.start();
  await maintenance.start();
  await fileRetention.start();
  await imports.startHousekeeping();
  await scheduler.sync(metadata.model);
  // Deploys here or in another process (NOTIFY) change the schedules.
  // Syncs run one after another, and closing waits for the one under way (else it would meet a stopped queue).
  let syncing: Promise<void> = Promise.resolve();
  const stopSync = metadata.onChange((model) => {
    syncing = syncing.then(() => scheduler.sync(model)).catch((e) => logFailure('schedule sync failed', e));
  });
  const inbox = new Inbox(database);
  const reports = new ReportService(data);
  const targets = new TargetService(data, reports);
  const dashboards = new DashboardService({
    data,
    reports,
    inbox: (ctx) => approvals.inbox(ctx),
    target: (ctx, name) => targets.get(ctx, name, {}),
  });
  const savedViews = new SavedViews(database, data, () => uuidv7());
  const app = createApp({
    data,
    ownership,
    workflows,
    approvals,
    inbox,
    metadata,
    auth,
    jobs,
    reports,
    dashboards,
    targets,
    imports,
    savedViews,
    files,
    driver: database.driver,
    trustProxy: options.trustProxy,
  });
  return {
    database,
    registry,
    metadata,
    auth,
    data,
    ownership,
    workflows,
    approvals,
    scheduler,
    mailer,
    jobs,
    backfill,
    schemaBuilds,
    reports,
    dashboards,
    targets,
    imports,
    savedViews,
    files,
    app,
    createUser: (spec: NewUser) => createUser(data, auth, spec),
    async close() {
      stopSync();
      await syncing;
      await jobs.stop();
      await auth.stop();
      await metadata.stop();
      if (!options.database) await database.close();
    },
  };
}

export type Engine = Awaited<ReturnType<typeof createEngine>>;
