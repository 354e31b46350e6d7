/**
 * Record operations of every entity: /api/data/{entity}… Served once for all entities; documented once
 * per deployed entity with that entity's schemas. Order matters where paths overlap: fixed segments
 * (export) before :id.
 */
import { exportFile } from '../../data/operations/export.js';
import { MAX_LIMIT } from '../../data/query.js';
import { MAX_BULK } from '../../data/service.js';
import type { OperationContext } from '../../data/context.js';
import type { Route } from '../route.js';
import { entitySummary, errorResponse, idParameter, json, jsonBody, object, ref } from '../route.js';

/** What c.json sends, for bodies that are already JSON text. */
const JSON_TYPE = { 'content-type': 'application/json' };

export const listParameters = [
  {
    name: 'filter',
    in: 'query',
    description:
      'A json-logic expression (URL-encoded JSON), e.g. {"and":[{"==":[{"var":"stage"},"negotiation"]},{">":[{"var":"amount"},100000]}]}',
    schema: { type: 'string' },
  },
  {
    name: 'sort',
    in: 'query',
    description:
      'Comma-separated fields, "-" for descending, e.g. -amount,title. Ascending puts empty values first, descending last.',
    schema: { type: 'string' },
  },
  { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: 50 } },
  { name: 'cursor', in: 'query', description: 'nextCursor of the previous page (keyset pagination)', schema: { type: 'string' } },
  {
    name: 'fields',
    in: 'query',
    description: 'Comma-separated fields to return (id and version always come)',
    schema: { type: 'string' },
  },
  {
    name: 'expand',
    in: 'query',
    description: 'Comma-separated reference fields to replace by the referenced record',
    schema: { type: 'string' },
  },
  {
    name: 'q',
    in: 'query',
    description: 'Text search over the searchable fields (case-insensitive substring)',
    schema: { type: 'string', maxLength: 200 },
  },
  {
    name: 'deleted',
    in: 'query',
    description: '"only" lists the recycle bin',
    schema: { enum: ['exclude', 'only'], default: 'exclude' },
  },
  { name: 'count', in: 'query', description: 'true adds the total number of matching records', schema: { type: 'boolean' } },
  {
    name: 'sum',
    in: 'query',
    description: 'Comma-separated number fields: adds `sums`, each one\'s total over every matching record (not only the page)',
    schema: { type: 'string' },
  },
];
const ifMatch = {
  name: 'If-Match',
  in: 'header',
  description: 'The version you read ("3"); or send "version" in the body',
  schema: { type: 'string' },
};
const perEntity = {};

/** The caller's context with room for the warnings of `warn` automations (sent as meta.warnings). */
export const warnable = (ctx: () => OperationContext): OperationContext => ({ ...ctx(), warnings: [] });
/** `{ meta: { warnings } }` when automations warned, else nothing. */
export const warningsMeta = (ctx: OperationContext) => (ctx.warnings?.length ? { meta: { warnings: ctx.warnings } } : {});

