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
import { templateProblems } from '../engine/templates/render.js';
import cronParser from 'cron-parser';
import { isTimeZone } from '../engine/model/time-zone.js';


const require = createRequire(import.meta.url);
export const commonSchema = require('./schemas/common.schema.json') as JsonSchema;
const appSchema = require('./schemas/app.schema.json') as JsonSchema;
const dictionarySchema = require('./schemas/dictionary.schema.json') as JsonSchema;
const entitySchema = require('./schemas/entity.schema.json') as JsonSchema;
const roleSchema = require('./schemas/role.schema.json') as JsonSchema;
const workflowSchema = require('./schemas/workflow.schema.json') as JsonSchema;
const templateSchema = require('./schemas/template.schema.json') as JsonSchema;
const automationSchema = require('./schemas/automation.schema.json') as JsonSchema;
const approvalSchema = require('./schemas/approval.schema.json') as JsonSchema;

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
export interface WorkflowAction {
  type: string;
  [option: string]: unknown;
}
export interface WorkflowTransition {
  target: string;
  label?: { en: string; 'zh-CN': string };
  guard?: unknown;
  guardMessage?: { en: string; 'zh-CN': string };
  roles?: string[];
  input?: Record<string, unknown>;
  actions?: WorkflowAction[];
  checks?: TransitionCheck[];
}
/** Refuses a transition when a record of `entity` matches `filter` (duplicate checks, 撞单). */
export interface TransitionCheck {
  entity: string;
  filter: unknown;
  when?: unknown;
  code?: string;
  message: { en: string; 'zh-CN': string };
}
export interface WorkflowDoc extends MetadataDocument {
  entity: string;
  stateField: string;
  appliesWhen?: unknown;
  initial: string;
  states: Record<string, { type?: 'final'; on?: Record<string, WorkflowTransition>; entry?: WorkflowAction[]; exit?: WorkflowAction[]; timers?: WorkflowTimer[]; autoAdvance?: AutoAdvance }>;
}
/** An event the engine fires by itself when every related record counted (milestone tasks) is done. */
export interface AutoAdvance {
  event: string;
  related: { entity: string; via: string; where?: unknown };
  all: unknown;
}
/** An event the engine fires by itself, a while after the state was entered or at a date of the record. */
export interface WorkflowTimer {
  event: string;
  after?: string;
  at?: string;
  offset?: string;
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
    placeholder: { $ref: 'common.schema.json#/$defs/text' },
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

export interface TemplateDoc extends MetadataDocument {
  entity?: string;
  subject: { en: string; 'zh-CN': string };
  body: { en: string; 'zh-CN': string };
}

export const templateKind: DocumentKindDefinition = {
  kind: 'template',
  schema: () => templateSchema,
  check: (doc, all) => {
    const t = doc as TemplateDoc;
    const errors: ErrorDetail[] = [];
    if (t.entity !== undefined && !all.get('entity', t.entity)) errors.push({ path: '/entity', code: 'unknown_entity', message: `Entity "${t.entity}" does not exist` });
    for (const part of ['subject', 'body'] as const) for (const lang of ['en', 'zh-CN'] as const) errors.push(...templateProblems(t[part][lang], pointer(part, lang)));
    return errors;
  },
};

export interface AutomationDoc extends MetadataDocument {
  entity: string;
  trigger: { created?: true; updated?: true; fieldChanged?: string[]; stateEntered?: string; schedule?: { cron: string; timeZone?: string } };
  condition?: unknown;
  actions: WorkflowAction[];
}

export const automationKind: DocumentKindDefinition = {
  kind: 'automation',
  schema: () => automationSchema,
  check: (doc, all, registry) => {
    const a = doc as AutomationDoc;
    const entity = all.get<EntityDoc>('entity', a.entity);
    if (!entity) return [{ path: '/entity', code: 'unknown_entity', message: `Entity "${a.entity}" does not exist` }];
    const errors: ErrorDetail[] = [];
    const fields = new Set([...SYSTEM_FIELDS, ...entity.fields.map((f) => f.name)]);
    (a.trigger.fieldChanged ?? []).forEach((f, i) => {
      if (!fields.has(f)) errors.push({ path: pointer('trigger', 'fieldChanged', i), code: 'unknown_field', message: `"${f}" is not a field of ${a.entity}` });
    });
    if (a.trigger.stateEntered !== undefined) {
      const states = all.all<WorkflowDoc>('workflow').filter((w) => w.entity === a.entity).flatMap((w) => Object.keys(w.states));
      if (!states.includes(a.trigger.stateEntered)) errors.push({ path: '/trigger/stateEntered', code: 'unknown_state', message: `No workflow of ${a.entity} has a state "${a.trigger.stateEntered}"` });
    }
    if (a.trigger.schedule) {
      const { cron, timeZone } = a.trigger.schedule;
      if (cron.trim().split(/\s+/).length !== 5) errors.push({ path: '/trigger/schedule/cron', code: 'invalid_cron', message: `"${cron}" is not a five-field cron expression (minute hour day month weekday)` });
      else {
        try {
          cronParser.parseExpression(cron, { tz: timeZone ?? 'UTC' });
        } catch (e) {
          errors.push({ path: '/trigger/schedule/cron', code: 'invalid_cron', message: `"${cron}": ${(e as Error).message}` });
        }
      }
      if (timeZone !== undefined && !isTimeZone(timeZone)) errors.push({ path: '/trigger/schedule/timeZone', code: 'invalid_time_zone', message: `Unknown time zone "${timeZone}"` });
    }
    if (a.condition !== undefined) errors.push(...checkRule(a.condition, { fields: new Set([...fields, '$old']), allowContext: true, path: '/condition' }).errors);
    errors.push(...checkActionList(a.actions, '/actions', registry, { entity, all, fields }, true));
    return errors;
  },
};

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

/**
 * Checks a list of actions against the registry: known types, each action's own checks, and the
 * optional `when` every action may carry. `sideEffectsOnly` refuses actions that change the record
 * itself (automations run after the write).
 */
function checkActionList(actions: WorkflowAction[] | undefined, path: string, registry: RegistryView, ctx: { entity: EntityDoc; all: DocumentSet; fields: ReadonlySet<string> }, sideEffectsOnly = false): ErrorDetail[] {
  const errors: ErrorDetail[] = [];
  (actions ?? []).forEach((action, i) => {
    const at = `${path}/${i}`;
    const definition = registry.action(action.type);
    if (!definition) return errors.push({ path: `${at}/type`, code: 'unknown_action', message: `No action "${action.type}"; known: ${registry.actions().map((a) => a.type).join(', ')}` });
    if (!sideEffectsOnly && definition.automationOnly) return errors.push({ path: `${at}/type`, code: 'invalid_action', message: `"${action.type}" is for automations only` });
    if (sideEffectsOnly && !definition.run) return errors.push({ path: `${at}/type`, code: 'invalid_action', message: `"${action.type}" changes the record itself; automations run after the write and take side-effect actions (create_record, notify …)` });
    if (action.when !== undefined) errors.push(...checkRule(action.when, { fields: ctx.fields, allowContext: true, path: `${at}/when` }).errors);
    for (const e of definition.check?.(action, ctx) ?? []) errors.push({ ...e, path: at + e.path });
  });
  return errors;
}

export const approvalKind: DocumentKindDefinition = {
  kind: 'approval',
  schema: () => approvalSchema,
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
  if (other) errors.push({ path: '/entity', code: 'duplicate_approval', message: `${ap.entity} already has the approval "${other.name}"; an entity has one approval process (use step criteria for variants)` });
  const fields = new Set([...SYSTEM_FIELDS, ...entity.fields.map((f) => f.name)]);
  const roleNames = new Set(all.all('role').map((r) => r.name));
  if (ap.statusField !== undefined) {
    const field = entity.fields.find((f) => f.name === ap.statusField);
    const values = new Set(all.get<DictionaryDoc>('dictionary', String(field?.dictionary))?.items.map((i) => i.value) ?? []);
    if (field?.type !== 'picklist') errors.push({ path: '/statusField', code: 'invalid_status_field', message: `"${ap.statusField}" is not a picklist field of ${ap.entity}` });
    else {
      const missing = APPROVAL_STATUSES.filter((v) => !values.has(v));
      if (missing.length) errors.push({ path: '/statusField', code: 'invalid_status_field', message: `The ${field.dictionary} dictionary lacks the approval statuses ${missing.join(', ')}` });
    }
    const workflowField = all.all<WorkflowDoc>('workflow').find((w) => w.entity === ap.entity && w.stateField === ap.statusField);
    if (workflowField) errors.push({ path: '/statusField', code: 'invalid_status_field', message: `"${ap.statusField}" is already the state field of the workflow ${workflowField.name}` });
  }
  (ap.fields ?? []).forEach((f, i) => {
    if (!fields.has(f)) errors.push({ path: pointer('fields', i), code: 'unknown_field', message: `"${f}" is not a field of ${ap.entity}` });
  });
  if (ap.entryCriteria !== undefined) errors.push(...checkRule(ap.entryCriteria, { fields, allowContext: true, path: '/entryCriteria' }).errors);
  const checkRoles = (roles: string[] | undefined, path: string) =>
    (roles ?? []).forEach((r, i) => {
      if (!roleNames.has(r)) errors.push({ path: `${path}/${i}`, code: 'unknown_role', message: `Role "${r}" does not exist` });
    });
  checkRoles(ap.submitters?.roles, '/submitters/roles');
  checkRoles(ap.lock?.roles, '/lock/roles');
  const stepNames = ap.steps.map((s) => s.name);
  for (const name of duplicates(stepNames)) errors.push({ path: pointer('steps', stepNames.lastIndexOf(name), 'name'), code: 'duplicate_step', message: `Step "${name}" is declared twice` });
  ap.steps.forEach((step, i) => {
    const at = (...p: (string | number)[]) => pointer('steps', i, ...p);
    if (step.when !== undefined) errors.push(...checkRule(step.when, { fields, allowContext: true, path: at('when') }).errors);
    const a = step.approvers;
    if (a.type === 'role' && !roleNames.has(a.role)) errors.push({ path: at('approvers', 'role'), code: 'unknown_role', message: `Role "${a.role}" does not exist` });
    if (a.type === 'field') {
      const f = entity.fields.find((x) => x.name === a.field);
      if (!(f?.type === 'reference' && f.to === 'user') && a.field !== 'owner_id') errors.push({ path: at('approvers', 'field'), code: 'invalid_approver_field', message: `"${a.field}" is not a reference-to-user field of ${ap.entity}` });
    }
    if (a.type === 'department_head' && a.departmentsField !== undefined) {
      const f = entity.fields.find((x) => x.name === a.departmentsField);
      if (!(f?.type === 'multipicklist' || f?.type === 'picklist')) errors.push({ path: at('approvers', 'departmentsField'), code: 'invalid_approver_field', message: `"${a.departmentsField}" is not a picklist of department codes of ${ap.entity}` });
    }
    if (step.mode === 'percent' && step.percent === undefined) errors.push({ path: at('percent'), code: 'required', message: 'mode percent needs "percent"' });
    if (step.onReject === 'previous' && i === 0) errors.push({ path: at('onReject'), code: 'invalid_option', message: 'The first step has no previous step; use "submitter" or "final"' });
  });
  for (const outcome of APPROVAL_OUTCOMES) errors.push(...checkActionList(ap.actions?.[outcome], pointer('actions', outcome), registry, { entity, all, fields }));
  return errors;
}

export const workflowKind: DocumentKindDefinition = {
  kind: 'workflow',
  schema: () => workflowSchema,
  check: (doc, all, registry) => checkWorkflow(doc as WorkflowDoc, all, registry),
};

/**
 * A workflow must be a sound machine over real metadata: states that are values of the state field's
 * dictionary, every state reachable from the initial one, a way out of every non-final state, guards
 * and actions that name real fields, roles that exist, actions the registry knows.
 */
function checkWorkflow(wf: WorkflowDoc, all: DocumentSet, registry: RegistryView): ErrorDetail[] {
  const errors: ErrorDetail[] = [];
  const entity = all.get<EntityDoc>('entity', wf.entity);
  if (!entity) return [{ path: '/entity', code: 'unknown_entity', message: `Entity "${wf.entity}" does not exist` }];
  const field = entity.fields.find((f) => f.name === wf.stateField);
  if (!field || field.type !== 'picklist') {
    return [{ path: '/stateField', code: 'invalid_state_field', message: `"${wf.stateField}" is not a picklist field of ${wf.entity}` }];
  }
  const values = new Set(all.get<DictionaryDoc>('dictionary', String(field.dictionary))?.items.map((i) => i.value) ?? []);
  const fields = new Set([...SYSTEM_FIELDS, ...entity.fields.map((f) => f.name)]);
  const states = Object.keys(wf.states);
  for (const state of states) {
    if (!values.has(state)) errors.push({ path: pointer('states', state), code: 'unknown_state', message: `"${state}" is not a value of the ${field.dictionary} dictionary` });
  }
  if (!wf.states[wf.initial]) errors.push({ path: '/initial', code: 'unknown_state', message: `The initial state "${wf.initial}" is not one of the states` });
  if (wf.appliesWhen !== undefined) errors.push(...checkRule(wf.appliesWhen, { fields, allowContext: false, path: '/appliesWhen' }).errors);
  const roleNames = new Set(all.all('role').map((r) => r.name));
  const checkActions = (actions: WorkflowAction[] | undefined, path: string) => errors.push(...checkActionList(actions, path, registry, { entity, all, fields }));
  for (const [state, node] of Object.entries(wf.states)) {
    const on = Object.entries(node.on ?? {});
    if (node.type === 'final' && on.length) errors.push({ path: pointer('states', state, 'on'), code: 'final_with_transitions', message: `The final state "${state}" cannot have transitions` });
    if (node.type !== 'final' && !on.length) errors.push({ path: pointer('states', state), code: 'dead_end', message: `"${state}" is not final and has no way out` });
    checkActions(node.entry, pointer('states', state, 'entry'));
    if (node.autoAdvance) {
      const { event, related, all: every } = node.autoAdvance;
      const at = (...p: string[]) => pointer('states', state, 'autoAdvance', ...p);
      if (!node.on?.[event]) errors.push({ path: at('event'), code: 'unknown_event', message: `"${event}" is not a transition of "${state}"` });
      const other = all.get<EntityDoc>('entity', related.entity);
      if (!other) errors.push({ path: at('related', 'entity'), code: 'unknown_entity', message: `Entity "${related.entity}" does not exist` });
      else {
        const via = other.fields.find((f) => f.name === related.via);
        if (via?.type !== 'reference' || via.to !== wf.entity) errors.push({ path: at('related', 'via'), code: 'invalid_reference_field', message: `"${related.via}" is not a reference from ${related.entity} to ${wf.entity}` });
        const otherFields = new Set([...SYSTEM_FIELDS, ...other.fields.map((f) => f.name)]);
        if (related.where !== undefined) errors.push(...checkRule(related.where, { fields: otherFields, allowContext: false, path: at('related', 'where') }).errors);
        errors.push(...checkRule(every, { fields: otherFields, allowContext: false, path: at('all') }).errors);
      }
    }
    (node.timers ?? []).forEach((timer, i) => {
      if (!node.on?.[timer.event]) errors.push({ path: pointer('states', state, 'timers', i, 'event'), code: 'unknown_event', message: `"${timer.event}" is not a transition of "${state}"` });
      const at = entity.fields.find((f) => f.name === timer.at);
      // A date or datetime field, or a formula giving one (a deadline computed from the record).
      if (timer.at !== undefined && !['date', 'datetime'].includes((at?.type === 'formula' ? String(at.returns) : at?.type) ?? '')) {
        errors.push({ path: pointer('states', state, 'timers', i, 'at'), code: 'invalid_timer_field', message: `"${timer.at}" is not a date or datetime field of ${wf.entity}` });
      }
    });
    checkActions(node.exit, pointer('states', state, 'exit'));
    for (const [event, t] of on) {
      const at = (...p: string[]) => pointer('states', state, 'on', event, ...p);
      if (!wf.states[t.target]) errors.push({ path: at('target'), code: 'unknown_state', message: `Target "${t.target}" is not one of the states` });
      if (t.guard !== undefined) errors.push(...checkRule(t.guard, { fields, allowContext: true, path: at('guard') }).errors);
      (t.roles ?? []).forEach((r, i) => {
        if (!roleNames.has(r)) errors.push({ path: at('roles', String(i)), code: 'unknown_role', message: `Role "${r}" does not exist` });
      });
      checkActions(t.actions, at('actions'));
      (t.checks ?? []).forEach((check, i) => {
        const target = all.get<EntityDoc>('entity', check.entity);
        if (!target) return errors.push({ path: at('checks', String(i), 'entity'), code: 'unknown_entity', message: `Entity "${check.entity}" does not exist` });
        const targetFields = new Set([...SYSTEM_FIELDS, ...target.fields.map((f) => f.name)]);
        errors.push(...checkRule(check.filter, { fields: targetFields, allowContext: true, path: at('checks', String(i), 'filter') }).errors);
        if (check.when !== undefined) errors.push(...checkRule(check.when, { fields, allowContext: true, path: at('checks', String(i), 'when') }).errors);
      });
    }
  }
  // Reachability from the initial state.
  if (wf.states[wf.initial]) {
    const seen = new Set([wf.initial]);
    const queue = [wf.initial];
    while (queue.length) {
      for (const t of Object.values(wf.states[queue.shift()!]?.on ?? {})) if (wf.states[t.target] && !seen.has(t.target)) seen.add(t.target), queue.push(t.target);
    }
    for (const state of states) if (!seen.has(state)) errors.push({ path: pointer('states', state), code: 'unreachable_state', message: `"${state}" cannot be reached from "${wf.initial}"` });
  }
  return errors;
}

/**
 * Users and departments are ordinary entities that admins may extend, but the engine reads these
 * fields (logins, scopes, delegation): they must stay, with these types.
 */
const ENGINE_FIELDS: Record<string, Record<string, string>> = {
  user: { username: 'text', display_name: 'text', department: 'reference', manager: 'reference', employment_status: 'picklist', roles: 'roles' },
  department: { name: 'text', parent: 'reference' },
};

/** Validators for field defaults, compiled once per value schema (deploys check every entity). */
const defaultsAjv = new Ajv2020({ strict: false, allErrors: true });
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
      errors.push({ path: '/fields', code: 'engine_field_required', message: `The ${entity.name} entity must keep its field "${name}" of type ${type}: the engine relies on it` });
    }
  }
  const names = entity.fields.map((f) => f.name);
  const fieldNames = new Set(names);
  const ctx = { ...fieldTypeContext(all), fieldNames };

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
      const validate = defaultValidator(type.valueSchema(field, ctx));
      if (!validate(field.default)) {
        errors.push({ path: at('/default'), code: 'invalid_default', message: `Default value does not fit the field: ${defaultsAjv.errorsText(validate.errors)}` });
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
