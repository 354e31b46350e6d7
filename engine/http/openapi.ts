/**
 * The OpenAPI 3.1 document of the deployed metadata. Built from the compiled model's JSON Schemas
 * (OpenAPI 3.1 schemas are JSON Schema 2020-12), so the document and the validators cannot disagree.
 * Cached per model version.
 */
import type { AppModel, CompiledEntity } from '../model/compile.js';
import { MAX_LIMIT } from '../data/query.js';
import { MAX_BULK } from '../data/service.js';
import { reportPaths } from '../reports/openapi.js';

const pascal = (name: string) => name.replace(/(^|_)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase());
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown, description: string) => ({ description, content: { 'application/json': { schema } } });
const errorResponse = (description: string) => json(ref('Error'), description);

const listParameters = [
  { name: 'filter', in: 'query', description: 'A json-logic expression (URL-encoded JSON), e.g. {"and":[{"==":[{"var":"stage"},"negotiation"]},{">":[{"var":"amount"},100000]}]}', schema: { type: 'string' } },
  { name: 'sort', in: 'query', description: 'Comma-separated fields, "-" for descending, e.g. -amount,title. Ascending puts empty values first, descending last.', schema: { type: 'string' } },
  { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: 50 } },
  { name: 'cursor', in: 'query', description: 'nextCursor of the previous page (keyset pagination)', schema: { type: 'string' } },
  { name: 'fields', in: 'query', description: 'Comma-separated fields to return (id and version always come)', schema: { type: 'string' } },
  { name: 'expand', in: 'query', description: 'Comma-separated reference fields to replace by the referenced record', schema: { type: 'string' } },
  { name: 'q', in: 'query', description: 'Text search over the searchable fields (case-insensitive substring)', schema: { type: 'string', maxLength: 200 } },
  { name: 'deleted', in: 'query', description: '"only" lists the recycle bin', schema: { enum: ['exclude', 'only'], default: 'exclude' } },
  { name: 'count', in: 'query', description: 'true adds the total number of matching records', schema: { type: 'boolean' } },
];
const idParameter = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };
const ifMatch = { name: 'If-Match', in: 'header', description: 'The version you read ("3"); or send "version" in the body', schema: { type: 'string' } };

