/**
 * Compiles a deployed document set into an AppModel: the immutable, per-version object the runtime
 * reads. Everything derived from metadata (drizzle tables, ajv validators, write hooks, index plans,
 * reverse references) is computed here once, never per request.
 */
import { createHash } from 'node:crypto';
import { integer, pgTable, timestamp, uuid, type PgColumn, type PgTable } from 'drizzle-orm/pg-core';
import type {
  DocumentSet,
  FieldDoc,
  FieldTypeDefinition,
  JsonSchema,
  LocalizedText,
  MetadataDocument,
  RegistryView,
} from '../registry/types.js';
import type { AppDoc } from './kinds/app.js';
import type { DictionaryDoc } from './kinds/dictionary.js';
import type { EntityDoc } from './kinds/entity.js';
import { fieldTypeContext } from './kinds/field.js';
import { checkRule } from '../rules/check.js';
import { drizzleColumn } from './columns.js';
import { recordSchemas, type RecordSchemas } from './form-schema.js';
import { createAjv, type ValidateFunction } from './ajv.js';
import { gramsExpression, searchFieldNames } from './search.js';
import type { ValueKind } from '../registry/value-kind.js';

export interface CompiledField {
  name: string;
  doc: FieldDoc;
  type: FieldTypeDefinition;
  kind: ValueKind;
  columnType: string;
  readOnly: boolean;
  required: boolean;
  searchable: boolean;
  /** JSON Schema of one value (not nullable). */
  valueSchema: JsonSchema;
  /** For reference fields: the target entity and the delete behaviour. */
  reference?: { to: string; onDelete: 'restrict' | 'set_null' | 'cascade' };
}

export interface IndexSpec {
  name: string;
  columns: string[];
  unique: boolean;
  method: 'btree' | 'gin';
  /** Partial index predicate (unique indexes ignore the recycle bin). */
  where?: string;
  /** Indexes an expression over the columns instead of the columns themselves (the search bigrams). */
  expression?: string;
}

export interface CompiledEntity {
  name: string;
  doc: EntityDoc;
  label: LocalizedText;
  fields: CompiledField[];
  field(name: string): CompiledField | undefined;
  /** System columns and fields, name → kind (what filters and sorts may use). */
  columnKinds: Map<string, ValueKind>;
  table: PgTable;
  columns: Record<string, PgColumn>;
  /** Every column, in table order (what a full read selects). */
  columnNames: string[];
  titleField: string | undefined;
  searchFields: string[];
  indexes: IndexSpec[];
  /** Fields with an onWrite hook, in the order they must run (formulas after what they read). */
  writeHooks: CompiledField[];
  validateCreate: ValidateFunction;
  validatePatch: ValidateFunction;
  /** The validation flavour of engine/model/form-schema.ts (what ajv compiled; OpenAPI shows it). */
  schemas: RecordSchemas;
  /** The record rules with the fields each reads (a form leaves out a rule over fields it cannot see). */
  rules: { doc: NonNullable<EntityDoc['rules']>[number]; fieldsUsed: ReadonlySet<string> }[];
  /** References from other entities to this one. */
  referencedBy: { entity: string; field: string; onDelete: 'restrict' | 'set_null' | 'cascade' }[];
  /** Workflows over this entity, in name order; the first that applies to a record serves it. */
  workflows: EntityWorkflow[];
  /** Fields only workflows may change (their state fields). */
  workflowFields: ReadonlySet<string>;
  /**
   * Fields people do not edit in forms: workflow state fields and approval status fields (the engine
   * sets them; a form offering them would only be refused, 422 approval_controlled).
   */
  controlledFields: ReadonlySet<string>;
}

/**
 * A workflow serving an entity's records, as the layers below the workflow feature see it: which
 * records it serves and its state field. The workflow kind compiles the full machine
 * (engine/workflow/compile.ts CompiledWorkflow extends this); the workflow service reads that.
 */
export interface EntityWorkflow {
  doc: MetadataDocument & { entity: string; stateField: string; initial: string };
  applies(record: Record<string, unknown>): boolean;
}

export interface AppModel {
  version: number;
  documents: DocumentSet;
  entities: Map<string, CompiledEntity>;
  dictionaries: Map<string, DictionaryDoc>;
  apps: AppDoc[];
  entity(name: string): CompiledEntity | undefined;
}

export const SYSTEM_COLUMN_KINDS: [string, ValueKind][] = [
  ['id', 'uuid'],
  ['created_at', 'datetime'],
  ['created_by', 'uuid'],
  ['updated_at', 'datetime'],
  ['updated_by', 'uuid'],
  ['owner_id', 'uuid'],
  ['version', 'integer'],
  ['deleted_at', 'datetime'],
];

