/**
 * The `workflow` kind: a state machine over a picklist field of an entity — transitions with guards,
 * roles, inputs and actions, timers, auto-advance. Compiled by ./compile.ts (an xstate machine), run by
 * ./service.ts. Also the checks of action lists, which approvals and automations share.
 */
import { pointer, type ErrorDetail } from '../errors.js';
import type { ActionDoc, DocumentKindDefinition, DocumentSet, MetadataDocument, RegistryView } from '../registry/types.js';
import { checkRule } from '../rules/check.js';
import type { DictionaryDoc } from '../model/kinds/dictionary.js';
import type { EntityDoc } from '../model/kinds/entity.js';
import { loadSchema } from '../model/kinds/load-schema.js';
import { SYSTEM_FIELDS } from '../model/system-fields.js';
import { compileWorkflow } from './compile.js';

/** An action as written in a document (a transition's, a state's, an approval's, an automation's). */
export type WorkflowAction = ActionDoc;
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
  states: Record<
    string,
    {
      type?: 'final';
      on?: Record<string, WorkflowTransition>;
      entry?: WorkflowAction[];
      exit?: WorkflowAction[];
      timers?: WorkflowTimer[];
      autoAdvance?: AutoAdvance;
    }
  >;
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
/**
 * Checks a list of actions against the registry: known types, each action's own checks, and the
 * optional `when` every action may carry. `sideEffectsOnly` refuses actions that change the record
 * itself (automations run after the write).
 */
export function checkActionList(
  actions: WorkflowAction[] | undefined,
  path: string,
  registry: RegistryView,
  ctx: { entity: EntityDoc; all: DocumentSet; fields: ReadonlySet<string> },
  sideEffectsOnly = false,
): ErrorDetail[] {
  const errors: ErrorDetail[] = [];
  (actions ?? []).forEach((action, i) => {
    const at = `${path}/${i}`;
    const definition = registry.action(action.type);
    if (!definition)
      return errors.push({
        path: `${at}/type`,
        code: 'unknown_action',
        message: `No action "${action.type}"; known: ${registry
          .actions()
          .map((a) => a.type)
          .join(', ')}`,
      });
    if (!sideEffectsOnly && definition.automationOnly)
      return errors.push({ path: `${at}/type`, code: 'invalid_action', message: `"${action.type}" is for automations only` });
    if (sideEffectsOnly && !definition.run)
      return errors.push({
        path: `${at}/type`,
        code: 'invalid_action',
        message: `"${action.type}" changes the record itself; automations run after the write and take side-effect actions (create_record, notify …)`,
      });
    if (action.when !== undefined)
      errors.push(...checkRule(action.when, { fields: ctx.fields, allowContext: true, path: `${at}/when` }).errors);
    for (const e of definition.check?.(action, ctx) ?? []) errors.push({ ...e, path: at + e.path });
  });
  return errors;
}

