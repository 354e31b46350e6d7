/**
 * The `entity` kind: a module — one table, one REST resource, its forms. Its compiler is
 * engine/model/compile.ts; these are the deploy checks a meta-schema cannot express (field types' own
 * checks, defaults that fit, rules over real fields, formulas without cycles, the fields the engine needs).
 */
import { pointer, type ErrorDetail } from '../../errors.js';
import type {
  DocumentKindDefinition,
  DocumentSet,
  FieldDoc,
  JsonSchema,
  MetadataDocument,
  RegistryView,
} from '../../registry/types.js';
import { checkRule } from '../../rules/check.js';
import { checkPath } from '../reference-paths.js';
import { createAjv } from '../ajv.js';
import { SYSTEM_FIELDS } from '../system-fields.js';
import { duplicates, fieldTypeContext } from './field.js';
import { loadSchema } from './load-schema.js';

export interface EntityDoc extends MetadataDocument {
  titleField?: string;
  fields: FieldDoc[];
  indexes?: { fields: string[]; unique?: boolean }[];
  rules?: { name: string; field?: string; when?: unknown; assert: unknown; message: { en: string; 'zh-CN': string } }[];
  /** Match rules for imports (docs/import-export.md). */
  import?: ImportRules;
  /** Child collections written with the record (engine/data/operations/children.ts). */
  children?: ChildCollection[];
  /** What POST …/:id/copy resets and computes (engine/data/operations/copy.ts). */
  copy?: CopyRules;
}

/** A child collection: the records of `entity` whose reference `via` points at this one, edited with it. */
export interface ChildCollection {
  name: string;
  entity: string;
  via: string;
  label: { en: string; 'zh-CN': string };
  /** An integer field of the child the engine sets to the row's 1-based place in the array (and orders by). */
  position?: string;
  maxRows?: number;
}

/** A copy's changes: fields computed from the original (json-logic), fields left empty, children copied. */
export interface CopyRules {
  set?: Record<string, unknown>;
  reset?: string[];
  children?: string[];
  label?: { en: string; 'zh-CN': string };
}

/** How an import finds existing records and what it may change in them. */
export interface ImportRules {
  /** Tried in order; the first whose fields all have values in a row decides. */
  match?: { fields: string[] }[];
  mode?: 'insert' | 'update' | 'upsert';
  /** Fields an update may change (default: every imported field the importer may write). */
  overwrite?: string[];
}

export const entityKind: DocumentKindDefinition = {
  kind: 'entity',
  schema: () => loadSchema(import.meta.url, './entity.schema.json'),
  check: (doc, all, registry) => checkEntity(doc as EntityDoc, all, registry),
};

/**
 * Users and departments are ordinary entities that admins may extend, but the engine reads these
 * fields (logins, scopes, delegation): they must stay, with these types.
 */
const ENGINE_FIELDS: Record<string, Record<string, string>> = {
  user: {
    username: 'text',
    display_name: 'text',
    department: 'reference',
    manager: 'reference',
    employment_status: 'picklist',
    roles: 'roles',
  },
  department: { name: 'text', parent: 'reference' },
};

/** Validators for field defaults, compiled once per value schema (deploys check every entity). */
const defaultsAjv = createAjv();
const defaultValidators = new Map<string, ReturnType<typeof defaultsAjv.compile>>();
function defaultValidator(schema: JsonSchema) {
  const key = JSON.stringify(schema);
  let validate = defaultValidators.get(key);
  if (!validate) defaultValidators.set(key, (validate = defaultsAjv.compile(schema)));
  return validate;
}

