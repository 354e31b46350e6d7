/** The `dictionary` kind: the values of picklists (types, statuses, stages), with labels, colours and order. */
import { pointer } from '../../errors.js';
import type { DocumentKindDefinition, MetadataDocument } from '../../registry/types.js';
import { duplicates } from './field.js';
import { loadSchema } from './load-schema.js';

export interface DictionaryDoc extends MetadataDocument {
  items: {
    value: string;
    label: { en: string; 'zh-CN': string };
    color?: string;
    active?: boolean;
    /** Values formulas read through a picklist: {"var": "decision_role.weight"}. */
    attributes?: Record<string, number | string | boolean>;
  }[];
}

export const dictionaryKind: DocumentKindDefinition = {
  kind: 'dictionary',
  schema: () => loadSchema(import.meta.url, './dictionary.schema.json'),
  check: (doc) => {
    const values = (doc as DictionaryDoc).items.map((i) => i.value);
    return duplicates(values).map((v) => ({
      path: pointer('items', values.lastIndexOf(v), 'value'),
      code: 'duplicate_value',
      message: `Dictionary value "${v}" appears twice`,
    }));
  },
};
