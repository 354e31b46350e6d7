/** User administration: passwords, login history, hand-over of a leaver's records, delegations (工作代理). */
import { forbidden } from '../../access/policy.js';
import type { Call, Route } from '../route.js';
import { errorResponse, idParameter, object } from '../route.js';

export function requireSystem({ c }: Call, right: string) {
  if (!c.get('principal').system.has(right)) throw forbidden(`This needs the ${right} right`);
}

export const userRoutes: Route[] = [
  {
    method: 'post',
    path: '/api/users/{id}/password',
    operationId: 'setPassword',
    tag: 'users',
    body: 'json',
    doc: () => ({ parameters: [idParameter], responses: { 200: object('Set'), 403: errorResponse('Needs users.manage') } }),
    async handle(call) {
      requireSystem(call, 'users.manage');
      const body = (await call.body()) as Record<string, unknown>;
      await call.deps.auth.setPassword(call.param('id'), body?.password, {
        keepApiTokens: body?.keepApiTokens === true,
        lang: call.lang(),
      });
      return call.c.json({ changed: true });
    },
  },
  {
    method: 'get',
    path: '/api/users/{id}/login-history',
    operationId: 'userLoginHistory',
    tag: 'users',
    doc: () => ({ parameters: [idParameter], responses: { 200: object('Logins') } }),
    async handle({ c, deps, param, lang }) {
      const p = c.get('principal');
      if (!p.system.has('users.manage') && !p.system.has('audit.read'))
        throw forbidden('This needs the users.manage or audit.read right');
      return c.json({ data: await deps.auth.loginHistory(param('id'), lang()) });
    },
  },
  {
    method: 'post',
    path: '/api/users/{id}/handover',
    operationId: 'handOver',
    tag: 'users',
    body: 'json',
    doc: () => ({
      parameters: [idParameter],
      responses: { 200: object('Reassigned counts per entity'), 403: errorResponse('Needs users.manage') },
    }),
    handle: async ({ c, deps, body, param, ctx }) =>
      c.json({ data: await deps.ownership.handOver(ctx(), param('id'), await body()) }),
  },
  {
    method: 'get',
    path: '/api/delegations',
    operationId: 'listDelegations',
    tag: 'users',
    doc: () => ({ responses: { 200: object('Delegations') } }),
    handle: async ({ c, deps, ctx }) => c.json({ data: await deps.ownership.delegations(ctx()) }),
  },
  {
    method: 'post',
    path: '/api/delegations',
    operationId: 'delegate',
    tag: 'users',
    body: 'json',
    doc: () => ({ responses: { 201: object('Created'), 400: errorResponse('Invalid period') } }),
    handle: async ({ c, deps, body, ctx }) => c.json({ data: await deps.ownership.delegate(ctx(), await body()) }, 201),
  },
  {
    method: 'delete',
    path: '/api/delegations/{id}',
    operationId: 'revokeDelegation',
    tag: 'users',
    doc: () => ({ parameters: [idParameter], responses: { 200: object('Revoked') } }),
    handle: async ({ c, deps, param, ctx }) => c.json({ data: await deps.ownership.revokeDelegation(ctx(), param('id')) }),
  },
];
