/**
 * Demo data: the sample apps' generated sets load through the engine's operations as the demo users,
 * with two years of backdated history, once; the generator is deterministic; a bad row is named by
 * its file and path and leaves nothing behind.
 */
import { mkdtemp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPackage } from '../../metadata/loader.js';
import { demoDataLoaded, loadDemoData } from '../../engine/seed/load.js';
import { planSet, SeedError, streamFor, type DemoFile, type GeneratorScope } from '../../engine/seed/generate.js';
import { drivers, startEngine, type TestEngine } from '../support/engine.js';
import { seedDemoOrganisation } from '../support/demo-org.js';

const root = resolve(import.meta.dirname, '..', '..');
const apps = ['sales', 'finance', 'service'].map((a) => join(root, 'sample-apps', a));
const DAY = 86_400_000;

describe('the demo-data generator', () => {
  const scopeFor = (doc: DemoFile, seed = doc.seed ?? 1): GeneratorScope => ({
    file: 'demo.json',
    lists: doc.lists ?? {},
    now: new Date('2026-06-30T08:00:00Z'),
    rng: streamFor(seed, 'accounts'),
    sets: new Map(),
    users: new Map([
      ['rep_east', '0190a000-0000-7000-8000-000000000001'],
      ['rep_north', '0190a000-0000-7000-8000-000000000002'],
      ['manager_east', '0190a000-0000-7000-8000-000000000003'],
      ['director', '0190a000-0000-7000-8000-000000000004'],
    ]),
  });

  it('gives the same rows for the same seed and day, other rows for another seed', async () => {
    const doc = JSON.parse(await readFile(join(apps[0], 'data', 'demo.json'), 'utf8')) as DemoFile;
    const accounts = doc.sets.findIndex((s) => s.name === 'accounts');
    const a = planSet(doc.sets[accounts], accounts, scopeFor(doc));
    const b = planSet(doc.sets[accounts], accounts, scopeFor(doc));
    expect(a).toHaveLength(220);
    expect(b).toEqual(a);
    expect(planSet(doc.sets[accounts], accounts, scopeFor(doc, 7)).map((r) => r.values.name)).not.toEqual(
      a.map((r) => r.values.name),
    );
    expect(new Set(a.map((r) => r.values.name)).size).toBe(220); // "unique" redraws repeats
    expect(new Set(a.map((r) => r.values.region)).size).toBe(7);
    for (const r of a) expect(r.createdAt!.getTime()).toBeLessThanOrEqual(new Date('2026-06-30T08:00:00Z').getTime());
  });

  it('stops a walk at today and names unknown generators by their path', () => {
    const scope = scopeFor({ sets: [] });
    const [row] = planSet(
      {
        name: 'x',
        entity: 'task',
        count: 1,
        values: {},
        createdAt: { $datetime: [-10, -10] },
        walk: { events: ['a', 'b', 'c'], gapDays: 4 },
      },
      0,
      scope,
    );
    expect(row.events.map((e) => e.event)).toEqual(['a', 'b']);
    expect(row.events[1].at.getTime() - row.createdAt!.getTime()).toBe(8 * DAY);
    expect(() => planSet({ name: 'x', entity: 'task', count: 1, values: { subject: { $bogus: 1 } } }, 3, scope)).toThrow(
      /demo\.json \/sets\/3\/values\/subject\/\$bogus: unknown generator/,
    );
    expect(() => planSet({ name: 'x', entity: 'task', count: 1, values: { owner_id: { $user: 'nobody' } } }, 0, scope)).toThrow(
      SeedError,
    );
  });
});

