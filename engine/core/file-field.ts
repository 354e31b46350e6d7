/**
 * The `file` field type: one file or several (`multiple`), with a size limit (`maxSize`, bytes) and
 * accepted types (`accept`: ".pdf", "image/*", "application/pdf") per field. The value is a list of file
 * references `{id, name, size, type}`; the bytes live in the file storage (engine/files). A form
 * uploads first (POST /api/files, checked against the same limits) and saves the references; the write
 * binds the uploaded files to the record and writes back what the file table says, so a client cannot
 * make up a name or a size, nor name a file of another record.
 */
import { sql } from 'drizzle-orm';
import { unprocessable } from '../errors.js';
import type { FieldDoc, FieldTypeDefinition, FieldWriteArgs } from '../registry/types.js';
import { rowsOf } from '../db/database.js';
import type { FileRef } from '../files/table.js';

/** Default limit of one file of a file field: 10 MiB. */
export const DEFAULT_MAX_FILE_SIZE = 10 * 1024 * 1024;
/** The most any upload may be, whatever a field says (the upload route's body limit). */
export const MAX_FILE_SIZE = 100 * 1024 * 1024;

export const fileOptions = (field: FieldDoc) => ({
  multiple: field.multiple === true,
  maxFiles: field.multiple === true ? ((field.maxFiles as number | undefined) ?? 20) : 1,
  maxSize: Math.min((field.maxSize as number | undefined) ?? DEFAULT_MAX_FILE_SIZE, MAX_FILE_SIZE),
  accept: field.accept as string[] | undefined,
});

const refSchema = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', format: 'uuid' },
    name: { type: 'string', maxLength: 255 },
    size: { type: 'integer', minimum: 0 },
    type: { type: 'string', maxLength: 255 },
  },
};

async function bindFiles({ field, entity, record, tx, lang }: FieldWriteArgs): Promise<FileRef[] | null | undefined> {
  const value = record[field.name];
  if (value === null || value === undefined) return value as null | undefined;
  if (!Array.isArray(value)) return undefined; // the schema refuses it
  const ids = [...new Set(value.map((v) => (v as { id?: unknown })?.id).filter((id): id is string => typeof id === 'string'))];
  if (!ids.length) return [];
  // Files of this field that are this record's already, or uploaded for this field and not yet bound.
  const rows = rowsOf<{ id: string; name: string; size: string | number; type: string }>(
    await tx.execute(sql`update files.files set record_id = ${record.id as string}::uuid
      where id = any(${sql.param(ids)}::uuid[]) and entity = ${entity} and field = ${field.name} and deleted_at is null
        and (record_id is null or record_id = ${record.id as string}::uuid)
      returning id, name, size, type`),
  );
  const found = new Map(rows.map((r) => [r.id, r]));
  const missing = ids.filter((id) => !found.has(id));
  if (missing.length) {
    const message =
      lang === 'zh-CN'
        ? `文件不存在或不属于此字段：${missing.join(', ')}`
        : `No uploaded file of this field with id ${missing.join(', ')}`;
    throw unprocessable('invalid_file', message, [{ path: `/${field.name}`, code: 'invalid_file', message }]);
  }
  return ids.map((id) => {
    const r = found.get(id)!;
    return { id, name: r.name, size: Number(r.size), type: r.type };
  });
}

export const fileFieldType: FieldTypeDefinition = {
  name: 'file',
  label: { en: 'File', 'zh-CN': '文件' },
  options: {
    multiple: { type: 'boolean' },
    maxFiles: { type: 'integer', minimum: 1, maximum: 100 },
    maxSize: { type: 'integer', minimum: 1, maximum: MAX_FILE_SIZE },
    accept: {
      type: 'array',
      minItems: 1,
      items: { type: 'string', pattern: '^(\\.[A-Za-z0-9]{1,10}|[a-z]+/([a-z0-9.+-]+|\\*))$' },
    },
  },
  kind: () => 'json',
  columnType: () => 'jsonb',
  valueSchema: (f) => ({ type: 'array', items: refSchema, maxItems: fileOptions(f).maxFiles }),
  onWrite: bindFiles,
  form: (f) => ({ widget: 'file', options: fileOptions(f) }),
};
