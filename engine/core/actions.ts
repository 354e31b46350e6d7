/**
 * The built-in workflow actions, contributed through the same contract as a plugin's. Values are
 * json-logic expressions over the record, $user, $input and $now (a plain string or number is itself).
 */
import { conflict, pointer, type ErrorDetail } from '../errors.js';
import type { ActionDefinition, FieldDoc } from '../registry/types.js';
import { checkRule } from '../rules/check.js';
import { evaluateRule } from '../rules/evaluate.js';
import { SYSTEM_FIELDS } from '../model/system-fields.js';
import { sql } from 'drizzle-orm';
import { render } from '../templates/render.js';
import { deliver, mail } from '../notifications/inbox.js';
import type { TemplateDoc } from '../templates/kind.js';
import { rowsOf } from '../db/database.js';
import { UUID } from '../model/ids.js';

type Values = Record<string, unknown>;

const evaluateValues = (values: Values, data: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(values).map(([field, expr]) => [field, evaluateRule(expr, data) ?? null]));

function checkValues(
  values: unknown,
  target: { name: string; fields: FieldDoc[] },
  contextFields: ReadonlySet<string>,
): ErrorDetail[] {
  if (!values || typeof values !== 'object' || Array.isArray(values))
    return [{ path: '/values', code: 'invalid_action', message: '"values" must be an object of field → json-logic' }];
  const errors: ErrorDetail[] = [];
  for (const [field, expr] of Object.entries(values)) {
    const f = target.fields.find((x) => x.name === field);
    if (!f && field !== 'owner_id')
      errors.push({
        path: pointer('values', field),
        code: 'unknown_field',
        message: `"${field}" is not a field of ${target.name}`,
      });
    errors.push(...checkRule(expr, { fields: contextFields, allowContext: true, path: pointer('values', field) }).errors);
  }
  return errors;
}

/** The record an action acts on: `record` (json-logic giving an id), by default the acting record. */
const targetId = (action: { [option: string]: unknown }, record: Record<string, unknown>, data: Record<string, unknown>) => {
  const id = action.record === undefined ? record.id : evaluateRule(action.record, data);
  return typeof id === 'string' && UUID.test(id) ? id : undefined;
};

