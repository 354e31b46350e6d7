/**
 * Identity: logins, sessions, personal API tokens, lockout and login history.
 *
 * Secrets are never stored: passwords as scrypt hashes, session and API tokens as SHA-256 of a random
 * 256-bit token (a token is as strong as a key, so a fast hash suffices). A token resolves to a Principal,
 * cached per process for a short while; revocations, logouts and changes to users, departments, roles or
 * delegations NOTIFY every process to drop its cache, so they take effect at once everywhere.
 */
import { createHash, randomBytes } from 'node:crypto';
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { AppError, badRequest, notFound } from '../errors.js';
import { UUID, uuidv7 } from '../model/ids.js';
import { isStorableText } from '../model/text.js';
import { isDateTime } from '../model/formats.js';
import { apiRows } from '../db/api-rows.js';
import type { MetadataService } from '../../metadata/service.js';
import { loadPrincipal, type Principal } from '../access/principal.js';
import { decoyHash, hashPassword, passwordProblem, verifyPassword } from './passwords.js';
import { t, type Lang } from '../model/language.js';

export const AUTH_SQL = `
create schema if not exists auth;
create table if not exists auth.credentials (
  user_id uuid primary key,
  password_hash text not null,
  failed_attempts integer not null default 0,
  locked_until timestamptz,
  changed_at timestamptz not null default now()
);
create table if not exists auth.sessions (
  id uuid primary key,
  token_hash text not null unique,
  user_id uuid not null,
  kind text not null check (kind in ('session', 'api_token')),
  name text,
  created_at timestamptz not null default now(),
  expires_at timestamptz,
  last_used_at timestamptz,
  revoked_at timestamptz
);
create index if not exists sessions_user on auth.sessions (user_id, kind);
create table if not exists auth.login_history (
  id bigserial primary key,
  user_id uuid,
  username text not null,
  at timestamptz not null default now(),
  success boolean not null,
  reason text,
  ip text,
  user_agent text
);
create index if not exists login_history_user on auth.login_history (user_id, at desc);
-- Login attempts per user name and per client address in the current window (throttling, all processes).
create table if not exists auth.login_throttle (
  key text primary key,
  window_start timestamptz not null,
  attempts integer not null
);
create table if not exists auth.shares (
  id uuid primary key,
  entity text not null,
  record_id uuid not null,
  user_id uuid,
  department_id uuid,
  access text not null check (access in ('read', 'edit')),
  created_by uuid,
  created_at timestamptz not null default now(),
  check ((user_id is null) <> (department_id is null))
);
-- What made a share: null by hand (the API), else the workflow or automation's source (sales_team:<id>),
-- so that an unshare takes back only what its share gave. One share per target and source.
alter table auth.shares add column if not exists source text;
update auth.shares set source = 'engine' where source is null and created_by is null;
drop index if exists auth.shares_target;
create unique index if not exists shares_target_source on auth.shares (entity, record_id, coalesce(user_id, department_id), coalesce(source, ''));
create index if not exists shares_user on auth.shares (entity, user_id, record_id);
create index if not exists shares_department on auth.shares (entity, department_id, record_id);
create table if not exists auth.delegations (
  id uuid primary key,
  delegator uuid not null,
  delegate uuid not null,
  starts_at timestamptz not null,
  ends_at timestamptz not null,
  created_by uuid,
  created_at timestamptz not null default now(),
  revoked_at timestamptz,
  check (ends_at > starts_at)
);
create index if not exists delegations_delegate on auth.delegations (delegate, ends_at);
`;

const NOTIFY_CHANNEL = 'metacrm_auth';

export interface AuthOptions {
  /** How long a login session lasts (default 12 h). */
  sessionTtlMs?: number;
  /** Failed logins in a row before the account locks (default 5). */
  maxFailedLogins?: number;
  /** How long a lock lasts (default 15 min). */
  lockMs?: number;
  /** How long a resolved token is trusted without asking the database (default 30 s). */
  cacheMs?: number;
  /**
   * Login attempts allowed per window, per user name (known or not) and per client address (default 20 and
   * 100 a minute). Successful logins give their attempt back, so an office behind one address is not
   * throttled by its own colleagues.
   */
  throttle?: { perUser: number; perAddress: number; windowMs: number };
}

