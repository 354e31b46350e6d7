// scratch: profile one workload. usage: node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx test/bench/_probe2.ts <http-get|http-list|http-create|http-bulk|eng-get|eng-list|eng-create|eng-bulk|deploy> [seconds]
import postgres from 'postgres';
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createEngine } from '../../engine/engine.js';
import { loadPackage } from '../../metadata/loader.js';
import { runConcurrent } from './load.js';
import { seedSql, seedSequencesSql, opportunityBody } from './workload.js';

const server = 'postgres://postgres@127.0.0.1:5432/test';
const name = `metacrm_bench_probe_${process.pid}`;
const admin = postgres(server, { max: 1, onnotice: () => {} });
await admin.unsafe(`create database ${name}`);
const url = server.replace(/\/test$/, '/' + name);
const mode = process.argv[2];
const secs = Number(process.argv[3] ?? 5);
try {
  const engine = await createEngine({ url, max: 8 });
  const sql = postgres(url, { max: 8, onnotice: () => {} });
  await engine.metadata.deploy({ documents: await loadPackage(resolve(import.meta.dirname, '../../sample-apps/sales')) });
  const accounts: string[] = [];
  const ctx = { user: null, lang: 'en' as const };
  for (let i = 0; i < 20; i++) accounts.push(((await engine.data.create(ctx, 'account', { name: 'A' + i, region: 'east' })) as any).id);
  await sql.unsafe(seedSql(1, 20000), [`{${accounts.join(',')}}`]);
  await sql.unsafe(seedSequencesSql);
  await sql`vacuum analyze opportunity`;
  const ids = (await sql`select id from opportunity limit 5000`).map((r) => r.id as string);
  const pick = () => ids[Math.floor(Math.random() * ids.length)];
  const srv = serve({ hostname: '127.0.0.1', port: 0, fetch: engine.app.fetch });
  await new Promise((r) => srv.once('listening', r));
  const base = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  const listQ = { filter: '{"==":[{"var":"stage"},"negotiation"]}', sort: '-amount', limit: '50' };
  let result: any;
  const session = new Session(); session.connect(); await session.post('Profiler.enable'); await session.post('Profiler.setSamplingInterval', { interval: 200 }); await session.post('Profiler.start');
  if (mode.startsWith('http-')) {
    const tsx = import.meta.resolve('tsx/esm/api');
    const target = new URL('./http-client.ts', import.meta.url).href;
    const worker = new Worker(`import(${JSON.stringify(tsx)}).then((api) => api.tsImport(${JSON.stringify(target)}, ${JSON.stringify(import.meta.url)}))`, { eval: true });
    const kind = mode.slice(5);
    result = await new Promise((res, rej) => {
      worker.on('message', (m) => { if (m.type === 'done') res(m.result); else if (m.type === 'error') rej(new Error(m.message)); });
      worker.postMessage({ kind, base, clients: 8, seconds: secs, warmupSeconds: 1, ids, accounts, path: `/api/data/opportunity?${new URLSearchParams(listQ)}`, bulkSize: 1000, maxOps: kind === 'bulk' ? 40 : undefined });
    });
    await worker.terminate();
  } else if (mode === 'deploy') {
    const original = structuredClone(engine.metadata.model.documents.get('entity', 'opportunity')) as any;
    const times: number[] = [];
    for (let i = 1; i <= 10; i++) {
      original.fields.push({ name: 'f' + i, type: 'text', label: { en: 'f', 'zh-CN': 'f' } });
      const t = performance.now(); await engine.metadata.deploy({ documents: [original] }); times.push(performance.now() - t);
    }
    result = times.map((t) => t.toFixed(0)).join(' ');
  } else {
    let n = 0;
    const ops: Record<string, () => Promise<unknown>> = {
      'eng-get': () => engine.data.get(ctx, 'opportunity', pick()),
      'eng-list': () => engine.data.list(ctx, 'opportunity', listQ),
      'eng-create': () => engine.data.create(ctx, 'opportunity', opportunityBody(n++, accounts)),
      'eng-bulk': () => engine.data.create(ctx, 'opportunity', Array.from({ length: 1000 }, () => opportunityBody(n++, accounts))),
    };
    result = await runConcurrent({ clients: Number(process.env.C ?? 8), seconds: secs, warmupSeconds: 1, maxOps: mode === 'eng-bulk' ? 40 : undefined }, async () => { await ops[mode](); });
  }
  const { profile } = await session.post('Profiler.stop'); writeFileSync(`/tmp/prof-${mode}.cpuprofile`, JSON.stringify(profile));
  console.log(mode, JSON.stringify(result));
  srv.close(); await sql.end(); await engine.close();
} finally {
  await admin.unsafe(`drop database if exists ${name} with (force)`); await admin.end();
}
