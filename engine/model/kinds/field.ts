/**
 * What every kind that describes fields shares: the field meta-schema, generated from the registered
 * field types so a plugin's type validates its own options, the common definitions (identifiers,
 * labels, rules) the kinds' schemas refer to, and what a field type may look up while it checks itself.
 */
import type { DocumentSet, FieldTypeContext, JsonSchema, RegistryView } from '../../registry/types.js';
import { loadSchema } from './load-schema.js';
import type { DictionaryDoc } from './dictionary.js';
import type { EntityDoc } from './entity.js';

export const commonSchema = loadSchema(import.meta.url, './common.schema.json');

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
    defaultFrom: {
      description: 'A snapshot at create: the value of a field of the record a reference points at ("product.list_price")',
      type: 'string',
      pattern: '^[a-z][a-z0-9_]*[.][a-z][a-z0-9_]*$',
      maxLength: 61,
    },
  };
  return {
    $id: 'https://metacrm.dev/schemas/field.schema.json',
    type: 'object',
    required: ['name', 'type', 'label'],
    properties: common,
    allOf: registry.fieldTypes().map((t) => ({
      if: { properties: { type: { const: t.name } }, required: ['type'] },
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then, not a promise
      then: { required: t.requiredOptions ?? [], properties: { ...common, ...(t.options ?? {}) }, additionalProperties: false },
    })),
  };
}

export const fieldTypeContext = (all: DocumentSet): FieldTypeContext => ({
  dictionary: (name) => all.get<DictionaryDoc>('dictionary', name),
  entity: (name) => all.get<EntityDoc>('entity', name),
  names: (kind) =>
    all
      .all(kind)
      .map((d) => d.name)
      .sort(),
});

export const duplicates = (values: string[]) => values.filter((v, i) => values.indexOf(v) !== i);