export interface LoginResult {
  token: string;
  expiresAt: string;
  principal: Principal;
}

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');
const unstorable = (s: string) => !isStorableText(s);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const newToken = (prefix: string) => `${prefix}_${randomBytes(32).toString('base64url')}`;

export const unauthorized = (
  code = 'unauthenticated',
  message = 'Log in first: send a session cookie or an Authorization: Bearer token',
) => new AppError(401, code, message);

export class AuthService {
  private readonly cache = new Map<string, { principal: Principal; sessionId: string; until: number }>();
  private readonly options: Required<AuthOptions>;
  private unlisten?: () => Promise<void>;

  constructor(
    private readonly database: Database,
    private readonly metadata: MetadataService,
    options: AuthOptions = {},
  ) {
    this.options = {
      sessionTtlMs: 12 * 3600_000,
      maxFailedLogins: 5,
      lockMs: 15 * 60_000,
      cacheMs: 30_000,
      throttle: { perUser: 20, perAddress: 100, windowMs: 60_000 },
      ...options,
    };
  }

  async start() {
    await this.database.exec(AUTH_SQL);
    this.unlisten = await this.database.listen(NOTIFY_CHANNEL, () => this.cache.clear());
    this.metadata.onChange(() => this.cache.clear());
  }

  async stop() {
    await this.unlisten?.();
  }

  /** Drops every cached principal, in every process. */
  async invalidate() {
    this.cache.clear();
    await this.database.db.execute(sql`select pg_notify(${NOTIFY_CHANNEL}, '')`);
  }

  private users() {
    const users = this.metadata.model.entity('user');
    if (!users) throw new AppError(503, 'no_user_entity', 'The user entity is not deployed');
    return users;
  }

  async login(
    username: unknown,
    password: unknown,
    client: { ip?: string; userAgent?: string } = {},
    lang: Lang = 'en',
  ): Promise<LoginResult> {
    if (
      typeof username !== 'string' ||
      typeof password !== 'string' ||
      !username ||
      !password ||
      username.length > 200 ||
      password.length > 1000 ||
      unstorable(username) ||
      unstorable(password)
    ) {
      const wrong = (v: unknown) => typeof v !== 'string' || !v || unstorable(v);
      throw badRequest(
        'invalid_credentials_format',
        t(lang, 'Send { "username": string, "password": string }', '请发送 { "username": 字符串, "password": 字符串 }'),
        [
          ...(wrong(username) ? [{ path: '/username', message: t(lang, 'required string', '必须是字符串') }] : []),
          ...(wrong(password) ? [{ path: '/password', message: t(lang, 'required string', '必须是字符串') }] : []),
        ],
      );
    }
    const users = this.users();
    const name = username.trim().toLowerCase();
    const history = (userId: string | null, success: boolean, reason: string | null) =>
      this.database.db.execute(sql`insert into auth.login_history (user_id, username, success, reason, ip, user_agent)
        values (${userId}, ${name}, ${success}, ${reason}, ${client.ip ?? null}, ${client.userAgent?.slice(0, 500) ?? null})`);
    const refuse = async (reason: string, userId: string | null) => {
      await history(userId, false, reason);
      return unauthorized('invalid_credentials', t(lang, 'Wrong username or password', '用户名或密码错误'));
    };

    // Throttle before anything costs: the attempt is counted first, so parallel attempts cannot slip past.
    const throttleKeys = [`user:${name}`, ...(client.ip ? [`ip:${client.ip}`] : [])];
    await this.throttle(throttleKeys, lang, () => history(null, false, 'throttled'));

    const [row] = await this.database.rows<{ id: string; employment_status: string }>(sql`
      select u.id, u.employment_status from ${users.table} u where u.username = ${name} and u.deleted_at is null`);
    const attempt = row ? await this.beginAttempt(row.id) : undefined;
    if (!row || !attempt) {
      await verifyPassword(password, await decoyHash()); // same time as a real check
      throw await refuse(row ? 'no_password' : 'unknown_user', row?.id ?? null);
    }
    if (attempt.locked) {
      await history(row.id, false, 'locked');
      throw this.lockedError(attempt.lockedUntil!, lang);
    }
    if (!(await verifyPassword(password, attempt.passwordHash))) {
      await this.failAttempt(row.id, attempt.attempt);
      throw await refuse('wrong_password', row.id);
    }
    await this.succeed(row.id, throttleKeys);
    if (row.employment_status !== 'active') throw await refuse('inactive', row.id);
    const principal = await loadPrincipal(this.database, this.metadata.model, row.id);
    if (!principal) throw await refuse('inactive', row.id);

    await history(row.id, true, null);
    const token = newToken('mcs');
    const expiresAt = new Date(Date.now() + this.options.sessionTtlMs);
    await this.database.db.execute(sql`insert into auth.sessions (id, token_hash, user_id, kind, expires_at, last_used_at)
      values (${uuidv7()}, ${hashToken(token)}, ${row.id}, 'session', ${expiresAt.toISOString()}::timestamptz, now())`);
    return { token, expiresAt: expiresAt.toISOString(), principal };
  }

