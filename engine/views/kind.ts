/**
 * The `view` document kind: how the web UI shows one entity — list views (columns, default sort and
 * filter, shared with everyone or with roles), the kanban (group field, card fields, summed field), the
 * record layout (sections, tabs, columns, read-only and hidden fields, visibility and required conditions
 * as json-logic over the record) and related lists. Checked at deploy like every kind: every name it
 * uses must exist, with a JSON pointer to the one that does not.
 */
import { createRequire } from 'node:module';
import { pointer, type ErrorDetail } from '../errors.js';
import type {
  DocumentKindDefinition,
  DocumentSet,
  FieldDoc,
  JsonSchema,
  MetadataDocument,
  RegistryView,
} from '../registry/types.js';
import { checkRule } from '../rules/check.js';
import { SYSTEM_FIELDS } from '../model/system-fields.js';

const require = createRequire(import.meta.url);
const viewSchema = require('./view.schema.json') as JsonSchema;

type Label = { en: string; 'zh-CN': string };
export interface ViewDoc extends MetadataDocument {
  entity: string;
  roles?: string[];
  lists?: { name: string; label: Label; columns: string[]; sort?: string; filter?: unknown; shared?: boolean | string[] }[];
  kanban?: { groupBy: string; cardFields?: string[]; sumField?: string };
  calendar?: { start: string; end?: string; title?: string; color?: string; people?: string };
  layout?: {
    sections: { label?: Label; tab?: Label; columns?: number; fields: string[] }[];
    readOnly?: string[];
    hidden?: string[];
    visibleWhen?: Record<string, unknown>;
    requiredWhen?: Record<string, unknown>;
    related?: { entity: string; via: string; label?: Label; columns?: string[] }[];
  };
}

interface EntityLike {
  name: string;
  fields: FieldDoc[];
}

const numericKinds = new Set(['integer', 'number']);

