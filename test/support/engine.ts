/**
 * Test harness: an engine on a database of its own — an in-memory PGlite, or a freshly created
 * PostgreSQL database (dropped afterwards) on the server DATABASE_URL points at.
 */
import postgres from 'postgres';
import { createEngine, type Engine, type EngineOptions } from '../../engine/engine.js';

export type Driver = 'pglite' | 'postgres';

/** The drivers to run against: always PGlite; PostgreSQL when DATABASE_URL is set (CI sets it). */
export const drivers: Driver[] = process.env.DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];
if (process.env.CI && !process.env.DATABASE_URL) throw new Error('CI must set DATABASE_URL: the tests run against real PostgreSQL');

export interface TestEngine extends Engine {
  url?: string;
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
  stop(): Promise<void>;
}

export async function startEngine(driver: Driver, options: EngineOptions = {}): Promise<TestEngine> {
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
  const engine = await createEngine({ ...options, url });
  return Object.assign(engine, {
    url,
    async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
      const res = await engine.app.request(path, {
        method,
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
        headers: { 'content-type': 'application/json', ...headers },
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
    },
    async stop() {
      await engine.close();
      await dropDatabase();
    },
  });
}

export const L = (en: string, zh = en) => ({ en, 'zh-CN': zh });
export const q = (value: unknown) => encodeURIComponent(JSON.stringify(value));
