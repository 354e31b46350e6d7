/**
 * One home for the JSON Schemas of an entity's records. The server's validator (compiled once per model
 * in compile.ts), the OpenAPI document, the browser's forms (GET /api/meta/forms/:entity) and later the
 * import mapping all read what this module produces, so they cannot drift apart.
 *
 * Pure: compiled fields, labels, a language and the caller's field permissions in, schemas out. No
 * database, no ajv. Two flavours come out of the same code path:
 *  - without a language, the validation schemas (plain `enum`, no titles): what ajv compiles;
 *  - with a language, the same schemas annotated for people: `title`/`description` from the labels and
 *    help texts, `oneOf` + `const` + `title` instead of `enum` (dictionary labels in dictionary order),
 *    fields the caller may not read left out, fields they may not write read-only.
 * Dropping the annotations of the second gives back the first (test/model/form-schema.test.ts proves it).
 */
import type { JsonSchema, LocalizedText, MetadataDocument } from '../registry/types.js';
import type { AppModel, CompiledEntity, CompiledField } from './compile.js';
import type { Lang } from './language.js';
import { SYSTEM_FIELDS } from './system-fields.js';
import type { ValueKind } from '../registry/value-kind.js';

/** The caller's field permissions (engine/access/policy.ts EntityAccess): null means every field. */
export interface FieldAccess {
  readable: ReadonlySet<string> | null;
  writable: ReadonlySet<string> | null;
}

/** What labels are looked up in: the deployed dictionaries and documents (an AppModel is one). */
export interface LabelSource {
  dictionaries: ReadonlyMap<string, { items: { value: string; label: LocalizedText; color?: string; active?: boolean }[] }>;
  documents: { get(kind: string, name: string): MetadataDocument | undefined };
  entity(name: string): Pick<CompiledEntity, 'titleField'> | undefined;
}

/** What the record schemas are built from (a CompiledEntity, or the parts of one being compiled). */
export interface SchemaSource {
  fields: readonly CompiledField[];
  /** Fields only workflows change: shown read-only to people, validated like the others. */
  workflowFields: ReadonlySet<string>;
  /** The workflow fields and approval status fields: read-only in forms (engine/model/compile.ts). */
  controlledFields?: ReadonlySet<string>;
}

export interface RecordSchemas {
  create: JsonSchema;
  patch: JsonSchema;
  record: JsonSchema;
}

interface Annotate {
  lang: Lang;
  labels: LabelSource;
  access: FieldAccess;
}

const SYSTEM_LABELS: Record<string, LocalizedText> = {
  id: { en: 'ID', 'zh-CN': 'ID' },
  created_at: { en: 'Created at', 'zh-CN': '创建时间' },
  created_by: { en: 'Created by', 'zh-CN': '创建人' },
  updated_at: { en: 'Updated at', 'zh-CN': '修改时间' },
  updated_by: { en: 'Updated by', 'zh-CN': '修改人' },
  owner_id: { en: 'Owner', 'zh-CN': '负责人' },
  version: { en: 'Version', 'zh-CN': '版本' },
  deleted_at: { en: 'Deleted at', 'zh-CN': '删除时间' },
};

/** System columns as JSON Schema properties of a record. */
const SYSTEM_SCHEMA: Record<string, JsonSchema> = {
  id: { type: 'string', format: 'uuid', readOnly: true },
  created_at: { type: 'string', format: 'date-time', readOnly: true },
  created_by: { type: ['string', 'null'], format: 'uuid', readOnly: true },
  updated_at: { type: 'string', format: 'date-time', readOnly: true },
  updated_by: { type: ['string', 'null'], format: 'uuid', readOnly: true },
  owner_id: { type: ['string', 'null'], format: 'uuid' },
  version: { type: 'integer', minimum: 1, readOnly: true },
  deleted_at: { type: ['string', 'null'], format: 'date-time', readOnly: true },
};

/** Kinds a list cannot sort by (engine/data/query.ts refuses them) or filter on (engine/rules/to-sql.ts). */
const UNSORTABLE: ReadonlySet<ValueKind> = new Set(['json', 'text[]', 'uuid[]']);
const UNFILTERABLE: ReadonlySet<ValueKind> = new Set(['json']);