export const workflowKind: DocumentKindDefinition = {
  kind: 'workflow',
  schema: () => loadSchema(import.meta.url, './workflow.schema.json'),
  compile: (doc) => compileWorkflow(doc as WorkflowDoc),
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
  if (field?.type !== 'picklist') {
    return [
      { path: '/stateField', code: 'invalid_state_field', message: `"${wf.stateField}" is not a picklist field of ${wf.entity}` },
    ];
  }
  const values = new Set(all.get<DictionaryDoc>('dictionary', String(field.dictionary))?.items.map((i) => i.value) ?? []);
  const fields = new Set([...SYSTEM_FIELDS, ...entity.fields.map((f) => f.name)]);
  const states = Object.keys(wf.states);
  for (const state of states) {
    if (!values.has(state))
      errors.push({
        path: pointer('states', state),
        code: 'unknown_state',
        message: `"${state}" is not a value of the ${field.dictionary} dictionary`,
      });
  }
  if (!wf.states[wf.initial])
    errors.push({
      path: '/initial',
      code: 'unknown_state',
      message: `The initial state "${wf.initial}" is not one of the states`,
    });
  if (wf.appliesWhen !== undefined)
    errors.push(...checkRule(wf.appliesWhen, { fields, allowContext: false, path: '/appliesWhen' }).errors);
  const roleNames = new Set(all.all('role').map((r) => r.name));
  const checkActions = (actions: WorkflowAction[] | undefined, path: string) =>
    errors.push(...checkActionList(actions, path, registry, { entity, all, fields }));
  for (const [state, node] of Object.entries(wf.states)) {
    const on = Object.entries(node.on ?? {});
    if (node.type === 'final' && on.length)
      errors.push({
        path: pointer('states', state, 'on'),
        code: 'final_with_transitions',
        message: `The final state "${state}" cannot have transitions`,
      });
    if (node.type !== 'final' && !on.length)
      errors.push({ path: pointer('states', state), code: 'dead_end', message: `"${state}" is not final and has no way out` });
    checkActions(node.entry, pointer('states', state, 'entry'));
    if (node.autoAdvance) {
      const { event, related, all: every } = node.autoAdvance;
      const at = (...p: string[]) => pointer('states', state, 'autoAdvance', ...p);
      if (!node.on?.[event])
        errors.push({ path: at('event'), code: 'unknown_event', message: `"${event}" is not a transition of "${state}"` });
      const other = all.get<EntityDoc>('entity', related.entity);
      if (!other)
        errors.push({
          path: at('related', 'entity'),
          code: 'unknown_entity',
          message: `Entity "${related.entity}" does not exist`,
        });
      else {
        const via = other.fields.find((f) => f.name === related.via);
        if (via?.type !== 'reference' || via.to !== wf.entity)
          errors.push({
            path: at('related', 'via'),
            code: 'invalid_reference_field',
            message: `"${related.via}" is not a reference from ${related.entity} to ${wf.entity}`,
          });
        const otherFields = new Set([...SYSTEM_FIELDS, ...other.fields.map((f) => f.name)]);
        if (related.where !== undefined)
          errors.push(
            ...checkRule(related.where, { fields: otherFields, allowContext: false, path: at('related', 'where') }).errors,
          );
        errors.push(...checkRule(every, { fields: otherFields, allowContext: false, path: at('all') }).errors);
      }
    }
    (node.timers ?? []).forEach((timer, i) => {
      if (!node.on?.[timer.event])
        errors.push({
          path: pointer('states', state, 'timers', i, 'event'),
          code: 'unknown_event',
          message: `"${timer.event}" is not a transition of "${state}"`,
        });
      const at = entity.fields.find((f) => f.name === timer.at);
      // A date or datetime field, or a formula giving one (a deadline computed from the record).
      if (
        timer.at !== undefined &&
        !['date', 'datetime'].includes((at?.type === 'formula' ? String(at.returns) : at?.type) ?? '')
      ) {
        errors.push({
          path: pointer('states', state, 'timers', i, 'at'),
          code: 'invalid_timer_field',
          message: `"${timer.at}" is not a date or datetime field of ${wf.entity}`,
        });
      }
    });
    checkActions(node.exit, pointer('states', state, 'exit'));
    for (const [event, t] of on) {
      const at = (...p: string[]) => pointer('states', state, 'on', event, ...p);
      if (!wf.states[t.target])
        errors.push({ path: at('target'), code: 'unknown_state', message: `Target "${t.target}" is not one of the states` });
      if (t.guard !== undefined) errors.push(...checkRule(t.guard, { fields, allowContext: true, path: at('guard') }).errors);
      (t.roles ?? []).forEach((r, i) => {
        if (!roleNames.has(r))
          errors.push({ path: at('roles', String(i)), code: 'unknown_role', message: `Role "${r}" does not exist` });
      });
      checkActions(t.actions, at('actions'));
      // Input properties carry their form labels: `label` / `help` are { en, zh-CN } (engine/workflow/input-form.ts).
      for (const [name, p] of Object.entries((t.input?.properties ?? {}) as Record<string, Record<string, unknown>>)) {
        for (const key of ['label', 'help'] as const) {
          const text = p?.[key] as Record<string, unknown> | undefined;
          if (text !== undefined && !(typeof text?.en === 'string' && typeof text?.['zh-CN'] === 'string'))
            errors.push({
              path: at('input', 'properties', name, key),
              code: 'invalid_label',
              message: `"${key}" of an input property is { "en": …, "zh-CN": … }`,
            });
        }
      }
      (t.checks ?? []).forEach((check, i) => {
        const target = all.get<EntityDoc>('entity', check.entity);
        if (!target)
          return errors.push({
            path: at('checks', String(i), 'entity'),
            code: 'unknown_entity',
            message: `Entity "${check.entity}" does not exist`,
          });
        const targetFields = new Set([...SYSTEM_FIELDS, ...target.fields.map((f) => f.name)]);
        errors.push(
          ...checkRule(check.filter, { fields: targetFields, allowContext: true, path: at('checks', String(i), 'filter') })
            .errors,
        );
        if (check.when !== undefined)
          errors.push(...checkRule(check.when, { fields, allowContext: true, path: at('checks', String(i), 'when') }).errors);
      });
    }
  }
  // Reachability from the initial state.
  if (wf.states[wf.initial]) {
    const seen = new Set([wf.initial]);
    const queue = [wf.initial];
    while (queue.length) {
      for (const t of Object.values(wf.states[queue.shift()!]?.on ?? {})) {
        if (wf.states[t.target] && !seen.has(t.target)) {
          seen.add(t.target);
          queue.push(t.target);
        }
      }
    }
    for (const state of states)
      if (!seen.has(state))
        errors.push({
          path: pointer('states', state),
          code: 'unreachable_state',
          message: `"${state}" cannot be reached from "${wf.initial}"`,
        });
  }
  return errors;
}
