/**
 * Fields added or changed by a deploy hold for the records that already exist (metadata/backfill.ts):
 * formulas are recomputed on every row, new auto-numbers number the rows in the order they were created.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { drivers, L, startEngine, type TestEngine } from '../support/engine.js';
import { testApp } from './fixtures.js';
import { BACKFILL_QUEUE } from '../../metadata/backfill.js';

type Doc = { kind: string; name: string; fields: Record<string, unknown>[] };
const dealDoc = (change: (fields: Record<string, unknown>[]) => Record<string, unknown>[]): Doc => {
  const doc = structuredClone(testApp().find((d) => d.kind === 'entity' && d.name === 'deal')) as unknown as Doc;
  return { ...doc, fields: change(doc.fields) };
};
const withWeighted = (divisor: number) =>
  dealDoc((fields) =>
    fields.map((f) =>
      f.name === 'weighted' ? { ...f, expr: { '*': [{ var: 'amount' }, { '/': [{ var: 'probability' }, divisor] }] } } : f,
    ),
  );
const round2 = (n: number) => Math.round(n * 100) / 100;
const doubled = {
  name: 'doubled',
  type: 'formula',
  returns: 'decimal',
  label: L('Doubled', '双倍'),
  expr: { '*': [{ var: 'amount' }, 2] },
};
/** The deal document after the formula tests, relabelled and with a plain field more. */
const relabelled = () => {
  const current = dealDoc(() => [...withWeighted(50).fields, doubled]);
  return {
    ...current,
    label: L('Opportunity', '机会'),
    fields: [...current.fields, { name: 'memo', type: 'text', label: L('Memo', '备忘') }],
  };
};