/** Allows null next to a value schema without wrapping it in anyOf (which muddles error messages). */
export function nullable(schema: JsonSchema): JsonSchema {
  const out: JsonSchema = { ...schema };
  if (Array.isArray(out.enum)) out.enum = [...(out.enum as unknown[]), null];
  if (typeof out.type === 'string') out.type = [out.type, 'null'];
  else if (Array.isArray(out.type) && !out.type.includes('null')) out.type = [...out.type, 'null'];
  return out;
}

const readable = (access: FieldAccess | undefined, name: string) =>
  !access?.readable || SYSTEM_FIELDS.has(name) || access.readable.has(name);
const writable = (access: FieldAccess | undefined, name: string) => !access?.writable || access.writable.has(name);

/**
 * The create, patch and record schemas of an entity. Without `annotate` these are what the server
 * validates with; with it, what a form shows (see the module comment).
 */
/** A required text means a non-blank one (input is trimmed first: engine/data/validation.ts). */
const requiredSchema = (f: { type: { textual?: boolean }; kind: string; valueSchema: JsonSchema }): JsonSchema =>
  f.type.textual && f.kind === 'text' && !((f.valueSchema.minLength as number) >= 1)
    ? { ...f.valueSchema, minLength: 1 }
    : f.valueSchema;

export function recordSchemas(source: SchemaSource, annotate?: Annotate): RecordSchemas {
  const access = annotate?.access;
  const shown = source.fields.filter((f) => readable(access, f.name));
  const input = shown.filter((f) => !f.readOnly);
  const property = (f: CompiledField, schema: JsonSchema, mode: 'input' | 'read') =>
    annotate ? annotateValue(f, schema, mode, annotate) : schema;
  const lockedFor = (f: CompiledField) =>
    !writable(access, f.name) || (annotate !== undefined && (source.controlledFields ?? source.workflowFields).has(f.name));
  const ownerInput = nullable({ type: 'string', format: 'uuid' });

  const createProperties = Object.fromEntries([
    // A field the caller may not write is left out of a create form (it takes its default).
    ...input
      .filter((f) => writable(access, f.name))
      .map((f) => {
        const schema = property(f, f.required ? requiredSchema(f) : nullable(f.valueSchema), 'input');
        // A new record's form starts from the value the server would fill in (shown, not a surprise after saving).
        const withDefault = annotate && f.doc.default !== undefined ? { ...schema, default: f.doc.default } : schema;
        return [f.name, lockedFor(f) ? { ...withDefault, readOnly: true } : withDefault];
      }),
    ['owner_id', annotate ? systemProperty('owner_id', ownerInput, annotate.lang) : ownerInput],
  ]);
  const patchProperties = Object.fromEntries([
    ...input.map((f) => {
      const schema = property(f, f.required ? requiredSchema(f) : nullable(f.valueSchema), 'input');
      return [f.name, lockedFor(f) ? { ...schema, readOnly: true } : schema];
    }),
    ['owner_id', annotate ? systemProperty('owner_id', ownerInput, annotate.lang) : ownerInput],
  ]);
  const create: JsonSchema = {
    type: 'object',
    additionalProperties: false,
    properties: createProperties,
    // A workflow sets its state field's initial value itself.
    required: input
      .filter(
        (f) => f.required && f.doc.default === undefined && !source.workflowFields.has(f.name) && f.name in createProperties,
      )
      .map((f) => f.name),
  };
  const patch: JsonSchema = {
    type: 'object',
    additionalProperties: false,
    properties: { ...patchProperties, version: { type: 'integer', minimum: 1 } },
  };
  const system = annotate
    ? Object.fromEntries(Object.entries(SYSTEM_SCHEMA).map(([name, s]) => [name, systemProperty(name, s, annotate.lang)]))
    : SYSTEM_SCHEMA;
  const record: JsonSchema = {
    type: 'object',
    properties: { ...system, ...Object.fromEntries(shown.map((f) => [f.name, property(f, nullable(f.valueSchema), 'read')])) },
  };
  return { create, patch, record };
}

