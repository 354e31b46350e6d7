/**
 * Export as a file people can read: CSV (UTF-8 with a byte-order mark, so spreadsheet programs read
 * Chinese right) or XLSX (exceljs's streaming writer: numbers and dates as typed cells). Headers are
 * field labels in the caller's language, picklists show their labels, references the referenced
 * record's title (with `ids=true` also the record's id and a column of ids beside each reference). Rows come page by page through the list
 * operation under the `export` scope — the list view's filter, sort and columns, readable fields only —
 * and are written as they come: a million rows never sit in memory.
 */
import { PassThrough, Readable } from 'node:stream';
import ExcelJS from 'exceljs';
import { and, inArray, isNull } from 'drizzle-orm';
import { badRequest } from '../../errors.js';
import type { CompiledEntity } from '../../model/compile.js';
import { t } from '../../model/language.js';
import type { OperationContext } from '../context.js';
import type { DataService } from '../service.js';
import { list } from './list.js';

export type ExportFormat = 'csv' | 'xlsx';

/** A CSV cell: quoted when needed, leading formula characters neutralised (CSV injection into spreadsheets). */
export const csvCell = (value: unknown): string => {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
};

const SYSTEM_LABELS: Record<string, [string, string]> = {
  id: ['ID', 'ID'],
  owner_id: ['Owner', '负责人'],
  created_at: ['Created', '创建时间'],
  updated_at: ['Updated', '更新时间'],
  created_by: ['Created by', '创建人'],
  updated_by: ['Updated by', '更新人'],
  version: ['Version', '版本'],
};
const SYSTEM_REFERENCES = new Set(['owner_id', 'created_by', 'updated_by']);

interface Column {
  name: string;
  header: string;
  kind: string;
  /** Reference target entity (display names are looked up per page). */
  to?: string;
  /** The id column of a reference (ids=true). */
  idOf?: string;
  labels?: Map<string, string>;
}

const PAGE = '500';

export async function exportFile(
  data: DataService,
  ctx: OperationContext,
  entityName: string,
  query: Record<string, string | undefined>,
): Promise<{ body: ReadableStream<Uint8Array>; type: string; fileName: string }> {
  const { limit, cursor, format: rawFormat, ids, ...rest } = query;
  if (cursor !== undefined || limit !== undefined)
    throw badRequest('unknown_parameter', 'An export takes every matching row: no limit or cursor', [
      { path: `/query/${cursor !== undefined ? 'cursor' : 'limit'}`, message: 'not allowed in an export' },
    ]);
  const format = (rawFormat ?? 'csv') as ExportFormat;
  if (format !== 'csv' && format !== 'xlsx')
    throw badRequest('invalid_parameter', 'format is csv or xlsx', [{ path: '/query/format', message: 'csv | xlsx' }]);
  const entity = data.entity(entityName);
  const lang = ctx.lang;
  // The first page checks everything (rights, filter, sort, fields) before a byte is sent.
  const first = await list(data, ctx, entityName, { ...rest, limit: PAGE }, 'export');
  const columns = exportColumns(data, ctx, entity, rest.fields, ids === 'true');
  const pages = (async function* () {
    let page = first;
    for (;;) {
      yield await display(data, ctx, columns, page.data);
      if (!page.nextCursor) return;
      page = await list(data, ctx, entityName, { ...rest, limit: PAGE, cursor: page.nextCursor }, 'export');
    }
  })();
  const fileName = `${entity.label[lang] || entity.name}.${format}`;
  if (format === 'csv') {
    const encoder = new TextEncoder();
    let header = true;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (header) {
          header = false;
          return controller.enqueue(encoder.encode(`\uFEFF${columns.map((c) => csvCell(c.header)).join(',')}\r\n`));
        }
        const next = await pages.next();
        if (next.done) return controller.close();
        controller.enqueue(encoder.encode(next.value.map((row) => `${row.map(csvCell).join(',')}\r\n`).join('')));
      },
      async cancel() {
        await pages.return(undefined);
      },
    });
    return { body, type: 'text/csv; charset=utf-8', fileName };
  }
  const out = new PassThrough();
  const book = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true, useSharedStrings: false });
  const sheet = book.addWorksheet(entity.label[lang].replace(/[:\\/?*[\]]/g, ' ').slice(0, 31) || 'Export', {
    views: [{ state: 'frozen', ySplit: 1 }],
  });
  sheet.columns = columns.map((c) => ({
    header: c.header,
    key: c.name,
    width: Math.min(40, Math.max(12, c.header.length * 2 + 4)),
    style: style(c),
  }));
  sheet.getRow(1).font = { bold: true };
  (async () => {
    try {
      for await (const rows of pages)
        for (const values of rows) sheet.addRow(values.map((v, i) => typed(columns[i]!, v))).commit();
      sheet.commit();
      await book.commit();
    } catch (e) {
      out.destroy(e as Error);
    }
  })();
  return {
    body: Readable.toWeb(out) as ReadableStream<Uint8Array>,
    type: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    fileName: `${entity.label[lang] || entity.name}.xlsx`,
  };
}

