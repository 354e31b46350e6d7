/**
 * Non-unique indexes on tables that already exist are built after the deploy commits, with
 * CREATE INDEX CONCURRENTLY, by a job the deploy queues in its own transaction (the plan marks those
 * steps `afterCommit`). Inside the deploy, the build would hold the table's lock for as long as it reads
 * the table: writes wait, and reads too when the same deploy added the column. Concurrently, reads and
 * writes go on; the index serves queries once it is valid. Unique indexes stay in the deploy: they are
 * constraints, in force at commit or the deploy fails.
 *
 * The job builds what the model of the moment says: an index dropped or made unique since is left
 * alone. A build that failed half-way leaves an invalid index, which the retry drops first.
 */
import { sql } from 'drizzle-orm';
import type { Database } from '../engine/db/database.js';
import type { JobQueue } from '../engine/jobs/queue.js';
import type { AppModel } from '../engine/model/compile.js';
import { createIndexSql, dropIndexSql } from './planner.js';
import type { DeployJob, MetadataService } from './service.js';

export const INDEX_QUEUE = 'schema.index';

interface IndexJob {
  entity: string;
  index: string;
}

export class IndexBuilds {
  constructor(
    private readonly database: Database,
    private readonly model: () => AppModel,
    jobs: JobQueue,
    metadata: MetadataService,
  ) {
    jobs.define<IndexJob>({ name: INDEX_QUEUE, run: (job) => this.build(job), retryLimit: 5, retryDelaySeconds: 10 });
    metadata.onDeploy(async (tx, _before, _after, plan) => {
      const queued: DeployJob[] = [];
      for (const step of plan) {
        if (!step.afterCommit || step.op !== 'create_index') continue;
        const id = await jobs.send<IndexJob>(INDEX_QUEUE, { entity: step.entity, index: step.index! }, { tx });
        if (id) queued.push({ queue: INDEX_QUEUE, id, entity: step.entity, description: step.description });
      }
      return queued;
    });
  }

  async build({ entity, index }: IndexJob): Promise<void> {
    const spec = this.model().entity(entity)?.indexes.find((i) => i.name === index);
    if (!spec || spec.unique) return;
    const [existing] = await this.database.rows<{ valid: boolean }>(
      sql`select i.indisvalid as valid from pg_index i join pg_class c on c.oid = i.indexrelid where c.relname = ${index} and c.relnamespace = 'public'::regnamespace`,
    );
    if (existing?.valid) return;
    if (existing) await this.database.exec(dropIndexSql(index, true));
    await this.database.exec(createIndexSql(entity, spec, true));
  }
}
