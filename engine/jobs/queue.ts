/**
 * The durable job queue: pg-boss, in the same database as the records, on both drivers (PGlite and
 * postgres.js through Database.sqlClient). Timers, escalations, scheduled automations and
 * after-commit actions are jobs — never in-memory timeouts — so they survive a restart and, with
 * several server processes on one database, each runs once (pg-boss fetches with SKIP LOCKED and
 * sends each cron tick once).
 *
 * A job sent with a transaction (`send(…, { tx })`) is written by that transaction: it exists only if
 * what caused it committed.
 */
import PgBoss from 'pg-boss';
import type { Database, Db } from '../db/database.js';
import { UUID } from '../model/ids.js';

export interface JobQueueOptions {
  /** Fetch and run jobs in this process (false: only send them, e.g. a process that serves HTTP only). */
  work?: boolean;
  /** How often an idle worker looks for due jobs. */
  pollingSeconds?: number;
}

export interface QueueDefinition<T> {
  name: string;
  run(data: T, job: { id: string; retryCount: number }): Promise<void>;
  /** Attempts after the first failure, with exponential backoff from retryDelaySeconds. */
  retryLimit?: number;
  retryDelaySeconds?: number;
  /** Jobs of this queue run at once in each process (default 1): long ones (imports) should not wait for each other. */
  concurrency?: number;
  /**
   * Due jobs a worker takes per look (default 20), run one after another. pg-boss waits a polling
   * interval after every look, found jobs or not: one job per look would drain a backlog (the timers
   * that fell due while the server was down, or those of a fresh demo load) at one job per interval.
   * Long jobs that should run side by side (imports) take one per look and several workers instead.
   */
  batchSize?: number;
}

const BATCH_SIZE = 20;

export interface SendOptions {
  /** Run no earlier than this. */
  startAfter?: Date;
  /** Write the job in this transaction. */
  tx?: Db;
  /** At most one queued job per key (e.g. one escalation per approval task). */
  singletonKey?: string;
}

const SCHEMA = 'jobs';

export interface JobStatus {
  queue: string;
  id: string;
  /** pg-boss's states: created, retry, active, completed, cancelled, failed. */
  state: string;
  createdOn: Date;
  startedOn: Date | null;
  completedOn: Date | null;
  retryCount: number;
}

export class JobQueue {
  private boss: PgBoss | undefined;
  private readonly queues = new Map<string, QueueDefinition<never>>();
  private started = false;

  constructor(
    private readonly database: Database,
    private readonly options: JobQueueOptions = {},
  ) {}

  /** Declares a queue and its handler; done by the services before start(). */
  define<T>(queue: QueueDefinition<T>) {
    if (this.started) throw new Error(`Queue ${queue.name} defined after the job queue started`);
    this.queues.set(queue.name, queue as QueueDefinition<never>);
    return this;
  }

  async start() {
    const work = this.options.work ?? true;
    const boss = new PgBoss({
      db: this.database.sqlClient(),
      schema: SCHEMA,
      // Cron schedules need the clock monitor; maintenance archives finished jobs.
      schedule: work,
      supervise: work,
      migrate: true,
    });
    boss.on('error', (error) => console.error('job queue:', error.message));
    await boss.start();
    this.boss = boss;
    for (const queue of this.queues.values()) await this.install(queue);
    this.started = true;
  }

