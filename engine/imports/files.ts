/**
 * Import files on disk: an upload is streamed to the data folder (never held in memory), its format
 * and text encoding detected, and its rows read back as a stream — CSV through csv-parse after the
 * bytes are decoded (UTF-8 with or without a byte-order mark, or GB18030, the superset of GBK that
 * Excel on Chinese Windows writes), XLSX through exceljs's streaming reader. Memory stays flat
 * whatever the file's size.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse } from 'csv-parse';
import ExcelJS from 'exceljs';
import { AppError, badRequest } from '../errors.js';
import { t, type Lang } from '../model/language.js';
import { uuidv7 } from '../model/ids.js';

export type FileFormat = 'csv' | 'xlsx';
export type Encoding = 'utf-8' | 'gb18030';

/** A cell as read: text from CSV; text, number, boolean or Date (at UTC midnight for dates) from XLSX. */
export type Cell = string | number | boolean | Date | null;
export interface SourceRow {
  /** The row's number in the file or sheet (the header is 1). */
  line: number;
  cells: Cell[];
}

export interface FileInfo {
  format: FileFormat;
  encoding?: Encoding;
  delimiter?: string;
  sheets?: string[];
  /** A .zip upload: where the archive is on disk (the table, unpacked, is the import's file) … */
  archive?: string;
  /** … and the table's path inside it. */
  table?: string;
}

const XLSX_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]); // a ZIP archive
const OLE_MAGIC = Buffer.from([0xd0, 0xcf, 0x11, 0xe0]); // the old binary .xls

/** Streams a request body to a new file under `dir`, refusing it past `limit` bytes. */
export async function saveUpload(dir: string, source: AsyncIterable<Uint8Array>, limit: number, lang: Lang) {
  await mkdir(dir, { recursive: true });
  const id = uuidv7();
  const path = join(dir, `${id}.upload`);
  let size = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.byteLength;
      if (size > limit)
        done(new AppError(413, 'body_too_large', t(lang, `Files are limited to ${limit} bytes`, `文件不能超过 ${limit} 字节`)));
      else done(null, chunk);
    },
  });
  try {
    await pipeline(source, counter, createWriteStream(path));
  } catch (e) {
    await rm(path, { force: true });
    throw e;
  }
  if (size === 0) {
    await rm(path, { force: true });
    throw badRequest('empty_file', t(lang, 'The file is empty', '文件是空的'));
  }
  return { id, path, size };
}

const unreadable = (lang: Lang, why: string, whyZh: string) =>
  badRequest('unreadable_file', t(lang, `The file cannot be read: ${why}`, `无法读取文件：${whyZh}`));

/**
 * Format from the first bytes (not the name, which may lie), encoding from the first 64 KiB: valid
 * UTF-8 (a multi-byte sequence cut at the sample's end is fine) is UTF-8, anything else GB18030.
 */
export async function detect(path: string, lang: Lang): Promise<FileInfo> {
  const handle = await open(path, 'r');
  const sample = Buffer.alloc(65_536);
  const { bytesRead } = await handle.read(sample, 0, sample.length, 0);
  await handle.close();
  const head = sample.subarray(0, bytesRead);
  if (head.subarray(0, 4).equals(XLSX_MAGIC)) return { format: 'xlsx' };
  if (head.subarray(0, 4).equals(OLE_MAGIC))
    throw unreadable(
      lang,
      'old .xls files are not supported; save it as .xlsx or CSV',
      '不支持旧的 .xls 格式，请另存为 .xlsx 或 CSV',
    );
  if (head.includes(0))
    throw unreadable(lang, 'it is neither CSV text nor an XLSX workbook', '既不是 CSV 文本也不是 XLSX 工作簿');
  let encoding: Encoding = 'utf-8';
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
  } catch {
    encoding = 'gb18030';
  }
  const firstLine =
    new TextDecoder(encoding)
      .decode(head)
      .replace(/^\uFEFF/, '')
      .split(/\r?\n/, 1)[0] ?? '';
  const counts = [',', '\t', ';'].map((d) => [d, firstLine.split(d).length] as const);
  const delimiter = counts.reduce((a, b) => (b[1] > a[1] ? b : a))[0];
  return { format: 'csv', encoding, delimiter };
}

/** A byte stream decoded to text, chunk by chunk (a character split between chunks is kept for the next). */
function decoder(encoding: Encoding, lang: Lang) {
  const text = new TextDecoder(encoding, { fatal: true, ignoreBOM: false });
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      try {
        done(null, text.decode(chunk, { stream: true }));
      } catch {
        done(unreadable(lang, `it is not valid ${encoding} text throughout`, `文件中有不符合 ${encoding} 编码的内容`));
      }
    },
    flush(done) {
      try {
        done(null, text.decode());
      } catch {
        done(unreadable(lang, 'it ends in the middle of a character', '文件在一个字符的中间结束'));
      }
    },
  });
}