const systemProperty = (name: string, schema: JsonSchema, lang: Lang): JsonSchema => ({
  title: SYSTEM_LABELS[name]![lang],
  ...schema,
});

/** Title, description and labelled choices for one field's value schema. */
function annotateValue(f: CompiledField, schema: JsonSchema, mode: 'input' | 'read', { lang, labels }: Annotate): JsonSchema {
  const out: JsonSchema = {
    title: f.doc.label[lang],
    ...(f.doc.help ? { description: f.doc.help[lang] } : {}),
    ...labelChoices(schema, mode, lang, labels),
  };
  if (out.items && typeof out.items === 'object' && !Array.isArray(out.items)) {
    out.items = labelChoices(
      { ...(out.items as JsonSchema), 'x-dictionary': schema['x-dictionary'], 'x-documents': schema['x-documents'] },
      mode,
      lang,
      labels,
    );
    delete (out.items as JsonSchema)['x-dictionary'];
    delete (out.items as JsonSchema)['x-documents'];
  }
  return out;
}

/**
 * `enum` of dictionary values or document names → `oneOf` of `{ const, title }` in the dictionary's
 * order. Reads keep the inactive values (old records hold them); inputs offer only the active ones,
 * exactly the values the validator's `enum` admits.
 */
function labelChoices(schema: JsonSchema, mode: 'input' | 'read', lang: Lang, labels: LabelSource): JsonSchema {
  if (!Array.isArray(schema.enum)) return schema;
  const { enum: values, ...rest } = schema;
  const nullAllowed = (values as unknown[]).includes(null);
  let choices: { const: unknown; title: string }[];
  const dictionary = typeof schema['x-dictionary'] === 'string' ? labels.dictionaries.get(schema['x-dictionary']) : undefined;
  if (dictionary) {
    const items = mode === 'read' ? dictionary.items : dictionary.items.filter((i) => (values as unknown[]).includes(i.value));
    choices = items.map((i) => ({ const: i.value, title: i.label[lang] }));
  } else {
    const kind = typeof schema['x-documents'] === 'string' ? schema['x-documents'] : undefined;
    choices = (values as unknown[])
      .filter((v) => v !== null)
      .map((v) => ({ const: v, title: (kind && labels.documents.get(kind, String(v))?.label[lang]) || String(v) }));
  }
  if (nullAllowed) choices.push({ const: null, title: '' });
  return { ...rest, oneOf: choices };
}

/** What a caller may do with a child collection's records: null when they may not even read them. */
export interface ChildAccess extends FieldAccess {
  create: boolean;
  update: boolean;
  delete: boolean;
}

/**
 * Each child collection as an array property of the create, update and read schemas: rows in the
 * child's own create schema (without the reference to the parent, which the engine sets), plus `id`
 * and `version` on update (an existing row), so a form shows the lines as an editable table. The
 * server validates rows with the child's own validators; these are for forms and the OpenAPI document.
 */
