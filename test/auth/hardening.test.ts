/**
 * Attacks on identity that the probe of issue 11 found working: parallel logins past the lockout,
 * password changes that left tokens alive and had no attempt limit, forged X-Forwarded-For in the login
 * history, large anonymous bodies, text PostgreSQL cannot store, and a first start nobody could log into.
 */
import { Hono } from 'hono';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers, startEngine, type TestEngine } from '../support/engine.js';
import { clientAddress, parseTrustProxy } from '../../engine/http/client.js';
import { createFirstAdministrator } from '../../engine/auth/first-admin.js';
import { createEngine } from '../../engine/engine.js';

/** A request as @hono/node-server hands it over: the Node stream (with its socket) in the bindings. */
function fromAddress(e: TestEngine, address: string, body: unknown, headers: Record<string, string> = {}) {
  const bytes = Buffer.from(JSON.stringify(body));
  const incoming = Object.assign(
    (async function* () {
      yield bytes;
    })(),
    { socket: { remoteAddress: address } },
  );
  return e.app.request(
    '/api/auth/login',
    { method: 'POST', body: bytes, headers: { 'content-type': 'application/json', ...headers } },
    { incoming },
  );
}

describe.each(drivers)('login hardening on %s', (driver) => {
  let e: TestEngine;
  beforeAll(async () => {
    e = await startEngine(driver, {
      auth: { maxFailedLogins: 3, lockMs: 60_000, throttle: { perUser: 1000, perAddress: 1000, windowMs: 60_000 } },
    });
  });
  afterAll(() => e?.stop());

  const login = (username: unknown, password: unknown, headers: Record<string, string> = {}) =>
    e.callAs(null, 'POST', '/api/auth/login', { username, password }, headers);

  it('holds the lockout under parallel attempts: the right password sent last gets no token', async () => {
    await e.createUser({ username: 'target', display_name: 'Target', roles: [], password: 'the right password' });
    const attempts = Array.from({ length: 30 }, (_, i) => login('target', 'wrong password ' + i));
    const last = login('target', 'the right password');
    const statuses = (await Promise.all(attempts)).map((r) => r.status);
    const final = await last;
    expect(final.status).toBe(423);
    expect(final.body.error.code).toBe('account_locked');
    // at most maxFailedLogins attempts got to check a password; the rest were refused as locked
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(3);
    expect(statuses.filter((s) => s === 423).length).toBeGreaterThanOrEqual(27);
    expect((await login('target', 'the right password')).status).toBe(423);
  });

  it.skipIf(driver !== 'postgres')(
    'holds the lockout across two server processes on one database (separate pools and memories)',
    async () => {
      // A second engine on the same database: its own connection pool, caches and throttle counters,
      // as a second server process behind a load balancer would have. PGlite has one process only.
      const other = await createEngine({
        url: e.url,
        auth: { maxFailedLogins: 3, lockMs: 60_000, throttle: { perUser: 1000, perAddress: 1000, windowMs: 60_000 } },
        jobs: { pollingSeconds: 0.5 },
      });
      try {
        await e.createUser({ username: 'twin', display_name: 'Twin', roles: [], password: 'the right password' });
        const via = (engine: { app: Hono<any> }, password: string) =>
          engine.app.request('/api/auth/login', {
            method: 'POST',
            body: JSON.stringify({ username: 'twin', password }),
            headers: { 'content-type': 'application/json' },
          });
        const attempts = Array.from({ length: 40 }, (_, i) => via(i % 2 ? e : other, `wrong password ${i}`));
        const statuses = await Promise.all(attempts.map(async (a) => (await a).status));
        expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(3);
        expect(statuses.filter((s) => s === 401 || s === 423).length).toBe(40);
        // The right password is refused by both processes: the lock is in the database, not in memory.
        for (const engine of [e, other]) {
          const res = await via(engine, 'the right password');
          expect([res.status, ((await res.json()) as any).error.code]).toEqual([423, 'account_locked']);
        }
      } finally {
        await other.close();
      }
    },
  );

  it('throttles per user name and per client address, across known and unknown names', async () => {
    const t = await startEngine(driver, { auth: { throttle: { perUser: 4, perAddress: 6, windowMs: 60_000 } } });
    try {
      await t.createUser({ username: 'erin', display_name: 'Erin', roles: [], password: 'erins password 1' });
      // per user name: the fifth attempt in the window is refused before any password is checked
      for (let i = 0; i < 4; i++)
        expect((await t.callAs(null, 'POST', '/api/auth/login', { username: 'nobody', password: 'x'.repeat(12) })).status).toBe(
          401,
        );
      const throttled = await t.callAs(
        null,
        'POST',
        '/api/auth/login',
        { username: 'nobody', password: 'x'.repeat(12) },
        { 'accept-language': 'zh-CN' },
      );
      expect(throttled.status).toBe(429);
      expect(throttled.body.error.code).toBe('too_many_attempts');
      expect(throttled.body.error.message).toMatch(/登录尝试过于频繁/);
      expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
      // successful logins give their attempt back: colleagues behind one address do not throttle each other
      for (let i = 0; i < 5; i++)
        expect((await fromAddress(t, '10.0.0.7', { username: 'erin', password: 'erins password 1' })).status).toBe(200);
      // per address: spraying many user names from one address is stopped
      const spray = [];
      for (let i = 0; i < 7; i++)
        spray.push((await fromAddress(t, '10.0.0.8', { username: `user${i}`, password: 'guess guess 1' })).status);
      expect(spray).toEqual([401, 401, 401, 401, 401, 401, 429]);
      // another address is not affected
      expect((await fromAddress(t, '10.0.0.9', { username: 'erin', password: 'erins password 1' })).status).toBe(200);
    } finally {
      await t.stop();
    }
  }, 60_000);

  it('ends sessions and API tokens when a password changes, unless the tokens are kept explicitly', async () => {
    const frank = await e.createUser({ username: 'frank', display_name: 'Frank', roles: [], password: 'franks password 1' });
    const session = await e.login('frank', 'franks password 1');
    const token = (await e.callAs(session, 'POST', '/api/auth/tokens', { name: 'sync' })).body.data.token;
    expect(
      (
        await e.callAs(session, 'POST', '/api/auth/password', {
          currentPassword: 'franks password 1',
          newPassword: 'franks password 2',
        })
      ).status,
    ).toBe(200);
    expect((await e.callAs(token, 'GET', '/api/auth/me')).status).toBe(401);
    expect((await e.callAs(session, 'GET', '/api/auth/me')).status).toBe(401);

    // keepApiTokens: the user's explicit choice
    const session2 = await e.login('frank', 'franks password 2');
    const kept = (await e.callAs(session2, 'POST', '/api/auth/tokens', { name: 'kept' })).body.data.token;
    const changed = await e.callAs(session2, 'POST', '/api/auth/password', {
      currentPassword: 'franks password 2',
      newPassword: 'franks password 3',
      keepApiTokens: true,
    });
    expect(changed.status).toBe(200);
    expect((await e.callAs(kept, 'GET', '/api/auth/me')).status).toBe(200);
    expect((await e.callAs(session2, 'GET', '/api/auth/me')).status).toBe(401);

    // an administrator's reset ends them too
    expect((await e.call('POST', `/api/users/${frank.id}/password`, { password: 'franks password 4' })).status).toBe(200);
    expect((await e.callAs(kept, 'GET', '/api/auth/me')).status).toBe(401);
  });

  it('counts wrong current passwords toward the lockout', async () => {
    const grace = await e.createUser({ username: 'grace', display_name: 'Grace', roles: [], password: 'graces password 1' });
    const session = await e.login('grace', 'graces password 1');
    const change = (current: string) =>
      e.callAs(session, 'POST', '/api/auth/password', { currentPassword: current, newPassword: 'graces password 2' });
    for (let i = 0; i < 3; i++) expect((await change('wrong one ' + i)).status).toBe(403);
    const locked = await change('graces password 1');
    expect(locked.status).toBe(423);
    expect((await login('grace', 'graces password 1')).status).toBe(423);
    const [row] = await e.database.rows<{ locked: boolean }>(
      sql`select locked_until > now() as locked from auth.credentials where user_id = ${grace.id}`,
    );
    expect(row.locked).toBe(true);
  });

  it('believes X-Forwarded-For only when TRUST_PROXY says a proxy is in front', async () => {
    await e.createUser({ username: 'heidi', display_name: 'Heidi', roles: [], password: 'heidis password 1' });
    expect(
      (await fromAddress(e, '192.0.2.10', { username: 'heidi', password: 'heidis password 1' }, { 'x-forwarded-for': '6.6.6.6' }))
        .status,
    ).toBe(200);
    const [stored] = await e.database.rows<{ ip: string }>(
      sql`select ip from auth.login_history where username = 'heidi' order by id desc limit 1`,
    );
    expect(stored.ip).toBe('192.0.2.10');

    const probe = (trust: ReturnType<typeof parseTrustProxy>, forwarded?: string) => {
      const app = new Hono().get('/', (c) => c.text(clientAddress(c, trust) ?? '-'));
      return Promise.resolve(
        app.request(
          '/',
          { headers: forwarded ? { 'x-forwarded-for': forwarded } : {} },
          { incoming: { socket: { remoteAddress: '10.1.1.1' } } },
        ),
      ).then((r) => r.text());
    };
    expect(await probe(parseTrustProxy(undefined), '6.6.6.6')).toBe('10.1.1.1');
    expect(await probe(parseTrustProxy('false'), '6.6.6.6')).toBe('10.1.1.1');
    // one proxy: the address it saw (right-most); what the client wrote further left is not believed
    expect(await probe(parseTrustProxy('1'), '6.6.6.6, 203.0.113.5')).toBe('203.0.113.5');
    expect(await probe(parseTrustProxy('true'), '203.0.113.5, 10.0.0.2')).toBe('203.0.113.5');
    expect(await probe(parseTrustProxy('1'))).toBe('10.1.1.1');
    expect(() => parseTrustProxy('maybe')).toThrow(/TRUST_PROXY/);
  });

  it('reads at most a few KB of an anonymous body', async () => {
    const big = JSON.stringify({ username: 'x', password: 'y'.repeat(100_000) });
    const res = await e.callAs(null, 'POST', '/api/auth/login', big);
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('body_too_large');
    // also when the length is not declared up front (a stream)
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(big));
        c.close();
      },
    });
    const streamed = await e.app.request('/api/auth/login', {
      method: 'POST',
      body: stream,
      headers: { 'content-type': 'application/json' },
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
  });

  it('answers 400, not 500, to text PostgreSQL cannot store and to malformed user ids', async () => {
    for (const username of ['ali\u0000ce', 'ali\uD800ce']) {
      const res = await login(username, 'whatever password');
      expect([res.status, res.body.error.code, res.body.error.details[0].path]).toEqual([
        400,
        'invalid_credentials_format',
        '/username',
      ]);
    }
    expect((await login('alice', 'pass\u0000word!!')).status).toBe(400);
    expect((await e.call('GET', '/api/users/not-a-uuid/login-history')).status).toBe(404);
    expect((await e.call('POST', '/api/users/not-a-uuid/password', { password: 'long enough password' })).status).toBe(404);
  });

  it("answers login errors in the caller's language", async () => {
    const res = await login('nobody', 'whatever password', { 'accept-language': 'zh-CN,zh;q=0.9' });
    expect(res.body.error.message).toBe('用户名或密码错误');
  });
});

describe.each(drivers)('first start on %s', (driver) => {
  it('creates an administrator with a random password when there are no users, once', async () => {
    const e = await startEngine(driver, {}, { withoutUsers: true });
    try {
      const first = await createFirstAdministrator(e);
      expect(first).toBeDefined();
      expect(first!.password).toMatch(/^[\w-]{24}$/);
      expect(first!.message).toContain(first!.password);
      expect(first!.message).toMatch(/POST \/api\/auth\/password/);
      const token = await e.login('admin', first!.password);
      expect((await e.callAs(token, 'GET', '/api/auth/me')).body.roles).toEqual(['admin']);
      expect(await createFirstAdministrator(e)).toBeUndefined(); // printed once: later starts have users
    } finally {
      await e.stop();
    }
  });
});
