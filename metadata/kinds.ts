/**
 * The core document kinds: app, dictionary, entity. Each pairs a meta-schema (JSON files beside this
 * module) with the cross-reference checks a schema cannot express.
 */
import { createRequire } from 'node:module';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { pointer, type ErrorDetail } from '../engine/errors.js';
import type { DocumentKindDefinition, DocumentSet, FieldDoc, FieldTypeContext, JsonSchema, MetadataDocument, RegistryView } from '../engine/registry/types.js';
import { checkRule } from '../engine/rules/check.js';
import { SYSTEM_FIELDS } from '../engine/model/system-fields.js';

const require = createRequire(import.meta.url);
export const commonSchema = require('./schemas/common.schema.json') as JsonSchema;
const appSchema = require('./schemas/app.schema.json') as JsonSchema;
const dictionarySchema = require('./schemas/dictionary.schema.json') as JsonSchema;
const entitySchema = require('./schemas/entity.schema.json') as JsonSchema;
const roleSchema = require('./schemas/role.schema.json') as JsonSchema;

export interface DictionaryDoc extends MetadataDocument {
  items: { value: string; label: { en: string; 'zh-CN': string }; color?: string; active?: boolean }[];
}
export interface EntityDoc extends MetadataDocument {
  titleField?: string;
  fields: FieldDoc[];
  indexes?: { fields: string[]; unique?: boolean }[];
  rules?: { name: string; field?: string; when?: unknown; assert: unknown; message: { en: string; 'zh-CN': string } }[];
}
export type Scope = 'none' | 'own' | 'department' | 'department_tree' | 'all' | { when: unknown };
export const ACTIONS = ['read', 'create', 'update', 'delete', 'export', 'import', 'assign', 'share', 'print'] as const;
export type Action = (typeof ACTIONS)[number];
export interface Grant extends Partial<Record<Action, Scope>> {
  entity: string;
  fields?: { read?: string[]; write?: string[] };
}
export interface RoleDoc extends MetadataDocument {
  system?: string[];
  grants: Grant[];
}
export interface AppDoc extends MetadataDocument {
  version: string;
  modules?: string[];
}

/** The field meta-schema, generated from the registered field types so plugin types validate too. */
export function fieldSchema(registry: RegistryView): JsonSchema {
  const common = {
    name: { $ref: 'common.schema.json#/$defs/identifier' },
    type: { enum: registry.fieldTypes().map((t) => t.name) },
    label: { $ref: 'common.schema.json#/$defs/label' },
    help: { $ref: 'common.schema.json#/$defs/text' },
    required: { type: 'boolean' },
    unique: { type: 'boolean' },
    indexed: { type: 'boolean' },
    searchable: { type: 'boolean' },
    default: {},
  };
  return {
    $id: 'https://metacrm.dev/schemas/field.schema.json',
    type: 'object',
    required: ['name', 'type', 'label'],
    properties: common,
    allOf: registry.fieldTypes().map((t) => ({
      if: { properties: { type: { const: t.name } }, required: ['type'] },
      then: { required: t.requiredOptions ?? [], properties: { ...common, ...(t.options ?? {}) }, additionalProperties: false },
    })),
  };
}

export const fieldTypeContext = (all: DocumentSet): FieldTypeContext => ({
  dictionary: (name) => all.get<DictionaryDoc>('dictionary', name),
  entity: (name) => all.get<EntityDoc>('entity', name),
  names: (kind) => all.all(kind).map((d) => d.name).sort(),
});

const duplicates = (values: string[]) => values.filter((v, i) => values.indexOf(v) !== i);

export const appKind: DocumentKindDefinition = {
  kind: 'app',
  schema: () => appSchema,
  check: (doc, all) =>
    ((doc as AppDoc).modules ?? []).flatMap((m, i) =>
      all.get('entity', m) ? [] : [{ path: pointer('modules', i), code: 'unknown_entity', message: `Module "${m}" is not a deployed entity` }],
    ),
};

export const dictionaryKind: DocumentKindDefinition = {
  kind: 'dictionary',
  schema: () => dictionarySchema,
  check: (doc) => {
    const values = (doc as DictionaryDoc).items.map((i) => i.value);
    return duplicates(values).map((v) => ({
      path: pointer('items', values.lastIndexOf(v), 'value'),
      code: 'duplicate_value',
      message: `Dictionary value "${v}" appears twice`,
    }));
  },
};

export const entityKind: DocumentKindDefinition = {
  kind: 'entity',
  schema: () => entitySchema,
  check: (doc, all, registry) => checkEntity(doc as EntityDoc, all, registry),
};

export const roleKind: DocumentKindDefinition = {
  kind: 'role',
  schema: () => roleSchema,
  check: (doc, all) => checkRole(doc as RoleDoc, all),
};

