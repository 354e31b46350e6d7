/**
 * Background work that fails is not silent (issue 11, item 13): a timer whose transition breaks an
 * entity rule is logged, kept on the record's workflow history and in the administrators' list, and its
 * owner is notified; and the transitions preview checks the entity rules, so "allowed" means it would
 * succeed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers, L, startEngine, type TestEngine } from '../support/engine.js';

const documents = [
  {
    kind: 'dictionary',
    name: 'ticket_state',
    label: L('State'),
    items: ['open', 'closed'].map((v) => ({ value: v, label: L(v) })),
  },
  {
    kind: 'role',
    name: 'support',
    label: L('Support'),
    grants: [{ entity: 'ticket', read: 'own', create: 'all', update: 'own' }],
  },
  {
    kind: 'entity',
    name: 'ticket',
    label: L('Ticket', '工单'),
    titleField: 'title',
    fields: [
      { name: 'title', type: 'text', label: L('Title'), required: true },
      { name: 'resolution', type: 'text', label: L('Resolution', '处理结果') },
      { name: 'state', type: 'picklist', dictionary: 'ticket_state', label: L('State') },
    ],
    rules: [
      {
        name: 'closed_needs_resolution',
        field: 'resolution',
        when: { '==': [{ var: 'state' }, 'closed'] },
        assert: { '!!': [{ var: 'resolution' }] },
        message: L('A closed ticket needs a resolution', '关闭的工单必须填写处理结果'),
      },
    ],
  },
  {
    kind: 'workflow',
    name: 'ticket_flow',
    label: L('Ticket flow'),
    entity: 'ticket',
    stateField: 'state',
    initial: 'open',
    states: {
      open: { on: { close: { target: 'closed', label: L('Close') } }, timers: [{ event: 'close', after: 'PT1S' }] },
      closed: { type: 'final' },
    },
  },
];

const eventually = async (check: () => Promise<boolean>, ms = 10_000) => {
  for (const until = Date.now() + ms; Date.now() < until; await new Promise((r) => setTimeout(r, 200)))
    if (await check()) return true;
  return false;
};

describe.each(drivers)('failed background jobs on %s', (driver) => {
  let e: TestEngine;
  let agent: string;
  beforeAll(async () => {
    e = await startEngine(driver);
    expect((await e.call('POST', '/api/meta/deploy', { documents })).status).toBe(201);
    const u = await e.createUser({ username: 'agent', display_name: 'Agent', roles: ['support'], password: 'agent password 1' });
    agent = await e.login('agent', u.password);
  }, 180_000); // seeding users (scrypt) and deploying a sample app: slow on a busy machine
  afterAll(() => e?.stop());

  it('says a transition is not allowed when the record would break an entity rule', async () => {
    const t = (await e.callAs(agent, 'POST', '/api/data/ticket', { title: '预览' })).body.data;
    const preview = (
      await e.callAs(agent, 'GET', `/api/data/ticket/${t.id}/transitions`, undefined, { 'accept-language': 'zh-CN' })
    ).body.data.transitions;
    expect(preview.find((o: any) => o.event === 'close')).toMatchObject({
      allowed: false,
      reasons: [{ code: 'rule_violation', message: '关闭的工单必须填写处理结果' }],
    });
    // …and it would indeed fail
    expect((await e.callAs(agent, 'POST', `/api/data/ticket/${t.id}/transitions/close`)).status).toBe(422);
    await e.callAs(agent, 'PATCH', `/api/data/ticket/${t.id}`, { resolution: '已解决', version: t.version });
    const after = (await e.callAs(agent, 'GET', `/api/data/ticket/${t.id}/transitions`)).body.data.transitions;
    expect(after.find((o: any) => o.event === 'close')).toMatchObject({ allowed: true, reasons: [] });
  });

  it('keeps, shows and tells the owner about a timer that could not fire', async () => {
    const t = (await e.callAs(agent, 'POST', '/api/data/ticket', { title: '超时未处理' })).body.data;
    const failures = async () => (await e.callAs(agent, 'GET', `/api/data/ticket/${t.id}/workflow-history`)).body.data.failures;
    expect(await eventually(async () => (await failures()).length > 0)).toBe(true);
    expect((await failures())[0]).toMatchObject({ kind: 'timer', job: 'ticket_flow: close (open)', code: 'validation_failed' });
    expect((await failures())[0].message).toContain('A closed ticket needs a resolution');
    expect((await e.callAs(agent, 'GET', `/api/data/ticket/${t.id}`)).body.data.state).toBe('open');
    const notes = (await e.callAs(agent, 'GET', '/api/notifications')).body.data.filter((n: any) => n.recordId === t.id);
    expect(notes.map((n: any) => n.template)).toEqual(['job-failure:timer']);
    expect(notes[0].subject['zh-CN']).toBe('工单的定时流转未能执行');
    // administrators see it in one list; others may not
    const list = (await e.call('GET', '/api/meta/job-failures')).body.data;
    expect(list.some((f: any) => f.record_id === t.id && f.kind === 'timer')).toBe(true);
    expect((await e.callAs(agent, 'GET', '/api/meta/job-failures')).status).toBe(403);
  });
});
