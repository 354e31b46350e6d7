/**
 * Approvals: submitting and recalling a record (documented for entities with an approval process) and
 * the approver's side — the inbox and the decisions on a task. /api/approvals/inbox before {task}.
 */
import type { Route } from '../route.js';
import { errorResponse, idParameter, jsonBody, object, pathParameter } from '../route.js';

const perEntity = { when: (e: { hasApproval: boolean }) => e.hasApproval };
const comment = { type: 'object', properties: { comment: { type: 'string', maxLength: 2000 } } };
const taskParameter = pathParameter('task', { type: 'string', format: 'uuid' });

export const approvalRoutes: Route[] = [
  {
    method: 'post',
    path: '/api/data/{entity}/{id}/approval/submit',
    operationId: 'submit',
    perEntity,
    summary: 'Submit for approval',
    body: 'optional',
    doc: () => ({
      parameters: [idParameter],
      requestBody: jsonBody(comment, false),
      responses: {
        200: object('The request'),
        403: errorResponse('Not a submitter'),
        409: errorResponse('approval_pending, already_approved, entry_criteria_not_met, no_approver'),
      },
    }),
    handle: async ({ c, deps, body, param, ctx }) =>
      c.json({ data: await deps.approvals.submit(ctx(), param('entity'), param('id'), await body()) }),
  },
  {
    method: 'post',
    path: '/api/data/{entity}/{id}/approval/recall',
    operationId: 'recall',
    perEntity,
    summary: 'Recall a pending approval',
    body: 'optional',
    doc: () => ({
      parameters: [idParameter],
      requestBody: jsonBody(comment, false),
      responses: { 200: object('Recalled'), 403: errorResponse('Not the submitter'), 409: errorResponse('not_pending') },
    }),
    handle: async ({ c, deps, body, param, ctx }) =>
      c.json({ data: await deps.approvals.recall(ctx(), param('entity'), param('id'), await body()) }),
  },
  {
    method: 'get',
    path: '/api/data/{entity}/{id}/approval',
    operationId: 'approvalState',
    perEntity,
    summary: 'Approval status and what the caller may do (submit, recall, decide)',
    doc: () => ({
      parameters: [idParameter],
      responses: { 200: object('State'), 404: errorResponse('No such record or no approval process') },
    }),
    handle: async ({ c, deps, param, ctx }) => c.json({ data: await deps.approvals.state(ctx(), param('entity'), param('id')) }),
  },
  {
    method: 'get',
    path: '/api/data/{entity}/{id}/approvals',
    operationId: 'approvals',
    perEntity,
    summary: 'Approval history',
    doc: () => ({ parameters: [idParameter], responses: { 200: object('Requests with their tasks, newest first') } }),
    handle: async ({ c, deps, param, ctx }) =>
      c.json({ data: await deps.approvals.history(ctx(), param('entity'), param('id')) }),
  },
  {
    method: 'get',
    path: '/api/approvals/inbox',
    operationId: 'approvalInbox',
    tag: 'approvals',
    doc: () => ({ responses: { 200: object('Open tasks of the caller') } }),
    handle: async ({ c, deps, ctx }) => c.json({ data: await deps.approvals.inbox(ctx()) }),
  },
  {
    method: 'get',
    path: '/api/approvals/{task}',
    operationId: 'approvalTask',
    tag: 'approvals',
    doc: () => ({
      parameters: [taskParameter],
      responses: { 200: object('The task, its request and the record'), 404: errorResponse('No such task of yours') },
    }),
    handle: async ({ c, deps, param, ctx }) => c.json({ data: await deps.approvals.task(ctx(), param('task')) }),
  },
  ...(['approve', 'reject'] as const).map(
    (decision): Route => ({
      method: 'post',
      path: `/api/approvals/{task}/${decision}`,
      operationId: `${decision}Task`,
      tag: 'approvals',
      body: 'optional',
      doc: () => ({
        parameters: [taskParameter],
        requestBody: jsonBody(comment, false),
        responses: {
          200: object('The request after the decision'),
          403: errorResponse('Not your task'),
          409: errorResponse('task_closed'),
        },
      }),
      handle: async ({ c, deps, body, param, ctx }) =>
        c.json({ data: await deps.approvals.decide(ctx(), param('task'), decision, await body()) }),
    }),
  ),
  {
    method: 'post',
    path: '/api/approvals/{task}/delegate',
    operationId: 'delegateTask',
    tag: 'approvals',
    body: 'optional',
    doc: () => ({
      parameters: [taskParameter],
      requestBody: jsonBody({
        type: 'object',
        required: ['to'],
        properties: { to: { type: 'string', format: 'uuid' }, comment: { type: 'string' } },
      }),
      responses: { 200: object('Delegated'), 409: errorResponse('Already assigned'), 422: errorResponse('No such active user') },
    }),
    handle: async ({ c, deps, body, param, ctx }) =>
      c.json({ data: await deps.approvals.delegate(ctx(), param('task'), await body()) }),
  },
];
