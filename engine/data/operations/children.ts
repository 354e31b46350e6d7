/**
 * Child collections (Frappe's child tables, Salesforce's master-detail): an entity declares
 * `children: [{ name: "lines", entity: "quote_line", via: "quote" }]` and its create and update accept
 * `lines: [...]`, written in the record's own transaction through the ordinary operations of the child
 * (permissions, validation, formulas, roll-ups, audit, automations; called through the DataService) — the
 * rows' scopes are the parent's: whoever may update the record may change and remove its rows, whoever
 * may read it reads them (the child's action rights and field permissions still apply). A row with an `id` updates that
 * child, a row without one creates a child, and the record's live children missing from the array go to
 * the recycle bin. An error in a row names it (`/lines/2/quantity`) and nothing is written.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/database.js';
import { AppError, pointer, unprocessable, type ErrorDetail } from '../../errors.js';
import type { CompiledEntity } from '../../model/compile.js';
import type { ChildCollection } from '../../model/kinds/entity.js';
import { t, type Lang } from '../../model/language.js';
import { UUID } from '../../model/ids.js';
import { SYSTEM_FIELDS } from '../../model/system-fields.js';
import type { OperationContext } from '../context.js';
import { isPlainObject } from '../pipeline.js';
import { decodeRows } from '../records.js';
import { columnRef, columnText, deletedCondition, perEntity, selectFrom } from '../query.js';
import type { DataService } from '../service.js';

type Row = Record<string, unknown>;
/** Rows one collection takes in one write, unless the declaration says fewer. */
export const MAX_CHILD_ROWS = 500;

export const childCollections = (entity: CompiledEntity): ChildCollection[] => entity.doc.children ?? [];

/** The record's own fields, and the declared collections the body carries (in declaration order). */
export function splitChildren(entity: CompiledEntity, body: unknown, lang: Lang) {
  const children = new Map<ChildCollection, Row[]>();
  if (!isPlainObject(body) || !entity.doc.children?.length) return { own: body, children };
  const own: Row = { ...body };
  const errors: ErrorDetail[] = [];
  for (const c of entity.doc.children) {
    if (!(c.name in own)) continue;
    const rows = own[c.name];
    delete own[c.name];
    const max = c.maxRows ?? MAX_CHILD_ROWS;
    if (!Array.isArray(rows)) {
      errors.push({ path: pointer(c.name), code: 'type', message: t(lang, 'must be an array of rows', '必须是行的数组') });
    } else if (rows.length > max) {
      errors.push({ path: pointer(c.name), code: 'max_items', message: t(lang, `at most ${max} rows`, `最多 ${max} 行`) });
    } else {
      rows.forEach((r, i) => {
        if (!isPlainObject(r))
          errors.push({ path: pointer(c.name, i), code: 'type', message: t(lang, 'must be an object', '必须是对象') });
      });
      children.set(c, rows as Row[]);
    }
  }
  if (errors.length) throw invalidRows(lang, errors);
  return { own, children };
}

const invalidRows = (lang: Lang, details: ErrorDetail[]) =>
  unprocessable(
    'validation_failed',
    t(lang, 'Some rows are invalid; nothing was saved', '部分明细行无效，未保存任何内容'),
    details,
  );

/** An error of a child operation, its paths moved under the row that caused it. */
function underRow(e: unknown, path: (inner: string) => string): unknown {
  if (!(e instanceof AppError)) return e;
  const details = e.details.length
    ? e.details.map((d) => ({ ...d, path: path(d.path) }))
    : [{ path: path(''), code: e.code, message: e.message }];
  return new AppError(e.status, e.code, e.message, details, e.headers);
}

/**
 * Writes the collections of one record (`parentId`) in its transaction: removals first, then updates,
 * then creates (one bulk create per collection), each through the child's own operation as the caller.
 * `prefix` is where the record sits in the body (`/3` in a bulk create).
 */
