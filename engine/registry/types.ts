/**
 * The contracts of extension points. Built-in field types and document kinds are contributed through
 * exactly these interfaces (see plugins/core), so a plugin can do anything the core does.
 */
import type { ErrorDetail } from '../errors.js';
import type { ValueKind } from './value-kind.js';
import type { Db } from '../db/database.js';
import type { SQL } from 'drizzle-orm';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonSchema = Record<string, unknown>;
export type LocalizedText = { en: string; 'zh-CN': string };

/** A field as written in an entity document. Type-specific options are kept as they are. */
export interface FieldDoc {
  name: string;
  type: string;
  label: LocalizedText;
  help?: LocalizedText;
  required?: boolean;
  unique?: boolean;
  indexed?: boolean;
  searchable?: boolean;
  default?: Json;
  [option: string]: unknown;
}

/** What a field type can look up while it describes itself (cross-references). */
export interface FieldTypeContext {
  dictionary(name: string): { items: { value: string; active?: boolean }[] } | undefined;
  entity(name: string): { fields: FieldDoc[] } | undefined;
  /** Names of the deployed documents of a kind (e.g. the roles a user may hold). */
  names(kind: string): string[];
}

/** Arguments to a field type's write hook. Runs inside the write transaction. */
export interface FieldWriteArgs {
  field: FieldDoc;
  entity: string;
  operation: 'create' | 'update';
  /** The full record as it will be stored (input merged over the current row), in-memory representation. */
  record: Record<string, unknown>;
  tx: Db;
  now: Date;
  /**
   * The deployed model (engine/model/compile.ts's AppModel; typed loosely here, the base layer knows no
   * model), for types that read other entities: a roll-up aggregates a child entity.
   */
  model?: { entity(name: string): object | undefined };
  /** The caller's language, for the messages of a refused value. */
  lang?: 'en' | 'zh-CN';
  /**
   * The stored value may be stale and must be computed from its sources (a deploy's backfill), not only
   * kept up to date the way an ordinary write does.
   */
  refresh?: boolean;
}

export interface FieldTypeDefinition {
  name: string;
  label: LocalizedText;
  /** JSON Schema of this type's own options (merged into the entity meta-schema). */
  options?: Record<string, JsonSchema>;
  /** Options that must be present. */
  requiredOptions?: string[];
  /** How the value is held in memory and filtered; may depend on options (a formula's `returns`). */
  kind(field: FieldDoc): ValueKind;
  /** Storage column type, e.g. `numeric(18,2)`; one of the SQL types engine/model/columns.ts maps. */
  columnType(field: FieldDoc): string;
  /** JSON Schema of a value of this field: used for validation, OpenAPI and forms. */
  valueSchema(field: FieldDoc, ctx: FieldTypeContext): JsonSchema;
  /** Computed by the engine; clients may not write it. */
  readOnly?: boolean;
  /** Text-like: may take part in the `q` search. */
  textual?: boolean;
  /** What the type's own pattern asks for, in words (shown instead of the regular expression). */
  patternMessage?: LocalizedText;
  /** Deploy-time checks beyond the meta-schema (cross-references, expressions). */
  check?(field: FieldDoc, ctx: FieldTypeContext & { fieldNames: ReadonlySet<string>; fields?: FieldDoc[] }): ErrorDetail[];
  /** Computes the stored value on write; return undefined to leave the value as it is. */
  onWrite?(args: FieldWriteArgs): unknown | Promise<unknown>;
  /**
   * The hook takes something that can't be handed back (a number from a sequence): it runs only
   * after the record passed validation. Other hooks run before validation, so rules can read them.
   */
  allocates?: boolean;
  /**
   * Values for several new records at once (a bulk create), in one go instead of one per record;
   * `nowOf` gives each record its own time for date tokens (existing records numbered by their creation).
   */
  allocateMany?(
    args: Omit<FieldWriteArgs, 'record' | 'operation'> & {
      records: Record<string, unknown>[];
      nowOf?: (record: Record<string, unknown>) => Date;
    },
  ): Promise<unknown[]>;
  /** For types that point at another entity's record: a foreign key, an index and delete behaviour. */
  references?(field: FieldDoc): { to: string; onDelete: 'restrict' | 'set_null' | 'cascade' };
  /**
   * The value is a list of user ids (the `users` type): each must be a live, active user, checked in the
   * write's transaction (engine/data/pipeline.ts), and the UI shows display names.
   */
  userList?: boolean;
  /** Always unique (an auto-number). */
  unique?: boolean;
  /** Index method for `indexed: true` (default btree). */
  indexMethod?: 'btree' | 'gin';
  /** How forms show a value (engine/model/form-schema.ts): the `ui:widget` name and its `ui:options`. */
  form?(field: FieldDoc): FormHint;
}