describe.each(drivers)('backfilling existing records after a deploy on %s', (driver) => {
  let e: TestEngine;
  let ids: string[] = [];

  beforeAll(async () => {
    e = await startEngine(driver);
    expect((await e.call('POST', '/api/meta/deploy', { documents: testApp() })).status).toBe(201);
    const deals = Array.from({ length: 30 }, (_, i) => ({
      title: `Deal ${i}`,
      amount: i % 7 === 0 ? null : 1000 * (i + 1),
      probability: (i * 13) % 101,
    }));
    const created = await e.call('POST', '/api/data/deal', deals);
    expect(created.status).toBe(201);
    ids = created.body.data.map((d: { id: string }) => d.id);
    // One record waits in the recycle bin: it is recomputed too, so a restore shows current values.
    expect((await e.call('DELETE', `/api/data/deal/${ids[3]}`)).status).toBe(200);
  });
  afterAll(() => e?.stop());

  /** Every deal, live and deleted, as stored. */
  const allDeals = async () =>
    e.database.rows<{
      id: string;
      amount: string | null;
      probability: string | null;
      weighted: string | null;
      big: boolean | null;
      version: number;
      updated_at: unknown;
      doubled?: string | null;
      deal_no?: string | null;
    }>(sql`select * from deal order by id`);
  const recomputeJobs = async () =>
    Number(
      (await e.database.rows<{ n: number }>(sql`select count(*)::int as n from jobs.job where name = ${BACKFILL_QUEUE}`))[0].n,
    );

  /** Waits until check() holds for the stored rows (the queue polls every half second). */
  async function until(check: (rows: Awaited<ReturnType<typeof allDeals>>) => boolean, ms = 20_000) {
    const deadline = Date.now() + ms;
    for (;;) {
      const rows = await allDeals();
      if (check(rows)) return rows;
      if (Date.now() > deadline) throw new Error(`not recomputed in ${ms} ms: ${JSON.stringify(rows.slice(0, 3))}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  const expected = (r: { amount: string | null; probability: string | null }, divisor: number) =>
    r.amount === null || r.probability === null ? null : round2((Number(r.amount) * Number(r.probability)) / divisor);

  it('recomputes a changed formula and the formulas that read it on every row, without touching versions', async () => {
    const before = await allDeals();
    expect(before.every((r) => (r.weighted === null ? null : Number(r.weighted)) === expected(r, 100))).toBe(true);
    const jobs = await recomputeJobs();

    const deployed = await e.call('POST', '/api/meta/deploy', { documents: [withWeighted(50)] });
    expect(deployed.status).toBe(201);
    expect(await recomputeJobs()).toBe(jobs + 1);
    // The deploy's answer names the job; its status is readable until it completes.
    expect(deployed.body.jobs).toEqual([
      {
        queue: BACKFILL_QUEUE,
        id: expect.any(String),
        entity: 'deal',
        description: 'recompute the computed fields of every deal',
      },
    ]);
    const job = deployed.body.jobs[0];
    for (let state = ''; state !== 'completed'; ) {
      const status = await e.call('GET', `/api/meta/jobs/${job.queue}/${job.id}`);
      expect(status.status).toBe(200);
      expect(['created', 'active', 'completed']).toContain((state = status.body.data.state));
      if (state !== 'completed') await new Promise((r) => setTimeout(r, 200));
      else expect(status.body.data.completedOn).toBeTruthy();
    }

    const after = await until((rows) => rows.every((r) => (r.weighted === null ? null : Number(r.weighted)) === expected(r, 50)));
    // `big` reads `weighted`: it follows the new values.
    for (const r of after) expect(r.big).toBe(r.weighted !== null && Number(r.weighted) > 10000);
    expect(after.filter((r) => r.big).length).toBeGreaterThan(before.filter((r) => r.big).length);
    // Nobody edited the records: versions and updated_at stay as they were.
    const byId = new Map(before.map((r) => [r.id, r]));
    for (const r of after) {
      expect(r.version).toBe(byId.get(r.id)!.version);
      expect(String(r.updated_at)).toBe(String(byId.get(r.id)!.updated_at));
    }
    // The API shows the recomputed values, the deleted record included once restored.
    expect((await e.call('POST', `/api/data/deal/${ids[3]}/restore`)).status).toBe(200);
    const restored = (await e.call('GET', `/api/data/deal/${ids[3]}`)).body.data;
    expect(restored.weighted).toBe(expected({ amount: String(restored.amount), probability: String(restored.probability) }, 50));
  });

  it('fills a formula field added to an entity that already has records', async () => {
    const doc = dealDoc(() => [...withWeighted(50).fields, doubled]);
    expect((await e.call('POST', '/api/meta/deploy', { documents: [doc] })).status).toBe(201);
    const rows = await until((all) =>
      all.every((r) => (r.doubled === null ? null : Number(r.doubled)) === (r.amount === null ? null : Number(r.amount) * 2)),
    );
    expect(rows.filter((r) => r.doubled !== null).length).toBeGreaterThan(20);
    const listed = (await e.call('GET', '/api/data/deal?fields=amount,doubled&limit=100')).body.data;
    for (const d of listed) expect(d.doubled).toBe(d.amount === null ? null : d.amount * 2);
  });

  it('queues nothing for deploys that leave computed fields as they were, for dry runs and for new entities', async () => {
    const jobs = await recomputeJobs();
    // A label changes, a plain field is added: no computed field changed.
    const doc = relabelled();
    expect((await e.call('POST', '/api/meta/deploy', { documents: [doc] })).status).toBe(201);
    // A dry run of a formula change applies nothing and queues nothing.
    const dry = await e.call('POST', '/api/meta/deploy', {
      documents: [
        { ...doc, fields: doc.fields.map((f) => (f.name === 'doubled' ? { ...f, expr: { '*': [{ var: 'amount' }, 3] } } : f)) },
      ],
      dryRun: true,
    });
    expect(dry.status).toBe(200);
    // A new entity with a formula has no rows to recompute.
    const gadget = {
      kind: 'entity',
      name: 'gadget',
      label: L('Gadget', '小工具'),
      fields: [
        { name: 'n', type: 'integer', label: L('N', '数') },
        { name: 'n2', type: 'formula', returns: 'integer', label: L('N²', '平方'), expr: { '*': [{ var: 'n' }, { var: 'n' }] } },
      ],
    };
    expect((await e.call('POST', '/api/meta/deploy', { documents: [gadget] })).status).toBe(201);
    expect(await recomputeJobs()).toBe(jobs);
  });

  it('writes only the rows whose values differ, and nothing on a second run', async () => {
    // Two rows made wrong behind the engine's back.
    await e.database.rows(sql`update deal set weighted = -1 where id in (${ids[1]}::uuid, ${ids[2]}::uuid)`);
    expect(await e.backfill.recompute('deal')).toBe(2);
    expect(await e.backfill.recompute('deal')).toBe(0);
    const rows = await allDeals();
    expect(rows.every((r) => (r.weighted === null ? null : Number(r.weighted)) === expected(r, 50))).toBe(true);
  });

  it('shows job status to deployers only, and 404 for jobs that are not there', async () => {
    const ghost = '00000000-0000-4000-8000-000000000000';
    expect((await e.call('GET', `/api/meta/jobs/${BACKFILL_QUEUE}/${ghost}`)).body.error.code).toBe('job_not_found');
    expect((await e.call('GET', `/api/meta/jobs/${BACKFILL_QUEUE}/not-a-uuid`)).status).toBe(404);
    expect((await e.call('GET', `/api/meta/jobs/mail.send/${ghost}`)).status).toBe(404);
    await e.createUser({ username: 'viewer', display_name: 'Viewer', roles: [], password: 'viewer password 1' });
    const viewer = await e.login('viewer', 'viewer password 1');
    const denied = await e.callAs(viewer, 'GET', `/api/meta/jobs/${BACKFILL_QUEUE}/${ghost}`);
    expect(denied.status).toBe(403);
  });

  it('queues nothing when the deploy fails', async () => {
    const jobs = await recomputeJobs();
    // The formula changes, but the deploy also drops a field without allowDestructive: refused, nothing queued.
    const refused = dealDoc(() => withWeighted(25).fields.filter((f) => f.name !== 'code'));
    const res = await e.call('POST', '/api/meta/deploy', { documents: [refused] });
    expect(res.status).toBe(409);
    expect(await recomputeJobs()).toBe(jobs);
  });

  it('numbers the existing records when an auto-number field is added, oldest first, dated by their creation', async () => {
    // Ten deals were created in 2024 (one minute apart, newest id first so that time, not id, orders them).
    const old = [...ids.slice(10, 20)].reverse();
    for (const [i, id] of old.entries())
      await e.database.rows(
        sql`update deal set created_at = ${`2024-05-01T08:${String(i).padStart(2, '0')}:00Z`}::timestamptz where id = ${id}::uuid`,
      );
    const versions = new Map((await allDeals()).map((r) => [r.id, r.version]));

    const doc = relabelled();
    const numbered = {
      ...doc,
      fields: [
        ...doc.fields,
        { name: 'deal_no', type: 'autonumber', pattern: 'D-{yyyy}-{seq:4}', label: L('Deal no.', '商机编号') },
      ],
    };
    expect((await e.call('POST', '/api/meta/deploy', { documents: [numbered] })).status).toBe(201);
    const rows = await until((all) => all.every((r) => r.deal_no));

    const numberOf = new Map(rows.map((r) => [r.id, r.deal_no]));
    expect(old.map((id) => numberOf.get(id))).toEqual(old.map((_, i) => `D-2024-${String(i + 1).padStart(4, '0')}`));
    const recent = rows
      .filter((r) => !old.includes(r.id))
      .map((r) => r.deal_no)
      .sort();
    expect(recent).toEqual(recent.map((_, i) => `D-${new Date().getUTCFullYear()}-${String(i + 1).padStart(4, '0')}`));
    for (const r of rows) expect(r.version).toBe(versions.get(r.id));

    // The counter continues where the backfill left it.
    const next = await e.call('POST', '/api/data/deal', { title: 'After the backfill' });
    expect(next.body.data.deal_no).toBe(`D-${new Date().getUTCFullYear()}-${String(recent.length + 1).padStart(4, '0')}`);
  });
});
