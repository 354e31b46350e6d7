/**
 * Files of records: uploads for a file field (before the record is saved: the write binds them, see
 * engine/core/file-field.ts), the attachments list every record has, and downloads. Who may see a file
 * is decided by its record: a download is the record's read scope (recycle bin included: a deleted
 * record's files come back with it) plus, for a file field, that field's read right; a file not yet
 * bound to a record only by whoever uploaded it. Anything else is 404, as for records.
 */
import { sql } from 'drizzle-orm';
import { AppError, badRequest, notFound, unprocessable } from '../../errors.js';
import { UUID, uuidv7 } from '../../model/ids.js';
import { t } from '../../model/language.js';
import { isStorableText } from '../../model/text.js';
import type { CompiledEntity } from '../../model/compile.js';
import { accepts, type FileRef } from '../../files/table.js';
import type { FileStorage } from '../../files/storage.js';
import type { OperationContext } from '../context.js';
import { all, resolve } from '../pipeline.js';
import { columnRef, tableText } from '../query.js';
import type { DataService } from '../service.js';
import { findActive } from '../find.js';

/** The attachments list takes any type up to this size. */
export const MAX_ATTACHMENT_SIZE = 50 * 1024 * 1024;

export interface Upload {
  name: string | undefined;
  type: string | undefined;
  bytes: Uint8Array;
}

interface FileRow extends FileRef {
  entity: string;
  record_id: string | null;
  field: string | null;
  created_by: string | null;
  created_at: string;
}

const fileNotFound = (ctx: OperationContext, id: string) =>
  notFound('file_not_found', t(ctx.lang, `No file with id ${id}`, `没有 id 为 ${id} 的文件`));

/** A file name as stored: the last path segment, without control characters, at most 255 characters. */
function cleanName(ctx: OperationContext, raw: string | undefined): string {
  const name = (raw ?? '')
    .split(/[\\/]/)
    .pop()!
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed from names
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .trim()
    .slice(0, 255);
  if (!name || !isStorableText(name)) {
    const message = t(ctx.lang, 'Give the file a name (?name=…)', '请提供文件名（?name=…）');
    throw badRequest('file_name_required', message, [{ path: '/query/name', code: 'required', message }]);
  }
  return name;
}

const cleanType = (raw: string | undefined) => {
  const type = (raw ?? '').split(';')[0].trim().toLowerCase();
  return /^[a-z0-9.+-]+\/[a-z0-9.+-]+$/.test(type) ? type : 'application/octet-stream';
};

function tooLarge(ctx: OperationContext, limit: number) {
  const mb = (limit / 1024 / 1024).toFixed(limit < 1024 * 1024 ? 2 : 0);
  const message = t(ctx.lang, `The file is larger than ${mb} MB`, `文件超过 ${mb} MB`);
  return new AppError(413, 'file_too_large', message, [{ path: '/body', code: 'file_too_large', message }]);
}

async function store(data: DataService, storage: FileStorage, row: Omit<FileRow, 'created_at'>, bytes: Uint8Array) {
  await storage.put(row.id, bytes, row.type);
  await data.database.rows(sql`insert into files.files (id, entity, record_id, field, name, type, size, storage, created_by)
    values (${row.id}::uuid, ${row.entity}, ${row.record_id}::uuid, ${row.field}, ${row.name}, ${row.type}, ${row.size}, ${storage.kind}, ${row.created_by}::uuid)`);
  const { id, name, size, type } = row;
  return { id, name, size, type } satisfies FileRef;
}

/** POST /api/files?entity=&field=&name= — a file for a file field, checked against its limits. */
export async function uploadFieldFile(
  data: DataService,
  ctx: OperationContext,
  storage: FileStorage,
  query: Record<string, string | undefined>,
  upload: Upload,
): Promise<FileRef> {
  const entityName = query.entity ?? '';
  const { entity, guard } = resolve(data, ctx, entityName);
  const field = entity.field(query.field ?? '');
  if (field?.type.name !== 'file') {
    const message = t(
      ctx.lang,
      `${entity.name} has no file field "${query.field ?? ''}"`,
      `${entity.label['zh-CN']}没有文件字段“${query.field ?? ''}”`,
    );
    throw badRequest('not_a_file_field', message, [{ path: '/query/field', code: 'not_a_file_field', message }]);
  }
  // Whoever may create or update the entity's records and write the field may upload for it.
  if (!guard.can(entity, 'create') && !guard.can(entity, 'update')) guard.assertCan(entity, 'update');
  guard.assertWritable(entity, [field.name]);
  const options = field.type.form!(field.doc).options as { maxSize: number; accept?: string[] };
  if (upload.bytes.byteLength > options.maxSize) throw tooLarge(ctx, options.maxSize);
  const name = cleanName(ctx, query.name ?? upload.name);
  const type = cleanType(upload.type);
  if (!accepts(options.accept, name, type)) {
    const message = t(
      ctx.lang,
      `Only ${options.accept!.join(', ')} files are accepted here`,
      `此处只接受 ${options.accept!.join('、')} 文件`,
    );
    throw unprocessable('file_type_not_accepted', message, [{ path: '/query/name', code: 'file_type_not_accepted', message }]);
  }
  return store(
    data,
    storage,
    {
      id: uuidv7(),
      entity: entity.name,
      record_id: null,
      field: field.name,
      name,
      type,
      size: upload.bytes.byteLength,
      created_by: guard.userId,
    },
    upload.bytes,
  );
}

