/**
 * Which metadata a user may read. End users get what their UI needs — apps, entities, dictionaries,
 * views, workflows and approvals (labels, fields, states, steps) — and their own permissions through
 * GET /api/auth/me. The security model (roles with their field allowlists), automations (webhook
 * addresses, conditions), templates, deployment plans and document histories are for those who deploy.
 */
import type { Principal } from './principal.js';

/** Kinds any logged-in user may read: what the generated UI is made from. */
export const UI_KINDS: ReadonlySet<string> = new Set([
  'app',
  'entity',
  'dictionary',
  'view',
  'workflow',
  'approval',
  'report',
  'dashboard',
]);

/** Those who deploy metadata read all of it. */
export const readsAllMetadata = (principal: Principal) => principal.system.has('metadata.deploy');

export const mayReadKind = (principal: Principal, kind: string) => readsAllMetadata(principal) || UI_KINDS.has(kind);
