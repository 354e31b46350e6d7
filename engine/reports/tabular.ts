/**
 * Tabular reports: records and columns (fields and fields through references), sorted, at most
 * `limit` rows, with the total count and the sums of number columns over every matching record —
 * one statement (window aggregates next to the page).
 */
import { sql, type SQL } from 'drizzle-orm';
import type { CompiledEntity } from '../model/compile.js';
import { pointer } from '../errors.js';
import { bindParams, compileCondition, valueSql, type Lang, type RunContext } from './compile.js';
import type { ReportColumn, ReportData } from './shape.js';
import type { ReportDoc } from './types.js';

const DEFAULT_LIMIT = 200;

export function compileTabular(doc: ReportDoc, _entity: CompiledEntity, run: RunContext) {
  const source = run.source;
  const scope = source.scope();
  const paths = doc.columns ?? [];
  const columns = paths.map((p, i) => ({ path: p, column: source.column(p, pointer('columns', i))! }));
  const labels = columns.map(({ path, column }) => source.label(path, column));
  const select: SQL[] = [sql`${source.column('id', '')!.sql} as _id`];
  columns.forEach(({ column }, i) => {
    select.push(sql`${valueSql(column)} as ${sql.raw(`c${i}`)}`);
    if (labels[i]) select.push(sql`${labels[i]} as ${sql.raw(`l${i}`)}`);
    if (column.kind === 'number' || column.kind === 'integer')
      select.push(sql`(sum(${column.sql}) over ())::float8 as ${sql.raw(`s${i}`)}`);
  });
  select.push(sql`(count(*) over ())::int as _count`);
  const where: SQL[] = [source.live()];
  if (scope) where.push(scope);
  if (doc.filter !== undefined) where.push(compileCondition(run, doc.filter, '/filter'));
  const order = (doc.sort ?? []).map((s) => {
    const c = columns[paths.indexOf(s.by)]!.column;
    return sql`${c.sql} ${sql.raw(s.desc ? 'desc nulls last' : 'asc nulls first')}`;
  });
  order.push(sql`${source.column('id', '')!.sql} desc`);
  const limit = doc.limit ?? DEFAULT_LIMIT;
  const statement = sql`select ${sql.join(select, sql`, `)} ${source.from()} where ${sql.join(where, sql` and `)} order by ${sql.join(order, sql`, `)} limit ${limit}::int`;

  const shape = (raw: Record<string, unknown>[], lang: Lang): ReportData => {
    const cols: ReportColumn[] = columns.map(({ path, column }) => {
      const f = column.entity.field(column.field);
      const dictionary =
        f?.doc.dictionary && f.doc.type !== 'multipicklist' ? run.model.dictionaries.get(String(f.doc.dictionary)) : undefined;
      return {
        name: path.replace(/\./g, '_'),
        label: f?.doc.label[lang] ?? column.field,
        type: dictionary ? 'picklist' : column.to ? 'reference' : column.kind,
        role: 'dimension',
        ...(dictionary ? { options: dictionary.items.map((x) => ({ value: x.value, label: x.label[lang] })) } : {}),
      };
    });
    const rows = raw.map((r) => {
      const row: Record<string, unknown> = { id: r._id };
      const rowLabels: Record<string, string> = {};
      cols.forEach((c, i) => {
        row[c.name] = r[`c${i}`] ?? null;
        if (labels[i] && r[`l${i}`] != null) rowLabels[c.name] = String(r[`l${i}`]);
        else if (c.options && row[c.name] != null)
          rowLabels[c.name] = c.options.find((o) => o.value === row[c.name])?.label ?? String(row[c.name]);
      });
      row._labels = rowLabels;
      row._filter = { '==': [{ var: 'id' }, r._id] };
      return row;
    });
    const totals: Record<string, unknown> = { count: raw.length ? Number(raw[0]!._count) : 0 };
    columns.forEach(({ column }, i) => {
      if (column.kind === 'number' || column.kind === 'integer') totals[cols[i]!.name] = raw.length ? raw[0]![`s${i}`] : null;
    });
    return { columns: cols, rows, totals };
  };
  return { sql: statement, shape, filter: doc.filter === undefined ? undefined : bindParams(doc.filter, run) };
}
