/**
 * The `automation` kind: side-effect actions when a record is created or changed, enters a state, or on
 * a schedule (cron). Run by engine/data/automate.ts (record changes) and ./schedule.ts (schedules).
 */
import cronParser from 'cron-parser';
import { pointer, type ErrorDetail } from '../errors.js';
import type { DocumentKindDefinition, MetadataDocument } from '../registry/types.js';
import { checkRule } from '../rules/check.js';
import type { EntityDoc } from '../model/kinds/entity.js';
import { loadSchema } from '../model/kinds/load-schema.js';
import { checkLookups, type Lookup } from './lookups.js';
import { SYSTEM_FIELDS } from '../model/system-fields.js';
import { isTimeZone } from '../model/time-zone.js';
import { checkActionList, type WorkflowAction, type WorkflowDoc } from '../workflow/kind.js';

export interface AutomationDoc extends MetadataDocument {
  entity: string;
  trigger: {
    created?: true;
    updated?: true;
    /** Before a record is deleted (moved to the recycle bin); records a cascade bins are not included. */
    deleted?: true;
    fieldChanged?: string[];
    stateEntered?: string;
    schedule?: { cron: string; timeZone?: string };
  };
  condition?: unknown;
  /** Aggregates over related records, read by the condition and actions as $lookup.<name> (./lookups.ts). */
  lookups?: Record<string, Lookup>;
  actions: WorkflowAction[];
}

export const automationKind: DocumentKindDefinition = {
  kind: 'automation',
  schema: () => loadSchema(import.meta.url, './automation.schema.json'),
  check: (doc, all, registry) => {
    const a = doc as AutomationDoc;
    const entity = all.get<EntityDoc>('entity', a.entity);
    if (!entity) return [{ path: '/entity', code: 'unknown_entity', message: `Entity "${a.entity}" does not exist` }];
    const errors: ErrorDetail[] = [];
    const fields = new Set([...SYSTEM_FIELDS, ...entity.fields.map((f) => f.name)]);
    (a.trigger.fieldChanged ?? []).forEach((f, i) => {
      if (!fields.has(f))
        errors.push({
          path: pointer('trigger', 'fieldChanged', i),
          code: 'unknown_field',
          message: `"${f}" is not a field of ${a.entity}`,
        });
    });
    if (a.trigger.stateEntered !== undefined) {
      const states = all
        .all<WorkflowDoc>('workflow')
        .filter((w) => w.entity === a.entity)
        .flatMap((w) => Object.keys(w.states));
      if (!states.includes(a.trigger.stateEntered))
        errors.push({
          path: '/trigger/stateEntered',
          code: 'unknown_state',
          message: `No workflow of ${a.entity} has a state "${a.trigger.stateEntered}"`,
        });
    }
    if (a.trigger.schedule && Object.keys(a.trigger).length > 1)
      errors.push({
        path: '/trigger',
        code: 'invalid_trigger',
        message: 'A schedule is a trigger on its own: put record events in another automation',
      });
    if (a.trigger.deleted)
      a.actions.forEach((action, i) => {
        if (action.type === 'fire')
          errors.push({
            path: pointer('actions', i, 'type'),
            code: 'invalid_action',
            message: 'A record being deleted cannot take a workflow transition: refuse the delete or tell someone instead',
          });
      });
    if (a.trigger.schedule) {
      const { cron, timeZone } = a.trigger.schedule;
      if (cron.trim().split(/\s+/).length !== 5)
        errors.push({
          path: '/trigger/schedule/cron',
          code: 'invalid_cron',
          message: `"${cron}" is not a five-field cron expression (minute hour day month weekday)`,
        });
      else {
        try {
          cronParser.parseExpression(cron, { tz: timeZone ?? 'UTC' });
        } catch (e) {
          errors.push({ path: '/trigger/schedule/cron', code: 'invalid_cron', message: `"${cron}": ${(e as Error).message}` });
        }
      }
      if (timeZone !== undefined && !isTimeZone(timeZone))
        errors.push({
          path: '/trigger/schedule/timeZone',
          code: 'invalid_time_zone',
          message: `Unknown time zone "${timeZone}"`,
        });
    }
    errors.push(...checkLookups(a.lookups, all));
    if (a.condition !== undefined)
      errors.push(
        ...checkRule(a.condition, { fields: new Set([...fields, '$old']), allowContext: true, path: '/condition' }).errors,
      );
    errors.push(...checkActionList(a.actions, '/actions', registry, { entity, all, fields }, true));
    return errors;
  },
};
