/** The file storage's retention (files/retention.ts), run daily through the job queue. */
import type { Database } from '../db/database.js';
import type { FileStorage } from '../files/storage.js';
import { purgeFiles, type FileRetention } from '../files/retention.js';
import type { JobQueue } from './queue.js';

const QUEUE = 'file-retention';

export class FileRetentionJob {
  constructor(
    private readonly jobs: JobQueue,
    database: Database,
    storage: FileStorage,
    retention: FileRetention = {},
  ) {
    jobs.define({ name: QUEUE, retryLimit: 2, run: async () => void (await purgeFiles(database, storage, retention)) });
  }

  /** Schedules the daily run (after the queue started): at night in China, before the working day. */
  async start() {
    await this.jobs.schedule(QUEUE, '40 3 * * *', {}, 'Asia/Shanghai');
  }
}