function checkEntity(entity: EntityDoc, all: DocumentSet, registry: RegistryView): ErrorDetail[] {
  const errors: ErrorDetail[] = [];
  for (const [name, type] of Object.entries(ENGINE_FIELDS[entity.name] ?? {})) {
    const field = entity.fields.find((f) => f.name === name);
    if (field?.type !== type) {
      errors.push({
        path: '/fields',
        code: 'engine_field_required',
        message: `The ${entity.name} entity must keep its field "${name}" of type ${type}: the engine relies on it`,
      });
    }
  }
  const names = entity.fields.map((f) => f.name);
  const fieldNames = new Set(names);
  const ctx = { ...fieldTypeContext(all), fieldNames, fields: entity.fields };

  for (const name of duplicates(names)) {
    errors.push({
      path: pointer('fields', names.lastIndexOf(name), 'name'),
      code: 'duplicate_field',
      message: `Field "${name}" is declared twice`,
    });
  }
  entity.fields.forEach((field, i) => {
    const at = (p: string) => pointer('fields', i) + p;
    if (SYSTEM_FIELDS.has(field.name)) {
      errors.push({
        path: at('/name'),
        code: 'reserved_name',
        message: `"${field.name}" is a system field and cannot be declared`,
      });
    }
    const type = registry.fieldType(field.type)!;
    const typeErrors = type.check?.(field, ctx) ?? [];
    for (const e of typeErrors) errors.push({ ...e, path: at(e.path) });
    if (type.readOnly && (field.required || field.default !== undefined)) {
      errors.push({
        path: at('/required'),
        code: 'invalid_option',
        message: `A ${field.type} field is computed: it cannot be required or have a default`,
      });
    }
    if (field.defaultFrom !== undefined) {
      if (type.readOnly || field.default !== undefined)
        errors.push({
          path: at('/defaultFrom'),
          code: 'invalid_option',
          message: 'defaultFrom is for a writable field without a default',
        });
      const first = String(field.defaultFrom).split('.')[0];
      if (entity.fields.find((f) => f.name === first)?.type !== 'reference')
        errors.push({
          path: at('/defaultFrom'),
          code: 'invalid_path',
          message: `"${first}" is not a reference field of ${entity.name}`,
        });
      else errors.push(...checkPath(String(field.defaultFrom), entity.fields, ctx, at('/defaultFrom'), field));
    }
    if (field.searchable && !type.textual) {
      errors.push({
        path: at('/searchable'),
        code: 'invalid_option',
        message: `Only text-like fields can be searchable, not ${field.type}`,
      });
    }
    // A default can only be judged once the field itself is sound (its dictionary exists, …).
    if (field.default !== undefined && typeErrors.length === 0) {
      const validate = defaultValidator(type.valueSchema(field, ctx));
      if (!validate(field.default)) {
        errors.push({
          path: at('/default'),
          code: 'invalid_default',
          message: `Default value does not fit the field: ${defaultsAjv.errorsText(validate.errors)}`,
        });
      }
    }
  });
  if (entity.titleField !== undefined && !fieldNames.has(entity.titleField)) {
    errors.push({
      path: '/titleField',
      code: 'unknown_field',
      message: `Title field "${entity.titleField}" is not a field of ${entity.name}`,
    });
  }
  (entity.indexes ?? []).forEach((index, i) =>
    index.fields.forEach((f, j) => {
      if (!fieldNames.has(f) && !SYSTEM_FIELDS.has(f)) {
        errors.push({
          path: pointer('indexes', i, 'fields', j),
          code: 'unknown_field',
          message: `Index field "${f}" is not a field of ${entity.name}`,
        });
      }
    }),
  );
  const ruleNames = (entity.rules ?? []).map((r) => r.name);
  for (const name of duplicates(ruleNames)) {
    errors.push({
      path: pointer('rules', ruleNames.lastIndexOf(name), 'name'),
      code: 'duplicate_rule',
      message: `Rule "${name}" is declared twice`,
    });
  }
  const ruleFields = new Set([...fieldNames, ...SYSTEM_FIELDS]);
  (entity.rules ?? []).forEach((rule, i) => {
    if (rule.field !== undefined && !fieldNames.has(rule.field)) {
      errors.push({
        path: pointer('rules', i, 'field'),
        code: 'unknown_field',
        message: `Rule field "${rule.field}" is not a field of ${entity.name}`,
      });
    }
    for (const part of ['when', 'assert'] as const) {
      if (rule[part] === undefined) continue;
      errors.push(...checkRule(rule[part], { fields: ruleFields, allowContext: true, path: pointer('rules', i, part) }).errors);
    }
  });
  errors.push(...importRuleErrors(entity, fieldNames));
  errors.push(...childErrors(entity, all, fieldNames));
  errors.push(...copyErrors(entity, fieldNames));
  errors.push(...formulaCycles(entity));
  return errors;
}

/**
 * A child collection names an entity that exists and one of its reference fields pointing back at this
 * entity; its name is free among the fields; `position` is an integer field of the child.
 */
