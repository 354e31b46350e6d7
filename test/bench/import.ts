/**
 * Benchmark part for imports (issue 15): N rows of a CSV imported through the whole pipeline (an import
 * job run in process: streaming read, conversion, match rules, validation, formulas, auto-numbers,
 * audit) next to PostgreSQL's COPY of the same rows into the same table — the fastest anything can load
 * it. Peak RSS is sampled during the import (memory must stay flat as the file grows).
 */
import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Sql } from 'postgres';
import type { Engine } from '../../engine/engine.js';
import { loadPrincipal } from '../../engine/access/principal.js';
import { uuidv7 } from '../../engine/model/ids.js';

const L = (en: string, zh: string) => ({ en, 'zh-CN': zh });

/** A flat entity with the kinds of an import's usual columns: text, picklist, number, date. */
const documents = [
  {
    kind: 'dictionary',
    name: 'bench_tier',
    label: L('Tier', '等级'),
    items: [
      { value: 'a', label: L('A', '甲') },
      { value: 'b', label: L('B', '乙') },
    ],
  },
  {
    kind: 'entity',
    name: 'bench_customer',
    label: L('Customer', '客户'),
    titleField: 'name',
    fields: [
      { name: 'name', type: 'text', label: L('Name', '名称'), required: true, maxLength: 100 },
      { name: 'code', type: 'text', label: L('Code', '编码'), maxLength: 20 }, // indexed: the first field of a match rule
      { name: 'tier', type: 'picklist', dictionary: 'bench_tier', label: L('Tier', '等级') },
      { name: 'revenue', type: 'currency', label: L('Revenue', '营收') },
      { name: 'since', type: 'date', label: L('Since', '开始日期') },
    ],
    import: { match: [{ fields: ['code'] }], mode: 'insert' },
  },
];

export interface ImportBenchResult {
  rows: number;
  importSeconds: number;
  importRowsPerSecond: number;
  copySeconds: number;
  copyRowsPerSecond: number;
  ratio: number;
  peakRssMb: number;
  /**
   * CPU seconds each side used — this process and the database's server processes (read from /proc, so
   * only for a server on this machine) — a measure that other load on a shared machine does not inflate
   * the way it does wall time.
   */
  cpu?: { import: { node: number; database: number }; copy: { node: number; database: number }; ratio: number };
}

/** CPU seconds used so far by the server processes of this database (null: not readable here). */
async function databaseCpu(sql: Sql): Promise<number | null> {
  const { readFile } = await import('node:fs/promises');
  const pids = await sql<{ pid: number }[]>`select pid from pg_stat_activity where datname = current_database()`;
  let ticks = 0;
  for (const { pid } of pids) {
    try {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks (100 per second on Linux)
    } catch {
      return null; // another machine, or no /proc
    }
  }
  return ticks / 100;
}
const nodeCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

