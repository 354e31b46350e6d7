/**
 * The `approval` kind: an approval process (审批流程) over an entity's records — steps, approvers,
 * locks, outcome actions. Compiled by ./compile.ts, run by ./service.ts.
 */
import { pointer, type ErrorDetail } from '../errors.js';
import type { DocumentKindDefinition, DocumentSet, MetadataDocument, RegistryView } from '../registry/types.js';
import { checkRule } from '../rules/check.js';
import type { DictionaryDoc } from '../model/kinds/dictionary.js';
import type { EntityDoc } from '../model/kinds/entity.js';
import { duplicates } from '../model/kinds/field.js';
import { loadSchema } from '../model/kinds/load-schema.js';
import { SYSTEM_FIELDS } from '../model/system-fields.js';
import { checkActionList, type WorkflowAction, type WorkflowDoc } from '../workflow/kind.js';

export type ApproverSpec =
  | { type: 'users'; users: string[] }
  | { type: 'role'; role: string }
  | { type: 'manager' }
  | { type: 'manager_chain'; levels: number }
  | { type: 'field'; field: string }
  | { type: 'department_head'; department?: string; departmentsField?: string };
export interface ApprovalStep {
  name: string;
  label: { en: string; 'zh-CN': string };
  when?: unknown;
  approvers: ApproverSpec;
  mode?: 'first' | 'any' | 'all' | 'percent';
  percent?: number;
  onReject?: 'final' | 'previous' | 'submitter';
  escalation?: { after: string };
  reminder?: { after: string };
}
export const APPROVAL_OUTCOMES = ['submit', 'approve', 'reject', 'recall'] as const;
/** The values an approval's status field takes. */
export const APPROVAL_STATUSES = ['pending', 'approved', 'rejected', 'returned', 'recalled'] as const;
export interface ApprovalDoc extends MetadataDocument {
  entity: string;
  statusField?: string;
  /** What approvers see of the record through their open task (Salesforce's approval page fields). */
  fields?: string[];
  entryCriteria?: unknown;
  entryMessage?: { en: string; 'zh-CN': string };
  submitters?: { owner?: boolean; roles?: string[] };
  lock?: { enabled?: boolean; approvers?: boolean; roles?: string[] };
  steps: ApprovalStep[];
  actions?: Partial<Record<(typeof APPROVAL_OUTCOMES)[number], WorkflowAction[]>>;
}

export const approvalKind: DocumentKindDefinition = {
  kind: 'approval',
  schema: () => loadSchema(import.meta.url, './approval.schema.json'),
  check: (doc, all, registry) => checkApproval(doc as ApprovalDoc, all, registry),
};

/**
 * An approval must name real things: its entity, a status picklist holding the status values, fields
 * of the record in criteria, roles and user fields of approvers, actions the registry knows; one
 * approval per entity (submit and the lock would not know which), and steps named once.
 */
