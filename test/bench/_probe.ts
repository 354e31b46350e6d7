// scratch probe (deleted after the investigation)
import postgres from 'postgres';
import { resolve } from 'node:path';
import { eq, and, isNull } from 'drizzle-orm';
import { createEngine } from '../../engine/engine.js';
import { loadPackage } from '../../metadata/loader.js';
import { runConcurrent } from './load.js';
import { PostgresJsSession } from 'drizzle-orm/postgres-js/session';
if (process.env.PREPARE) {
  const orig = (PostgresJsSession.prototype as any).prepareQuery;
  (PostgresJsSession.prototype as any).prepareQuery = function (...args: any[]) { const q = orig.apply(this, args); q.prepare = true; return q; };
}
import { seedSql, seedSequencesSql, opportunityBody } from './workload.js';

const server = 'postgres://postgres@127.0.0.1:5432/test';
const name = `metacrm_bench_probe_${process.pid}`;
const admin = postgres(server, { max: 1, onnotice: () => {} });
await admin.unsafe(`create database ${name}`);
const url = server.replace(/\/test$/, '/' + name);
const only = process.argv[2] ?? 'all';
const secs = Number(process.argv[3] ?? 3);
try {
  const engine = await createEngine({ url, max: 8 });
  const sql = postgres(url, { max: 8, onnotice: () => {} });
  await engine.metadata.deploy({ documents: await loadPackage(resolve(import.meta.dirname, '../../sample-apps/sales')) });
  const accounts: string[] = [];
  for (let i = 0; i < 20; i++) accounts.push(((await engine.data.create({ user: null, lang: 'en' }, 'account', { name: 'A' + i, region: 'east' })) as any).id);
  await sql.unsafe(seedSql(1, 20000), [`{${accounts.join(',')}}`]);
  await sql.unsafe(seedSequencesSql);
  await sql`vacuum analyze opportunity`;
  const ids = (await sql`select id from opportunity limit 5000`).map((r) => r.id as string);
  const pick = () => ids[Math.floor(Math.random() * ids.length)];
  const ctx = { user: null, lang: 'en' as const };
  const entity = engine.data.entity('opportunity');
  const db = engine.database.db;
  const q = 'select * from opportunity where id = $1 and deleted_at is null';
  const cases: Record<string, () => Promise<unknown>> = {
    'raw prepared': () => sql`select * from opportunity where id = ${pick()} and deleted_at is null`,
    'raw unsafe prepare:false': () => sql.unsafe(q, [pick()], { prepare: false }),
    'raw unsafe prepare:false .values()': () => sql.unsafe(q, [pick()], { prepare: false }).values(),
    'drizzle select': () => db.select().from(entity.table).where(and(eq(entity.columns.id, pick()), isNull(entity.columns.deleted_at))),
    'drizzle toSQL only': async () => db.select().from(entity.table).where(and(eq(entity.columns.id, pick()), isNull(entity.columns.deleted_at))).toSQL(),
    'engine.data.get': () => engine.data.get(ctx, 'opportunity', pick()),
    'engine.data.list': () => engine.data.list(ctx, 'opportunity', { filter: '{"==":[{"var":"stage"},"negotiation"]}', sort: '-amount', limit: '50' }),
    'raw list prepared': () => sql`select * from opportunity where deleted_at is null and stage = ${'negotiation'} order by amount desc nulls last, id desc limit 51`,
    'engine.data.create': () => engine.data.create(ctx, 'opportunity', opportunityBody(Math.floor(Math.random() * 1e9), accounts)),
    'raw list prepare:false': () => sql.unsafe(`select * from opportunity where deleted_at is null and stage = $1 order by amount desc nulls last, id desc limit 51`, ['negotiation'], { prepare: false }),
  };
  for (const [label, fn] of Object.entries(cases)) {
    if (only !== 'all' && !label.includes(only)) continue;
    for (const clients of [1, 8]) {
      const r = await runConcurrent({ clients, seconds: secs, warmupSeconds: 1 }, async () => { await fn(); });
      console.log(`${label.padEnd(36)} c=${clients}  ${r.opsPerSec.toFixed(0).padStart(7)} ops/s  p50 ${r.p50.toFixed(3)} ms`);
    }
  }
  await sql.end(); await engine.close();
} finally {
  await admin.unsafe(`drop database if exists ${name} with (force)`); await admin.end();
}