  /**
   * Counts a login attempt against each key (user name, client address) in one atomic upsert per key and
   * refuses with 429 once a key is past its allowance for the window.
   */
  private async throttle(keys: string[], lang: Lang, record: () => Promise<unknown>) {
    const { perUser, perAddress, windowMs } = this.options.throttle;
    const window = `${windowMs} milliseconds`;
    for (const key of keys) {
      const [row] = await this.database.rows<{ attempts: number; retry: number }>(sql`
        insert into auth.login_throttle as t (key, window_start, attempts) values (${key}, now(), 1)
        on conflict (key) do update set
          attempts = case when t.window_start <= now() - ${window}::interval then 1 else t.attempts + 1 end,
          window_start = case when t.window_start <= now() - ${window}::interval then now() else t.window_start end
        returning attempts, ceil(extract(epoch from (window_start + ${window}::interval - now())))::int as retry`);
      if (row.attempts > (key.startsWith('ip:') ? perAddress : perUser)) {
        await record();
        throw new AppError(
          429,
          'too_many_attempts',
          t(lang, `Too many login attempts: try again in ${row.retry} s`, `登录尝试过于频繁，请 ${row.retry} 秒后再试`),
          [],
          {
            'retry-after': String(Math.max(1, row.retry)),
          },
        );
      }
    }
  }

  /**
   * Counts an attempt against the account BEFORE the password is checked, in one atomic UPDATE … RETURNING,
   * so however many attempts run at once, at most maxFailedLogins of them get to check a password before
   * the account locks. An expired lock starts a fresh count. Undefined: the user has no password.
   */
  private async beginAttempt(userId: string) {
    const max = this.options.maxFailedLogins;
    const lock = `${this.options.lockMs} milliseconds`;
    const [row] = await this.database.rows<{
      attempt: number;
      password_hash: string;
      locked_until: Date | string | null;
      locked: boolean;
    }>(sql`
      update auth.credentials set
        failed_attempts = case when locked_until > now() then failed_attempts when locked_until is not null then 1 else failed_attempts + 1 end,
        locked_until = case when locked_until > now() then locked_until
                            when locked_until is null and failed_attempts + 1 > ${max} then now() + ${lock}::interval end
      where user_id = ${userId}
      returning failed_attempts as attempt, password_hash, locked_until, coalesce(locked_until > now(), false) as locked`);
    if (!row) return undefined;
    return {
      attempt: Number(row.attempt),
      passwordHash: row.password_hash,
      locked: Boolean(row.locked),
      lockedUntil: row.locked_until ? new Date(row.locked_until) : null,
    };
  }

