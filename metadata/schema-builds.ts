/**
 * Schema work that reads a whole existing table runs after the deploy commits, by a job the deploy
 * queues in its own transaction (the plan marks those steps `afterCommit`):
 *
 * - a non-unique index on a table that already exists: CREATE INDEX CONCURRENTLY;
 * - a foreign key on a column the deploy added: added NOT VALID in the deploy (the column holds only
 *   NULLs, and the key is enforced for every write from then on), validated here.
 *
 * Inside the deploy, either would hold the table's lock for as long as it reads the table: writes wait,
 * and reads too when the same deploy added the column. Here reads and writes go on. Unique indexes stay
 * in the deploy: they are constraints, in force at commit or the deploy fails.
 *
 * A job does what the model of the moment says: an index or key dropped (or an index made unique) since
 * is left alone. A concurrent build that failed half-way leaves an invalid index, which the retry drops
 * first.
 */
import { sql } from 'drizzle-orm';
import type { Database } from '../engine/db/database.js';
import type { JobQueue } from '../engine/jobs/queue.js';
import type { AppModel } from '../engine/model/compile.js';
import { createIndexSql, dropIndexSql, validateForeignKeySql } from './planner.js';
import type { DeployJob, MetadataService } from './service.js';

export const SCHEMA_QUEUE = 'schema.build';

type SchemaJob =
  | { op: 'create_index'; entity: string; index: string }
  | { op: 'validate_foreign_key'; entity: string; field: string };

export class SchemaBuilds {
  constructor(
    private readonly database: Database,
    private readonly model: () => AppModel,
    jobs: JobQueue,
    metadata: MetadataService,
  ) {
    jobs.define<SchemaJob>({ name: SCHEMA_QUEUE, run: (job) => this.run(job), retryLimit: 5, retryDelaySeconds: 10 });
    metadata.onDeploy(async (tx, _before, _after, plan) => {
      const queued: DeployJob[] = [];
      for (const step of plan) {
        if (!step.afterCommit) continue;
        const job: SchemaJob | undefined =
          step.op === 'create_index'
            ? { op: step.op, entity: step.entity, index: step.index! }
            : step.op === 'validate_foreign_key'
              ? { op: step.op, entity: step.entity, field: step.field! }
              : undefined;
        const id = job && (await jobs.send<SchemaJob>(SCHEMA_QUEUE, job, { tx }));
        if (id) queued.push({ queue: SCHEMA_QUEUE, id, entity: step.entity, description: step.description });
      }
      return queued;
    });
  }

  async run(job: SchemaJob): Promise<void> {
    if (job.op === 'create_index') return this.buildIndex(job.entity, job.index);
    if (this.model().entity(job.entity)?.field(job.field)?.reference)
      await this.database.exec(validateForeignKeySql(job.entity, job.field));
  }

  private async buildIndex(entity: string, index: string): Promise<void> {
    const spec = this.model()
      .entity(entity)
      ?.indexes.find((i) => i.name === index);
    if (!spec || spec.unique) return;
    const [existing] = await this.database.rows<{ valid: boolean }>(
      sql`select i.indisvalid as valid from pg_index i join pg_class c on c.oid = i.indexrelid where c.relname = ${index} and c.relnamespace = 'public'::regnamespace`,
    );
    if (existing?.valid) return;
    if (existing) await this.database.exec(dropIndexSql(index, true));
    await this.database.exec(createIndexSql(entity, spec, true));
  }
}