/** A field type's part of a form's uiSchema; read-only types get the "readonly" widget whatever they say. */
export interface FormHint {
  widget: string;
  options?: Record<string, unknown>;
}

/**
 * A kind of metadata document (entity, dictionary, role, workflow, …). Each lives in the folder of its
 * feature (meta-schema JSON, document type, checks, compiler) and is registered once in
 * engine/core/kinds.ts — or by a plugin.
 */
export interface DocumentKindDefinition {
  kind: string;
  /** Meta-schema of the document; may be produced from the registry (field types). */
  schema(registry: RegistryView): JsonSchema;
  /** Checks against the other documents of the deploy (cross-references). */
  check?(doc: MetadataDocument, all: DocumentSet, registry: RegistryView): ErrorDetail[];
  /** The runtime form of a document, compiled once per model (a workflow's state machine). */
  compile?(doc: MetadataDocument): unknown;
}

/** An action as written in a document: its type, its options, and the `when` / `afterCommit` any action may carry. */
export interface ActionDoc {
  type: string;
  [option: string]: unknown;
}

export interface MetadataDocument {
  kind: string;
  name: string;
  label: LocalizedText;
  [key: string]: unknown;
}

/** The documents a deploy would leave in place, by kind and name. */
export interface DocumentSet {
  get<T extends MetadataDocument = MetadataDocument>(kind: string, name: string): T | undefined;
  all<T extends MetadataDocument = MetadataDocument>(kind: string): T[];
  values(): MetadataDocument[];
}

