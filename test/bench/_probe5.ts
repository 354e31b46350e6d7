// scratch: EXPLAIN the list page as the engine and as raw SQL
import postgres from 'postgres';
import { resolve } from 'node:path';
import { createEngine } from '../../engine/engine.js';
import { loadPackage } from '../../metadata/loader.js';
import { seedSql, seedSequencesSql } from './workload.js';
const server = 'postgres://postgres@127.0.0.1:5432/test';
const name = `metacrm_bench_probe_${process.pid}`;
const admin = postgres(server, { max: 1, onnotice: () => {} });
await admin.unsafe(`create database ${name}`);
const url = server.replace(/\/test$/, '/' + name);
const rows = Number(process.argv[2] ?? 20000);
try {
  const engine = await createEngine({ url, max: 4 });
  const sql = postgres(url, { max: 4, onnotice: () => {} });
  await engine.metadata.deploy({ documents: await loadPackage(resolve(import.meta.dirname, '../../sample-apps/sales')) });
  const acc = (await sql`insert into account (id, name, region, grade) select gen_random_uuid(), 'A' || g, 'east', 'c' from generate_series(1, 20) g returning id`).map((r) => r.id);
  for (let f = 1; f <= rows; f += 100000) await sql.unsafe(seedSql(f, Math.min(rows, f + 99999)), [`{${acc.join(',')}}`]);
  await sql.unsafe(seedSequencesSql);
  await sql`vacuum analyze opportunity`;
  const cols = 'id';
  for (const [label, q] of [
    ['engine (id desc nulls last)', `explain (analyze, buffers, timing off) select * from opportunity where (deleted_at is null and stage = 'negotiation') order by amount desc nulls last, id desc nulls last limit 51`],
    ['raw (id desc)', `explain (analyze, buffers, timing off) select * from opportunity where deleted_at is null and stage = 'negotiation' order by amount desc nulls last, id desc limit 51`],
    ['engine page 2', `explain (analyze, buffers, timing off) select * from opportunity where (deleted_at is null and stage = 'negotiation' and (amount, id) < (500000::numeric(18,2), 'ffffffff-ffff-7fff-bfff-ffffffffffff'::uuid)) order by amount desc nulls last, id desc nulls last limit 51`],
    ['get', `explain (analyze, timing off) select * from opportunity where id = '00000000-0000-7000-8000-000000000000' and deleted_at is null`],
  ]) {
    console.log(`--- ${label}`);
    for (const r of await sql.unsafe(q)) console.log('  ' + r['QUERY PLAN']);
  }
  await sql.end(); await engine.close();
} finally {
  await admin.unsafe(`drop database if exists ${name} with (force)`); await admin.end();
}
