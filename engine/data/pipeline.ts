/**
 * The phases every record write goes through, shared by the operations in ./operations:
 *   resolve   entity and guard for the caller                       (resolve)
 *   authorize action granted? scope, writable fields                (Guard, engine/access)
 *   validate  JSON Schema, json-logic rules, live references        (validateSchema, ruleViolations, missingReferences)
 *   compute   defaults, formulas before validation, numbers after   (defaults, compute, allocate)
 *   write     the versioned INSERT/UPDATE, database errors as 422s  (mapDbErrors, expectedVersion, versionConflict)
 *   audit     audit entries in the same transaction                 (engine/audit/log.ts)
 *   automate  the record hooks: automations first, then workflows, approvals (./hooks.ts)
 *   shape     unreadable fields stripped from what goes back        (Guard.strip)
 * Each phase is a few statements per operation, never one per row (no N+1).
 */
import { and, inArray, isNull, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/database.js';
import { AppError, badRequest, conflict, pointer, unprocessable, type ErrorDetail } from '../errors.js';
import type { AppModel, CompiledEntity } from '../model/compile.js';
import type { ValidateFunction } from 'ajv';
import type { OperationContext } from './context.js';
import type { DataService } from './service.js';
import { invalidWrite, schemaErrors } from './validation.js';
import type { Guard } from '../access/guard.js';
import { t, type Lang } from '../model/language.js';

export { ruleViolations } from './validation.js';

/** A condition that may be absent (unrestricted). */
export const all = (...conditions: (SQL | undefined)[]) => and(...conditions.filter((c): c is SQL => c !== undefined));
export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

// ── resolve ──

export function resolve(data: DataService, ctx: OperationContext, entityName: string) {
  return { entity: data.entity(entityName), guard: data.guard(ctx) };
}

// ── validate ──

/**
 * Items against a compiled schema; 422 with every error when any fails, in the caller's language, fields
 * named by their labels. `change`: the message speaks of a change rather than a record.
 */
export function validateSchema(
  validate: ValidateFunction,
  items: unknown[],
  ctx: OperationContext,
  bulk: boolean,
  entity: CompiledEntity,
  change = false,
) {
  const errors: ErrorDetail[] = [];
  items.forEach((item, i) => errors.push(...schemaErrors(validate, item, ctx.lang, bulk ? pointer(i) : '', entity)));
  if (errors.length) throw invalidWrite(ctx.lang, errors, change);
}

/**
 * References must point at live records the caller may read (the foreign key alone would accept
 * recycle-bin ones, and anyone's). A record outside the caller's read scope gets the same answer as one
 * that does not exist, so ids cannot be probed; without any read right on the target, nothing can be
 * referenced. The engine's own (privileged) writes see every record.
 */
/**
 * A record without the values `defaultFrom` took: a snapshot is the engine's read (a contract takes its
 * deal's campaign even when the accountant writing it may not read campaigns), so the reference check of
 * the caller's read scope applies only to what the caller sent.
 */
export function withoutSnapshots(record: Record<string, unknown>, taken: Record<string, unknown>) {
  const out = { ...record };
  for (const name of Object.keys(taken)) if (out[name] === taken[name]) delete out[name];
  return out;
}

/** Up to this many referenced ids, their shares are probed one by one rather than read into a hash (see ConditionUse). */
const FEW_IDS = 20;

export async function missingReferences(
  data: DataService,
  tx: Db,
  entity: CompiledEntity,
  records: Record<string, unknown>[],
  bulk: boolean,
  guard: Guard,
  lang: Lang = 'en',
): Promise<ErrorDetail[]> {
  const errors: ErrorDetail[] = [];
  const fields = entity.fields.filter((f) => f.reference && records.some((r) => typeof r[f.name] === 'string'));
  // Every reference field's look-up in one statement (a task names its deal and its customer): one round trip.
  const lookups = fields.flatMap((f, k) => {
    const target = data.entity(f.reference!.to);
    const ids = [...new Set(records.map((r) => r[f.name]).filter((v): v is string => typeof v === 'string'))];
    const scope = guard.optionalCondition(target, 'read', ids.length > FEW_IDS ? 'many' : 'few');
    if (scope === false) return [];
    const where = and(inArray(target.columns.id, ids), isNull(target.columns.deleted_at), scope);
    return [sql`(select ${sql.raw(String(k))} as field, ${target.columns.id}::text as id from ${target.table} where ${where})`];
  });
  const found = lookups.length
    ? await data.database.rows<{ field: number; id: string }>(sql.join(lookups, sql` union all `), tx)
    : [];
  const live = fields.map((_, k) => new Set(found.filter((r) => Number(r.field) === k).map((r) => r.id)));
  fields.forEach((f, k) => {
    const target = data.entity(f.reference!.to);
    records.forEach((r, i) => {
      if (typeof r[f.name] === 'string' && !live[k].has(r[f.name] as string)) {
        errors.push({
          path: (bulk ? pointer(i) : '') + pointer(f.name),
          code: 'invalid_reference',
          message: t(
            lang,
            `No ${target.label.en} with id ${r[f.name]} that you may read`,
            `没有您可查看的、id 为 ${r[f.name]} 的${target.label['zh-CN']}`,
          ),
        });
      }
    });
  });
  errors.push(...(await missingUsers(data, tx, entity, records, bulk, lang)));
  return errors;
}

/**
 * Lists of users (the `users` field type) hold live, active users: each id is looked up in the writing
 * transaction, and one that is unknown, in the recycle bin or not active is refused with its position
 * (`/participants/1`). Users are a directory every caller may pick from, as for a record's owner.
 */
async function missingUsers(
  data: DataService,
  tx: Db,
  entity: CompiledEntity,
  records: Record<string, unknown>[],
  bulk: boolean,
  lang: Lang,
): Promise<ErrorDetail[]> {
  const fields = entity.fields.filter((f) => f.type.userList && records.some((r) => Array.isArray(r[f.name])));
  if (!fields.length) return [];
  const ids = [
    ...new Set(fields.flatMap((f) => records.flatMap((r) => (Array.isArray(r[f.name]) ? (r[f.name] as unknown[]) : [])))),
  ].filter((v): v is string => typeof v === 'string');
  const users = data.entity('user');
  const found = ids.length
    ? await tx
        .select({ id: users.columns.id })
        .from(users.table)
        .where(
          and(
            inArray(users.columns.id, ids),
            isNull(users.columns.deleted_at),
            users.columns.employment_status ? sql`${users.columns.employment_status} = 'active'` : undefined,
          ),
        )
    : [];
  const active = new Set(found.map((r) => r.id as string));
  const errors: ErrorDetail[] = [];
  records.forEach((r, i) => {
    for (const f of fields) {
      const list = r[f.name];
      if (!Array.isArray(list)) continue;
      list.forEach((id, j) => {
        if (typeof id === 'string' && !active.has(id))
          errors.push({
            path: (bulk ? pointer(i) : '') + pointer(f.name, j),
            code: 'invalid_reference',
            message: t(lang, `No active user with id ${id}`, `没有 id 为 ${id} 的在职用户`),
          });
      });
    }
  });
  return errors;
}

/**
 * Records given to someone else must stay inside the caller's assign scope with that new owner: a
 * rep can claim a pool lead (to themselves: always, when they may assign it) but not hand it to a
 * colleague; a manager's `department` scope reaches the department's members, a director's tree the
 * tree (as Salesforce's transfer rules do). Checked in SQL on the rows as written, in the writing
 * transaction, so a refusal rolls the write back. Callers pass only records given to someone else.
 */
export async function assertAssignable(
  tx: Db,
  guard: Guard,
  entity: CompiledEntity,
  ids: string[],
  lang: Lang,
  path = '/owner_id',
) {
  if (!ids.length) return;
  const scope = guard.condition(entity, 'assign'); // 403 without any assign right
  if (!scope) return;
  const [outside] = await tx
    .select({ n: sql<number>`count(*)::int` })
    .from(entity.table)
    .where(and(inArray(entity.columns.id, ids), sql`not coalesce(${scope}, false)`));
  if (Number(outside.n) > 0) {
    const message = t(lang, 'The new owner is outside the users you may assign records to', '新负责人不在您可分配的范围内');
    throw new AppError(403, 'outside_assign_scope', message, [{ path, code: 'outside_assign_scope', message }]);
  }
}

// ── compute ──

export function defaults(entity: CompiledEntity): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of entity.fields) if (f.doc.default !== undefined) out[f.name] = structuredClone(f.doc.default);
  return out;
}