function childErrors(entity: EntityDoc, all: DocumentSet, fieldNames: ReadonlySet<string>): ErrorDetail[] {
  const errors: ErrorDetail[] = [];
  const names = (entity.children ?? []).map((c) => c.name);
  (entity.children ?? []).forEach((c, i) => {
    const at = (...p: (string | number)[]) => pointer('children', i, ...p);
    if (fieldNames.has(c.name) || SYSTEM_FIELDS.has(c.name))
      errors.push({ path: at('name'), code: 'duplicate_field', message: `"${c.name}" is already a field of ${entity.name}` });
    if (names.indexOf(c.name) !== i)
      errors.push({ path: at('name'), code: 'duplicate_child', message: `Child collection "${c.name}" is declared twice` });
    const child = all.get<EntityDoc>('entity', c.entity);
    if (!child) {
      errors.push({ path: at('entity'), code: 'unknown_entity', message: `Entity "${c.entity}" does not exist` });
      return;
    }
    if (child.name === entity.name)
      errors.push({ path: at('entity'), code: 'invalid_child', message: 'An entity cannot be its own child collection' });
    const via = child.fields.find((f) => f.name === c.via);
    if (!via) errors.push({ path: at('via'), code: 'unknown_field', message: `"${c.via}" is not a field of ${c.entity}` });
    else if (via.type !== 'reference' || via.to !== entity.name)
      errors.push({
        path: at('via'),
        code: 'invalid_child',
        message: `"${c.entity}.${c.via}" must be a reference to ${entity.name} (it is ${via.type === 'reference' ? `a reference to ${String(via.to)}` : `a ${via.type} field`})`,
      });
    if (c.position !== undefined) {
      const position = child.fields.find((f) => f.name === c.position);
      if (position?.type !== 'integer')
        errors.push({
          path: at('position'),
          code: 'invalid_child',
          message: `"${c.position}" must be an integer field of ${c.entity}`,
        });
    }
  });
  return errors;
}

/** A copy sets and resets writable fields of the entity, and copies declared child collections. */
function copyErrors(entity: EntityDoc, fieldNames: ReadonlySet<string>): ErrorDetail[] {
  if (!entity.copy) return [];
  const errors: ErrorDetail[] = [];
  const readOnly = new Set(entity.fields.filter((f) => ['formula', 'rollup', 'autonumber'].includes(f.type)).map((f) => f.name));
  const check = (f: string, path: string) => {
    if (!fieldNames.has(f)) errors.push({ path, code: 'unknown_field', message: `"${f}" is not a field of ${entity.name}` });
    else if (readOnly.has(f))
      errors.push({ path, code: 'invalid_option', message: `"${f}" is computed: a copy computes it again` });
  };
  for (const [f, expr] of Object.entries(entity.copy.set ?? {})) {
    check(f, pointer('copy', 'set', f));
    errors.push(
      ...checkRule(expr, {
        fields: new Set([...fieldNames, ...SYSTEM_FIELDS]),
        allowContext: true,
        path: pointer('copy', 'set', f),
      }).errors,
    );
  }
  (entity.copy.reset ?? []).forEach((f, i) => check(f, pointer('copy', 'reset', i)));
  const children = new Set((entity.children ?? []).map((c) => c.name));
  (entity.copy.children ?? []).forEach((c, i) => {
    if (!children.has(c))
      errors.push({
        path: pointer('copy', 'children', i),
        code: 'unknown_child',
        message: `"${c}" is not a child collection of ${entity.name}`,
      });
  });
  return errors;
}

/** Match rules and overwritable fields name fields of the entity (id may identify a record too). */
function importRuleErrors(entity: EntityDoc, fieldNames: ReadonlySet<string>): ErrorDetail[] {
  const errors: ErrorDetail[] = [];
  const unknown = (f: string, path: string) =>
    errors.push({ path, code: 'unknown_field', message: `Import field "${f}" is not a field of ${entity.name}` });
  (entity.import?.match ?? []).forEach((rule, i) =>
    rule.fields.forEach((f, j) => {
      if (!fieldNames.has(f) && f !== 'id') unknown(f, pointer('import', 'match', i, 'fields', j));
    }),
  );
  (entity.import?.overwrite ?? []).forEach((f, i) => {
    if (!fieldNames.has(f) && f !== 'owner_id') unknown(f, pointer('import', 'overwrite', i));
  });
  return errors;
}

/** Formulas may use other formulas; a cycle would never settle. */
function formulaCycles(entity: EntityDoc): ErrorDetail[] {
  const formulas = new Map(entity.fields.filter((f) => f.type === 'formula').map((f) => [f.name, f]));
  const deps = (name: string) =>
    [...checkRule(formulas.get(name)!.expr, { fields: new Set(formulas.keys()) }).fieldsUsed].filter((d) => formulas.has(d));
  const errors: ErrorDetail[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, trail: string[]) => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') {
      const i = entity.fields.findIndex((f) => f.name === name);
      errors.push({
        path: pointer('fields', i, 'expr'),
        code: 'circular_formula',
        message: `Formulas refer to each other in a circle: ${[...trail, name].join(' → ')}`,
      });
      return;
    }
    state.set(name, 'visiting');
    for (const d of deps(name)) visit(d, [...trail, name]);
    state.set(name, 'done');
  };
  for (const name of formulas.keys()) visit(name, []);
  return errors;
}
