/**
 * Aggregates over related records for automation conditions: a care suggestion for a customer whose
 * orders of the last six months fall below the six months before, a credit check over the customer's
 * open receivables. Each lookup is count/sum/min/max of a field of any entity over the live records a
 * json-logic filter selects — the filter sees the automation's record as $record, and $now — compiled
 * to SQL (bound parameters, identifiers from the model) and run in one statement with the others. The
 * condition and the actions read them as $lookup.<name>.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/database.js';
import { rowsOf } from '../db/database.js';
import type { ErrorDetail } from '../errors.js';
import { pointer } from '../errors.js';
import type { AppModel, CompiledEntity } from '../model/compile.js';
import type { DocumentSet } from '../registry/types.js';
import type { EntityDoc } from '../model/kinds/entity.js';
import { checkRule } from '../rules/check.js';
import { evaluateRule } from '../rules/evaluate.js';
import { compileFilter, type FilterScope } from '../rules/to-sql.js';
import { columnRef, columnText, filterScope, tableText } from '../data/query.js';
import { decodeValue } from '../data/records.js';
import { SYSTEM_FIELDS } from '../model/system-fields.js';

export interface Lookup {
  entity: string;
  /** `list`: the field's values (at most 1,000, oldest record first) — user ids to share with or notify. */
  op: 'count' | 'sum' | 'min' | 'max' | 'list';
  field?: string;
  where?: unknown;
}

/** The lookups' values for one record; sums and counts of nothing are 0. */
export async function lookupValues(
  tx: Db,
  model: AppModel,
  lookups: Record<string, Lookup> | undefined,
  context: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  return (await lookupValuesMany(tx, model, lookups, [context]))[0] ?? {};
}

/**
 * The lookups' values for several records (a bulk create's): one statement per record, all sent at once.
 * The records' statements differ only in their values, so each driver keeps one prepared statement for
 * them, and postgres.js pipelines them on its connection. (A union of a hundred records' sub-selects
 * had over 64 parameters: planned afresh every time, 20–45 ms on the embedded database.)
 */
export async function lookupValuesMany(
  tx: Db,
  model: AppModel,
  lookups: Record<string, Lookup> | undefined,
  contexts: Record<string, unknown>[],
): Promise<Record<string, unknown>[]> {
  const entries = Object.entries(lookups ?? {});
  if (!entries.length) return contexts.map(() => ({}));
  const rows = await Promise.all(
    contexts.map(async (context) => {
      const [row] = rowsOf<Record<string, unknown>>(
        await tx.execute(sql`select ${sql.join(lookupParts(model, entries, context), sql`, `)}`),
      );
      return row;
    }),
  );
  return rows.map((row) =>
    Object.fromEntries(
      entries.map(([name, l]) => {
        const target = model.entity(l.entity)!;
        const kind = l.op === 'count' ? 'integer' : (target.columnKinds.get(l.field!) ?? 'number');
        if (l.op === 'list') return [name, (JSON.parse(String(row[name])) as unknown[]).map((v) => decodeValue(kind, v))];
        return [name, decodeValue(kind, row[name])];
      }),
    ),
  );
}

/** Each lookup as a sub-select over the context (the record as $record, $now, $user), named by the lookup. */
function lookupParts(model: AppModel, entries: [string, Lookup][], context: Record<string, unknown>): SQL[] {
  return entries.map(([name, l]) => {
    const target = model.entity(l.entity)!;
    const where = l.where === undefined ? sql`true` : compileFilter(fold(l.where, context), lookupScope(model, target, context));
    if (l.op === 'list') {
      // Values as JSON text: decoded per value below, whatever the column type.
      const column = sql.raw(columnText(target, l.field!));
      return sql`(select coalesce(json_agg(v order by o), '[]')::text from (select ${column} as v, ${target.table}.id as o from ${target.table}
        where ${target.table}.deleted_at is null and ${column} is not null and ${where} order by ${target.table}.id limit 1000) picked) as ${sql.identifier(name)}`;
    }
    const value = l.op === 'count' ? sql`count(*)` : sql.raw(`${l.op}(${columnText(target, l.field!)})`);
    const total = l.op === 'count' || l.op === 'sum' ? sql`coalesce(${value}, 0)` : value;
    return sql`(select ${total} from ${target.table} where ${target.table}.deleted_at is null and ${where}) as ${sql.identifier(name)}`;
  });
}