export const recordRoutes: Route[] = [
  {
    method: 'get',
    path: '/api/data/{entity}',
    operationId: 'list',
    perEntity,
    summary: entitySummary('List'),
    doc: (e) => ({
      parameters: listParameters,
      responses: { 200: json(ref(`${e!.pascal}Page`), 'A page of records'), 400: errorResponse('Bad filter, sort or parameter') },
    }),
    // The page arrives as JSON bytes rendered by PostgreSQL (engine/data/render.ts).
    handle: async ({ c, deps, param, ctx }) =>
      c.body(await deps.data.listJson(ctx(), param('entity'), c.req.query()), 200, JSON_TYPE),
  },
  {
    method: 'get',
    path: '/api/data/{entity}/export',
    operationId: 'export',
    perEntity,
    summary: entitySummary('Export as CSV or XLSX (export scope, readable fields, labels as headers)'),
    doc: () => ({
      description:
        'Every matching record, streamed. Headers are field labels in your language; picklists show labels, references the ' +
        "referenced record's title (ids=true adds an ID column beside each reference); XLSX cells are typed (numbers, dates). " +
        'Use the list view’s filter, sort and fields to export what it shows. See docs/import-export.md.',
      parameters: [
        ...listParameters.filter((p) => !['limit', 'cursor', 'count', 'sum'].includes(p.name)),
        { name: 'format', in: 'query', schema: { enum: ['csv', 'xlsx'], default: 'csv' } },
        { name: 'ids', in: 'query', description: 'true: an ID column beside each reference', schema: { type: 'boolean' } },
      ],
      responses: {
        200: {
          description: 'The file (CSV: UTF-8 with BOM)',
          content: {
            'text/csv': { schema: { type: 'string' } },
            'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': { schema: { type: 'string', format: 'binary' } },
          },
        },
        400: errorResponse('Bad filter, sort, fields or format'),
        403: errorResponse('No export right, or a field you may not read'),
      },
    }),
    async handle({ c, deps, param, ctx }) {
      const file = await exportFile(deps.data, ctx(), param('entity'), c.req.query());
      return c.body(file.body, 200, {
        'content-type': file.type,
        'content-disposition': `attachment; filename="${param('entity')}.${file.fileName.split('.').pop()}"; filename*=UTF-8''${encodeURIComponent(file.fileName)}`,
      });
    },
  },
  {
    method: 'post',
    path: '/api/data/{entity}',
    operationId: 'create',
    perEntity,
    summary: entitySummary('Create one, or several at once (all or nothing)'),
    body: 'json',
    doc: (e) => ({
      requestBody: jsonBody({
        oneOf: [ref(`${e!.pascal}Create`), { type: 'array', minItems: 1, maxItems: MAX_BULK, items: ref(`${e!.pascal}Create`) }],
      }),
      responses: {
        201: json(
          { type: 'object', properties: { data: { oneOf: [ref(e!.pascal), { type: 'array', items: ref(e!.pascal) }] } } },
          'Created',
        ),
        400: errorResponse('Malformed JSON'),
        422: errorResponse('Invalid record: nothing written'),
      },
    }),
    async handle({ c, deps, body, param, ctx }) {
      const context = warnable(ctx);
      const created = await deps.data.create(context, param('entity'), await body());
      if (!Array.isArray(created)) {
        c.header('Location', `/api/data/${param('entity')}/${created.id}`);
        c.header('ETag', `"${created.version}"`);
      }
      return c.json({ data: created, ...warningsMeta(context) }, 201);
    },
  },
  {
    method: 'get',
    path: '/api/data/{entity}/{id}',
    operationId: 'get',
    perEntity,
    summary: entitySummary('Get'),
    doc: (e) => ({
      parameters: [idParameter, listParameters[4], listParameters[5]],
      responses: {
        200: json({ type: 'object', properties: { data: ref(e!.pascal) } }, 'The record; ETag carries its version'),
        404: errorResponse('No such record'),
      },
    }),
    async handle({ c, deps, param, ctx }) {
      const record = await deps.data.get(ctx(), param('entity'), param('id'), c.req.query());
      c.header('ETag', `"${record.version}"`);
      return c.json({ data: record });
    },
  },
  {
    method: 'patch',
    path: '/api/data/{entity}/{id}',
    operationId: 'update',
    perEntity,
    summary: entitySummary('Change fields (optimistic locking)'),
    body: 'json',
    doc: (e) => ({
      parameters: [idParameter, ifMatch],
      requestBody: jsonBody(ref(`${e!.pascal}Patch`)),
      responses: {
        200: json({ type: 'object', properties: { data: ref(e!.pascal) } }, 'The updated record'),
        404: errorResponse('No such record'),
        409: errorResponse('Stale version: changed by someone else'),
        422: errorResponse('Invalid change: nothing written'),
        428: errorResponse('No version sent'),
      },
    }),
    async handle({ c, deps, body, param, ctx }) {
      const context = warnable(ctx);
      const record = await deps.data.update(context, param('entity'), param('id'), await body(), c.req.header('if-match'));
      c.header('ETag', `"${record.version}"`);
      return c.json({ data: record, ...warningsMeta(context) });
    },
  },
  {
    method: 'delete',
    path: '/api/data/{entity}/{id}',
    operationId: 'delete',
    perEntity,
    summary: entitySummary('Move to the recycle bin'),
    doc: () => ({
      parameters: [idParameter, ifMatch],
      responses: {
        200: object('Deleted'),
        404: errorResponse('No such record'),
        409: errorResponse('Other records still refer to it (restrict) or stale version'),
      },
    }),
    handle: async ({ c, deps, param, ctx }) =>
      c.json({ data: await deps.data.remove(ctx(), param('entity'), param('id'), c.req.header('if-match')) }),
  },
  {
    method: 'post',
    path: '/api/data/{entity}/{id}/restore',
    operationId: 'restore',
    perEntity,
    summary: entitySummary('Restore from the recycle bin'),
    doc: (e) => ({
      parameters: [idParameter],
      responses: {
        200: json({ type: 'object', properties: { data: ref(e!.pascal) } }, 'Restored'),
        404: errorResponse('Not in the recycle bin'),
      },
    }),
    handle: async ({ c, deps, param, ctx }) => c.json({ data: await deps.data.restore(ctx(), param('entity'), param('id')) }),
  },
  {
    method: 'post',
    path: '/api/data/{entity}/{id}/copy',
    operationId: 'copy',
    perEntity: { when: (e) => Boolean(e.copyable) },
    summary: entitySummary('Copy with its child collections (a new version); the body may override fields'),
    body: 'optional',
    doc: (e) => ({
      parameters: [idParameter],
      requestBody: jsonBody(ref(`${e!.pascal}Create`)),
      responses: {
        201: json({ type: 'object', properties: { data: ref(e!.pascal) } }, 'The copy, with its children'),
        400: errorResponse('The entity declares no copy'),
        403: errorResponse('No create right'),
        404: errorResponse('No such record'),
        422: errorResponse('The copy is invalid: nothing written'),
      },
    }),
    async handle({ c, deps, body, param, ctx }) {
      const created = await deps.data.copy(ctx(), param('entity'), param('id'), await body());
      c.header('Location', `/api/data/${param('entity')}/${created.id}`);
      return c.json({ data: created }, 201);
    },
  },
  {
    method: 'get',
    path: '/api/data/{entity}/{id}/history',
    operationId: 'history',
    perEntity,
    summary: entitySummary('Audit trail'),
    doc: () => ({
      parameters: [idParameter],
      responses: { 200: object('Changes, newest first'), 404: errorResponse('No such record') },
    }),
    handle: async ({ c, deps, param, ctx }) => c.json({ data: await deps.data.history(ctx(), param('entity'), param('id')) }),
  },
  {
    method: 'post',
    path: '/api/data/{entity}/{id}/revert',
    operationId: 'revert',
    perEntity,
    summary: entitySummary('Go back to an earlier version (an audited update)'),
    body: 'json',
    doc: (e) => ({
      parameters: [idParameter],
      requestBody: jsonBody({ type: 'object', required: ['version'], properties: { version: { type: 'integer', minimum: 1 } } }),
      responses: {
        200: json({ type: 'object', properties: { data: ref(e!.pascal) } }, 'Reverted'),
        403: errorResponse('Not allowed'),
        404: errorResponse('No such record or version'),
      },
    }),
    handle: async ({ c, deps, body, param, ctx }) =>
      c.json({ data: await deps.data.revert(ctx(), param('entity'), param('id'), await body()) }),
  },
];
