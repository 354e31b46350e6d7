/**
 * The API load generator, run in a worker thread so that building requests and reading responses does
 * not compete with the server for the main thread's event loop (as a remote client would not).
 * Real HTTP to 127.0.0.1 with undici's dispatch API on a keep-alive pool (one connection per client
 * loop): the same HTTP/1.1 a browser or fetch speaks, without fetch's WHATWG Request/Response objects
 * or the request API's body streams — the client shares the machine's 2 vCPUs with the server, and
 * fetch cost it half a core at ~1,200 list pages/s. Every response body is read to its end.
 */
import { parentPort } from 'node:worker_threads';
import { Pool } from 'undici';
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

let pool: Pool | undefined;
let poolOrigin = '';

/**
 * One request through undici's dispatch API: the response body is counted chunk by chunk as it
 * arrives (kept only for an error message), without the Readable stream the request API builds for
 * every response. The client shares the machine with the server, so it should cost as little as a
 * remote client would cost the server: nothing.
 */
function call(path: string, status: number, options: { method?: 'GET' | 'POST'; headers: Record<string, string>; body?: string }): Promise<number> {
  return new Promise((resolve, reject) => {
    let code = 0;
    let bytes = 0;
    let errorText = '';
    pool!.dispatch(
      { origin: poolOrigin, path, method: options.method ?? 'GET', headers: options.headers, body: options.body },
      {
        onRequestStart() {},
        onResponseStart(_controller, statusCode) {
          code = statusCode;
        },
        onResponseData(_controller, chunk) {
          bytes += chunk.length;
          if (code !== status && errorText.length < 500) errorText += chunk.toString('utf8');
        },
        onResponseEnd() {
          if (code !== status) reject(new Error(`HTTP ${code} (expected ${status}): ${errorText.slice(0, 500)}`));
          else if (bytes === 0 && status !== 204) reject(new Error(`HTTP ${code} with an empty body`));
          else resolve(bytes);
        },
        onResponseError(_controller, error) {
          reject(error);
        },
      },
    );
  });
}

function operation(job: HttpJob) {
  const { ids = [], accounts = [], bulkSize = 1000 } = job;
  const headers = job.headers ?? {};
  const json = { ...headers, 'content-type': 'application/json' };
  switch (job.kind) {
    case 'get':
      return async () => {
        await call(`/api/data/opportunity/${ids[Math.floor(Math.random() * ids.length)]}`, 200, { headers });
      };
    case 'list':
      return async () => {
        await call(job.path!, 200, { headers });
      };
    case 'create':
      return async (client: number, n: number) => {
        const body = JSON.stringify(opportunityBody(n, accounts));
        await call('/api/data/opportunity', 201, { method: 'POST', headers: json, body });
      };
    case 'transition':
      // Each client cycles through its own slice of records, so no two transitions meet on one record.
      return async (client: number, n: number) => {
        const per = Math.floor(ids.length / (job.clients ?? 1));
        const id = ids[client * per + (n % per)];
        await call(`/api/data/opportunity/${id}/transitions/${job.path}`, 200, { method: 'POST', headers });
      };
    case 'bulk':
      return async (client: number, n: number) => {
        const body = JSON.stringify(Array.from({ length: bulkSize }, (_, i) => opportunityBody(n * bulkSize + i, accounts)));
        await call('/api/data/opportunity', 201, { method: 'POST', headers: json, body });
        return bulkSize;
      };
  }
}

parentPort!.on('message', async (job: HttpJob) => {
  try {
    pool ??= new Pool(job.base, { connections: job.clients, pipelining: 1, keepAliveTimeout: 60_000 });
    poolOrigin = job.base;
    const sample = await measure({ ...job, onMeasureStart: () => parentPort!.postMessage({ type: 'measuring' }) }, operation(job));
    parentPort!.postMessage({ type: 'done', sample }, [sample.latencies.buffer as ArrayBuffer]);
  } catch (e) {
    parentPort!.postMessage({ type: 'error', message: (e as Error).message });
  }
});