export function addChildCollections(
  model: AppModel,
  entity: CompiledEntity,
  lang: Lang | undefined,
  schemas: RecordSchemas,
  childAccess?: (child: CompiledEntity) => ChildAccess | null,
) {
  for (const c of entity.doc.children ?? []) {
    const child = model.entity(c.entity);
    if (!child) continue;
    const rights = childAccess
      ? childAccess(child)
      : { readable: null, writable: null, create: true, update: true, delete: true };
    if (!rights) continue;
    const childSchemas = recordSchemas(child, lang ? { lang, labels: model, access: rights } : undefined);
    // Computed fields of a row are shown, read-only (a row read back carries them; the server ignores them).
    const recordProperties = (childSchemas.record.properties ?? {}) as Record<string, JsonSchema>;
    const computed = Object.fromEntries(
      child.fields
        .filter((f) => f.readOnly && recordProperties[f.name])
        .map((f) => [f.name, { ...recordProperties[f.name], readOnly: true }]),
    );
    const without = (schema: JsonSchema, extra: Record<string, JsonSchema> = {}): JsonSchema => {
      const { [c.via]: _via, ...properties } = (schema.properties ?? {}) as Record<string, JsonSchema>;
      if (c.position) delete properties[c.position];
      delete properties.owner_id;
      delete properties.version;
      // System columns of a row read back may be sent again: they are ignored, not refused (no
      // additionalProperties: false). A row is compact: no help texts (the child's own form has them).
      const { additionalProperties: _closed, ...open } = schema;
      const all: Record<string, JsonSchema> = { ...extra, ...properties, ...computed };
      for (const [name, p] of Object.entries(all)) if (p.description) all[name] = { ...p, description: undefined };
      return {
        ...open,
        properties: JSON.parse(JSON.stringify(all)) as Record<string, JsonSchema>,
        required: ((schema.required ?? []) as string[]).filter((n) => n !== c.via && n !== c.position),
      };
    };
    const title = lang ? { title: c.label[lang] } : {};
    const max = c.maxRows ?? 500;
    const editable = rights.create || rights.update || rights.delete;
    schemas.create.properties = {
      ...(schemas.create.properties as object),
      [c.name]: {
        type: 'array',
        ...title,
        maxItems: max,
        items: without(childSchemas.create),
        ...(rights.create ? {} : { readOnly: true }),
      },
    };
    schemas.patch.properties = {
      ...(schemas.patch.properties as object),
      [c.name]: {
        type: 'array',
        ...title,
        maxItems: max,
        items: without(
          { ...childSchemas.create, required: [] },
          { id: { type: 'string', format: 'uuid' }, version: { type: 'integer', minimum: 1 } },
        ),
        ...(editable ? {} : { readOnly: true }),
      },
    };
    schemas.record.properties = {
      ...(schemas.record.properties as object),
      [c.name]: { type: 'array', ...title, readOnly: true, items: childSchemas.record },
    };
  }
}

/** A form description of one field (the `fields` list of GET /api/meta/forms/:entity). */
export interface FormField {
  name: string;
  type: string;
  label: string;
  help?: string;
  required: boolean;
  readable: true;
  writable: boolean;
  sortable: boolean;
  filterable: boolean;
  dictionary: string | null;
  to: string | null;
  options: { value: string; label: string; color?: string; active?: false }[] | null;
}

export interface FormSchema {
  entity: {
    name: string;
    label: string;
    titleField: string | null;
    workflow: string | null;
    approval: string | null;
    /** The copy button's label when the entity declares `copy` (POST …/:id/copy). */
    copy: string | null;
  };
  create: JsonSchema;
  update: JsonSchema;
  read: JsonSchema;
  uiSchema: Record<string, unknown>;
  fields: FormField[];
  /** Child collections edited with the record (their rows' fields), in declaration order. */
  children: { name: string; label: string; entity: string; fields: FormField[] }[];
  rules: { name: string; field: string | null; when: unknown; assert: unknown; message: string }[];
}

/**
 * Everything a browser needs to render and check an entity's forms, in one language, for one caller.
 * `access` of null or omitted: every field readable and writable.
 */