/**
 * The fields a lookup's filter may name: the entity's own, and one step through a reference —
 * `account.owner_id` (the receipts of the customers a rep owns) — as a correlated sub-select. The
 * engine's read, like the lookup itself: no caller's scope applies.
 */
function lookupScope(model: AppModel, target: CompiledEntity, context: Record<string, unknown>): FilterScope {
  const own = filterScope(target, context);
  return {
    ...own,
    field: (name) => {
      const [first, second, ...rest] = name.split('.');
      if (second === undefined || rest.length) return own.field(name);
      const to = target.field(first!)?.reference?.to;
      const next = to ? model.entity(to) : undefined;
      const kind = next?.columnKinds.get(second);
      if (!next || !kind) return undefined;
      return {
        sql: sql`(select ${sql.raw(`x."${next.columns[second].name}"`)} from ${sql.raw(tableText(next))} x where x."id" = ${columnRef(target, first!)})`,
        kind,
      };
    },
  };
}

/**
 * Parts of a filter that read only the context ($record, $now) are worked out first, so the filter
 * can compute with them — `{"add_hours": [{"var": "$now"}, -4320]}` for "six months ago",
 * `{"substr": [{"var": "$record.issue_date"}, 0, 7]}` — and SQL compares the field to the result.
 */
export function fold(rule: unknown, context: Record<string, unknown>): unknown {
  if (Array.isArray(rule)) return rule.map((r) => fold(r, context));
  if (typeof rule !== 'object' || rule === null) return rule;
  if (contextOnly(rule)) return evaluateRule(rule, context);
  return Object.fromEntries(Object.entries(rule).map(([op, args]) => [op, fold(args, context)]));
}

/** An operation whose every variable is a context variable (and that has at least one). */
function contextOnly(rule: object): boolean {
  const vars: string[] = [];
  const walk = (r: unknown) => {
    if (Array.isArray(r)) r.forEach(walk);
    else if (typeof r === 'object' && r !== null)
      for (const [op, args] of Object.entries(r))
        op === 'var' ? vars.push(String(Array.isArray(args) ? args[0] : args)) : walk(args);
  };
  walk(rule);
  return vars.length > 0 && vars.every((v) => v.startsWith('$')) && !('var' in rule);
}

/** Deploy checks: the entity and field exist and suit the operation; the filter reads that entity's fields. */
export function checkLookups(lookups: Record<string, Lookup> | undefined, all: DocumentSet): ErrorDetail[] {
  const errors: ErrorDetail[] = [];
  for (const [name, l] of Object.entries(lookups ?? {})) {
    const at = (...p: string[]) => pointer('lookups', name, ...p);
    const target = all.get<EntityDoc>('entity', l.entity);
    if (!target) {
      errors.push({ path: at('entity'), code: 'unknown_entity', message: `Entity "${l.entity}" does not exist` });
      continue;
    }
    const fields = new Set([...SYSTEM_FIELDS, ...target.fields.map((f) => f.name)]);
    if (l.op !== 'count' && (!l.field || !fields.has(l.field)))
      errors.push({ path: at('field'), code: 'unknown_field', message: `${l.op} needs "field", a field of ${l.entity}` });
    if (l.where === undefined) continue;
    const checked = checkRule(l.where, { fields, allowContext: true, path: at('where') });
    errors.push(...checked.errors);
    // A path goes one step, through a reference, to a field (or system column) of its target.
    for (const path of checked.pathsUsed) {
      const [first, second, ...rest] = path.split('.');
      const field = target.fields.find((f) => f.name === first);
      const next = field?.type === 'reference' ? all.get<EntityDoc>('entity', String(field.to)) : undefined;
      if (!field) continue; // checkRule reported it
      if (!next || rest.length || !(SYSTEM_FIELDS.has(second!) || next.fields.some((f) => f.name === second)))
        errors.push({
          path: at('where'),
          code: 'unknown_field',
          message: `"${path}": a lookup's filter reads one step through a reference, to a field of its target`,
        });
    }
  }
  return errors;
}
