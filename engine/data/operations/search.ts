/**
 * Global search: the records of every entity the caller may read whose title or searchable fields
 * contain the text, a few per entity, in one statement — a UNION ALL of one branch per entity, each
 * with the caller's read scope in its WHERE and served by the entity's bigram index (the list's own
 * search condition, engine/data/query.ts searchCondition; engine/model/search.ts says why bigrams).
 * Entities without read right or without a readable searchable field are left out, not refused.
 *
 * No ORDER BY: with one, PostgreSQL must choose between walking the newest rows (good for a common
 * word) and the index then a sort of every match (good for a rare one), and its estimates for text
 * patterns cannot tell them apart — a common two-character word cost 260 ms on 1,000,000 rows. Without
 * it either plan stops at the limit. The few rows returned are ranked here (exact title, title prefix,
 * title, other field).
 */
import { sql, type SQL } from 'drizzle-orm';
import { badRequest } from '../../errors.js';
import { t } from '../../model/language.js';
import { isStorableText } from '../../model/text.js';
import type { OperationContext } from '../context.js';
import { all } from '../pipeline.js';
import { columnRef, deletedCondition, searchCondition, tableText } from '../query.js';
import type { DataService } from '../service.js';

export interface SearchHit {
  id: string;
  title: string | null;
  /** The readable searchable fields' values (what the result list shows beside the title). */
  fields: Record<string, string | null>;
}
export interface SearchGroup {
  entity: string;
  label: { en: string; 'zh-CN': string };
  titleField: string | null;
  records: SearchHit[];
  /** More records match than were returned (open the entity's list with the same q). */
  more: boolean;
}

export const SEARCH_MAX_LIMIT = 20;

export async function search(
  data: DataService,
  ctx: OperationContext,
  query: Record<string, string | undefined>,
): Promise<{ data: SearchGroup[] }> {
  const lang = ctx.lang;
  const fail = (param: string, en: string, zh: string, code = 'invalid_parameter'): never => {
    const message = t(lang, en, zh);
    throw badRequest(code, message, [{ path: `/query/${param}`, code, message }]);
  };
  for (const key of Object.keys(query))
    if (!['q', 'limit', 'entities'].includes(key))
      fail(key, `Unknown query parameter "${key}"`, `未知的查询参数“${key}”`, 'unknown_parameter');
  const q = query.q?.trim() ?? '';
  if (!q) fail('q', 'Type something to search for', '请输入要搜索的内容', 'required');
  if (q.length > 200) fail('q', 'q is limited to 200 characters', '搜索内容最多 200 个字符');
  if (!isStorableText(q))
    fail('q', 'q must not contain NUL characters or unpaired surrogates', '搜索内容含有无效字符', 'invalid_text');
  const limit = query.limit === undefined ? 5 : Number(query.limit);
  if (!/^\d+$/.test(query.limit ?? '5') || limit < 1 || limit > SEARCH_MAX_LIMIT)
    fail('limit', `limit must be an integer from 1 to ${SEARCH_MAX_LIMIT}`, `limit 须为 1 到 ${SEARCH_MAX_LIMIT} 的整数`);
  const only = query.entities
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const name of only ?? [])
    if (!data.model().entity(name)) fail('entities', `There is no entity "${name}"`, `没有名为“${name}”的对象`, 'unknown_entity');

  const guard = data.guard(ctx);
  const branches: { sql: SQL; group: SearchGroup }[] = [];
  for (const entity of data.entities()) {
    if (only && !only.includes(entity.name)) continue;
    const scope = guard.optionalCondition(entity, 'read');
    if (scope === false) continue;
    const readable = guard.readable(entity);
    const searched = (entity.searchFields.length ? entity.searchFields : entity.titleField ? [entity.titleField] : []).filter(
      (f) => readable(f) && entity.field(f)?.type.textual,
    );
    if (!searched.length) continue;
    const title = entity.titleField && readable(entity.titleField) ? entity.titleField : null;
    const fields = sql.join(
      searched.map((f) => sql`${sql.raw(`'${f}'`)}, ${columnRef(entity, f)}::text`),
      sql`, `,
    );
    // The entity's name and field names come from validated metadata (identifier pattern).
    branches.push({
      group: { entity: entity.name, label: entity.label as SearchGroup['label'], titleField: title, records: [], more: false },
      sql: sql`(select ${sql.raw(`'${entity.name}'`)} as entity, ${columnRef(entity, 'id')}::text as id, ${
        title ? sql`${columnRef(entity, title)}::text` : sql`null::text`
      } as title, json_build_object(${fields})::text as fields from ${sql.raw(tableText(entity))} where ${all(
        deletedCondition(entity, 'exclude'),
        searchCondition(entity, q, readable),
        scope,
      )} limit ${sql.raw(String(limit + 1))})`,
    });
  }
  if (!branches.length) return { data: [] };
  // Planned per call: whether a word is rare (its index) or common (the newest rows) decides the plan.
  const rows = await data.database.rowsPlannedPerCall<{ entity: string; id: string; title: string | null; fields: string }>(
    sql.join(
      branches.map((b) => b.sql),
      sql` union all `,
    ),
  );
  const groups = new Map(branches.map((b) => [b.group.entity, b.group]));
  for (const row of rows) {
    const group = groups.get(row.entity)!;
    if (group.records.length === limit) group.more = true;
    else group.records.push({ id: row.id, title: row.title, fields: JSON.parse(row.fields) });
  }
  const needle = q.toLowerCase();
  const rank = (hit: SearchHit) => {
    const title = hit.title?.toLowerCase() ?? '';
    return title === needle ? 0 : title.startsWith(needle) ? 1 : title.includes(needle) ? 2 : 3;
  };
  for (const group of groups.values()) group.records.sort((a, b) => rank(a) - rank(b));
  return { data: [...groups.values()].filter((g) => g.records.length) };
}