function entityPaths(e: CompiledEntity, hasApproval = false) {
  const name = pascal(e.name);
  const tag = e.name;
  const summary = (what: string) => `${what} (${e.label.en} / ${e.label['zh-CN']})`;
  return {
    [`/api/data/${e.name}`]: {
      get: {
        tags: [tag],
        operationId: `list${name}`,
        summary: summary('List'),
        parameters: listParameters,
        responses: { 200: json(ref(`${name}Page`), 'A page of records'), 400: errorResponse('Bad filter, sort or parameter') },
      },
      post: {
        tags: [tag],
        operationId: `create${name}`,
        summary: summary('Create one, or several at once (all or nothing)'),
        requestBody: { required: true, content: { 'application/json': { schema: { oneOf: [ref(`${name}Create`), { type: 'array', minItems: 1, maxItems: MAX_BULK, items: ref(`${name}Create`) }] } } } },
        responses: {
          201: json({ type: 'object', properties: { data: { oneOf: [ref(name), { type: 'array', items: ref(name) }] } } }, 'Created'),
          400: errorResponse('Malformed JSON'),
          422: errorResponse('Invalid record: nothing written'),
        },
      },
    },
    [`/api/data/${e.name}/{id}`]: {
      get: {
        tags: [tag],
        operationId: `get${name}`,
        summary: summary('Get'),
        parameters: [idParameter, listParameters[4], listParameters[5]],
        responses: { 200: json({ type: 'object', properties: { data: ref(name) } }, 'The record; ETag carries its version'), 404: errorResponse('No such record') },
      },
      patch: {
        tags: [tag],
        operationId: `update${name}`,
        summary: summary('Change fields (optimistic locking)'),
        parameters: [idParameter, ifMatch],
        requestBody: { required: true, content: { 'application/json': { schema: ref(`${name}Patch`) } } },
        responses: {
          200: json({ type: 'object', properties: { data: ref(name) } }, 'The updated record'),
          404: errorResponse('No such record'),
          409: errorResponse('Stale version: changed by someone else'),
          422: errorResponse('Invalid change: nothing written'),
          428: errorResponse('No version sent'),
        },
      },
      delete: {
        tags: [tag],
        operationId: `delete${name}`,
        summary: summary('Move to the recycle bin'),
        parameters: [idParameter, ifMatch],
        responses: { 200: json({ type: 'object' }, 'Deleted'), 404: errorResponse('No such record'), 409: errorResponse('Other records still refer to it (restrict) or stale version') },
      },
    },
    [`/api/data/${e.name}/export`]: {
      get: {
        tags: [tag],
        operationId: `export${name}`,
        summary: summary('Export as CSV (export scope, readable fields)'),
        parameters: listParameters.filter((p) => !['limit', 'cursor', 'count'].includes(p.name)),
        responses: { 200: { description: 'CSV, UTF-8 with BOM', content: { 'text/csv': { schema: { type: 'string' } } } }, 403: errorResponse('No export right') },
      },
    },
    [`/api/data/${e.name}/assign`]: {
      post: {
        tags: [tag],
        operationId: `assignMany${name}`,
        summary: summary('Transfer the records of your assign scope owned by "from" and/or matching "filter"'),
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['to'], properties: { to: { type: 'string', format: 'uuid' }, from: { type: 'string', format: 'uuid' }, filter: { type: 'object' }, reason: { type: 'string' } } } } } },
        responses: { 200: json({ type: 'object' }, 'How many were assigned'), 400: errorResponse('Bad request'), 403: errorResponse('No assign right') },
      },
    },
    [`/api/data/${e.name}/{id}/assign`]: {
      post: {
        tags: [tag],
        operationId: `assign${name}`,
        summary: summary('Give to another owner'),
        parameters: [idParameter],
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['to'], properties: { to: { type: 'string', format: 'uuid' }, reason: { type: 'string' } } } } } },
        responses: { 200: json({ type: 'object' }, 'Assigned'), 403: errorResponse('Not yours to assign'), 404: errorResponse('No such record') },
      },
    },
    [`/api/data/${e.name}/{id}/history`]: {
      get: { tags: [tag], operationId: `history${name}`, summary: summary('Audit trail'), parameters: [idParameter], responses: { 200: json({ type: 'object' }, 'Changes, newest first'), 404: errorResponse('No such record') } },
    },
    [`/api/data/${e.name}/{id}/revert`]: {
      post: {
        tags: [tag],
        operationId: `revert${name}`,
        summary: summary('Go back to an earlier version (an audited update)'),
        parameters: [idParameter],
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['version'], properties: { version: { type: 'integer', minimum: 1 } } } } } },
        responses: { 200: json({ type: 'object', properties: { data: ref(name) } }, 'Reverted'), 403: errorResponse('Not allowed'), 404: errorResponse('No such record or version') },
      },
    },
    [`/api/data/${e.name}/{id}/shares`]: {
      get: { tags: [tag], operationId: `shares${name}`, summary: summary('Who it is shared with'), parameters: [idParameter], responses: { 200: json({ type: 'object' }, 'Shares') } },
      post: {
        tags: [tag],
        operationId: `share${name}`,
        summary: summary('Share with a user or a department'),
        parameters: [idParameter],
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['access'], properties: { user: { type: 'string', format: 'uuid' }, department: { type: 'string', format: 'uuid' }, access: { enum: ['read', 'edit'] } } } } } },
        responses: { 201: json({ type: 'object' }, 'Shared'), 403: errorResponse('Not yours to share') },
      },
    },
    ...(e.workflows.length ? workflowPaths(e, tag, name) : {}),
    ...(hasApproval ? approvalPaths(e, tag, name) : {}),
    [`/api/data/${e.name}/{id}/restore`]: {
      post: {
        tags: [tag],
        operationId: `restore${name}`,
        summary: summary('Restore from the recycle bin'),
        parameters: [idParameter],
        responses: { 200: json({ type: 'object', properties: { data: ref(name) } }, 'Restored'), 404: errorResponse('Not in the recycle bin') },
      },
    },
  };
}

const comment = { type: 'object', properties: { comment: { type: 'string', maxLength: 2000 } } };