describe.each(drivers)('demo data on %s', (driver) => {
  let e: TestEngine;
  let badFolder: string;
  let tokens: Record<string, string>;
  beforeAll(async () => {
    e = await startEngine(driver);
    for (const folder of apps)
      expect((await e.call('POST', '/api/meta/deploy', { documents: await loadPackage(folder) })).status).toBe(201);
    ({ tokens } = await seedDemoOrganisation(e, apps));
    const dir = await mkdtemp(join(tmpdir(), 'metacrm-seed-'));
    badFolder = join(dir, 'bad');
    await mkdir(join(badFolder, 'data'), { recursive: true });
    await writeFile(
      join(badFolder, 'data', 'demo.json'),
      JSON.stringify({
        seed: 1,
        sets: [
          {
            name: 'accounts',
            entity: 'account',
            count: 5,
            actor: 'rep_east',
            values: { name: { $text: '坏数据{$i}' }, region: 'east', grade: { $at: ['a', 'b', 'z'], index: { $var: '$i' } } },
          },
        ],
      }),
    );
  }, 400_000); // three sample apps and the demo organisation, on a busy shared machine
  afterAll(() => e?.stop());

  const count = async (table: string, where = sql`true`) =>
    Number(
      (await e.database.rows<{ n: number }>(sql`select count(*)::int as n from ${sql.identifier(table)} where ${where}`))[0].n,
    );

  it('refuses a bad row, naming its file and path, and writes nothing', async () => {
    const error = await loadDemoData(e, { folders: [badFolder] }).catch((x) => x);
    expect(error).toBeInstanceOf(SeedError);
    expect(error.message).toMatch(/bad\/data\/demo\.json \/sets\/0\/rows\/2: validation_failed.*\/grade/);
    expect(await count('account')).toBe(0);
    expect(await demoDataLoaded(e.data)).toBe(false);
  });

  it('loads the sample apps through the engine as the demo users, with two years of history, in one go', async () => {
    const result = await loadDemoData(e, { folders: apps });
    expect(result.loaded).toBe(true);
    expect(result.counts).toMatchObject({
      accounts: 220,
      opportunities: 500,
      visits: 1200,
      expense_claims: 120,
      tickets: 260,
      complaints: 30,
    });
    expect(await count('account')).toBeGreaterThanOrEqual(220); // converted leads add a few
    expect(await count('contact')).toBeGreaterThanOrEqual(220);

    // Every stage of the pipeline, created over the last 24 months, each with its history.
    const stages = await e.database.rows<{ stage: string; n: number }>(
      sql`select stage, count(*)::int as n from opportunity group by stage`,
    );
    expect(stages.map((s) => s.stage).sort()).toEqual([
      'contract_signed',
      'initial_contact',
      'intent',
      'lost',
      'needs_confirmed',
      'negotiation',
      'proposal',
      'quotation',
      'won',
    ]);
    const [span] = await e.database.rows<{
      months: number;
      old: number;
    }>(sql`select count(distinct date_trunc('month', created_at))::int as months,
      count(*) filter (where created_at < now() - interval '365 days')::int as old from opportunity`);
    expect(span.months).toBeGreaterThanOrEqual(22);
    expect(span.old).toBeGreaterThan(120); // closed deals over two years; open ones are recent
    const [walked] = await e.database.rows<{ bad: number; moved: number }>(sql`select
      count(*) filter (where h.at < o.created_at or h.at > now())::int as bad, count(distinct o.id)::int as moved
      from opportunity o join workflow.history h on h.entity = 'opportunity' and h.record_id = o.id`);
    expect(walked.bad).toBe(0);
    expect(walked.moved).toBeGreaterThan(300);
    // Time in stage: stays are contiguous, from creation on, weeks long rather than the load's milliseconds.
    const [stays] = await e.database.rows<{
      avg_days: number;
      gaps: number;
    }>(sql`select avg(extract(epoch from left_at - entered_at) / 86400)::float as avg_days,
      (select count(*) from workflow.stays a join workflow.stays b on a.record_id = b.record_id and b.id = (select min(id) from workflow.stays c where c.record_id = a.record_id and c.id > a.id)
        where a.entity = 'opportunity' and a.left_at <> b.entered_at)::int as gaps
      from workflow.stays where entity = 'opportunity' and left_at is not null`);
    expect(stays.avg_days).toBeGreaterThan(3);
    expect(stays.gaps).toBe(0);
    // Won and lost deals closed on the day of their last step, not on the day of the load.
    expect(await count('opportunity', sql`stage in ('won', 'lost') and actual_close_date >= current_date - 1`)).toBeLessThan(20);
    // Open deals are expected to close from now on; only a few slipped past their date (a deal still on
    // its way to a win or loss that the walk has not reached yet), as in any real pipeline.
    const open = await count('opportunity', sql`stage not in ('won', 'lost')`);
    expect(open).toBeGreaterThan(50);
    expect(await count('opportunity', sql`stage not in ('won', 'lost') and expected_close_date < current_date`)).toBeLessThan(
      open / 20,
    );
    // Dated auto-numbers carry the month the record was (back)dated to (OPP-202503-0007), none missing.
    for (const [entity, field] of [
      ['opportunity', 'opportunity_no'],
      ['order', 'order_no'],
      ['receivable', 'receivable_no'],
      ['ticket', 'ticket_no'],
    ]) {
      const month = sql`substr(split_part(${sql.identifier(field)}, '-', 2), 1, 6)`;
      const [n] = await e.database.rows<{ wrong: number; months: number; missing: number }>(
        sql`select count(*) filter (where ${month} <> to_char(created_at at time zone 'Asia/Shanghai', 'YYYYMM'))::int as wrong,
                   count(distinct ${month})::int as months,
                   count(*) filter (where ${sql.identifier(field)} is null)::int as missing
            from ${sql.identifier(entity)}`,
      );
      expect([entity, n.wrong, n.missing]).toEqual([entity, 0, 0]);
      expect(n.months, entity).toBeGreaterThan(6);
    }
    // Numbers of one month follow creation order.
    const [order] = await e.database.rows<{ inversions: number }>(
      sql`select count(*)::int as inversions from (
            select opportunity_no, lag(opportunity_no) over (partition by substr(opportunity_no, 1, 10) order by created_at, id) as prev
            from opportunity) x where prev > opportunity_no`,
    );
    expect(order.inversions).toBe(0);

    // Through the operations as the demo users: owners and creators are the reps, formulas and numbers filled in, audited.
    const owners = await e.database.rows<{ username: string; n: number }>(
      sql`select u.username, count(*)::int as n from opportunity o join "user" u on u.id = o.owner_id group by 1`,
    );
    expect(owners.map((o) => o.username).sort()).toEqual(['director', 'manager_east', 'rep_east', 'rep_north']);
    // (opportunities a lead's conversion created are the engine's, on the rep's behalf)
    expect(
      await count(
        'opportunity',
        sql`(created_by is distinct from owner_id and id not in (select converted_opportunity from lead where converted_opportunity is not null))
      or weighted_amount is null or opportunity_no is null`,
      ),
    ).toBe(0);
    expect(await count('account', sql`archive_no is null`)).toBe(0);
    const [audit] = await e.database.rows<{
      n: number;
      old: number;
    }>(sql`select count(*)::int as n, count(*) filter (where at < now() - interval '30 days')::int as old
      from audit.log where entity = 'opportunity' and action = 'create'`);
    expect(audit.n).toBe(await count('opportunity'));
    expect(audit.old).toBeGreaterThan(400);

    // Expense claims in every approval state the process reaches, with backdated approval steps.
    const claims = await e.database.rows<{ approval_status: string }>(sql`select distinct approval_status from expense_claim`);
    expect(claims.map((c) => c.approval_status).sort()).toEqual(['approved', 'draft', 'pending', 'recalled', 'returned']);
    expect(
      Number(
        (await e.database.rows<{ n: number }>(sql`select count(*)::int as n from approval.tasks where status = 'pending'`))[0].n,
      ),
    ).toBeGreaterThan(10);
    expect(
      Number(
        (
          await e.database.rows<{ n: number }>(
            // None keeps the load transaction's own time: each step is at its planned time (this month's
            // statements are submitted "now", the load's start, not the transaction's).
            sql`select count(*)::int as n from approval.requests r, seed.runs s
              where s.name = 'demo-data' and (r.submitted_at = s.at or r.decided_at = s.at)`,
          )
        )[0].n,
      ),
    ).toBe(0);

    // Tickets in every state, deadlines counted from their backdated creation, the old open ones past them.
    const tickets = await e.database.rows<{ status: string }>(sql`select distinct status from ticket`);
    expect(tickets.map((t) => t.status).sort()).toEqual(['assigned', 'closed', 'feedback', 'in_progress', 'new', 'resolved']);
    expect(await count('ticket', sql`response_due <> created_at + make_interval(hours => response_hours)`)).toBe(0);
    expect(await count('ticket', sql`status in ('new', 'assigned', 'in_progress') and escalate_at < now()`)).toBeGreaterThan(5);
    expect(await count('ticket', sql`escalation_level > 0`)).toBeGreaterThan(5);
    // Resolved when the resolve happened (not at the later close); many within their deadline, not all.
    expect(await count('ticket', sql`closed_at is not null and resolved_at >= closed_at`)).toBe(0);
    const resolved = await count('ticket', sql`resolved_at is not null`);
    const inTime = await count('ticket', sql`resolved_in_time`);
    expect([inTime > resolved * 0.2, inTime < resolved]).toEqual([true, true]);
    expect(
      await count(
        'ticket',
        sql`resolved_at is not null and abs(resolution_time - extract(epoch from resolved_at - created_at) / 3600) > 0.01`,
      ),
    ).toBe(0);
    expect(await count('kb_article')).toBeGreaterThan(12); // some grew from solved tickets
    // Finance documents: signed contracts with their instalments raised, receipts matched, balances from roll-ups.
    expect(await count('contract', sql`status = 'active'`)).toBeGreaterThan(100);
    expect(await count('receivable')).toBeGreaterThan(200); // instalments raised on their schedule, up to today
    expect(await count('receivable', sql`balance <> amount - received_amount`)).toBe(0);
    expect(await count('receivable', sql`balance = 0`)).toBeGreaterThan(50);
    expect(await count('contract', sql`received_total > 0`)).toBeGreaterThan(50);
    // Deals a campaign brought carry it to their contracts, receivables and matched receipts (回款 per campaign).
    const [attributed] = await e.database.rows<{ campaigns: number; wrong: number }>(
      sql`select count(distinct a.campaign)::int as campaigns,
            count(*) filter (where a.campaign is distinct from o.campaign)::int as wrong
          from receipt_allocation a join receivable r on r.id = a.receivable join contract k on k.id = r.contract
          join opportunity o on o.id = k.opportunity`,
    );
    expect(attributed.campaigns).toBeGreaterThanOrEqual(3);
    expect(attributed.wrong).toBe(0);
    const returns = await e.callAs(tokens.gm, 'GET', '/api/reports/campaign_receipts?from=2000-01-01&to=2100-01-01');
    expect(returns.status).toBe(200);
    expect([returns.body.data.totals.received > 0, returns.body.data.totals.customers > 0]).toEqual([true, true]);
    expect(await count('care_task', sql`stage = 'feedback'`)).toBeGreaterThan(5);
    const complaints = await e.database.rows<{ handling_status: string }>(sql`select distinct handling_status from complaint`);
    expect(complaints.map((c) => c.handling_status).sort()).toEqual(['approved', 'draft', 'pending']);

    // What a rep sees through the API: their own customers only (scopes show).
    const mine = await e.callAs(tokens.rep_east, 'GET', '/api/data/account?count=true&limit=1');
    expect(mine.body.total).toBeGreaterThan(20);
    expect(mine.body.total).toBeLessThan(await count('account'));
  }, 900_000);

  it('never loads twice', async () => {
    const before = await count('opportunity');
    const again = await loadDemoData(e, { folders: apps });
    expect(again.loaded).toBe(false);
    expect(await count('opportunity')).toBe(before);
    expect(await demoDataLoaded(e.data)).toBe(true);
  });
});
