/**
 * Property-based fuzzing of the whole REST API (issue 11): fast-check draws an operation from the
 * OpenAPI document, fills its path, query and body with bad and boundary values shaped by the entity
 * schemas, and sends it as one of several roles. It fails on
 *   - any 5xx (nothing a client sends may crash the server),
 *   - any write by a refused request (the audit log and the deployments must not move on a 4xx),
 *   - anything a role should not see: a record outside a sales rep's scope, a field outside its allowlist.
 * The normal suite runs a small seed-stable run (FUZZ_RUNS, default 300; FUZZ_SEED prints on failure);
 * `npm run fuzz` runs 10,000 requests per driver and writes the counts by status to docs/fuzz.md.
 */
import { join, resolve } from 'node:path';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import fc from 'fast-check';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPackage } from '../../metadata/loader.js';
import { seedOrganisation } from '../../engine/auth/demo.js';
import { drivers, startEngine, type TestEngine } from '../support/engine.js';

const root = resolve(import.meta.dirname, '..', '..');
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const SEED = Number(process.env.FUZZ_SEED ?? 20261127);
const REPORT = process.env.FUZZ_REPORT;

/** Operations the fuzzer leaves alone: they end the caller's own session or change credentials. */
const SKIP = [/\/api\/auth\/(logout|password)$/, /\/api\/users\/\{id\}\/(password|handover)$/];

interface Operation {
  method: string;
  path: string;
  query: string[];
  body?: Record<string, any>;
}

/** Values that broke PostgreSQL or the engine before: the edges of every column type, and worse. */
const BOUNDARIES: unknown[] = [
  '',
  ' ',
  '   ',
  'a\u0000b',
  '\u0000',
  'x\uD800',
  '\uDC00',
  '😀',
  'ä'.repeat(300),
  'x'.repeat(10_001),
  0,
  -1,
  1.5,
  -0.001,
  2147483647,
  2147483648,
  -2147483649,
  1e16,
  -1e16,
  // biome-ignore lint/correctness/noPrecisionLoss: the boundary value is the point
  9.999999999999999e15,
  1e308,
  Number.MAX_SAFE_INTEGER,
  '0000-01-01',
  '2026-02-30',
  '2026-02-28',
  '9999-12-31',
  '10000-01-01',
  '2026-06-30T23:59:60Z',
  '2026-06-30T23:59:59Z',
  '+275760-09-13T00:00:00Z',
  '2030',
  '1',
  'true',
  'null',
  '__proto__',
  'constructor',
  'toString',
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  'not-a-uuid',
  true,
  false,
  null,
  [],
  {},
  [null],
  { '': null },
  { __proto__: { admin: true } },
];

const nasty = (ids: string[]) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...BOUNDARIES) },
    { weight: 2, arbitrary: fc.constantFrom(...ids) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.double(), fc.boolean()) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  );

/** A value for one property of a schema: often of the right shape, often not. */
function valueFor(schema: Record<string, any> | undefined, ids: string[]): fc.Arbitrary<unknown> {
  const shaped: fc.Arbitrary<unknown>[] = [];
  if (schema?.enum?.length) shaped.push(fc.constantFrom(...schema.enum));
  const type = Array.isArray(schema?.type) ? schema!.type[0] : schema?.type;
  if (type === 'string' && schema?.format === 'uuid') shaped.push(fc.constantFrom(...ids), fc.uuid());
  else if (type === 'string' && schema?.format === 'date')
    shaped.push(fc.date({ noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)));
  else if (type === 'string' && schema?.format === 'date-time')
    shaped.push(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()));
  else if (type === 'string') shaped.push(fc.string({ maxLength: Math.min(Number(schema?.maxLength ?? 50), 300) }));
  else if (type === 'integer') shaped.push(fc.integer());
  else if (type === 'number') shaped.push(fc.double({ noNaN: true }));
  else if (type === 'boolean') shaped.push(fc.boolean());
  else if (type === 'array')
    shaped.push(fc.array(schema?.items?.enum ? fc.constantFrom(...schema.items.enum) : fc.string(), { maxLength: 4 }));
  return shaped.length ? fc.oneof(...shaped, nasty(ids)) : nasty(ids);
}

