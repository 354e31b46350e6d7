/**
 * Benchmark part for permissions: the same list page for a user whose scope is their department
 * subtree and for an administrator, on opportunities owned across 50 departments and 500 users.
 * Timed server-side (DataService.list in process, principal already resolved as a session would have it),
 * so HTTP and JSON don't blur the comparison.
 */
import { performance } from 'node:perf_hooks';
import type { Sql } from 'postgres';
import type { Engine } from '../../engine/engine.js';
import { loadPrincipal } from '../../engine/access/principal.js';
import { uuidv7 } from '../../engine/model/ids.js';

export interface AccessBenchResult {
  departments: number;
  users: number;
  rows: number;
  subtreeDepartments: number;
  subtreeShare: number;
  page: string;
  repP50Ms: number;
  repP95Ms: number;
  adminP50Ms: number;
  adminP95Ms: number;
  ratio: number;
  rawRepP50Ms: number;
  rawAdminP50Ms: number;
  targets: { ratioWithin1_5: boolean; bothUnder20ms: boolean };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

/**
 * Builds the organisation (1 head office, 7 regions, 6 teams per region = 50 departments; 10 users in
 * each), spreads the opportunities' owners evenly over the 500 users, then measures.
 */
export async function benchAccess(engine: Engine, sql: Sql, options: { iterations?: number } = {}): Promise<AccessBenchResult> {
  const iterations = options.iterations ?? 300;
  const departments: { id: string; parent: string | null; level: number }[] = [];
  const root = { id: uuidv7(), parent: null, level: 0 };
  departments.push(root);
  for (let r = 0; r < 7; r++) {
    const region = { id: uuidv7(), parent: root.id, level: 1 };
    departments.push(region);
    for (let t = 0; t < 6; t++) departments.push({ id: uuidv7(), parent: region.id, level: 2 });
  }
  for (const [i, d] of departments.entries()) {
    await sql`insert into department (id, name, code, parent) values (${d.id}, ${`部门 ${i}`}, ${`bench_${i}`}, ${d.parent})`;
  }
  const users: { id: string; department: string }[] = [];
  for (const d of departments) for (let u = 0; u < 10; u++) users.push({ id: uuidv7(), department: d.id });
  await sql`insert into "user" ${sql(
    users.map((u, i) => ({
      id: u.id,
      username: `bench_user_${i}`,
      display_name: `用户 ${i}`,
      department: u.department,
      employment_status: 'active',
      roles: sql.array(['sales_rep']) as unknown as string,
    })),
  )}`;
  // The measured user: a regional director, whose scope is the region and its six teams.
  const region = departments[1];
  const director = users.find((u) => u.department === region.id)!;
  await sql`update "user" set roles = ${sql.array(['sales_director'])} where id = ${director.id}`;
  const admin = users.find((u) => u.department === root.id)!;
  await sql`update "user" set roles = ${sql.array(['admin'])} where id = ${admin.id}`;

  // Spread owners evenly and deterministically over all 500 users.
  const ids = users.map((u) => u.id);
  await sql`update opportunity o set owner_id = (${sql.array(ids)}::uuid[])[1 + (abs(hashtext(o.id::text)) % ${ids.length})]`;
  await sql`vacuum analyze opportunity`;
  await sql`analyze "user"`;
  await sql`analyze department`;

  const [{ n: rows }] = await sql`select count(*)::int as n from opportunity where deleted_at is null`;
  const subtree = departments.filter((d) => d.id === region.id || d.parent === region.id).map((d) => d.id);
  const [{ n: inScope }] =
    await sql`select count(*)::int as n from opportunity o join "user" u on u.id = o.owner_id where u.department = any(${sql.array(subtree)}::uuid[])`;

  const model = engine.metadata.model;
  const repPrincipal = (await loadPrincipal(engine.database, model, director.id))!;
  const adminPrincipal = (await loadPrincipal(engine.database, model, admin.id))!;
  const query = { filter: JSON.stringify({ '==': [{ var: 'stage' }, 'negotiation'] }), sort: '-amount', limit: '50' };
  const ctx = (principal: typeof repPrincipal) => ({ principal, lang: 'en' as const });

  // Raw SQL of the same page, for reference: the admin's and the scoped one.
  const rawAdmin = () =>
    sql`select * from opportunity where deleted_at is null and stage = 'negotiation' order by amount desc nulls last, id desc limit 51`;
  const rawRep = () => sql`select * from opportunity where deleted_at is null and stage = 'negotiation'
    and owner_id in (select id from "user" where department = any(${sql.array(repPrincipal.departmentTrees)}::uuid[]))
    order by amount desc nulls last, id desc limit 51`;

  const samples = { rep: [] as number[], admin: [] as number[], rawRep: [] as number[], rawAdmin: [] as number[] };
  const time = async (into: number[], fn: () => Promise<unknown>) => {
    const start = performance.now();
    await fn();
    into.push(performance.now() - start);
  };
  for (let i = 0; i < 20; i++) {
    await engine.data.list(ctx(repPrincipal), 'opportunity', query);
    await engine.data.list(ctx(adminPrincipal), 'opportunity', query);
  }
  const repPage = await engine.data.list(ctx(repPrincipal), 'opportunity', query);
  if (!repPage.data.length) throw new Error('the scoped page is empty: the benchmark would measure nothing');
  // Alternate, so background noise hits both sides alike.
  for (let i = 0; i < iterations; i++) {
    await time(samples.rep, () => engine.data.list(ctx(repPrincipal), 'opportunity', query));
    await time(samples.admin, () => engine.data.list(ctx(adminPrincipal), 'opportunity', query));
    await time(samples.rawRep, rawRep);
    await time(samples.rawAdmin, rawAdmin);
  }
  for (const s of Object.values(samples)) s.sort((a, b) => a - b);
  const repP50 = percentile(samples.rep, 0.5);
  const adminP50 = percentile(samples.admin, 0.5);
  return {
    departments: departments.length,
    users: users.length,
    rows: Number(rows),
    subtreeDepartments: subtree.length,
    subtreeShare: Number(inScope) / Number(rows),
    page: 'stage = negotiation, sort -amount, limit 50',
    repP50Ms: repP50,
    repP95Ms: percentile(samples.rep, 0.95),
    adminP50Ms: adminP50,
    adminP95Ms: percentile(samples.admin, 0.95),
    ratio: repP50 / adminP50,
    rawRepP50Ms: percentile(samples.rawRep, 0.5),
    rawAdminP50Ms: percentile(samples.rawAdmin, 0.5),
    targets: { ratioWithin1_5: repP50 / adminP50 <= 1.5, bothUnder20ms: repP50 < 20 && adminP50 < 20 },
  };
}

export function formatAccess(r: AccessBenchResult): string {
  const ms = (v: number) => `${v.toFixed(2)} ms`;
  return [
    `Permissions: list page (${r.page}) on ${r.rows.toLocaleString('en')} opportunities, ${r.users} users in ${r.departments} departments`,
    `  department-subtree user (${r.subtreeDepartments} departments, ${(r.subtreeShare * 100).toFixed(1)}% of rows in scope): p50 ${ms(r.repP50Ms)}, p95 ${ms(r.repP95Ms)}   (raw SQL ${ms(r.rawRepP50Ms)})`,
    `  administrator:                                p50 ${ms(r.adminP50Ms)}, p95 ${ms(r.adminP95Ms)}   (raw SQL ${ms(r.rawAdminP50Ms)})`,
    `  scoped ÷ admin: ${r.ratio.toFixed(2)}× (target ≤ 1.5×: ${r.targets.ratioWithin1_5 ? 'met' : 'MISSED'}); both under 20 ms server-side: ${r.targets.bothUnder20ms ? 'met' : 'MISSED'}`,
  ].join('\n');
}
