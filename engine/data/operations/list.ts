/**
 * List: a page of records under the caller's scope, as the JSON of a Page in UTF-8. PostgreSQL renders
 * the records (engine/data/render.ts); Node only joins their bytes, unless references are expanded.
 */
import { and, inArray, isNull, sql, type SQL } from 'drizzle-orm';
import type { Guard } from '../../access/guard.js';
import type { CompiledEntity } from '../../model/compile.js';
import type { OperationContext, Page } from '../context.js';
import { all, resolve } from '../pipeline.js';
import { columnRef, effectiveSort, encodeCursor, keysetCondition, orderBy, parseListParams, whereConditions } from '../query.js';
import { decodeRows } from '../records.js';
import { pageJson, parseRecord, selectJson, sortKeyOf, type JsonRow } from '../render.js';
import { selectionNames } from '../find.js';
import type { DataService } from '../service.js';
import type { FilterScope } from '../../rules/to-sql.js';
import { withReferencePaths } from './paths.js';

export async function listJson(
  data: DataService,
  ctx: OperationContext,
  entityName: string,
  query: Record<string, string | undefined>,
  action: 'read' | 'export' = 'read',
): Promise<Buffer<ArrayBuffer>> {
  const { entity, guard } = resolve(data, ctx, entityName);
  const scope = guard.condition(entity, action);
  const params = parseListParams(entity, query, ctx.lang);
  const checkReadable = guard.checkReadable(entity);
  for (const k of params.sort) checkReadable(k.field, 'sort');
  for (const f of params.fields ?? []) checkReadable(f, 'fields');
  for (const f of params.expand) checkReadable(f, 'expand');
  for (const f of params.sum) checkReadable(f, 'sum');
  const readable = guard.readable(entity);
  const paths = (base: FilterScope) => withReferencePaths(data.model(), guard, entity, base);
  const conditions = [
    ...whereConditions(entity, params, data.context(ctx), checkReadable, readable, paths),
    ...(scope ? [scope] : []),
  ];
  const keys = effectiveSort(params.sort).map((k) => k.field);
  const select = selectJson(entity, selectionNames(entity, params.fields).filter(readable), keys);
  const order = orderBy(entity, params.sort);
  // The limit is written into the statement, not bound: with prepared statements PostgreSQL moves to a
  // generic plan, and a generic plan that can't see the limit prefers sorting every match over walking
  // the index. It is a validated integer (parseListParams), so it is safe as text.
  const page = (extra: SQL | undefined, limit: number) =>
    data.database.textRows(
      sql`${select} where ${all(...conditions, extra)} order by ${order} limit ${sql.raw(String(Math.trunc(limit)))}`,
    );

  let rows: JsonRow[];
  if (params.cursor) {
    const { main, nullTail } = keysetCondition(entity, params.sort, params.cursor);
    rows = await page(main, params.limit + 1);
    // Descending single-key sorts: the NULL block follows the last value (see keysetCondition).
    if (nullTail && rows.length <= params.limit) rows = rows.concat(await page(nullTail, params.limit + 1 - rows.length));
  } else {
    rows = await page(undefined, params.limit + 1);
  }
  const more = rows.length > params.limit;
  if (more) rows.length = params.limit;
  const nextCursor = more ? encodeCursor(params.sort, sortKeyOf(entity, keys, rows[rows.length - 1])) : null;

  if (params.expand.length) {
    const records = rows.map(parseRecord);
    const [totals] = await Promise.all([
      totalsOf(data, entity, conditions, params.count, params.sum),
      expand(data, guard, entity, records, params.expand),
    ]);
    return Buffer.from(JSON.stringify({ data: records, nextCursor, ...totals } satisfies Page));
  }
  const totals = await totalsOf(data, entity, conditions, params.count, params.sum);
  return pageJson(rows, [`"nextCursor":${JSON.stringify(nextCursor)}`, ...Object.entries(totals).map(([k, v]) => `"${k}":${JSON.stringify(v)}`)].join(','));
}

/** A list page as records (for the engine's own callers; the REST API sends listJson's bytes). */
export async function list(
  data: DataService,
  ctx: OperationContext,
  entityName: string,
  query: Record<string, string | undefined>,
  action: 'read' | 'export' = 'read',
): Promise<Page> {
  return JSON.parse((await listJson(data, ctx, entityName, query, action)).toString('utf8')) as Page;
}

/**
 * The total number of matching records and the sums of the `sum` fields over all of them (not only the
 * page), in one statement under the same conditions — the caller's scope, filter and search.
 */
async function totalsOf(
  data: DataService,
  entity: CompiledEntity,
  conditions: SQL[],
  count: boolean,
  sum: string[],
): Promise<Pick<Page, 'total' | 'sums'>> {
  if (!count && !sum.length) return {};
  const columns: Record<string, SQL> = { n: sql`count(*)::int` };
  // As text: a numeric sum may exceed a double's exact range before it is shown.
  sum.forEach((f, i) => {
    columns[`s${i}`] = sql`coalesce(sum(${columnRef(entity, f)}), 0)::text`;
  });
  const [row] = (await data.database.db
    .select(columns as Record<string, SQL<unknown>>)
    .from(entity.table)
    .where(and(...conditions))) as Record<string, unknown>[];
  return {
    ...(count ? { total: Number(row.n) } : {}),
    ...(sum.length ? { sums: Object.fromEntries(sum.map((f, i) => [f, Number(row[`s${i}`])])) } : {}),
  };
}

/**
 * Replaces reference ids by the referenced records the caller may read: one query per expanded
 * field. A reference to a record outside the caller's scope stays a bare id.
 */
export async function expand(
  data: DataService,
  guard: Guard,
  entity: CompiledEntity,
  records: Record<string, unknown>[],
  fields: string[],
) {
  await Promise.all(
    fields.map(async (name) => {
      const target = data.entity(entity.field(name)!.reference!.to);
      const scope = guard.condition(target, 'read');
      const ids = [...new Set(records.map((r) => r[name]).filter((v): v is string => typeof v === 'string'))];
      if (!ids.length) return;
      const query = data.database.db
        .select()
        .from(target.table)
        .where(all(inArray(target.columns.id, ids), isNull(target.columns.deleted_at), scope));
      const rows = decodeRows(target, await data.database.rows(query.getSQL()));
      const byId = new Map(guard.strip(target, rows).map((r) => [r.id as string, r]));
      for (const r of records)
        if (typeof r[name] === 'string' && byId.has(r[name] as string)) r[name] = byId.get(r[name] as string);
    }),
  );
}
