/**
 * After-commit actions (webhooks, and any action a document marks `"afterCommit": true`): the change's
 * transaction writes a job instead of running the action, so a rolled-back change calls nobody, and a
 * committed one is not lost when the other side is down — the queue retries with backoff.
 */
import type { DataService } from '../data/service.js';
import { engineContext } from '../data/service.js';
import type { RegistryView } from '../registry/types.js';
import type { WorkflowAction } from '../workflow/kind.js';
import type { JobQueue } from '../jobs/queue.js';

const QUEUE = 'action-after-commit';

interface DeferredAction {
  action: WorkflowAction;
  entity: string;
  record: Record<string, unknown>;
  data: Record<string, unknown>;
}

export class AfterCommitActions {
  constructor(
    private readonly data: DataService,
    private readonly registry: RegistryView,
    jobs: JobQueue,
  ) {
    jobs.define<DeferredAction>({ name: QUEUE, retryLimit: 5, retryDelaySeconds: 2, run: (job) => this.run(job) });
    data.hooks.provide('deferAction', (tx, job) => jobs.send(QUEUE, job, { tx }));
  }

  /** Runs the action as the engine, with the record as it was when the change committed. */
  private async run(job: DeferredAction) {
    if (!this.registry.action(job.action.type)?.run) return; // the plugin is gone: nothing to run
    await this.data.database.db.transaction((tx) =>
      this.data.performAction(tx, engineContext(), job.entity, job.action, job.record, job.data),
    );
  }
}