/**
 * Runs the field types' write hooks in dependency order: computing ones (formulas) before validation,
 * allocating ones (auto-numbers) after it, so a refused record uses up no number.
 */
export async function compute(
  tx: Db,
  entity: CompiledEntity,
  operation: 'create' | 'update',
  record: Record<string, unknown>,
  now: Date,
  allocating: boolean,
  model?: AppModel,
  lang?: Lang,
) {
  const computed: Record<string, unknown> = {};
  for (const f of entity.writeHooks) {
    if (Boolean(f.type.allocates) !== allocating) continue;
    const value = await f.type.onWrite!({ field: f.doc, entity: entity.name, operation, record, tx, now, model, lang });
    if (value !== undefined) record[f.name] = computed[f.name] = value;
  }
  return computed;
}

/** Allocating hooks (auto-numbers) for new records: all records at once where the type can. */
export async function allocate(tx: Db, entity: CompiledEntity, records: Record<string, unknown>[], now: Date) {
  for (const f of entity.writeHooks.filter((h) => h.type.allocates)) {
    if (f.type.allocateMany && records.length > 1) {
      const values = await f.type.allocateMany({ field: f.doc, entity: entity.name, records, tx, now });
      records.forEach((r, i) => (r[f.name] = values[i]));
    } else {
      for (const record of records) {
        const value = await f.type.onWrite!({ field: f.doc, entity: entity.name, operation: 'create', record, tx, now });
        if (value !== undefined) record[f.name] = value;
      }
    }
  }
}

