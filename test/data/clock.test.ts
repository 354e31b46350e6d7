/**
 * The operation clock (engine/db/clock.ts): operations stamp what they write with their transaction's
 * time — the present, or the time its holder set (the demo-data loader replaying planned history).
 * Checked on every kind of row an operation writes: the record, its audit entry, workflow history and
 * stays, records an action creates, notifications, approval requests and tasks, and the $now that rules
 * and actions see; and that the clock stays with its transaction.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { drivers, L, startEngine, type TestEngine } from '../support/engine.js';
import { operationTime, setClock } from '../../engine/db/clock.js';
import { carrying } from '../../engine/db/carried.js';
import { loadPrincipal, type Principal } from '../../engine/access/principal.js';
import type { OperationContext } from '../../engine/data/context.js';
import { deferAudit } from '../../engine/audit/log.js';
import { flushDeferred } from '../../engine/db/deferred.js';

const app = [
  { kind: 'dictionary', name: 'job_state', label: L('State'), items: ['open', 'done'].map((v) => ({ value: v, label: L(v) })) },
  {
    kind: 'dictionary',
    name: 'job_approval',
    label: L('Approval'),
    items: ['draft', 'pending', 'approved', 'rejected', 'returned', 'recalled'].map((v) => ({ value: v, label: L(v) })),
  },
  { kind: 'role', name: 'clerk', label: L('Clerk'), grants: [{ entity: 'job', read: 'all', update: 'all' }] },
  {
    kind: 'entity',
    name: 'job',
    label: L('Job'),
    titleField: 'title',
    fields: [
      { name: 'title', type: 'text', label: L('Title'), required: true },
      { name: 'state', type: 'picklist', dictionary: 'job_state', label: L('State') },
      { name: 'done_on', type: 'date', label: L('Done on') },
      { name: 'reviewer', type: 'reference', to: 'user', label: L('Reviewer') },
      { name: 'approval', type: 'picklist', dictionary: 'job_approval', label: L('Approval'), default: 'draft' },
      { name: 'approved_at', type: 'datetime', label: L('Approved at') },
    ],
  },
  {
    kind: 'entity',
    name: 'job_note',
    label: L('Job note'),
    titleField: 'text',
    fields: [
      { name: 'text', type: 'text', label: L('Text'), required: true },
      { name: 'job', type: 'reference', to: 'job', label: L('Job') },
    ],
  },
  { kind: 'template', name: 'job_done', label: L('Done'), subject: L('{{title}} done'), body: L('{{title}} is done') },
  {
    kind: 'workflow',
    name: 'job_flow',
    label: L('Job flow'),
    entity: 'job',
    stateField: 'state',
    initial: 'open',
    states: {
      open: {
        on: {
          finish: {
            target: 'done',
            label: L('Finish'),
            actions: [
              { type: 'set', values: { done_on: { substr: [{ var: '$now' }, 0, 10] } } },
              { type: 'create_record', entity: 'job_note', values: { text: 'finished', job: { var: 'id' } } },
              { type: 'notify', template: 'job_done', to: { var: 'reviewer' } },
            ],
          },
        },
      },
      done: { type: 'final' },
    },
  },
  {
    kind: 'approval',
    name: 'job_review',
    label: L('Job review'),
    entity: 'job',
    statusField: 'approval',
    steps: [{ name: 'review', label: L('Review'), approvers: { type: 'field', field: 'reviewer' } }],
    actions: { approve: [{ type: 'set', values: { approved_at: { var: '$now' } } }] },
  },
];

const engineCtx: OperationContext = { principal: null, privileged: true, lang: 'en' };
const iso = (v: unknown) => new Date(v as string).toISOString();

describe.each(drivers)('the operation clock on %s', (driver) => {
  let e: TestEngine;
  let reviewer: Principal;
  let reviewerToken: string;
  beforeAll(async () => {
    e = await startEngine(driver);
    expect((await e.call('POST', '/api/meta/deploy', { documents: app })).status).toBe(201);
    const u = await e.createUser({
      username: 'clock_reviewer',
      display_name: '审核人',
      roles: ['clerk'],
      password: 'reviewer password 1',
    });
    reviewer = (await loadPrincipal(e.database, e.data.model(), u.id))!;
    reviewerToken = await e.login('clock_reviewer', 'reviewer password 1');
  });
  afterAll(() => e?.stop());

  const rows = <T = Record<string, unknown>>(query: ReturnType<typeof sql>) => e.database.rows<T>(query);

  it('stamps everything an operation writes with the time set on its transaction', async () => {
    const created = new Date('2025-03-04T05:06:07.000Z');
    const finished = new Date('2025-03-20T10:00:00.000Z');
    const submitted = new Date('2025-04-01T08:30:00.000Z');
    const approved = new Date('2025-04-02T16:45:00.000Z');
    const id = await e.database.db.transaction(async (outer) => {
      const tx = carrying(outer);
      setClock(tx, created);
      const job = (await e.data.create(engineCtx, 'job', { title: '回访', reviewer: reviewer.userId }, tx)) as { id: string };
      setClock(tx, finished);
      await e.workflows.fire(engineCtx, 'job', job.id, 'finish', {}, tx);
      setClock(tx, submitted);
      await e.approvals.submit(engineCtx, 'job', job.id, {}, tx);
      setClock(tx, approved);
      const [task] = await e.database.rows<{ id: string }>(sql`select id from approval.tasks where status = 'pending'`, tx);
      await e.approvals.decide({ principal: reviewer, lang: 'en' }, task.id, 'approve', {}, tx);
      return job.id;
    });

    const [job] = await rows(sql`select created_at, updated_at, done_on::text, approved_at, approval from job where id = ${id}`);
    expect([iso(job.created_at), iso(job.updated_at), job.done_on, iso(job.approved_at), job.approval]).toEqual([
      created.toISOString(),
      approved.toISOString(),
      '2025-03-20', // the action's $now
      approved.toISOString(),
      'approved',
    ]);
    const audit = await rows<{ action: string; at: string }>(
      sql`select action, at from audit.log where entity = 'job' and record_id = ${id} order by id`,
    );
    expect(audit.map((a) => [a.action, iso(a.at)])).toEqual([
      ['create', created.toISOString()],
      ['transition', finished.toISOString()],
      ['update', submitted.toISOString()],
      ['update', approved.toISOString()],
    ]);
    const [history] = await rows(sql`select at from workflow.history where record_id = ${id}`);
    expect(iso(history.at)).toBe(finished.toISOString());
    const stays = await rows<{ state: string; entered_at: string; left_at: string | null }>(
      sql`select state, entered_at, left_at from workflow.stays where record_id = ${id} order by id`,
    );
    expect(stays.map((s) => [s.state, iso(s.entered_at), s.left_at && iso(s.left_at)])).toEqual([
      ['open', created.toISOString(), finished.toISOString()],
      ['done', finished.toISOString(), null],
    ]);
    const [note] = await rows(sql`select created_at from job_note where job = ${id}`);
    expect(iso(note.created_at)).toBe(finished.toISOString());
    const [notice] = await rows(sql`select created_at from inbox.notifications where record_id = ${id}`);
    expect(iso(notice.created_at)).toBe(finished.toISOString());
    const [request] = await rows(sql`select submitted_at, decided_at from approval.requests where record_id = ${id}`);
    expect([iso(request.submitted_at), iso(request.decided_at)]).toEqual([submitted.toISOString(), approved.toISOString()]);
    const [task] = await rows(
      sql`select t.created_at, t.decided_at from approval.tasks t join approval.requests r on r.id = t.request_id where r.record_id = ${id}`,
    );
    expect([iso(task.created_at), iso(task.decided_at)]).toEqual([submitted.toISOString(), approved.toISOString()]);
  });

  it('keeps the clock to its transaction: other operations, and the same one once it is unset, happen now', async () => {
    const past = new Date('2024-01-01T00:00:00.000Z');
    const before = Date.now();
    const [onClock, after] = await e.database.db.transaction(async (outer) => {
      const tx = carrying(outer);
      setClock(tx, past);
      const a = (await e.data.create(engineCtx, 'job', { title: 'A' }, tx)) as { created_at: string };
      setClock(tx, undefined);
      const b = (await e.data.create(engineCtx, 'job', { title: 'B' }, tx)) as { created_at: string };
      return [a, b];
    });
    const outside = (await e.data.create(engineCtx, 'job', { title: 'C' })) as { created_at: string };
    expect(iso(onClock.created_at)).toBe(past.toISOString());
    for (const r of [after, outside]) expect(new Date(r.created_at).getTime()).toBeGreaterThanOrEqual(before - 1000);
    // Times are copies: changing the one set or one handed out does not move the clock.
    const set = new Date(past.getTime());
    const seen = await e.database.db.transaction(async (outer) => {
      const tx = carrying(outer);
      setClock(tx, set);
      set.setFullYear(2000);
      operationTime(tx).setFullYear(2001);
      return operationTime(tx).toISOString();
    });
    expect(seen).toBe(past.toISOString());
  });

  it('writes a deferred audit trail at the flush, each entry in order at its own time', async () => {
    const first = new Date('2025-06-01T00:00:00.000Z');
    const second = new Date('2025-06-02T00:00:00.000Z');
    const [before, id] = await e.database.db.transaction(async (outer) => {
      const tx = carrying(outer);
      deferAudit(tx);
      setClock(tx, first);
      const job = (await e.data.create(engineCtx, 'job', { title: '延后' }, tx)) as { id: string; version: number };
      setClock(tx, second);
      await e.data.update(engineCtx, 'job', job.id, { title: '延后 2', version: job.version }, undefined, undefined, tx);
      const [{ n }] = await e.database.rows<{ n: number }>(
        sql`select count(*)::int as n from audit.log where record_id = ${job.id}`,
        tx,
      );
      await flushDeferred(tx);
      return [Number(n), job.id];
    });
    expect(before).toBe(0);
    const audit = await rows<{ action: string; at: string }>(
      sql`select action, at from audit.log where record_id = ${id} order by id`,
    );
    expect(audit.map((a) => [a.action, iso(a.at)])).toEqual([
      ['create', first.toISOString()],
      ['update', second.toISOString()],
    ]);
  });

  it('lists notifications newest first by when they happened, not by when they were written', async () => {
    const later = new Date('2025-08-02T00:00:00.000Z');
    const earlier = new Date('2025-08-01T00:00:00.000Z');
    const titles = await e.database.db.transaction(async (outer) => {
      const tx = carrying(outer);
      const made: string[] = [];
      for (const [title, at] of [
        ['后发生', later],
        ['先发生', earlier],
      ] as const) {
        setClock(tx, at);
        const job = (await e.data.create(engineCtx, 'job', { title, reviewer: reviewer.userId }, tx)) as { id: string };
        await e.workflows.fire(engineCtx, 'job', job.id, 'finish', {}, tx);
        made.push(title);
      }
      return made;
    });
    const res = await e.callAs(reviewerToken, 'GET', '/api/notifications');
    expect(res.status).toBe(200);
    const listed = res.body.data as { subject: unknown; createdAt: string }[];
    const ours = listed.filter((n) => titles.some((t) => JSON.stringify(n.subject).includes(t)));
    expect(ours.map((n) => n.createdAt)).toEqual([later.toISOString(), earlier.toISOString()]);
  });
});
