/**
 * Export as CSV (UTF-8 with a byte-order mark, so spreadsheet programs read Chinese text right).
 * Rows come through the same list operation under the export scope: filters, sort, readable fields.
 */
import { badRequest } from '../../errors.js';
import type { OperationContext } from '../context.js';
import type { DataService } from '../service.js';
import { list } from './list.js';

export const MAX_EXPORT_ROWS = 100_000;

const cell = (value: unknown): string => {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  // Quote when needed; neutralise leading formula characters (CSV injection into spreadsheets).
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
};

export async function exportCsv(
  data: DataService,
  ctx: OperationContext,
  entityName: string,
  query: Record<string, string | undefined>,
): Promise<string> {
  const { limit, cursor, ...rest } = query;
  if (cursor !== undefined || limit !== undefined)
    throw badRequest('unknown_parameter', 'An export takes every matching row: no limit or cursor', [
      { path: `/query/${cursor !== undefined ? 'cursor' : 'limit'}`, message: 'not allowed in an export' },
    ]);
  const entity = data.entity(entityName);
  const lines: string[] = [];
  let columns: string[] | undefined;
  let next: string | undefined;
  let count = 0;
  do {
    const page = await list(data, ctx, entityName, { ...rest, limit: '500', ...(next ? { cursor: next } : {}) }, 'export');
    if (!columns) {
      const wanted = rest.fields
        ? ['id', ...rest.fields.split(',').map((s) => s.trim())]
        : ['id', ...entity.fields.map((f) => f.name), 'owner_id', 'created_at', 'updated_at'];
      const readable = data.guard(ctx).readable(entity);
      columns = [...new Set(wanted)].filter(readable);
      lines.push(columns.map(cell).join(','));
    }
    for (const row of page.data) lines.push(columns.map((c) => cell(row[c])).join(','));
    count += page.data.length;
    if (count > MAX_EXPORT_ROWS)
      throw badRequest('export_too_large', `An export is limited to ${MAX_EXPORT_ROWS} rows; narrow it with a filter`);
    next = page.nextCursor ?? undefined;
  } while (next);
  return '\uFEFF' + lines.join('\r\n') + '\r\n';
}
