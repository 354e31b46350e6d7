/**
 * The embedded database's autovacuum (db/maintenance.ts), run every ten minutes through the job queue.
 * On PostgreSQL the server's own autovacuum does this: nothing is scheduled there.
 */
import type { Database } from '../db/database.js';
import type { JobQueue } from './queue.js';

const QUEUE = 'database-maintenance';

export class DatabaseMaintenance {
  constructor(
    private readonly database: Database,
    private readonly jobs: JobQueue,
  ) {
    jobs.define({ name: QUEUE, retryLimit: 0, run: async () => void (await database.maintain()) });
  }

  /** Schedules the maintenance (after the queue started), on the embedded database only. */
  async start() {
    if (this.database.driver === 'pglite') await this.jobs.schedule(QUEUE, '*/10 * * * *', {}, 'UTC');
    else await this.jobs.unschedule(QUEUE);
  }
}
