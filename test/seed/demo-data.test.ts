/**
 * Demo data: the sample apps' generated sets load through the engine's operations as the demo users,
 * with two years of backdated history, once; the generator is deterministic; a bad row is named by
 * its file and path and leaves nothing behind. The sales management sets (decision chains, competitors,
 * quote lines and versions, order lines, commission statements, teams, activity reports, schedules,
 * campaigns, returns, cash advances) have rows, spread over people and states, and agree with the
 * engine's rules as the test computes them itself: one order per won deal, dated when it was won.
 */
import { mkdtemp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPackage } from '../../metadata/loader.js';
import { demoDataLoaded, loadDemoData } from '../../engine/seed/load.js';
import {
  planSet,
  SeedError,
  streamFor,
  workingHoursClock,
  type DemoFile,
  type GeneratorScope,
} from '../../engine/seed/generate.js';
import { drivers, startEngine, type TestEngine } from '../support/engine.js';
import { seedDemoOrganisation } from '../support/demo-org.js';
import { mergeOrganisations } from '../../engine/auth/demo.js';
import { deferrableIndexes } from '../../engine/seed/deferred-indexes.js';

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

  it("counts a parent's records by its values and the load's time ($now): only instalments already due are paid", () => {
    const scope = scopeFor({ sets: [] });
    scope.sets.set('instalments', [
      { id: 'a', due_date: '2026-05-01' },
      { id: 'b', due_date: '2026-07-15' }, // after the scope's now (2026-06-30)
      { id: 'c', due_date: '2026-06-29' },
    ]);
    const rows = planSet(
      {
        name: 'receipts',
        entity: 'receipt',
        forEach: {
          set: 'instalments',
          count: { $logic: { if: [{ '<': [{ var: '$parent.due_date' }, { var: '$now' }] }, 1, 0] } },
        },
        values: { receivable: { $var: '$parent.id' } },
      },
      0,
      scope,
    );
    expect(rows.map((r) => r.values.receivable)).toEqual(['a', 'c']);
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
    // Within working hours (a clock of their own): the same values, every time at 9–18 in the zone, in order, not after now.
    const set = {
      name: 'x',
      entity: 'task',
      count: 40,
      values: {
        subject: { $pick: ['a', 'b', 'c'] },
        due: { $datetime: [-30, 30] },
        end: { $datetime: [1, 1], from: '2026-06-01T10:00:00Z' },
      },
      createdAt: { $datetime: [-300, -1] },
      walk: { events: ['a', 'b', 'c', 'd'], gapDays: { $int: [0, 2] } },
    };
    const plain = planSet(set, 0, scopeFor({ sets: [] }));
    const clock = workingHoursClock({ zone: 'Asia/Shanghai', from: 9, to: 18 }, streamFor(1, 'x#clock'));
    const worked = planSet(set, 0, { ...scopeFor({ sets: [] }), clock });
    const shanghai = (t: Date | unknown) => (new Date(String(t instanceof Date ? t.toISOString() : t)).getUTCHours() + 8) % 24;
    expect(worked.map((r) => r.values.subject)).toEqual(plain.map((r) => r.values.subject));
    for (const [i, r] of worked.entries()) {
      const times = [r.createdAt!, ...r.events.map((e) => e.at)];
      for (const t of times) expect(shanghai(t)).toBeGreaterThanOrEqual(9);
      for (const t of times.slice(0, -1)) expect(shanghai(t)).toBeLessThan(18);
      for (let k = 1; k < times.length; k++) expect(times[k].getTime()).toBeGreaterThan(times[k - 1].getTime());
      for (const t of times) expect(t.getTime()).toBeLessThanOrEqual(new Date('2026-06-30T08:00:00Z').getTime());
      // the same day as drawn, in the zone
      expect(new Date(r.createdAt!.getTime() + 8 * 3_600_000).toISOString().slice(0, 10)).toBe(
        new Date(plain[i].createdAt!.getTime() + 8 * 3_600_000).toISOString().slice(0, 10),
      );
      expect(shanghai(r.values.due)).toBeGreaterThanOrEqual(9);
      expect(r.values.end).toBe('2026-06-02T10:00:00.000Z'); // a fixed offset stays as meant
    }
    expect(() => workingHoursClock({ zone: 'Mars/Base', from: 9, to: 18 }, Math.random, 'demo.json')).toThrow(
      /demo\.json \/workingHours\/zone: "Mars\/Base" is not a time zone/,
    );
    expect(() => planSet({ name: 'x', entity: 'task', count: 1, values: { subject: { $bogus: 1 } } }, 3, scope)).toThrow(
      /demo\.json \/sets\/3\/values\/subject\/\$bogus: unknown generator/,
    );
    expect(() => planSet({ name: 'x', entity: 'task', count: 1, values: { owner_id: { $user: 'nobody' } } }, 0, scope)).toThrow(
      SeedError,
    );
  });
});

