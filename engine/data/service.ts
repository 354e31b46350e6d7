/**
 * The operation pipeline for records. Every read and write — REST, UI, workflows, imports, plugins —
 * calls these operations: resolve entity → (authorize: the access issue) → validate → compute →
 * write → shape output. Each operation is a few statements, never one per row (no N+1).
 */
import { and, eq, inArray, isNotNull, isNull, sql, type SQL } from 'drizzle-orm';
import type { Database, Db } from '../db/database.js';
import { AppError, badRequest, conflict, notFound, pointer, unprocessable, type ErrorDetail } from '../errors.js';
import type { AppModel, CompiledEntity } from '../model/compile.js';
import { uuidv7 } from '../model/ids.js';
import { toColumnValues, toRecord } from './records.js';
import { encodeCursor, keysetCondition, orderBy, parseListParams, whereConditions, type ListParams } from './query.js';
import { ruleViolations, schemaErrors, type Lang } from './validation.js';

export interface OperationContext {
  /** The acting user; null for the engine's own privileged calls. */
  user: { id: string } | null;
  lang: Lang;
}

export interface Page {
  data: Record<string, unknown>[];
  nextCursor: string | null;
  total?: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const MAX_BULK = 1000;
/** PostgreSQL accepts at most 65,535 bound parameters per statement. */
const MAX_PARAMS = 65_000;

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export class DataService {
  constructor(
    private readonly database: Database,
    private readonly model: () => AppModel,
  ) {}

  entity(name: string): CompiledEntity {
    const entity = this.model().entity(name);
    if (!entity) throw notFound('unknown_entity', `There is no entity "${name}"`);
    return entity;
  }

  private context(ctx: OperationContext) {
    return { $user: ctx.user ?? {}, $now: new Date().toISOString() };
  }

  // ── reads ────────────────────────────────────────────────────────────────

  async list(ctx: OperationContext, entityName: string, query: Record<string, string | undefined>): Promise<Page> {
    const entity = this.entity(entityName);
    const params = parseListParams(entity, query);
    const conditions = whereConditions(entity, params, this.context(ctx));
    // The keyset cursor reads the sort values from the last row, so they are selected even when
    // `fields` leaves them out of the response.
    const selection = this.selection(entity, params.fields && [...params.fields, ...params.sort.map((k) => k.field)]);
    const db = this.database.db;
    const page = (extra: SQL | undefined, limit: number) =>
      db.select(selection).from(entity.table).where(and(...conditions, extra)).orderBy(...orderBy(entity, params.sort)).limit(limit);

    let rows: Record<string, unknown>[];
    if (params.cursor) {
      const { main, nullTail } = keysetCondition(entity, params.sort, params.cursor);
      rows = await page(main, params.limit + 1);
      // Descending single-key sorts: the NULL block follows the last value (see keysetCondition).
      if (nullTail && rows.length <= params.limit) rows = rows.concat(await page(nullTail, params.limit + 1 - rows.length));
    } else {
      rows = await page(undefined, params.limit + 1);
    }
    const more = rows.length > params.limit;
    const data = rows.slice(0, params.limit).map(toRecord);
    if (params.fields) {
      const keep = new Set(['id', 'version', ...params.fields]);
      for (const r of data) for (const k of Object.keys(r)) if (!keep.has(k)) delete r[k];
    }
    const [total] = await Promise.all([
      params.count ? this.count(entity, conditions) : undefined,
      this.expand(entity, data, params.expand),
    ]);
    const last = rows[params.limit - 1];
    return { data, nextCursor: more && last ? encodeCursor(params.sort, toRecord(last)) : null, ...(total !== undefined ? { total } : {}) };
  }

  async get(ctx: OperationContext, entityName: string, id: string, query: Record<string, string | undefined> = {}) {
    const entity = this.entity(entityName);
    const { fields, expand } = parseListParams(entity, { fields: query.fields, expand: query.expand });
    for (const key of Object.keys(query)) if (key !== 'fields' && key !== 'expand') throw badRequest('unknown_parameter', `Unknown query parameter "${key}"`, [{ path: `/query/${key}`, message: 'Unknown query parameter' }]);
    const row = await this.findActive(this.database.db, entity, id, this.selection(entity, fields));
    const record = toRecord(row);
    await this.expand(entity, [record], expand);
    return record;
  }

  private selection(entity: CompiledEntity, fields?: string[]) {
    const names = fields ? [...new Set(['id', 'version', ...fields])] : Object.keys(entity.columns);
    return Object.fromEntries(names.map((n) => [n, entity.columns[n]]));
  }

  private async count(entity: CompiledEntity, conditions: SQL[]) {
    const [row] = await this.database.db.select({ n: sql<number>`count(*)::int` }).from(entity.table).where(and(...conditions));
    return Number(row.n);
  }

  /** Replaces reference ids by the referenced records: one query per expanded field. */
  private async expand(entity: CompiledEntity, records: Record<string, unknown>[], fields: string[]) {
    await Promise.all(
      fields.map(async (name) => {
        const target = this.entity(entity.field(name)!.reference!.to);
        const ids = [...new Set(records.map((r) => r[name]).filter((v): v is string => typeof v === 'string'))];
        if (!ids.length) return;
        const rows = await this.database.db.select().from(target.table).where(and(inArray(target.columns.id, ids), isNull(target.columns.deleted_at)));
        const byId = new Map(rows.map((r) => [r.id as string, toRecord(r)]));
        for (const r of records) if (typeof r[name] === 'string') r[name] = byId.get(r[name] as string) ?? null;
      }),
    );
  }

  private async findActive(db: Db, entity: CompiledEntity, id: string, selection?: Record<string, unknown>, forUpdate = false) {
    if (!UUID.test(id)) throw notFound('record_not_found', `No ${entity.name} with id ${id}`);
    const query = db
      .select(selection as never)
      .from(entity.table)
      .where(and(eq(entity.columns.id, id), isNull(entity.columns.deleted_at)));
    const [row] = forUpdate ? await query.for('update') : await query;
    if (!row) throw notFound('record_not_found', `No ${entity.name} with id ${id}`);
    return row as Record<string, unknown>;
  }

  // ── writes ───────────────────────────────────────────────────────────────

  /** Creates one record (an object) or several (an array, all or nothing). */
  async create(ctx: OperationContext, entityName: string, body: unknown) {
    const entity = this.entity(entityName);
    const bulk = Array.isArray(body);
    const items = bulk ? (body as unknown[]) : [body];
    if (!bulk && !isPlainObject(body)) throw badRequest('invalid_body', 'The body must be a JSON object (or an array of objects for a bulk create)');
    if (bulk && (items.length === 0 || items.length > MAX_BULK)) throw badRequest('invalid_body', `A bulk create takes 1 to ${MAX_BULK} records`);

    const errors: ErrorDetail[] = [];
    items.forEach((item, i) => errors.push(...schemaErrors(entity.validateCreate, item, ctx.lang, bulk ? pointer(i) : '')));
    if (errors.length) throw unprocessable('validation_failed', 'The record is invalid; nothing was written', errors);

    const write = async (tx: Db) => {
      const now = new Date();
      const records: Record<string, unknown>[] = [];
      for (const [i, item] of items.entries()) {
        const record: Record<string, unknown> = { ...this.defaults(entity), ...(item as Record<string, unknown>) };
        record.id = uuidv7(now.getTime());
        record.owner_id ??= ctx.user?.id ?? null;
        record.created_by = record.updated_by = ctx.user?.id ?? null;
        await this.compute(tx, entity, 'create', record, now, false);
        errors.push(...ruleViolations(entity, { ...record, ...this.context(ctx) }, ctx.lang, bulk ? pointer(i) : ''));
        records.push(record);
      }
      errors.push(...(await this.missingReferences(tx, entity, records, bulk)));
      if (errors.length) throw unprocessable('validation_failed', 'The record is invalid; nothing was written', errors);
      for (const record of records) await this.compute(tx, entity, 'create', record, now, true);
      const rows: Record<string, unknown>[] = [];
      const perStatement = Math.max(1, Math.floor(MAX_PARAMS / (entity.fields.length + 8)));
      for (let i = 0; i < records.length; i += perStatement) {
        const chunk = records.slice(i, i + perStatement).map((r) => toColumnValues(entity, r));
        rows.push(...(await this.mapDbErrors(entity, () => tx.insert(entity.table).values(chunk).returning())));
      }
      return rows.map(toRecord);
    };
    // A single insert is one atomic statement; only a bulk create needs an explicit transaction.
    const created = bulk ? await this.database.db.transaction(write) : await write(this.database.db);
    return bulk ? created : created[0];
  }

  /** Changes some fields of a record whose version the client read (optimistic locking). */
  async update(ctx: OperationContext, entityName: string, id: string, body: unknown, ifMatch?: string) {
    const entity = this.entity(entityName);
    if (!isPlainObject(body)) throw badRequest('invalid_body', 'The body must be a JSON object of the fields to change');
    const errors = schemaErrors(entity.validatePatch, body, ctx.lang);
    if (errors.length) throw unprocessable('validation_failed', 'The change is invalid; nothing was written', errors);
    const { version: bodyVersion, ...changes } = body as Record<string, unknown> & { version?: number };
    const expected = this.expectedVersion(ifMatch, bodyVersion);

    const db = this.database.db;
    const current = toRecord(await this.findActive(db, entity, id));
    if (current.version !== expected) throw this.versionConflict(entity, expected, current.version as number);
    const now = new Date();
    const record = { ...current, ...changes };
    const computed = await this.compute(db, entity, 'update', record, now, false);
    errors.push(...ruleViolations(entity, { ...record, ...this.context(ctx) }, ctx.lang));
    errors.push(...(await this.missingReferences(db, entity, [changes], false)));
    if (errors.length) throw unprocessable('validation_failed', 'The change is invalid; nothing was written', errors);
    Object.assign(computed, await this.compute(db, entity, 'update', record, now, true));

    const set = toColumnValues(entity, { ...changes, ...computed, updated_at: now.toISOString(), updated_by: ctx.user?.id ?? null });
    const [row] = await this.mapDbErrors(entity, () =>
      db
        .update(entity.table)
        .set({ ...set, version: sql`${entity.columns.version} + 1` })
        .where(and(eq(entity.columns.id, id), eq(entity.columns.version, expected), isNull(entity.columns.deleted_at)))
        .returning(),
    );
    // Someone else saved (or deleted) between our read and our write.
    if (!row) throw this.versionConflict(entity, expected);
    return toRecord(row);
  }

  /** Moves a record to the recycle bin, applying each reference's delete behaviour to its dependants. */
  async remove(ctx: OperationContext, entityName: string, id: string, ifMatch?: string) {
    const entity = this.entity(entityName);
    const expected = ifMatch === undefined ? undefined : this.expectedVersion(ifMatch, undefined);
    return this.database.db.transaction(async (tx) => {
      const row = await this.findActive(tx, entity, id, { id: entity.columns.id, version: entity.columns.version }, true);
      if (expected !== undefined && row.version !== expected) throw this.versionConflict(entity, expected, row.version as number);
      const at = new Date();
      await this.softDelete(tx, entity, [id], at, ctx);
      return { id, deleted_at: at.toISOString() };
    });
  }

  private async softDelete(tx: Db, entity: CompiledEntity, ids: string[], at: Date, ctx: OperationContext): Promise<void> {
    for (const ref of entity.referencedBy) {
      const child = this.entity(ref.entity);
      const refersToIds = and(inArray(child.columns[ref.field], ids), isNull(child.columns.deleted_at));
      if (ref.onDelete === 'restrict') {
        const [hit] = await tx.select({ n: sql<number>`count(*)::int` }).from(child.table).where(refersToIds);
        if (Number(hit.n) > 0) {
          throw conflict('delete_restricted', `${hit.n} ${child.label[ctx.lang]} record(s) still refer to this ${entity.label[ctx.lang]}; delete or reassign them first`, [
            { path: `/${child.name}/${ref.field}`, code: 'restrict', message: `${hit.n} ${child.name}.${ref.field} reference(s)` },
          ]);
        }
      } else if (ref.onDelete === 'set_null') {
        await tx
          .update(child.table)
          .set({ [ref.field]: null, version: sql`${child.columns.version} + 1`, updated_at: at, updated_by: ctx.user?.id ?? null })
          .where(refersToIds);
      } else {
        const children = await tx.update(child.table).set({ deleted_at: at, version: sql`${child.columns.version} + 1` }).where(refersToIds).returning({ id: child.columns.id });
        if (children.length) await this.softDelete(tx, child, children.map((c) => c.id as string), at, ctx);
      }
    }
    await tx
      .update(entity.table)
      .set({ deleted_at: at, version: sql`${entity.columns.version} + 1`, updated_by: ctx.user?.id ?? null })
      .where(and(inArray(entity.columns.id, ids), isNull(entity.columns.deleted_at)));
  }

  /** Takes a record out of the recycle bin, with the dependants its deletion cascaded to. */
  async restore(ctx: OperationContext, entityName: string, id: string) {
    const entity = this.entity(entityName);
    if (!UUID.test(id)) throw notFound('record_not_found', `No deleted ${entity.name} with id ${id}`);
    return this.database.db.transaction(async (tx) => {
      const [row] = await tx.select({ deleted_at: entity.columns.deleted_at }).from(entity.table).where(and(eq(entity.columns.id, id), isNotNull(entity.columns.deleted_at))).for('update');
      if (!row) throw notFound('record_not_found', `No deleted ${entity.name} with id ${id} in the recycle bin`);
      const at = row.deleted_at as Date;
      const restoreTree = async (e: CompiledEntity, ids: string[]) => {
        for (const ref of e.referencedBy.filter((r) => r.onDelete === 'cascade')) {
          const child = this.entity(ref.entity);
          const children = await tx
            .update(child.table)
            .set({ deleted_at: null, version: sql`${child.columns.version} + 1` })
            .where(and(inArray(child.columns[ref.field], ids), eq(child.columns.deleted_at, at)))
            .returning({ id: child.columns.id });
          if (children.length) await restoreTree(child, children.map((c) => c.id as string));
        }
      };
      const [restored] = await this.mapDbErrors(entity, () =>
        tx.update(entity.table).set({ deleted_at: null, version: sql`${entity.columns.version} + 1`, updated_by: ctx.user?.id ?? null }).where(eq(entity.columns.id, id)).returning(),
      );
      await this.mapDbErrors(entity, () => restoreTree(entity, [id]));
      return toRecord(restored);
    });
  }

  // ── helpers ──────────────────────────────────────────────────────────────

  private defaults(entity: CompiledEntity): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const f of entity.fields) if (f.doc.default !== undefined) out[f.name] = structuredClone(f.doc.default);
    return out;
  }

  /**
   * Runs the field types' write hooks in dependency order: computing ones (formulas) before validation,
   * allocating ones (auto-numbers) after it, so a refused record uses up no number.
   */
  private async compute(tx: Db, entity: CompiledEntity, operation: 'create' | 'update', record: Record<string, unknown>, now: Date, allocating: boolean) {
    const computed: Record<string, unknown> = {};
    for (const f of entity.writeHooks) {
      if (Boolean(f.type.allocates) !== allocating) continue;
      const value = await f.type.onWrite!({ field: f.doc, entity: entity.name, operation, record, tx, now });
      if (value !== undefined) record[f.name] = computed[f.name] = value;
    }
    return computed;
  }

  /** References must point at live records (the foreign key alone would accept recycle-bin ones). */
  private async missingReferences(tx: Db, entity: CompiledEntity, records: Record<string, unknown>[], bulk: boolean): Promise<ErrorDetail[]> {
    const errors: ErrorDetail[] = [];
    await Promise.all(
      entity.fields
        .filter((f) => f.reference && records.some((r) => typeof r[f.name] === 'string'))
        .map(async (f) => {
          const target = this.entity(f.reference!.to);
          const ids = [...new Set(records.map((r) => r[f.name]).filter((v): v is string => typeof v === 'string'))];
          const found = await tx.select({ id: target.columns.id }).from(target.table).where(and(inArray(target.columns.id, ids), isNull(target.columns.deleted_at)));
          const live = new Set(found.map((r) => r.id as string));
          records.forEach((r, i) => {
            if (typeof r[f.name] === 'string' && !live.has(r[f.name] as string)) {
              errors.push({ path: (bulk ? pointer(i) : '') + pointer(f.name), code: 'invalid_reference', message: `No ${target.name} with id ${r[f.name]}` });
            }
          });
        }),
    );
    return errors;
  }

  private expectedVersion(ifMatch: string | undefined, bodyVersion: number | undefined): number {
    const raw = ifMatch !== undefined ? ifMatch.replace(/^W\//, '').replace(/"/g, '').trim() : bodyVersion;
    if (raw === undefined) throw new AppError(428, 'version_required', 'Send the version you read, in If-Match or as "version" in the body');
    const version = Number(raw);
    if (!Number.isInteger(version) || version < 1) throw badRequest('invalid_version', 'The version must be a positive integer', [{ path: ifMatch !== undefined ? '/headers/if-match' : '/version', message: 'not a version' }]);
    return version;
  }

  private versionConflict(entity: CompiledEntity, expected: number, actual?: number) {
    return conflict('version_conflict', `The ${entity.name} was changed by someone else (you sent version ${expected}${actual ? `, it is now ${actual}` : ''}); reload it and try again`);
  }

  /** Unique and foreign-key violations become 422s that name the field. */
  private async mapDbErrors<T>(entity: CompiledEntity, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (e) {
      // drizzle wraps the driver's error; postgres.js and PGlite name the constraint differently.
      const err = ((e as { cause?: unknown }).cause ?? e) as { code?: string; constraint_name?: string; constraint?: string; detail?: string };
      const constraint = err.constraint_name ?? err.constraint;
      if (err.code === '23505') {
        const index = entity.indexes.find((i) => i.name === constraint);
        const fields = index?.columns ?? [];
        throw unprocessable('unique_violation', `Another ${entity.name} already has this ${fields.join(', ') || 'value'}`, fields.map((f) => ({ path: pointer(f), code: 'unique', message: 'must be unique' })));
      }
      if (err.code === '23503') {
        const field = entity.fields.find((f) => f.reference && constraint?.endsWith(`__${f.name}`));
        throw unprocessable('invalid_reference', 'A referenced record does not exist', [{ path: field ? pointer(field.name) : '', code: 'invalid_reference', message: err.detail ?? 'does not exist' }]);
      }
      throw e;
    }
  }
}
