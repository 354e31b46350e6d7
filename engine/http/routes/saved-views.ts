/** Saved list views (engine/views/saved.ts): the caller's own and those shared with them, per entity. */
import type { Route } from '../route.js';
import { errorResponse, idParameter, jsonBody, object, pathParameter } from '../route.js';

const entity = pathParameter('entity');
const VIEW_BODY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 60 },
    state: { type: 'object', description: "The list's state as the UI keeps it (columns, sort, filter, q…), at most 16 KB" },
    share: {
      type: 'object',
      additionalProperties: false,
      description: 'Roles the caller holds, or — with the views.share right — any roles or everyone',
      properties: { roles: { type: 'array', items: { type: 'string' } }, everyone: { type: 'boolean' } },
    },
  },
};

export const savedViewRoutes: Route[] = [
  {
    method: 'get',
    path: '/api/saved-views/{entity}',
    operationId: 'listSavedViews',
    tag: 'views',
    summary: "The caller's saved views of an entity's list and those shared with them (own first)",
    doc: () => ({ parameters: [entity], responses: { 200: object('Saved views'), 403: errorResponse('Entity not readable') } }),
    handle: async ({ c, deps, param, ctx }) => c.json({ data: await deps.savedViews.list(ctx(), param('entity')) }),
  },
  {
    method: 'post',
    path: '/api/saved-views/{entity}',
    operationId: 'createSavedView',
    tag: 'views',
    summary: 'Save a list view under a name, private or shared with roles or everyone',
    body: 'json',
    doc: () => ({
      parameters: [entity],
      requestBody: jsonBody({ ...VIEW_BODY, required: ['name', 'state'] }),
      responses: {
        201: object('The saved view'),
        400: errorResponse('validation_failed (details name the fields)'),
        403: errorResponse('Sharing beyond the caller’s roles without views.share'),
        409: errorResponse('duplicate_name'),
      },
    }),
    handle: async ({ c, deps, body, param, ctx }) =>
      c.json({ data: await deps.savedViews.create(ctx(), param('entity'), await body()) }, 201),
  },
  {
    method: 'patch',
    path: '/api/saved-views/{entity}/{id}',
    operationId: 'updateSavedView',
    tag: 'views',
    summary: 'Rename, change or re-share one of the caller’s views',
    body: 'json',
    doc: () => ({
      parameters: [entity, idParameter],
      requestBody: jsonBody(VIEW_BODY),
      responses: {
        200: object('The saved view'),
        400: errorResponse('validation_failed'),
        403: errorResponse('not_view_owner'),
        404: errorResponse('view_not_found'),
      },
    }),
    handle: async ({ c, deps, body, param, ctx }) =>
      c.json({ data: await deps.savedViews.update(ctx(), param('entity'), param('id'), await body()) }),
  },
  {
    method: 'delete',
    path: '/api/saved-views/{entity}/{id}',
    operationId: 'deleteSavedView',
    tag: 'views',
    summary: 'Delete one of the caller’s views',
    doc: () => ({
      parameters: [entity, idParameter],
      responses: { 200: object('Deleted'), 403: errorResponse('not_view_owner'), 404: errorResponse('view_not_found') },
    }),
    handle: async ({ c, deps, param, ctx }) => {
      await deps.savedViews.remove(ctx(), param('entity'), param('id'));
      return c.json({ data: { deleted: true } });
    },
  },
];