// ── write ──

export function expectedVersion(ifMatch: string | undefined, bodyVersion: number | undefined): number {
  const raw = ifMatch !== undefined ? ifMatch.replace(/^W\//, '').replace(/"/g, '').trim() : bodyVersion;
  if (raw === undefined)
    throw new AppError(428, 'version_required', 'Send the version you read, in If-Match or as "version" in the body');
  const version = Number(raw);
  if (!Number.isInteger(version) || version < 1)
    throw badRequest('invalid_version', 'The version must be a positive integer', [
      { path: ifMatch !== undefined ? '/headers/if-match' : '/version', message: 'not a version' },
    ]);
  return version;
}

export function versionConflict(entity: CompiledEntity, expected: number, actual?: number) {
  return conflict(
    'version_conflict',
    `The ${entity.name} was changed by someone else (you sent version ${expected}${actual ? `, it is now ${actual}` : ''}); reload it and try again`,
  );
}

/** Unique and foreign-key violations become 422s that name the field; other data exceptions 422s too. */
export async function mapDbErrors<T>(entity: CompiledEntity, run: () => Promise<T>, lang: Lang = 'en'): Promise<T> {
  try {
    return await run();
  } catch (e) {
    // drizzle wraps the driver's error; postgres.js and PGlite name the constraint differently.
    const err = ((e as { cause?: unknown }).cause ?? e) as {
      code?: string;
      constraint_name?: string;
      constraint?: string;
      detail?: string;
    };
    const constraint = err.constraint_name ?? err.constraint;
    if (err.code === '23505') {
      const index = entity.indexes.find((i) => i.name === constraint);
      const fields = index?.columns ?? [];
      // Only "must be unique": naming the other record (or that it exists outside the caller's scope) would leak it.
      const names = fields.map((f) => entity.field(f)?.doc.label?.[lang] ?? f).join(', ');
      throw unprocessable(
        'unique_violation',
        t(lang, `${names || 'The value'} must be unique`, `${names}必须唯一`),
        fields.map((f) => ({ path: pointer(f), code: 'unique', message: t(lang, 'must be unique', '必须唯一') })),
      );
    }
    if (err.code === '23503') {
      const field = entity.fields.find((f) => f.reference && constraint?.endsWith(`__${f.name}`));
      throw unprocessable('invalid_reference', t(lang, 'A referenced record does not exist', '关联的记录不存在'), [
        { path: field ? pointer(field.name) : '', code: 'invalid_reference', message: t(lang, 'does not exist', '不存在') },
      ]);
    }
    // A value the checks before the write let through and the column refused (class 22, data exception):
    // the client's input, so a 422 — never a 500 — and the field types' checks are to be tightened.
    if (typeof err.code === 'string' && err.code.startsWith('22')) {
      throw unprocessable('invalid_value', t(lang, 'A value does not fit its field', '某个值超出了字段的取值范围'), []);
    }
    throw e;
  }
}
