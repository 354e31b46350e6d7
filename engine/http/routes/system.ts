/** Health and the API's own description: open to anyone (health) or to any logged-in caller. */
import type { Route } from '../route.js';
import { object } from '../route.js';
import { buildOpenApi } from '../openapi.js';

export const systemRoutes: Route[] = [
  {
    method: 'get',
    path: '/api/health',
    operationId: 'health',
    tag: 'system',
    auth: false,
    doc: () => ({ responses: { 200: object('Up') } }),
    handle: ({ c, deps }) => c.json({ status: 'ok', database: deps.driver, metadataVersion: deps.metadata.model.version }),
  },
  {
    method: 'get',
    path: '/api/openapi.json',
    operationId: 'openapi',
    tag: 'system',
    summary: 'This document: the OpenAPI 3.1 description of the deployed metadata',
    doc: () => ({ responses: { 200: object('The OpenAPI document') } }),
    handle: ({ c, deps, routes }) => c.json(buildOpenApi(deps.metadata.model, routes)),
  },
];
