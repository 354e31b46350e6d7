/**
 * Field paths of reports — `amount`, `account.industry`, `owner_id.department` — resolved against the
 * entity documents (deploy checks) without the compiled model. The system columns that hold a user
 * (owner_id, created_by, updated_by) lead to the `user` entity like reference fields do.
 */
import type { DocumentSet, FieldDoc, RegistryView } from '../registry/types.js';
import type { EntityDoc } from '../model/kinds/entity.js';
import { SYSTEM_COLUMN_KINDS } from '../model/compile.js';
import type { ValueKind } from '../registry/value-kind.js';

import { USER_COLUMNS } from '../data/operations/aggregate.js';

export interface PathStep {
  entity: string;
  field: string;
}
export interface ResolvedPath {
  steps: PathStep[];
  /** The last field's kind, document (absent for system columns) and, for references, the target entity. */
  kind: ValueKind;
  doc?: FieldDoc;
  to?: string;
}

/** The target entity of a field that points at records (a reference field or a user column). */
export function targetOf(field: FieldDoc | undefined, name: string, registry: RegistryView): string | undefined {
  if (!field) return USER_COLUMNS.has(name) ? 'user' : undefined;
  return registry.fieldType(field.type)?.references?.(field)?.to;
}

/** Resolves a path or says what is wrong with it (message names the failing segment). */
export function resolvePath(all: DocumentSet, registry: RegistryView, entity: string, path: string): ResolvedPath | string {
  const segments = path.split('.');
  const steps: PathStep[] = [];
  let current = entity;
  for (const [i, name] of segments.entries()) {
    const doc = all.get<EntityDoc>('entity', current);
    if (!doc) return `Entity "${current}" does not exist`;
    const field = doc.fields.find((f) => f.name === name);
    const system = SYSTEM_COLUMN_KINDS.find(([n]) => n === name);
    if (!field && !system) return `"${name}" is not a field of ${current}`;
    steps.push({ entity: current, field: name });
    const to = targetOf(field, name, registry);
    if (i === segments.length - 1) {
      const kind = field ? registry.fieldType(field.type)!.kind(field) : system![1];
      return { steps, kind, doc: field, to };
    }
    if (!to) return `"${name}" of ${current} is not a reference: "${segments.slice(i + 1).join('.')}" can't follow it`;
    current = to;
  }
  return `Empty path`;
}

/** The field of an entity that points at the entity itself (a department's parent): what a tree dimension climbs. */
export function parentField(all: DocumentSet, registry: RegistryView, entity: string): string | undefined {
  return all.get<EntityDoc>('entity', entity)?.fields.find((f) => targetOf(f, f.name, registry) === entity)?.name;
}
