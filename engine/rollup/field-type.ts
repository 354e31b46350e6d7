/**
 * The `rollup` field type (roll-up summary): count, sum, min or max of a child entity's field over the
 * live records that reference this one, optionally filtered — an order's total from its lines, an
 * account's open receivables. The value is a stored column, so filters, sorts, formulas and reports use
 * it like any other; it is computed when the parent is written (this hook) and kept exact when the
 * children change (refresh.ts, through the data hooks), and a deploy that adds one backfills it.
 */
import { sql } from 'drizzle-orm';
import type { ErrorDetail } from '../errors.js';
import type { FieldTypeDefinition, FieldDoc } from '../registry/types.js';
import type { ValueKind } from '../registry/value-kind.js';
import type { AppModel } from '../model/compile.js';
import { checkRule } from '../rules/check.js';
import { computedWidget } from '../registry/computed-widget.js';
import { rowsOf } from '../db/database.js';
import { decodeValue } from '../data/records.js';
import { aggregate, ROLLUP_OPS, type RollupDoc } from './aggregate.js';

const RETURNS: Record<string, { column: string; kind: ValueKind; schema: Record<string, unknown> }> = {
  integer: { column: 'integer', kind: 'integer', schema: { type: 'integer' } },
  decimal: { column: 'numeric(18,4)', kind: 'number', schema: { type: 'number' } },
  currency: { column: 'numeric(18,2)', kind: 'number', schema: { type: 'number' } },
  date: { column: 'date', kind: 'date', schema: { type: 'string', format: 'date' } },
  datetime: { column: 'timestamptz', kind: 'datetime', schema: { type: 'string', format: 'date-time' } },
};
const returnsOf = (f: FieldDoc) => RETURNS[String(f.returns ?? (f.op === 'count' ? 'integer' : 'decimal'))] ?? RETURNS.decimal;
/** Child field types each operation can aggregate, and what they give. */
const NUMERIC = new Set(['integer', 'decimal', 'currency', 'percent']);
const ORDERED = new Set([...NUMERIC, 'date', 'datetime']);

/** System fields a roll-up's filter may read: those that change only through a write the roll-ups follow. */
const ROLLUP_SYSTEM_FIELDS = ['owner_id', 'created_by', 'created_at'];

export const rollupFieldType: FieldTypeDefinition = {
  name: 'rollup',
  label: { en: 'Roll-up summary', 'zh-CN': '汇总' },
  form: (f) => computedWidget(f.returns ?? (f.op === 'count' ? 'integer' : 'decimal')),
  options: {
    of: { type: 'string', maxLength: 63 },
    via: { type: 'string', maxLength: 63 },
    op: { enum: [...ROLLUP_OPS] },
    field: { type: 'string', maxLength: 63 },
    where: {},
    returns: { enum: Object.keys(RETURNS) },
  },
  requiredOptions: ['of', 'via', 'op'],
  readOnly: true,
  kind: (f) => returnsOf(f).kind,
  columnType: (f) => returnsOf(f).column,
  valueSchema: (f) => ({ ...returnsOf(f).schema, readOnly: true }),
  check(field, ctx) {
    const f = field as RollupDoc;
    const errors: ErrorDetail[] = [];
    const child = ctx.entity(f.of);
    if (!child) return [{ path: '/of', code: 'unknown_entity', message: `Entity "${f.of}" does not exist` }];
    const via = child.fields.find((x) => x.name === f.via);
    if (via?.type !== 'reference')
      errors.push({ path: '/via', code: 'invalid_rollup', message: `"${f.via}" is not a reference field of ${f.of}` });
    if (f.op !== 'count') {
      const target = child.fields.find((x) => x.name === f.field);
      // A computed child field (a formula, another roll-up) is what it returns.
      const kind =
        target?.type === 'formula'
          ? String(target.returns)
          : target?.type === 'rollup'
            ? String(target.returns ?? (target.op === 'count' ? 'integer' : 'decimal'))
            : target?.type;
      if (!target) errors.push({ path: '/field', code: 'invalid_rollup', message: `${f.op} needs "field", a field of ${f.of}` });
      else if (!(f.op === 'sum' ? NUMERIC : ORDERED).has(kind ?? ''))
        errors.push({ path: '/field', code: 'invalid_rollup', message: `${f.op} can't aggregate "${f.field}" (${kind})` });
      else if ((kind === 'date' || kind === 'datetime') !== (f.returns === 'date' || f.returns === 'datetime')) {
        errors.push({
          path: '/returns',
          code: 'invalid_rollup',
          message: `${f.op} of a ${kind} field returns ${kind === 'date' || kind === 'datetime' ? kind : 'a number (integer, decimal or currency)'}`,
        });
      }
    } else if (f.returns !== undefined && f.returns !== 'integer')
      errors.push({ path: '/returns', code: 'invalid_rollup', message: 'count returns integer' });
    // The filter is over the child's own fields, its owner and its creation; no $now or $user: the stored
    // value must not depend on when or who reads it. (An assignment refreshes roll-ups that read the owner.)
    if (f.where !== undefined)
      errors.push(
        ...checkRule(f.where, {
          fields: new Set([...child.fields.map((x) => x.name), ...ROLLUP_SYSTEM_FIELDS]),
          allowContext: false,
          path: '/where',
        }).errors,
      );
    return errors;
  },
  // The parent written. A new record has no children yet (they reference it, so they come after):
  // nothing to count, no query. An update leaves the stored value alone — every child write keeps it
  // exact (hook.ts) — so a parent's own edits cost no aggregate per roll-up. A backfill (`refresh`)
  // reads the children as they stand in this transaction.
  async onWrite({ field, record, tx, model: view, operation, refresh }) {
    const doc = field as RollupDoc;
    if (!refresh && operation === 'update') return undefined;
    if (!refresh && operation === 'create') return doc.op === 'count' || doc.op === 'sum' ? 0 : null;
    const model = view as AppModel | undefined;
    if (!model?.entity(doc.of) || typeof record.id !== 'string') return undefined;
    const [row] = rowsOf<{ value: unknown }>(
      await tx.execute(sql`select ${aggregate(model, field as RollupDoc, sql`${record.id}::uuid`)} as value`),
    );
    return decodeValue(returnsOf(field).kind, row?.value ?? null);
  },
};