export async function writeChildren(
  data: DataService,
  ctx: OperationContext,
  tx: Db,
  parent: CompiledEntity,
  parentId: string,
  collections: Map<ChildCollection, Row[]>,
  isNew: boolean,
  prefix = '',
  depth = 0,
) {
  for (const [c, rows] of collections) {
    const child = data.entity(c.entity);
    // The caller may update the parent: its rows follow it, whoever added them (a manager's line on a rep's quote).
    const rowCtx: OperationContext = { ...ctx, rowsOf: { entity: child.name, via: c.via, parentId } };
    const at = (...p: (string | number)[]) => prefix + pointer(c.name, ...p);
    const errors: ErrorDetail[] = [];
    // A row read from GET can be sent back as it is: system columns and computed fields are not input.
    const cleaned = rows.map((row, i) => {
      const out: Row = {};
      for (const [k, v] of Object.entries(row)) {
        if (k === 'id' || k === 'version') out[k] = v;
        else if (SYSTEM_FIELDS.has(k) || child.field(k)?.readOnly) continue;
        else if (k === c.via) {
          if (v !== null && v !== parentId)
            errors.push({
              path: at(i, k),
              code: 'wrong_parent',
              message: t(ctx.lang, `belongs to this ${parent.label.en}`, `必须属于当前${parent.label['zh-CN']}`),
            });
        } else out[k] = v;
      }
      if (c.position) out[c.position] = i + 1;
      return out;
    });
    const existing = isNew ? new Map<string, Row>() : await liveChildren(data, tx, child, c.via, parentId);
    const seen = new Set<string>();
    cleaned.forEach((r, i) => {
      if (r.id === undefined) return;
      if (typeof r.id !== 'string' || !UUID.test(r.id) || !existing.has(r.id.toLowerCase()) || seen.has(r.id.toLowerCase()))
        errors.push({
          path: at(i, 'id'),
          code: 'unknown_row',
          message: t(ctx.lang, `is not a row of this ${parent.label.en}`, `不是当前${parent.label['zh-CN']}的明细行`),
        });
      else seen.add(r.id.toLowerCase());
    });
    if (errors.length) throw invalidRows(ctx.lang, errors);

    // removals: live rows the array no longer holds
    for (const id of existing.keys()) {
      if (seen.has(id)) continue;
      try {
        await data.remove(rowCtx, child.name, id, undefined, tx);
      } catch (e) {
        throw underRow(e, (p) => at() + p);
      }
    }
    // updates: only rows that differ from what is stored
    for (const [i, r] of cleaned.entries()) {
      if (r.id === undefined) continue;
      const current = existing.get((r.id as string).toLowerCase())!;
      const { id, version, ...changes } = r;
      const differs = Object.entries(changes).some(([k, v]) => JSON.stringify(v ?? null) !== JSON.stringify(current[k] ?? null));
      if (!differs && (version === undefined || version === current.version)) continue;
      try {
        await data.update(
          rowCtx,
          child.name,
          id as string,
          { ...changes, version: version ?? current.version },
          undefined,
          undefined,
          tx,
        );
      } catch (e) {
        throw underRow(e, (p) => at(i) + p);
      }
    }
    // creates: one bulk create of the new rows, errors mapped back to their place in the array
    const fresh = cleaned.flatMap((r, i) => (r.id === undefined ? [{ row: { ...r, [c.via]: parentId }, i }] : []));
    if (fresh.length) {
      try {
        await data.create(
          ctx,
          child.name,
          fresh.map((f) => f.row),
          tx,
          depth,
        );
      } catch (e) {
        throw underRow(e, (p) => {
          const m = /^\/(\d+)(.*)$/.exec(p);
          return m && fresh[Number(m[1])] ? at(fresh[Number(m[1])].i) + m[2] : at() + p;
        });
      }
    }
  }
}

/** The live children of one record, by lower-case id, decoded as the API gives them. */
async function liveChildren(data: DataService, tx: Db, child: CompiledEntity, via: string, parentId: string) {
  const rows = decodeRows(
    child,
    await data.database.rows(
      sql`${selectFrom(child, child.columnNames)} where ${child.columns[via]} = ${parentId}::uuid and ${child.columns.deleted_at} is null`,
      tx,
    ),
  );
  return new Map(rows.map((r) => [String(r.id).toLowerCase(), r]));
}

const childOrders = perEntity<SQL>();
/** A collection's order: its position field when it has one, then creation. */
const childOrder = (child: CompiledEntity, c: ChildCollection) =>
  childOrders(child, c.position ?? '', () =>
    sql.raw([...(c.position ? [c.position] : []), 'created_at', 'id'].map((f) => `${columnText(child, f)} asc`).join(', ')),
  );

/**
 * Adds each declared collection to the records (inline, as `lines: [...]`): the live children of the
 * records the caller may read — the rows follow their parent, whoever added them — in `position` order
 * (else creation order), without the fields they may not read. A collection whose entity the caller
 * cannot read at all is left out.
 */
export async function readChildren(
  data: DataService,
  ctx: OperationContext,
  entity: CompiledEntity,
  records: Row[],
  /** Known to have none (a record just created without any): the collections are empty, nothing is read. */
  none = false,
) {
  const ids = records.map((r) => r.id).filter((id): id is string => typeof id === 'string');
  if (!ids.length) return;
  const guard = data.guard(ctx);
  for (const c of childCollections(entity)) {
    const child = data.entity(c.entity);
    if (guard.optionalCondition(child, 'read') === false) continue;
    if (none) {
      for (const r of records) r[c.name] = [];
      continue;
    }
    // Every read of a record with collections runs this: the select list and order come as cached text.
    const rows = decodeRows(
      child,
      await data.database.rows(
        sql`${selectFrom(child, child.columnNames)} where ${columnRef(child, c.via)} = any(${sql.param(ids)}::uuid[])
          and ${deletedCondition(child, 'exclude')} order by ${childOrder(child, c)}`,
      ),
    ) as Row[];
    guard.strip(child, rows);
    for (const r of records) r[c.name] = rows.filter((x) => x[c.via] === r.id);
  }
}