function workflowPaths(e: CompiledEntity, tag: string, name: string) {
  return {
    [`/api/data/${e.name}/{id}/transitions`]: {
      get: { tags: [tag], operationId: `transitions${name}`, summary: 'What the caller may do now, and why not the rest', parameters: [idParameter], responses: { 200: json({ type: 'object' }, 'State and transitions'), 404: errorResponse('No such record') } },
    },
    [`/api/data/${e.name}/{id}/transitions/{event}`]: {
      post: {
        tags: [tag],
        operationId: `fire${name}`,
        summary: 'Fire a workflow transition',
        parameters: [idParameter, { name: 'event', in: 'path', required: true, schema: { type: 'string' } }],
        requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { comment: { type: 'string', maxLength: 2000 }, input: { type: 'object' }, version: { type: 'integer', minimum: 1 } } } } } },
        responses: { 200: json({ type: 'object' }, 'Fired'), 403: errorResponse('Role or right missing'), 409: errorResponse('Not possible now (invalid_transition, guard_failed, version_conflict)'), 422: errorResponse('Invalid input'), 423: errorResponse('Locked by a pending approval') },
      },
    },
    [`/api/data/${e.name}/{id}/workflow-history`]: {
      get: { tags: [tag], operationId: `workflowHistory${name}`, summary: 'Transitions and time in each state', parameters: [idParameter], responses: { 200: json({ type: 'object' }, 'History') } },
    },
  };
}

function approvalPaths(e: CompiledEntity, tag: string, name: string) {
  const body = { content: { 'application/json': { schema: comment } } };
  return {
    [`/api/data/${e.name}/{id}/approval/submit`]: {
      post: { tags: [tag], operationId: `submit${name}`, summary: 'Submit for approval', parameters: [idParameter], requestBody: body, responses: { 200: json({ type: 'object' }, 'The request'), 403: errorResponse('Not a submitter'), 409: errorResponse('approval_pending, already_approved, entry_criteria_not_met, no_approver') } },
    },
    [`/api/data/${e.name}/{id}/approval/recall`]: {
      post: { tags: [tag], operationId: `recall${name}`, summary: 'Recall a pending approval', parameters: [idParameter], requestBody: body, responses: { 200: json({ type: 'object' }, 'Recalled'), 403: errorResponse('Not the submitter'), 409: errorResponse('not_pending') } },
    },
    [`/api/data/${e.name}/{id}/approval`]: {
      get: { tags: [tag], operationId: `approvalState${name}`, summary: 'Approval status and what the caller may do (submit, recall, decide)', parameters: [idParameter], responses: { 200: json({ type: 'object' }, 'State'), 404: errorResponse('No such record or no approval process') } },
    },
    [`/api/data/${e.name}/{id}/approvals`]: {
      get: { tags: [tag], operationId: `approvals${name}`, summary: 'Approval history', parameters: [idParameter], responses: { 200: json({ type: 'object' }, 'Requests with their tasks, newest first') } },
    },
  };
}

const taskParameter = { name: 'task', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };
const approvalRoutes = {
  '/api/approvals/inbox': { get: { tags: ['approvals'], operationId: 'approvalInbox', responses: { 200: json({ type: 'object' }, 'Open tasks of the caller') } } },
  '/api/approvals/{task}': { get: { tags: ['approvals'], operationId: 'approvalTask', parameters: [taskParameter], responses: { 200: json({ type: 'object' }, 'The task, its request and the record'), 404: errorResponse('No such task of yours') } } },
  ...Object.fromEntries(
    (['approve', 'reject'] as const).map((d) => [
      `/api/approvals/{task}/${d}`,
      { post: { tags: ['approvals'], operationId: `${d}Task`, parameters: [taskParameter], requestBody: { content: { 'application/json': { schema: comment } } }, responses: { 200: json({ type: 'object' }, 'The request after the decision'), 403: errorResponse('Not your task'), 409: errorResponse('task_closed') } } },
    ]),
  ),
  '/api/approvals/{task}/delegate': {
    post: {
      tags: ['approvals'],
      operationId: 'delegateTask',
      parameters: [taskParameter],
      requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['to'], properties: { to: { type: 'string', format: 'uuid' }, comment: { type: 'string' } } } } } },
      responses: { 200: json({ type: 'object' }, 'Delegated'), 409: errorResponse('Already assigned'), 422: errorResponse('No such active user') },
    },
  },
  '/api/notifications': { get: { tags: ['notifications'], operationId: 'notifications', parameters: [{ name: 'unread', in: 'query', schema: { enum: ['true', 'false'] } }], responses: { 200: json({ type: 'object' }, 'Newest first') } } },
  '/api/notifications/{id}/read': { post: { tags: ['notifications'], operationId: 'markRead', parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }], responses: { 200: json({ type: 'object' }, 'Read'), 404: errorResponse('Not yours') } } },
};

