/**
 * Approvals under attack and under load (issue 11): what an approver sees through a task and for how
 * long (the approval's `fields`, read-only, only while the task is open), two approvers deciding one
 * `first` step at the same moment, and the percent threshold's exact edge.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers, L, startEngine, type TestEngine } from '../support/engine.js';

const statuses = ['draft', 'pending', 'approved', 'rejected', 'returned', 'recalled'];
const documents = [
  { kind: 'dictionary', name: 'bid_status', label: L('Status'), items: statuses.map((v) => ({ value: v, label: L(v) })) },
  { kind: 'role', name: 'bidder', label: L('Bidder'), grants: [{ entity: 'bid', read: 'own', create: 'own', update: 'own' }] },
  { kind: 'role', name: 'committee', label: L('Committee'), grants: [] },
  { kind: 'role', name: 'pair', label: L('Pair'), grants: [] },
  {
    kind: 'entity',
    name: 'bid',
    label: L('Bid'),
    titleField: 'title',
    fields: [
      { name: 'title', type: 'text', label: L('Title', '标题'), required: true },
      { name: 'amount', type: 'decimal', label: L('Amount', '金额') },
      { name: 'margin', type: 'decimal', label: L('Margin', '毛利') },
      { name: 'status', type: 'picklist', dictionary: 'bid_status', label: L('Status'), default: 'draft' },
    ],
  },
  {
    kind: 'approval',
    name: 'bid_approval',
    label: L('Bid approval'),
    entity: 'bid',
    statusField: 'status',
    fields: ['title', 'amount'],
    steps: [
      // 或签 with the first decision deciding: two committee members race for it
      {
        name: 'committee',
        label: L('Committee'),
        approvers: { type: 'role', role: 'committee' },
        mode: 'first',
        onReject: 'submitter',
      },
      // exactly half of two is enough at 50 %: ≥, not >
      {
        name: 'pair',
        label: L('Pair'),
        when: { '>=': [{ var: 'amount' }, 1000] },
        approvers: { type: 'role', role: 'pair' },
        mode: 'percent',
        percent: 50,
        onReject: 'submitter',
      },
    ],
  },
];

describe.each(drivers)('approval hardening on %s', (driver) => {
  let e: TestEngine;
  const tokens: Record<string, string> = {};
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    e = await startEngine(driver);
    const res = await e.call('POST', '/api/meta/deploy', { documents });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    for (const [username, roles] of [
      ['bidder', ['bidder']],
      ['c1', ['committee']],
      ['c2', ['committee']],
      ['helper', []],
      ['p1', ['pair']],
      ['p2', ['pair']],
    ] as const) {
      const u = await e.createUser({ username, display_name: username, roles: [...roles], password: `${username} password 1` });
      ids[username] = u.id;
      tokens[username] = await e.login(username, u.password);
    }
  }, 180_000); // seeding users (scrypt) and deploying a sample app: slow on a busy machine
  afterAll(() => e?.stop());

  const as = (user: string, method: string, path: string, body?: unknown) => e.callAs(tokens[user], method, path, body);
  const submitted = async (amount: number) => {
    const bid = (await as('bidder', 'POST', '/api/data/bid', { title: `投标 ${amount}`, amount, margin: 0.3 })).body.data;
    expect((await as('bidder', 'POST', `/api/data/bid/${bid.id}/approval/submit`)).status).toBe(200);
    return bid;
  };
  const taskOf = async (user: string, id: string) =>
    (await as(user, 'GET', '/api/approvals/inbox')).body.data.find((t: any) => t.recordId === id);

  it("shows approvers the approval's fields, read-only, while their task is open — without a grant on the entity", async () => {
    const bid = await submitted(100);
    const task = await taskOf('c1', bid.id);
    const view = await as('c1', 'GET', `/api/approvals/${task.id}`);
    expect(view.status).toBe(200);
    expect(view.body.data.record).toMatchObject({ id: bid.id, title: '投标 100', amount: 100 });
    expect(view.body.data.record).not.toHaveProperty('margin');
    expect(view.body.data.approverFields).toEqual(['title', 'amount']);
    expect(view.body.data.taskOpen).toBe(true);
    // read-only: the task opens no other door
    expect((await as('c1', 'GET', `/api/data/bid/${bid.id}`)).status).toBe(403);
    expect((await as('c1', 'PATCH', `/api/data/bid/${bid.id}`, { title: 'x', version: bid.version })).status).toBe(403);
  });

  it('closes the view with the task: after delegating, and for the delegate after deciding', async () => {
    const bid = await submitted(200);
    const task = await taskOf('c1', bid.id);
    expect((await as('c1', 'POST', `/api/approvals/${task.id}/delegate`, { to: ids.helper })).status).toBe(200);
    const former = await as('c1', 'GET', `/api/approvals/${task.id}`);
    expect([former.status, former.body.data.taskOpen, former.body.data.record]).toEqual([200, false, null]);
    const delegated = await taskOf('helper', bid.id);
    expect((await as('helper', 'GET', `/api/approvals/${delegated.id}`)).body.data.record.title).toBe('投标 200');
    expect((await as('helper', 'POST', `/api/approvals/${delegated.id}/approve`)).status).toBe(200);
    const after = await as('helper', 'GET', `/api/approvals/${delegated.id}`);
    expect([after.body.data.taskOpen, after.body.data.record]).toEqual([false, null]);
  });

  it('refuses approval fields the entity does not have', async () => {
    const bad = { ...documents[5], fields: ['title', 'nope'] };
    const res = await e.call('POST', '/api/meta/deploy', { documents: [bad] });
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: any) => [d.path, d.code])).toEqual([['/documents/0/fields/1', 'unknown_field']]);
  });

  const serialises =
    driver === 'pglite' ? ' (PGlite runs one statement at a time: this cannot fail here, only on PostgreSQL)' : '';
  it(`lets exactly one of two concurrent decisions on a "first" step win${serialises}`, async () => {
    for (let run = 0; run < 5; run++) {
      const bid = await submitted(1000 + run); // the request stays pending (the pair step follows): the case that slipped through
      const [t1, t2] = [await taskOf('c1', bid.id), await taskOf('c2', bid.id)];
      const answers = await Promise.all([
        as('c1', 'POST', `/api/approvals/${t1.id}/approve`),
        as('c2', 'POST', `/api/approvals/${t2.id}/approve`),
      ]);
      expect(answers.map((a) => a.status).sort(), `run ${run}`).toEqual([200, 409]);
      expect(answers.find((a) => a.status === 409)!.body.error.code).toBe('task_closed');
      const tasks = await e.database.rows<{
        status: string;
      }>(sql`select t.status from approval.tasks t join approval.requests r on r.id = t.request_id
        where r.record_id = ${bid.id} and t.step = 'committee' order by t.status`);
      expect(tasks.map((t) => t.status)).toEqual(['approved', 'cancelled']);
    }
  });

  it('passes a percent step when the share reaches its threshold exactly (≥, not >)', async () => {
    const bid = await submitted(5000);
    await as('c1', 'POST', `/api/approvals/${(await taskOf('c1', bid.id)).id}/approve`);
    const half = await as('p1', 'POST', `/api/approvals/${(await taskOf('p1', bid.id)).id}/approve`); // 1 of 2 = 50 %
    expect(half.body.data.request.status).toBe('approved');
  });
});
