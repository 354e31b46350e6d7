/**
 * Scheduled automations: each automation with a `schedule` trigger is a pg-boss cron schedule on a
 * queue of its own (`automation.<name>`). pg-boss sends each tick once, whatever the number of server
 * processes, and the job survives restarts. A run walks the entity's live records in id order, a page
 * at a time, and runs the actions for each record whose condition holds — each record in its own
 * transaction, so one failing record does not undo the others (its failure is reported and the rest go on).
 */
import { recordJobFailure } from '../notifications/job-failures.js';
import { and, asc, gt, isNull } from 'drizzle-orm';
import type { JobQueue } from '../jobs/queue.js';
import type { AppModel } from '../model/compile.js';
import type { AutomationDoc } from './kind.js';
import { engineContext, type DataService } from '../data/service.js';
import { toRecord } from '../data/records.js';
import { lookupValues } from './lookups.js';
import { evaluateRule, isTruthy } from '../rules/evaluate.js';

const PAGE = 500;
const queueOf = (automation: string) => `automation.${automation}`;

export interface ScheduleRun {
  automation: string;
  matched: number;
  failed: { id: string; error: string }[];
}

export class AutomationScheduler {
  private synced = new Map<string, string>(); // queue → cron@tz
  /** The last runs (for operators and tests). */
  readonly runs: ScheduleRun[] = [];

  constructor(
    private readonly data: DataService,
    private readonly jobs: JobQueue,
  ) {}

  private scheduled(model: AppModel) {
    return model.documents.all<AutomationDoc>('automation').filter((a) => a.trigger.schedule);
  }

  private syncing: Promise<void> = Promise.resolve();

  /**
   * Makes the queue's schedules match the deployed automations (on start and after every deploy).
   * Syncs run one after another: overlapping ones would race on pg-boss's queue and schedule rows.
   */
  sync(model: AppModel): Promise<void> {
    const next = this.syncing.then(() => this.apply(model));
    this.syncing = next.catch(() => {});
    return next;
  }

  private async apply(model: AppModel) {
    const wanted = new Map(this.scheduled(model).map((a) => [queueOf(a.name), a]));
    for (const [queue, automation] of wanted) {
      const { cron, timeZone = 'UTC' } = automation.trigger.schedule!;
      if (this.synced.get(queue) === `${cron}@${timeZone}`) continue;
      await this.jobs.ensureQueue({ name: queue, run: async () => void (await this.run(automation.name)), retryLimit: 0 });
      await this.jobs.schedule(queue, cron, { automation: automation.name }, timeZone);
      this.synced.set(queue, `${cron}@${timeZone}`);
    }
    for (const schedule of await this.jobs.schedules()) {
      if (schedule.name.startsWith('automation.') && !wanted.has(schedule.name)) {
        await this.jobs.unschedule(schedule.name);
        this.synced.delete(schedule.name);
      }
    }
  }

  /** One run of a scheduled automation over the current records. */
  async run(name: string): Promise<ScheduleRun> {
    const model = this.data.model();
    const automation = model.documents.get<AutomationDoc>('automation', name);
    const entity = automation && model.entity(automation.entity);
    const result: ScheduleRun = { automation: name, matched: 0, failed: [] };
    if (!automation?.trigger.schedule || !entity) return result; // undeployed since the tick was sent
    const now = new Date().toISOString();
    let after: string | undefined;
    for (;;) {
      const rows = await this.data.database.db
        .select()
        .from(entity.table)
        .where(and(isNull(entity.columns.deleted_at), after ? gt(entity.columns.id, after) : undefined))
        .orderBy(asc(entity.columns.id))
        .limit(PAGE);
      for (const row of rows) {
        const record = toRecord(row as Record<string, unknown>);
        const base = { ...record, $now: now, $user: {}, $automation: name };
        const data = automation.lookups
          ? {
              ...base,
              $lookup: await lookupValues(this.data.database.db, model, automation.lookups, {
                $record: record,
                $now: now,
                $user: {},
              }),
            }
          : base;
        if (automation.condition !== undefined && !isTruthy(evaluateRule(automation.condition, data))) continue;
        result.matched++;
        try {
          await this.data.database.db.transaction(async (tx) => {
            for (const action of automation.actions)
              await this.data.runAction(tx, engineContext(), entity.name, action, record, data);
          });
        } catch (e) {
          result.failed.push({ id: record.id as string, error: (e as Error).message });
          await recordJobFailure(this.data.database, {
            kind: 'automation',
            job: `automation ${name}`,
            entity,
            recordId: record.id as string,
            error: e,
          });
        }
      }
      if (rows.length < PAGE) break;
      after = (rows.at(-1) as { id: string }).id;
    }
    this.runs.push(result);
    if (this.runs.length > 50) this.runs.shift();
    return result;
  }
}
