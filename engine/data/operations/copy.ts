/**
 * Copy: a new record from an existing one, with its child collections, in one transaction (a quote's
 * next version). The entity's `copy` rules say which fields the copy computes from the original
 * (json-logic: `version_no` + 1, `previous_version` = the original's id) and which it leaves empty; the
 * caller's body may override fields. It is an ordinary create for the caller: the create right,
 * validation, formulas, roll-ups, audit and automations all apply, to the record and to every row.
 */
import { badRequest } from '../../errors.js';
import { t } from '../../model/language.js';
import { evaluateRule } from '../../rules/evaluate.js';
import type { OperationContext } from '../context.js';
import { isPlainObject, resolve } from '../pipeline.js';
import type { DataService } from '../service.js';
import { create } from './create.js';
import { get } from './get.js';

type Row = Record<string, unknown>;

export async function copy(data: DataService, ctx: OperationContext, entityName: string, id: string, body: unknown) {
  const { entity, guard } = resolve(data, ctx, entityName);
  const rules = entity.doc.copy;
  if (!rules)
    throw badRequest(
      'not_copyable',
      t(ctx.lang, `${entity.label.en} records cannot be copied`, `${entity.label['zh-CN']}不支持复制`),
    );
  guard.assertCan(entity, 'create');
  if (body !== undefined && body !== null && !isPlainObject(body))
    throw badRequest(
      'invalid_body',
      t(ctx.lang, 'The body must be a JSON object of fields to override', '请求体必须是要覆盖的字段对象'),
    );
  // The original as the caller may read it (404 outside their read scope), children included.
  const original = await get(data, ctx, entity.name, id);
  const access = guard.access(entity);
  const writable = (f: string) => !access?.writable || access.writable.has(f);
  const reset = new Set(rules.reset ?? []);
  const record: Row = {};
  for (const f of entity.fields) {
    // Computed fields compute again; a workflow's state starts over; fields the caller may not write take their defaults.
    if (f.readOnly || entity.workflowFields.has(f.name) || reset.has(f.name) || !writable(f.name)) continue;
    if (original[f.name] !== undefined && original[f.name] !== null) record[f.name] = original[f.name];
  }
  const scope = { ...original, ...data.context(ctx) };
  for (const [f, expr] of Object.entries(rules.set ?? {})) record[f] = evaluateRule(expr, scope) ?? null;
  const copied = new Set(rules.children ?? (entity.doc.children ?? []).map((c) => c.name));
  for (const c of entity.doc.children ?? []) {
    if (!copied.has(c.name) || !Array.isArray(original[c.name])) continue;
    const child = data.entity(c.entity);
    const childAccess = guard.access(child);
    record[c.name] = (original[c.name] as Row[]).map((row) => {
      const out: Row = {};
      for (const f of child.fields) {
        if (f.readOnly || f.name === c.via || f.name === c.position || child.workflowFields.has(f.name)) continue;
        if (childAccess?.writable && !childAccess.writable.has(f.name)) continue;
        if (row[f.name] !== undefined && row[f.name] !== null) out[f.name] = row[f.name];
      }
      return out;
    });
  }
  return (await create(data, ctx, entity.name, { ...record, ...((body as Row | undefined) ?? {}) })) as Row;
}
