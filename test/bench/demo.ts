/**
 * Benchmark part for the demo-data load (issue 13): what `npm start` does on its first start — the three
 * sample apps deployed on the embedded database (PGlite, in memory here), the demo organisation, then
 * the demo data loaded through the engine's operations (validation, formulas, roll-ups, automations,
 * workflow walks, approvals, audit, backdating) — next to the floor: every row the load left in the
 * database, written again by hand-made SQL, one multi-row INSERT per 1,000 rows and table, into empty
 * copies of the same tables with the same indexes. The floor does none of the engine's work; the ratio
 * says what that work costs.
 */
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { sql } from 'drizzle-orm';
import type { PGlite } from '@electric-sql/pglite';
import { createEngine } from '../../engine/engine.js';
import { seedOrganisation } from '../../engine/auth/demo.js';
import { loadDemoData } from '../../engine/seed/load.js';
import { loadPackage } from '../../metadata/loader.js';

const APPS = ['sales', 'finance', 'service'];
/** The schemas whose rows the load writes: records, audit, workflow history and stays, approvals, notifications. */
const SCHEMAS = ['public', 'audit', 'workflow', 'approval', 'inbox'];
const CHUNK = 1_000;

export interface DemoBenchResult {
  /** Records the generators planned (the load's own count). */
  records: number;
  /** Every row the load left in the written schemas, records included. */
  rows: number;
  tables: number;
  /** Statements the engine sent during the load (bind or simple-query messages). */
  statements: number;
  loadSeconds: number;
  floorSeconds: number;
  ratio: number;
}

/**
 * Counts the statements PGlite receives: a Bind (extended protocol) or a Query (simple protocol) message
 * each, whichever way they are sent (prepared statements go through execProtocolRawStream, pglite-wire.ts).
 */
function countStatements(client: PGlite) {
  const counter = { statements: 0, on: false };
  const count = (message: Uint8Array) => {
    if (!counter.on) return;
    const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
    for (let at = 0; at < message.length; at += 1 + view.getInt32(at + 1))
      if (message[at] === 0x42 || message[at] === 0x51) counter.statements++;
  };
  const raw = client.execProtocolRaw.bind(client);
  client.execProtocolRaw = (message, options) => {
    count(message);
    return raw(message, options);
  };
  const stream = client.execProtocolRawStream.bind(client);
  client.execProtocolRawStream = (message, options) => {
    count(message);
    return stream(message, options);
  };
  return counter;
}

export async function benchDemo(root: string): Promise<DemoBenchResult> {
  const engine = await createEngine({});
  try {
    const client = (engine.database.db as unknown as { $client: PGlite }).$client;
    const counter = countStatements(client);
    for (const app of APPS) await engine.metadata.deploy({ documents: await loadPackage(join(root, 'sample-apps', app)) });
    await seedOrganisation(
      engine.data,
      engine.auth,
      APPS.map((a) => join(root, 'sample-apps', a, 'data', 'organisation.json')),
    );
    const before = await rowCounts();
    counter.on = true;
    const started = performance.now();
    const result = await loadDemoData(engine, { folders: APPS.map((a) => join(root, 'sample-apps', a)) });
    const loadSeconds = (performance.now() - started) / 1000;
    counter.on = false;
    if (!result.loaded) throw new Error('the demo data did not load');

    // The floor: the rows the load added, table by table, written again into empty copies.
    const after = await rowCounts();
    const written = [...after].filter(([table, n]) => n > (before.get(table) ?? 0)).map(([table]) => table);
    const batches: { copy: string; rows: unknown[][] }[] = [];
    await engine.database.exec('create schema floor');
    let rows = 0;
    for (const [i, table] of written.entries()) {
      const copy = `floor.t${i}`;
      await engine.database.exec(`create table ${copy} (like ${table} including defaults including constraints including indexes)`);
      const all = await engine.database.rows<{ row: unknown }>(sql.raw(`select to_jsonb(t) as row from ${table} t`));
      rows += all.length;
      const chunks: unknown[][] = [];
      for (let k = 0; k < all.length; k += CHUNK) chunks.push(all.slice(k, k + CHUNK).map((r) => r.row));
      batches.push({ copy, rows: chunks });
    }
    const floorStarted = performance.now();
    await engine.database.db.transaction(async (tx) => {
      for (const { copy, rows: chunks } of batches)
        for (const chunk of chunks)
          await tx.execute(sql`insert into ${sql.raw(copy)} select * from jsonb_populate_recordset(null::${sql.raw(copy)}, ${JSON.stringify(chunk)}::jsonb)`);
    });
    const floorSeconds = (performance.now() - floorStarted) / 1000;
    return {
      records: Object.values(result.counts).reduce((a, b) => a + b, 0),
      rows,
      tables: written.length,
      statements: counter.statements,
      loadSeconds,
      floorSeconds,
      ratio: floorSeconds / loadSeconds,
    };
  } finally {
    await engine.close();
  }

  async function rowCounts() {
    const tables = await engine.database.rows<{ name: string }>(
      sql`select format('%I.%I', schemaname, relname) as name from pg_stat_user_tables
          where schemaname = any(${`{${SCHEMAS.join(',')}}`}::text[]) order by 1`,
    );
    const counts = new Map<string, number>();
    for (const { name } of tables) {
      const [{ n }] = await engine.database.rows<{ n: number }>(sql.raw(`select count(*)::int as n from ${name}`));
      counts.set(name, Number(n));
    }
    return counts;
  }
}

export function formatDemo(r: DemoBenchResult): string {
  return [
    'demo data (first start on the embedded database, PGlite in memory):',
    `  engine load ${r.loadSeconds.toFixed(1)} s — ${r.records.toLocaleString('en')} planned records, ${r.rows.toLocaleString('en')} rows in ${r.tables} tables, ${r.statements.toLocaleString('en')} statements`,
    `  floor (the same rows as multi-row INSERTs) ${r.floorSeconds.toFixed(2)} s — floor ÷ engine ${r.ratio.toFixed(3)}`,
  ].join('\n');
}

/** `npx tsx test/bench/demo.ts`: this part alone. */
if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await benchDemo(resolve(import.meta.dirname, '..', '..'));
  console.log(formatDemo(result));
  process.exit(0);
}
