/**
 * Background work that fails is not silent (issue 11, item 13): a timer whose transition breaks an
 * entity rule is logged, kept on the record's workflow history and in the administrators' list, and its
 * owner is notified — so is a scheduled automation failing on one record, which does not stop the
 * others; and the transitions preview checks the entity rules, so "allowed" means it would succeed.
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
  {
    // Every night, files a follow-up titled by each marked ticket's resolution — which fails for one without.
    kind: 'automation',
    name: 'nightly_close',
    label: L('Nightly close', '夜间关闭'),
    entity: 'ticket',
    trigger: { schedule: { cron: '0 3 * * *', timeZone: 'Asia/Shanghai' } },
    condition: { in: ['夜间关闭', { var: 'title' }] },
    actions: [{ type: 'create_record', entity: 'ticket', values: { title: { var: 'resolution' } } }],
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

  it('keeps and tells about a scheduled automation that failed on a record; the other records still get it', async () => {
    const [bad] = (
      await e.callAs(agent, 'POST', '/api/data/ticket', [
        { title: '夜间关闭：未处理' },
        { title: '夜间关闭：已处理', resolution: '已远程修复' },
      ])
    ).body.data;
    const before = e.scheduler.runs.length;
    await e.jobs.send('automation.nightly_close', { automation: 'nightly_close' });
    expect(await eventually(async () => e.scheduler.runs.length > before, 20_000)).toBe(true);
    expect(e.scheduler.runs.at(-1)).toMatchObject({ automation: 'nightly_close', matched: 2, failed: [{ id: bad.id }] });
    const followUps = (
      await e.call(
        'GET',
        `/api/data/ticket?filter=${encodeURIComponent(JSON.stringify({ '==': [{ var: 'title' }, '已远程修复'] }))}`,
      )
    ).body.data;
    expect(followUps).toHaveLength(1);
    const failures = (await e.callAs(agent, 'GET', `/api/data/ticket/${bad.id}/workflow-history`)).body.data.failures;
    expect(failures.find((f: any) => f.kind === 'automation')).toMatchObject({
      job: expect.stringContaining('nightly_close'),
      code: 'validation_failed',
    });
    const notes = (await e.callAs(agent, 'GET', '/api/notifications')).body.data.filter((n: any) => n.recordId === bad.id);
    expect(notes.map((n: any) => n.template)).toContain('job-failure:automation');
    expect(notes.find((n: any) => n.template === 'job-failure:automation').subject['zh-CN']).toBe('工单的定时自动化未能执行');
  });
});
