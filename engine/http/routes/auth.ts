/**
 * Identity: logging in and out, the caller's own profile, password and API tokens, notifications.
 * Login is the one open route besides health; it sets the session cookie browsers use.
 */
import { deleteCookie, setCookie } from 'hono/cookie';
import { describeAccess } from '../../access/describe.js';
import type { Route } from '../route.js';
import { errorResponse, json, jsonBody, object, OPEN_BODY_LIMIT, pathParameter } from '../route.js';
import { clientAddress } from '../client.js';
import { setOwnPreferences } from '../../auth/preferences.js';

export const SESSION_COOKIE = 'mc_session';

export const authRoutes: Route[] = [
  {
    method: 'post',
    path: '/api/auth/login',
    operationId: 'login',
    tag: 'auth',
    auth: false,
    body: 'json',
    bodyLimit: OPEN_BODY_LIMIT,
    doc: () => ({
      requestBody: jsonBody({
        type: 'object',
        required: ['username', 'password'],
        properties: { username: { type: 'string' }, password: { type: 'string' } },
      }),
      responses: {
        200: json(
          {
            type: 'object',
            properties: {
              token: { type: 'string' },
              expiresAt: { type: 'string', format: 'date-time' },
              user: { type: 'object' },
            },
          },
          'Logged in; also sets the mc_session cookie',
        ),
        400: errorResponse('Malformed'),
        401: errorResponse('Wrong username or password'),
        423: errorResponse('Locked after failed logins'),
      },
    }),
    async handle({ c, deps, body, lang }) {
      const b = (await body()) as Record<string, unknown>;
      const client = { ip: clientAddress(c, deps.trustProxy ?? false), userAgent: c.req.header('user-agent') };
      const result = await deps.auth.login(b?.username, b?.password, client, lang());
      setCookie(c, SESSION_COOKIE, result.token, {
        httpOnly: true,
        sameSite: 'Strict',
        secure: new URL(c.req.url).protocol === 'https:',
        path: '/',
        expires: new Date(result.expiresAt),
      });
      const p = result.principal;
      return c.json({
        token: result.token,
        expiresAt: result.expiresAt,
        user: { id: p.userId, username: p.username, displayName: p.displayName, roles: p.roles },
      });
    },
  },
  {
    method: 'post',
    path: '/api/auth/logout',
    operationId: 'logout',
    tag: 'auth',
    doc: () => ({ responses: { 200: object('Logged out') } }),
    async handle({ c, deps }) {
      await deps.auth.logout(c.get('sessionId'));
      deleteCookie(c, SESSION_COOKIE, { path: '/' });
      return c.json({ loggedOut: true });
    },
  },
  {
    method: 'get',
    path: '/api/auth/me',
    operationId: 'me',
    tag: 'auth',
    doc: () => ({ responses: { 200: object('The user, roles and permissions') } }),
    handle({ c, deps }) {
      const p = c.get('principal');
      return c.json({
        user: { id: p.userId, username: p.username, displayName: p.displayName, department: p.departmentId },
        // The zone date-times are shown in (the user's, else the organisation's default); null: the browser's.
        timeZone: p.timeZone ?? null,
        // The language the user chose (PATCH /api/auth/me): the API answers in it, the UI starts in it; null: none chosen.
        language: p.language ?? null,
        roles: p.roles,
        // The roles' names in both languages (role documents are for deployers; their labels are not secret).
        roleLabels: Object.fromEntries(p.roles.map((r) => [r, deps.metadata.model.documents.get('role', r)?.label ?? null])),
        actingFor: p.selves.filter((s) => s !== p.userId),
        system: [...p.system].sort(),
        permissions: describeAccess(deps.metadata.model, p),
      });
    },
  },
  {
    method: 'patch',
    path: '/api/auth/me',
    operationId: 'setPreferences',
    tag: 'auth',
    body: 'json',
    doc: () => ({
      requestBody: jsonBody({
        type: 'object',
        additionalProperties: false,
        properties: {
          language: { enum: ['zh_cn', 'en', null], description: 'The language the API answers in' },
          time_zone: { type: ['string', 'null'], description: 'An IANA time zone (Asia/Shanghai); null: the default' },
        },
      }),
      responses: { 200: object('The preferences as stored'), 422: errorResponse('Not a preference, or not a valid value') },
    }),
    async handle({ c, deps, body, lang }) {
      return c.json({ data: await setOwnPreferences(deps.data, c.get('principal'), await body(), lang()) });
    },
  },
  {
    method: 'post',
    path: '/api/auth/password',
    operationId: 'changePassword',
    tag: 'auth',
    body: 'json',
    doc: () => ({ responses: { 200: object('Changed'), 403: errorResponse('Wrong current password') } }),
    async handle({ c, deps, body, lang }) {
      await deps.auth.changeOwnPassword(c.get('principal'), await body(), lang());
      return c.json({ changed: true });
    },
  },
  {
    method: 'get',
    path: '/api/auth/tokens',
    operationId: 'listTokens',
    tag: 'auth',
    doc: () => ({ responses: { 200: object('Your API tokens (without secrets)') } }),
    handle: async ({ c, deps }) => c.json({ data: await deps.auth.listApiTokens(c.get('principal')) }),
  },
  {
    method: 'post',
    path: '/api/auth/tokens',
    operationId: 'createToken',
    tag: 'auth',
    body: 'json',
    doc: () => ({ responses: { 201: object('The token, shown once') } }),
    handle: async ({ c, deps, body }) => c.json({ data: await deps.auth.createApiToken(c.get('principal'), await body()) }, 201),
  },
  {
    method: 'delete',
    path: '/api/auth/tokens/{id}',
    operationId: 'revokeToken',
    tag: 'auth',
    doc: () => ({ parameters: [pathParameter('id')], responses: { 200: object('Revoked'), 404: errorResponse('Not yours') } }),
    async handle({ c, deps, param }) {
      await deps.auth.revokeApiToken(c.get('principal'), param('id'));
      return c.json({ revoked: param('id') });
    },
  },
  {
    method: 'get',
    path: '/api/auth/history',
    operationId: 'loginHistory',
    tag: 'auth',
    doc: () => ({ responses: { 200: object('Your logins') } }),
    handle: async ({ c, deps }) => c.json({ data: await deps.auth.loginHistory(c.get('principal').userId) }),
  },
  {
    method: 'get',
    path: '/api/notifications',
    operationId: 'notifications',
    tag: 'notifications',
    doc: () => ({
      parameters: [{ name: 'unread', in: 'query', schema: { enum: ['true', 'false'] } }],
      responses: { 200: object('Newest first') },
    }),
    handle: async ({ c, deps }) => c.json({ data: await deps.inbox.list(c.get('principal'), c.req.query()) }),
  },
  {
    method: 'post',
    path: '/api/notifications/{id}/read',
    operationId: 'markRead',
    tag: 'notifications',
    doc: () => ({ parameters: [pathParameter('id')], responses: { 200: object('Read'), 404: errorResponse('Not yours') } }),
    handle: async ({ c, deps, param }) => c.json({ data: await deps.inbox.markRead(c.get('principal'), param('id')) }),
  },
];