function checkApproval(ap: ApprovalDoc, all: DocumentSet, registry: RegistryView): ErrorDetail[] {
  const entity = all.get<EntityDoc>('entity', ap.entity);
  if (!entity) return [{ path: '/entity', code: 'unknown_entity', message: `Entity "${ap.entity}" does not exist` }];
  const errors: ErrorDetail[] = [];
  const other = all.all<ApprovalDoc>('approval').find((a) => a.entity === ap.entity && a.name !== ap.name);
  if (other)
    errors.push({
      path: '/entity',
      code: 'duplicate_approval',
      message: `${ap.entity} already has the approval "${other.name}"; an entity has one approval process (use step criteria for variants)`,
    });
  const fields = new Set([...SYSTEM_FIELDS, ...entity.fields.map((f) => f.name)]);
  const roleNames = new Set(all.all('role').map((r) => r.name));
  if (ap.statusField !== undefined) {
    const field = entity.fields.find((f) => f.name === ap.statusField);
    const values = new Set(all.get<DictionaryDoc>('dictionary', String(field?.dictionary))?.items.map((i) => i.value) ?? []);
    if (field?.type !== 'picklist')
      errors.push({
        path: '/statusField',
        code: 'invalid_status_field',
        message: `"${ap.statusField}" is not a picklist field of ${ap.entity}`,
      });
    else {
      const missing = APPROVAL_STATUSES.filter((v) => !values.has(v));
      if (missing.length)
        errors.push({
          path: '/statusField',
          code: 'invalid_status_field',
          message: `The ${field.dictionary} dictionary lacks the approval statuses ${missing.join(', ')}`,
        });
    }
    const workflowField = all.all<WorkflowDoc>('workflow').find((w) => w.entity === ap.entity && w.stateField === ap.statusField);
    if (workflowField)
      errors.push({
        path: '/statusField',
        code: 'invalid_status_field',
        message: `"${ap.statusField}" is already the state field of the workflow ${workflowField.name}`,
      });
  }
  (ap.fields ?? []).forEach((f, i) => {
    if (!fields.has(f))
      errors.push({ path: pointer('fields', i), code: 'unknown_field', message: `"${f}" is not a field of ${ap.entity}` });
  });
  if (ap.entryCriteria !== undefined)
    errors.push(...checkRule(ap.entryCriteria, { fields, allowContext: true, path: '/entryCriteria' }).errors);
  const checkRoles = (roles: string[] | undefined, path: string) =>
    (roles ?? []).forEach((r, i) => {
      if (!roleNames.has(r)) errors.push({ path: `${path}/${i}`, code: 'unknown_role', message: `Role "${r}" does not exist` });
    });
  checkRoles(ap.submitters?.roles, '/submitters/roles');
  checkRoles(ap.lock?.roles, '/lock/roles');
  const stepNames = ap.steps.map((s) => s.name);
  for (const name of duplicates(stepNames))
    errors.push({
      path: pointer('steps', stepNames.lastIndexOf(name), 'name'),
      code: 'duplicate_step',
      message: `Step "${name}" is declared twice`,
    });
  ap.steps.forEach((step, i) => {
    const at = (...p: (string | number)[]) => pointer('steps', i, ...p);
    if (step.when !== undefined) errors.push(...checkRule(step.when, { fields, allowContext: true, path: at('when') }).errors);
    const a = step.approvers;
    if (a.type === 'role' && !roleNames.has(a.role))
      errors.push({ path: at('approvers', 'role'), code: 'unknown_role', message: `Role "${a.role}" does not exist` });
    if (a.type === 'field') {
      const f = entity.fields.find((x) => x.name === a.field);
      if (!(f?.type === 'reference' && f.to === 'user') && a.field !== 'owner_id')
        errors.push({
          path: at('approvers', 'field'),
          code: 'invalid_approver_field',
          message: `"${a.field}" is not a reference-to-user field of ${ap.entity}`,
        });
    }
    if (a.type === 'department_head' && a.departmentsField !== undefined) {
      const f = entity.fields.find((x) => x.name === a.departmentsField);
      if (!(f?.type === 'multipicklist' || f?.type === 'picklist'))
        errors.push({
          path: at('approvers', 'departmentsField'),
          code: 'invalid_approver_field',
          message: `"${a.departmentsField}" is not a picklist of department codes of ${ap.entity}`,
        });
    }
    if (step.mode === 'percent' && step.percent === undefined)
      errors.push({ path: at('percent'), code: 'required', message: 'mode percent needs "percent"' });
    if (step.onReject === 'previous' && i === 0)
      errors.push({
        path: at('onReject'),
        code: 'invalid_option',
        message: 'The first step has no previous step; use "submitter" or "final"',
      });
  });
  for (const outcome of APPROVAL_OUTCOMES)
    errors.push(...checkActionList(ap.actions?.[outcome], pointer('actions', outcome), registry, { entity, all, fields }));
  return errors;
}
