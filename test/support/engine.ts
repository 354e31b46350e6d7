/**
 * Test harness: an engine on a database of its own — an in-memory PGlite, or a freshly created
 * PostgreSQL database (dropped afterwards) on the server DATABASE_URL points at.
 */
import postgres from 'postgres';
import { createEngine, type Engine, type EngineOptions } from '../../engine/engine.js';

export type Driver = 'pglite' | 'postgres';

/** The drivers to run against: always PGlite; PostgreSQL when DATABASE_URL is set (CI sets it). */
export const drivers: Driver[] = process.env.DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];
if (process.env.CI && !process.env.DATABASE_URL)
  throw new Error('CI must set DATABASE_URL: the tests run against real PostgreSQL');

export interface Response {
  status: number;
  body: any;
  headers: Headers;
}

export interface TestEngine extends Engine {
  url?: string;
  /** The administrator every test engine starts with. */
  admin: { id: string; username: string; password: string; token: string };
  /** A request as the administrator (or as whoever an Authorization header names). */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
  /** A request with a given bearer token (null: none at all). */
  callAs(token: string | null, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
  login(username: string, password: string): Promise<string>;
  stop(): Promise<void>;
}

/** `withoutUsers`: no administrator is created (tests of a first start); `admin` and `call` are then unusable. */
export async function startEngine(
  driver: Driver,
  options: EngineOptions = {},
  { withoutUsers = false } = {},
): Promise<TestEngine> {
  let url: string | undefined;
  let dropDatabase = async () => {};
  if (driver === 'postgres') {
    const admin = postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
    const name = `metacrm_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
    await admin.unsafe(`create database ${name}`);
    const u = new URL(process.env.DATABASE_URL!);
    u.pathname = `/${name}`;
    url = u.toString();
    dropDatabase = async () => {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    };
  }
  const engine = await createEngine({ jobs: { pollingSeconds: 0.5 }, ...options, url });
  const request = async (
    token: string | null,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Response> => {
    const res = await engine.app.request(path, {
      method,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    });
    const text = await res.text();
    const type = res.headers.get('content-type') ?? '';
    return {
      status: res.status,
      body: text && type.includes('json') ? JSON.parse(text) : text || undefined,
      headers: res.headers,
    };
  };
  const login = async (username: string, password: string) => {
    const res = await request(null, 'POST', '/api/auth/login', { username, password });
    if (res.status !== 200) throw new Error(`login ${username}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.token as string;
  };
  const admin = withoutUsers
    ? { id: '', username: '', password: '', token: '' }
    : await (async () => {
        const created = await engine.createUser({
          username: 'admin',
          display_name: 'Administrator',
          roles: ['admin'],
          password: 'admin-password-for-tests',
        });
        return { ...created, token: await login('admin', created.password) };
      })();
  return Object.assign(engine, {
    url,
    admin,
    login,
    call: (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
      request(admin.token, method, path, body, headers),
    callAs: request,
    async stop() {
      await engine.close();
      await dropDatabase();
    },
  });
}

export const L = (en: string, zh = en) => ({ en, 'zh-CN': zh });
export const q = (value: unknown) => encodeURIComponent(JSON.stringify(value));
