/**
 * A report's answer as a file: CSV (UTF-8 with a byte-order mark, labels as headers, display labels
 * for dimension values, leading formula characters neutralised) or XLSX (exceljs: typed cells —
 * numbers, dates, percentages with their formats — and a bold header and totals row). Both come
 * from the same ReportResult the JSON route answers, computed under the export permission.
 */
import ExcelJS from 'exceljs';
import type { ReportResult } from './service.js';
import type { ReportColumn } from './shape.js';

type Lang = 'en' | 'zh-CN';

const csvCell = (value: unknown): string => {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
};

/** What a cell shows: a dimension's display label, a measure's number. */
const display = (c: ReportColumn, row: Record<string, unknown>) => {
  if (c.role === 'dimension') {
    const label = (row._labels as Record<string, string> | undefined)?.[c.name];
    if (label !== undefined) return label;
  }
  return row[c.name];
};

const totalLabel = (lang: Lang) => (lang === 'zh-CN' ? '合计' : 'Total');

/** The rows of the file: the report's rows, then a totals row when there are totals. */
function lines(result: ReportResult, lang: Lang): unknown[][] {
  const out = result.rows.map((row) => result.columns.map((c) => display(c, row)));
  const hasTotals = result.columns.some((c) => c.role === 'measure' && result.totals[c.name] !== undefined);
  if (hasTotals && result.rows.length)
    out.push(
      result.columns.map((c, i) =>
        i === 0 ? totalLabel(lang) : c.role === 'measure' || c.name in result.totals ? (result.totals[c.name] ?? null) : null,
      ),
    );
  return out;
}

export function reportCsv(result: ReportResult, lang: Lang): string {
  const header = result.columns.map((c) => csvCell(c.label)).join(',');
  return '\uFEFF' + [header, ...lines(result, lang).map((l) => l.map(csvCell).join(','))].join('\r\n') + '\r\n';
}

const FORMATS: Record<string, string> = {
  integer: '#,##0',
  number: '#,##0.00',
  percent: '0.0%',
  date: 'yyyy-mm-dd',
  datetime: 'yyyy-mm-dd hh:mm:ss',
};

export async function reportXlsx(result: ReportResult, lang: Lang): Promise<Buffer> {
  const book = new ExcelJS.Workbook();
  // Sheet names: at most 31 characters, none of : \ / ? * [ ]
  const sheet = book.addWorksheet(result.report.label.replace(/[:\\/?*[\]]/g, ' ').slice(0, 31) || 'Report');
  sheet.columns = result.columns.map((c) => ({
    header: c.label,
    key: c.name,
    width: Math.min(40, Math.max(10, c.label.length + 4)),
  }));
  sheet.getRow(1).font = { bold: true };
  const body = lines(result, lang);
  body.forEach((values, r) => {
    const row = sheet.addRow(
      values.map((v, i) => {
        const c = result.columns[i]!;
        if (v === null || v === undefined) return null;
        if (c.type === 'date' && typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v)) return new Date(`${v}T00:00:00Z`);
        if (c.type === 'datetime' && typeof v === 'string' && !Number.isNaN(Date.parse(v))) return new Date(v);
        return v;
      }),
    );
    result.columns.forEach((c, i) => {
      const format = FORMATS[c.type];
      if (format) row.getCell(i + 1).numFmt = format;
    });
    if (r === body.length - 1 && body.length > result.rows.length) row.font = { bold: true };
  });
  sheet.views = [{ state: 'frozen', ySplit: 1 }];
  return Buffer.from(await book.xlsx.writeBuffer());
}
