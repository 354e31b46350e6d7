/**
 * What a principal may do, per entity, in a form a UI can use to show or hide actions and fields.
 * Scopes are shown as granted (own, department, …), not evaluated.
 */
import type { AppModel } from '../model/compile.js';
import { Policy } from './policy.js';
import type { Principal } from './principal.js';

export function describeAccess(model: AppModel, principal: Principal) {
  const policy = new Policy(model);
  const out: Record<string, unknown> = {};
  for (const entity of model.entities.values()) {
    const access = policy.access(principal, entity);
    const actions = Object.fromEntries(
      Object.entries(access.scopes)
        .filter(([, s]) => s.length)
        .map(([a, s]) => [a, s.map((x) => (typeof x === 'string' ? x : 'condition'))]),
    );
    if (!Object.keys(actions).length) continue;
    out[entity.name] = {
      actions,
      readableFields: access.readable ? [...access.readable].sort() : null,
      writableFields: access.writable ? [...access.writable].sort() : null,
    };
  }
  return out;
}
