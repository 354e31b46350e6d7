/**
 * List queries: parses the client's filter, sort, cursor, fields and search parameters against the
 * compiled entity and turns them into SQL. Nothing the client sends becomes SQL text: field names are
 * looked up in the model, values are bound parameters.
 *
 * Ordering: ascending sorts put NULLs first and descending sorts put them last, so one btree index
 * built `(field NULLS FIRST, id)` serves both directions (see metadata/planner.ts). Pages continue
 * with a keyset cursor (the last row's sort values and id), never OFFSET.
 */
import { and, isNotNull, isNull, or, sql, type SQL } from 'drizzle-orm';
import { badRequest, type ErrorDetail } from '../errors.js';
import type { CompiledEntity } from '../model/compile.js';
import type { ValueKind } from '../registry/value-kind.js';
import { compileFilter, type FilterScope } from '../rules/to-sql.js';
import { UUID } from '../model/ids.js';
import { t, type Lang } from '../model/language.js';
import { fitsColumn, isDate, isDateTime } from '../model/formats.js';
import { isStorableText } from '../model/text.js';
import { gramsExpression, MIN_GRAM_QUERY, queryGrams } from '../model/search.js';
import { columnRef, columnText, filterScope, perEntity, tableText, type ReadableCheck } from '../model/sql-refs.js';

export { columnRef, columnText, filterScope, perEntity, tableText, type ReadableCheck } from '../model/sql-refs.js';

export interface SortKey {
  field: string;
  desc: boolean;
  /** Text compared in pinyin order (zh-CN callers): see PINYIN. */
  pinyin?: boolean;
}

/**
 * The collation Chinese callers' text sorts use: ICU's pinyin order (北京 杭州 南京 上海 苏州), created at
 * start-up (engine/data/collation.ts). Where the server's ICU has no Chinese data — PGlite's — it orders
 * like the ICU root collation, i.e. Han characters by code point.
 */
export const PINYIN = '"meta"."zh_pinyin"';

export interface ListParams {
  filter?: unknown;
  sort: SortKey[];
  limit: number;
  cursor?: Cursor;
  fields?: string[];
  expand: string[];
  q?: string;
  /** `only` lists the recycle bin. */
  deleted: 'exclude' | 'only';
  count: boolean;
  /** Number fields whose totals over every matching record the answer adds (`sums`). */
  sum: string[];
}

interface Cursor {
  values: unknown[];
  id: string;
}

export const MAX_LIMIT = 500;
const DEFAULT_LIMIT = 50;
const UNSORTABLE: ReadonlySet<ValueKind> = new Set(['json', 'text[]', 'uuid[]']);

const fail = (param: string, code: string, message: string): never => {
  throw badRequest(code, message, [{ path: `/query/${param}`, message, code }]);
};

function fieldList(entity: CompiledEntity, param: string, raw: string): string[] {
  const names = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const name of names)
    if (!entity.columnKinds.has(name)) fail(param, 'unknown_field', `"${name}" is not a field of ${entity.name}`);
  return names;
}

