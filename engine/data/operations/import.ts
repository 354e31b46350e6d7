/**
 * Import: one batch of rows (already converted from the file's cells to typed values) through the write
 * pipeline, with an outcome per row instead of one answer for all. Each row is matched against existing
 * records (the entity's `import.match` rules, or an `id` column), then created, updated or skipped:
 *   resolve, authorize  import + create/update rights, field write rights — per row, not per file
 *   validate            schema and rules per row; a bad row is reported, the others go on
 *   compute, write      formulas, defaults, auto-numbers; one INSERT per batch (updates one by one)
 *   audit, automate     audit entries carry the import's note (undo finds them); automations optional
 * A batch is written in a savepoint; when the database or a later phase refuses it, the rows are
 * retried one savepoint each, so the row at fault is named and the others still go in.
 */
import { and, eq, isNull, or, sql, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { Db } from '../../db/database.js';
import { AppError, pointer, type ErrorDetail } from '../../errors.js';
import type { CompiledEntity } from '../../model/compile.js';
import type { ImportRules } from '../../model/kinds/entity.js';
import { t } from '../../model/language.js';
import { uuidv7 } from '../../model/ids.js';
import { copyAudit } from '../../audit/log.js';
import { copyText } from '../../db/copy.js';
import type { OperationContext } from '../context.js';
import { allocate, assertAssignable, compute, defaults, mapDbErrors, resolve, ruleViolations } from '../pipeline.js';
import { normalizeInput, schemaErrors } from '../validation.js';
import { toRecord } from '../records.js';
import { tableText } from '../../model/sql-refs.js';
import type { DataService } from '../service.js';
import { authorizeNewRecords, initialState } from './create.js';
import { applyUpdate } from './update.js';

export type ImportMode = NonNullable<ImportRules['mode']>;
export type Outcome = 'create' | 'update' | 'skip' | 'error';

/** A row of the file with its values as the fields take them; `errors` from the conversion. */
export interface ImportRow {
  /** The row's number in the file (1 = the header row), for messages and the error file. */
  line: number;
  values: Record<string, unknown>;
  errors: ErrorDetail[];
}

export interface RowResult {
  line: number;
  outcome: Outcome;
  id?: string;
  /** Why a row was skipped or refused: paths name fields (/name), in the caller's language. */
  errors?: ErrorDetail[];
}

export interface ImportBatchOptions {
  mode: ImportMode;
  /** Audit note of every write (`import:<id>`): what undo looks for. */
  note: string;
}

/** The match rules in force: the entity's, with `id` always usable. */
export function matchRules(entity: CompiledEntity): string[][] {
  return [['id'], ...(entity.doc.import?.match ?? []).map((m) => m.fields)];
}

const present = (v: unknown) => v !== undefined && v !== null && v !== '';

/**
 * Which of the fields an update by import may change: the entity's `overwrite` list (default every
 * field), never the owner (that is an assignment) nor workflow state fields (those move by transition).
 */
function overwritable(entity: CompiledEntity, field: string) {
  const list = entity.doc.import?.overwrite;
  if (field === 'owner_id' || field === 'id' || entity.workflowFields.has(field)) return false;
  return !list || list.includes(field);
}

export async function importBatch(
  data: DataService,
  ctx: OperationContext,
  entityName: string,
  rows: ImportRow[],
  options: ImportBatchOptions,
  tx: Db,
): Promise<RowResult[]> {
  const { entity, guard } = resolve(data, ctx, entityName);
  guard.assertCan(entity, 'import');
  const lang = ctx.lang;
  const results = new Map<ImportRow, RowResult>();
  const fail = (row: ImportRow, errors: ErrorDetail[]) => results.set(row, { line: row.line, outcome: 'error', errors });
  const skip = (row: ImportRow, message: string, id?: string) =>
    results.set(row, { line: row.line, outcome: 'skip', id, errors: [{ path: '', code: 'skipped', message }] });

  for (const row of rows) if (row.errors.length) fail(row, row.errors);
  const live = rows.filter((r) => !results.has(r));

  // match
  const matches = await findMatches(data, tx, ctx, entity, live);
  const creates: ImportRow[] = [];
  const updates: [ImportRow, Record<string, unknown>][] = [];
  for (const row of live) {
    const match = matches.get(row);
    if (match?.error) fail(row, [match.error]);
    else if (match?.record) {
      if (options.mode === 'insert')
        skip(row, t(lang, 'A matching record exists (insert mode)', '已有匹配的记录（仅新增模式）'), match.record.id as string);
      else updates.push([row, match.record]);
    } else if (options.mode === 'update') skip(row, t(lang, 'No matching record (update mode)', '没有匹配的记录（仅更新模式）'));
    else creates.push(row);
  }

  // create: each row checked on its own, the good ones written together
  if (creates.length && !guard.can(entity, 'create')) {
    const message = t(lang, `You may not create ${entity.label.en} records`, `您无权新建${entity.label['zh-CN']}`);
    for (const row of creates) fail(row, [{ path: '', code: 'forbidden', message }]);
  } else if (creates.length) {
    const now = new Date();
    const prepared: [ImportRow, Record<string, unknown>][] = [];
    // Per batch, not per row: what rules see besides the record, and which sets of fields were checked writable.
    const batch = { context: data.context(ctx), writable: new Set<string>() };
    for (const row of creates) {
      const errors = await prepareCreate(data, tx, ctx, entity, row, now, batch).catch((e) => rowError(e));
      if (Array.isArray(errors)) fail(row, errors);
      else prepared.push([row, errors]);
    }
    for (const [row, record] of await writeCreates(data, tx, ctx, entity, prepared, now, options.note))
      results.set(row, record instanceof Error ? { line: row.line, outcome: 'error', errors: rowError(record) } : record);
  }

  // update: one savepoint each (the pipeline's own update path)
  for (const [row, current] of updates) {
    const changes = Object.fromEntries(
      Object.entries(row.values).filter(
        ([k, v]) => overwritable(entity, k) && JSON.stringify(v ?? null) !== JSON.stringify(current[k] ?? null),
      ),
    );
    if (!Object.keys(changes).length) {
      skip(row, t(lang, 'Nothing to change', '没有需要更新的内容'), current.id as string);
      continue;
    }
    try {
      guard.assertWritable(entity, Object.keys(changes));
      const errors = schemaErrors(entity.validatePatch, normalizeInput(entity, changes), lang, '', entity);
      if (errors.length) throw new AppError(422, 'validation_failed', '', errors);
      const after = await tx.transaction((sp) =>
        applyUpdate(
          data,
          sp,
          ctx,
          entity,
          current,
          normalizeInput(entity, changes) as Record<string, unknown>,
          current.version as number,
          {
            action: 'update',
            note: options.note,
          },
        ),
      );
      results.set(row, { line: row.line, outcome: 'update', id: after.id as string });
    } catch (e) {
      fail(row, rowError(e));
    }
  }
  return rows.map((r) => results.get(r)!);
}

/** A refusal as the details of one row; anything that is not a refusal (a lost connection) propagates. */
function rowError(e: unknown): ErrorDetail[] {
  if (!(e instanceof AppError)) throw e;
  return e.details.length
    ? e.details.map((d) => ({ ...d, path: d.path.replace(/^\/\d+(?=\/|$)/, '') }))
    : [{ path: '', code: e.code, message: e.message }];
}

interface Match {
  record?: Record<string, unknown>;
  error?: ErrorDetail;
}

/**
 * Existing records for the rows, by the first match rule each row has values for: one query per rule
 * over the batch, within the caller's read scope (a record they cannot see is not revealed by an
 * import: the row becomes a create and meets the unique index like any other). A rule that finds
 * several records, or a record the caller may not update, is an error of that row; two rows of the file
 * with the same key are too (the second would overwrite the first).
 */
async function findMatches(
  data: DataService,
  tx: Db,
  ctx: OperationContext,
  entity: CompiledEntity,
  rows: ImportRow[],
): Promise<Map<ImportRow, Match>> {
  const guard = data.guard(ctx);
  const lang = ctx.lang;
  const out = new Map<ImportRow, Match>();
  const rules = matchRules(entity);
  const byRule = new Map<number, ImportRow[]>();
  const firstWithKey = new Map<string, ImportRow>();
  for (const row of rows) {
    const i = rules.findIndex((fields) => fields.every((f) => present(row.values[f])));
    if (i < 0) continue;
    const key = `${i}|${JSON.stringify(rules[i]!.map((f) => row.values[f]))}`;
    const earlier = firstWithKey.get(key);
    if (earlier) {
      out.set(row, {
        error: {
          path: pointer(rules[i]![0]!),
          code: 'duplicate_in_file',
          message: t(
            lang,
            `Same ${describeRule(entity, rules[i]!, 'en')} as row ${earlier.line}`,
            `与第 ${earlier.line} 行的${describeRule(entity, rules[i]!, 'zh-CN')}相同`,
          ),
        },
      });
      continue;
    }
    firstWithKey.set(key, row);
    const group = byRule.get(i);
    if (group) group.push(row);
    else byRule.set(i, [row]);
  }
  const read = guard.optionalCondition(entity, 'read');
  if (read === false) return out;
  const update = guard.optionalCondition(entity, 'update');
  const mayUpdate =
    update === undefined ? sql<boolean>`true` : update === false ? sql<boolean>`false` : sql<boolean>`coalesce(${update}, false)`;
  for (const [i, ruleRows] of byRule) {
    const fields = rules[i]!;
    const condition: SQL | undefined =
      fields.length === 1
        ? anyOf(entity.columns[fields[0]!]!, [...new Set(ruleRows.map((r) => r.values[fields[0]!]))])
        : or(...ruleRows.map((r) => and(...fields.map((f) => eq(entity.columns[f]!, r.values[f])))));
    const found = (await tx
      .select({ ...entity.columns, __update: mayUpdate } as never)
      .from(entity.table)
      .where(and(condition, isNull(entity.columns.deleted_at), read))) as Record<string, unknown>[];
    const byKey = new Map<string, Record<string, unknown>[]>();
    for (const record of found.map(toRecord)) {
      const key = JSON.stringify(fields.map((f) => record[f]));
      const same = byKey.get(key);
      if (same) same.push(record);
      else byKey.set(key, [record]);
    }
    for (const row of ruleRows) {
      const hits = byKey.get(JSON.stringify(fields.map((f) => row.values[f]))) ?? [];
      if (hits.length > 1) {
        out.set(row, {
          error: {
            path: pointer(fields[0]!),
            code: 'ambiguous_match',
            message: t(
              lang,
              `${hits.length} records have this ${describeRule(entity, fields, 'en')}`,
              `有 ${hits.length} 条记录的${describeRule(entity, fields, 'zh-CN')}与此相同`,
            ),
          },
        });
      } else if (hits.length === 1) {
        const { __update, ...record } = hits[0]!;
        if (!__update)
          out.set(row, {
            error: {
              path: pointer(fields[0]!),
              code: 'forbidden',
              message: t(lang, 'The matching record exists but you may not change it', '匹配到的记录已存在，但您无权修改'),
            },
          });
        else out.set(row, { record });
      }
    }
  }
  return out;
}

/**
 * `column = any($1::type[])`: the batch's keys as one array parameter — one short statement, the same
 * text every batch (prepared once), where an IN list would be a statement of a thousand parameters.
 */
const anyOf = (column: PgColumn, values: unknown[]) =>
  sql`${column} = any(${sql.param(values)}::${sql.raw(column.getSQLType())}[])`;

const describeRule = (entity: CompiledEntity, fields: string[], lang: 'en' | 'zh-CN') =>
  fields.map((f) => (f === 'id' ? 'id' : (entity.field(f)?.doc.label[lang] ?? f))).join(lang === 'en' ? ' + ' : '+');

/** A new record from a row: defaults, owner, stamps, formulas; the row's errors when it cannot be one. */
async function prepareCreate(
  data: DataService,
  tx: Db,
  ctx: OperationContext,
  entity: CompiledEntity,
  row: ImportRow,
  now: Date,
  batch: { context: Record<string, unknown>; writable: Set<string> },
): Promise<Record<string, unknown> | ErrorDetail[]> {
  const guard = data.guard(ctx);
  const { id: _ignored, ...values } = row.values;
  const item = normalizeInput(entity, values) as Record<string, unknown>;
  const errors = schemaErrors(entity.validateCreate, item, ctx.lang, '', entity);
  if (errors.length) return errors;
  const fields = Object.keys(item).join(',');
  if (!batch.writable.has(fields)) {
    guard.assertWritable(entity, Object.keys(item));
    batch.writable.add(fields);
  }
  const record: Record<string, unknown> = { ...defaults(entity), ...item };
  const stateErrors = initialState(entity, record, '', Boolean(ctx.privileged));
  if (stateErrors.length) return stateErrors;
  record.id = uuidv7(now.getTime());
  if (!('owner_id' in item)) record.owner_id = guard.userId;
  record.created_by = record.updated_by = guard.userId;
  record.created_at = record.updated_at = now.toISOString();
  await compute(tx, entity, 'create', record, now, false, data.model());
  const violations = ruleViolations(entity, { ...record, ...batch.context }, ctx.lang, '');
  return violations.length ? violations : record;
}

/**
 * Writes prepared records: scope and assignment checks, auto-numbers, one COPY of the batch (no
 * statement text or parameters growing with it), the audit entries likewise, the record hooks. In a
 * savepoint; when it is refused, each record is retried alone so the refusal lands on its own row.
 */
async function writeCreates(
  data: DataService,
  tx: Db,
  ctx: OperationContext,
  entity: CompiledEntity,
  prepared: [ImportRow, Record<string, unknown>][],
  now: Date,
  note: string,
): Promise<[ImportRow, RowResult | Error][]> {
  if (!prepared.length) return [];
  try {
    await tx.transaction((sp) =>
      insertRecords(
        data,
        sp,
        ctx,
        entity,
        prepared.map(([, r]) => r),
        now,
        note,
      ),
    );
    return prepared.map(([row, r]) => [row, { line: row.line, outcome: 'create', id: r.id as string }]);
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
    if (prepared.length === 1) return [[prepared[0]![0], e]];
  }
  const out: [ImportRow, RowResult | Error][] = [];
  for (const one of prepared) out.push(...(await writeCreates(data, tx, ctx, entity, [one], now, note)));
  return out;
}

async function insertRecords(
  data: DataService,
  tx: Db,
  ctx: OperationContext,
  entity: CompiledEntity,
  records: Record<string, unknown>[],
  now: Date,
  note: string,
) {
  const guard = data.guard(ctx);
  await authorizeNewRecords(data, tx, guard, entity, records, false);
  await allocate(tx, entity, records, now);
  const columns = [...new Set(records.flatMap((r) => Object.keys(r)))].filter((c) => entity.columns[c]);
  const text = copyText(
    records.map((r) => columns.map((c) => r[c])),
    columns.map((c) => entity.columns[c]!.getSQLType()),
  );
  const target = `${tableText(entity)} (${columns.map((c) => `"${entity.columns[c]!.name}"`).join(', ')})`;
  await mapDbErrors(entity, () => data.database.copyIn(target, text, tx), ctx.lang);
  const principal = guard.principal;
  const handedOver = records
    .filter((r) => r.owner_id && principal && !principal.selves.includes(r.owner_id as string))
    .map((r) => r.id as string);
  if (!guard.privileged) await assertAssignable(tx, guard, entity, handedOver, ctx.lang);
  const out: Record<string, unknown>[] = records.map((r) => ({ ...r, version: 1, deleted_at: null }));
  await copyAudit(
    data.database,
    tx,
    out.map((r) => ({
      entity: entity.name,
      recordId: r.id as string,
      version: 1,
      action: 'create' as const,
      actor: guard.userId,
      snapshot: r,
      note,
    })),
  );
  await data.hooks.afterCreate(tx, ctx, entity, out, 0);
}
