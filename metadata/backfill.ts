/**
 * Brings existing records up to a deploy's fields, the way a Salesforce formula reads for every record
 * and "generate auto numbers for existing records" numbers them:
 *
 * - computed fields (formulas, and any plugin field type that computes on write): a deploy that adds
 *   one to an entity with records, or changes one, gets every row recomputed — recycle bin included,
 *   so a restored record shows current values — with the same hooks a write runs, in dependency order;
 *   only the rows whose values differ are written;
 * - allocating fields (auto-numbers) added to an entity with records: the rows without a number get one,
 *   in the order they were created, with date tokens from their creation time.
 *
 * The deploy queues one job per entity in its own transaction (no job for a deploy that rolls back). The
 * job walks the table in batches of 500 and writes each batch with one statement, only where the row's
 * version is still the one it read — a write that landed in between computed with the new definitions
 * itself. It changes no version, no updated_at and writes no audit entry: nobody edited the records.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Database, Db } from '../engine/db/database.js';
import type { JobQueue } from '../engine/jobs/queue.js';
import type { AppModel, CompiledEntity, CompiledField } from '../engine/model/compile.js';
import { canonical, type DeployJob, type MetadataService } from './service.js';
import { decodeRows, decodeValue } from '../engine/data/records.js';
import type { RecordHooks } from '../engine/data/hooks.js';
import { columnText, selectFrom, tableText } from '../engine/data/query.js';
import { checkRule } from '../engine/rules/check.js';

export const BACKFILL_QUEUE = 'fields.backfill';
/** Rows read, computed and written per statement. */
const BATCH = 500;

interface BackfillJob {
  entity: string;
  /** Recompute the computed fields of every row. */
  compute: boolean;
  /** Allocating fields (auto-numbers) to fill where they are empty. */
  allocate: string[];
}

/** The fields a write computes (not those that allocate: existing numbers stay as issued). */
const computedFields = (entity: CompiledEntity): CompiledField[] => entity.writeHooks.filter((f) => !f.type.allocates);

/**
 * The formulas that read one of `fields`, directly or through another formula (write hooks are in
 * dependency order, so one pass finds the chains).
 */
function formulasReading(entity: CompiledEntity, fields: readonly string[]): CompiledField[] {
  const read = new Set(fields);
  const all = new Set([...entity.columnKinds.keys(), 'created_at']);
  return computedFields(entity).filter((f) => {
    if (f.doc.expr === undefined) return false;
    if (![...checkRule(f.doc.expr, { fields: all }).fieldsUsed].some((name) => read.has(name))) return false;
    read.add(f.name);
    return true;
  });
}

/**
 * What a deploy leaves to do on an existing entity's rows: recompute when a computed field was added or
 * its definition changed; fill allocating fields that are new. A new entity has no rows.
 */
export function backfillOf(
  before: CompiledEntity | undefined,
  after: CompiledEntity,
  /** Did the item attributes of this dictionary change (formulas read them: `decision_role.weight`)? */
  attributesChanged: (dictionary: string) => boolean = () => false,
): BackfillJob | undefined {
  if (!before) return undefined;
  const compute = computedFields(after).some((f) => {
    const old = before.field(f.name);
    if (!old || canonical(old.doc) !== canonical(f.doc)) return true;
    // A formula reading a dictionary item's attribute follows a redeployed dictionary.
    return (
      f.doc.type === 'formula' &&
      [...checkRule(f.doc.expr, { fields: new Set() }).pathsUsed].some((p) => {
        const dictionary = after.field(p.split('.')[0])?.doc.dictionary;
        return typeof dictionary === 'string' && attributesChanged(dictionary);
      })
    );
  });
  const allocate = after.writeHooks.filter((f) => f.type.allocates && !before.field(f.name)).map((f) => f.name);
  return compute || allocate.length ? { entity: after.name, compute, allocate } : undefined;
}

