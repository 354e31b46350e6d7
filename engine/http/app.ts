/**
 * The REST surface (hono). Routes only translate HTTP to operations and back: parsing, status codes,
 * headers, cookies. Every request except health and login is authenticated first; every record
 * operation goes through DataService (and its permission checks); every metadata change through
 * MetadataService.deploy.
 */
import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { AppError, badRequest } from '../errors.js';
import type { DataService, OperationContext } from '../data/service.js';
import type { OwnershipService } from '../data/ownership.js';
import type { WorkflowService } from '../workflow/service.js';
import type { Inbox } from '../notifications/inbox.js';
import type { ApprovalService } from '../approvals/service.js';
import type { JobQueue } from '../jobs/queue.js';
import { exportCsv } from '../data/export.js';
import { languageOf, parseLang } from '../model/language.js';
import { formSchema } from '../model/form-schema.js';
import type { MetadataService } from '../../metadata/service.js';
import type { AuthService } from '../auth/service.js';
import type { Principal } from '../access/principal.js';
import { forbidden } from '../access/policy.js';
import { describeAccess } from '../access/describe.js';
import { buildOpenApi } from './openapi.js';
import { clientAddress, type TrustProxy } from './client.js';

export interface AppDeps {
  data: DataService;
  ownership: OwnershipService;
  workflows: WorkflowService;
  approvals: ApprovalService;
  inbox: Inbox;
  metadata: MetadataService;
  auth: AuthService;
  jobs: JobQueue;
  driver: string;
  /** Whether X-Forwarded-For is believed (TRUST_PROXY): see engine/http/client.ts. */
  trustProxy?: TrustProxy;
}

type Env = {
  Variables: { principal: Principal; sessionId: string };
  /** @hono/node-server's bindings: the Node request, when served over HTTP (absent in app.request). */
  Bindings: { incoming?: AsyncIterable<Uint8Array> };
};

const MAX_BODY = 16 * 1024 * 1024;
/** Routes anyone may call (login) read only this much: an anonymous caller cannot make the server hold memory. */
export const OPEN_BODY_LIMIT = 8 * 1024;
export const SESSION_COOKIE = 'mc_session';
/** What c.json sends, for bodies that are already JSON text. */
const JSON_TYPE = { 'content-type': 'application/json' };

const OPEN_PATHS = new Set(['/api/health', '/api/auth/login']);

const bodyTooLarge = (limit: number) => new AppError(413, 'body_too_large', `Bodies are limited to ${limit} bytes`);

/**
 * The request body as text, at most MAX_BODY bytes. Read straight from Node's request stream when
 * served by @hono/node-server: going through the WHATWG Request (c.req.text(), hono's body-limit
 * middleware) makes the adapter build a full Request with a web stream for every write — about a
 * millisecond of CPU per request. Tests calling app.request hand over a WHATWG body instead.
 */
async function bodyText(c: Context<Env>, limit = MAX_BODY): Promise<string> {
  const declared = Number(c.req.header('content-length'));
  if (declared > limit) throw bodyTooLarge(limit);
  const source = (c.env?.incoming ?? c.req.raw.body) as AsyncIterable<Uint8Array> | null;
  if (!source) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of source) {
    size += chunk.byteLength;
    if (size > limit) throw bodyTooLarge(limit);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

async function jsonBody(c: Context<Env>, limit = MAX_BODY): Promise<unknown> {
  const text = await bodyText(c, limit);
  if (!text.trim()) throw badRequest('invalid_json', 'The request body is empty; send JSON');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest('invalid_json', `The request body is not valid JSON: ${(e as Error).message}`);
  }
}

/** A JSON body that may be left out (transitions and approval decisions need none). */
async function optionalJsonBody(c: Context<Env>): Promise<unknown> {
  const text = await bodyText(c);
  try {
    return text.trim() ? JSON.parse(text) : undefined;
  } catch (e) {
    throw badRequest('invalid_json', `The request body is not valid JSON: ${(e as Error).message}`);
  }
}

const ctxOf = (c: Context<Env>): OperationContext => ({ principal: c.get('principal'), lang: languageOf(c.req.header('accept-language')) });

function requireSystem(c: Context<Env>, right: string) {
  if (!c.get('principal').system.has(right)) throw forbidden(`This needs the ${right} right`);
}

