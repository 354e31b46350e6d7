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

export const coreActions: ActionDefinition[] = [
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
      const view = { ...record, user: data.$user, input: data.$input };
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
    run: async ({ action, lang }) => {
      const message = (action.message as { en: string; 'zh-CN': string })[lang ?? 'en'];
      const code = String(action.code);
      throw conflict(code, message, [{ path: action.field ? `/${String(action.field)}` : '', code, message }]);
    },
    check: (action, { fields }) => {
      const errors: ErrorDetail[] = [];
      if (typeof action.code !== 'string' || !/^[a-z][a-z0-9_]*$/.test(action.code))
        errors.push({ path: '/code', code: 'invalid_action', message: '"code" must be a lower-case machine-readable code' });
      const m = action.message as Record<string, unknown> | undefined;
      if (!m || typeof m.en !== 'string' || typeof m['zh-CN'] !== 'string')
        errors.push({ path: '/message', code: 'invalid_action', message: '"message" must give "en" and "zh-CN"' });
      if (action.field !== undefined && !fields.has(String(action.field)))
        errors.push({ path: '/field', code: 'unknown_field', message: `"${String(action.field)}" is not a field` });
      return errors;
    },
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
