/**
 * Metadata: deploying documents, reading what is deployed, the meta-schemas of the document kinds, the
 * form description of an entity (engine/model/form-schema.ts) and the jobs a deploy queued.
 */
import { recentJobFailures } from '../../notifications/job-failures.js';
import { mayReadKind } from '../../access/metadata-visibility.js';
import { forbidden } from '../../access/policy.js';
import { AppError, badRequest } from '../../errors.js';
import { formSchema } from '../../model/form-schema.js';
import { parseLang } from '../../model/language.js';
import { resolveView } from '../../views/resolve.js';
import type { Route } from '../route.js';
import { errorResponse, idParameter, jsonBody, object, pathParameter } from '../route.js';
import { requireSystem } from './users.js';

const kindAndName = [pathParameter('kind'), pathParameter('name')];

export const metaRoutes: Route[] = [
  {
    method: 'post',
    path: '/api/meta/deploy',
    operationId: 'deploy',
    tag: 'metadata',
    summary: 'Validate, plan and apply metadata documents in one transaction',
    body: 'json',
    doc: () => ({
      requestBody: jsonBody({
        type: 'object',
        required: ['documents'],
        properties: {
          documents: { type: 'array', items: { type: 'object' } },
          delete: {
            type: 'array',
            items: { type: 'object', properties: { kind: { type: 'string' }, name: { type: 'string' } } },
          },
          dryRun: { type: 'boolean' },
          allowDestructive: { type: 'boolean' },
        },
      }),
      responses: {
        200: object('Dry run or nothing to change: the plan'),
        201: object('Deployed'),
        400: errorResponse('Invalid metadata: nothing deployed'),
        409: errorResponse('Destructive change not allowed'),
        503: errorResponse('A table stayed locked by other transactions past the lock timeout: nothing deployed'),
      },
    }),
    async handle(call) {
      requireSystem(call, 'metadata.deploy');
      const result = await call.deps.metadata.deploy(await call.body(), call.c.get('principal').userId, call.lang());
      return call.c.json(result, result.applied ? 201 : 200);
    },
  },
  {
    method: 'get',
    path: '/api/meta/documents',
    operationId: 'listDocuments',
    tag: 'metadata',
    doc: () => ({
      parameters: [{ name: 'kind', in: 'query', schema: { type: 'string' } }],
      responses: { 200: object('Deployed documents') },
    }),
    handle({ c, deps }) {
      const kind = c.req.query('kind');
      const model = deps.metadata.model;
      const principal = c.get('principal');
      if (kind !== undefined && !mayReadKind(principal, kind))
        throw forbidden(`${kind} documents are for those who deploy metadata`);
      const docs = kind ? model.documents.all(kind) : model.documents.values().filter((d) => mayReadKind(principal, d.kind));
      return c.json({ version: model.version, data: docs });
    },
  },
  {
    method: 'get',
    path: '/api/meta/documents/{kind}/{name}',
    operationId: 'getDocument',
    tag: 'metadata',
    doc: () => ({ parameters: kindAndName, responses: { 200: object('The document'), 404: errorResponse('Not deployed') } }),
    handle({ c, deps, param }) {
      if (!mayReadKind(c.get('principal'), param('kind')))
        throw forbidden(`${param('kind')} documents are for those who deploy metadata`);
      const doc = deps.metadata.model.documents.get(param('kind'), param('name'));
      if (!doc) throw new AppError(404, 'document_not_found', `No deployed ${param('kind')} named ${param('name')}`);
      return c.json(doc);
    },
  },
  {
    method: 'get',
    path: '/api/meta/documents/{kind}/{name}/versions',
    operationId: 'documentVersions',
    tag: 'metadata',
    doc: () => ({
      parameters: kindAndName,
      responses: { 200: object('Every deployed version, newest first'), 404: errorResponse('Never deployed') },
    }),
    async handle(call) {
      const { c, deps, param } = call;
      requireSystem(call, 'metadata.deploy'); // old versions may hold what the current one took out
      const versions = await deps.metadata.store.history(param('kind'), param('name'));
      if (!versions.length) throw new AppError(404, 'document_not_found', `${param('kind')}/${param('name')} was never deployed`);
      return c.json({ data: versions });
    },
  },
  {
    method: 'get',
    path: '/api/meta/deployments',
    operationId: 'listDeployments',
    tag: 'metadata',
    doc: () => ({ responses: { 200: object('Deployments, newest first') } }),
    // Plans hold the SQL of every schema change: for those who deploy.
    async handle(call) {
      requireSystem(call, 'metadata.deploy');
      return call.c.json({ data: await call.deps.metadata.store.deployments() });
    },
  },
  {
    // Background work a deploy queued (its answer lists the jobs): backfills, index builds.
    method: 'get',
    path: '/api/meta/jobs/{queue}/{id}',
    operationId: 'deployJob',
    tag: 'metadata',
    summary: 'Where a job a deploy queued stands (state and times)',
    doc: () => ({
      parameters: [pathParameter('queue'), idParameter],
      responses: {
        200: object('The job: queue, id, state, createdOn, startedOn, completedOn, retryCount'),
        403: errorResponse('Needs metadata.deploy'),
        404: errorResponse('No such job'),
      },
    }),
    async handle(call) {
      requireSystem(call, 'metadata.deploy');
      const status = await call.deps.jobs.status(call.param('queue'), call.param('id'));
      if (!status) throw new AppError(404, 'job_not_found', `No job ${call.param('id')} in queue ${call.param('queue')}`);
      return call.c.json({ data: status });
    },
  },
  {
    // Timers, escalations and scheduled automations that failed (engine/jobs/failures.ts).
    method: 'get',
    path: '/api/meta/job-failures',
    operationId: 'jobFailures',
    tag: 'metadata',
    summary: 'Background jobs that failed, newest first',
    doc: () => ({
      responses: {
        200: object('Failures: kind, job, entity, record_id, code, message, at'),
        403: errorResponse('Needs metadata.deploy or audit.read'),
      },
    }),
    async handle(call) {
      const p = call.c.get('principal');
      if (!p.system.has('metadata.deploy') && !p.system.has('audit.read')) requireSystem(call, 'audit.read');
      return call.c.json({ data: await recentJobFailures(call.deps.data.database) });
    },
  },
  {
    method: 'get',
    path: '/api/meta/forms/{entity}',
    operationId: 'formSchema',
    tag: 'metadata',
    summary: "An entity's forms for the caller: JSON Schemas (create, update, read), uiSchema, fields and rules, in one language",
    doc: () => ({
      parameters: [
        pathParameter('entity'),
        {
          name: 'lang',
          in: 'query',
          description: 'zh-CN or en (default: Accept-Language, else en)',
          schema: { enum: ['zh-CN', 'en'] },
        },
      ],
      responses: {
        200: object('The form description'),
        400: errorResponse('Unknown language'),
        403: errorResponse('No read right on the entity'),
        404: errorResponse('No such entity'),
      },
    }),
    handle({ c, deps, param, ctx }) {
      const context = ctx();
      const entity = deps.data.entity(param('entity'));
      const guard = deps.data.guard(context);
      guard.assertCan(entity, 'read');
      const lang = c.req.query('lang') === undefined ? context.lang : parseLang(c.req.query('lang'));
      if (!lang) {
        const message = context.lang === 'zh-CN' ? 'lang 只能是 zh-CN 或 en' : 'lang must be zh-CN or en';
        throw badRequest('invalid_parameter', message, [{ path: '/query/lang', code: 'invalid_parameter', message }]);
      }
      const childAccess = (child: typeof entity) =>
        guard.can(child, 'read')
          ? {
              ...(guard.access(child) ?? { readable: null, writable: null }),
              create: guard.can(child, 'create'),
              update: guard.can(child, 'update'),
              delete: guard.can(child, 'delete'),
            }
          : null;
      return c.json({ data: formSchema(deps.metadata.model, entity, lang, guard.access(entity) ?? undefined, childAccess) });
    },
  },
  {
    method: 'get',
    path: '/api/meta/views/{entity}',
    operationId: 'entityViews',
    tag: 'metadata',
    summary:
      'How the web UI shows an entity to the caller: the deployed views (list views, kanban, record layouts), else generated defaults',
    doc: () => ({
      parameters: [
        pathParameter('entity'),
        {
          name: 'lang',
          in: 'query',
          description: 'zh-CN or en (default: Accept-Language, else en)',
          schema: { enum: ['zh-CN', 'en'] },
        },
      ],
      responses: {
        200: object('The views of the entity for the caller'),
        400: errorResponse('Unknown language'),
        404: errorResponse('No such entity'),
      },
    }),
    handle({ c, deps, param, ctx }) {
      const context = ctx();
      const lang = c.req.query('lang') === undefined ? context.lang : parseLang(c.req.query('lang'));
      if (!lang) {
        const message = context.lang === 'zh-CN' ? 'lang 只能是 zh-CN 或 en' : 'lang must be zh-CN or en';
        throw badRequest('invalid_parameter', message, [{ path: '/query/lang', code: 'invalid_parameter', message }]);
      }
      return c.json({ data: resolveView(deps.metadata.model, param('entity'), c.get('principal'), lang) });
    },
  },
  {
    method: 'get',
    path: '/api/meta/schemas/{kind}',
    operationId: 'metaSchema',
    tag: 'metadata',
    doc: () => ({
      parameters: [pathParameter('kind')],
      responses: { 200: object('The meta-schema of a document kind'), 404: errorResponse('Unknown kind') },
    }),
    handle({ c, deps, param }) {
      const schema = deps.metadata.validator.schemaOf(param('kind'));
      if (!schema) throw new AppError(404, 'unknown_kind', `No document kind ${param('kind')}`);
      return c.json(schema);
    },
  },
];