const WORD = fc
  .array(fc.constantFrom(...'华信中科远航客户商机项目报价ABCxyz0189 '.split('')), { minLength: 1, maxLength: 16 })
  .map((chars) => chars.join('').trim() || '华信');

/**
 * A value the schema accepts (undefined: none can be made — a pattern, a reference to records the
 * fuzzer has none of), so that writes succeed and later requests meet real, varied data.
 */
function validValue(schema: Record<string, any>, refs: Map<string, string[]>): fc.Arbitrary<unknown> | undefined {
  if (schema.readOnly) return undefined;
  // Forms list labelled choices as oneOf/anyOf of consts (rjsf's convention), schemas as enum.
  const choices = (s: Record<string, any> | undefined): unknown[] =>
    s?.enum ?? (s?.oneOf ?? s?.anyOf ?? []).filter((c: any) => 'const' in c).map((c: any) => c.const);
  if (choices(schema).length) return fc.constantFrom(...choices(schema));
  const type = Array.isArray(schema.type) ? schema.type.find((t: string) => t !== 'null') : schema.type;
  if (type === 'string' && schema.format === 'uuid') {
    const known = refs.get(String(schema['x-reference']));
    return known?.length ? fc.constantFrom(...known) : undefined;
  }
  if (type === 'string' && schema.format === 'date')
    return fc
      .date({ min: new Date('2020-01-01'), max: new Date('2030-12-31'), noInvalidDate: true })
      .map((d) => d.toISOString().slice(0, 10));
  if (type === 'string' && schema.format === 'date-time')
    return fc.date({ min: new Date('2020-01-01'), max: new Date('2030-12-31'), noInvalidDate: true }).map((d) => d.toISOString());
  if (type === 'string' && schema.format === 'email') return fc.nat(9999).map((n) => `user${n}@example.com`);
  if (type === 'string' && (schema.pattern || schema.format)) return undefined;
  if (type === 'string') return WORD.map((w) => w.slice(0, Number(schema.maxLength ?? 16)));
  const [min, max] = [Number(schema.minimum ?? 0), Math.min(Number(schema.maximum ?? 100_000), 100_000)];
  if (type === 'integer') return fc.integer({ min: Math.ceil(min), max: Math.floor(max) });
  if (type === 'number') return fc.integer({ min: Math.ceil(min), max: Math.floor(max) });
  if (type === 'boolean') return fc.boolean();
  if (type === 'array' && choices(schema.items).length) return fc.subarray(choices(schema.items));
  return undefined;
}

/** A body the entity's create schema accepts: every required field valid, some optional ones. */
function validBody(
  schema: Record<string, any>,
  refs: Map<string, string[]>,
  stateFields: ReadonlySet<string>,
): fc.Arbitrary<unknown> | undefined {
  const properties = (schema.properties ?? {}) as Record<string, Record<string, any>>;
  const required = new Set<string>(schema.required ?? []);
  const values = Object.entries(properties)
    // A workflow's state starts where the workflow says: a create naming another one is refused.
    .filter(([name]) => !stateFields.has(name))
    .map(([name, p]) => [name, validValue(p, refs)] as const)
    .filter((entry): entry is readonly [string, fc.Arbitrary<unknown>] => entry[1] !== undefined);
  if ([...required].some((r) => !values.some(([n]) => n === r))) return undefined;
  return fc.record(Object.fromEntries(values), { requiredKeys: [...required] });
}

function bodyFor(
  schema: Record<string, any> | undefined,
  ids: string[],
  refs: Map<string, string[]>,
  stateFields: ReadonlySet<string> = new Set(),
  /** The caller's own create form (only the fields they may write), for the valid bodies of a create. */
  form?: Record<string, any>,
): fc.Arbitrary<unknown> {
  const properties = (schema?.properties ?? {}) as Record<string, Record<string, any>>;
  const names = Object.keys(properties);
  const record = names.length
    ? fc.subarray(names).chain((picked) => fc.record(Object.fromEntries(picked.map((n) => [n, valueFor(properties[n], ids)]))))
    : fc.dictionary(fc.string({ maxLength: 8 }), nasty(ids), { maxKeys: 4 });
  const valid = form ? validBody(form, refs, stateFields) : undefined;
  return fc.oneof(
    { weight: 6, arbitrary: record },
    ...(valid ? [{ weight: 5, arbitrary: valid }] : []),
    { weight: 1, arbitrary: nasty(ids) },
    { weight: 1, arbitrary: fc.array(record, { maxLength: 3 }) },
  );
}