describe('the demo organisation', () => {
  it('gives every user the organisation’s defaults unless they set their own; the first file’s defaults stand', () => {
    const org = mergeOrganisations([
      {
        userDefaults: { time_zone: 'Asia/Shanghai' },
        departments: [{ code: 'hq', name: '总公司' }],
        users: [
          { username: 'gm', display_name: '张总', roles: ['general_manager'] },
          { username: 'tokyo', display_name: '东京', roles: ['sales_rep'], time_zone: 'Asia/Tokyo' },
        ],
      },
      {
        userDefaults: { time_zone: 'Europe/Berlin', language: 'zh-CN' },
        departments: [],
        users: [{ username: 'service', display_name: '孙客服', roles: ['service_staff'] }],
      },
    ]);
    expect(Object.fromEntries(org.users.map((u) => [u.username, [u.time_zone, u.language]]))).toEqual({
      gm: ['Asia/Shanghai', 'zh-CN'],
      tokyo: ['Asia/Tokyo', 'zh-CN'],
      service: ['Asia/Shanghai', 'zh-CN'],
    });
  });
});

describe.each(drivers)('demo data on %s', (driver) => {
  let e: TestEngine;
  let badFolder: string;
  let tokens: Record<string, string>;
  /** The tables' indexes as the deploys made them: the load drops some for its writes and builds them again. */
  let deployedIndexes: { name: string; definition: string }[];
  const indexes = () =>
    e.database.rows<{ name: string; definition: string }>(
      sql`select indexname as name, indexdef as definition from pg_indexes where schemaname = current_schema() order by 1`,
    );
  beforeAll(async () => {
    e = await startEngine(driver);
    for (const folder of apps)
      expect((await e.call('POST', '/api/meta/deploy', { documents: await loadPackage(folder) })).status).toBe(201);
    deployedIndexes = await indexes();
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
    expect(await indexes()).toEqual(deployedIndexes); // the indexes dropped for the load are back with the rollback
  });

  it('defers the indexes of lists and search during the load, not those its look-ups, roll-ups and uniqueness read', () => {
    const deferred = deferrableIndexes(e.data.entity('opportunity')).map((i) => i.name);
    expect(deferred).toEqual(
      expect.arrayContaining([
        's__opportunity__search',
        'i__opportunity__stage',
        'i__opportunity__amount',
        'i__opportunity__7615446e',
      ]),
    );
    for (const kept of [
      'u__opportunity__opportunity_no',
      'i__opportunity__account',
      'i__opportunity__contact',
      'i__opportunity__campaign',
    ])
      expect(deferred).not.toContain(kept);
    // A user-list field's index stays too (scopes read it), an indexed date does not.
    expect(deferrableIndexes(e.data.entity('schedule')).map((i) => i.name)).toEqual(
      expect.arrayContaining(['i__schedule__start_at', 'i__schedule__end_at']),
    );
    expect(deferrableIndexes(e.data.entity('schedule')).map((i) => i.name)).not.toContain('i__schedule__participants');
  });

  it('loads the sample apps through the engine as the demo users, with two years of history, in one go', async () => {
    const result = await loadDemoData(e, { folders: apps });
    expect(result.loaded).toBe(true);
    // Every index the load dropped for its writes was built again, as the deploy had defined it.
    expect(await indexes()).toEqual(deployedIndexes);
    expect(result.counts).toMatchObject({
      accounts: 220,
      opportunities: 500,
      visits: 1200,
      expense_claims: 120,
      tickets: 260,
      complaints: 30,
    });
    expect(await count('account')).toBeGreaterThanOrEqual(220); // converted leads add a few
    // The demo company works in Shanghai: its users see date-times there, whatever the browser's zone.
    expect((await e.callAs(tokens.rep_east, 'GET', '/api/auth/me')).body.timeZone).toBe('Asia/Shanghai');
    expect((await e.callAs(tokens.engineer, 'GET', '/api/auth/me')).body.timeZone).toBe('Asia/Shanghai');
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
    // People work by day (the files' workingHours: 9–18 in Shanghai): deals are made and moved then, not at
    // 03:00, nor each step at the minute of the deal's creation. Today's events may not be later than now.
    const [hours] = await e.database.rows<{ outside: number; moves: number; minutes: number }>(sql`select
      (select count(*) from opportunity where extract(hour from created_at at time zone 'Asia/Shanghai') not between 9 and 17
        and created_at < now() - interval '1 day')::int
      + (select count(*) from workflow.history where extract(hour from at at time zone 'Asia/Shanghai') not between 9 and 17
        and at < now() - interval '1 day' and entity = 'opportunity')::int as outside,
      (select count(*) from workflow.history where entity = 'opportunity')::int as moves,
      (select count(distinct extract(minute from at))::int from workflow.history where entity = 'opportunity') as minutes`);
    expect(hours.outside).toBeLessThanOrEqual(hours.moves / 100);
    expect(hours.minutes).toBe(60);
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
      // The history shows the number the record carries, not the one first issued on the day of the load.
      const [stale] = await e.database.rows<{ n: number }>(
        sql`select count(*)::int as n from audit.log a join ${sql.identifier(entity)} t on t.id = a.record_id
            where a.entity = ${entity} and a.snapshot ? ${field} and a.snapshot ->> ${field} is distinct from t.${sql.identifier(field)}`,
      );
      expect([entity, stale.n]).toEqual([entity, 0]);
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
    // Marketing sees what its campaigns brought, the money received included (its finance role reads which
    // campaign an allocation went to and how much, nothing else of the receipts); a rep does not.
    const returns = await e.callAs(tokens.marketing, 'GET', '/api/reports/campaign_receipts?from=2000-01-01&to=2100-01-01');
    expect(returns.status, JSON.stringify(returns.body)).toBe(200);
    expect([returns.body.data.totals.received > 0, returns.body.data.totals.customers > 0]).toEqual([true, true]);
    const byGm = await e.callAs(tokens.gm, 'GET', '/api/reports/campaign_receipts?from=2000-01-01&to=2100-01-01');
    expect(byGm.body.data.totals).toEqual(returns.body.data.totals);
    expect((await e.callAs(tokens.rep_east, 'GET', '/api/reports/campaign_receipts')).status).toBe(403);
    const [allocation] = (await e.callAs(tokens.marketing, 'GET', '/api/data/receipt_allocation?limit=1')).body.data;
    expect(Object.keys(allocation)).not.toContain('receipt');
    expect(allocation.amount).toBeGreaterThan(0);
    expect(await count('care_task', sql`stage = 'feedback'`)).toBeGreaterThan(5);
    const complaints = await e.database.rows<{ handling_status: string }>(sql`select distinct handling_status from complaint`);
    expect(complaints.map((c) => c.handling_status).sort()).toEqual(['approved', 'draft', 'pending']);

    // What a rep sees through the API: their own customers only (scopes show).
    const mine = await e.callAs(tokens.rep_east, 'GET', '/api/data/account?count=true&limit=1');
    expect(mine.body.total).toBeGreaterThan(20);
    expect(mine.body.total).toBeLessThan(await count('account'));

    // The inbox: what came in the last two weeks is unread, what came before was read an hour after it came.
    const [inbox] = await e.database.rows<{ old_unread: number; recent_unread: number; read: number; late: number }>(
      sql`select count(*) filter (where read_at is null and created_at < now() - interval '14 days')::int as old_unread,
            count(*) filter (where read_at is null and created_at >= now() - interval '14 days')::int as recent_unread,
            count(*) filter (where read_at is not null)::int as read,
            count(*) filter (where read_at is not null and read_at <> created_at + interval '1 hour')::int as late
          from inbox.notifications`,
    );
    expect(inbox).toMatchObject({ old_unread: 0, late: 0 });
    expect(inbox.read).toBeGreaterThan(100);
    expect(inbox.recent_unread).toBeGreaterThan(0);
    const unread = (await e.callAs(tokens.rep_east, 'GET', '/api/notifications?unread=true')).body.data as {
      createdAt: string;
    }[];
    const all = (await e.callAs(tokens.rep_east, 'GET', '/api/notifications')).body.data as unknown[];
    expect(unread.length).toBeLessThan(all.length);
    expect(unread.every((n) => Date.now() - new Date(n.createdAt).getTime() <= 15 * 86_400_000)).toBe(true);

    // What still waits for a decision came in lately: nobody leaves an expense claim pending for months.
    const [waiting] = await e.database.rows<{ pending: number; old: number; kinds: number }>(
      sql`select count(*)::int as pending, count(*) filter (where submitted_at < now() - interval '30 days')::int as old,
            count(distinct entity)::int as kinds from approval.requests where status = 'pending'`,
    );
    expect(waiting.kinds).toBeGreaterThanOrEqual(4);
    expect(waiting.pending).toBeGreaterThan(40);
    expect(waiting.old).toBeLessThanOrEqual(waiting.pending / 5);
  }, 900_000);

  it('loads the sales management sets: rows in each, spread over reps and states, consistent with the rules of the engine', async () => {
    const rows = <T extends Record<string, unknown>>(query: ReturnType<typeof sql>) => e.database.rows<T>(query);
    const one = async (query: ReturnType<typeof sql>) => (await rows<{ n: number }>(query))[0].n;
    // Each set has rows, several people own them (reps, managers), in several states where it has states.
    const spread = async (table: string, by: string) =>
      (
        await rows<{ n: number; k: number }>(
          sql`select count(*)::int as n, count(distinct ${sql.identifier(by)})::int as k from ${sql.identifier(table)}`,
        )
      )[0];
    for (const [table, by, kinds] of [
      ['decision_member', 'owner_id', 3],
      ['competitor_analysis', 'owner_id', 3],
      ['quote_line', 'owner_id', 3],
      ['order_line', 'owner_id', 3],
      ['schedule', 'owner_id', 3],
      ['schedule', 'plan_kind', 2],
      ['schedule', 'status', 3],
      ['commission_statement', 'rep', 2],
      ['commission_statement', 'approval_status', 2],
      ['sales_team', 'approval_status', 2],
      ['sales_team_member', 'member', 2],
      ['activity_report', 'rep', 2],
      ['activity_report', 'status', 2],
      ['sales_return', 'owner_id', 2],
      ['sales_return', 'approval_status', 3],
      ['cash_advance', 'owner_id', 3],
      ['cash_advance', 'advance_status', 3],
      ['advance_repayment', 'advance', 2],
      ['campaign', 'status', 3],
      ['campaign_member', 'campaign', 3],
      ['price_authority', 'user', 2],
    ] as const) {
      const s = await spread(table, by);
      expect([table, by, s.n > 0, s.k >= kinds]).toEqual([table, by, true, true]);
    }

    // Quotes: totals are the sums of their lines, each line priced as its formula says; versions follow their previous one.
    const [quotes] = await rows<{ bad: number; versions: number; unlined: number }>(sql`
      select count(*) filter (where q.line_count <> coalesce(l.n, 0) or abs(q.lines_total - coalesce(l.amount, 0)) > 0.005
          or abs(q.cost_total - coalesce(l.cost, 0)) > 0.005
          or abs(q.quoted_amount - (case when coalesce(l.n, 0) > 0 then l.amount else q.list_amount end) * (1 - coalesce(q.discount, 0) / 100.0)) > 0.01
          or abs(q.gross_margin - (q.quoted_amount - q.cost_total)) > 0.01)::int as bad,
        count(*) filter (where q.previous_version is not null)::int as versions,
        count(*) filter (where l.n is null)::int as unlined
      from quote q left join (select quote, count(*) as n, sum(amount) as amount, sum(cost_amount) as cost from quote_line group by quote) l on l.quote = q.id`);
    expect(quotes).toEqual({ bad: 0, versions: quotes.versions, unlined: 0 });
    expect(quotes.versions).toBeGreaterThan(10);
    expect(
      await one(sql`select count(*)::int as n from quote q join quote p on p.id = q.previous_version
        where p.opportunity <> q.opportunity or q.version_no <> p.version_no + 1`),
    ).toBe(0);
    for (const table of ['quote_line', 'order_line'])
      expect([
        table,
        await one(sql`select count(*)::int as n from ${sql.identifier(table)}
          where abs(amount - quantity * unit_price * (1 - coalesce(discount, 0) / 100.0)) > 0.005`),
      ]).toEqual([table, 0]);
    expect(
      await one(sql`select count(*)::int as n from quote_line
        where abs(cost_amount - quantity * unit_cost) > 0.005 or abs(margin - (amount - cost_amount)) > 0.005`),
    ).toBe(0);
    // Orders: lines_total is the sum of the lines; a won deal has one order, dated when the deal was won.
    const [orders] = await rows<{ bad: number; lined: number }>(sql`
      select count(*) filter (where abs(o.lines_total - coalesce(l.amount, 0)) > 0.005)::int as bad, count(l.n)::int as lined
      from "order" o left join (select "order", count(*) as n, sum(amount) as amount from order_line group by 1) l on l."order" = o.id`);
    expect(orders.bad).toBe(0);
    expect(orders.lined).toBeGreaterThan(20);
    expect(
      await one(
        sql`select count(*)::int as n from (select opportunity from "order" where opportunity is not null group by 1 having count(*) > 1) x`,
      ),
    ).toBe(0);
    expect(
      await one(sql`select count(*)::int as n from "order"
        where order_date not between (created_at at time zone 'Asia/Shanghai')::date - 1 and (created_at at time zone 'Asia/Shanghai')::date + 4`),
    ).toBe(0);
    // The orders of won project deals are executed like the others: planned (with a delivery date filled in
    // first), started, completed — most of them, the recent ones not yet.
    const projectOrders = await rows<{ status: string; n: number; dated: number }>(sql`
      select o.status, count(*)::int as n, count(o.delivery_date)::int as dated from "order" o
      join opportunity d on d.id = o.opportunity where d.opportunity_type = 'project' group by 1`);
    const byStatus = Object.fromEntries(projectOrders.map((p) => [p.status, p]));
    expect(Object.keys(byStatus).sort()).toEqual(['accepted', 'done', 'executing', 'planned']);
    expect(byStatus.done.n).toBeGreaterThan(byStatus.accepted.n);
    for (const status of ['planned', 'executing', 'done']) expect(byStatus[status].dated).toBe(byStatus[status].n);

    // Decision chains: a member's weight and support score from the dictionaries' attributes; the deal's score their sum.
    const attributes = async (dictionary: string, attribute: string) =>
      Object.fromEntries(
        (JSON.parse(await readFile(join(apps[0], 'dictionaries', `${dictionary}.json`), 'utf8')).items as any[]).map((i) => [
          i.value,
          i.attributes[attribute] as number,
        ]),
      );
    const weight = await attributes('decision_role', 'weight');
    const score = await attributes('contact_attitude', 'score');
    const factor = await attributes('influence_level', 'factor');
    const members = await rows<{
      opportunity: string;
      decision_role: string;
      attitude: string;
      influence: string;
      weight: number;
      support_score: number;
    }>(
      sql`select opportunity, decision_role, attitude, influence, weight::float as weight, support_score::float as support_score from decision_member`,
    );
    const byDeal = new Map<string, number>();
    for (const m of members) {
      const expected = weight[m.decision_role] * score[m.attitude] * factor[m.influence] * 100;
      expect([m.decision_role, m.weight]).toEqual([m.decision_role, weight[m.decision_role]]);
      expect(Math.abs(m.support_score - expected), JSON.stringify(m)).toBeLessThan(0.005);
      byDeal.set(m.opportunity, (byDeal.get(m.opportunity) ?? 0) + expected);
    }
    expect(new Set(members.map((m) => m.attitude)).size).toBeGreaterThanOrEqual(3);
    const deals = await rows<{ id: string; support_score: number }>(
      sql`select id, support_score::float as support_score from opportunity where id in (select opportunity from decision_member)`,
    );
    expect(deals.length).toBe(byDeal.size);
    for (const d of deals) expect(Math.abs(d.support_score - byDeal.get(d.id)!), d.id).toBeLessThan(0.01);
    expect(deals.some((d) => d.support_score > 0) && deals.some((d) => d.support_score <= 0)).toBe(true);
    // Competitors: the overall score is the mean of the six criteria.
    expect(
      await one(sql`select count(*)::int as n from competitor_analysis where abs(overall_score -
        (relationship + reputation + strength + solution + value_for_money + past_cooperation) / 6.0) > 0.005`),
    ).toBe(0);

    // Commission statements: the amount of the progressive tiers, computed here.
    const statements = await rows<Record<string, number>>(sql`select sales_amount::float as sales, tier1_limit::float as l1,
      tier1_rate::float as r1, tier2_limit::float as l2, tier2_rate::float as r2, tier3_rate::float as r3, commission::float as commission
      from commission_statement`);
    for (const s of statements) {
      const tiered =
        (Math.min(s.sales, s.l1) * s.r1 +
          Math.max(0, Math.min(s.sales, s.l2) - s.l1) * s.r2 +
          Math.max(0, s.sales - s.l2) * s.r3) /
        100;
      expect(Math.abs(s.commission - tiered), JSON.stringify(s)).toBeLessThan(0.01);
    }

    // Temporary teams: the active members of an approved team share the deal; a team still pending gives nothing.
    const teams = await rows<{ approval_status: string; members: number; shared: number }>(sql`
      select t.approval_status, count(*)::int as members, count(s.id)::int as shared
      from sales_team t join sales_team_member m on m.team = t.id and m.status = 'active'
        left join auth.shares s on s.entity = 'opportunity' and s.record_id = t.opportunity and s.user_id = m.member
          and s.source = 'sales_team:' || t.id
      group by 1 order by 1`);
    expect(teams.map((t) => [t.approval_status, t.shared === (t.approval_status === 'approved' ? t.members : 0)])).toEqual([
      ['approved', true],
      ['pending', true],
    ]);
    // Activity reports: a weekly report spans Monday to Monday, goes to the rep's own manager.
    expect(
      await one(sql`select count(*)::int as n from activity_report r join "user" u on u.id = r.rep
        where (r.period = 'weekly' and r.period_end <> r.period_start + 7) or r.manager is distinct from u.manager
          or extract(isodow from r.period_start) <> 1`),
    ).toBe(0);
    // Schedules: none ends before it starts, and no person is booked twice at once (the overlap rule).
    expect(
      await one(sql`select count(*)::int as n from schedule a join schedule b on a.id < b.id
        and a.start_at < b.end_at and b.start_at < a.end_at
        and (a.owner_id = b.owner_id or a.owner_id = any(b.participants) or b.owner_id = any(a.participants))`),
    ).toBe(0);
    expect(await one(sql`select count(*)::int as n from schedule where end_at <= start_at`)).toBe(0);

    // Returns: an approved one has its refund and its credit receivable for its amount; no other one raised any.
    const [returns] = await rows<{ approved: number; good: number; others: number; raised: number; over: number }>(sql`
      select count(*) filter (where r.approval_status = 'approved')::int as approved,
        count(*) filter (where r.approval_status = 'approved' and c.amount = -r.amount and c.sales_return = r.id
          and c."order" = r."order" and c.account = r.account and p.kind = 'refund' and p.amount = r.amount and p.account = r.account)::int as good,
        count(*) filter (where r.approval_status <> 'approved')::int as others,
        count(*) filter (where r.approval_status <> 'approved' and (r.refund is not null or r.credit_receivable is not null
          or exists (select 1 from receivable x where x.sales_return = r.id)))::int as raised,
        (select count(*) from (select r2."order" from sales_return r2 join "order" o on o.id = r2."order"
          group by r2."order", o.amount having sum(r2.amount) > o.amount) y)::int as over
      from sales_return r left join receivable c on c.id = r.credit_receivable left join receipt p on p.id = r.refund`);
    expect(returns).toEqual({ approved: returns.approved, good: returns.approved, others: returns.others, raised: 0, over: 0 });
    expect([returns.approved > 0, returns.others > 0]).toEqual([true, true]);
    expect(await one(sql`select count(*)::int as n from receivable where amount < 0 and sales_return is null`)).toBe(0);

    // Cash advances: what is outstanding is the amount less the repayments once paid out; only approved ones were paid.
    const advances = await rows<{
      advance_status: string;
      approval_status: string;
      amount: number;
      repaid: number;
      outstanding: number;
      sum: number;
      paid_date: string | null;
    }>(sql`
      select a.advance_status, a.approval_status, a.amount::float as amount, a.repaid::float as repaid, a.outstanding::float as outstanding,
        coalesce((select sum(amount) from advance_repayment p where p.advance = a.id), 0)::float as sum, a.paid_date::text as paid_date
      from cash_advance a`);
    for (const a of advances) {
      expect([a.repaid, a.outstanding]).toEqual([a.sum, a.advance_status === 'pending' ? 0 : a.amount - a.sum]);
      if (a.advance_status !== 'pending') expect([a.approval_status, a.paid_date === null]).toEqual(['approved', false]);
      else expect(a.paid_date).toBeNull();
      if (a.advance_status === 'settled') expect(a.outstanding).toBe(0);
    }

    // Campaigns: the roll-ups are the counts and sums of their members, leads and deals.
    const [campaigns] = await rows<{ bad: number; leads: number; deals: number }>(sql`
      select count(*) filter (where c.members <> coalesce(m.n, 0) or c.attended <> coalesce(m.attended, 0)
          or c.leads <> coalesce(l.n, 0) or c.converted_leads <> coalesce(l.converted, 0) or c.opportunities <> coalesce(o.n, 0)
          or abs(coalesce(c.won_amount, 0) - coalesce(o.won, 0)) > 0.005 or abs(coalesce(c.pipeline_amount, 0) - coalesce(o.open, 0)) > 0.005)::int as bad,
        sum(c.leads)::int as leads, sum(c.opportunities)::int as deals
      from campaign c
        left join (select campaign, count(*) as n, count(*) filter (where member_status in ('attended', 'responded')) as attended
          from campaign_member group by 1) m on m.campaign = c.id
        left join (select campaign, count(*) as n, count(*) filter (where status = 'converted') as converted from lead group by 1) l on l.campaign = c.id
        left join (select campaign, count(*) as n, sum(amount) filter (where stage = 'won') as won,
          sum(amount) filter (where stage not in ('won', 'lost')) as open from opportunity group by 1) o on o.campaign = c.id`);
    expect(campaigns.bad).toBe(0);
    expect([campaigns.leads > 0, campaigns.deals > 0]).toEqual([true, true]);
  });

  it('never loads twice', async () => {
    const before = await count('opportunity');
    const again = await loadDemoData(e, { folders: apps });
    expect(again.loaded).toBe(false);
    expect(await count('opportunity')).toBe(before);
    expect(await demoDataLoaded(e.data)).toBe(true);
  });
});
