/**
 * Deliberate one-line bugs the suite used to let through (issue 11, "tests that let bugs through"), each
 * caught here deterministically, on both drivers — without relying on timing or on PostgreSQL's
 * concurrency:
 *   - create, update and transition responses not stripped of fields the caller may not read;
 *   - the version check dropped from the UPDATE's WHERE (a write between read and write must still lose);
 *   - an expired delegation still active;
 *   - formulas computed in declaration order instead of dependency order;
 *   - a timer firing for an earlier stay of the same state.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers, L, startEngine, type TestEngine } from '../support/engine.js';

const documents = [
  {
    kind: 'dictionary',
    name: 'case_state',
    label: L('State'),
    items: ['open', 'held', 'closed'].map((v) => ({ value: v, label: L(v) })),
  },
  {
    kind: 'role',
    name: 'agent',
    label: L('Agent'),
    grants: [{ entity: 'case', read: 'all', create: 'all', update: 'all', fields: { read: ['title', 'state', 'a', 'b', 'c'] } }],
  },
  {
    kind: 'entity',
    name: 'case',
    label: L('Case'),
    titleField: 'title',
    fields: [
      { name: 'title', type: 'text', label: L('Title'), required: true },
      { name: 'secret', type: 'text', label: L('Secret') },
      { name: 'state', type: 'picklist', dictionary: 'case_state', label: L('State') },
      // declared against their dependency order: c reads b, b reads a
      { name: 'c', type: 'formula', returns: 'integer', expr: { '*': [{ var: 'b' }, 10] }, label: L('C') },
      { name: 'b', type: 'formula', returns: 'integer', expr: { '+': [{ var: 'a' }, 1] }, label: L('B') },
      { name: 'a', type: 'integer', label: L('A') },
    ],
  },
  {
    kind: 'workflow',
    name: 'case_flow',
    label: L('Case flow'),
    entity: 'case',
    stateField: 'state',
    initial: 'open',
    states: {
      open: { on: { hold: { target: 'held' }, close: { target: 'closed' } }, timers: [{ event: 'close', after: 'P1D' }] },
      held: { on: { reopen: { target: 'open' } } },
      closed: { type: 'final' },
    },
  },
];

describe.each(drivers)('bugs the suite once let through, on %s', (driver) => {
  let e: TestEngine;
  let agent: string;
  let agentId: string;
  beforeAll(async () => {
    e = await startEngine(driver);
    const res = await e.call('POST', '/api/meta/deploy', { documents });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const u = await e.createUser({ username: 'agent', display_name: 'Agent', roles: ['agent'], password: 'agent password 1' });
    agentId = u.id;
    agent = await e.login('agent', u.password);
  });
  afterAll(() => e?.stop());

  it('strips unreadable fields from create, update and transition responses', async () => {
    const created = await e.callAs(agent, 'POST', '/api/data/case', { title: 'leak?', a: 1 });
    expect(created.status).toBe(201);
    await e.call('PATCH', `/api/data/case/${created.body.data.id}`, { secret: 'top secret', version: 1 });
    expect(created.body.data).not.toHaveProperty('secret');
    const updated = await e.callAs(agent, 'PATCH', `/api/data/case/${created.body.data.id}`, { a: 2, version: 2 });
    expect(updated.status).toBe(200);
    expect(updated.body.data).not.toHaveProperty('secret');
    const moved = await e.callAs(agent, 'POST', `/api/data/case/${created.body.data.id}/transitions/hold`);
    expect(moved.status).toBe(200);
    expect(moved.body.data.record).not.toHaveProperty('secret');
    expect(moved.body.data.record.state).toBe('held');
  });

  it('loses an update whose version changed between its read and its write (the WHERE checks the version)', async () => {
    const c = (await e.call('POST', '/api/data/case', { title: 'race' })).body.data;
    // Between the pipeline's read and its UPDATE, another writer commits — simulated inside the transaction,
    // so this is deterministic on PGlite too, which runs one statement at a time.
    e.data.hooks.register({
      name: 'test: another writer',
      order: 1_000,
      beforeChange: async (tx, _ctx, entity, record) => {
        if (entity.name === 'case' && record.id === c.id)
          await tx.execute(sql`update "case" set version = version + 1, title = 'the other writer' where id = ${c.id}`);
      },
    });
    const res = await e.call('PATCH', `/api/data/case/${c.id}`, { title: 'mine', version: 1 });
    expect([res.status, res.body.error?.code]).toEqual([409, 'version_conflict']);
  });

  it('ends a delegation when its period ends', async () => {
    const boss = await e.createUser({ username: 'boss', display_name: 'Boss', roles: [], password: 'boss password 1' });
    const bossToken = await e.login('boss', boss.password);
    const now = Date.now();
    const made = await e.callAs(bossToken, 'POST', '/api/delegations', {
      delegate: agentId,
      startsAt: new Date(now - 60_000).toISOString(),
      endsAt: new Date(now + 3_600_000).toISOString(),
    });
    expect(made.status).toBe(201);
    expect((await e.callAs(agent, 'GET', '/api/auth/me')).body.actingFor).toEqual([boss.id]);
    // The period ends (moved into the past rather than waited for); caches are dropped as on any change.
    await e.database.db.execute(
      sql`update auth.delegations set starts_at = now() - interval '2 hours', ends_at = now() - interval '1 second' where id = ${made.body.data.id}`,
    );
    await e.auth.invalidate();
    expect((await e.callAs(agent, 'GET', '/api/auth/me')).body.actingFor).toEqual([]);
  });

  it('computes formulas in dependency order, whatever the order they are declared in', async () => {
    const c = await e.call('POST', '/api/data/case', { title: 'formulas', a: 4 });
    expect(c.body.data).toMatchObject({ a: 4, b: 5, c: 50 });
    const patched = await e.call('PATCH', `/api/data/case/${c.body.data.id}`, { a: 1, version: 1 });
    expect(patched.body.data).toMatchObject({ b: 2, c: 20 });
  });

  it('lets a timer fire only for the stay that started it', async () => {
    const c = (await e.call('POST', '/api/data/case', { title: 'stays' })).body.data;
    // Leave the state and come back: a second stay, with a timer of its own.
    expect((await e.call('POST', `/api/data/case/${c.id}/transitions/hold`)).status).toBe(200);
    expect((await e.call('POST', `/api/data/case/${c.id}/transitions/reopen`)).status).toBe(200);
    const [second] = await e.database.rows<{ id: number }>(
      sql`select max(id)::int as id from workflow.history where record_id = ${c.id}`,
    );
    const fire = (since: number) =>
      (e.workflows as any).onTimer({
        entity: 'case',
        id: c.id,
        workflow: 'case_flow',
        state: 'open',
        event: 'close',
        since,
        timer: 0,
      });
    // The first stay's timer comes due now: the record is in the same state, but in another stay.
    await fire(0);
    expect((await e.call('GET', `/api/data/case/${c.id}`)).body.data.state).toBe('open');
    await fire(Number(second.id));
    expect((await e.call('GET', `/api/data/case/${c.id}`)).body.data.state).toBe('closed');
  });
});
