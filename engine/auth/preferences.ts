/**
 * A user's own preferences — their language and time zone, fields of their user record — which every
 * user may set for themselves without any right on the user entity (PATCH /api/auth/me). The values
 * go through the user entity's own validation (a time zone must be an IANA zone), so a bad one is the
 * same 422 with the field's path as anywhere else.
 */
import { engineContext } from '../data/context.js';
import type { DataService } from '../data/service.js';
import { unprocessable } from '../errors.js';
import { t, type Lang } from '../model/language.js';
import type { Principal } from '../access/principal.js';

/** The user fields a user sets on themselves. */
export const PREFERENCE_FIELDS = ['language', 'time_zone'] as const;

export async function setOwnPreferences(data: DataService, principal: Principal, body: unknown, lang: Lang) {
  const users = data.model().entity('user');
  const allowed = PREFERENCE_FIELDS.filter((f) => users?.field(f));
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw unprocessable('invalid_body', t(lang, 'Send a JSON object of preferences', '请发送偏好设置的 JSON 对象'), [
      { path: '', message: t(lang, `may hold ${allowed.join(', ')}`, `可包含 ${allowed.join('、')}`) },
    ]);
  const unknown = Object.keys(body).filter((k) => !(allowed as readonly string[]).includes(k));
  if (unknown.length)
    throw unprocessable(
      'invalid_body',
      t(lang, `Only ${allowed.join(', ')} can be set here`, `此处只能设置 ${allowed.join('、')}`),
      unknown.map((k) => ({ path: `/${k}`, message: t(lang, 'not a preference', '不是偏好设置') })),
    );
  // The engine writes for the user (who may have no right on the user entity); the entity's validation
  // still applies, with messages in the caller's language.
  const ctx = engineContext(lang);
  const { version } = (await data.get(ctx, 'user', principal.userId)) as { version: number };
  const empty = (v: unknown) => v === '' || v === undefined;
  const changes = Object.fromEntries(Object.entries(body).map(([k, v]) => [k, empty(v) ? null : v]));
  const record = (await data.update(ctx, 'user', principal.userId, { ...changes, version })) as Record<string, unknown>;
  return Object.fromEntries(allowed.map((f) => [f, record[f] ?? null]));
}
