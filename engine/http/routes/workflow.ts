/** Workflow transitions of a record; documented only for entities a workflow serves. */
import type { Route } from '../route.js';
import { warnable, warningsMeta } from './records.js';
import { errorResponse, idParameter, jsonBody, object, pathParameter } from '../route.js';

const perEntity = { when: (e: { hasWorkflow: boolean }) => e.hasWorkflow };

export const workflowRoutes: Route[] = [
  {
    method: 'get',
    path: '/api/data/{entity}/{id}/transitions',
    operationId: 'transitions',
    perEntity,
    summary: 'What the caller may do now, and why not the rest',
    doc: () => ({
      parameters: [idParameter],
      responses: { 200: object('State and transitions'), 404: errorResponse('No such record') },
    }),
    handle: async ({ c, deps, param, ctx }) =>
      c.json({ data: await deps.workflows.transitions(ctx(), param('entity'), param('id')) }),
  },
  {
    method: 'post',
    path: '/api/data/{entity}/{id}/transitions/{event}',
    operationId: 'fire',
    perEntity,
    summary: 'Fire a workflow transition',
    body: 'optional',
    doc: () => ({
      parameters: [idParameter, pathParameter('event')],
      requestBody: jsonBody(
        {
          type: 'object',
          properties: {
            comment: { type: 'string', maxLength: 2000 },
            input: { type: 'object' },
            version: { type: 'integer', minimum: 1 },
          },
        },
        false,
      ),
      responses: {
        200: object('Fired'),
        403: errorResponse('Role or right missing'),
        409: errorResponse('Not possible now (invalid_transition, guard_failed, version_conflict)'),
        422: errorResponse('Invalid input'),
        423: errorResponse('Locked by a pending approval'),
      },
    }),
    handle: async ({ c, deps, body, param, ctx }) => {
      const context = warnable(ctx);
      const data = await deps.workflows.fire(context, param('entity'), param('id'), param('event'), await body());
      return c.json({ data, ...warningsMeta(context) });
    },
  },
  {
    method: 'get',
    path: '/api/data/{entity}/{id}/workflow-history',
    operationId: 'workflowHistory',
    perEntity,
    summary: 'Transitions and time in each state',
    doc: () => ({ parameters: [idParameter], responses: { 200: object('History') } }),
    handle: async ({ c, deps, param, ctx }) =>
      c.json({ data: await deps.workflows.history(ctx(), param('entity'), param('id')) }),
  },
];
