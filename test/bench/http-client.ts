/**
 * The API load generator, run in a worker thread so that building requests and reading responses does
 * not compete with the server for the main thread's event loop (as a remote client would not).
 * Real HTTP to 127.0.0.1 through Node's fetch (undici, keep-alive connections, one per client loop).
 */
import { parentPort } from 'node:worker_threads';
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

async function expect(res: Response, status: number) {
  const text = await res.text();
  if (res.status !== status) throw new Error(`HTTP ${res.status} (expected ${status}): ${text.slice(0, 500)}`);
  return text.length;
}

function operation(job: HttpJob) {
  const { base, ids = [], accounts = [], bulkSize = 1000 } = job;
  const headers = job.headers ?? {};
  const json = { ...headers, 'content-type': 'application/json' };
  switch (job.kind) {
    case 'get':
      return async () => {
        await expect(await fetch(`${base}/api/data/opportunity/${ids[Math.floor(Math.random() * ids.length)]}`, { headers }), 200);
      };
    case 'list':
      return async () => {
        await expect(await fetch(base + job.path, { headers }), 200);
      };
    case 'create':
      return async (client: number, n: number) => {
        const body = JSON.stringify(opportunityBody(n, accounts));
        await expect(await fetch(`${base}/api/data/opportunity`, { method: 'POST', headers: json, body }), 201);
      };
    case 'transition':
      // Each client cycles through its own slice of records, so no two transitions meet on one record.
      return async (client: number, n: number) => {
        const per = Math.floor(ids.length / (job.clients ?? 1));
        const id = ids[client * per + (n % per)];
        await expect(await fetch(`${base}/api/data/opportunity/${id}/transitions/${job.path}`, { method: 'POST', headers }), 200);
      };
    case 'bulk':
      return async (client: number, n: number) => {
        const body = JSON.stringify(Array.from({ length: bulkSize }, (_, i) => opportunityBody(n * bulkSize + i, accounts)));
        await expect(await fetch(`${base}/api/data/opportunity`, { method: 'POST', headers: json, body }), 201);
        return bulkSize;
      };
  }
}

parentPort!.on('message', async (job: HttpJob) => {
  try {
    const sample = await measure({ ...job, onMeasureStart: () => parentPort!.postMessage({ type: 'measuring' }) }, operation(job));
    parentPort!.postMessage({ type: 'done', sample }, [sample.latencies.buffer as ArrayBuffer]);
  } catch (e) {
    parentPort!.postMessage({ type: 'error', message: (e as Error).message });
  }
});
