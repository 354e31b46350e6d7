/**
 * The kind of value a field holds once stored, independent of how it is entered or displayed.
 * Field types map onto one of these; the SQL rule compiler, the validator and the OpenAPI generator
 * reason about kinds, never about individual field types, so a plugin's field type works everywhere.
 *
 * In-memory (API / json-logic) representation of each kind:
 *   text      string
 *   integer   number (safe integer)
 *   number    number (numeric columns are read back as JS numbers)
 *   boolean   boolean
 *   date      string 'YYYY-MM-DD'
 *   datetime  string, ISO 8601 in UTC ('2026-11-22T19:40:31.123Z')
 *   uuid      string
 *   text[]    string[] (multi-picklists)
 *   uuid[]    string[] (lists of user ids: the `users` field type)
 *   json      any JSON value
 * Any kind may also be null.
 */
export type ValueKind = 'text' | 'integer' | 'number' | 'boolean' | 'date' | 'datetime' | 'uuid' | 'text[]' | 'uuid[]' | 'json';
