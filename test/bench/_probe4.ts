// scratch: HTTP overhead baseline: trivial JSON route via @hono/node-server vs plain node:http (same client worker)
import { Worker } from 'node:worker_threads';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance as perf } from 'node:perf_hooks';
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
const payload = { data: Object.fromEntries(Array.from({ length: 26 }, (_, i) => [`field_${i}`, `value ${i} `.repeat(3)])) };
const app = new Hono();
app.get('/api/data/:entity/:id', (c) => c.json(payload));
const honoSrv = serve({ hostname: '127.0.0.1', port: 0, fetch: app.fetch });
const plain = createServer((req, res) => { const body = JSON.stringify(payload); res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }); res.end(body); }).listen(0, '127.0.0.1');
await new Promise((r) => setTimeout(r, 200));
const tsx = import.meta.resolve('tsx/esm/api');
const target = new URL('./http-client.ts', import.meta.url).href;
const worker = new Worker(`import(${JSON.stringify(tsx)}).then((api) => api.tsImport(${JSON.stringify(target)}, ${JSON.stringify(import.meta.url)}))`, { eval: true });
for (const [label, srv] of [['hono node-server', honoSrv], ['plain node:http', plain], ['hono node-server', honoSrv], ['plain node:http', plain]] as const) {
  const base = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  const e0 = perf.eventLoopUtilization();
  const sample: any = await new Promise((res, rej) => {
    const on = (m: any) => { if (m.type === 'done') { worker.off('message', on); res(m.sample); } else if (m.type === 'error') rej(new Error(m.message)); };
    worker.on('message', on);
    worker.postMessage({ kind: 'get', base, ids: ['00000000-0000-7000-8000-000000000000'], clients: 8, seconds: 3, warmupSeconds: 1 });
  });
  const e = perf.eventLoopUtilization(e0);
  console.log(`${label.padEnd(18)} ${(sample.ops / sample.seconds).toFixed(0)} req/s, server thread busy ${(100 * e.active / e.duration).toFixed(0)}% (incl. warm-up) → ${(1000 * e.active / (sample.ops * 4 / 3)).toFixed(0)} µs/request`);
}
await worker.terminate(); honoSrv.close(); plain.close();