export function parseListParams(
  entity: CompiledEntity,
  query: Record<string, string | undefined>,
  lang: Lang = 'en',
): ListParams {
  const known = new Set(['filter', 'sort', 'limit', 'cursor', 'fields', 'expand', 'q', 'deleted', 'count', 'sum']);
  for (const key of Object.keys(query)) if (!known.has(key)) fail(key, 'unknown_parameter', `Unknown query parameter "${key}"`);

  let filter: unknown;
  if (query.filter !== undefined) {
    try {
      filter = JSON.parse(query.filter);
    } catch {
      fail('filter', 'invalid_json', 'filter must be a URL-encoded JSON json-logic expression');
    }
  }

  const sort: SortKey[] = [];
  for (const part of (query.sort ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const desc = part.startsWith('-');
    const field = desc || part.startsWith('+') ? part.slice(1) : part;
    const kind = entity.columnKinds.get(field);
    if (!kind) fail('sort', 'unknown_field', `Cannot sort by "${field}": not a field of ${entity.name}`);
    if (UNSORTABLE.has(kind!)) fail('sort', 'unsortable_field', `Cannot sort by "${field}": ${kind} values have no order`);
    if (field === 'id') continue; // id is always the final tie-breaker
    if (sort.some((s) => s.field === field)) fail('sort', 'duplicate_sort', `"${field}" appears twice in sort`);
    sort.push({ field, desc, ...(lang === 'zh-CN' && entity.field(field)?.type.textual ? { pinyin: true } : {}) });
  }
  if (sort.length > 8) fail('sort', 'too_many_sort_fields', 'At most 8 sort fields');

  let limit = DEFAULT_LIMIT;
  if (query.limit !== undefined) {
    limit = Number(query.limit);
    if (!/^\d+$/.test(query.limit) || limit < 1 || limit > MAX_LIMIT)
      fail('limit', 'invalid_limit', `limit must be an integer from 1 to ${MAX_LIMIT}`);
  }

  const expand = query.expand ? fieldList(entity, 'expand', query.expand) : [];
  for (const name of expand)
    if (!entity.field(name)?.reference) fail('expand', 'not_a_reference', `"${name}" is not a reference field`);

  const sum = query.sum ? fieldList(entity, 'sum', query.sum) : [];
  for (const name of sum) {
    const kind = entity.columnKinds.get(name);
    if (kind !== 'integer' && kind !== 'number')
      fail(
        'sum',
        'not_a_number',
        t(lang, `Cannot sum "${name}": not a number field`, `无法对「${name}」求和：不是数值字段`),
      );
  }
  if (sum.length > 8) fail('sum', 'too_many_sum_fields', t(lang, 'At most 8 sum fields', '最多对 8 个字段求和'));

  const deleted = query.deleted ?? 'exclude';
  if (deleted !== 'exclude' && deleted !== 'only') fail('deleted', 'invalid_parameter', 'deleted must be "exclude" or "only"');
  if (query.count !== undefined && query.count !== 'true' && query.count !== 'false')
    fail('count', 'invalid_parameter', 'count must be true or false');
  if (query.q !== undefined && query.q.length > 200) fail('q', 'invalid_parameter', 'q is limited to 200 characters');
  if (query.q !== undefined && !isStorableText(query.q))
    fail('q', 'invalid_text', 'q must not contain NUL characters or unpaired surrogates');

  return {
    filter,
    sort,
    limit,
    cursor: query.cursor === undefined ? undefined : decodeCursor(entity, sort, query.cursor),
    fields: query.fields ? fieldList(entity, 'fields', query.fields) : undefined,
    expand,
    q: query.q?.trim() || undefined,
    deleted: deleted as ListParams['deleted'],
    count: query.count === 'true',
    sum: [...new Set(sum)],
  };
}

/** The sort a page is ordered by: the client's keys, then id in the direction of the last key. */
export const effectiveSort = (sort: SortKey[]): SortKey[] => [
  ...sort,
  { field: 'id', desc: sort.length ? sort[sort.length - 1].desc : true },
];

/** The cursor after a row, from its position in the sort: the sort keys' values, then its id. */
export function encodeCursor(sort: SortKey[], key: unknown[]): string {
  return Buffer.from(JSON.stringify({ s: sortSignature(sort), v: key.slice(0, sort.length), id: key[sort.length] })).toString(
    'base64url',
  );
}

const sortSignature = (sort: SortKey[]) => sort.map((k) => (k.desc ? '-' : '') + k.field + (k.pinyin ? '~pinyin' : '')).join(',');

function decodeCursor(entity: CompiledEntity, sort: SortKey[], raw: string): Cursor {
  let parsed: { s?: unknown; v?: unknown; id?: unknown };
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    return fail('cursor', 'invalid_cursor', 'The cursor is not one this API issued');
  }
  if (parsed?.s !== sortSignature(sort)) fail('cursor', 'invalid_cursor', 'The cursor belongs to a different sort order');
  if (!Array.isArray(parsed.v) || parsed.v.length !== sort.length || typeof parsed.id !== 'string' || !UUID.test(parsed.id)) {
    fail('cursor', 'invalid_cursor', 'The cursor is not one this API issued');
  }
  (parsed.v as unknown[]).forEach((v, i) => {
    if (v !== null && !fitsKind(v, entity.columnKinds.get(sort[i].field)!, castOf(entity, sort[i].field)))
      fail('cursor', 'invalid_cursor', 'The cursor is not one this API issued');
  });
  return { values: parsed.v as unknown[], id: parsed.id as string };
}