export function checkView(view: ViewDoc, all: DocumentSet, registry: RegistryView): ErrorDetail[] {
  const errors: ErrorDetail[] = [];
  const entity = all.get<MetadataDocument & EntityLike>('entity', view.entity);
  if (!entity) return [{ path: '/entity', code: 'unknown_entity', message: `Entity "${view.entity}" is not deployed` }];
  const own = new Map(entity.fields.map((f) => [f.name, f]));
  const known = new Set([...own.keys(), ...SYSTEM_FIELDS]);
  const roles = new Set(all.all('role').map((r) => r.name));
  const field = (name: string, path: string, of: EntityLike = entity, names = known) => {
    if (!names.has(name)) errors.push({ path, code: 'unknown_field', message: `Entity "${of.name}" has no field "${name}"` });
  };
  const role = (name: string, path: string) => {
    if (!roles.has(name)) errors.push({ path, code: 'unknown_role', message: `Role "${name}" is not deployed` });
  };
  const kindOf = (f: FieldDoc) => registry.fieldType(f.type)?.kind(f);

  view.roles?.forEach((r, i) => role(r, pointer('roles', i)));
  const listNames = new Set<string>();
  view.lists?.forEach((list, i) => {
    if (listNames.has(list.name))
      errors.push({
        path: pointer('lists', i, 'name'),
        code: 'duplicate_name',
        message: `List view "${list.name}" appears twice`,
      });
    listNames.add(list.name);
    list.columns.forEach((c, j) => field(c, pointer('lists', i, 'columns', j)));
    list.sort?.split(',').forEach((s) => field(s.replace(/^-/, ''), pointer('lists', i, 'sort')));
    if (list.filter !== undefined)
      errors.push(...checkRule(list.filter, { fields: known, allowContext: true, path: pointer('lists', i, 'filter') }).errors);
    if (Array.isArray(list.shared)) list.shared.forEach((r, j) => role(r, pointer('lists', i, 'shared', j)));
  });

  if (view.kanban) {
    const k = view.kanban;
    const group = own.get(k.groupBy);
    const workflow = all
      .all<MetadataDocument & { entity: string; stateField: string }>('workflow')
      .some((w) => w.entity === view.entity && w.stateField === k.groupBy);
    if (!group) field(k.groupBy, '/kanban/groupBy');
    else if (group.type !== 'picklist' && !workflow)
      errors.push({
        path: '/kanban/groupBy',
        code: 'invalid_group_field',
        message: `"${k.groupBy}" is neither a picklist nor the state field of a workflow of "${view.entity}"`,
      });
    k.cardFields?.forEach((c, j) => field(c, pointer('kanban', 'cardFields', j)));
    if (k.sumField !== undefined) {
      const sum = own.get(k.sumField);
      if (!sum) field(k.sumField, '/kanban/sumField');
      else if (!numericKinds.has(kindOf(sum) ?? ''))
        errors.push({
          path: '/kanban/sumField',
          code: 'invalid_sum_field',
          message: `"${k.sumField}" is not a number field and can't be summed`,
        });
    }
  }

  if (view.calendar) {
    const c = view.calendar;
    const at = (key: string) => pointer('calendar', key);
    const timeKind = (name: string, key: string) => {
      const f = own.get(name);
      if (!f) return void field(name, at(key), entity, new Set(own.keys()));
      const kind = kindOf(f);
      if (kind !== 'date' && kind !== 'datetime')
        return void errors.push({
          path: at(key),
          code: 'invalid_calendar_field',
          message: `"${name}" is not a date or datetime field`,
        });
      return kind;
    };
    const start = timeKind(c.start, 'start');
    if (c.end !== undefined) {
      const end = timeKind(c.end, 'end');
      if (start && end && start !== end)
        errors.push({
          path: at('end'),
          code: 'invalid_calendar_field',
          message: `"${c.end}" is a ${end} field and "${c.start}" a ${start} field`,
        });
    }
    if (c.title !== undefined) field(c.title, at('title'));
    if (c.color !== undefined) {
      const color = own.get(c.color);
      if (!color) field(c.color, at('color'), entity, new Set(own.keys()));
      else if (color.type !== 'picklist')
        errors.push({ path: at('color'), code: 'invalid_calendar_field', message: `"${c.color}" is not a picklist field` });
    }
    if (c.people !== undefined) {
      const people = own.get(c.people);
      if (!people) field(c.people, at('people'), entity, new Set(own.keys()));
      else if (!registry.fieldType(people.type)?.userList)
        errors.push({ path: at('people'), code: 'invalid_calendar_field', message: `"${c.people}" is not a users field` });
    }
  }

  const layout = view.layout;
  if (layout) {
    layout.sections.forEach((s, i) =>
      s.fields.forEach((f, j) => field(f, pointer('layout', 'sections', i, 'fields', j), entity, new Set(own.keys()))),
    );
    layout.readOnly?.forEach((f, i) => field(f, pointer('layout', 'readOnly', i)));
    layout.hidden?.forEach((f, i) => field(f, pointer('layout', 'hidden', i)));
    for (const key of ['visibleWhen', 'requiredWhen'] as const)
      for (const [name, rule] of Object.entries(layout[key] ?? {})) {
        field(name, pointer('layout', key, name));
        errors.push(...checkRule(rule, { fields: known, allowContext: true, path: pointer('layout', key, name) }).errors);
      }
    layout.related?.forEach((r, i) => {
      const other = all.get<MetadataDocument & EntityLike>('entity', r.entity);
      if (!other)
        return void errors.push({
          path: pointer('layout', 'related', i, 'entity'),
          code: 'unknown_entity',
          message: `Entity "${r.entity}" is not deployed`,
        });
      const via = other.fields.find((f) => f.name === r.via);
      if (via?.type !== 'reference' || via.to !== view.entity)
        errors.push({
          path: pointer('layout', 'related', i, 'via'),
          code: 'invalid_reference',
          message: `"${r.entity}.${r.via}" is not a reference to "${view.entity}"`,
        });
      const otherFields = new Set([...other.fields.map((f) => f.name), ...SYSTEM_FIELDS]);
      r.columns?.forEach((c, j) => field(c, pointer('layout', 'related', i, 'columns', j), other, otherFields));
    });
  }
  return errors;
}

export const viewKind: DocumentKindDefinition = {
  kind: 'view',
  schema: () => viewSchema,
  check: (doc, all, registry) => checkView(doc as ViewDoc, all, registry),
};