/** What a workflow action may use while it runs (inside the transition's transaction). */
export interface ActionRunArgs {
  action: { type: string; [option: string]: unknown };
  entity: string;
  /** The record after the transition's own changes (in-memory representation). */
  record: Record<string, unknown>;
  /** json-logic data: the record plus $user, $input, $now. */
  data: Record<string, unknown>;
  tx: Db;
  /** The deployed documents (templates …). */
  documents: DocumentSet;
  /** Creates a record through the data pipeline, inside the transaction, as the engine. */
  createRecord(entity: string, values: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** Updates another record through the data pipeline (validation, formulas, audit), inside the transaction, as the engine. */
  updateRecord(entity: string, id: string, values: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** Shares a record with a user (`read` or `edit`), as the engine, audited as the action's doing, recorded under `source`. */
  share(entity: string, id: string, user: unknown, access: 'read' | 'edit', source?: string): Promise<void>;
  /** Removes the user's share of a record that `source` gave (without one: any the engine gave; never one made by hand). */
  unshare(entity: string, id: string, user: unknown, source?: string): Promise<void>;
  /** Gives a record to another owner through the assignment code (log, audit, owner automations). */
  assign(entity: string, id: string, to: unknown): Promise<unknown>;
  /** Submits a record to its approval on behalf of a user, in the transaction (the approval's own checks apply). */
  submitApproval(entity: string, id: string, submitter: unknown, comment: string): Promise<unknown>;
  /** Tells the caller something without refusing the change (the response's meta.warnings). */
  warn(warning: { code: string; message: string; path: string }): void;
  /** Fires a workflow event on the record, as the engine, in the transaction (automations only). */
  fire?(event: string, comment: string): Promise<unknown>;
  /** The caller's language (messages an action sends back, like a refusal's). */
  lang?: 'en' | 'zh-CN';
}

/** A workflow action (set fields, create a record, notify, call a webhook …). */
export interface ActionDefinition {
  type: string;
  /**
   * Changes to the record itself, computed before it is written (the `set` action). Returned values
   * are validated and written with the state change.
   */
  changes?(
    args: Omit<
      ActionRunArgs,
      'tx' | 'createRecord' | 'documents' | 'updateRecord' | 'share' | 'unshare' | 'assign' | 'warn' | 'submitApproval'
    >,
  ): Record<string, unknown>;
  /** Side effects after the record is written, in the same transaction: a failure rolls it all back. */
  run?(args: ActionRunArgs): Promise<unknown>;
  /**
   * Runs after the change commits, from the job queue, retried until it succeeds (calls to other
   * systems: webhooks). Any action may also be marked `"afterCommit": true` in a document.
   */
  afterCommit?: boolean;
  /**
   * Its effects in the transaction change no record (a refusal, a warning, a message). When every
   * automation of a bulk create is such, their lookups are read for all the records at once.
   */
  writesNoRecords?: boolean;
  /** Only automations may use it (e.g. firing a workflow event: a transition's own actions may not start another). */
  automationOnly?: boolean;
  /** Deploy-time checks (paths relative to the action). */
  check?(
    action: { type: string; [option: string]: unknown },
    ctx: { entity: { name: string; fields: FieldDoc[] }; all: DocumentSet; fields: ReadonlySet<string> },
  ): ErrorDetail[];
}

export interface RegistryView {
  action(type: string): ActionDefinition | undefined;
  actions(): ActionDefinition[];
  fieldType(name: string): FieldTypeDefinition | undefined;
  fieldTypes(): FieldTypeDefinition[];
  documentKind(kind: string): DocumentKindDefinition | undefined;
  documentKinds(): DocumentKindDefinition[];
}

/** A plugin is a plain object of contributions. */
export interface Plugin {
  name: string;
  fieldTypes?: FieldTypeDefinition[];
  documentKinds?: DocumentKindDefinition[];
  /** Workflow actions. */
  actions?: ActionDefinition[];
  /**
   * json-logic operations: the in-memory implementation and, optionally, an SQL compiler
   * (SqlOperationCompiler below) so the operation can be used in list filters.
   */
  // biome-ignore lint/suspicious/noExplicitAny: json-logic hands an operation whatever its arguments evaluate to
  operations?: { name: string; evaluate: (...args: any[]) => unknown; sql?: SqlOperationCompiler }[];
}

// ── json-logic operations in SQL (engine/rules/to-sql.ts calls a plugin's compiler) ──

/** A field as SQL sees it: the column expression and the kind of its values. */
export interface FieldRef {
  /** Column expression: a column reference or a parenthesised expression. */
  sql: SQL;
  kind: ValueKind;
}

/** Context passed to a plugin's SQL compiler. */
export interface SqlOperationContext {
  /** Column expression and kind of a field; undefined for an unknown (or unsafe) name. */
  field(name: string): FieldRef | undefined;
  /** True when the operation sits under an odd number of `!`: compile its negation. */
  negated: boolean;
  /** JSON pointer of the operation in the rule, for error details. */
  path: string;
  /** Values of `$` context variables, as given to compileFilter. */
  context?: Record<string, unknown>;
}
/**
 * Compiles a plugin operation to SQL. The result must select exactly the rows where the JS
 * implementation is truthy (or falsy when ctx.negated), NULL counting as "not selected".
 * Bind every value from args as a parameter; never sql.raw() them.
 */
export type SqlOperationCompiler = (args: unknown[], ctx: SqlOperationContext) => SQL;
