/**
 * The `role` kind: what a role may do — per entity and action a scope (own, department, …, or a
 * json-logic condition), and field allowlists. engine/access/policy.ts turns roles into SQL conditions.
 */
import { pointer, type ErrorDetail } from '../errors.js';
import type { DocumentKindDefinition, DocumentSet, MetadataDocument } from '../registry/types.js';
import { checkRule } from '../rules/check.js';
import type { EntityDoc } from '../model/kinds/entity.js';
import { loadSchema } from '../model/kinds/load-schema.js';
import { SYSTEM_FIELDS } from '../model/system-fields.js';

export type Scope = 'none' | 'own' | 'department' | 'department_tree' | 'all' | { when: unknown };
export const ACTIONS = ['read', 'create', 'update', 'delete', 'export', 'import', 'assign', 'share', 'print'] as const;
export type Action = (typeof ACTIONS)[number];
export interface Grant extends Partial<Record<Action, Scope | Scope[]>> {
  entity: string;
  fields?: { read?: string[]; write?: string[] };
}
export interface RoleDoc extends MetadataDocument {
  system?: string[];
  grants: Grant[];
}

export const roleKind: DocumentKindDefinition = {
  kind: 'role',
  schema: () => loadSchema(import.meta.url, './role.schema.json'),
  check: (doc, all) => checkRole(doc as RoleDoc, all),
};

function checkRole(role: RoleDoc, all: DocumentSet): ErrorDetail[] {
  const errors: ErrorDetail[] = [];
  role.grants.forEach((grant, i) => {
    const at = (...p: (string | number)[]) => pointer('grants', i, ...p);
    const entities =
      grant.entity === '*'
        ? all.all<EntityDoc>('entity')
        : [all.get<EntityDoc>('entity', grant.entity)].filter((e): e is EntityDoc => Boolean(e));
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
        if (!fieldNames.has(f))
          errors.push({
            path: at('fields', list, j),
            code: 'unknown_field',
            message: `"${f}" is not a field of ${grant.entity}`,
          });
      });
    }
    for (const action of ACTIONS) {
      const given = grant[action];
      // Several scopes (an array) are OR-ed: "department" plus the records that list me as a participant.
      (Array.isArray(given) ? given : [given]).forEach((scope, k) => {
        if (scope && typeof scope === 'object') {
          const fields = new Set([...SYSTEM_FIELDS, ...(grant.entity === '*' ? [] : fieldNames)]);
          const path = Array.isArray(given) ? at(action, String(k), 'when') : at(action, 'when');
          errors.push(...checkRule(scope.when, { fields, allowContext: true, noPaths: true, path }).errors);
        }
      });
    }
  });
  return errors;
}
