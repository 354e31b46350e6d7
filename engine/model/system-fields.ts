/** Columns every entity table has, maintained by the engine; documents may not declare them. */
export const SYSTEM_FIELDS: ReadonlySet<string> = new Set([
  'id',
  'created_at',
  'created_by',
  'updated_at',
  'updated_by',
  'owner_id',
  'version',
  'deleted_at',
]);