  /** Creates the queue (with its retry policy) if it does not exist, and works it in this process. */
  private async install(queue: QueueDefinition<never>) {
    const boss = this.running;
    if (!(await boss.getQueue(queue.name)))
      await boss.createQueue(queue.name, {
        name: queue.name,
        retryLimit: queue.retryLimit ?? 3,
        retryDelay: queue.retryDelaySeconds ?? 5,
        retryBackoff: true,
      });
    if (!(this.options.work ?? true)) return;
    await boss.offWork(queue.name).catch(() => {}); // a queue installed again (a schedule changed) keeps one worker
    for (let i = 0; i < (queue.concurrency ?? 1); i++)
      await boss.work<never>(
        queue.name,
        {
          pollingIntervalSeconds: this.options.pollingSeconds ?? 2,
          batchSize: queue.batchSize ?? BATCH_SIZE,
          includeMetadata: true,
        },
        async (jobs) => {
          // Each job of the batch succeeds or fails on its own: a failed one is failed here (retried by its
          // queue's policy); pg-boss then completes the others — only jobs still active are completed.
          for (const job of jobs) {
            try {
              await queue.run(job.data, { id: job.id, retryCount: job.retryCount });
            } catch (error) {
              // pg-boss keeps the error as the job's output (serialized as when it fails a job itself).
              await boss.fail(queue.name, job.id, error as object);
            }
          }
        },
      );
  }

  private get running(): PgBoss {
    if (!this.boss) throw new Error('The job queue has not started');
    return this.boss;
  }

  /** Queues a job; returns its id (null when a singleton key already has one queued). */
  async send<T extends object>(queue: string, data: T, options: SendOptions = {}): Promise<string | null> {
    if (!this.queues.has(queue)) throw new Error(`No queue ${queue}`);
    return this.running.send(queue, data, {
      ...(options.startAfter ? { startAfter: options.startAfter } : {}),
      ...(options.singletonKey ? { singletonKey: options.singletonKey } : {}),
      ...(options.tx ? { db: this.database.sqlClient(options.tx) } : {}),
    });
  }

  /** Queues several jobs of one queue with one statement (a timer for each of a thousand records). */
  async sendMany<T extends object>(queue: string, jobs: { data: T; startAfter?: Date }[], options: { tx?: Db } = {}) {
    if (!this.queues.has(queue)) throw new Error(`No queue ${queue}`);
    if (!jobs.length) return;
    await this.running.insert(
      jobs.map((j) => ({ name: queue, data: j.data, ...(j.startAfter ? { startAfter: j.startAfter } : {}) })),
      options.tx ? { db: this.database.sqlClient(options.tx) } : {},
    );
  }

  /** Cancels queued jobs by id (a timer whose state was left), in the transaction if given. */
  async cancel(queue: string, ids: string[], tx?: Db) {
    if (ids.length) await this.running.cancel(queue, ids, tx ? { db: this.database.sqlClient(tx) } : undefined);
  }

  /** Runs `queue` on a cron schedule in a time zone; one schedule per queue. */
  async schedule<T extends object>(queue: string, cron: string, data: T, tz: string) {
    await this.running.schedule(queue, cron, data, { tz });
  }

  async unschedule(queue: string) {
    await this.running.unschedule(queue);
  }

  async schedules() {
    return this.running.getSchedules();
  }

  /** A job's state (created, active, completed, failed…) for tests and operators. */
  async job(queue: string, id: string) {
    return this.running.getJobById(queue, id, { includeArchive: true });
  }

  /**
   * Where a job of a queue this process defines stands — state and times, not its data or output (which
   * may hold what the operator asking should not see); undefined when there is no such job.
   */
  async status(queue: string, id: string): Promise<JobStatus | undefined> {
    if (!this.queues.has(queue) || !UUID.test(id)) return undefined;
    const job = await this.job(queue, id);
    if (!job) return undefined;
    return {
      queue,
      id: job.id,
      state: job.state,
      createdOn: job.createdOn,
      startedOn: job.startedOn ?? null,
      completedOn: job.completedOn ?? null,
      retryCount: job.retryCount,
    };
  }

  /** Adds a queue after start (one per cron automation). */
  async ensureQueue(queue: QueueDefinition<never>) {
    this.queues.set(queue.name, queue);
    await this.install(queue);
  }

  async stop() {
    if (!this.boss) return;
    // Let a running job finish (bounded) so that a restart does not leave it active until it expires.
    await this.boss.stop({ graceful: true, wait: true, timeout: 5000, close: false });
    this.boss = undefined;
  }
}