/** PostgreSQL keeps 63 bytes of a name; longer generated names get a hash suffix so they stay unique. */
export function objectName(...parts: string[]): string {
  const name = parts.join('__');
  if (name.length <= 63) return name;
  return name.slice(0, 54) + '_' + createHash('sha1').update(name).digest('hex').slice(0, 8);
}

/** Compiled entities by what they were compiled from, per registry (deploys recompile only what changed). */
const compiledEntities = new WeakMap<RegistryView, Map<string, CompiledEntity>>();

export function compileModel(version: number, documents: DocumentSet, registry: RegistryView): AppModel {
  const ajv = createAjv({ withFormats: true });
  const ctx = fieldTypeContext(documents);
  const entities = new Map<string, CompiledEntity>();
  const workflows = documents.all<EntityWorkflow['doc']>('workflow').sort((a, b) => a.name.localeCompare(b.name));
  const roleNames = documents
    .all('role')
    .map((r) => r.name)
    .sort();
  for (const doc of documents.all<EntityDoc>('entity')) {
    const own = workflows.filter((w) => w.entity === doc.name);
    // Approval status fields (engine/approvals): read loosely, this layer knows no approval type.
    const controlled = documents
      .all('approval')
      .filter((a) => a.entity === doc.name && typeof a.statusField === 'string')
      .map((a) => a.statusField as string)
      .sort();
    // An entity is compiled again only when something it is compiled from changed: its document, the
    // dictionaries its picklists use, the role names (for `roles` fields), its workflows.
    const dictionaries = doc.fields.filter((f) => f.dictionary !== undefined).map((f) => ctx.dictionary(String(f.dictionary)));
    const key = JSON.stringify([
      doc,
      dictionaries,
      doc.fields.some((f) => f.type === 'roles') ? roleNames : null,
      own,
      controlled,
    ]);
    let compiled = compiledEntities.get(registry)?.get(key);
    if (!compiled) {
      compiled = compileEntity(doc, registry, ctx, ajv, own, controlled);
      if (!compiledEntities.has(registry)) compiledEntities.set(registry, new Map());
      const cache = compiledEntities.get(registry)!;
      if (cache.size > 1000) cache.clear(); // a bound, not an LRU: recompiling is only slower
      cache.set(key, compiled);
    }
    // Shared parts (table, validators, machines) are immutable; reverse references are per model.
    entities.set(doc.name, { ...compiled, referencedBy: [] });
  }
  for (const entity of entities.values()) {
    for (const f of entity.fields) {
      if (f.reference)
        entities.get(f.reference.to)?.referencedBy.push({ entity: entity.name, field: f.name, onDelete: f.reference.onDelete });
    }
  }
  const dictionaries = new Map(documents.all<DictionaryDoc>('dictionary').map((d) => [d.name, d]));
  return Object.freeze({
    version,
    documents,
    entities,
    dictionaries,
    apps: documents.all<AppDoc>('app'),
    entity: (name: string) => entities.get(name),
  });
}