export class FieldBackfill {
  constructor(
    private readonly database: Database,
    private readonly model: () => AppModel,
    jobs: JobQueue,
    metadata: MetadataService,
    /** Told of the records a recompute changed, so roll-ups over them follow. */
    private readonly hooks: RecordHooks,
  ) {
    jobs.define<BackfillJob>({ name: BACKFILL_QUEUE, run: async (job) => void (await this.run(job)) });
    metadata.onDeploy(async (tx, before, after) => {
      const queued: DeployJob[] = [];
      for (const entity of after.entities.values()) {
        const attributes = (model: AppModel, name: string) =>
          canonical((model.dictionaries.get(name)?.items ?? []).map((i) => [i.value, i.attributes ?? null]));
        const job = backfillOf(before.entity(entity.name), entity, (d) => attributes(before, d) !== attributes(after, d));
        const id = job && (await jobs.send<BackfillJob>(BACKFILL_QUEUE, job, { tx }));
        if (job && id) queued.push({ queue: BACKFILL_QUEUE, id, entity: entity.name, description: describeJob(job) });
      }
      return queued;
    });
  }

  /** Does a backfill; returns how many rows it changed. */
  async run(job: BackfillJob): Promise<number> {
    let changed = job.compute ? await this.recompute(job.entity) : 0;
    for (const field of job.allocate) changed += await this.number(job.entity, field);
    return changed;
  }

  /**
   * Recomputes an entity's computed fields on every row — or only the formulas reading one of the
   * fields named in `reading` (a deadline from a creation time that moved); returns how many rows changed.
   */
  async recompute(entityName: string, reading?: readonly string[]): Promise<number> {
    let changed = 0;
    let after: string | undefined;
    for (;;) {
      // The model of the moment: a deploy since the job was queued computes with its own definitions.
      const entity = this.model().entity(entityName);
      const fields = !entity ? [] : reading ? formulasReading(entity, reading) : computedFields(entity);
      if (!entity || !fields.length) return changed;
      const id = sql.raw(columnText(entity, 'id'));
      const { rows } = await this.batch(entity, after ? sql`${id} > ${after}::uuid` : sql`true`, id);
      if (!rows.length) return changed;
      const now = new Date();
      const updates: Record<string, unknown>[] = [];
      const recomputed: Record<string, unknown>[] = [];
      for (const row of rows) {
        const record = { ...row };
        let differs = false;
        for (const f of fields) {
          const value = await f.type.onWrite!({
            field: f.doc,
            entity: entity.name,
            operation: 'update',
            record,
            tx: this.database.db,
            now,
            model: this.model(),
            refresh: true,
          });
          if (value === undefined) continue;
          if (canonical(value) !== canonical(row[f.name])) differs = true;
          record[f.name] = value;
        }
        if (differs) {
          updates.push(update(entity, record, fields));
          recomputed.push(record);
        }
      }
      changed += await this.database.db.transaction(async (tx) => {
        const written = new Set(await this.write(tx, entity, fields, updates));
        await this.hooks.afterBackfill(
          tx,
          entity,
          recomputed.filter((r) => written.has(r.id as string)),
        );
        return written.size;
      });
      after = rows[rows.length - 1].id as string;
    }
  }

