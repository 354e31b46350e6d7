/**
 * A `rating` field type: a whole number of stars from 1 to `max` (default 5), for customer satisfaction,
 * lead quality and the like. Contributed through the same contract as the built-in types.
 */
import type { Plugin } from '../../engine/registry/types.js';

const rating: Plugin = {
  name: 'rating',
  fieldTypes: [
    {
      name: 'rating',
      label: { en: 'Rating', 'zh-CN': '评分' },
      options: { max: { type: 'integer', minimum: 1, maximum: 10 } },
      kind: () => 'integer',
      columnType: () => 'integer',
      valueSchema: (field) => ({
        type: 'integer',
        minimum: 1,
        maximum: (field.max as number | undefined) ?? 5,
        'x-widget': 'rating',
      }),
      form: (field) => ({ widget: 'rating', options: { max: (field.max as number | undefined) ?? 5 } }),
    },
  ],
};

export default rating;
