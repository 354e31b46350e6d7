/**
 * Text search that finds two-character Chinese words on large tables, on PostgreSQL and PGlite alike.
 *
 * pg_trgm's trigrams cannot serve a two-character query (北京, 华为) and drop non-alphanumeric characters
 * under the C locale PGlite runs in; pg_bigm is not packaged for either. So each entity gets one GIN
 * index over the **bigrams** of its searchable text, `meta.search_grams(<fields>)` — an immutable SQL
 * function, so the index is an expression index: no extra column, no table rewrite when the searchable
 * fields change, built after a deploy like any other non-unique index. A query of two or more characters
 * must contain all its bigrams (`@>`: a GIN index scan), and the exact `ILIKE` over the fields the caller
 * may read rechecks the few candidates. A one-character query has no bigram and runs on `ILIKE` alone.
 * See docs/ui.md#global-search for the measurements.
 */
import type { CompiledField } from './compile.js';

export const SEARCH_SQL = `
create schema if not exists meta;
do $$
begin
  if not exists (
    select 1 from pg_proc p join pg_namespace n on n.oid = p.pronamespace join pg_language l on l.oid = p.prolang
    where n.nspname = 'meta' and p.proname = 'search_grams' and l.lanname = 'plpgsql'
  ) then
    begin
      -- The lower-cased two-character substrings of the parts (NULL parts are skipped). A repeated one
      -- is kept: GIN stores each key of a row once, and @> does not count. PL/pgSQL, not SQL: an SQL
      -- function with a FROM clause is planned anew in every statement that computes the index, which
      -- doubled the cost of a single-row insert or update (docs/benchmark.md#demo-data). Replacing the
      -- earlier SQL body keeps every index valid: the keys are the same.
      create or replace function meta.search_grams(variadic parts text[]) returns text[]
      language plpgsql immutable strict parallel safe as $f$
      declare
        grams text[] := '{}';
        part text;
      begin
        foreach part in array parts loop
          if part is not null then
            part := lower(part);
            for i in 1 .. char_length(part) - 1 loop
              grams := grams || substr(part, i, 2);
            end loop;
          end if;
        end loop;
        return grams;
      end
      $f$;
    -- another process created or replaced it at the same moment (XX000: "tuple concurrently updated")
    exception when duplicate_function or unique_violation or sqlstate 'XX000' then null;
    end;
  end if;
end $$;
`;

/** A query shorter than this has no bigram: it is matched by ILIKE alone. */
export const MIN_GRAM_QUERY = 2;

/**
 * The bigrams of a query, as `meta.search_grams` would give them, computed here: a query's grams folded by
 * the planner cost ~0.5 ms per searched table (the SQL function is planned at each call), most of a global
 * search's time. `lower()` follows the database's locale (the C locale lowers ASCII only), so a bigram
 * holding a character whose lower case JavaScript and the database might see differently is left out:
 * fewer bigrams find more candidates, never fewer, and ILIKE decides anyway.
 */
export function queryGrams(q: string): string[] {
  const chars = [...q].map((c) => (c.toLowerCase() === c ? c : /^[A-Z]$/.test(c) ? c.toLowerCase() : null));
  const grams = new Set<string>();
  for (let i = 0; i < chars.length - 1; i++) {
    const [a, b] = [chars[i], chars[i + 1]];
    if (a !== null && b !== null) grams.add(a + b);
  }
  return [...grams];
}

/** The fields a text search covers: the searchable ones, else the title field; text columns only. */
export function searchFieldNames(fields: CompiledField[], titleField: string | undefined): string[] {
  const marked = fields.filter((f) => f.searchable).map((f) => f.name);
  const names = marked.length ? marked : titleField ? [titleField] : [];
  return names.filter((n) => fields.find((f) => f.name === n)?.type.textual);
}

/** `meta.search_grams("a", "b")` over already quoted column texts (the index's and the queries' expression). */
export const gramsExpression = (columns: string[]) => `meta.search_grams(${columns.join(', ')})`;