/** Query values: json-logic filters over real and unknown fields, sorts, cursors, limits, searches. */
function queryValue(name: string, fields: string[], ids: string[]): fc.Arbitrary<string> {
  const field = fc.oneof(fc.constantFrom(...fields), fc.constantFrom('nope', 'id', '__proto__'));
  switch (name) {
    case 'filter':
      return fc.oneof(
        fc
          .tuple(fc.constantFrom('==', '!=', '<', '>=', 'in', '!', 'and', 'or', 'bogus'), field, nasty(ids))
          .map(([op, f, v]) => JSON.stringify({ [op]: [{ var: f }, v] })),
        fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
        fc.string(),
      );
    case 'sort':
      return fc
        .array(fc.tuple(fc.boolean(), field), { maxLength: 3 })
        .map((keys) => keys.map(([d, f]) => (d ? '-' : '') + f).join(','));
    case 'cursor':
      return fc.oneof(
        fc
          .tuple(field, nasty(ids), fc.constantFrom(...ids))
          .map(([f, v, id]) => Buffer.from(JSON.stringify({ s: f, v: [v], id })).toString('base64url')),
        fc.string(),
      );
    case 'limit':
      return fc.oneof(fc.integer({ min: -5, max: 1000 }).map(String), fc.constantFrom('1e3', '0x10', ''));
    default:
      return fc.oneof(
        fc.constantFrom(...fields),
        nasty(ids).map((v) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? ''))),
      );
  }
}

/**
 * encodeURIComponent, except that a lone surrogate (which it refuses) is sent as its WTF-8 bytes: a URL
 * with malformed UTF-8 is exactly what a hostile client sends.
 */
const encode = (value: string) =>
  [...value]
    .map((c) => {
      if (c.length === 2 || !/[\uD800-\uDFFF]/.test(c)) return encodeURIComponent(c);
      const u = c.charCodeAt(0);
      return [0xe0 | (u >> 12), 0x80 | ((u >> 6) & 0x3f), 0x80 | (u & 0x3f)]
        .map((b) => `%${b.toString(16).toUpperCase()}`)
        .join('');
    })
    .join('');

