/**
 * The file table: one row per uploaded file — which record (and which file field, or the record's
 * attachments list when `field` is null) it belongs to, its name, type and size, who uploaded it. A file
 * uploaded for a form not yet saved has no record (`record_id` null) until the record's write binds it
 * (engine/core/file-field.ts). Deleting a record leaves its files alone, so restoring the record from
 * the recycle bin brings them back with it; a removed attachment is only marked deleted (its bytes go
 * after a grace period: retention.ts).
 */
export const FILES_SQL = `
create schema if not exists files;
create table if not exists files.files (
  id uuid primary key,
  entity text not null,
  record_id uuid,
  field text,
  name text not null,
  type text not null,
  size bigint not null,
  storage text not null,
  created_by uuid,
  created_at timestamptz not null default now(),
  deleted_at timestamptz
);
create index if not exists files_record on files.files (entity, record_id) where record_id is not null;
`;

/** What a file field holds and the attachments list shows for each file. */
export interface FileRef {
  id: string;
  name: string;
  size: number;
  type: string;
}

/** Does a file's name or type match one of a field's `accept` entries (".pdf", "image/*", "application/pdf")? */
export function accepts(accept: string[] | undefined, name: string, type: string): boolean {
  if (!accept?.length) return true;
  const lower = name.toLowerCase();
  return accept.some((a) => {
    const entry = a.toLowerCase();
    if (entry.startsWith('.')) return lower.endsWith(entry);
    if (entry.endsWith('/*')) return type.toLowerCase().startsWith(entry.slice(0, -1));
    return type.toLowerCase() === entry;
  });
}
