/**
 * What an HTTP route is: declared once (method, path, operation id, documentation, authentication,
 * body limit, handler) in a table under engine/http/routes/. app.ts mounts the table on hono and
 * openapi.ts documents the same table, so a route cannot be served undocumented or documented unserved.
 */
import type { Context } from 'hono';
import type { LocalizedText } from '../registry/types.js';
import type { OperationContext } from '../data/service.js';
import type { Principal } from '../access/principal.js';
import type { Lang } from '../model/language.js';
import type { AppModel } from '../model/compile.js';
import type { AppDeps } from './deps.js';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export type Env = {
  Variables: { principal: Principal; sessionId: string };
  /** @hono/node-server's bindings: the Node request, when served over HTTP (absent in app.request). */
  Bindings: { incoming?: AsyncIterable<Uint8Array> };
};

/** An OpenAPI operation object without what the table itself says (operationId, tags, summary). */
export interface OperationDoc {
  description?: string;
  parameters?: unknown[];
  requestBody?: unknown;
  responses: Record<number, unknown>;
}

/** A deployed entity, as the document of a per-entity route sees it. */
export interface EntityView {
  name: string;
  /** PascalCase name: component schemas and operation ids (`listOpportunity`). */
  pascal: string;
  label: LocalizedText;
  hasWorkflow: boolean;
  hasApproval: boolean;
  /** Declares `copy` (POST …/:id/copy). */
  copyable?: boolean;
}

/** What a handler gets: the hono context, the services, the parsed body and the caller. */
export interface Call {
  c: Context<Env>;
  deps: AppDeps;
  /** The table being served (the OpenAPI route documents it). */
  routes: readonly Route[];
  /**
   * Reads the JSON body the route declares (undefined when optional and absent). Read on demand, so a
   * handler checks rights before it looks at what was sent.
   */
  body(): Promise<unknown>;
  /** The raw body (an upload), within the route's body limit. */
  bytes(): Promise<Buffer>;
  param(name: string): string;
  /** The operation context of the authenticated caller (not on open routes). */
  ctx(): OperationContext;
  /** The caller's language (Accept-Language), on open routes too. */
  lang(): Lang;
}

export interface Route {
  method: Method;
  /** OpenAPI path template ({id}); per-entity routes write {entity} where the entity name goes. */
  path: string;
  /** For per-entity routes, a prefix the document completes with the entity's PascalCase name. */
  operationId: string;
  /** The OpenAPI tag; per-entity routes are tagged with their entity's name. */
  tag?: string;
  summary?: string | ((e: EntityView) => string);
  /** Whether the caller must be authenticated (default true). */
  auth?: boolean;
  /** A JSON body is read: required, or optional (absent or empty is fine). */
  body?: 'json' | 'optional';
  /** Bytes a body may have (default MAX_BODY). */
  bodyLimit?: number;
  /** Documented once per deployed entity (path under /api/data/<name>) for which `when` holds. */
  perEntity?: { when?: (e: EntityView) => boolean };
  /**
   * Also documented once per deployed document of `kind` (a report), its `{name}` filled in, with the
   * document's own parameters: clients see `GET /api/reports/sales_by_region?from=…` typed.
   */
  perDocument?: { kind: string; doc(document: never, model: AppModel): OperationDoc };
  doc(e: EntityView | undefined): OperationDoc;
  handle(call: Call): Response | Promise<Response>;
}

export const MAX_BODY = 16 * 1024 * 1024;
/** Routes anyone may call (login) read only this much: an anonymous caller cannot make the server hold memory. */
export const OPEN_BODY_LIMIT = 8 * 1024;

/** The hono path of a route: {param} → :param. */
export const honoPath = (path: string) => path.replace(/\{(\w+)\}/g, ':$1');

// ── documentation helpers shared by the route files ──
export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
export const json = (schema: unknown, description: string) => ({ description, content: { 'application/json': { schema } } });
export const errorResponse = (description: string) => json(ref('Error'), description);
export const object = (description: string) => json({ type: 'object' }, description);
export const pathParameter = (name: string, schema: Record<string, unknown> = { type: 'string' }) => ({
  name,
  in: 'path',
  required: true,
  schema,
});
export const idParameter = pathParameter('id', { type: 'string', format: 'uuid' });
export const jsonBody = (schema: unknown, required = true) => ({
  ...(required ? { required: true } : {}),
  content: { 'application/json': { schema } },
});
/** "List (Opportunity / 商机)": per-entity summaries name the entity in both languages. */
export const entitySummary = (what: string) => (e: EntityView) => `${what} (${e.label.en} / ${e.label['zh-CN']})`;