const cache = new WeakMap<AppModel, unknown>();

export function buildOpenApi(model: AppModel) {
  const cached = cache.get(model);
  if (cached) return cached;
  const schemas: Record<string, unknown> = {
    Error: {
      type: 'object',
      required: ['error'],
      properties: {
        error: {
          type: 'object',
          required: ['code', 'message'],
          properties: {
            code: { type: 'string', description: 'Machine-readable code, e.g. validation_failed, version_conflict' },
            message: { type: 'string' },
            details: {
              type: 'array',
              items: { type: 'object', required: ['path', 'message'], properties: { path: { type: 'string', description: 'JSON pointer into the request' }, message: { type: 'string' }, code: { type: 'string' }, rule: { type: 'string' } } },
            },
          },
        },
      },
    },
  };
  const paths: Record<string, unknown> = {
    ...approvalRoutes,
    ...reportPaths(model),
    '/api/health': { get: { tags: ['system'], operationId: 'health', security: [], responses: { 200: json({ type: 'object' }, 'Up') } } },
    '/api/auth/login': {
      post: {
        tags: ['auth'],
        operationId: 'login',
        security: [],
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['username', 'password'], properties: { username: { type: 'string' }, password: { type: 'string' } } } } } },
        responses: { 200: json({ type: 'object', properties: { token: { type: 'string' }, expiresAt: { type: 'string', format: 'date-time' }, user: { type: 'object' } } }, 'Logged in; also sets the mc_session cookie'), 400: errorResponse('Malformed'), 401: errorResponse('Wrong username or password'), 423: errorResponse('Locked after failed logins') },
      },
    },
    '/api/auth/logout': { post: { tags: ['auth'], operationId: 'logout', responses: { 200: json({ type: 'object' }, 'Logged out') } } },
    '/api/auth/me': { get: { tags: ['auth'], operationId: 'me', responses: { 200: json({ type: 'object' }, 'The user, roles and permissions') } } },
    '/api/auth/password': { post: { tags: ['auth'], operationId: 'changePassword', responses: { 200: json({ type: 'object' }, 'Changed'), 403: errorResponse('Wrong current password') } } },
    '/api/auth/tokens': {
      get: { tags: ['auth'], operationId: 'listTokens', responses: { 200: json({ type: 'object' }, 'Your API tokens (without secrets)') } },
      post: { tags: ['auth'], operationId: 'createToken', responses: { 201: json({ type: 'object' }, 'The token, shown once') } },
    },
    '/api/auth/tokens/{id}': { delete: { tags: ['auth'], operationId: 'revokeToken', parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }], responses: { 200: json({ type: 'object' }, 'Revoked'), 404: errorResponse('Not yours') } } },
    '/api/auth/history': { get: { tags: ['auth'], operationId: 'loginHistory', responses: { 200: json({ type: 'object' }, 'Your logins') } } },
    '/api/users/{id}/password': { post: { tags: ['users'], operationId: 'setPassword', parameters: [idParameter], responses: { 200: json({ type: 'object' }, 'Set'), 403: errorResponse('Needs users.manage') } } },
    '/api/users/{id}/login-history': { get: { tags: ['users'], operationId: 'userLoginHistory', parameters: [idParameter], responses: { 200: json({ type: 'object' }, 'Logins') } } },
    '/api/users/{id}/handover': { post: { tags: ['users'], operationId: 'handOver', parameters: [idParameter], responses: { 200: json({ type: 'object' }, 'Reassigned counts per entity'), 403: errorResponse('Needs users.manage') } } },
    '/api/delegations': {
      get: { tags: ['users'], operationId: 'listDelegations', responses: { 200: json({ type: 'object' }, 'Delegations') } },
      post: { tags: ['users'], operationId: 'delegate', responses: { 201: json({ type: 'object' }, 'Created'), 400: errorResponse('Invalid period') } },
    },
    '/api/delegations/{id}': { delete: { tags: ['users'], operationId: 'revokeDelegation', parameters: [idParameter], responses: { 200: json({ type: 'object' }, 'Revoked') } } },
    '/api/meta/deploy': {
      post: {
        tags: ['metadata'],
        operationId: 'deploy',
        summary: 'Validate, plan and apply metadata documents in one transaction',
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['documents'],
                properties: {
                  documents: { type: 'array', items: { type: 'object' } },
                  delete: { type: 'array', items: { type: 'object', properties: { kind: { type: 'string' }, name: { type: 'string' } } } },
                  dryRun: { type: 'boolean' },
                  allowDestructive: { type: 'boolean' },
                },
              },
            },
          },
        },
        responses: { 200: json({ type: 'object' }, 'Dry run or nothing to change: the plan'), 201: json({ type: 'object' }, 'Deployed'), 400: errorResponse('Invalid metadata: nothing deployed'), 409: errorResponse('Destructive change not allowed'), 503: errorResponse('A table stayed locked by other transactions past the lock timeout: nothing deployed') },
      },
    },
    '/api/meta/documents': { get: { tags: ['metadata'], operationId: 'listDocuments', parameters: [{ name: 'kind', in: 'query', schema: { type: 'string' } }], responses: { 200: json({ type: 'object' }, 'Deployed documents') } } },
    '/api/meta/documents/{kind}/{name}': { get: { tags: ['metadata'], operationId: 'getDocument', parameters: [{ name: 'kind', in: 'path', required: true, schema: { type: 'string' } }, { name: 'name', in: 'path', required: true, schema: { type: 'string' } }], responses: { 200: json({ type: 'object' }, 'The document'), 404: errorResponse('Not deployed') } } },
    '/api/meta/documents/{kind}/{name}/versions': { get: { tags: ['metadata'], operationId: 'documentVersions', parameters: [{ name: 'kind', in: 'path', required: true, schema: { type: 'string' } }, { name: 'name', in: 'path', required: true, schema: { type: 'string' } }], responses: { 200: json({ type: 'object' }, 'Every deployed version, newest first'), 404: errorResponse('Never deployed') } } },
    '/api/meta/jobs/{queue}/{id}': {
      get: {
        tags: ['metadata'],
        operationId: 'deployJob',
        summary: 'Where a job a deploy queued stands (state and times)',
        parameters: [{ name: 'queue', in: 'path', required: true, schema: { type: 'string' } }, idParameter],
        responses: { 200: json({ type: 'object' }, 'The job: queue, id, state, createdOn, startedOn, completedOn, retryCount'), 403: errorResponse('Needs metadata.deploy'), 404: errorResponse('No such job') },
      },
    },
    '/api/meta/deployments': { get: { tags: ['metadata'], operationId: 'listDeployments', responses: { 200: json({ type: 'object' }, 'Deployments, newest first') } } },
    '/api/meta/schemas/{kind}': { get: { tags: ['metadata'], operationId: 'metaSchema', parameters: [{ name: 'kind', in: 'path', required: true, schema: { type: 'string' } }], responses: { 200: json({ type: 'object' }, 'The meta-schema of a document kind'), 404: errorResponse('Unknown kind') } } },
  };
  for (const e of model.entities.values()) {
    const name = pascal(e.name);
    schemas[name] = { title: e.label.en, description: e.label['zh-CN'], ...e.schemas.record };
    schemas[`${name}Create`] = e.schemas.create;
    schemas[`${name}Patch`] = e.schemas.patch;
    schemas[`${name}Page`] = { type: 'object', required: ['data', 'nextCursor'], properties: { data: { type: 'array', items: ref(name) }, nextCursor: { type: ['string', 'null'] }, total: { type: 'integer' } } };
    Object.assign(paths, entityPaths(e, model.documents.all<{ kind: string; name: string; label: never; entity: string }>('approval').some((a) => a.entity === e.name)));
  }
  const doc = {
    openapi: '3.1.0',
    info: { title: 'metacrm API', version: String(model.version), description: `Generated from metadata version ${model.version}.` },
    paths,
    // Every operation needs a user unless it says `security: []`.
    security: [{ bearerAuth: [] }, { sessionCookie: [] }],
    components: {
      schemas,
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', description: 'A session token from /api/auth/login or a personal API token' },
        sessionCookie: { type: 'apiKey', in: 'cookie', name: 'mc_session' },
      },
    },
  };
  cache.set(model, doc);
  return doc;
}
