/**
 * A .zip upload that carries files with the table: one CSV or XLSX and the files its file columns name
 * by their path inside the archive (like Salesforce Data Loader's attachment paths). Read with yauzl
 * from the upload on disk, by its central directory: nothing is unpacked to the disk but the table, and
 * only entries a row names are read at all — so no entry name ever becomes a path (no traversal), and
 * limits hold before anything is inflated: the number of entries, each entry's size as declared, and
 * that size checked again while inflating (an entry that inflates past what it declares is refused).
 */
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { badRequest } from '../errors.js';
import { t, type Lang } from '../model/language.js';

/** An archive with more entries than this is refused (a table and its files; not a disk image). */
export const MAX_ENTRIES = 10_000;

const open = (path: string) =>
  new Promise<ZipFile>((resolve, reject) =>
    yauzl.open(
      path,
      // Names stay bytes: yauzl would read names without the UTF-8 flag as CP437, where Chinese Windows writes GBK.
      { lazyEntries: true, decodeStrings: false, validateEntrySizes: true, autoClose: false, strictFileNames: false },
      (e, zip) => (e ? reject(e) : resolve(zip!)),
    ),
  );

/** An entry's name as text: UTF-8 when flagged or valid, else GB18030; `/` separators, no leading `./`. */
function entryName(entry: Entry): string {
  const raw = entry.fileName as unknown as Buffer;
  let name: string;
  if (entry.generalPurposeBitFlag & 0x800) name = raw.toString('utf8');
  else
    try {
      name = new TextDecoder('utf-8', { fatal: true }).decode(raw);
    } catch {
      name = new TextDecoder('gb18030').decode(raw);
    }
  return normalizePath(name);
}

/** A path as a cell names it or an archive holds it: `\` as `/`, no leading `./` or `/`, NFC, trimmed. */
export function normalizePath(path: string): string {
  return path
    .trim()
    .replace(/\\/g, '/')
    .replace(/^(\.\/|\/)+/, '')
    .normalize('NFC');
}

/** Entries no one means to import: folders, macOS resource forks, paths that climb out. */
const ignored = (name: string) =>
  !name || name.endsWith('/') || name.startsWith('__MACOSX/') || name.split('/').some((s) => s === '..' || s.startsWith('._'));

const TABLE = /\.(csv|txt|xlsx)$/i;

export class Archive {
  private constructor(
    private readonly zip: ZipFile,
    /** Entries by normalized name. */
    readonly entries: Map<string, Entry>,
  ) {}

  static async open(path: string, lang: Lang): Promise<Archive> {
    let zip: ZipFile;
    try {
      zip = await open(path);
    } catch {
      throw unreadableArchive(lang);
    }
    if (zip.entryCount > MAX_ENTRIES) {
      zip.close();
      throw badRequest(
        'archive_too_large',
        t(lang, `The archive holds more than ${MAX_ENTRIES} entries`, `压缩包中的条目超过 ${MAX_ENTRIES} 个`),
      );
    }
    const entries = new Map<string, Entry>();
    try {
      await new Promise<void>((resolve, reject) => {
        zip.on('entry', (entry: Entry) => {
          const name = entryName(entry);
          if (!ignored(name)) entries.set(name, entry);
          zip.readEntry();
        });
        zip.on('end', resolve);
        zip.on('error', reject);
        zip.readEntry();
      });
    } catch {
      zip.close();
      throw unreadableArchive(lang);
    }
    return new Archive(zip, entries);
  }

  /** Whether the archive is an XLSX workbook (a ZIP too) rather than a table with files. */
  isWorkbook() {
    return this.entries.has('[Content_Types].xml') && this.entries.has('xl/workbook.xml');
  }

  /** The one table of the archive (CSV or XLSX), refused when there is none or several. */
  table(lang: Lang): string {
    const tables = [...this.entries.keys()].filter((n) => TABLE.test(n));
    if (tables.length === 1) return tables[0]!;
    throw badRequest(
      'archive_table',
      tables.length
        ? t(
            lang,
            `The archive holds several tables (${tables.slice(0, 5).join(', ')}); put exactly one CSV or XLSX in it`,
            `压缩包中有多个表格（${tables.slice(0, 5).join('、')}），请只放一个 CSV 或 XLSX`,
          )
        : t(lang, 'The archive holds no CSV or XLSX table', '压缩包中没有 CSV 或 XLSX 表格'),
    );
  }

  /** An entry's size as its header declares it (checked again while it is read). */
  size(name: string) {
    return this.entries.get(name)?.uncompressedSize;
  }

  private stream(name: string) {
    const entry = this.entries.get(name);
    if (!entry) throw new Error(`no entry ${name}`);
    return new Promise<NodeJS.ReadableStream>((resolve, reject) =>
      this.zip.openReadStream(entry, (e, stream) => (e ? reject(e) : resolve(stream!))),
    );
  }

  /** An entry unpacked to a file (the table: read again for each run and the error file). */
  async extract(name: string, to: string, limit: number, lang: Lang) {
    if ((this.size(name) ?? 0) > limit)
      throw badRequest('body_too_large', t(lang, `Files are limited to ${limit} bytes`, `文件不能超过 ${limit} 字节`));
    try {
      await pipeline(await this.stream(name), createWriteStream(to));
    } catch {
      throw unreadableArchive(lang);
    }
  }

  /** An entry's bytes (a file a row names; its size was checked against the field's limit before). */
  async read(name: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of (await this.stream(name)) as AsyncIterable<Buffer>) chunks.push(chunk);
    return Buffer.concat(chunks);
  }

  close() {
    this.zip.close();
  }
}

const unreadableArchive = (lang: Lang) =>
  badRequest(
    'unreadable_file',
    t(lang, 'The file cannot be read: it is not a valid ZIP archive', '无法读取文件：不是有效的 ZIP 压缩包'),
  );
