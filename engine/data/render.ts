/**
 * PostgreSQL renders the records of a read as API-ready JSON text, one text per row, so a page
 * crosses Node without being parsed into objects and serialized again (the way PostgREST answers).
 * Per list page that is ~50 byte slices instead of ~1,300 parsed values, 50 objects and a
 * JSON.stringify: most of a page's CPU in Node. The rows are read as bytes (Database.textRows) and
 * joined into the response as bytes: no UTF-8 decoding, no string for the garbage collector.
 *
 *   select row_to_json("$r")::text as "$json", "opportunity"."amount"::text as "$k0", "opportunity"."id"::text as "$k1"
 *   from "opportunity" cross join lateral (select "opportunity"."id" as "id", … ) "$r"
 *   where … order by … limit …
 *
 * The lateral row names the JSON keys and formats what JSON would otherwise render differently from
 * the API (timestamps: ISO 8601 in UTC with milliseconds, as engine/registry/value-kind.ts says); the
 * planner folds it into the scan. `$k0…` are the row's sort keys as stored, read from the last row of
 * a page only, in their text form: timestamps keep their full (microsecond) precision there, so a keyset
 * cursor made from them neither skips nor repeats rows.
 * The rendering equals decodeRows' (test/api/render.test.ts holds them equal for every value kind).
 * Identifiers come from validated metadata.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { CompiledEntity } from '../model/compile.js';
import { decodeValue } from './records.js';
import { columnText, perEntity, tableText } from './query.js';

const ISO_MILLIS = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;

/** A field as the API shows it, in SQL (timestamps formatted; everything else renders as JSON does). */
function apiValue(entity: CompiledEntity, field: string): string {
  const column = columnText(entity, field);
  return entity.columnKinds.get(field) === 'datetime' ? `to_char(${column} at time zone 'UTC', ${ISO_MILLIS})` : column;
}

const selects = perEntity<SQL>();

/**
 * `select <record as JSON> as "$json", <sort keys> as "$k0"… from <table> …` for the fields `names`
 * and the sort keys `keys` (the last one being id); made once per entity, fields and sort.
 */
export function selectJson(entity: CompiledEntity, names: string[], keys: string[]): SQL {
  return selects(entity, `${names.join(',')}|${keys.join(',')}`, () => {
    const row = names.map((n) => `${apiValue(entity, n)} as "${n}"`).join(', ');
    const key = keys.map((k, i) => `${columnText(entity, k)}::text as "$k${i}"`).join(', ');
    return sql.raw(
      `select row_to_json("$r")::text as "$json", ${key} from ${tableText(entity)} cross join lateral (select ${row}) "$r"`,
    );
  });
}

/** A row of a select made by selectJson, as Database.textRows reads it: the record's JSON, then the sort keys. */
export type JsonRow = (Buffer | null)[];

/** The sort key values of a rendered row, exact, in their in-memory form (for a cursor). */
export function sortKeyOf(entity: CompiledEntity, keys: string[], row: JsonRow): unknown[] {
  return keys.map((k, i) => {
    const text = row[i + 1]?.toString('utf8');
    if (text === undefined) return null;
    const kind = entity.columnKinds.get(k)!;
    // boolean::text is 'true' / 'false'; every other sortable kind decodes from its text form.
    return kind === 'boolean' ? text === 'true' : decodeValue(kind, text, true);
  });
}

const OPEN = Buffer.from('{"data":[');
const COMMA = Buffer.from(',');

/**
 * The JSON of a Page from rendered rows: `{"data":[<row>,<row>…],"nextCursor":…}` as bytes, copied
 * once. `tail` holds the members after data (nextCursor, total) as JSON text without the braces' end.
 */
export function pageJson(rows: JsonRow[], tail: string): Buffer<ArrayBuffer> {
  const parts: Buffer[] = [OPEN];
  for (let i = 0; i < rows.length; i++) {
    if (i) parts.push(COMMA);
    parts.push(rows[i][0]!);
  }
  parts.push(Buffer.from(`],${tail}}`));
  return Buffer.concat(parts);
}

/** The record a rendered row holds, parsed (for callers that change records before sending them). */
export const parseRecord = (row: JsonRow): Record<string, unknown> => JSON.parse(row[0]!.toString('utf8'));
