/**
 * File columns of an import: a cell names files by their path inside the uploaded .zip (several
 * separated by `|` or `;`). Each named file is checked against its field's limits (count, size, accepted
 * types), stored through the file storage and recorded in the file table as an upload of that field —
 * the record's write then binds it (engine/core/file-field.ts), as for a form. A dry run stores nothing:
 * its file rows live in its transaction only, so the write's checks still see them.
 */
import { sql } from 'drizzle-orm';
import { pointer, type ErrorDetail } from '../errors.js';
import { rowsOf, type Db } from '../db/database.js';
import { uuidv7 } from '../model/ids.js';
import { t, type Lang } from '../model/language.js';
import type { CompiledEntity } from '../model/compile.js';
import { fileOptions } from '../core/file-field.js';
import { accepts, type FileRef } from '../files/table.js';
import type { FileStorage } from '../files/storage.js';
import type { ImportRow } from '../data/operations/import.js';
import { normalizePath, type Archive } from './archive.js';
import type { Binding } from './convert.js';

/** Content types by extension, for the `accept` check and downloads; anything else is octet-stream. */
const TYPES: Record<string, string> = {
  pdf: 'application/pdf',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  svg: 'image/svg+xml',
  txt: 'text/plain',
  csv: 'text/csv',
  doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xls: 'application/vnd.ms-excel',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  ppt: 'application/vnd.ms-powerpoint',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  zip: 'application/zip',
};
const typeOf = (name: string) => TYPES[name.split('.').pop()!.toLowerCase()] ?? 'application/octet-stream';

/** A stored file's name: the entry's last segment without control characters (NUL cannot be stored), ≤ 255. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed from names
const CONTROL = /[\u0000-\u001f\u007f]/g;
const fileName = (base: string) => base.replace(CONTROL, '').trim().slice(0, 255) || 'file';

/** The file fields a mapping fills. */
export const fileBindings = (entity: CompiledEntity, bindings: Binding[]) =>
  bindings.filter((b) => entity.field(b.field)?.type.name === 'file');

export interface AttachContext {
  tx: Db;
  storage: FileStorage;
  entity: CompiledEntity;
  /** The upload's archive; none for a plain CSV or XLSX (a file column then has nothing to name). */
  archive: Archive | null;
  dryRun: boolean;
  userId: string | null;
  lang: Lang;
  /** Keys put into the storage by this run (to remove those no record kept). */
  stored: string[];
}

/** Replaces the names in the rows' file columns by file references, or adds an error per problem. */
export async function attachFiles(c: AttachContext, bindings: Binding[], rows: ImportRow[]) {
  const { entity, archive, lang } = c;
  for (const b of bindings) {
    const field = entity.field(b.field)!;
    const limits = fileOptions(field.doc);
    for (const row of rows) {
      const names = row.values[b.field];
      if (!Array.isArray(names) || !names.length) continue;
      const errors: ErrorDetail[] = [];
      const fail = (code: string, en: string, zh: string) =>
        errors.push({ path: pointer(b.field), code, message: t(lang, en, zh) });
      if (!archive)
        fail(
          'file_needs_archive',
          'Files are imported from a .zip upload holding the table and the files it names',
          '导入文件需上传 .zip 压缩包，其中包含表格和表格所列的文件',
        );
      else if (names.length > limits.maxFiles)
        fail('too_many_files', `At most ${limits.maxFiles} files here`, `此处最多 ${limits.maxFiles} 个文件`);
      else
        for (const raw of names as string[]) {
          const path = normalizePath(raw);
          const size = archive.size(path);
          const base = path.split('/').pop()!;
          if (size === undefined) fail('file_not_in_archive', `No file "${raw}" in the archive`, `压缩包中没有文件“${raw}”`);
          else if (size > limits.maxSize)
            fail(
              'file_too_large',
              `"${raw}" is larger than ${(limits.maxSize / 1024 / 1024).toFixed(1)} MB`,
              `“${raw}”超过 ${(limits.maxSize / 1024 / 1024).toFixed(1)} MB`,
            );
          else if (!accepts(limits.accept, base, typeOf(base)))
            fail(
              'file_type_not_accepted',
              `"${raw}": only ${limits.accept!.join(', ')} files are accepted here`,
              `“${raw}”：此处只接受 ${limits.accept!.join('、')} 文件`,
            );
        }
      if (errors.length) {
        delete row.values[b.field];
        row.errors.push(...errors);
        continue;
      }
      // Read every file of the cell first: one that does not inflate to its declared size (a forged or
      // damaged entry) is an error of the row, before anything of it is stored.
      const files: { ref: FileRef; bytes?: Buffer }[] = [];
      for (const raw of names as string[]) {
        const path = normalizePath(raw);
        const base = fileName(path.split('/').pop()!);
        const ref: FileRef = { id: uuidv7(), name: base, size: archive!.size(path)!, type: typeOf(base) };
        let bytes: Buffer | undefined;
        if (!c.dryRun)
          try {
            bytes = await archive!.read(path);
            ref.size = bytes.byteLength;
          } catch {
            fail('unreadable_file', `"${raw}" cannot be read from the archive`, `无法从压缩包中读取“${raw}”`);
          }
        files.push({ ref, bytes });
      }
      if (errors.length) {
        delete row.values[b.field];
        row.errors.push(...errors);
        continue;
      }
      const refs: FileRef[] = [];
      for (const { ref, bytes } of files) {
        if (bytes) {
          await c.storage.put(ref.id, bytes, ref.type);
          c.stored.push(ref.id);
        }
        await c.tx.execute(sql`insert into files.files (id, entity, record_id, field, name, type, size, storage, created_by)
          values (${ref.id}::uuid, ${entity.name}, null, ${field.name}, ${ref.name}, ${ref.type}, ${ref.size}, ${c.storage.kind}, ${c.userId}::uuid)`);
        refs.push(ref);
      }
      row.values[b.field] = refs;
    }
  }
}

/**
 * After a run's transaction ended (committed or rolled back): files this run stored that no record
 * kept — its row refused, or the whole run rolled back — leave the file table and the storage.
 */
export async function dropUnbound(db: Db, storage: FileStorage, stored: string[]) {
  if (!stored.length) return;
  const ids = stored.splice(0);
  await db.execute(sql`delete from files.files where id = any(${sql.param(ids)}::uuid[]) and record_id is null`);
  const kept = new Set(
    rowsOf<{ id: string }>(
      await db.execute(sql`select id::text as id from files.files where id = any(${sql.param(ids)}::uuid[])`),
    ).map((r) => r.id),
  );
  for (const id of ids) if (!kept.has(id)) await storage.delete(id);
}