export async function benchImport(engine: Engine, sql: Sql, rows: number, userId: string): Promise<ImportBenchResult> {
  await engine.metadata.deploy({ documents: documents as never });
  const dir = join(tmpdir(), `metacrm-bench-${process.pid}`);
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'customers.csv');
  const lines = ['名称,编码,等级,营收,开始日期'];
  for (let i = 0; i < rows; i++)
    lines.push(`客户${i},C${i},${i % 2 ? '甲' : 'b'},${(i % 1000) * 10.5},2026/${(i % 12) + 1}/${(i % 28) + 1}`);
  await writeFile(path, lines.join('\r\n'));
  lines.length = 0;

  // through the import: the upload (a file on disk) and a run in this process, as the job would
  const principal = await loadPrincipal(engine.database, engine.metadata.model, userId);
  const ctx = { principal: principal!, lang: 'zh-CN' as const };
  const { createReadStream } = await import('node:fs');
  const upload = await engine.imports.upload(ctx, 'bench_customer', createReadStream(path));
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const [db0, node0] = [await databaseCpu(sql), nodeCpu()];
  const t0 = performance.now();
  // atomic: one transaction, as an all-or-nothing import; queued (the file is large) and awaited here
  await engine.database.db.execute(
    (await import('drizzle-orm'))
      .sql`update imports.imports set options = ${JSON.stringify({ mapping: upload.mapping, mode: 'insert', dryRun: false, atomic: true, automations: true, timeZone: 'Asia/Shanghai', lang: 'zh-CN' })}::jsonb, state = 'queued' where id = ${upload.id}`,
  );
  await engine.imports.run(upload.id);
  const importSeconds = (performance.now() - t0) / 1000;
  const [db1, node1] = [await databaseCpu(sql), nodeCpu()];
  clearInterval(sampler);
  const result = await engine.imports.get(ctx, 'bench_customer', upload.id);
  if (result.counts.create !== rows)
    throw new Error(`import created ${result.counts.create} of ${rows}: ${JSON.stringify(result)}`);

  // COPY of the same rows (already converted) into the same table
  const table = 'bench_customer';
  const columns = [
    'id',
    'name',
    'code',
    'tier',
    'revenue',
    'since',
    'owner_id',
    'created_by',
    'updated_by',
    'created_at',
    'updated_at',
    'version',
  ];
  const now = new Date().toISOString();
  const [db2, node2] = [await databaseCpu(sql), nodeCpu()];
  const t1 = performance.now();
  const writable = await sql`copy ${sql(table)} (${sql(columns)}) from stdin`.writable();
  await new Promise<void>((done, fail) => {
    writable.on('error', fail);
    writable.on('finish', done);
    let i = 0;
    const push = () => {
      let ok = true;
      while (i < rows && ok) {
        ok = writable.write(
          `${uuidv7()}\t客户${i}\tC${i}\t${i % 2 ? 'a' : 'b'}\t${(i % 1000) * 10.5}\t2026-${String((i % 12) + 1).padStart(2, '0')}-${String((i % 28) + 1).padStart(2, '0')}\t${userId}\t${userId}\t${userId}\t${now}\t${now}\t1\n`,
        );
        i++;
      }
      if (i < rows) writable.once('drain', push);
      else writable.end();
    };
    push();
  });
  const copySeconds = (performance.now() - t1) / 1000;
  const [db3, node3] = [await databaseCpu(sql), nodeCpu()];
  const cpu =
    db0 !== null && db1 !== null && db2 !== null && db3 !== null
      ? {
          import: { node: node1 - node0, database: db1 - db0 },
          copy: { node: node3 - node2, database: db3 - db2 },
          ratio: (node3 - node2 + db3 - db2) / (node1 - node0 + db1 - db0),
        }
      : undefined;
  return {
    cpu,
    rows,
    importSeconds,
    importRowsPerSecond: rows / importSeconds,
    copySeconds,
    copyRowsPerSecond: rows / copySeconds,
    ratio: copySeconds / importSeconds,
    peakRssMb: Math.round(peak / 1024 / 1024),
  };
}

export const formatImport = (r: ImportBenchResult) =>
  [
    `import of ${r.rows} CSV rows (one job, all or nothing): ${r.importSeconds.toFixed(2)} s, ${Math.round(r.importRowsPerSecond)} rows/s, peak RSS ${r.peakRssMb} MB`,
    `COPY of the same rows:                    ${r.copySeconds.toFixed(2)} s, ${Math.round(r.copyRowsPerSecond)} rows/s`,
    `import ÷ COPY throughput: ${r.ratio.toFixed(2)}`,
    ...(r.cpu
      ? [
          `CPU seconds, import: ${r.cpu.import.node.toFixed(1)} Node + ${r.cpu.import.database.toFixed(1)} PostgreSQL; COPY: ${r.cpu.copy.node.toFixed(1)} + ${r.cpu.copy.database.toFixed(1)}; COPY ÷ import CPU: ${r.cpu.ratio.toFixed(2)}`,
        ]
      : []),
  ].join('\n');
