/**
 * PostgreSQL renders the records of a read as API-ready JSON text, one string per row, so a page
 * crosses Node without being parsed into objects and serialized again (the way PostgREST answers).
 * Per list page that is ~50 strings instead of ~1,300 parsed values, 50 objects and a JSON.stringify:
 * most of a page's CPU in Node.
 *
 *   select row_to_json("$r")::text as "$json", json_build_array(<sort keys>, id)::text as "$key"
 *   from "opportunity" cross join lateral (select "opportunity"."id" as "id", … ) "$r"
 *   where … order by … limit …
 *
 * The lateral row names the JSON keys and formats what JSON would otherwise render differently from
 * the API (timestamps: ISO 8601 in UTC with milliseconds, as engine/model/value-kind.ts says); the
 * planner folds it into the scan. `$key` is the row's position in the sort, with timestamps at full
 * (microsecond) precision so a keyset cursor made from it neither skips nor repeats rows.
 * The rendering equals decodeRows' (test/api/render.test.ts holds them equal for every value kind).
 * Identifiers come from validated metadata.
 */
import { getTableName, sql, type SQL } from 'drizzle-orm';
import type { CompiledEntity } from '../model/compile.js';

const ISO_MILLIS = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;
const ISO_MICROS = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;

const quote = (identifier: string) => `"${identifier}"`;

function columnText(entity: CompiledEntity, field: string): string {
  return `${quote(getTableName(entity.table))}.${quote(entity.columns[field].name)}`;
}

/** A field as the API shows it, in SQL (timestamps formatted; everything else renders as JSON does). */
function apiValue(entity: CompiledEntity, field: string): string {
  const column = columnText(entity, field);
  return entity.columnKinds.get(field) === 'datetime' ? `to_char(${column} at time zone 'UTC', ${ISO_MILLIS})` : column;
}

/** A sort key's value for a cursor: exact, so that comparing the column with it finds the row's place. */
function keyValue(entity: CompiledEntity, field: string): string {
  const column = columnText(entity, field);
  return entity.columnKinds.get(field) === 'datetime' ? `to_char(${column} at time zone 'UTC', ${ISO_MICROS})` : column;
}

const cache = new WeakMap<CompiledEntity, Map<string, SQL>>();

/**
 * `select <record as JSON> as "$json", <sort key as JSON> as "$key" from <table> …` for the fields
 * `names` and the sort keys `keys` (the last one being id); made once per entity, fields and sort.
 */
export function selectJson(entity: CompiledEntity, names: string[], keys: string[]): SQL {
  let byShape = cache.get(entity);
  if (!byShape) cache.set(entity, (byShape = new Map()));
  const shape = `${names.join(',')}|${keys.join(',')}`;
  let prefix = byShape.get(shape);
  if (!prefix) {
    const row = names.map((n) => `${apiValue(entity, n)} as ${quote(n)}`).join(', ');
    const key = keys.map((k) => keyValue(entity, k)).join(', ');
    prefix = sql.raw(
      `select row_to_json("$r")::text as "$json", json_build_array(${key})::text as "$key" ` +
        `from ${quote(getTableName(entity.table))} cross join lateral (select ${row}) "$r"`,
    );
    byShape.set(shape, prefix);
  }
  return prefix;
}

/** A rendered row of a select made by selectJson. */
export interface JsonRow {
  $json: string;
  $key: string;
}
