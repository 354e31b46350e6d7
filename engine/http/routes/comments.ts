/** Comments on any record, with @mentions (engine/data/operations/comments.ts). */
import { addComment, listComments, removeComment } from '../../data/operations/comments.js';
import type { Route } from '../route.js';
import { errorResponse, idParameter, json, jsonBody, pathParameter } from '../route.js';

const perEntity = {};
const comment = {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    body: { type: 'string' },
    mentions: { type: 'array', items: { type: 'string', format: 'uuid' } },
    createdBy: { type: 'string' },
    authorName: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
  },
};

export const commentRoutes: Route[] = [
  {
    method: 'get',
    path: '/api/data/{entity}/{id}/comments',
    operationId: 'listComments',
    perEntity,
    summary: "The record's comments, newest first (the record's read right)",
    doc: () => ({
      parameters: [idParameter],
      responses: {
        200: json({ type: 'object', properties: { data: { type: 'array', items: comment } } }, 'Comments'),
        404: errorResponse('No such record for you'),
      },
    }),
    handle: async ({ c, deps, param, ctx }) =>
      c.json({ data: await listComments(deps.data, ctx(), param('entity'), param('id')) }),
  },
  {
    method: 'post',
    path: '/api/data/{entity}/{id}/comments',
    operationId: 'addComment',
    perEntity,
    summary: 'Comment on the record; mentioned users who may read it are notified in-app and by e-mail',
    body: 'json',
    bodyLimit: 64 * 1024,
    doc: () => ({
      parameters: [idParameter],
      requestBody: jsonBody({
        type: 'object',
        required: ['body'],
        properties: {
          body: { type: 'string', maxLength: 5000 },
          mentions: { type: 'array', maxItems: 20, items: { type: 'string', format: 'uuid' } },
        },
      }),
      responses: {
        201: json({ type: 'object', properties: { data: comment } }, 'Added; `mentions` lists who was notified'),
        400: errorResponse('Empty or too long, or a bad mention'),
        404: errorResponse('No such record for you'),
      },
    }),
    handle: async ({ c, deps, param, ctx, body }) =>
      c.json({ data: await addComment(deps.data, ctx(), param('entity'), param('id'), await body()) }, 201),
  },
  {
    method: 'delete',
    path: '/api/data/{entity}/{id}/comments/{commentId}',
    operationId: 'removeComment',
    perEntity,
    summary: 'Delete your own comment',
    doc: () => ({
      parameters: [idParameter, pathParameter('commentId', { type: 'string', format: 'uuid' })],
      responses: {
        204: { description: 'Deleted' },
        403: errorResponse('Not your comment'),
        404: errorResponse('No such comment'),
      },
    }),
    async handle({ c, deps, param, ctx }) {
      await removeComment(deps.data, ctx(), param('entity'), param('id'), param('commentId'));
      return c.body(null, 204);
    },
  },
];