  /** A wrong password: the attempt that reaches the limit locks the account. */
  private async failAttempt(userId: string, attempt: number) {
    if (attempt < this.options.maxFailedLogins) return;
    await this.database.db.execute(sql`update auth.credentials set locked_until = now() + ${`${this.options.lockMs} milliseconds`}::interval
      where user_id = ${userId} and (locked_until is null or locked_until < now() + ${`${this.options.lockMs} milliseconds`}::interval)`);
  }

  /** The right password: the account's count starts again and the throttle gets its attempt back. */
  private async succeed(userId: string, throttleKeys: string[] = []) {
    await this.database.db.execute(
      sql`update auth.credentials set failed_attempts = 0, locked_until = null where user_id = ${userId}`,
    );
    for (const key of throttleKeys)
      await this.database.db.execute(sql`update auth.login_throttle set attempts = greatest(attempts - 1, 0) where key = ${key}`);
  }

  private lockedError(until: Date, lang: Lang) {
    return new AppError(
      423,
      'account_locked',
      t(
        lang,
        `Too many failed attempts: the account is locked until ${until.toISOString()}`,
        `失败次数过多，账户已锁定至 ${until.toISOString()}`,
      ),
    );
  }

  /** Resolves a session or API token to its principal; 401 when it is unknown, expired or revoked. */
  async authenticate(token: string): Promise<{ principal: Principal; sessionId: string }> {
    const key = hashToken(token);
    const hit = this.cache.get(key);
    if (hit && hit.until > Date.now()) return hit;
    this.cache.delete(key);
    const [session] = await this.database.rows<{ id: string; user_id: string; expires_at: Date | string | null }>(sql`
      select id, user_id, expires_at from auth.sessions
      where token_hash = ${key} and revoked_at is null and (expires_at is null or expires_at > now())`);
    if (!session) throw unauthorized('invalid_token', 'The session or token is unknown, expired or revoked');
    const principal = await loadPrincipal(this.database, this.metadata.model, session.user_id);
    if (!principal) throw unauthorized('invalid_token', 'The user of this token is no longer active');
    await this.database.db.execute(sql`update auth.sessions set last_used_at = now() where id = ${session.id}`);
    const expires = session.expires_at ? new Date(session.expires_at).getTime() : Infinity;
    const entry = { principal, sessionId: session.id, until: Math.min(Date.now() + this.options.cacheMs, expires) };
    this.cache.set(key, entry);
    return entry;
  }

  async logout(sessionId: string) {
    await this.database.db.execute(
      sql`update auth.sessions set revoked_at = now() where id = ${sessionId} and revoked_at is null`,
    );
    await this.invalidate();
  }

  async createApiToken(principal: Principal, body: unknown) {
    const { name, expiresAt } = (body ?? {}) as { name?: unknown; expiresAt?: unknown };
    const details = [];
    if (typeof name !== 'string' || !name.trim() || name.length > 100 || unstorable(name))
      details.push({ path: '/name', message: 'a name of 1 to 100 characters is required' });
    if (
      expiresAt !== undefined &&
      (typeof expiresAt !== 'string' || !isDateTime(expiresAt) || Date.parse(expiresAt) <= Date.now())
    ) {
      details.push({ path: '/expiresAt', message: 'must be a future ISO 8601 date-time' });
    }
    if (details.length) throw badRequest('invalid_request', 'The token request is invalid', details);
    const token = newToken('mct');
    const id = uuidv7();
    await this.database.db.execute(sql`insert into auth.sessions (id, token_hash, user_id, kind, name, expires_at)
      values (${id}, ${hashToken(token)}, ${principal.userId}, 'api_token', ${(name as string).trim()}, ${(expiresAt as string | undefined) ?? null}::timestamptz)`);
    return { id, name: (name as string).trim(), token, expiresAt: expiresAt ?? null };
  }

  async listApiTokens(principal: Principal) {
    return apiRows(
      await this.database.rows(sql`select id, name, created_at, expires_at, last_used_at, revoked_at from auth.sessions
      where user_id = ${principal.userId} and kind = 'api_token' order by created_at desc`),
    );
  }