/**
 * Whether a cursor's value can be compared with the sort column: of its kind and inside what the column
 * type holds (a cursor is the client's to tamper with; 2^31 for an integer, 2026-02-30 or a NUL would
 * otherwise fail in PostgreSQL).
 */
function fitsKind(value: unknown, kind: ValueKind, columnType: string): boolean {
  switch (kind) {
    case 'integer':
    case 'number':
      return typeof value === 'number' && fitsColumn(value, columnType);
    case 'boolean':
      return typeof value === 'boolean';
    case 'date':
      return typeof value === 'string' && isDate(value);
    case 'datetime':
      return typeof value === 'string' && isDateTime(value);
    case 'uuid':
      return typeof value === 'string' && UUID.test(value);
    default:
      return typeof value === 'string' && isStorableText(value);
  }
}

/** SQL type a bound value is cast to when compared with a column (so PostgreSQL never guesses). */
export function castOf(entity: CompiledEntity, field: string): string {
  const f = entity.field(field);
  if (f) return f.columnType;
  return ({ uuid: 'uuid', datetime: 'timestamptz', integer: 'integer' } as Record<string, string>)[
    entity.columnKinds.get(field)!
  ];
}

export const bound = (entity: CompiledEntity, field: string, value: unknown): SQL =>
  sql`${value}::${sql.raw(castOf(entity, field))}`;

const orderClauses = perEntity<SQL>();
/** The ORDER BY list of a sort, as one piece of text per entity and sort. */
export function orderBy(entity: CompiledEntity, sort: SortKey[]): SQL {
  return orderClauses(entity, sortSignature(sort), () => {
    const keys = effectiveSort(sort).map((k) => {
      const column = columnText(entity, k.field) + (k.pinyin ? ` collate ${PINYIN}` : '');
      // id is never null: no NULLS clause, so a backward scan of (field NULLS FIRST, id) gives this order as is.
      if (k.field === 'id') return `${column} ${k.desc ? 'desc' : 'asc'}`;
      return k.desc ? `${column} desc nulls last` : `${column} asc nulls first`;
    });
    return sql.raw(keys.join(', '));
  });
}

/**
 * Rows after the cursor. For the common single-key sort the condition is a row comparison an index
 * range scan can use; `nullTail` is then the NULL block that sorts after all values (descending
 * order), which the caller reads only when the main range runs out.
 *
 * The cursor's values sit in a one-row sub-select, which PostgreSQL evaluates once (an InitPlan) and
 * still uses as the index range's bound. It hides them from the planner alike in custom and generic
 * plans, so a prepared page-2 statement settles on its generic plan after five runs, as page 1 does.
 * With the values in sight, a custom plan's estimate for `(amount, id) < (…)` always came out cheaper
 * than the generic plan's default guess for the same plan, and every next page was planned afresh
 * (~150 µs of PostgreSQL CPU, as much as reading the page).
 */
export function keysetCondition(entity: CompiledEntity, sort: SortKey[], cursor: Cursor): { main: SQL; nullTail?: SQL } {
  const keys = effectiveSort(sort);
  const values = [...cursor.values, cursor.id];
  const col = (i: number) =>
    keys[i].pinyin ? sql`${columnRef(entity, keys[i].field)} collate ${sql.raw(PINYIN)}` : columnRef(entity, keys[i].field);
  const val = (i: number) => bound(entity, keys[i].field, values[i]);

  if (keys.length === 2 && values[0] !== null) {
    const [k, id] = [col(0), col(1)];
    if (!keys[0].desc) return { main: sql`(${k}, ${id}) > (select ${val(0)}, ${val(1)})` };
    return { main: sql`(${k}, ${id}) < (select ${val(0)}, ${val(1)})`, nullTail: isNull(k) };
  }

  const branches: SQL[] = [];
  keys.forEach((key, i) => {
    const equalBefore = keys.slice(0, i).map((_, j) => (values[j] === null ? isNull(col(j)) : sql`${col(j)} = ${val(j)}`));
    let after: SQL | undefined;
    if (!key.desc) after = values[i] === null ? isNotNull(col(i)) : sql`${col(i)} > ${val(i)}`;
    else after = values[i] === null ? undefined : or(sql`${col(i)} < ${val(i)}`, isNull(col(i)));
    if (after) branches.push(and(...equalBefore, after)!);
  });
  return { main: branches.length ? or(...branches)! : sql`false` };
}