export function createApp({ data, ownership, workflows, approvals, inbox, metadata, auth, jobs, driver, trustProxy = false }: AppDeps) {
  const app = new Hono<Env>();

  app.onError((err, c) => {
    if (err instanceof AppError) return c.json(err.toJSON(), err.status as 400, err.headers);
    console.error(err);
    return c.json({ error: { code: 'internal_error', message: 'Something went wrong on the server' } }, 500);
  });
  app.notFound((c) => c.json({ error: { code: 'not_found', message: `No route ${c.req.method} ${c.req.path}` } }, 404));

  // Authentication: a bearer token (API clients) or the session cookie (browsers).
  app.use('/api/*', async (c, next) => {
    if (OPEN_PATHS.has(c.req.path)) return next();
    const header = c.req.header('authorization');
    let token: string | undefined;
    if (header !== undefined) {
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (!match) throw new AppError(401, 'invalid_token', 'The Authorization header must be "Bearer <token>"');
      token = match[1];
    } else token = getCookie(c, SESSION_COOKIE);
    if (!token) throw new AppError(401, 'unauthenticated', 'Log in first: send a session cookie or an Authorization: Bearer token');
    const { principal, sessionId } = await auth.authenticate(token);
    c.set('principal', principal);
    c.set('sessionId', sessionId);
    return next();
  });

  app.get('/api/health', (c) => c.json({ status: 'ok', database: driver, metadataVersion: metadata.model.version }));
  app.get('/api/openapi.json', (c) => c.json(buildOpenApi(metadata.model)));

  // ── identity ──
  app.post('/api/auth/login', async (c) => {
    const body = (await jsonBody(c, OPEN_BODY_LIMIT)) as Record<string, unknown>;
    const client = { ip: clientAddress(c, trustProxy), userAgent: c.req.header('user-agent') };
    const result = await auth.login(body?.username, body?.password, client, ctxOf(c).lang);
    setCookie(c, SESSION_COOKIE, result.token, {
      httpOnly: true,
      sameSite: 'Strict',
      secure: new URL(c.req.url).protocol === 'https:',
      path: '/',
      expires: new Date(result.expiresAt),
    });
    return c.json({ token: result.token, expiresAt: result.expiresAt, user: { id: result.principal.userId, username: result.principal.username, displayName: result.principal.displayName, roles: result.principal.roles } });
  });
  app.post('/api/auth/logout', async (c) => {
    await auth.logout(c.get('sessionId'));
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.json({ loggedOut: true });
  });
  app.get('/api/auth/me', (c) => {
    const p = c.get('principal');
    return c.json({
      user: { id: p.userId, username: p.username, displayName: p.displayName, department: p.departmentId },
      roles: p.roles,
      actingFor: p.selves.filter((s) => s !== p.userId),
      system: [...p.system].sort(),
      permissions: describeAccess(metadata.model, p),
    });
  });
  app.post('/api/auth/password', async (c) => {
    await auth.changeOwnPassword(c.get('principal'), await jsonBody(c), ctxOf(c).lang);
    return c.json({ changed: true });
  });
  app.get('/api/auth/tokens', async (c) => c.json({ data: await auth.listApiTokens(c.get('principal')) }));
  app.post('/api/auth/tokens', async (c) => c.json({ data: await auth.createApiToken(c.get('principal'), await jsonBody(c)) }, 201));
  app.delete('/api/auth/tokens/:id', async (c) => {
    await auth.revokeApiToken(c.get('principal'), c.req.param('id'));
    return c.json({ revoked: c.req.param('id') });
  });
  app.get('/api/auth/history', async (c) => c.json({ data: await auth.loginHistory(c.get('principal').userId) }));

  app.get('/api/notifications', async (c) => c.json({ data: await inbox.list(c.get('principal'), c.req.query()) }));
  app.post('/api/notifications/:id/read', async (c) => c.json({ data: await inbox.markRead(c.get('principal'), c.req.param('id')) }));

  // ── user administration ──
  app.post('/api/users/:id/password', async (c) => {
    requireSystem(c, 'users.manage');
    const body = (await jsonBody(c)) as Record<string, unknown>;
    await auth.setPassword(c.req.param('id'), body?.password, { keepApiTokens: body?.keepApiTokens === true, lang: ctxOf(c).lang });
    return c.json({ changed: true });
  });
  app.get('/api/users/:id/login-history', async (c) => {
    const p = c.get('principal');
    if (!p.system.has('users.manage') && !p.system.has('audit.read')) throw forbidden('This needs the users.manage or audit.read right');
    return c.json({ data: await auth.loginHistory(c.req.param('id'), ctxOf(c).lang) });
  });
  app.post('/api/users/:id/handover', async (c) => c.json({ data: await ownership.handOver(ctxOf(c), c.req.param('id'), await jsonBody(c)) }));
  app.get('/api/delegations', async (c) => c.json({ data: await ownership.delegations(ctxOf(c)) }));
  app.post('/api/delegations', async (c) => c.json({ data: await ownership.delegate(ctxOf(c), await jsonBody(c)) }, 201));
  app.delete('/api/delegations/:id', async (c) => c.json({ data: await ownership.revokeDelegation(ctxOf(c), c.req.param('id')) }));

  // ── metadata ──
  app.post('/api/meta/deploy', async (c) => {
    requireSystem(c, 'metadata.deploy');
    const result = await metadata.deploy(await jsonBody(c), c.get('principal').userId);
    return c.json(result, result.applied ? 201 : 200);
  });
  app.get('/api/meta/documents', (c) => {
    const kind = c.req.query('kind');
    const docs = kind ? metadata.model.documents.all(kind) : metadata.model.documents.values();
    return c.json({ version: metadata.model.version, data: docs });
  });
  app.get('/api/meta/documents/:kind/:name', (c) => {
    const doc = metadata.model.documents.get(c.req.param('kind'), c.req.param('name'));
    if (!doc) throw new AppError(404, 'document_not_found', `No deployed ${c.req.param('kind')} named ${c.req.param('name')}`);
    return c.json(doc);
  });
  app.get('/api/meta/documents/:kind/:name/versions', async (c) => {
    const versions = await metadata.store.history(c.req.param('kind'), c.req.param('name'));
    if (!versions.length) throw new AppError(404, 'document_not_found', `${c.req.param('kind')}/${c.req.param('name')} was never deployed`);
    return c.json({ data: versions });
  });
  app.get('/api/meta/deployments', async (c) => c.json({ data: await metadata.store.deployments() }));
  // Background work a deploy queued (its answer lists the jobs): backfills of existing records.
  app.get('/api/meta/jobs/:queue/:id', async (c) => {
    requireSystem(c, 'metadata.deploy');
    const status = await jobs.status(c.req.param('queue'), c.req.param('id'));
    if (!status) throw new AppError(404, 'job_not_found', `No job ${c.req.param('id')} in queue ${c.req.param('queue')}`);
    return c.json({ data: status });
  });
  // A form description of an entity for the caller, in their language (docs/api.md, engine/model/form-schema.ts).
  app.get('/api/meta/forms/:entity', (c) => {
    const ctx = ctxOf(c);
    const entity = data.entity(c.req.param('entity'));
    const guard = data.guard(ctx);
    guard.assertCan(entity, 'read');
    const lang = c.req.query('lang') === undefined ? ctx.lang : parseLang(c.req.query('lang'));
    if (!lang) {
      const message = ctx.lang === 'zh-CN' ? 'lang 只能是 zh-CN 或 en' : 'lang must be zh-CN or en';
      throw badRequest('invalid_parameter', message, [{ path: '/query/lang', code: 'invalid_parameter', message }]);
    }
    return c.json({ data: formSchema(metadata.model, entity, lang, guard.access(entity) ?? undefined) });
  });
  app.get('/api/meta/schemas/:kind', (c) => {
    const schema = metadata.validator.schemaOf(c.req.param('kind'));
    if (!schema) throw new AppError(404, 'unknown_kind', `No document kind ${c.req.param('kind')}`);
    return c.json(schema);
  });

  // ── records ── (fixed segments before :id)
  // The page arrives as JSON bytes rendered by PostgreSQL (engine/data/render.ts).
  app.get('/api/data/:entity', async (c) => c.body(await data.listJson(ctxOf(c), c.req.param('entity'), c.req.query()), 200, JSON_TYPE));
  app.get('/api/data/:entity/export', async (c) => {
    const csv = await exportCsv(data, ctxOf(c), c.req.param('entity'), c.req.query());
    return c.body(csv, 200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${c.req.param('entity')}.csv"` });
  });
  app.post('/api/data/:entity/assign', async (c) => c.json({ data: await ownership.assign(ctxOf(c), c.req.param('entity'), await jsonBody(c)) }));
  app.post('/api/data/:entity', async (c) => {
    const created = await data.create(ctxOf(c), c.req.param('entity'), await jsonBody(c));
    if (!Array.isArray(created)) {
      c.header('Location', `/api/data/${c.req.param('entity')}/${created.id}`);
      c.header('ETag', `"${created.version}"`);
    }
    return c.json({ data: created }, 201);
  });
  app.get('/api/data/:entity/:id', async (c) => {
    const record = await data.get(ctxOf(c), c.req.param('entity'), c.req.param('id'), c.req.query());
    c.header('ETag', `"${record.version}"`);
    return c.json({ data: record });
  });
  app.patch('/api/data/:entity/:id', async (c) => {
    const record = await data.update(ctxOf(c), c.req.param('entity'), c.req.param('id'), await jsonBody(c), c.req.header('if-match'));
    c.header('ETag', `"${record.version}"`);
    return c.json({ data: record });
  });
  app.delete('/api/data/:entity/:id', async (c) => c.json({ data: await data.remove(ctxOf(c), c.req.param('entity'), c.req.param('id'), c.req.header('if-match')) }));
  app.post('/api/data/:entity/:id/restore', async (c) => c.json({ data: await data.restore(ctxOf(c), c.req.param('entity'), c.req.param('id')) }));
  app.get('/api/data/:entity/:id/history', async (c) => c.json({ data: await data.history(ctxOf(c), c.req.param('entity'), c.req.param('id')) }));
  app.post('/api/data/:entity/:id/revert', async (c) => c.json({ data: await data.revert(ctxOf(c), c.req.param('entity'), c.req.param('id'), await jsonBody(c)) }));
  app.post('/api/data/:entity/:id/assign', async (c) => c.json({ data: await ownership.assign(ctxOf(c), c.req.param('entity'), await jsonBody(c), c.req.param('id')) }));
  app.get('/api/data/:entity/:id/assignments', async (c) => c.json({ data: await ownership.assignmentLog(ctxOf(c), c.req.param('entity'), c.req.param('id')) }));
  app.get('/api/data/:entity/:id/transitions', async (c) => c.json({ data: await workflows.transitions(ctxOf(c), c.req.param('entity'), c.req.param('id')) }));
  app.post('/api/data/:entity/:id/transitions/:event', async (c) =>
    c.json({ data: await workflows.fire(ctxOf(c), c.req.param('entity'), c.req.param('id'), c.req.param('event'), await optionalJsonBody(c)) }),
  );
  app.get('/api/data/:entity/:id/workflow-history', async (c) => c.json({ data: await workflows.history(ctxOf(c), c.req.param('entity'), c.req.param('id')) }));
  app.post('/api/data/:entity/:id/approval/submit', async (c) => c.json({ data: await approvals.submit(ctxOf(c), c.req.param('entity'), c.req.param('id'), await optionalJsonBody(c)) }));
  app.post('/api/data/:entity/:id/approval/recall', async (c) => c.json({ data: await approvals.recall(ctxOf(c), c.req.param('entity'), c.req.param('id'), await optionalJsonBody(c)) }));
  app.get('/api/data/:entity/:id/approval', async (c) => c.json({ data: await approvals.state(ctxOf(c), c.req.param('entity'), c.req.param('id')) }));
  app.get('/api/data/:entity/:id/approvals', async (c) => c.json({ data: await approvals.history(ctxOf(c), c.req.param('entity'), c.req.param('id')) }));
  app.get('/api/approvals/inbox', async (c) => c.json({ data: await approvals.inbox(ctxOf(c)) }));
  app.get('/api/approvals/:task', async (c) => c.json({ data: await approvals.task(ctxOf(c), c.req.param('task')) }));
  app.post('/api/approvals/:task/approve', async (c) => c.json({ data: await approvals.decide(ctxOf(c), c.req.param('task'), 'approve', await optionalJsonBody(c)) }));
  app.post('/api/approvals/:task/reject', async (c) => c.json({ data: await approvals.decide(ctxOf(c), c.req.param('task'), 'reject', await optionalJsonBody(c)) }));
  app.post('/api/approvals/:task/delegate', async (c) => c.json({ data: await approvals.delegate(ctxOf(c), c.req.param('task'), await optionalJsonBody(c)) }));
  app.get('/api/data/:entity/:id/shares', async (c) => c.json({ data: await ownership.shares(ctxOf(c), c.req.param('entity'), c.req.param('id')) }));
  app.post('/api/data/:entity/:id/shares', async (c) => c.json({ data: await ownership.share(ctxOf(c), c.req.param('entity'), c.req.param('id'), await jsonBody(c)) }, 201));
  app.delete('/api/data/:entity/:id/shares/:shareId', async (c) => c.json({ data: await ownership.unshare(ctxOf(c), c.req.param('entity'), c.req.param('id'), c.req.param('shareId')) }));

  return app;
}
