/**
 * The OpenAPI 3.1 document of the deployed metadata, generated from the route table (engine/http/routes)
 * and the record schemas of engine/model/form-schema.ts (OpenAPI 3.1 schemas are JSON Schema 2020-12),
 * so the document, the routes served and the validators cannot disagree. Cached per model version.
 */
import type { AppModel } from '../model/compile.js';
import type { EntityView, Route } from './route.js';
import { ref } from './route.js';
import { addChildCollections } from '../model/form-schema.js';

export const pascal = (name: string) => name.replace(/(^|_)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase());

const ERROR_SCHEMA = {
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
          items: {
            type: 'object',
            required: ['path', 'message'],
            properties: {
              path: { type: 'string', description: 'JSON pointer into the request' },
              message: { type: 'string' },
              code: { type: 'string' },
              rule: { type: 'string' },
            },
          },
        },
      },
    },
  },
};

/** One route's operation object, for an entity when the route is per entity. */
function operation(route: Route, e: EntityView | undefined) {
  const summary = typeof route.summary === 'function' ? route.summary(e!) : route.summary;
  const { description, parameters, requestBody, responses } = route.doc(e);
  return {
    tags: [e ? e.name : route.tag],
    operationId: e ? `${route.operationId}${e.pascal}` : route.operationId,
    ...(summary !== undefined ? { summary } : {}),
    ...(description !== undefined ? { description } : {}),
    ...(parameters !== undefined ? { parameters } : {}),
    ...(requestBody !== undefined ? { requestBody } : {}),
    responses,
    ...(route.auth === false ? { security: [] } : {}),
  };
}

const cache = new WeakMap<AppModel, unknown>();

export function buildOpenApi(model: AppModel, routes: readonly Route[]) {
  const cached = cache.get(model);
  if (cached) return cached;
  const schemas: Record<string, unknown> = { Error: ERROR_SCHEMA };
  const paths: Record<string, Record<string, unknown>> = {};
  const add = (path: string, route: Route, e?: EntityView) => ((paths[path] ??= {})[route.method] = operation(route, e));

  const approvals = new Set(
    model.documents.all<{ kind: string; name: string; label: never; entity: string }>('approval').map((a) => a.entity),
  );
  const entities: EntityView[] = [...model.entities.values()].map((e) => ({
    name: e.name,
    pascal: pascal(e.name),
    label: e.label,
    hasWorkflow: e.workflows.length > 0,
    hasApproval: approvals.has(e.name),
    copyable: Boolean(e.doc.copy),
  }));
  for (const route of routes) {
    if (!route.perEntity) add(route.path, route);
    else for (const e of entities) if (route.perEntity.when?.(e) ?? true) add(route.path.replace('{entity}', e.name), route, e);
  }
  // A concrete path wins over the template in OpenAPI, so each deployed report gets its typed parameters.
  for (const route of routes) {
    if (!route.perDocument) continue;
    for (const d of model.documents.all(route.perDocument.kind)) {
      const { tags, operationId, summary, security } = operation(route, undefined) as Record<string, unknown>;
      (paths[route.path.replace('{name}', d.name)] ??= {})[route.method] = {
        tags,
        operationId: `${operationId}${pascal(d.name)}`,
        summary,
        ...route.perDocument.doc(d as never, model),
        ...(security ? { security } : {}),
      };
    }
  }
  for (const e of model.entities.values()) {
    const name = pascal(e.name);
    // Child collections (quote lines) are arrays of their entity's rows in the record's schemas.
    const withChildren = { create: { ...e.schemas.create }, patch: { ...e.schemas.patch }, record: { ...e.schemas.record } };
    addChildCollections(model, e, undefined, withChildren);
    schemas[name] = { title: e.label.en, description: e.label['zh-CN'], ...withChildren.record };
    schemas[`${name}Create`] = withChildren.create;
    schemas[`${name}Patch`] = withChildren.patch;
    schemas[`${name}Page`] = {
      type: 'object',
      required: ['data', 'nextCursor'],
      properties: {
        data: { type: 'array', items: ref(name) },
        nextCursor: { type: ['string', 'null'] },
        total: { type: 'integer' },
      },
    };
  }
  const doc = {
    openapi: '3.1.0',
    info: {
      title: 'metacrm API',
      version: String(model.version),
      description: `Generated from metadata version ${model.version}.`,
    },
    paths,
    // Every operation needs a user unless it says `security: []`.
    security: [{ bearerAuth: [] }, { sessionCookie: [] }],
    components: {
      schemas,
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description: 'A session token from /api/auth/login or a personal API token',
        },
        sessionCookie: { type: 'apiKey', in: 'cookie', name: 'mc_session' },
      },
    },
  };
  cache.set(model, doc);
  return doc;
}