function checkRole(role: RoleDoc, all: DocumentSet): ErrorDetail[] {
  const errors: ErrorDetail[] = [];
  role.grants.forEach((grant, i) => {
    const at = (...p: (string | number)[]) => pointer('grants', i, ...p);
    const entities = grant.entity === '*' ? all.all<EntityDoc>('entity') : [all.get<EntityDoc>('entity', grant.entity)].filter((e): e is EntityDoc => Boolean(e));
    if (grant.entity !== '*' && entities.length === 0) {
      errors.push({ path: at('entity'), code: 'unknown_entity', message: `Entity "${grant.entity}" does not exist` });
      return;
    }
    const fieldNames = new Set(grant.entity === '*' ? [] : entities[0].fields.map((f) => f.name));
    for (const list of ['read', 'write'] as const) {
      if (grant.entity === '*' && grant.fields?.[list]) {
        errors.push({ path: at('fields', list), code: 'invalid_grant', message: 'Field lists need a single entity, not *' });
        continue;
      }
      (grant.fields?.[list] ?? []).forEach((f, j) => {
        if (!fieldNames.has(f)) errors.push({ path: at('fields', list, j), code: 'unknown_field', message: `"${f}" is not a field of ${grant.entity}` });
      });
    }
    for (const action of ACTIONS) {
      const scope = grant[action];
      if (scope && typeof scope === 'object') {
        const fields = new Set([...SYSTEM_FIELDS, ...(grant.entity === '*' ? [] : fieldNames)]);
        errors.push(...checkRule(scope.when, { fields, allowContext: true, path: at(action, 'when') }).errors);
      }
    }
  });
  return errors;
}

function checkEntity(entity: EntityDoc, all: DocumentSet, registry: RegistryView): ErrorDetail[] {
  const errors: ErrorDetail[] = [];
  const names = entity.fields.map((f) => f.name);
  const fieldNames = new Set(names);
  const ctx = { ...fieldTypeContext(all), fieldNames };
  const ajv = new Ajv2020({ strict: false, allErrors: true });

  for (const name of duplicates(names)) {
    errors.push({ path: pointer('fields', names.lastIndexOf(name), 'name'), code: 'duplicate_field', message: `Field "${name}" is declared twice` });
  }
  entity.fields.forEach((field, i) => {
    const at = (p: string) => pointer('fields', i) + p;
    if (SYSTEM_FIELDS.has(field.name)) {
      errors.push({ path: at('/name'), code: 'reserved_name', message: `"${field.name}" is a system field and cannot be declared` });
    }
    const type = registry.fieldType(field.type)!;
    const typeErrors = type.check?.(field, ctx) ?? [];
    for (const e of typeErrors) errors.push({ ...e, path: at(e.path) });
    if (type.readOnly && (field.required || field.default !== undefined)) {
      errors.push({ path: at('/required'), code: 'invalid_option', message: `A ${field.type} field is computed: it cannot be required or have a default` });
    }
    if (field.searchable && !type.textual) {
      errors.push({ path: at('/searchable'), code: 'invalid_option', message: `Only text-like fields can be searchable, not ${field.type}` });
    }
    // A default can only be judged once the field itself is sound (its dictionary exists, …).
    if (field.default !== undefined && typeErrors.length === 0) {
      const validate = ajv.compile(type.valueSchema(field, ctx));
      if (!validate(field.default)) {
        errors.push({ path: at('/default'), code: 'invalid_default', message: `Default value does not fit the field: ${ajv.errorsText(validate.errors)}` });
      }
    }
  });
  if (entity.titleField !== undefined && !fieldNames.has(entity.titleField)) {
    errors.push({ path: '/titleField', code: 'unknown_field', message: `Title field "${entity.titleField}" is not a field of ${entity.name}` });
  }
  (entity.indexes ?? []).forEach((index, i) =>
    index.fields.forEach((f, j) => {
      if (!fieldNames.has(f) && !SYSTEM_FIELDS.has(f)) {
        errors.push({ path: pointer('indexes', i, 'fields', j), code: 'unknown_field', message: `Index field "${f}" is not a field of ${entity.name}` });
      }
    }),
  );
  const ruleNames = (entity.rules ?? []).map((r) => r.name);
  for (const name of duplicates(ruleNames)) {
    errors.push({ path: pointer('rules', ruleNames.lastIndexOf(name), 'name'), code: 'duplicate_rule', message: `Rule "${name}" is declared twice` });
  }
  const ruleFields = new Set([...fieldNames, ...SYSTEM_FIELDS]);
  (entity.rules ?? []).forEach((rule, i) => {
    if (rule.field !== undefined && !fieldNames.has(rule.field)) {
      errors.push({ path: pointer('rules', i, 'field'), code: 'unknown_field', message: `Rule field "${rule.field}" is not a field of ${entity.name}` });
    }
    for (const part of ['when', 'assert'] as const) {
      if (rule[part] === undefined) continue;
      errors.push(...checkRule(rule[part], { fields: ruleFields, allowContext: true, path: pointer('rules', i, part) }).errors);
    }
  });
  errors.push(...formulaCycles(entity));
  return errors;
}

/** Formulas may use other formulas; a cycle would never settle. */
function formulaCycles(entity: EntityDoc): ErrorDetail[] {
  const formulas = new Map(entity.fields.filter((f) => f.type === 'formula').map((f) => [f.name, f]));
  const deps = (name: string) => [...checkRule(formulas.get(name)!.expr, { fields: new Set(formulas.keys()) }).fieldsUsed].filter((d) => formulas.has(d));
  const errors: ErrorDetail[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, trail: string[]) => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') {
      const i = entity.fields.findIndex((f) => f.name === name);
      errors.push({ path: pointer('fields', i, 'expr'), code: 'circular_formula', message: `Formulas refer to each other in a circle: ${[...trail, name].join(' → ')}` });
      return;
    }
    state.set(name, 'visiting');
    for (const d of deps(name)) visit(d, [...trail, name]);
    state.set(name, 'done');
  };
  for (const name of formulas.keys()) visit(name, []);
  return errors;
}
