/** Global search: one box over every entity the caller may read (engine/data/operations/search.ts). */
import { SEARCH_MAX_LIMIT } from '../../data/operations/search.js';
import type { Route } from '../route.js';
import { errorResponse, json } from '../route.js';

export const searchRoutes: Route[] = [
  {
    method: 'get',
    path: '/api/search',
    operationId: 'search',
    tag: 'search',
    summary: 'Search every entity you may read (title and searchable fields), a few records per entity',
    doc: () => ({
      parameters: [
        {
          name: 'q',
          in: 'query',
          required: true,
          description: 'Text to find (case-insensitive substring; two Chinese characters suffice)',
          schema: { type: 'string', minLength: 1, maxLength: 200 },
        },
        {
          name: 'limit',
          in: 'query',
          description: 'Records per entity',
          schema: { type: 'integer', minimum: 1, maximum: SEARCH_MAX_LIMIT, default: 5 },
        },
        {
          name: 'entities',
          in: 'query',
          description: 'Comma-separated entity names to search (default: all)',
          schema: { type: 'string' },
        },
      ],
      responses: {
        200: json(
          {
            type: 'object',
            properties: {
              data: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    entity: { type: 'string' },
                    label: { type: 'object' },
                    titleField: { type: ['string', 'null'] },
                    more: { type: 'boolean', description: 'More records match than were returned' },
                    records: {
                      type: 'array',
                      items: {
                        type: 'object',
                        properties: { id: { type: 'string' }, title: { type: ['string', 'null'] }, fields: { type: 'object' } },
                      },
                    },
                  },
                },
              },
            },
          },
          'Matching records grouped by entity (entities without matches are left out)',
        ),
        400: errorResponse('Missing or bad q, limit or entities'),
      },
    }),
    handle: async ({ c, deps, ctx }) => c.json(await deps.data.search(ctx(), c.req.query())),
  },
];
