/**
 * `npm run bench [-- --rows=1000000 --seconds=6 --clients=8 --rounds=3 --warmup=2]`
 *
 * Measures the REST API (real HTTP on 127.0.0.1, the sample sales app's opportunity entity) against the
 * same work done as raw SQL through postgres.js, in one run on one fresh database, and prints
 * throughput, latency and the ratio API ÷ raw for: get by id, a filtered and sorted list page (and
 * page 2 through its cursor), adding a nullable field, single creates and bulk creates. An extra
 * "engine" column calls DataService in-process (no HTTP) to show where the time goes.
 *
 * Each phase alternates the sides in `--rounds` segments (API, engine, raw, API, …) so that background
 * load on the machine affects all of them alike; `--seconds` is the measured time per side and phase.
 *
 *   DATABASE_URL  server to use (default postgres://postgres@127.0.0.1:5432/test); the benchmark creates
 *                 the database metacrm_bench_<pid> on it and drops it at the end, also on failure.
 * `--only=list,get` runs only some phases (get, list, search, field, create, bulk, transition, access, reports — after access,
 * import — `--import-rows=N`, default 100,000 —, demo: the demo-data load on the embedded database).
 * Results are also written to .bench/results.json.
 */
import os from 'node:os';
import { mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fork, type ChildProcess } from 'node:child_process';
import { performance as perf, type EventLoopUtilization } from 'node:perf_hooks';
import type { AddressInfo } from 'node:net';
import postgres from 'postgres';
import { serve } from '@hono/node-server';
import { createEngine, type Engine } from '../../engine/engine.js';
import { loadPackage } from '../../metadata/loader.js';
import { uuidv7 } from '../../engine/model/ids.js';
import type { OperationContext } from '../../engine/data/service.js';
import { measure, stats, summarize, type LoadOptions, type LoadResult, type Sample } from './load.js';
import { INITIAL_STAGE, opportunityBody, SEARCH_WORDS, seedSequencesSql, seedSql } from './workload.js';
import type { ClientUse, HttpJob } from './http-client.js';
import { benchAccess, formatAccess } from './access.js';
import { benchReports, formatReports } from './reports.js';
import { benchImport, formatImport } from './import.js';
import { benchDemo, formatDemo } from './demo.js';

