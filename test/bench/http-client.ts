/**
 * The API load generator, run as a process of its own (forked by run.ts, driven over IPC) so that
 * building requests and reading responses does not compete with the server for its event loop, its
 * heap or its garbage collector's threads (as a remote client would not).
 * Real HTTP/1.1 to 127.0.0.1, one keep-alive connection per client loop (./http1.ts): the client
 * shares the machine's 2 vCPUs with the server, so it is as lean as a load generator can be — fetch
 * cost it half a core at ~1,200 list pages/s, undici's dispatch API ~85 µs per page, this ~30.
 * Every response body is read to its end.
 */
import { performance } from 'node:perf_hooks';
import { Http1Connection } from './http1.js';
import { measure, type LoadOptions } from './load.js';
import { opportunityBody } from './workload.js';

export interface HttpJob extends LoadOptions {
  kind: 'get' | 'list' | 'create' | 'bulk' | 'transition';
  base: string;
  /** get: record ids to pick from; list: the page path. */
  ids?: string[];
  path?: string;
  accounts?: string[];
  bulkSize?: number;
  /** Sent with every request (Authorization when the engine requires a login). */
  headers?: Record<string, string>;
}

/** One keep-alive connection per client loop, opened on first use. */
let connections: (Http1Connection | undefined)[] = [];
let target = '';
/**
 * Node's HTTP server closes connections idle for 5 s (keepAliveTimeout), as the load pauses between
 * segments; a connection idle for longer than this is replaced rather than raced against that close.
 */
const MAX_IDLE_MS = 4000;

/** A live connection for the client loop, new when it had none or its own was closed or idle too long. */
function connectionOf(client: number): Http1Connection {
  const current = connections[client];
  if (current && !current.closed && performance.now() - current.lastUsed < MAX_IDLE_MS) return current;
  current?.close();
  const { port, hostname } = new URL(target);
  return (connections[client] = new Http1Connection(Number(port), hostname));
}

/** One request on the client's connection; resolves with the body's length once it has all arrived. */
async function call(
  client: number,
  path: string,
  status: number,
  options: { method?: 'GET' | 'POST'; headers: Record<string, string>; body?: string },
): Promise<number> {
  const connection = connectionOf(client);
  const res = await connection.request(options.method ?? 'GET', path, options.headers, options.body, status);
  if (res.status !== status) throw new Error(`HTTP ${res.status} (expected ${status}): ${res.text?.slice(0, 500)}`);
  if (res.bytes === 0 && status !== 204) throw new Error(`HTTP ${res.status} with an empty body`);
  return res.bytes;
}

function operation(job: HttpJob) {
  const { ids = [], accounts = [], bulkSize = 1000 } = job;
  const headers = job.headers ?? {};
  const json = { ...headers, 'content-type': 'application/json' };
  switch (job.kind) {
    case 'get':
      return async (client: number) => {
        await call(client, `/api/data/opportunity/${ids[Math.floor(Math.random() * ids.length)]}`, 200, { headers });
      };
    case 'list':
      return async (client: number) => {
        await call(client, job.path!, 200, { headers });
      };
    case 'create':
      return async (client: number, n: number) => {
        const body = JSON.stringify(opportunityBody(n, accounts));
        await call(client, '/api/data/opportunity', 201, { method: 'POST', headers: json, body });
      };
    case 'transition':
      // Each client cycles through its own slice of records, so no two transitions meet on one record.
      return async (client: number, n: number) => {
        const per = Math.floor(ids.length / (job.clients ?? 1));
        const id = ids[client * per + (n % per)];
        await call(client, `/api/data/opportunity/${id}/transitions/${job.path}`, 200, { method: 'POST', headers });
      };
    case 'bulk':
      return async (client: number, n: number) => {
        const body = JSON.stringify(Array.from({ length: bulkSize }, (_, i) => opportunityBody(n * bulkSize + i, accounts)));
        await call(client, '/api/data/opportunity', 201, { method: 'POST', headers: json, body });
        return bulkSize;
      };
  }
}

/** What the client process spent while measuring: CPU (µs) and event-loop busy time (ms). */
export interface ClientUse {
  cpuUs: number;
  busyMs: number;
}

const send = (message: unknown) => process.send!(message);
// The benchmark went away (finished or failed): so does its client.
process.on('disconnect', () => process.exit(0));

process.on('message', async (job: HttpJob) => {
  try {
    if (target !== job.base) {
      for (const c of connections) c?.close();
      connections = [];
      target = job.base;
    }
    let cpu0 = process.cpuUsage();
    let elu0 = performance.eventLoopUtilization();
    const onMeasureStart = () => {
      cpu0 = process.cpuUsage();
      elu0 = performance.eventLoopUtilization();
      send({ type: 'measuring' });
    };
    const sample = await measure({ ...job, onMeasureStart }, operation(job));
    const cpu = process.cpuUsage(cpu0);
    const client: ClientUse = { cpuUs: cpu.user + cpu.system, busyMs: performance.eventLoopUtilization(elu0).active };
    send({ type: 'done', sample, client });
  } catch (e) {
    send({ type: 'error', message: (e as Error).message });
  }
});