describe.each(drivers)('API fuzzing on %s', (driver) => {
  let e: TestEngine;
  let operations: Operation[];
  const tokens: Record<string, string> = {};
  const ids: string[] = [];
  const northOnly: string[] = []; // records rep_north owns: rep_east must never see them
  /** Ids by entity, for bodies that refer to real records (east's only: what every role may see or not). */
  const refs = new Map<string, string[]>();
  /** Each role's create form by "role/entity": the fields that role may write, for valid creates. */
  const forms = new Map<string, Record<string, any>>();
  const counts = new Map<number, number>();

  beforeAll(async () => {
    e = await startEngine(driver);
    expect(
      (await e.call('POST', '/api/meta/deploy', { documents: await loadPackage(join(root, 'sample-apps', 'sales')) })).status,
    ).toBe(201);
    // The sample organisation without its administrator (the test engine has one already).
    const organisation = JSON.parse(await readFile(join(root, 'sample-apps', 'sales', 'data', 'organisation.json'), 'utf8'));
    organisation.users = organisation.users.filter((u: { username: string }) => u.username !== 'admin');
    const file = join(await mkdtemp(join(tmpdir(), 'fuzz-')), 'organisation.json');
    await writeFile(file, JSON.stringify(organisation));
    const credentials = await seedOrganisation(e.data, e.auth, [file]);
    for (const c of credentials.filter((x) =>
      ['rep_east', 'rep_north', 'manager_east', 'marketing', 'finance'].includes(x.username),
    )) {
      tokens[c.username] = await e.login(c.username, c.password);
    }
    tokens.admin = e.admin.token;
    for (const [user, name] of [
      ['rep_east', '东方客户'],
      ['rep_north', '北方机密客户'],
    ]) {
      const account = await e.callAs(tokens[user], 'POST', '/api/data/account', {
        name,
        region: user === 'rep_east' ? 'east' : 'north',
        grade: 'a',
      });
      expect(account.status).toBe(201);
      const opportunity = await e.callAs(tokens[user], 'POST', '/api/data/opportunity', {
        title: `${name}商机`,
        account: account.body.data.id,
        opportunity_type: 'project',
      });
      expect(opportunity.status).toBe(201);
      ids.push(account.body.data.id, opportunity.body.data.id);
      if (user === 'rep_east') {
        refs.set('account', [account.body.data.id]);
        refs.set('opportunity', [opportunity.body.data.id]);
      }
      if (user === 'rep_north') northOnly.push(account.body.data.id, opportunity.body.data.id);
    }
    const openapi = (await e.call('GET', '/api/openapi.json')).body;
    // A create takes one record or an array of them (oneOf): the record's schema is the first.
    const resolveRef = (s: any): any =>
      s?.$ref ? openapi.components.schemas[s.$ref.split('/').pop()] : s?.oneOf ? resolveRef(s.oneOf[0]) : s;
    operations = [];
    for (const [path, item] of Object.entries<any>(openapi.paths)) {
      if (SKIP.some((r) => r.test(path))) continue;
      for (const method of ['get', 'post', 'patch', 'delete']) {
        const op = item[method];
        if (!op) continue;
        operations.push({
          method: method.toUpperCase(),
          path,
          query: (op.parameters ?? []).filter((p: any) => p.in === 'query').map((p: any) => p.name),
          body: op.requestBody ? (resolveRef(op.requestBody.content?.['application/json']?.schema) ?? {}) : undefined,
        });
      }
    }
    expect(operations.length).toBeGreaterThan(50);
    for (const [role, token] of Object.entries(tokens))
      for (const entity of e.metadata.model.entities.keys()) {
        const form = await e.callAs(token, 'GET', `/api/meta/forms/${entity}`);
        if (form.status === 200) forms.set(`${role}/${entity}`, form.body.data.create);
      }
  }, 300_000); // an organisation (scrypt), a deploy and every role's forms, on a busy shared machine

  afterAll(async () => {
    if (REPORT && counts.size) {
      const file = join(root, 'docs', 'fuzz.md');
      const previous = await readFile(file, 'utf8').catch(() => '');
      const rows = [...counts.entries()]
        .sort(([a], [b]) => a - b)
        .map(([status, n]) => `| ${status} | ${n} |`)
        .join('\n');
      const total = [...counts.values()].reduce((a, b) => a + b, 0);
      const section = `\n## ${driver}: ${total} requests, seed ${SEED} (${new Date().toISOString().slice(0, 10)})\n\n| Status | Requests |\n|---|---|\n${rows}\n`;
      await writeFile(file, (previous || FUZZ_HEADER) + section);
    }
    await e?.stop();
  });

  const watermark = async () => {
    const [row] = await e.database.rows<{ audit: number | string | null; deployed: number | string | null }>(sql`
      select (select max(id) from audit.log) as audit, (select max(version) from meta.deployments) as deployed`);
    return `${row.audit}/${row.deployed}`;
  };

  it(
    `answers ${RUNS} generated requests with no 5xx, no write on refusal and nothing a role may not see`,
    async () => {
      const entityFields = new Map<string, string[]>();
      for (const doc of e.metadata.model.entities.values())
        entityFields.set(
          doc.name,
          doc.fields.map((f) => f.name),
        );
      const roles = Object.keys(tokens);
      // Creates are one operation in twenty: they are drawn more often, so that writes land and later requests meet real data.
      const creates = operations.filter((o) => o.method === 'POST' && /^\/api\/data\/[a-z_]+$/.test(o.path));
      const anyOperation = fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom(...operations) },
        { weight: 1, arbitrary: fc.constantFrom(...creates) },
      );
      const request = fc.tuple(anyOperation, fc.constantFrom(...roles), fc.context()).chain(([op, role]) => {
        const entity = /\/api\/data\/([a-z_]+)/.exec(op.path)?.[1] ?? 'account';
        const fields = entityFields.get(entity) ?? ['id'];
        const params = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
        const paramArbs = Object.fromEntries(
          params.map((p) => [
            p,
            p === 'id' || p === 'task' || p === 'shareId'
              ? fc.oneof(fc.constantFrom(...ids), fc.uuid(), fc.constantFrom('not-a-uuid', '0', '%00', '..'))
              : p === 'event'
                ? fc.constantFrom('constructor', '__proto__', 'toString', 'qualify', 'win', 'lose', 'x')
                : fc.string({ minLength: 1, maxLength: 12 }),
          ]),
        );
        const queryArbs = Object.fromEntries(op.query.map((q) => [q, fc.option(queryValue(q, fields, ids), { nil: undefined })]));
        return fc.record({
          op: fc.constant(op),
          role: fc.constant(role),
          params: fc.record(paramArbs),
          query: fc.record(queryArbs),
          body:
            op.body !== undefined
              ? fc.option(
                  bodyFor(
                    op.body,
                    ids,
                    refs,
                    e.metadata.model.entity(entity)?.workflowFields,
                    op.method === 'POST' && op.path === `/api/data/${entity}` ? forms.get(`${role}/${entity}`) : undefined,
                  ),
                  {
                    nil: undefined,
                    freq: 8,
                  },
                )
              : fc.constant(undefined),
          lang: fc.constantFrom('en', 'zh-CN'),
        });
      });

      await fc.assert(
        fc.asyncProperty(request, async ({ op, role, params, query, body, lang }) => {
          let path = op.path.replace(/\{(\w+)\}/g, (_, p) => encode(String((params as Record<string, unknown>)[p])));
          const search = Object.entries(query as Record<string, string | undefined>)
            .filter(([, v]) => v !== undefined)
            .map(([k, v]) => `${k}=${encode(v!)}`);
          if (search.length) path += `?${search.join('&')}`;
          // Deploys by an administrator would change the schema under the fuzzer: they are sent as others only.
          const as = op.path === '/api/meta/deploy' && role === 'admin' ? 'rep_east' : role;
          const before = await watermark();
          const res = await e.callAs(tokens[as], op.method, path, body, { 'accept-language': lang });
          counts.set(res.status, (counts.get(res.status) ?? 0) + 1);
          const what = `${as} ${op.method} ${path} ${JSON.stringify(body)?.slice(0, 300)} → ${res.status} ${JSON.stringify(res.body)?.slice(0, 300)}`;
          expect(res.status, what).toBeLessThan(500);
          if (res.status >= 400) {
            expect(await watermark(), `a refused request wrote: ${what}`).toBe(before);
            expect(res.body?.error?.code, `an error without a code: ${what}`).toEqual(expect.any(String));
          }
          if (res.status < 300 && as === 'rep_east') {
            const text = JSON.stringify(res.body);
            for (const id of northOnly) expect(text.includes(id), `rep_east saw rep_north's record ${id}: ${what}`).toBe(false);
            // credit terms are outside the rep's account allowlist
            if (op.path.startsWith('/api/data/account'))
              expect(/"credit_limit"|"credit_rating"/.test(text), `rep_east saw a credit field: ${what}`).toBe(false);
          }
        }),
        { numRuns: RUNS, seed: SEED, endOnFailure: true, verbose: 1 },
      );
    },
    Math.max(120_000, RUNS * 200),
  );
});

const FUZZ_HEADER = `# Fuzzing the API

\`npm run fuzz\` runs \`test/fuzz/api.fuzz.test.ts\` with 10,000 generated requests per database driver:
operations from the OpenAPI document, bad and boundary values shaped by the entity schemas, as an
administrator, two sales reps, a manager, marketing and finance. Creates are drawn more often, and about
two in five of their bodies are valid for the caller (built from that role's own create form), so that
writes land. It fails on any 5xx, any write by a refused request, and anything a sales rep may not see.
The normal suite runs 300 of them with a fixed seed. Counts by status of the last runs (a 4xx is the
expected answer to most of what the fuzzer sends):
`;
