// scratch: summarise a .cpuprofile — self time by package/file and top functions
import { readFileSync } from 'node:fs';
const file = process.argv[2];
const p = JSON.parse(readFileSync(file, 'utf8'));
const nodes = new Map<number, any>(p.nodes.map((n: any) => [n.id, n]));
const self = new Map<number, number>();
const dt: number[] = p.timeDeltas;
p.samples.forEach((id: number, i: number) => self.set(id, (self.get(id) ?? 0) + (dt[i] ?? 0)));
const total = [...self.values()].reduce((a, b) => a + b, 0);
const byPkg = new Map<string, number>(); const byFn = new Map<string, number>();
for (const [id, t] of self) {
  const cf = nodes.get(id).callFrame;
  const url: string = cf.url || '';
  let pkg = url.includes('node_modules/') ? url.split('node_modules/')[1].split('/').slice(0, url.split('node_modules/')[1].startsWith('@') ? 2 : 1).join('/') : url.includes('/work/main/') ? url.split('/work/main/')[1] : url.startsWith('node:') ? url : (cf.functionName || '(native/' + (url || 'vm') + ')');
  if (['(idle)', '(program)', '(garbage collector)'].includes(cf.functionName)) pkg = cf.functionName;
  byPkg.set(pkg, (byPkg.get(pkg) ?? 0) + t);
  const fn = `${cf.functionName || '(anon)'} ${url.split('/').slice(-2).join('/')}:${cf.lineNumber}`;
  byFn.set(fn, (byFn.get(fn) ?? 0) + t);
}
const cat = (k: string) => k.startsWith('drizzle') ? 'drizzle-orm' : k === 'postgres' ? 'postgres.js' : /^(hono|@hono|node:_http|node:internal\/deps\/undici|node:internal\/abort|node:internal\/streams|node:net|node:internal\/stream_base|node:events|node:buffer|node:internal\/url|node:url)/.test(k) ? 'HTTP (node http, hono, node-server, Request/undici, streams)' : /^(writeBuffer|writev|writeUtf8String|writeLatin1String)$/.test(k) ? 'socket writes (syscalls)' : k.startsWith('ajv') || k.startsWith('fast-uri') ? 'ajv' : k.startsWith('json-logic') ? 'json-logic-js' : k.startsWith('engine/') || k.startsWith('metadata/') ? 'engine code' : k;
const byCat = new Map<string, number>(); for (const [k, v] of byPkg) byCat.set(cat(k), (byCat.get(cat(k)) ?? 0) + v);
const show = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).forEach(([k, v]) => console.log(`${(v / 1000).toFixed(0).padStart(7)} ms ${(100 * v / total).toFixed(1).padStart(5)}%  ${k}`));
show(byCat, 12); console.log('--- packages');
console.log(`total ${(total / 1000).toFixed(0)} ms`); show(byPkg, 25); console.log('--- functions'); show(byFn, Number(process.argv[3] ?? 30));
// inclusive time for named functions (argv[4] = comma list)
if (process.argv[4]) {
  const children = new Map<number, number[]>(p.nodes.map((n: any) => [n.id, n.children ?? []]));
  const incl = (id: number): number => (self.get(id) ?? 0) + children.get(id)!.reduce((a, c) => a + incl(c), 0);
  const want = process.argv[4].split(',');
  const acc = new Map<string, number>();
  const walk = (id: number, inside: Set<string>) => {
    const n = nodes.get(id); const fn = n.callFrame.functionName; const key = `${fn}@${(n.callFrame.url || '').split('/').slice(-1)[0]}`;
    if (want.some((w) => key.startsWith(w)) && !inside.has(key)) { acc.set(key, (acc.get(key) ?? 0) + incl(id)); inside = new Set([...inside, key]); }
    for (const c of children.get(id)!) walk(c, inside);
  };
  walk(p.nodes[0].id, new Set());
  console.log('--- inclusive'); for (const [k, v] of acc) console.log(`${(v / 1000).toFixed(0).padStart(7)} ms  ${k}`);
}
