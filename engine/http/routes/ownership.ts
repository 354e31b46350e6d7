/** Who holds a record: assigning (转移), the assignment log, and sharing with users or departments. */
import type { Route } from '../route.js';
import { entitySummary, errorResponse, idParameter, jsonBody, object, pathParameter } from '../route.js';

const perEntity = {};

export const ownershipRoutes: Route[] = [
  {
    method: 'post',
    path: '/api/data/{entity}/assign',
    operationId: 'assignMany',
    perEntity,
    summary: entitySummary('Transfer the records of your assign scope owned by "from" and/or matching "filter"'),
    body: 'json',
    doc: () => ({
      requestBody: jsonBody({
        type: 'object',
        required: ['to'],
        properties: {
          to: { type: 'string', format: 'uuid' },
          from: { type: 'string', format: 'uuid' },
          filter: { type: 'object' },
          reason: { type: 'string' },
        },
      }),
      responses: {
        200: object('How many were assigned'),
        400: errorResponse('Bad request'),
        403: errorResponse('No assign right'),
      },
    }),
    handle: async ({ c, deps, body, param, ctx }) =>
      c.json({ data: await deps.ownership.assign(ctx(), param('entity'), await body()) }),
  },
  {
    method: 'post',
    path: '/api/data/{entity}/{id}/assign',
    operationId: 'assign',
    perEntity,
    summary: entitySummary('Give to another owner'),
    body: 'json',
    doc: () => ({
      parameters: [idParameter],
      requestBody: jsonBody({
        type: 'object',
        required: ['to'],
        properties: { to: { type: 'string', format: 'uuid' }, reason: { type: 'string' } },
      }),
      responses: { 200: object('Assigned'), 403: errorResponse('Not yours to assign'), 404: errorResponse('No such record') },
    }),
    handle: async ({ c, deps, body, param, ctx }) =>
      c.json({ data: await deps.ownership.assign(ctx(), param('entity'), await body(), param('id')) }),
  },
  {
    method: 'get',
    path: '/api/data/{entity}/{id}/assignments',
    operationId: 'assignments',
    perEntity,
    summary: entitySummary('Who held it: the assignment log'),
    doc: () => ({
      parameters: [idParameter],
      responses: { 200: object('Assignments, newest first'), 404: errorResponse('No such record') },
    }),
    handle: async ({ c, deps, param, ctx }) =>
      c.json({ data: await deps.ownership.assignmentLog(ctx(), param('entity'), param('id')) }),
  },
  {
    method: 'get',
    path: '/api/data/{entity}/{id}/shares',
    operationId: 'shares',
    perEntity,
    summary: entitySummary('Who it is shared with'),
    doc: () => ({ parameters: [idParameter], responses: { 200: object('Shares') } }),
    handle: async ({ c, deps, param, ctx }) => c.json({ data: await deps.ownership.shares(ctx(), param('entity'), param('id')) }),
  },
  {
    method: 'post',
    path: '/api/data/{entity}/{id}/shares',
    operationId: 'share',
    perEntity,
    summary: entitySummary('Share with a user or a department'),
    body: 'json',
    doc: () => ({
      parameters: [idParameter],
      requestBody: jsonBody({
        type: 'object',
        required: ['access'],
        properties: {
          user: { type: 'string', format: 'uuid' },
          department: { type: 'string', format: 'uuid' },
          access: { enum: ['read', 'edit'] },
        },
      }),
      responses: { 201: object('Shared'), 403: errorResponse('Not yours to share') },
    }),
    handle: async ({ c, deps, body, param, ctx }) =>
      c.json({ data: await deps.ownership.share(ctx(), param('entity'), param('id'), await body()) }, 201),
  },
  {
    method: 'delete',
    path: '/api/data/{entity}/{id}/shares/{shareId}',
    operationId: 'unshare',
    perEntity,
    summary: entitySummary('Stop sharing'),
    doc: () => ({
      parameters: [idParameter, pathParameter('shareId', { type: 'string', format: 'uuid' })],
      responses: { 200: object('Unshared'), 403: errorResponse('Not yours to share'), 404: errorResponse('No such share') },
    }),
    handle: async ({ c, deps, param, ctx }) =>
      c.json({ data: await deps.ownership.unshare(ctx(), param('entity'), param('id'), param('shareId')) }),
  },
];