const FORMATS: Record<string, string> = {
  integer: '#,##0',
  number: '#,##0.00',
  date: 'yyyy-mm-dd',
  datetime: 'yyyy-mm-dd hh:mm:ss',
};
const style = (c: Column): Partial<ExcelJS.Style> => (FORMATS[c.kind] && !c.labels ? { numFmt: FORMATS[c.kind] } : {});

/** A value as an XLSX cell: dates as dates (at their UTC wall time), numbers as numbers. */
function typed(c: Column, v: unknown): unknown {
  if (v === null || v === undefined || v === '') return null;
  if (c.kind === 'date' && typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v)) return new Date(`${v}T00:00:00Z`);
  if (c.kind === 'datetime' && typeof v === 'string' && !Number.isNaN(Date.parse(v))) return new Date(v);
  return v;
}

/** The columns of the file: the requested (or all) readable fields, labelled in the caller's language. */
function exportColumns(
  data: DataService,
  ctx: OperationContext,
  entity: CompiledEntity,
  fields: string | undefined,
  withIds: boolean,
) {
  const lang = ctx.lang;
  const wanted = fields
    ? fields
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : [...entity.fields.map((f) => f.name), 'owner_id', 'created_at', 'updated_at'];
  if (withIds) wanted.unshift('id'); // the record's own id (to import the file back with updates), then each reference's
  const readable = data.guard(ctx).readable(entity);
  const dictionaries = data.model().dictionaries;
  const columns: Column[] = [];
  for (const name of [...new Set(wanted)].filter(readable)) {
    const field = entity.field(name);
    const system = SYSTEM_LABELS[name];
    const header = field ? field.doc.label[lang] : system ? t(lang, system[0], system[1]) : name;
    // A users field shows its users' names too (comma-separated).
    const to = field?.reference?.to ?? (SYSTEM_REFERENCES.has(name) || field?.type.userList ? 'user' : undefined);
    const dictionary = field?.doc.dictionary ? dictionaries.get(String(field.doc.dictionary)) : undefined;
    const labels = dictionary ? new Map(dictionary.items.map((i) => [i.value, i.label[lang]])) : undefined;
    const kind = field?.kind ?? entity.columnKinds.get(name) ?? 'text';
    columns.push({ name, header, kind, to, labels });
    if (to && withIds) columns.push({ name: `${name}#id`, header: `${header} (ID)`, kind: 'text', idOf: name });
  }
  return columns;
}

/** A page of records as cells: labels for picklists, titles for references (within the caller's read scope). */
async function display(data: DataService, ctx: OperationContext, columns: Column[], records: Record<string, unknown>[]) {
  const titles = new Map<string, Map<string, string>>();
  const guard = data.guard(ctx);
  for (const c of columns.filter((x) => x.to)) {
    const target = data.model().entity(c.to!);
    const ids = [...new Set(records.flatMap((r) => r[c.name]).filter((v): v is string => typeof v === 'string'))];
    const byId = new Map<string, string>();
    titles.set(c.name, byId);
    if (!target || !ids.length) continue;
    const title = target.titleField ?? 'id';
    const read = guard.optionalCondition(target, 'read');
    if (read === false || !guard.readable(target)(title)) continue;
    const rows = (await data.database.db
      .select({ id: target.columns.id, title: target.columns[title]! })
      .from(target.table)
      .where(and(inArray(target.columns.id, ids), isNull(target.columns.deleted_at), read))) as { id: string; title: unknown }[];
    for (const r of rows) byId.set(r.id, String(r.title ?? r.id));
  }
  return records.map((r) =>
    columns.map((c) => {
      if (c.idOf) return Array.isArray(r[c.idOf]) ? (r[c.idOf] as string[]).join(', ') : (r[c.idOf] ?? null);
      const v = r[c.name];
      if (v === null || v === undefined) return null;
      if (c.to && Array.isArray(v)) return v.map((id) => titles.get(c.name)?.get(id) ?? id).join(', ');
      if (c.to) return titles.get(c.name)?.get(v as string) ?? v;
      if (c.labels) return Array.isArray(v) ? v.map((x) => c.labels!.get(x) ?? x).join(', ') : (c.labels.get(v as string) ?? v);
      return v;
    }),
  );
}