/** `<column>, <column> as <field>, …` (names from validated metadata). */
const listText = (entity: CompiledEntity, names: string[]) =>
  names
    .map((n) => {
      const column = entity.columns[n].name;
      return column === n ? `"${column}"` : `"${column}" as "${n}"`;
    })
    .join(', ');

const lists = perEntity<SQL>();
/** The select list of the fields, made once per entity and field list. */
export const selectList = (entity: CompiledEntity, names: string[]): SQL =>
  lists(entity, names.join(','), () => sql.raw(listText(entity, names)));

const prefixes = perEntity<SQL>();
/** `select <columns> from <table>`, made once per entity and field list. */
export const selectFrom = (entity: CompiledEntity, names: string[]): SQL =>
  prefixes(entity, names.join(','), () => sql.raw(`select ${listText(entity, names)} from ${tableText(entity)}`));

/** Decides whether the caller may read a field; throws (403) for one they may not. */

/**
 * Text search over the entity's searchable fields (the title field when none is marked) that the
 * caller may read: an unreadable field is left out rather than searched, so a match can't leak it.
 */
export function searchCondition(entity: CompiledEntity, q: string, readable: (field: string) => boolean = () => true): SQL {
  const fields = (entity.searchFields.length ? entity.searchFields : entity.titleField ? [entity.titleField] : []).filter(
    readable,
  );
  if (!fields.length) fail('q', 'not_searchable', `${entity.name} has no searchable fields`);
  const pattern = `%${q.replace(/[\\%_]/g, (c) => '\\' + c)}%`;
  const exact = or(...fields.map((f) => sql`${columnRef(entity, f)} ilike ${pattern}`))!;
  const grams = gramsOf(entity);
  const wanted = [...q].length >= MIN_GRAM_QUERY ? queryGrams(q) : [];
  // Every bigram of the query in the record's bigrams: the GIN index finds the candidates, ILIKE decides.
  return grams && wanted.length ? and(sql`${grams} @> ${sql.param(wanted)}::text[]`, exact)! : exact;
}

const gramExpressions = perEntity<SQL | null>();
/** The entity's search-index expression over its qualified columns (engine/model/search.ts), if it has one. */
const gramsOf = (entity: CompiledEntity): SQL | null =>
  gramExpressions(entity, '', () => {
    const index = entity.indexes.find((i) => i.expression);
    return index ? sql.raw(gramsExpression(index.columns.map((c) => columnText(entity, c)))) : null;
  });

const deletedConditions = perEntity<SQL>();
/** Live records, or the recycle bin's: one piece of text per entity. */
export const deletedCondition = (entity: CompiledEntity, deleted: ListParams['deleted']): SQL =>
  deletedConditions(entity, deleted, () =>
    sql.raw(`${columnText(entity, 'deleted_at')} ${deleted === 'only' ? 'is not null' : 'is null'}`),
  );

export function whereConditions(
  entity: CompiledEntity,
  params: ListParams,
  context: Record<string, unknown>,
  checkReadable?: ReadableCheck,
  readable?: (field: string) => boolean,
  /** Widens the filter's scope (the list adds fields of referenced records: engine/data/operations/paths.ts). */
  widen: (scope: FilterScope) => FilterScope = (scope) => scope,
): SQL[] {
  const conditions: SQL[] = [deletedCondition(entity, params.deleted)];
  if (params.filter !== undefined) {
    try {
      conditions.push(compileFilter(params.filter, widen(filterScope(entity, context, checkReadable))));
    } catch (e) {
      // Point the client at the filter parameter, then into the expression.
      const err = e as { details?: ErrorDetail[] };
      // (a refusal of an unreadable field already names the parameter)
      if (err.details)
        err.details = err.details.map((d) => ({ ...d, path: d.path.startsWith('/query/') ? d.path : '/query/filter' + d.path }));
      throw e;
    }
  }
  if (params.q) conditions.push(searchCondition(entity, params.q, readable));
  return conditions;
}