function compileEntity(
  doc: EntityDoc,
  registry: RegistryView,
  ctx: ReturnType<typeof fieldTypeContext>,
  ajv: ReturnType<typeof createAjv>,
  workflows: EntityWorkflow['doc'][],
  approvalFields: string[] = [],
): CompiledEntity {
  const workflowFields = new Set(workflows.map((w) => w.stateField));
  const controlledFields = new Set([...workflowFields, ...approvalFields]);
  const fields: CompiledField[] = doc.fields.map((f) => {
    const type = registry.fieldType(f.type);
    if (!type) throw new Error(`Entity ${doc.name}: field type "${f.type}" is not registered (is a plugin missing?)`);
    return {
      name: f.name,
      doc: f,
      type,
      kind: type.kind(f),
      columnType: type.columnType(f),
      readOnly: Boolean(type.readOnly),
      required: Boolean(f.required),
      searchable: Boolean(f.searchable && type.textual),
      valueSchema: type.valueSchema(f, ctx),
      reference: type.references?.(f),
    };
  });
  const byName = new Map(fields.map((f) => [f.name, f]));

  const columns: Record<string, PgColumn> = {};
  const table = pgTable(doc.name, {
    id: uuid('id').primaryKey(),
    created_at: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    created_by: uuid('created_by'),
    updated_at: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updated_by: uuid('updated_by'),
    owner_id: uuid('owner_id'),
    version: integer('version').notNull().default(1),
    deleted_at: timestamp('deleted_at', { withTimezone: true, mode: 'date' }),
    ...Object.fromEntries(fields.map((f) => [f.name, drizzleColumn(f.name, f.columnType)])),
  });
  for (const name of [...SYSTEM_COLUMN_KINDS.map(([n]) => n), ...fields.map((f) => f.name)]) {
    columns[name] = (table as unknown as Record<string, PgColumn>)[name];
  }

  const schemas = recordSchemas({ fields, workflowFields, controlledFields });
  const titleField = doc.titleField ?? fields.find((f) => f.kind === 'text' && !f.readOnly)?.name;

  return {
    name: doc.name,
    doc,
    label: doc.label,
    fields,
    field: (name) => byName.get(name),
    columnKinds: new Map([...SYSTEM_COLUMN_KINDS, ...fields.map((f): [string, ValueKind] => [f.name, f.kind])]),
    table,
    columns,
    columnNames: Object.keys(columns),
    titleField,
    searchFields: fields.filter((f) => f.searchable).map((f) => f.name),
    indexes: indexesOf(doc, fields, titleField),
    writeHooks: orderWriteHooks(fields),
    validateCreate: ajv.compile(schemas.create),
    validatePatch: ajv.compile(schemas.patch),
    schemas,
    rules: (doc.rules ?? []).map((rule) => ({
      doc: rule,
      fieldsUsed: new Set(
        [rule.when, rule.assert].flatMap((r) =>
          r === undefined ? [] : [...checkRule(r, { fields: new Set(byName.keys()), allowContext: true }).fieldsUsed],
        ),
      ),
    })),
    referencedBy: [],
    // The workflow kind compiles its machines (engine/workflow/kind.ts): the model holds them, it does not build them.
    workflows: workflows.map((w) => registry.documentKind('workflow')!.compile!(w) as EntityWorkflow),
    workflowFields,
    controlledFields,
  };
}

function indexesOf(doc: EntityDoc, fields: CompiledField[], titleField: string | undefined): IndexSpec[] {
  const specs: IndexSpec[] = [];
  // An import looks records up by the first field of each match rule: index it like an `indexed` field.
  const matched = new Set((doc.import?.match ?? []).map((m) => m.fields[0]));
  const searched = searchFieldNames(fields, titleField);
  if (searched.length)
    specs.push({
      name: objectName('s', doc.name, 'search'),
      columns: searched,
      unique: false,
      method: 'gin',
      expression: gramsExpression(searched.map((n) => `"${n}"`)),
    });
  for (const f of fields) {
    const unique = Boolean(f.doc.unique || f.type.unique);
    if (unique) {
      specs.push({
        name: objectName('u', doc.name, f.name),
        columns: [f.name],
        unique: true,
        method: 'btree',
        where: 'deleted_at is null',
      });
    } else if (f.doc.indexed || f.reference || f.type.userList || matched.has(f.name)) {
      const method = f.type.indexMethod ?? 'btree';
      // btree indexes end with id: keyset pagination sorted by this field is then one index range scan.
      specs.push({
        name: objectName('i', doc.name, f.name),
        columns: method === 'gin' ? [f.name] : [f.name, 'id'],
        unique: false,
        method,
      });
    }
  }
  for (const index of doc.indexes ?? []) {
    const hash = createHash('sha1').update(index.fields.join(',')).digest('hex').slice(0, 8);
    specs.push({
      name: objectName(index.unique ? 'u' : 'i', doc.name, hash),
      columns: index.unique ? index.fields : [...index.fields, 'id'],
      unique: Boolean(index.unique),
      method: 'btree',
      where: index.unique ? 'deleted_at is null' : undefined,
    });
  }
  return specs;
}

/** Formulas run after the formulas they read; other hooks (auto-numbers) after all formulas. */
function orderWriteHooks(fields: CompiledField[]): CompiledField[] {
  const hooked = fields.filter((f) => f.type.onWrite);
  const formulas = new Map(hooked.filter((f) => f.doc.expr !== undefined).map((f) => [f.name, f]));
  const ordered: CompiledField[] = [];
  const visit = (f: CompiledField, seen: Set<string>) => {
    if (ordered.includes(f) || seen.has(f.name)) return;
    seen.add(f.name);
    for (const dep of checkRule(f.doc.expr, { fields: new Set(formulas.keys()) }).fieldsUsed) {
      const d = formulas.get(dep);
      if (d) visit(d, seen);
    }
    ordered.push(f);
  };
  for (const f of formulas.values()) visit(f, new Set());
  // Other computed types (roll-ups) read no field of the record: they go first, so formulas can read them.
  return [...hooked.filter((f) => !formulas.has(f.name)), ...ordered];
}
