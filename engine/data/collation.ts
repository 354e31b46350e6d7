/**
 * Pinyin ordering of text for Chinese callers: an ICU collation the list queries name (PINYIN in
 * query.ts). PostgreSQL built with ICU orders 北京 杭州 南京 上海 苏州 by it. PGlite accepts the
 * collation but ships no Chinese ICU data, so there it orders like ICU's root collation (Han characters
 * by code point). A server without ICU at all gets a copy of "C", so the queries still run.
 */
export const COLLATION_SQL = `
create schema if not exists meta;
do $$
begin
  if not exists (select 1 from pg_collation c join pg_namespace n on n.oid = c.collnamespace where n.nspname = 'meta' and c.collname = 'zh_pinyin') then
    begin
      create collation meta.zh_pinyin (provider = icu, locale = 'zh-u-co-pinyin');
    exception
      when duplicate_object or unique_violation then null; -- another process created it at the same moment
      when others then
        begin
          create collation meta.zh_pinyin from "C";
        exception when duplicate_object or unique_violation then null;
        end;
    end;
  end if;
end $$;
`;
