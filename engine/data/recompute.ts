/**
 * Keeps computed fields (formulas, and any plugin field type that computes on write) true for records
 * written before the field existed or before its definition changed — the way a formula field reads in
 * Salesforce, for every record, not only for those written since.
 *
 * A deploy that adds a computed field to an existing entity, or changes one, queues a recompute job for
 * that entity in the deploy's own transaction. The job walks the table by id in batches (recycle bin
 * included: a restored record shows the new values), computes every computed field in dependency order
 * with the same hooks a write runs, and writes back only the rows whose values differ — one statement
 * per batch, and only where the row's version is still the one it read, so a write that landed in
 * between (and computed with the new definition itself) is left alone. A recompute changes no version,
 * no updated_at and no audit trail: nobody edited the record.
 */
import { getTableName, sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import type { JobQueue } from '../jobs/queue.js';
import type { AppModel, CompiledEntity, CompiledField } from '../model/compile.js';
import { canonical, type MetadataService } from '../../metadata/service.js';
import { decodeRows } from './records.js';
import { columnText, selectFrom } from './query.js';

export const RECOMPUTE_QUEUE = 'fields.recompute';
/** Rows read, computed and written per statement. */
const BATCH = 500;

interface RecomputeJob {
  entity: string;
}

/** The fields a write computes (not those that allocate, like auto-numbers: existing numbers stay). */
const computedFields = (entity: CompiledEntity): CompiledField[] => entity.writeHooks.filter((f) => !f.type.allocates);

/**
 * Whether the deploy changed what an existing entity's computed fields hold: one added, or one whose
 * definition changed. A new entity has no rows; a removed computed field leaves nothing to compute.
 */
export function computedFieldsChanged(before: CompiledEntity | undefined, after: CompiledEntity): boolean {
  if (!before) return false;
  return computedFields(after).some((f) => {
    const old = before.field(f.name);
    return !old || canonical(old.doc) !== canonical(f.doc);
  });
}

export class FieldRecompute {
  constructor(
    private readonly database: Database,
    private readonly model: () => AppModel,
    private readonly jobs: JobQueue,
    metadata: MetadataService,
  ) {
    jobs.define<RecomputeJob>({ name: RECOMPUTE_QUEUE, run: async ({ entity }) => void (await this.run(entity)) });
    metadata.onDeploy(async (tx, before, after) => {
      for (const entity of after.entities.values()) {
        if (computedFieldsChanged(before.entity(entity.name), entity)) await jobs.send<RecomputeJob>(RECOMPUTE_QUEUE, { entity: entity.name }, { tx });
      }
    });
  }

  /** Recomputes an entity's computed fields on every row; returns how many rows changed. */
  async run(entityName: string): Promise<number> {
    let changed = 0;
    let after: string | undefined;
    for (;;) {
      // The model of the moment: a deploy since the job was queued computes with its own definitions.
      const entity = this.model().entity(entityName);
      const fields = entity ? computedFields(entity) : [];
      if (!entity || !fields.length) return changed;
      const id = columnText(entity, 'id');
      const rows = decodeRows(
        entity,
        await this.database.rows(sql`${selectFrom(entity, entity.columnNames)} where ${after ? sql`${sql.raw(id)} > ${after}::uuid` : sql`true`} order by ${sql.raw(id)} limit ${sql.raw(String(BATCH))}`),
      );
      if (!rows.length) return changed;
      changed += await this.writeBatch(entity, fields, await this.compute(entity, fields, rows));
      after = rows[rows.length - 1].id as string;
    }
  }

  /** The rows whose computed values differ from the stored ones: id, version and the new values, by column name. */
  private async compute(entity: CompiledEntity, fields: CompiledField[], rows: Record<string, unknown>[]) {
    const now = new Date();
    const changes: Record<string, unknown>[] = [];
    for (const row of rows) {
      const record = { ...row };
      let differs = false;
      for (const f of fields) {
        const value = await f.type.onWrite!({ field: f.doc, entity: entity.name, operation: 'update', record, tx: this.database.db, now });
        if (value === undefined) continue;
        if (canonical(value) !== canonical(row[f.name])) differs = true;
        record[f.name] = value;
      }
      if (differs) changes.push(Object.fromEntries([['id', row.id], ['version', row.version], ...fields.map((f) => [entity.columns[f.name].name, record[f.name]])]));
    }
    return changes;
  }

  /**
   * One UPDATE for a batch: the values travel as one JSON parameter and jsonb_populate_recordset turns
   * them into the table's own column types (dates, numerics, arrays alike).
   */
  private async writeBatch(entity: CompiledEntity, fields: CompiledField[], changes: Record<string, unknown>[]): Promise<number> {
    if (!changes.length) return 0;
    const table = `"${getTableName(entity.table)}"`;
    const set = fields.map((f) => `"${entity.columns[f.name].name}" = "$v"."${entity.columns[f.name].name}"`).join(', ');
    const rows = await this.database.rows(
      sql`update ${sql.raw(table)} set ${sql.raw(set)} from jsonb_populate_recordset(null::${sql.raw(table)}, ${JSON.stringify(changes)}::jsonb) "$v"
          where ${sql.raw(columnText(entity, 'id'))} = "$v"."id" and ${sql.raw(columnText(entity, 'version'))} = "$v"."version" returning ${sql.raw(columnText(entity, 'id'))}`,
    );
    return rows.length;
  }
}