// ── options ──────────────────────────────────────────────────────────────────
function flag(name: string, fallback: number): number {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  if (!arg) return fallback;
  const value = Number(arg.slice(name.length + 3));
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
}
const ROWS = Math.floor(flag('rows', 20_000));
const SECONDS = flag('seconds', 5);
const CLIENTS = Math.floor(flag('clients', 8));
const ROUNDS = Math.floor(flag('rounds', 3));
// Uncounted warm-up per side and phase (first round): long enough for V8 to optimise the server's and the client's hot paths.
const WARMUP = flag('warmup', 2);
const BULK = 1000;
/** `--only=list,get` runs only those phases (get, list, search, field, create, bulk, transition, access). */
const ONLY = process.argv
  .find((a) => a.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');
const runs = (phase: string) => !ONLY || ONLY.includes(phase);
/** Bounds on the write phases (per side), so a fast machine does not grow the table without limit. */
const MAX_CREATES = 100_000;
/** Rows of the import phase's CSV (`--import-rows=1000000` for the million-row figure). */
const IMPORT_ROWS = Math.floor(flag('import-rows', 100_000));
const MAX_BULK_REQUESTS = 150;

const root = resolve(import.meta.dirname, '../..');
const serverUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const dbName = `metacrm_bench_${process.pid}`;
const dbUrl = Object.assign(new URL(serverUrl), { pathname: `/${dbName}` }).toString();
const LIST_QUERY = { filter: JSON.stringify({ '==': [{ var: 'stage' }, 'negotiation'] }), sort: '-amount', limit: '50' };

// ── report structures ────────────────────────────────────────────────────────
interface Side extends LoadResult {
  /** Throughput of each round (ops or rows per second): how much the machine drifted during the phase. */
  rounds: number[];
  /** Server-side time of the requests (around app.fetch), API only. */
  server?: { n: number; p50: number; p95: number };
  /** CPU per unit of work while measuring: this Node process (server + drivers), the API's client process, and the whole machine (adds PostgreSQL and the client). */
  cpu: {
    processUsPerUnit: number;
    machineUsPerUnit: number;
    mainThreadBusy: number;
    clientUsPerUnit?: number;
    clientBusy?: number;
  };
}
interface Phase {
  name: string;
  unit: 'ops' | 'rows';
  rows: number;
  tableBytes: number;
  sides: Record<string, Side>;
  ratio: number;
  target?: number;
  met?: boolean;
  work: { api: string; raw: string };
}
/** One segment of one side: runs the load for the given time and returns its sample. */
type Runner = (segment: Pick<LoadOptions, 'seconds' | 'warmupSeconds' | 'maxOps'>) => Promise<Measured>;
type Measured = Sample & { server?: number[]; cpu: CpuUse };
interface CpuUse {
  processUs: number;
  machineUs: number;
  /** Event-loop busy time of the main thread (the HTTP server for API runs), ms. */
  mainBusyMs: number;
  /** API runs: CPU and event-loop busy time of the client process. */
  client?: ClientUse;
  wallMs: number;
}

/** CPU used between start() and stop(): this process, all cores of the machine, event-loop busy time. */
function cpuMeter() {
  const machine = () => os.cpus().reduce((a, c) => a + c.times.user + c.times.nice + c.times.sys + c.times.irq, 0);
  let p0: NodeJS.CpuUsage,
    m0 = 0,
    w0 = 0;
  let e0: EventLoopUtilization;
  return {
    start() {
      p0 = process.cpuUsage();
      m0 = machine();
      w0 = performance.now();
      e0 = perf.eventLoopUtilization();
    },
    stop(client?: ClientUse): CpuUse {
      const p = process.cpuUsage(p0);
      const e = perf.eventLoopUtilization(e0);
      return {
        processUs: p.user + p.system,
        machineUs: (machine() - m0) * 1000,
        mainBusyMs: e.active,
        client,
        wallMs: performance.now() - w0,
      };
    },
  };
}

const phases: Phase[] = [];
const report: Record<string, unknown> = {
  startedAt: new Date().toISOString(),
  options: { rows: ROWS, seconds: SECONDS, clients: CLIENTS, rounds: ROUNDS, warmupSeconds: WARMUP, bulkSize: BULK },
  machine: {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    loadAverage: os.loadavg(),
  },
};

const fmt = (n: number, digits = 0) =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '–';
const ms = (n: number) => (Number.isFinite(n) ? (n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n.toFixed(0)) : '–');
const pct = (x: number) => `${Math.round(x * 100)}%`;
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const log = (...args: unknown[]) => console.log(...args);

// ── run ──────────────────────────────────────────────────────────────────────
const closers: (() => Promise<unknown>)[] = [];
const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
let cleaned = false;
async function cleanup() {
  if (cleaned) return;
  cleaned = true;
  for (const close of closers.reverse()) await close().catch((e) => console.error('cleanup:', (e as Error).message));
  await admin
    .unsafe(`drop database if exists ${dbName} with (force)`)
    .catch((e) => console.error(`could not drop ${dbName}:`, e.message));
  await admin.end({ timeout: 5 });
}
// Output piped into `head` must not kill the run before it drops its database.
process.stdout.on('error', () => {});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping, dropping ${dbName}`);
    cleanup().finally(() => process.exit(130));
  });
}

await admin.unsafe(`create database ${dbName}`);
try {
  await bench();
} catch (e) {
  console.error('\nBenchmark failed:', e);
  process.exitCode = 1;
} finally {
  await cleanup();
}

async function bench() {
  log(
    `metacrm benchmark: ${fmt(ROWS)} opportunities, ${CLIENTS} clients, ${SECONDS} s measured per side and phase in ${ROUNDS} alternating rounds (+${WARMUP} s warm-up)`,
  );
  log(
    `machine: ${os.cpus().length} CPUs (${os.cpus()[0]?.model}), load average ${os.loadavg()[0].toFixed(2)}, Node ${process.version}; database ${dbName} (dropped at the end)\n`,
  );

  // The engine, with a pool as large as the raw side's, serving real HTTP.
  const engine = await createEngine({ url: dbUrl, max: CLIENTS });
  closers.push(() => engine.close());
  const sql = postgres(dbUrl, { max: CLIENTS, onnotice: () => {} });
  closers.push(() => sql.end({ timeout: 5 }));

  let t = performance.now();
  const deployed = await engine.metadata.deploy({ documents: await loadPackage(resolve(root, 'sample-apps/sales')) });
  log(`deployed sample app "sales": ${deployed.changes.length} documents in ${ms(performance.now() - t)} ms`);

  let timings: number[] | null = null;
  const server = serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: async (req, env) => {
      const start = performance.now();
      const res = await engine.app.fetch(req, env);
      timings?.push(performance.now() - start);
      return res;
    },
  });
  await new Promise((r) => server.once('listening', r));
  closers.push(() => new Promise((r) => server.close(r)));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { ctx, headers } = await identity(engine, base);
  const api = (path: string, init: RequestInit = {}) =>
    fetch(base + path, {
      ...init,
      headers: {
        ...headers,
        ...(init.body ? { 'content-type': 'application/json' } : {}),
        ...(init.headers as Record<string, string>),
      },
    });

  const client = startClientProcess();
  closers.push(async () => client.kill());
  /** An API runner: the client process drives HTTP load; the server records its own timings meanwhile. */
  const http =
    (job: Pick<HttpJob, 'kind' | 'ids' | 'path' | 'accounts' | 'bulkSize'>): Runner =>
    (segment) =>
      new Promise((resolvePromise, reject) => {
        const meter = cpuMeter();
        const onError = (e: Error) => done(() => reject(e));
        const onMessage = (m: { type: string; sample?: Sample; client?: ClientUse; message?: string }) => {
          if (m.type === 'measuring') {
            timings = [];
            meter.start();
          } else {
            const server = timings ?? [];
            const cpu = meter.stop(m.client);
            done(() => (m.type === 'done' ? resolvePromise({ ...m.sample!, server, cpu }) : reject(new Error(m.message))));
          }
        };
        const done = (settle: () => void) => {
          client.off('message', onMessage).off('error', onError);
          timings = null;
          settle();
        };
        client.on('message', onMessage).on('error', onError);
        client.send({ ...job, ...segment, base, clients: CLIENTS, headers } satisfies HttpJob);
      });
  const local =
    // biome-ignore lint/suspicious/noConfusingVoidType: as Operation
      (op: (client: number, n: number) => Promise<number | void>): Runner =>
      async (segment) => {
        const meter = cpuMeter();
        const sample = await measure({ ...segment, clients: CLIENTS, onMeasureStart: () => meter.start() }, op);
        return { ...sample, cpu: meter.stop() };
      };

  // ── seed ──
  const accounts: string[] = [];
  for (let i = 1; i <= 20; i++) {
    const res = await api('/api/data/account', {
      method: 'POST',
      body: JSON.stringify({
        name: `Bench account ${i}`,
        region: ['east', 'north', 'south', 'central'][i % 4],
        grade: ['a', 'b', 'c'][i % 3],
      }),
    });
    if (res.status !== 201) throw new Error(`creating an account through the API: HTTP ${res.status} ${await res.text()}`);
    accounts.push(((await res.json()) as { data: { id: string } }).data.id);
  }
  t = performance.now();
  const chunk = 100_000;
  for (let from = 1; from <= ROWS; from += chunk) {
    await sql.unsafe(seedSql(from, Math.min(ROWS, from + chunk - 1)), [`{${accounts.join(',')}}`]);
    if (ROWS > chunk) process.stdout.write(`\rseeding… ${fmt(Math.min(ROWS, from + chunk - 1))} rows`);
  }
  await sql.unsafe(seedSequencesSql);
  const seedMs = performance.now() - t;
  t = performance.now();
  await sql`vacuum (analyze) opportunity`;
  const vacuumMs = performance.now() - t;
  let size = await tableSize(sql);
  log(
    `${ROWS > chunk ? '\r' : ''}seeded ${fmt(size.rows)} opportunities with generate_series in ${fmt(seedMs / 1000, 1)} s (+ vacuum analyze ${fmt(vacuumMs / 1000, 1)} s; 20 accounts through the API); table ${mib(size.bytes)}`,
  );
  report.seed = { rows: size.rows, seconds: seedMs / 1000, vacuumAnalyzeSeconds: vacuumMs / 1000, tableBytes: size.bytes };

  const ids = (
    await sql<{ id: string }[]>`select id from opportunity where deleted_at is null order by random() limit 10000`
  ).map((r) => r.id);
  const pick = () => ids[Math.floor(Math.random() * ids.length)];

  // What the engine sends to PostgreSQL for each operation (drizzle's logger, once each).
  const issued = {
    get: await queriesOf(engine, () => engine.data.get(ctx, 'opportunity', ids[0])),
    list: await queriesOf(engine, () => engine.data.list(ctx, 'opportunity', LIST_QUERY)),
    create: await queriesOf(engine, () => engine.data.create(ctx, 'opportunity', opportunityBody(0, accounts))),
    bulk: await queriesOf(engine, () =>
      engine.data.create(
        ctx,
        'opportunity',
        Array.from({ length: BULK }, (_, i) => opportunityBody(i, accounts)),
      ),
    ),
  };
  const short = (q: string) => (q.length > 400 ? `${q.slice(0, 400)}…` : q);
  report.engineStatements = Object.fromEntries(
    Object.entries(issued).map(([k, v]) => [k, { count: v.length, distinct: [...new Set(v.map(short))] }]),
  );
  log(
    `statements the engine sends (built by drizzle, prepared by postgres.js when they have ≤ 64 parameters): get ${issued.get.length}, list page ${issued.list.length}, single create ${issued.create.length}, bulk create of ${BULK}: ${issued.bulk.length} (creates: + begin/commit)`,
  );
  log(`  list page: ${issued.list.join('; ')}\n`);
  await sql`vacuum (analyze) opportunity`;

  // ── 1. get by id ──
  if (runs('get'))
    phases.push(
      await compare(
        'get by id',
        'ops',
        undefined,
        { api: 'GET /api/data/opportunity/:id', raw: 'select * from opportunity where id = $1 and deleted_at is null' },
        {
          api: http({ kind: 'get', ids }),
          engine: local(() => engine.data.get(ctx, 'opportunity', pick()).then(() => {})),
          raw: local(async () => {
            const rows = await sql`select * from opportunity where id = ${pick()} and deleted_at is null`;
            if (rows.length !== 1) throw new Error('raw get: not found');
          }),
        },
      ),
    );

  // ── 2. list pages ──
  const listPath = `/api/data/opportunity?${new URLSearchParams(LIST_QUERY)}`;
  const first = (await (await api(listPath)).json()) as { data: Record<string, unknown>[]; nextCursor: string | null };
  if (first.data?.length !== 50 || !first.nextCursor)
    throw new Error(`list page 1 returned ${first.data?.length} rows: ${JSON.stringify(first).slice(0, 300)}`);
  const last = first.data[49];
  const check = (rows: { length: number }) => {
    if (rows.length !== 51) throw new Error(`raw list: ${rows.length} rows`);
  };
  const listWork = (page2: boolean) => ({
    api: `GET /api/data/opportunity?filter={"==":[{"var":"stage"},"negotiation"]}&sort=-amount&limit=50${page2 ? '&cursor=…' : ''}`,
    raw: `select * … where deleted_at is null and stage = $1${page2 ? ' and (amount, id) < ($2, $3)' : ''} order by amount desc nulls last, id desc limit 51`,
  });
  if (runs('list'))
    phases.push(
      await compare('list page 1 (filter+sort)', 'ops', 0.5, listWork(false), {
        api: http({ kind: 'list', path: listPath }),
        engine: local(() => engine.data.listJson(ctx, 'opportunity', LIST_QUERY).then(() => {})),
        raw: local(async () =>
          check(
            await sql`select * from opportunity where deleted_at is null and stage = ${'negotiation'} order by amount desc nulls last, id desc limit 51`,
          ),
        ),
      }),
    );
  const page2 = { ...LIST_QUERY, cursor: first.nextCursor };
  if (runs('list'))
    phases.push(
      await compare('list page 2 (cursor)', 'ops', 0.5, listWork(true), {
        api: http({ kind: 'list', path: `/api/data/opportunity?${new URLSearchParams(page2)}` }),
        engine: local(() => engine.data.listJson(ctx, 'opportunity', page2).then(() => {})),
        raw: local(async () =>
          check(
            await sql`select * from opportunity where deleted_at is null and stage = ${'negotiation'}
            and (amount, id) < (${last.amount as number}::numeric(18,2), ${last.id as string}::uuid)
            order by amount desc nulls last, id desc limit 51`,
          ),
        ),
      }),
    );
  // Unloaded latency of the list page: one caller, in-process (no HTTP).
  const solo: number[] = [];
  for (let i = 0; i < (runs('list') ? 200 : 0); i++) {
    const s = performance.now();
    await engine.data.listJson(ctx, 'opportunity', LIST_QUERY);
    solo.push(performance.now() - s);
  }
  report.listPageSingleCaller = summarize(solo);

  // ── search: the global search box over every entity, on the seeded Chinese titles ──
  if (runs('search')) report.search = await searchPhases();

  // ── 3. add a nullable field ──
  if (runs('field')) report.addField = await addFieldPhase(engine, sql, api);

  // ── 4. single creates ──
  // The raw side does what DataService.create does for this entity, statement for statement, in one
  // transaction: reference check, auto-number counter upsert, insert … returning *, audit entry.
  const userId = ctx.principal!.userId;
  const scope = opportunityScope();
  const COLUMNS = [
    'id',
    'owner_id',
    'created_by',
    'updated_by',
    'title',
    'account',
    'opportunity_type',
    'stage',
    'sales_status',
    'priority',
    'source',
    'amount',
    'probability',
    'weighted_amount',
    'expected_close_date',
    'loss_reason',
    'description',
    'opportunity_no',
  ];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const insertRow = (body: Record<string, unknown>, no: string): Record<string, any> => ({
    id: uuidv7(),
    owner_id: userId,
    created_by: userId,
    updated_by: userId,
    stage: INITIAL_STAGE,
    ...body,
    loss_reason: null,
    weighted_amount: body.amount == null ? null : (body.amount as number) * ((body.probability as number) / 100),
    opportunity_no: no,
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const auditRow = (tx: postgres.TransactionSql, row: Record<string, unknown>): Record<string, any> => {
    const changes: Record<string, [null, unknown]> = {};
    for (const [k, v] of Object.entries(row))
      if (v !== null && k !== 'version' && k !== 'updated_at' && k !== 'updated_by') changes[k] = [null, v];
    return {
      entity: 'opportunity',
      record_id: row.id,
      version: 1,
      action: 'create',
      actor: userId,
      changes: tx.json(changes as never),
      snapshot: tx.json(row as never),
    };
  };
  const AUDIT_COLUMNS = ['entity', 'record_id', 'version', 'action', 'actor', 'changes', 'snapshot'];
  const nextNumber = async (s: postgres.TransactionSql, prefix: string, n = 1) => {
    const [row] =
      await s`insert into meta.sequences (entity, field, scope, value) values ('opportunity', 'opportunity_no', ${prefix}, ${n})
      on conflict (entity, field, scope) do update set value = meta.sequences.value + ${n} returning value`;
    return Number(row.value);
  };
  const number = (prefix: string, value: number) => prefix.replace('{seq}', String(value).padStart(4, '0'));
  let created = 1_000_000_000;
  if (runs('create'))
    phases.push(
      await compare(
        'single create',
        'ops',
        0.5,
        {
          api: 'POST /api/data/opportunity (one record): access check, validate, formula, rules; one transaction: reference check, counter upsert, insert … returning *, audit entry',
          raw: 'one transaction of the same 4 statements: select the account (live?), upsert the meta.sequences counter, insert … returning *, insert the audit entry (changes + snapshot jsonb)',
        },
        {
          api: http({ kind: 'create', accounts }),
          engine: local((_, n) => engine.data.create(ctx, 'opportunity', opportunityBody(n, accounts)).then(() => {})),
          raw: local(async () => {
            const body = opportunityBody(created++, accounts);
            await sql.begin(async (tx) => {
              const [account] = await tx`select id from account where id = ${body.account as string} and deleted_at is null`;
              if (!account) throw new Error('raw create: account not found');
              const prefix = scope();
              const [row] =
                await tx`insert into opportunity ${tx(insertRow(body, number(prefix, await nextNumber(tx, prefix))), COLUMNS)} returning *`;
              await tx`insert into audit.log ${tx(auditRow(tx, row), AUDIT_COLUMNS)}`;
            });
          }),
        },
        MAX_CREATES,
      ),
    );

  // ── 5. bulk creates ──
  const rawBulk = (perRowCounter: boolean) =>
    local(async () => {
      const bodies = Array.from({ length: BULK }, () => opportunityBody(created++, accounts));
      await sql.begin(async (tx) => {
        const wanted = [...new Set(bodies.map((b) => b.account as string))];
        const found = await tx`select id from account where id = any(${wanted}::uuid[]) and deleted_at is null`;
        if (found.length !== wanted.length) throw new Error('raw bulk: account not found');
        const prefix = scope();
        let numbers: number[];
        if (perRowCounter) {
          numbers = [];
          for (let i = 0; i < BULK; i++) numbers.push(await nextNumber(tx, prefix));
        } else {
          const lastNo = await nextNumber(tx, prefix, BULK);
          numbers = Array.from({ length: BULK }, (_, i) => lastNo - BULK + 1 + i);
        }
        const rows = await tx`insert into opportunity ${tx(
          bodies.map((b, i) => insertRow(b, number(prefix, numbers[i]))),
          COLUMNS,
        )} returning *`;
        await tx`insert into audit.log ${tx(
          rows.map((r) => auditRow(tx, r)),
          AUDIT_COLUMNS,
        )}`;
      });
      return BULK;
    });
  if (runs('bulk'))
    phases.push(
      await compare(
        'bulk create (rows/s)',
        'rows',
        0.4,
        {
          api: `POST /api/data/opportunity with an array of ${BULK} records (one transaction: reference check, one counter upsert per number prefix, one insert, one audit insert)`,
          raw: `one transaction: select the referenced accounts, ONE counter upsert reserving ${BULK} numbers, one multi-row insert … returning *, one multi-row audit insert`,
        },
        {
          api: http({ kind: 'bulk', accounts, bulkSize: BULK }),
          engine: local(() =>
            engine.data
              .create(
                ctx,
                'opportunity',
                Array.from({ length: BULK }, () => opportunityBody(created++, accounts)),
              )
              .then(() => BULK),
          ),
          raw: rawBulk(false),
          'raw, 1 counter upsert per row': rawBulk(true),
        },
        MAX_BULK_REQUESTS,
      ),
    );

  // ── 6. workflow transitions ──
  // Distinct records per client, each firing the project process's repeatable "requote"
  // (quotation → quotation, sets the probability). Raw: the same update plus the history insert.
  const perClient = 50;
  await sql.unsafe(
    `insert into opportunity (id, opportunity_no, title, account, opportunity_type, stage, amount, probability, weighted_amount, owner_id, created_by, updated_by)
     select gen_random_uuid(), 'TR-' || g, 'transition ' || g, $1, 'project', 'quotation', 1000, 40, 400, $2, $2, $2 from generate_series(1, ${3 * CLIENTS * perClient}) g`,
    [accounts[0], userId],
  );
  const pool = (await sql`select id from opportunity where opportunity_no like 'TR-%' order by opportunity_no`).map(
    (r) => r.id as string,
  );
  const slice = (side: number) => pool.slice(side * CLIENTS * perClient, (side + 1) * CLIENTS * perClient);
  const [apiPool, enginePool, rawPool] = [slice(0), slice(1), slice(2)];
  const pickOwn = (ids: string[], client: number, n: number) => ids[client * perClient + (n % perClient)];
  if (runs('transition'))
    phases.push(
      await compare(
        'workflow transition',
        'ops',
        undefined,
        {
          api: 'POST /api/data/opportunity/:id/transitions/requote: read with rights, machine + guard, versioned update with rules and formulas, audit entry, history row — one transaction',
          raw: 'one transaction: update opportunity set probability, version … where id, insert the workflow.history row',
        },
        {
          api: http({ kind: 'transition', ids: apiPool, path: 'requote' }),
          engine: local((client, n) =>
            engine.workflows.fire(ctx, 'opportunity', pickOwn(enginePool, client, n), 'requote', undefined).then(() => {}),
          ),
          raw: local(async (client, n) => {
            const id = pickOwn(rawPool, client, n);
            await sql.begin(async (tx) => {
              await tx`update opportunity set probability = 40, version = version + 1, updated_at = now(), updated_by = ${userId} where id = ${id} and stage = 'quotation'`;
              await tx`insert into workflow.history (entity, record_id, workflow, event, from_state, to_state, actor) values ('opportunity', ${id}, 'project_sales', 'requote', 'quotation', 'quotation', ${userId})`;
            });
          }),
        },
      ),
    );

  // Last, because it hands the opportunities to 500 owners in 50 departments.
  const access = runs('access') || runs('reports') ? await benchAccess(engine, sql) : undefined;
  report.access = access;
  // After access: its organisation gives the department-tree director.
  const reports = runs('reports') ? await benchReports(engine, sql, { seconds: SECONDS / 2 }) : undefined;
  report.reports = reports;
  // Its own entity and table: runs in any order.
  const imported = runs('import') ? await benchImport(engine, sql, IMPORT_ROWS, ctx.principal!.userId) : undefined;
  report.import = imported;
  // The embedded database's first start, in memory: independent of the server database above.
  const demo = runs('demo') ? await benchDemo(root) : undefined;
  report.demo = demo;

  size = await tableSize(sql);
  report.final = size;
  report.phases = phases;
  await mkdir(resolve(root, '.bench'), { recursive: true });
  await writeFile(resolve(root, '.bench/results.json'), JSON.stringify(report, null, 2) + '\n');
  printTable(size);
  if (access) log('\n' + formatAccess(access));
  if (reports) log('\n' + formatReports(reports));
  if (imported) log('\n' + formatImport(imported));
  if (demo) log('\n' + formatDemo(demo));
  log(`\nresults written to .bench/results.json`);

  /**
   * GET /api/search (one UNION ALL over every entity, the bigram index on the big table) against the
   * same search of the opportunity table alone in raw SQL (its expression must be the index's, fields
   * in the entity's order), and against ILIKE without the index (what the list's q did before): a common two-character word, a rare one and a three-character name.
   */
  async function searchPhases() {
    const [index] = await sql<{ bytes: string }[]>`select pg_relation_size('s__opportunity__search')::bigint as bytes`;
    const indexBytes = Number(index.bytes);
    log(`search index s__opportunity__search (bigrams of title and opportunity_no, GIN): ${mib(indexBytes)}`);
    const results: Record<string, unknown> = { indexBytes };
    for (const [kind, word] of Object.entries(SEARCH_WORDS)) {
      const pattern = `%${word}%`;
      const [{ n }] = await sql<{ n: number }[]>`select count(*)::int as n from opportunity where title ilike ${pattern}`;
      const query = { q: word, limit: '5' };
      const found = await engine.data.search(ctx, query);
      if (!found.data.some((g) => g.entity === 'opportunity')) throw new Error(`search for ${word} found no opportunity`);
      const phase = await compare(
        `search "${word}" (${kind}, ${fmt(n)} matching rows)`,
        'ops',
        undefined,
        {
          api: `GET /api/search?q=${word}&limit=5 (every entity the admin reads)`,
          raw: `select id, title, opportunity_no from opportunity where deleted_at is null and meta.search_grams(opportunity_no, title) @> meta.search_grams($1) and (title ilike $2 or opportunity_no ilike $2)  limit 6`,
        },
        {
          api: http({ kind: 'list', path: `/api/search?${new URLSearchParams(query)}` }),
          engine: local(() => engine.data.search(ctx, query).then(() => {})),
          // Unprepared, as the engine sends it: a generic plan would serve rare and common words alike.
          raw: local(async () => {
            await sql.unsafe(
              `select id, title, opportunity_no from opportunity where deleted_at is null
              and meta.search_grams(opportunity_no, title) @> meta.search_grams($1::text)
              and (title ilike $2 or opportunity_no ilike $2)  limit 6`,
              [word, pattern],
              { prepare: false },
            );
          }),
          rawIlike: local(async () => {
            await sql.unsafe(
              `select id, title, opportunity_no from opportunity where deleted_at is null
              and (title ilike $1 or opportunity_no ilike $1)  limit 6`,
              [pattern],
              { prepare: false },
            );
          }),
        },
      );
      phases.push(phase);
      results[kind] = { word, matchingRows: n, ratio: phase.ratio };
    }
    return results;
  }

  // ── phases ──
  async function compare(
    name: string,
    unit: Phase['unit'],
    target: number | undefined,
    work: Phase['work'],
    runners: Record<string, Runner>,
    maxOps?: number,
  ): Promise<Phase> {
    const size = await tableSize(sql);
    log(`${name} — ${fmt(size.rows)} rows, ${mib(size.bytes)}`);
    const samples: Record<string, Measured[]> = Object.fromEntries(Object.keys(runners).map((k) => [k, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [label, run] of Object.entries(runners)) {
        samples[label].push(
          await run({
            seconds: SECONDS / ROUNDS,
            warmupSeconds: round === 0 ? WARMUP : 0,
            maxOps: maxOps && Math.ceil(maxOps / ROUNDS),
          }),
        );
      }
    }
    const sides: Record<string, Side> = {};
    for (const [label, list] of Object.entries(samples)) {
      const server = list.flatMap((s) => s.server ?? []);
      const result = stats(list);
      const sum = (f: (c: CpuUse) => number | undefined) => list.reduce((a, s) => a + (f(s.cpu) ?? NaN), 0);
      const wall = sum((c) => c.wallMs);
      const cpu = {
        processUsPerUnit: sum((c) => c.processUs) / result.units,
        machineUsPerUnit: sum((c) => c.machineUs) / result.units,
        mainThreadBusy: sum((c) => c.mainBusyMs) / wall,
        ...(label === 'api'
          ? { clientUsPerUnit: sum((c) => c.client?.cpuUs) / result.units, clientBusy: sum((c) => c.client?.busyMs) / wall }
          : {}),
      };
      const rounds = list.map((s) => (unit === 'rows' ? s.units : s.ops) / s.seconds);
      sides[label] = { ...result, rounds, cpu, ...(server.length ? { server: summarize(server) } : {}) };
    }
    const rate = (s: Side) => (unit === 'rows' ? s.unitsPerSec : s.opsPerSec);
    const ratio = rate(sides.api) / rate(sides.raw);
    const labels: Record<string, string> = {
      api: 'API (HTTP)',
      engine: 'engine (no HTTP)',
      raw: 'raw SQL',
      rawIlike: 'raw ILIKE only',
    };
    for (const [label, s] of Object.entries(sides)) {
      const server = s.server ? `; server-side p50 ${ms(s.server.p50)} ms, p95 ${ms(s.server.p95)} ms` : '';
      const per = unit === 'rows' ? 'row' : 'op';
      const busy = `main thread ${pct(s.cpu.mainThreadBusy)} busy${s.cpu.clientBusy !== undefined ? `, client ${pct(s.cpu.clientBusy)}` : ''}`;
      const client = s.cpu.clientUsPerUnit !== undefined ? ` (+ client process ${fmt(s.cpu.clientUsPerUnit)} µs)` : '';
      log(
        `  ${(labels[label] ?? label).padEnd(17)} ${fmt(rate(s)).padStart(8)} ${unit}/s  p50 ${ms(s.p50).padStart(6)} ms  p95 ${ms(s.p95).padStart(6)} ms  (${fmt(s.ops)} ops${server})`,
      );
      log(`  ${''.padEnd(17)} rounds: ${s.rounds.map((r) => fmt(r)).join(' / ')} ${unit}/s`);
      log(
        `  ${''.padEnd(17)} CPU per ${per}: Node ${fmt(s.cpu.processUsPerUnit)} µs${client}, machine ${fmt(s.cpu.machineUsPerUnit)} µs; ${busy}`,
      );
    }
    log(
      `  API ÷ raw = ${ratio.toFixed(2)}${target === undefined ? '' : `  (target ≥ ${target}: ${ratio >= target ? 'met' : 'MISSED'})`}`,
    );
    log(`  API: ${work.api}\n  raw: ${work.raw}\n`);
    return {
      name,
      unit,
      rows: size.rows,
      tableBytes: size.bytes,
      sides,
      ratio,
      target,
      met: target === undefined ? undefined : ratio >= target,
      work,
    };
  }
}

async function addFieldPhase(engine: Engine, sql: postgres.Sql, api: (path: string, init?: RequestInit) => Promise<Response>) {
  const size = await tableSize(sql);
  const original = structuredClone(engine.metadata.model.documents.get('entity', 'opportunity')) as unknown as {
    fields: unknown[];
  };
  const added: string[] = [];
  const withFields = () => ({
    ...original,
    fields: [...original.fields, ...added.map((name) => ({ name, type: 'text', label: { en: name, 'zh-CN': name } }))],
  });
  const times = { deploy: [] as number[], http: [] as number[], raw: [] as number[] };
  for (let i = 1; i <= 3; i++) {
    added.push(`bench_note_${i}`);
    const t = performance.now();
    const result = await engine.metadata.deploy({ documents: [withFields()] });
    times.deploy.push(performance.now() - t);
    if (!result.applied || !result.plan.some((s) => s.op === 'add_column'))
      throw new Error('add field: the deploy did not add a column');
  }
  for (let i = 1; i <= 3; i++) {
    added.push(`bench_http_${i}`);
    const t = performance.now();
    const res = await api('/api/meta/deploy', { method: 'POST', body: JSON.stringify({ documents: [withFields()] }) });
    const text = await res.text();
    times.http.push(performance.now() - t);
    if (res.status !== 201) throw new Error(`add field over HTTP: ${res.status} ${text.slice(0, 300)}`);
  }
  for (let i = 1; i <= 3; i++) {
    const t = performance.now();
    await sql.unsafe(`alter table opportunity add column raw_note_${i} text`);
    times.raw.push(performance.now() - t);
  }
  // Put the table back as it was (not measured).
  for (let i = 1; i <= 3; i++) await sql.unsafe(`alter table opportunity drop column raw_note_${i}`);
  await engine.metadata.deploy({ documents: [original], allowDestructive: true });

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const result = {
    rows: size.rows,
    tableBytes: size.bytes,
    deployMs: times.deploy,
    httpDeployMs: times.http,
    rawAlterMs: times.raw,
    median: { deploy: median(times.deploy), http: median(times.http), raw: median(times.raw) },
    targetMs: 100,
    met: median(times.http) < 100,
  };
  log(`add a nullable text field — ${fmt(size.rows)} rows, ${mib(size.bytes)} (3 times each, median)`);
  log(
    `  deploy over HTTP   ${ms(result.median.http).padStart(6)} ms  (${times.http.map(ms).join(', ')})  POST /api/meta/deploy: the opportunity document with one more text field`,
  );
  log(
    `  deploy in-process  ${ms(result.median.deploy).padStart(6)} ms  (${times.deploy.map(ms).join(', ')})  engine.metadata.deploy(…)`,
  );
  log(
    `  raw alter table    ${ms(result.median.raw).padStart(6)} ms  (${times.raw.map(ms).join(', ')})  alter table opportunity add column … text`,
  );
  log(
    `  target: under 100 ms over HTTP: ${result.met ? 'met' : 'MISSED'} (API ÷ raw time = ${(result.median.http / result.median.raw).toFixed(0)}×)\n`,
  );
  return result;
}

function rateOf(p: Phase, s: Side) {
  return p.unit === 'rows' ? s.unitsPerSec : s.opsPerSec;
}

function printTable(size: { rows: number; bytes: number }) {
  const add = report.addField as
    | { median: { http: number; raw: number; deploy: number }; met: boolean; rows: number }
    | undefined;
  const header = [
    'phase',
    'table rows',
    'API /s',
    'API p50/p95 ms',
    'engine /s',
    'raw /s',
    'raw p50/p95 ms',
    'engine÷raw',
    'API÷raw',
    'target',
  ];
  const rows = phases.map((p) => {
    const rate = (s?: Side) => (s ? fmt(p.unit === 'rows' ? s.unitsPerSec : s.opsPerSec) : '');
    return [
      p.name,
      fmt(p.rows),
      rate(p.sides.api),
      `${ms(p.sides.api.p50)} / ${ms(p.sides.api.p95)}`,
      rate(p.sides.engine),
      rate(p.sides.raw),
      `${ms(p.sides.raw.p50)} / ${ms(p.sides.raw.p95)}`,
      p.sides.engine ? (rateOf(p, p.sides.engine) / rateOf(p, p.sides.raw)).toFixed(2) : '',
      p.ratio.toFixed(2),
      p.target === undefined ? '' : `≥ ${p.target} ${p.met ? 'ok' : 'MISSED'}`,
    ];
  });
  if (add)
    rows.push([
      'add nullable field',
      fmt(add.rows),
      `${ms(add.median.http)} ms`,
      '(HTTP deploy)',
      `${ms(add.median.deploy)} ms`,
      `${ms(add.median.raw)} ms`,
      '(alter table)',
      `${(add.median.deploy / add.median.raw).toFixed(0)}×`,
      `${(add.median.http / add.median.raw).toFixed(0)}×`,
      `< 100 ms ${add.met ? 'ok' : 'MISSED'}`,
    ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const rule = '─'.repeat(widths.reduce((a, b) => a + b + 2, -2));
  log([rule, line(header), rule, ...rows.map(line), rule].join('\n'));
  const list = phases.find((p) => p.name.startsWith('list page 1'));
  const solo = report.listPageSingleCaller as { p50: number; p95: number };
  if (list)
    log(
      `list page server-side: p50 ${ms(list?.sides.api.server?.p50 ?? NaN)} ms / p95 ${ms(list?.sides.api.server?.p95 ?? NaN)} ms with ${CLIENTS} clients (around app.fetch); single caller in-process p50 ${ms(solo.p50)} ms, p95 ${ms(solo.p95)} ms`,
    );
  log(
    `final table: ${fmt(size.rows)} rows, ${mib(size.bytes)}. Both sides use ${CLIENTS}-connection postgres.js pools; API clients run in a separate process.`,
  );
}

// ── helpers ──────────────────────────────────────────────────────────────────
async function tableSize(sql: postgres.Sql) {
  const [row] = await sql`select count(*)::int as rows, pg_total_relation_size('opportunity')::bigint as bytes from opportunity`;
  return { rows: Number(row.rows), bytes: Number(row.bytes) };
}

/** The auto-number scope the engine uses for opportunity_no now: OPP-<yyyymm in Asia/Shanghai>-{seq}. */
function opportunityScope() {
  const format = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit' });
  return () => {
    const parts = format.formatToParts(new Date());
    return `OPP-${parts.find((p) => p.type === 'year')!.value}${parts.find((p) => p.type === 'month')!.value}-{seq}`;
  };
}

/**
 * Who the benchmark acts as: a user holding the system "admin" role (every record of every entity,
 * metadata deploys), logged in through POST /api/auth/login. The API gets its bearer token; in-process
 * calls act as the same principal, so access checks are part of what both measure.
 */
async function identity(engine: Engine, base: string): Promise<{ ctx: OperationContext; headers: Record<string, string> }> {
  const password = `bench-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const user = await engine.createUser({ username: 'bench', display_name: 'Benchmark', roles: ['admin'], password });
  const res = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: user.username, password }),
  });
  if (res.status !== 200) throw new Error(`logging in as the benchmark user: HTTP ${res.status} ${await res.text()}`);
  const { token } = (await res.json()) as { token: string };
  const { principal } = await engine.auth.authenticate(token);
  return { ctx: { principal, lang: 'en' }, headers: { authorization: `Bearer ${token}` } };
}

/** The statements the engine sends while `run` runs (through drizzle's logger hook). */
async function queriesOf(engine: Engine, run: () => Promise<unknown>): Promise<string[]> {
  const session = (engine.database.db as unknown as { session: { logger: unknown; options: { logger?: unknown } } }).session;
  const seen: string[] = [];
  const logger = { logQuery: (query: string) => seen.push(query) };
  const before = [session.logger, session.options.logger];
  session.logger = session.options.logger = logger;
  try {
    await run();
  } finally {
    [session.logger, session.options.logger] = before;
  }
  return seen;
}

/**
 * The API's load generator, in a process of its own as any real client is: a worker thread of the
 * server's process cost the machine ~80 µs more per list page than the same client in its own process
 * (shared V8 platform threads and allocator), which is the server's budget, not a client's.
 */
function startClientProcess(): ChildProcess {
  const child = fork(new URL('./http-client.ts', import.meta.url), [], {
    execArgv: ['--import', 'tsx'],
    serialization: 'advanced',
    stdio: 'inherit',
  });
  child.unref();
  child.channel?.unref();
  return child;
}
