/**
 * Dotted paths in formulas and `defaultFrom`: `product.list_price` (a field of the record a reference
 * points at: one step) and `decision_role.weight` (an attribute of the dictionary item a picklist holds).
 * Their deploy check and grouping; engine/data/reference-values.ts follows them at write time.
 */
import type { ErrorDetail } from '../errors.js';
import type { FieldDoc, FieldTypeContext } from '../registry/types.js';

/**
 * Deploy check of one dotted path from an entity's fields: a reference to an existing field of its
 * target, or a picklist's item attribute that some item of the dictionary carries. `json` fields are
 * free-form and may be read at any depth. `into` is the field a `defaultFrom` fills: a reference may
 * snapshot a reference of the same target.
 */
export function checkPath(path: string, fields: FieldDoc[], ctx: FieldTypeContext, at: string, into?: FieldDoc): ErrorDetail[] {
  const [first, second, ...rest] = path.split('.');
  const field = fields.find((f) => f.name === first);
  if (!field || field.type === 'json') return [];
  const fail = (message: string) => [{ path: at, code: 'invalid_path', message: `"${path}": ${message}` }];
  if (field.type === 'reference') {
    // One step: a formula of the referenced entity takes the next (item.vendor_rating over vendor.rating),
    // and changes travel the chain (engine/rollup/reference-formulas.ts).
    if (rest.length)
      return fail(
        `a path follows one reference, not a chain: give ${String(field.to)} a formula reading "${[second, ...rest].join('.')}" and read that`,
      );
    const target = ctx.entity(String(field.to));
    if (!target) return []; // the reference's own check reports it
    const targetField = target.fields.find((f) => f.name === second);
    if (!targetField) return fail(`"${second}" is not a field of ${String(field.to)}`);
    // A reference snapshot into a reference to the same entity: a contract takes its deal's campaign.
    if (targetField.type === 'reference' && into?.type === 'reference' && into.to === targetField.to) return [];
    if (targetField.type === 'reference' || targetField.type === 'json' || targetField.type === 'file')
      return fail(`"${String(field.to)}.${second}" is a ${targetField.type} field; read a value field`);
    return [];
  }
  if (field.type === 'picklist') {
    if (rest.length) return fail('a dictionary item has attributes, not deeper values');
    const dictionary = ctx.dictionary(String(field.dictionary)) as
      | { items: { attributes?: Record<string, unknown> }[] }
      | undefined;
    if (!dictionary) return [];
    if (!dictionary.items.some((i) => i.attributes?.[second] !== undefined))
      return fail(`no item of the dictionary "${String(field.dictionary)}" has the attribute "${second}"`);
    return [];
  }
  return fail(
    `only a reference (to a field of its record) or a picklist (to an item attribute) can be followed, not a ${field.type} field`,
  );
}

/** The fields each reference path reads, grouped by the reference: { product: ['list_price', 'cost'] }. */
export function groupPaths(paths: Iterable<string>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const p of paths) {
    const [first, second] = p.split('.');
    if (!second) continue;
    const list = out.get(first) ?? [];
    if (!list.includes(second)) list.push(second);
    out.set(first, list);
  }
  return out;
}
