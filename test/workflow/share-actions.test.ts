/**
 * The share, unshare, assign, update_record and warn actions, `list` lookups and scheduled automations
 * over the user entity — on a small app of their own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { drivers, L, q, startEngine, type TestEngine } from '../support/engine.js';

const app: any[] = [
  {
    kind: 'entity',
    name: 'client',
    label: L('Client', '客户'),
    fields: [
      { name: 'name', type: 'text', label: L('Name', '名称'), required: true },
      { name: 'deals_total', type: 'currency', label: L('Deals total', '商机总额') },
      { name: 'last_deal_title', type: 'text', label: L('Last deal', '最近商机'), maxLength: 20 },
    ],
  },
  {
    kind: 'dictionary',
    name: 'deal_state',
    label: L('Deal state', '商机状态'),
    items: ['open', 'escalated'].map((v) => ({ value: v, label: L(v, v) })),
  },
  {
    kind: 'workflow',
    name: 'deal_flow',
    label: L('Deal flow', '商机流程'),
    entity: 'deal',
    stateField: 'state',
    initial: 'open',
    states: {
      open: {
        on: {
          escalate: {
            target: 'escalated',
            input: { type: 'object', required: ['to'], properties: { to: { type: 'string' } } },
            // Hand the deal over and keep working on it.
            actions: [
              { type: 'assign', to: { var: '$input.to' } },
              { type: 'share', to: { var: '$user.id' }, access: 'edit' },
            ],
          },
        },
      },
      escalated: { type: 'final' },
    },
  },
  {
    kind: 'entity',
    name: 'deal',
    label: L('Deal', '商机'),
    fields: [
      { name: 'title', type: 'text', label: L('Title', '标题'), required: true },
      { name: 'state', type: 'picklist', dictionary: 'deal_state', label: L('State', '状态') },
      { name: 'client', type: 'reference', to: 'client', label: L('Client', '客户') },
      { name: 'amount', type: 'currency', label: L('Amount', '金额') },
    ],
  },
  {
    kind: 'entity',
    name: 'member',
    label: L('Team member', '组员'),
    fields: [
      { name: 'deal', type: 'reference', to: 'deal', label: L('Deal', '商机'), required: true },
      { name: 'user', type: 'reference', to: 'user', label: L('User', '用户'), required: true },
      { name: 'status', type: 'text', label: L('Status', '状态') },
    ],
  },
  {
    kind: 'entity',
    name: 'tally',
    label: L('Tally', '统计'),
    fields: [
      { name: 'rep', type: 'reference', to: 'user', label: L('Rep', '销售') },
      { name: 'deals', type: 'integer', label: L('Deals', '商机数') },
      { name: 'amount', type: 'currency', label: L('Amount', '金额') },
    ],
  },
  {
    kind: 'entity',
    name: 'counter',
    label: L('Counter', '计数器'),
    fields: [{ name: 'n', type: 'integer', label: L('N', '次数') }],
  },
  {
    kind: 'automation',
    name: 'counter_loop',
    label: L('Counts itself up', '自增'),
    entity: 'counter',
    trigger: { fieldChanged: ['n'] },
    actions: [{ type: 'update_record', entity: 'counter', record: { var: 'id' }, values: { n: { '+': [{ var: 'n' }, 1] } } }],
  },
  {
    kind: 'role',
    name: 'rep',
    label: L('Rep', '销售'),
    grants: [
      { entity: 'deal', read: 'own', create: 'all', update: 'own', share: 'own' },
      { entity: 'client', read: 'all' },
      { entity: 'user', read: 'all' },
      { entity: 'member', read: 'all', create: 'all', update: 'all', delete: 'all' },
    ],
  },
  {
    kind: 'automation',
    name: 'member_share',
    label: L('Team member shares', '组员共享'),
    entity: 'member',
    trigger: { created: true },
    condition: { '!=': [{ var: 'status' }, 'removed'] },
    actions: [{ type: 'share', entity: 'deal', record: { var: 'deal' }, to: { var: 'user' }, access: 'edit' }],
  },
  {
    kind: 'automation',
    name: 'member_removed',
    label: L('Team member removed', '组员移除'),
    entity: 'member',
    trigger: { fieldChanged: ['status'] },
    condition: { '==': [{ var: 'status' }, 'removed'] },
    actions: [{ type: 'unshare', entity: 'deal', record: { var: 'deal' }, to: { var: 'user' } }],
  },
  {
    kind: 'automation',
    name: 'member_deleted',
    label: L('Team member deleted', '组员删除'),
    entity: 'member',
    trigger: { deleted: true },
    actions: [{ type: 'unshare', entity: 'deal', record: { var: 'deal' }, to: { var: 'user' } }],
  },
  {
    kind: 'automation',
    name: 'deal_client_total',
    label: L('Client total', '客户汇总'),
    entity: 'deal',
    trigger: { created: true, fieldChanged: ['amount'] },
    condition: { '!!': [{ var: 'client' }] },
    lookups: {
      total: { entity: 'deal', op: 'sum', field: 'amount', where: { '==': [{ var: 'client' }, { var: '$record.client' }] } },
    },
    actions: [
      {
        type: 'update_record',
        entity: 'client',
        record: { var: 'client' },
        values: { deals_total: { var: '$lookup.total' }, last_deal_title: { var: 'title' } },
      },
    ],
  },
  {
    kind: 'automation',
    name: 'deal_big_warn',
    label: L('Big pipeline', '商机过多'),
    entity: 'deal',
    trigger: { created: true, updated: true },
    lookups: {
      owned: { entity: 'deal', op: 'sum', field: 'amount', where: { '==': [{ var: 'owner_id' }, { var: '$record.owner_id' }] } },
    },
    condition: { '>': [{ var: '$lookup.owned' }, 1000] },
    actions: [
      {
        type: 'warn',
        code: 'pipeline_large',
        field: 'amount',
        message: L('Your open deals exceed 1,000', '您的商机总额已超过 1000'),
      },
    ],
  },
  {
    kind: 'automation',
    name: 'deal_to_boss',
    label: L('Huge deals go to the boss', '大单转给老板'),
    entity: 'deal',
    trigger: { created: true },
    condition: { '>': [{ var: 'amount' }, 5000] },
    lookups: { boss: { entity: 'user', op: 'list', field: 'id', where: { '==': [{ var: 'username' }, 'boss'] } } },
    actions: [{ type: 'assign', to: { var: '$lookup.boss.0' } }],
  },
  {
    kind: 'automation',
    name: 'rep_tally',
    label: L('Deals per rep', '每人商机统计'),
    entity: 'user',
    trigger: { schedule: { cron: '0 1 1 * *', timeZone: 'Asia/Shanghai' } },
    condition: { in: ['rep', { var: 'roles' }] },
    lookups: {
      deals: { entity: 'deal', op: 'count', where: { '==': [{ var: 'owner_id' }, { var: '$record.id' }] } },
      amount: { entity: 'deal', op: 'sum', field: 'amount', where: { '==': [{ var: 'owner_id' }, { var: '$record.id' }] } },
    },
    actions: [
      {
        type: 'create_record',
        entity: 'tally',
        values: {
          rep: { var: 'id' },
          deals: { var: '$lookup.deals' },
          amount: { var: '$lookup.amount' },
          owner_id: { var: 'id' },
        },
      },
    ],
  },
];

describe.each(drivers)('share, assign, update and warn actions on %s', (driver) => {
  let e: TestEngine;
  const users: Record<string, { id: string; token: string }> = {};
  beforeAll(async () => {
    e = await startEngine(driver);
    const res = await e.call('POST', '/api/meta/deploy', { documents: app });
    expect([res.status, res.body.error]).toEqual([201, undefined]);
    for (const name of ['alice', 'bob', 'carol', 'boss']) {
      const u = await e.createUser({ username: name, display_name: name, roles: ['rep'], password: `${name} password 123` });
      users[name] = { id: u.id, token: await e.login(name, u.password) };
    }
  });
  afterAll(() => e?.stop());

  const as = (name: string, method: string, path: string, body?: unknown) => e.callAs(users[name].token, method, path, body);

  it('shares a deal with a team member for editing when added, and takes it back when removed or deleted', async () => {
    const deal = (await as('alice', 'POST', '/api/data/deal', { title: '联合投标', amount: 100 })).body.data;
    expect((await as('bob', 'GET', `/api/data/deal/${deal.id}`)).status).toBe(404);
    const member = (await as('alice', 'POST', '/api/data/member', { deal: deal.id, user: users.bob.id })).body.data;
    expect((await as('bob', 'GET', `/api/data/deal/${deal.id}`)).status).toBe(200);
    const edited = await as('bob', 'PATCH', `/api/data/deal/${deal.id}`, { title: '联合投标（更新）', version: deal.version });
    expect(edited.status).toBe(200);
    // The audit trail says an automation shared it.
    const [share] = await e.database.rows<{ action: string; note: string; actor: string | null }>(
      sql`select action, note, actor from audit.log where record_id = ${deal.id} and action = 'share'`,
    );
    expect(share).toEqual({ action: 'share', note: 'automation: member_share', actor: null });

    expect((await as('alice', 'PATCH', `/api/data/member/${member.id}`, { status: 'removed', version: 1 })).status).toBe(200);
    expect((await as('bob', 'GET', `/api/data/deal/${deal.id}`)).status).toBe(404);
    expect((await e.call('GET', `/api/data/deal/${deal.id}/shares`)).body.data).toEqual([]);

    // Deleting a member takes the share back too.
    const carol = (await as('alice', 'POST', '/api/data/member', { deal: deal.id, user: users.carol.id })).body.data;
    expect((await as('carol', 'GET', `/api/data/deal/${deal.id}`)).status).toBe(200);
    expect((await as('alice', 'DELETE', `/api/data/member/${carol.id}`)).status).toBe(200);
    expect((await as('carol', 'GET', `/api/data/deal/${deal.id}`)).status).toBe(404);
    const notes = await e.database.rows<{ action: string; note: string }>(
      sql`select action, note from audit.log where record_id = ${deal.id} and action in ('share', 'unshare') order by id`,
    );
    expect(notes.map((n) => `${n.action} ${n.note}`)).toEqual([
      'share automation: member_share',
      'unshare automation: member_removed',
      'share automation: member_share',
      'unshare automation: member_deleted',
    ]);
  });

  it('a member added for a user who does not exist is refused with the whole write', async () => {
    const deal = (await as('alice', 'POST', '/api/data/deal', { title: '空成员', amount: 1 })).body.data;
    const before = (await e.call('GET', `/api/data/member?filter=${q({ '==': [{ var: 'deal' }, deal.id] })}`)).body.data;
    // A left user cannot be shared with: the member is not created either.
    const left = await e.createUser({
      username: 'leaver',
      display_name: 'leaver',
      roles: ['rep'],
      password: 'leaver password 1',
    });
    await e.database.db.execute(sql`update "user" set employment_status = 'left' where id = ${left.id}`);
    const res = await e.call('POST', '/api/data/member', { deal: deal.id, user: left.id });
    expect([res.status, res.body.error.code]).toEqual([422, 'invalid_reference']);
    const after = (await e.call('GET', `/api/data/member?filter=${q({ '==': [{ var: 'deal' }, deal.id] })}`)).body.data;
    expect(after).toEqual(before);
  });

  it('update_record writes another record with the lookup’s sum through the pipeline, in the same transaction', async () => {
    const client = (await e.call('POST', '/api/data/client', { name: '华东客户' })).body.data;
    await as('alice', 'POST', '/api/data/deal', { title: 'A', client: client.id, amount: 120 });
    await as('alice', 'POST', '/api/data/deal', { title: 'B', client: client.id, amount: 30.5 });
    const updated = (await e.call('GET', `/api/data/client/${client.id}`)).body.data;
    expect([updated.deals_total, updated.last_deal_title, updated.version]).toEqual([150.5, 'B', 3]);
    const history = (await e.call('GET', `/api/data/client/${client.id}/history`)).body.data;
    expect(history[0]).toMatchObject({ action: 'update', note: 'automation: deal_client_total' });
    // A value the other entity refuses (too long for its field) rolls the deal back as well.
    const res = await as('alice', 'POST', '/api/data/deal', { title: 'x'.repeat(30), client: client.id, amount: 1 });
    expect(res.status).toBe(422);
    expect((await e.call('GET', `/api/data/client/${client.id}`)).body.data.deals_total).toBe(150.5);
    const deals = (await e.call('GET', `/api/data/deal?filter=${q({ '==': [{ var: 'client' }, client.id] })}`)).body.data;
    expect(deals.length).toBe(2);
  });

  it('warn lets the write through and tells the caller in meta.warnings, in their language', async () => {
    const small = await as('bob', 'POST', '/api/data/deal', { title: '小单', amount: 10 });
    expect([small.status, small.body.meta]).toEqual([201, undefined]);
    const big = await e.callAs(
      users.bob.token,
      'POST',
      '/api/data/deal',
      { title: '大单', amount: 2000 },
      { 'accept-language': 'zh-CN' },
    );
    expect(big.status).toBe(201);
    expect(big.body.meta.warnings).toEqual([{ code: 'pipeline_large', message: '您的商机总额已超过 1000', path: '/amount' }]);
    expect((await as('bob', 'GET', `/api/data/deal/${big.body.data.id}`)).status).toBe(200);
    const patched = await as('bob', 'PATCH', `/api/data/deal/${small.body.data.id}`, { amount: 20, version: 1 });
    expect([patched.status, patched.body.meta.warnings[0].message]).toEqual([200, 'Your open deals exceed 1,000']);
  });

  it('assign gives a record to another owner through the assignment log, as the automation', async () => {
    const deal = (await as('carol', 'POST', '/api/data/deal', { title: '超大单', amount: 9000 })).body.data;
    expect(deal.owner_id).toBe(users.carol.id); // the response is the record as created, before automations moved it
    const now = (await e.call('GET', `/api/data/deal/${deal.id}`)).body.data;
    expect(now.owner_id).toBe(users.boss.id);
    const log = (await e.call('GET', `/api/data/deal/${deal.id}/assignments`)).body.data;
    expect(log).toMatchObject([
      { from_owner: users.carol.id, to_owner: users.boss.id, actor: null, reason: 'automation: deal_to_boss' },
    ]);
  });

  it('a scheduled automation runs over the user entity: one run per rep, with lookups of their records', async () => {
    const run = await e.scheduler.run('rep_tally');
    expect(run).toMatchObject({ matched: 5, failed: [] }); // alice, bob, carol, boss and the leaver (status is the condition’s business)
    const tallies = (await e.call('GET', '/api/data/tally?limit=100')).body.data;
    const expected = await e.database.rows<{ owner_id: string; n: number; s: string }>(
      sql`select owner_id, count(*)::int as n, sum(amount)::text as s from deal where deleted_at is null group by owner_id`,
    );
    for (const name of ['alice', 'bob', 'carol', 'boss']) {
      const t = tallies.find((x: any) => x.rep === users[name].id);
      const row = expected.find((r) => r.owner_id === users[name].id);
      expect([name, t.deals, t.amount, t.owner_id]).toEqual([name, row?.n ?? 0, Number(row?.s ?? 0), users[name].id]);
    }
  });

  it('a workflow transition assigns and shares as its actions: handed over, and the rep keeps editing', async () => {
    const deal = (await as('alice', 'POST', '/api/data/deal', { title: '移交商机', amount: 5 })).body.data;
    expect(deal.state).toBe('open');
    const res = await as('alice', 'POST', `/api/data/deal/${deal.id}/transitions/escalate`, { input: { to: users.boss.id } });
    expect(res.status).toBe(200);
    const now = (await as('alice', 'GET', `/api/data/deal/${deal.id}`)).body.data;
    expect([now.owner_id, now.state]).toEqual([users.boss.id, 'escalated']);
    expect((await as('alice', 'PATCH', `/api/data/deal/${deal.id}`, { amount: 6, version: now.version })).status).toBe(200);
    const log = (await e.call('GET', `/api/data/deal/${deal.id}/assignments`)).body.data;
    expect(log).toMatchObject([{ from_owner: users.alice.id, to_owner: users.boss.id, reason: 'workflow action: assign' }]);
    // A user who cannot take it: nothing of the transition is written.
    const other = (await as('alice', 'POST', '/api/data/deal', { title: '移交失败', amount: 5 })).body.data;
    const bad = await as('alice', 'POST', `/api/data/deal/${other.id}/transitions/escalate`, {
      input: { to: '0190a000-0000-7000-8000-00000000dead' },
    });
    expect([bad.status, bad.body.error.code]).toEqual([422, 'invalid_reference']);
    expect((await as('alice', 'GET', `/api/data/deal/${other.id}`)).body.data).toMatchObject({
      state: 'open',
      owner_id: users.alice.id,
    });
  });

  it('an update_record that sets its own automation off again stops at the loop limit, writing nothing', async () => {
    const c = (await e.call('POST', '/api/data/counter', { n: 0 })).body.data;
    const res = await e.call('PATCH', `/api/data/counter/${c.id}`, { n: 1, version: c.version });
    expect([res.status, res.body.error.code]).toEqual([409, 'automation_loop']);
    expect((await e.call('GET', `/api/data/counter/${c.id}`)).body.data).toMatchObject({ n: 0, version: 1 });
  });

  it('refuses bad action definitions at deploy, with paths', async () => {
    const base = app.find((d) => d.name === 'member_share');
    const res = await e.call('POST', '/api/meta/deploy', {
      documents: [
        ...app.filter((d) => d.kind !== 'automation'),
        {
          ...base,
          lookups: { bad: { entity: 'deal', op: 'count', where: { '==': [{ var: 'title.x' }, 1] } } },
          actions: [
            { type: 'share', entity: 'nothing', to: { var: 'user' }, access: 'write' },
            { type: 'unshare', entity: 'deal', record: { var: 'deal' } },
            { type: 'assign', to: { var: 'no_such_field' } },
            { type: 'update_record', entity: 'client', values: { nope: 1 } },
            { type: 'warn', code: 'Bad Code', message: { en: 'only English' } },
            { type: 'submit_approval', entity: 'client' },
            { type: 'unshare', entity: 'deal', record: { var: 'deal' }, to: { var: 'user' }, source: { var: 'nope' } },
          ],
        },
      ],
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: any) => `${d.path} ${d.code}`)).toEqual(
      expect.arrayContaining([
        '/documents/8/actions/0/entity unknown_entity',
        '/documents/8/actions/0/access invalid_action',
        '/documents/8/actions/1/to invalid_action',
        '/documents/8/actions/2/to/var unknown_field',
        '/documents/8/actions/3/record invalid_action',
        '/documents/8/actions/3/values/nope unknown_field',
        '/documents/8/actions/4/code invalid_action',
        '/documents/8/actions/4/message invalid_action',
        '/documents/8/actions/5/entity no_approval',
        '/documents/8/actions/6/source/var unknown_field',
        '/documents/8/lookups/bad/where unknown_field',
      ]),
    );
  });
});