export function formSchema(
  model: AppModel,
  entity: CompiledEntity,
  lang: Lang,
  access: FieldAccess = { readable: null, writable: null },
  /** The caller's rights on a child collection's entity (omitted: every field, every action). */
  childAccess?: (child: CompiledEntity) => ChildAccess | null,
): FormSchema {
  const schemas = recordSchemas(entity, { lang, labels: model, access });
  addChildCollections(model, entity, lang, schemas, childAccess);
  const shown = entity.fields.filter((f) => readable(access, f.name));
  const isWritable = (f: CompiledField) => !f.readOnly && writable(access, f.name) && !entity.controlledFields.has(f.name);

  const uiSchema: Record<string, unknown> = { 'ui:order': [...shown.map((f) => f.name), '*'] };
  for (const f of shown) {
    const hint = f.type.form?.(f.doc) ?? { widget: 'text' };
    const options: Record<string, unknown> = { ...hint.options };
    if (f.reference) {
      options.entity = f.reference.to;
      options.titleField = model.entity(f.reference.to)?.titleField ?? null;
    }
    const placeholder = f.doc.placeholder as LocalizedText | undefined;
    uiSchema[f.name] = {
      // A computed field shows its value with the widget of what it returns (read-only: ¥, %, dates).
      'ui:widget': f.readOnly && !f.type.form ? 'readonly' : hint.widget,
      ...(f.doc.help ? { 'ui:help': f.doc.help[lang] } : {}),
      ...(placeholder ? { 'ui:placeholder': placeholder[lang] } : {}),
      ...(isWritable(f) ? {} : { 'ui:readonly': true }),
      ...(Object.keys(options).length ? { 'ui:options': options } : {}),
    };
  }

  // Child collections: their rows' widgets (a product picker in a quote line), id and version kept but hidden.
  const children: FormSchema['children'] = [];
  for (const c of entity.doc.children ?? []) {
    const child = model.entity(c.entity);
    if (!child || !(schemas.create.properties as Record<string, unknown> | undefined)?.[c.name]) continue;
    const rights = childAccess?.(child);
    const childForm = formSchema(model, child, lang, rights ?? undefined);
    const { 'ui:order': order, ...rowUi } = childForm.uiSchema as Record<string, unknown> & { 'ui:order': string[] };
    for (const [name, entry] of Object.entries(rowUi))
      if (entry && typeof entry === 'object' && 'ui:help' in entry) {
        const { 'ui:help': _help, ...rest } = entry as Record<string, unknown>;
        rowUi[name] = rest;
      }
    uiSchema[c.name] = {
      'ui:options': { orderable: false, entity: c.entity, label: false },
      items: {
        ...rowUi,
        'ui:order': order.filter((n) => n !== c.via && n !== c.position),
        id: { 'ui:widget': 'hidden' },
        version: { 'ui:widget': 'hidden' },
      },
    };
    children.push({
      name: c.name,
      label: c.label[lang],
      entity: c.entity,
      fields: childForm.fields.filter((f) => f.name !== c.via && f.name !== c.position),
    });
  }

  const fields: FormField[] = shown.map((f) => {
    const dictionaryName = typeof f.doc.dictionary === 'string' ? f.doc.dictionary : null;
    const dictionary = dictionaryName ? model.dictionaries.get(dictionaryName) : undefined;
    return {
      name: f.name,
      type: f.doc.type,
      label: f.doc.label[lang],
      ...(f.doc.help ? { help: f.doc.help[lang] } : {}),
      required: f.required,
      readable: true,
      writable: isWritable(f),
      sortable: !UNSORTABLE.has(f.kind),
      filterable: !UNFILTERABLE.has(f.kind),
      dictionary: dictionaryName,
      to: f.reference?.to ?? null,
      options: dictionary
        ? dictionary.items.map((i) => ({
            value: i.value,
            label: i.label[lang],
            ...(i.color ? { color: i.color } : {}),
            ...(i.active === false ? { active: false as const } : {}),
          }))
        : null,
    };
  });

  // A rule that reads a field the caller cannot see could not be evaluated in the browser.
  const visible = new Set(shown.map((f) => f.name));
  const rules = entity.rules
    .filter(
      (r) =>
        [...r.fieldsUsed].every((name) => visible.has(name) || SYSTEM_FIELDS.has(name)) &&
        (!r.doc.field || visible.has(r.doc.field)),
    )
    .map(({ doc }) => ({
      name: doc.name,
      field: doc.field ?? null,
      when: doc.when ?? null,
      assert: doc.assert,
      message: doc.message[lang],
    }));

  const approval = [...model.documents.all<MetadataDocument & { entity?: string }>('approval')]
    .filter((a) => a.entity === entity.name)
    .map((a) => a.name)
    .sort()[0];
  return {
    entity: {
      name: entity.name,
      label: entity.label[lang],
      titleField: entity.titleField ?? null,
      workflow: entity.workflows[0]?.doc.name ?? null,
      approval: approval ?? null,
      copy: entity.doc.copy ? (entity.doc.copy.label?.[lang] ?? (lang === 'zh-CN' ? '复制' : 'Copy')) : null,
    },
    create: schemas.create,
    update: schemas.patch,
    read: schemas.record,
    uiSchema,
    fields,
    children,
    rules,
  };
}