/** The rows of the file, header first, as a stream. */
export async function* readRows(
  path: string,
  info: FileInfo,
  lang: Lang,
  sheet?: string,
  progress?: { bytes: number },
): AsyncGenerator<SourceRow> {
  const file = createReadStream(path);
  if (progress) file.on('data', (chunk) => (progress.bytes += chunk.length));
  if (info.format === 'csv') yield* csvRows(file, info, lang);
  else yield* xlsxRows(file, lang, sheet);
}

async function* csvRows(file: Readable, info: FileInfo, lang: Lang): AsyncGenerator<SourceRow> {
  const parser = parse({
    delimiter: info.delimiter ?? ',',
    relax_column_count: true,
    relax_quotes: true,
  });
  const source = file.pipe(decoder(info.encoding ?? 'utf-8', lang));
  file.on('error', (e) => parser.destroy(e));
  source.on('error', (e) => parser.destroy(e));
  source.pipe(parser);
  try {
    // Line numbers are counted here rather than asked of csv-parse (its `info` option copies an object
    // per record, a sixth of an import's time in this process): a record takes one line plus the line
    // breaks inside its quoted cells; an empty line is a record of one empty cell, skipped.
    let line = 0;
    for await (const record of parser as AsyncIterable<string[]>) {
      const first = ++line;
      for (const cell of record) for (let i = cell.indexOf('\n'); i >= 0; i = cell.indexOf('\n', i + 1)) line++;
      if (record.length === 1 && record[0] === '') continue;
      yield { line: first, cells: record };
    }
  } catch (e) {
    if (e instanceof AppError) throw e;
    throw unreadable(lang, (e as Error).message, (e as Error).message);
  } finally {
    file.destroy();
    source.destroy();
  }
}

/** A cell of exceljs as a plain value: formulas by their result, rich text and links by their text. */
function plain(value: unknown): Cell {
  if (value === null || value === undefined) return null;
  if (value instanceof Date || typeof value !== 'object') return value as Cell;
  const v = value as { result?: unknown; richText?: { text: string }[]; text?: unknown; error?: string };
  if ('result' in v) return plain(v.result);
  if (v.richText) return v.richText.map((r) => r.text).join('');
  if (v.text !== undefined) return plain(v.text);
  if (v.error) return null;
  return String(value);
}

async function* xlsxRows(file: Readable, lang: Lang, sheet?: string): AsyncGenerator<SourceRow> {
  let reader: ExcelJS.stream.xlsx.WorkbookReader;
  try {
    reader = new ExcelJS.stream.xlsx.WorkbookReader(file, {
      sharedStrings: 'cache',
      styles: 'cache', // date-formatted cells come as Dates
      hyperlinks: 'ignore',
      worksheets: 'emit',
    });
  } catch (e) {
    throw unreadable(lang, (e as Error).message, (e as Error).message);
  }
  let position = 0;
  let found = false;
  try {
    for await (const worksheet of reader) {
      position++;
      const name = (worksheet as unknown as { name: string }).name;
      const wanted = sheet === undefined ? position === 1 : sheet === name || sheet === String(position);
      if (!wanted || found) {
        for await (const _ of worksheet) void _; // the archive is read in order: skip through
        continue;
      }
      found = true;
      for await (const row of worksheet) {
        const values = (row.values as unknown[]).slice(1); // exceljs counts columns from 1
        const cells = Array.from(values, plain);
        if (cells.some((c) => c !== null && c !== '')) yield { line: row.number, cells };
      }
    }
  } catch (e) {
    if (e instanceof AppError) throw e;
    throw unreadable(lang, 'it is not a valid XLSX workbook', '不是有效的 XLSX 工作簿');
  } finally {
    file.destroy();
  }
  if (!found)
    throw badRequest('unknown_sheet', t(lang, `The workbook has no sheet "${sheet}"`, `工作簿中没有工作表“${sheet}”`), [
      { path: '/sheet', code: 'unknown_sheet', message: t(lang, 'no such sheet', '没有这个工作表') },
    ]);
}

/** The sheet names of a workbook (read through once; small next to the rows). */
export async function sheetNames(path: string): Promise<string[]> {
  const names: string[] = [];
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(path, { worksheets: 'emit', sharedStrings: 'ignore' });
  for await (const worksheet of reader) {
    names.push((worksheet as unknown as { name: string }).name);
    for await (const _ of worksheet) void _;
  }
  return names;
}

/** The header and the first rows, for mapping and a preview. */
export async function preview(path: string, info: FileInfo, lang: Lang, sheet?: string, rows = 10) {
  let header: string[] | undefined;
  const sample: SourceRow[] = [];
  for await (const row of readRows(path, info, lang, sheet)) {
    if (!header)
      header = row.cells.map((c) => (c === null ? '' : c instanceof Date ? c.toISOString().slice(0, 10) : String(c).trim()));
    else sample.push(row);
    if (header && sample.length >= rows) break;
  }
  if (!header?.some(Boolean)) throw badRequest('no_header', t(lang, 'The file has no header row', '文件没有标题行'));
  return { header, sample };
}