/** The user ids `to` gives (one or a list). */
const userIds = (to: unknown, data: Record<string, unknown>) => {
  const value = evaluateRule(to, data);
  return [...new Set((Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string' && UUID.test(v)))];
};

/**
 * What a share is recorded under (`source`: json-logic giving text, `{"cat": ["sales_team:", {"var": "team"}]}`),
 * so that the matching unshare takes back that share only; undefined when the action names none.
 */
const sourceOf = (action: { [option: string]: unknown }, data: Record<string, unknown>) => {
  if (action.source === undefined) return undefined;
  const value = evaluateRule(action.source, data);
  return value === null || value === undefined ? undefined : String(value);
};

function checkSource(action: { [option: string]: unknown }, ctx: { fields: ReadonlySet<string> }): ErrorDetail[] {
  if (action.source === undefined) return [];
  return checkRule(action.source, { fields: ctx.fields, allowContext: true, path: '/source' }).errors;
}

/** Deploy checks of the actions that act on a record of an entity (share, unshare, assign, update_record). */
function checkTarget(
  action: { type: string; [option: string]: unknown },
  ctx: { entity: { name: string }; all: import('../registry/types.js').DocumentSet; fields: ReadonlySet<string> },
  { entityRequired = false, toRequired = true } = {},
): ErrorDetail[] {
  const errors: ErrorDetail[] = [];
  if (entityRequired && action.entity === undefined)
    errors.push({ path: '/entity', code: 'invalid_action', message: '"entity" is required' });
  else if (action.entity !== undefined && !ctx.all.get('entity', String(action.entity)))
    errors.push({ path: '/entity', code: 'unknown_entity', message: `Entity "${String(action.entity)}" does not exist` });
  if (entityRequired && action.record === undefined)
    errors.push({ path: '/record', code: 'invalid_action', message: '"record" is required: json-logic giving the record id' });
  if (action.record !== undefined)
    errors.push(...checkRule(action.record, { fields: ctx.fields, allowContext: true, path: '/record' }).errors);
  if (toRequired) {
    if (action.to === undefined)
      errors.push({ path: '/to', code: 'invalid_action', message: '"to" is required: json-logic giving a user id (or a list)' });
    else errors.push(...checkRule(action.to, { fields: ctx.fields, allowContext: true, path: '/to' }).errors);
  }
  return errors;
}

/** A `refuse` or `warn` action's code, message in both languages and optional field. */
function checkMessage(action: { [option: string]: unknown }, fields: ReadonlySet<string>): ErrorDetail[] {
  const errors: ErrorDetail[] = [];
  if (typeof action.code !== 'string' || !/^[a-z][a-z0-9_]*$/.test(action.code))
    errors.push({ path: '/code', code: 'invalid_action', message: '"code" must be a lower-case machine-readable code' });
  const m = action.message as Record<string, unknown> | undefined;
  if (!m || typeof m.en !== 'string' || typeof m['zh-CN'] !== 'string')
    errors.push({ path: '/message', code: 'invalid_action', message: '"message" must give "en" and "zh-CN"' });
  if (action.field !== undefined && !fields.has(String(action.field)))
    errors.push({ path: '/field', code: 'unknown_field', message: `"${String(action.field)}" is not a field` });
  return errors;
}

export const coreActions: ActionDefinition[] = [
  {
    // Shares a record (by default the acting one) with users — `to` gives a user id or a list — for
    // reading or editing: a temporary sales team's members get the deal. As the engine, audited.
    type: 'share',
    run: async ({ action, entity, record, data, share }) => {
      const id = targetId(action, record, data);
      if (!id) return undefined;
      const source = sourceOf(action, data);
      for (const user of userIds(action.to, data))
        await share(String(action.entity ?? entity), id, user, action.access === 'edit' ? 'edit' : 'read', source);
      return undefined;
    },
    check: (action, ctx) => {
      const errors = [...checkTarget(action, ctx), ...checkSource(action, ctx)];
      if (action.access !== 'read' && action.access !== 'edit')
        errors.push({ path: '/access', code: 'invalid_action', message: '"access" must be "read" or "edit"' });
      return errors;
    },
  },
  {
    // Takes a share back: the users `to` gives lose their share of the record (a team member removed).
    type: 'unshare',
    run: async ({ action, entity, record, data, unshare }) => {
      const id = targetId(action, record, data);
      if (!id) return undefined;
      const source = sourceOf(action, data);
      for (const user of userIds(action.to, data)) await unshare(String(action.entity ?? entity), id, user, source);
      return undefined;
    },
    check: (action, ctx) => [...checkTarget(action, ctx), ...checkSource(action, ctx)],
  },
  {
    // Gives the record (or `record` of `entity`) to another owner, through the assignment code the API
    // uses: the assignment log, the audit trail and the owner automations.
    type: 'assign',
    run: async ({ action, entity, record, data, assign }) => {
      const id = targetId(action, record, data);
      const [to] = userIds(action.to, data);
      if (!id || !to) return undefined;
      return assign(String(action.entity ?? entity), id, to);
    },
    check: (action, ctx) => checkTarget(action, ctx),
  },
  {
    // Updates another record through the data pipeline, in the same transaction (validation, formulas,
    // rules, audit, its own automations): a customer's last order date when an order is placed.
    type: 'update_record',
    run: async ({ action, record, data, updateRecord }) => {
      const id = targetId(action, record, data);
      if (!id) return undefined;
      return updateRecord(String(action.entity), id, evaluateValues(action.values as Values, data));
    },
    check: (action, ctx) => {
      const errors = checkTarget(action, ctx, { entityRequired: true, toRequired: false });
      const target = ctx.all.get<{ kind: string; name: string; label: never; fields: FieldDoc[] }>(
        'entity',
        String(action.entity),
      );
      if (!target) return errors;
      errors.push(...checkValues(action.values, target, new Set([...ctx.fields, ...SYSTEM_FIELDS])));
      // A workflow's state moves only by its transitions.
      const controlled = ctx.all
        .all<{ kind: string; name: string; label: never; entity: string; stateField: string }>('workflow')
        .filter((w) => w.entity === target.name)
        .map((w) => w.stateField);
      for (const field of Object.keys((action.values as object) ?? {}))
        if (controlled.includes(field))
          errors.push({
            path: pointer('values', field),
            code: 'workflow_controlled',
            message: `${field} changes only through the transitions of its workflow`,
          });
      return errors;
    },
  },
  {
    // Submits a record (by default the acting one) to its approval on behalf of `submitter` (json-logic
    // giving a user id; default: the record's owner) — a generated commission statement goes straight to
    // the rep's manager. The approval's rules apply (entry criteria, already pending or approved: 409).
    type: 'submit_approval',
    run: async ({ action, entity, record, data, submitApproval }) => {
      const id = targetId(action, record, data);
      if (!id) return undefined;
      const submitter = action.submitter === undefined ? record.owner_id : evaluateRule(action.submitter, data);
      const comment = typeof action.comment === 'string' ? action.comment : '';
      return submitApproval(String(action.entity ?? entity), id, submitter, comment);
    },
    check: (action, ctx) => {
      const errors = checkTarget(action, ctx, { toRequired: false });
      const target = String(action.entity ?? ctx.entity.name);
      if (
        ctx.all.get('entity', target) &&
        !ctx.all.all<{ kind: string; name: string; label: never; entity: string }>('approval').some((a) => a.entity === target)
      )
        errors.push({ path: '/entity', code: 'no_approval', message: `${target} has no approval process to submit to` });
      if (action.submitter !== undefined)
        errors.push(...checkRule(action.submitter, { fields: ctx.fields, allowContext: true, path: '/submitter' }).errors);
      if (action.comment !== undefined && typeof action.comment !== 'string')
        errors.push({ path: '/comment', code: 'invalid_action', message: '"comment" is text' });
      return errors;
    },
  },
  {
    // Warns instead of refusing: the change goes through and the caller gets the message (in their
    // language) in the response's meta.warnings — a check over other records that should not block.
    type: 'warn',
    automationOnly: true,
    writesNoRecords: true,
    run: async ({ action, warn, lang }) => {
      const message = (action.message as { en: string; 'zh-CN': string })[lang ?? 'en'];
      warn({ code: String(action.code), message, path: action.field ? `/${String(action.field)}` : '' });
      return undefined;
    },
    check: (action, { fields }) => checkMessage(action, fields),
  },
  {
    // Sets fields of the record itself, written together with the state change.
    type: 'set',
    changes: ({ action, data }) => evaluateValues(action.values as Values, data),
    check: (action, { entity, fields }) => checkValues(action.values, entity, fields),
  },
  {
    // Creates a related record (a won opportunity raises an order; a converted lead creates a customer).
    type: 'create_record',
    run: async ({ action, data, createRecord }) =>
      createRecord(String(action.entity), evaluateValues(action.values as Values, data)),
    // `as` names the new record for later actions ($created.<as>); `link` is a reference field of the
    // acting record that is set to point at it (a converted lead's converted_account).
    check: (action, { all, fields, entity }) => {
      const target = all.get<{ kind: string; name: string; label: never; fields: FieldDoc[] }>('entity', String(action.entity));
      if (!target) return [{ path: '/entity', code: 'unknown_entity', message: `Entity "${action.entity}" does not exist` }];
      const errors = checkValues(action.values, target, new Set([...fields, ...SYSTEM_FIELDS]));
      if (action.as !== undefined && (typeof action.as !== 'string' || !/^[a-z][a-z0-9_]*$/.test(action.as)))
        errors.push({ path: '/as', code: 'invalid_action', message: '"as" must be a lower-case name' });
      if (action.link !== undefined) {
        const link = entity.fields.find((f) => f.name === action.link);
        if (link?.type !== 'reference' || link.to !== target.name)
          errors.push({
            path: '/link',
            code: 'invalid_link',
            message: `"${action.link}" is not a reference field of ${entity.name} to ${target.name}`,
          });
      }
      return errors;
    },
  },
  {
    // Tells users: an in-app notification, and an e-mail in the outbox for those with an address.
    // `to` is json-logic giving a user id or a list of them (e.g. [{ "var": "owner_id" }]); `toRole`
    // adds every active holder of a role.
    type: 'notify',
    writesNoRecords: true,
    run: async ({ action, entity, record, data, tx, documents }) => {
      const template = documents.get<TemplateDoc>('template', String(action.template))!;
      const to = action.to === undefined ? [] : evaluateRule(action.to, data);
      const ids = [...new Set((Array.isArray(to) ? to : [to]).filter((v): v is string => typeof v === 'string' && UUID.test(v)))];
      // `toRole`: everyone holding a role (a ticket escalated to the service managers).
      const role = typeof action.toRole === 'string' ? action.toRole : undefined;
      if (!ids.length && !role) return undefined;
      const recipients = rowsOf<{ id: string; email: string | null }>(
        await tx.execute(sql`select id, email from "user" where (${ids.length ? sql`id in ${ids}` : sql`false`} ${role ? sql`or roles @> array[${role}]::text[]` : sql``})
          and deleted_at is null and employment_status = 'active'`),
      );
      const view = { ...record, user: data.$user, input: data.$input, lookup: data.$lookup };
      const both = (part: 'subject' | 'body') => ({
        en: render(template[part].en, view),
        'zh-CN': render(template[part]['zh-CN'], view),
      });
      await deliver(
        tx,
        recipients,
        { subject: both('subject'), body: both('body') },
        { entity, recordId: record.id as string, template: template.name },
      );
      return undefined;
    },
    check: (action, { all, fields }) => {
      const errors: ErrorDetail[] = [];
      if (!all.get('template', String(action.template)))
        errors.push({ path: '/template', code: 'unknown_template', message: `Template "${action.template}" does not exist` });
      if (action.to === undefined && action.toRole === undefined)
        errors.push({
          path: '/to',
          code: 'invalid_action',
          message: '"to" (json-logic giving user ids) or "toRole" (a role name) is required',
        });
      if (action.to !== undefined) errors.push(...checkRule(action.to, { fields, allowContext: true, path: '/to' }).errors);
      if (action.toRole !== undefined && (typeof action.toRole !== 'string' || !all.get('role', action.toRole))) {
        errors.push({ path: '/toRole', code: 'unknown_role', message: `Role "${String(action.toRole)}" does not exist` });
      }
      return errors;
    },
  },
  {
    // Moves the record through its workflow, as the engine (the transition's guard still applies):
    // a scheduled churn warning puts the customer into "warned".
    type: 'fire',
    automationOnly: true,
    run: async ({ action, fire }) => fire!(String(action.event), `automation: ${String(action.event)}`),
    check: (action, { entity, all }) => {
      const events = new Set(
        all
          .all<{
            kind: string;
            name: string;
            label: never;
            entity: string;
            states: Record<string, { on?: Record<string, unknown> }>;
          }>('workflow')
          .filter((w) => w.entity === entity.name)
          .flatMap((w) => Object.values(w.states).flatMap((s) => Object.keys(s.on ?? {}))),
      );
      return events.has(String(action.event))
        ? []
        : [{ path: '/event', code: 'unknown_event', message: `No workflow of ${entity.name} has the event "${action.event}"` }];
    },
  },
  {
    // E-mails people who are not users (a customer's contact: electronic collection, 电子催收): the
    // template rendered in both languages into the outbox, to the addresses `to` gives (json-logic,
    // e.g. a $lookup of the contact's address). Invalid addresses are skipped.
    type: 'email',
    writesNoRecords: true,
    run: async ({ action, record, data, tx, documents }) => {
      const template = documents.get<TemplateDoc>('template', String(action.template))!;
      const to = evaluateRule(action.to, data);
      const addresses = [
        ...new Set(
          (Array.isArray(to) ? to : [to]).filter(
            (v): v is string => typeof v === 'string' && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v),
          ),
        ),
      ];
      const view = { ...record, lookup: data.$lookup, input: data.$input };
      const both = (part: 'subject' | 'body') => ({
        en: render(template[part].en, view),
        'zh-CN': render(template[part]['zh-CN'], view),
      });
      await mail(tx, addresses, { subject: both('subject'), body: both('body') });
      return undefined;
    },
    check: (action, { all, fields }) => {
      const errors: ErrorDetail[] = [];
      if (!all.get('template', String(action.template)))
        errors.push({ path: '/template', code: 'unknown_template', message: `Template "${action.template}" does not exist` });
      if (action.to === undefined)
        errors.push({ path: '/to', code: 'invalid_action', message: '"to" is required: json-logic giving e-mail addresses' });
      else errors.push(...checkRule(action.to, { fields, allowContext: true, path: '/to' }).errors);
      return errors;
    },
  },
  {
    // Refuses the change: the write and everything with it roll back, and the caller gets 409 with the
    // document's code and message (a credit limit exceeded, a closed period). Automations only: they
    // run in the change's transaction, after its checks, with $lookup aggregates to decide on.
    type: 'refuse',
    automationOnly: true,
    writesNoRecords: true,
    run: async ({ action, lang }) => {
      const message = (action.message as { en: string; 'zh-CN': string })[lang ?? 'en'];
      const code = String(action.code);
      throw conflict(code, message, [{ path: action.field ? `/${String(action.field)}` : '', code, message }]);
    },
    check: (action, { fields }) => checkMessage(action, fields),
  },
  {
    // Tells another system: POSTs JSON to a URL after the change has committed, retried from the job
    // queue until it answers 2xx. The body is { entity, record } or `body` (field → json-logic).
    type: 'webhook',
    afterCommit: true,
    run: async ({ action, entity, record, data }) => {
      const body = action.body ? evaluateValues(action.body as Values, data) : { entity, record };
      const res = await fetch(String(action.url), {
        method: String(action.method ?? 'POST'),
        headers: { 'content-type': 'application/json', ...((action.headers as Record<string, string>) ?? {}) },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      if (!res.ok) throw new Error(`webhook ${String(action.url)} answered HTTP ${res.status}`);
      return undefined;
    },
    check: (action, { fields }) => {
      const errors: ErrorDetail[] = [];
      let url: URL | undefined;
      try {
        url = new URL(String(action.url));
      } catch {
        /* reported below */
      }
      if (!url || !['http:', 'https:'].includes(url.protocol))
        errors.push({ path: '/url', code: 'invalid_url', message: '"url" must be an http or https URL' });
      if (action.method !== undefined && !['POST', 'PUT', 'PATCH'].includes(String(action.method)))
        errors.push({ path: '/method', code: 'invalid_action', message: 'method is POST, PUT or PATCH' });
      const headers = action.headers;
      if (
        headers !== undefined &&
        (typeof headers !== 'object' || headers === null || Object.values(headers).some((v) => typeof v !== 'string'))
      )
        errors.push({ path: '/headers', code: 'invalid_action', message: 'headers is an object of strings' });
      if (action.body !== undefined) {
        if (typeof action.body !== 'object' || action.body === null || Array.isArray(action.body))
          errors.push({ path: '/body', code: 'invalid_action', message: 'body is an object of name → json-logic' });
        else
          for (const [k, v] of Object.entries(action.body))
            errors.push(...checkRule(v, { fields, allowContext: true, path: pointer('body', k) }).errors);
      }
      return errors;
    },
  },
];