  /**
   * Numbers the rows that have no value in an allocating field, oldest first, with their creation time
   * as the "now" of date tokens; counters and rows change together, a batch per transaction.
   */
  async number(entityName: string, fieldName: string): Promise<number> {
    let changed = 0;
    let after: { at: string; id: string } | undefined;
    let retries = 0;
    for (;;) {
      const entity = this.model().entity(entityName);
      const field = entity?.field(fieldName);
      if (!entity || !field?.type.allocates) return changed;
      const [created, id] = [sql.raw(columnText(entity, 'created_at')), sql.raw(columnText(entity, 'id'))];
      const empty = sql`${sql.raw(columnText(entity, fieldName))} is null`;
      const { rows, lastCreatedAt } = await this.batch(
        entity,
        after ? sql`${empty} and (${created}, ${id}) > (${after.at}::timestamptz, ${after.id}::uuid)` : empty,
        sql`${created}, ${id}`,
      );
      if (!rows.length) return changed;
      const written = await this.database.db.transaction(async (tx) => {
        // Each record's date tokens read its own creation time; the batch is allocated in one go.
        const createdAt = (record: Record<string, unknown>) => new Date(record.created_at as string);
        const values = field.type.allocateMany
          ? await field.type.allocateMany({
              field: field.doc,
              entity: entity.name,
              records: rows,
              tx,
              now: createdAt(rows[0]),
              nowOf: createdAt,
            })
          : await Promise.all(
              rows.map((record) =>
                field.type.onWrite!({ field: field.doc, entity: entity.name, operation: 'create', record, tx, now: createdAt(record) }),
              ),
            );
        const updates = rows.map((record, i) => update(entity, { ...record, [fieldName]: values[i] }, [field]));
        return (await this.write(tx, entity, [field], updates)).length;
      });
      changed += written;
      // A row written meanwhile (a timer's transition right after the demo load) kept its old version and
      // was skipped; an update never numbers a record, so read the batch again rather than leave it empty.
      if (written < rows.length && retries++ < 5) continue;
      retries = 0;
      after = { at: lastCreatedAt!, id: rows[rows.length - 1].id as string };
    }
  }

  /**
   * Up to BATCH rows of the entity, recycle bin included, in API form; with the last row's creation time
   * to the microsecond (the API form keeps milliseconds), for a keyset that neither skips nor repeats.
   */
  private async batch(entity: CompiledEntity, where: SQL, order: SQL) {
    const raw = await this.database.rows(
      sql`${selectFrom(entity, entity.columnNames)} where ${where} order by ${order} limit ${sql.raw(String(BATCH))}`,
    );
    const lastCreatedAt = raw.length ? (decodeValue('datetime', raw[raw.length - 1].created_at, true) as string) : undefined;
    return { rows: decodeRows(entity, raw), lastCreatedAt };
  }

  /**
   * One UPDATE for a batch: the values travel as one JSON parameter and jsonb_populate_recordset turns
   * them into the table's own column types (dates, numerics, arrays alike). Returns the ids written.
   */
  private async write(
    db: Db,
    entity: CompiledEntity,
    fields: CompiledField[],
    updates: Record<string, unknown>[],
  ): Promise<string[]> {
    if (!updates.length) return [];
    const table = tableText(entity);
    const set = fields.map((f) => `"${entity.columns[f.name].name}" = "$v"."${entity.columns[f.name].name}"`).join(', ');
    const id = columnText(entity, 'id');
    const rows = await this.database.rows(
      sql`update ${sql.raw(table)} set ${sql.raw(set)} from jsonb_populate_recordset(null::${sql.raw(table)}, ${JSON.stringify(updates)}::jsonb) "$v"
          where ${sql.raw(id)} = "$v"."id" and ${sql.raw(columnText(entity, 'version'))} = "$v"."version" returning ${sql.raw(id)}`,
      db,
    );
    return rows.map((r) => String(r.id));
  }
}

/** What a backfill will do, for the deploy's answer. */
const describeJob = (job: BackfillJob) =>
  [
    job.compute ? `recompute the computed fields of every ${job.entity}` : '',
    ...job.allocate.map((f) => `number the ${job.entity} records without a ${f}`),
  ]
    .filter(Boolean)
    .join('; ');

/** A row's id, version and the values of `fields`, keyed by column name (what jsonb_populate_recordset reads). */
const update = (entity: CompiledEntity, record: Record<string, unknown>, fields: CompiledField[]) =>
  Object.fromEntries([
    ['id', record.id],
    ['version', record.version],
    ...fields.map((f) => [entity.columns[f.name].name, record[f.name]]),
  ]);