  async revokeApiToken(principal: Principal, id: string) {
    const rows = await this.database.rows(sql`update auth.sessions set revoked_at = now()
      where id = ${/^[0-9a-f-]{36}$/i.test(id) ? id : null}::uuid and user_id = ${principal.userId} and kind = 'api_token' and revoked_at is null returning id`);
    if (!rows.length) throw notFound('token_not_found', 'No such active token of yours');
    await this.invalidate();
  }

  /**
   * Sets a user's password (an administrator, the user, or the engine when seeding). It ends the user's
   * sessions and, unless `keepApiTokens` says otherwise, their API tokens: whoever knew the old password
   * may have made them.
   */
  async setPassword(userId: string, password: unknown, options: { keepApiTokens?: boolean; lang?: Lang } = {}) {
    const lang = options.lang ?? 'en';
    const problem = passwordProblem(password, lang);
    if (problem)
      throw badRequest('weak_password', t(lang, `The password ${problem}`, `密码${problem}`), [
        { path: '/password', message: problem },
      ]);
    if (!UUID.test(userId))
      throw notFound('record_not_found', t(lang, `No user with id ${userId}`, `没有 id 为 ${userId} 的用户`));
    const users = this.users();
    const [user] = await this.database.db
      .select({ id: users.columns.id })
      .from(users.table)
      .where(and(eq(users.columns.id, userId), isNull(users.columns.deleted_at)));
    if (!user) throw notFound('record_not_found', t(lang, `No user with id ${userId}`, `没有 id 为 ${userId} 的用户`));
    const hash = await hashPassword(password as string);
    await this.database.db.execute(sql`insert into auth.credentials (user_id, password_hash) values (${userId}, ${hash})
      on conflict (user_id) do update set password_hash = excluded.password_hash, failed_attempts = 0, locked_until = null, changed_at = now()`);
    const kinds = options.keepApiTokens ? sql`kind = 'session'` : sql`kind in ('session', 'api_token')`;
    await this.database.db.execute(
      sql`update auth.sessions set revoked_at = now() where user_id = ${userId} and ${kinds} and revoked_at is null`,
    );
    await this.invalidate();
  }

  /**
   * A user changes their own password. A wrong current password counts toward the lockout like a failed
   * login (counted before it is checked), so this is no way around it.
   */
  async changeOwnPassword(principal: Principal, body: unknown, lang: Lang = 'en') {
    const { currentPassword, newPassword, keepApiTokens } = (isObject(body) ? body : {}) as Record<string, unknown>;
    if (keepApiTokens !== undefined && typeof keepApiTokens !== 'boolean') {
      throw badRequest('invalid_request', t(lang, 'keepApiTokens must be true or false', 'keepApiTokens 必须是 true 或 false'), [
        { path: '/keepApiTokens', message: 'boolean' },
      ]);
    }
    const attempt = await this.beginAttempt(principal.userId);
    if (attempt?.locked) throw this.lockedError(attempt.lockedUntil!, lang);
    const wrong = () =>
      new AppError(403, 'wrong_password', t(lang, 'The current password is wrong', '当前密码错误'), [
        { path: '/currentPassword', message: t(lang, 'wrong password', '密码错误') },
      ]);
    if (!attempt) throw wrong();
    if (
      typeof currentPassword !== 'string' ||
      currentPassword.length > 1000 ||
      !(await verifyPassword(currentPassword, attempt.passwordHash))
    ) {
      await this.failAttempt(principal.userId, attempt.attempt);
      throw wrong();
    }
    await this.succeed(principal.userId);
    await this.setPassword(principal.userId, newPassword, { keepApiTokens: keepApiTokens === true, lang });
  }

  async loginHistory(userId: string | undefined, lang: Lang = 'en', limit = 100) {
    if (userId !== undefined && !UUID.test(userId))
      throw notFound('record_not_found', t(lang, `No user with id ${userId}`, `没有 id 为 ${userId} 的用户`));
    return apiRows(
      await this.database.rows(sql`select id, user_id, username, at, success, reason, ip, user_agent from auth.login_history
      ${userId ? sql`where user_id = ${userId}` : sql``} order by id desc limit ${limit}`),
      ['id'],
    );
  }
}
