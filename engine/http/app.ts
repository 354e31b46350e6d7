/**
 * The REST surface (hono): mounts the route table (engine/http/routes) with what every route shares —
 * error mapping, authentication, JSON bodies within a size limit. Routes only translate HTTP to
 * operations and back; every record operation goes through DataService (and its permission checks),
 * every metadata change through MetadataService.deploy.
 */
import { Hono, type Context } from 'hono';
import { getCookie } from 'hono/cookie';
import { AppError, badRequest } from '../errors.js';
import type { OperationContext } from '../data/service.js';
import { languageOf } from '../model/language.js';
import { inCallersLanguage } from './messages.js';
import { logFailure } from '../log.js';
import type { AppDeps } from './deps.js';
import { honoPath, MAX_BODY, type Env, type Route } from './route.js';
import { ROUTES } from './routes/index.js';
import { SESSION_COOKIE } from './routes/auth.js';

export type { AppDeps } from './deps.js';
export { SESSION_COOKIE } from './routes/auth.js';
export { OPEN_BODY_LIMIT } from './route.js';

const bodyTooLarge = (limit: number) => new AppError(413, 'body_too_large', `Bodies are limited to ${limit} bytes`);

/**
 * The request body as text, at most `limit` bytes. Read straight from Node's request stream when
 * served by @hono/node-server: going through the WHATWG Request (c.req.text(), hono's body-limit
 * middleware) makes the adapter build a full Request with a web stream for every write — about a
 * millisecond of CPU per request. Tests calling app.request hand over a WHATWG body instead.
 */
async function bodyBytes(c: Context<Env>, limit: number): Promise<Buffer> {
  const declared = Number(c.req.header('content-length'));
  if (declared > limit) throw bodyTooLarge(limit);
  const source = (c.env?.incoming ?? c.req.raw.body) as AsyncIterable<Uint8Array> | null;
  if (!source) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of source) {
    size += chunk.byteLength;
    if (size > limit) throw bodyTooLarge(limit);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}
const bodyText = async (c: Context<Env>, limit: number) => (await bodyBytes(c, limit)).toString('utf8');

/** The route's JSON body: required (400 when empty) or optional (transitions and decisions need none). */
async function readBody(c: Context<Env>, route: Route): Promise<unknown> {
  if (!route.body) return undefined;
  const text = await bodyText(c, route.bodyLimit ?? MAX_BODY);
  if (!text.trim()) {
    if (route.body === 'optional') return undefined;
    throw badRequest('invalid_json', 'The request body is empty; send JSON');
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest('invalid_json', `The request body is not valid JSON: ${(e as Error).message}`);
  }
}

/** The caller's language: their own choice (the user's `language` field), else what the browser asks for. */
const langOf = (c: Context<Env>) => c.get('principal')?.language ?? languageOf(c.req.header('accept-language'));
const ctxOf = (c: Context<Env>): OperationContext => ({ principal: c.get('principal'), lang: langOf(c) });

export function createApp(deps: AppDeps, routes: readonly Route[] = ROUTES) {
  const app = new Hono<Env>();
  const { auth } = deps;

  const answer = (c: Context<Env>, err: AppError) => {
    const said = inCallersLanguage(err, langOf(c));
    return c.json(said.toJSON(), said.status as 400, said.headers);
  };
  app.onError((err, c) => {
    if (err instanceof AppError) return answer(c, err);
    logFailure(`${c.req.method} ${c.req.path}`, err);
    return answer(c, new AppError(500, 'internal_error', 'Something went wrong on the server'));
  });
  app.notFound((c) => answer(c, new AppError(404, 'not_found', `No route ${c.req.method} ${c.req.path}`)));

  // Authentication: a bearer token (API clients) or the session cookie (browsers). Runs for every /api
  // path but the open routes', so an unknown path answers 401 to a stranger, not 404.
  const open = new Set(routes.filter((r) => r.auth === false).map((r) => r.path));
  app.use('/api/*', async (c, next) => {
    if (open.has(c.req.path)) return next();
    const header = c.req.header('authorization');
    let token: string | undefined;
    if (header !== undefined) {
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (!match) throw new AppError(401, 'invalid_token', 'The Authorization header must be "Bearer <token>"');
      token = match[1];
    } else token = getCookie(c, SESSION_COOKIE);
    if (!token)
      throw new AppError(401, 'unauthenticated', 'Log in first: send a session cookie or an Authorization: Bearer token');
    const { principal, sessionId } = await auth.authenticate(token);
    c.set('principal', principal);
    c.set('sessionId', sessionId);
    return next();
  });

  for (const route of routes) {
    app.on(route.method.toUpperCase(), honoPath(route.path), (c) =>
      route.handle({
        c,
        deps,
        routes,
        body: () => readBody(c, route),
        bytes: () => bodyBytes(c, route.bodyLimit ?? MAX_BODY),
        param: (name) => c.req.param(name)!,
        ctx: () => ctxOf(c),
        lang: () => langOf(c),
      }),
    );
  }
  return app;
}