/** The record, if the caller may take the action on it (404 outside the read scope, 403 without the action). */
async function recordFor(
  data: DataService,
  ctx: OperationContext,
  entity: CompiledEntity,
  id: string,
  action: 'read' | 'update',
) {
  const guard = data.guard(ctx);
  await findActive(data.database, data.database.db, entity, id, guard.condition(entity, 'read', 'few'), ['id']);
  if (action === 'update') {
    const scope = guard.condition(entity, 'update', 'few');
    const [row] = await data.database.rows(
      sql`select 1 from ${sql.raw(tableText(entity))} where ${all(sql`${columnRef(entity, 'id')} = ${id}::uuid`, scope)}`,
    );
    if (!row)
      throw new AppError(
        403,
        'forbidden',
        t(ctx.lang, `You may not change this ${entity.name}`, `您无权修改此${entity.label['zh-CN']}`),
      );
  }
  return guard;
}

/** POST /api/data/:entity/:id/attachments?name= */
export async function addAttachment(
  data: DataService,
  ctx: OperationContext,
  storage: FileStorage,
  entityName: string,
  id: string,
  query: Record<string, string | undefined>,
  upload: Upload,
): Promise<FileRef> {
  const entity = data.entity(entityName);
  const guard = await recordFor(data, ctx, entity, id, 'update');
  if (upload.bytes.byteLength > MAX_ATTACHMENT_SIZE) throw tooLarge(ctx, MAX_ATTACHMENT_SIZE);
  if (!upload.bytes.byteLength) {
    const message = t(ctx.lang, 'The file is empty', '文件为空');
    throw badRequest('empty_file', message, [{ path: '/body', code: 'empty_file', message }]);
  }
  const name = cleanName(ctx, query.name ?? upload.name);
  return store(
    data,
    storage,
    {
      id: uuidv7(),
      entity: entity.name,
      record_id: id,
      field: null,
      name,
      type: cleanType(upload.type),
      size: upload.bytes.byteLength,
      created_by: guard.userId,
    },
    upload.bytes,
  );
}

/** GET /api/data/:entity/:id/attachments — newest first. */
export async function listAttachments(data: DataService, ctx: OperationContext, entityName: string, id: string) {
  const entity = data.entity(entityName);
  await recordFor(data, ctx, entity, id, 'read');
  const rows = await data.database.rows<FileRow>(sql`select id, name, size::float8 as size, type, created_by,
      to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as created_at
    from files.files where entity = ${entity.name} and record_id = ${id}::uuid and field is null and deleted_at is null
    order by id desc`);
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    size: Number(r.size),
    type: r.type,
    createdBy: r.created_by,
    createdAt: r.created_at,
  }));
}

/** DELETE /api/data/:entity/:id/attachments/:fileId — marked deleted; the bytes go 30 days later (files/retention.ts). */
export async function removeAttachment(data: DataService, ctx: OperationContext, entityName: string, id: string, fileId: string) {
  const entity = data.entity(entityName);
  await recordFor(data, ctx, entity, id, 'update');
  if (!UUID.test(fileId)) throw fileNotFound(ctx, fileId);
  const rows = await data.database.rows(sql`update files.files set deleted_at = now()
    where id = ${fileId}::uuid and entity = ${entity.name} and record_id = ${id}::uuid and field is null and deleted_at is null returning id`);
  if (!rows.length) throw fileNotFound(ctx, fileId);
}

/** GET /api/files/:id — the bytes, if the caller may read the file's record (and field). */
export async function download(data: DataService, ctx: OperationContext, storage: FileStorage, id: string) {
  if (!UUID.test(id)) throw fileNotFound(ctx, id);
  const [file] = await data.database.rows<FileRow>(
    sql`select id, entity, record_id, field, name, type, size::float8 as size, created_by from files.files where id = ${id}::uuid and deleted_at is null`,
  );
  if (!file) throw fileNotFound(ctx, id);
  const guard = data.guard(ctx);
  const entity = data.model().entity(file.entity);
  if (!entity) throw fileNotFound(ctx, id);
  if (file.record_id === null) {
    if (!guard.privileged && file.created_by !== guard.userId) throw fileNotFound(ctx, id);
  } else {
    const scope = guard.optionalCondition(entity, 'read');
    if (scope === false) throw fileNotFound(ctx, id);
    if (file.field && !guard.readable(entity)(file.field)) throw fileNotFound(ctx, id);
    // Live or in the recycle bin: a deleted record's files stay with it.
    const [row] = await data.database.rows(
      sql`select 1 from ${sql.raw(tableText(entity))} where ${all(sql`${columnRef(entity, 'id')} = ${file.record_id}::uuid`, scope)}`,
    );
    if (!row) throw fileNotFound(ctx, id);
  }
  return { file: { id: file.id, name: file.name, size: Number(file.size), type: file.type }, bytes: await storage.get(file.id) };
}
