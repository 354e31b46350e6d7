import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers, L, q, startEngine, type TestEngine } from '../support/engine.js';

const app = [
  {
    kind: 'dictionary',
    name: 'ticket_state',
    label: L('State'),
    items: ['open', 'closed'].map((v) => ({ value: v, label: L(v) })),
  },
  {
    kind: 'entity',
    name: 'ticket',
    label: L('Ticket'),
    fields: [
      { name: 'title', type: 'text', label: L('Title'), required: true },
      { name: 'priority', type: 'text', label: L('Priority') },
      { name: 'state', type: 'picklist', dictionary: 'ticket_state', label: L('State'), required: true },
    ],
  },
  {
    kind: 'entity',
    name: 'note',
    label: L('Note'),
    fields: [
      { name: 'ticket', type: 'reference', to: 'ticket', label: L('Ticket') },
      { name: 'text', type: 'text', label: L('Text'), required: true },
    ],
  },
  {
    kind: 'workflow',
    name: 'ticket_flow',
    label: L('Ticket flow'),
    entity: 'ticket',
    stateField: 'state',
    initial: 'open',
    states: { open: { on: { close: { target: 'closed' } } }, closed: { type: 'final' } },
  },
  {
    kind: 'template',
    name: 'urgent',
    label: L('Urgent'),
    subject: L('Urgent: {{title}}', '紧急：{{title}}'),
    body: L('{{title}} needs you', '{{title}} 需要处理'),
  },
  {
    kind: 'automation',
    name: 'a_urgent',
    label: L('Urgent tickets'),
    entity: 'ticket',
    trigger: { created: true },
    condition: { '==': [{ var: 'priority' }, 'high'] },
    actions: [{ type: 'notify', template: 'urgent', to: [{ var: 'owner_id' }] }],
  },
  {
    kind: 'automation',
    name: 'b_renamed',
    label: L('Renames'),
    entity: 'ticket',
    trigger: { fieldChanged: ['title'] },
    actions: [
      {
        type: 'create_record',
        entity: 'note',
        values: { ticket: { var: 'id' }, text: { cat: ['renamed from ', { var: '$old.title' }, ' to ', { var: 'title' }] } },
      },
    ],
  },
  {
    kind: 'automation',
    name: 'c_closed',
    label: L('Closed'),
    entity: 'ticket',
    trigger: { stateEntered: 'closed' },
    actions: [{ type: 'create_record', entity: 'note', values: { ticket: { var: 'id' }, text: 'closed' } }],
  },
];

describe.each(drivers)('automations on %s', (driver) => {
  let e: TestEngine;
  beforeAll(async () => {
    e = await startEngine(driver);
    const res = await e.call('POST', '/api/meta/deploy', { documents: app });
    expect(res.status).toBe(201);
  });
  afterAll(() => e?.stop());

  const notes = async (ticket: string) =>
    (await e.call('GET', `/api/data/note?sort=created_at&filter=${q({ '==': [{ var: 'ticket' }, ticket] })}`)).body.data.map(
      (n: any) => n.text,
    );

  it('runs on creation when the condition holds, on field changes (seeing the old value) and on entering a state', async () => {
    const urgent = (await e.call('POST', '/api/data/ticket', { title: '服务器宕机', priority: 'high' })).body.data;
    const calm = (await e.call('POST', '/api/data/ticket', { title: 'Typo', priority: 'low' })).body.data;
    const inbox = (await e.call('GET', '/api/notifications')).body.data;
    expect(inbox.filter((n: any) => n.template === 'urgent').map((n: any) => n.recordId)).toEqual([urgent.id]);
    expect(inbox[0].subject['zh-CN']).toBe('紧急：服务器宕机');

    await e.call('PATCH', `/api/data/ticket/${calm.id}`, { priority: 'medium', version: 1 });
    expect(await notes(calm.id)).toEqual([]); // not the watched field
    await e.call('PATCH', `/api/data/ticket/${calm.id}`, { title: 'Typo fixed', version: 2 });
    expect(await notes(calm.id)).toEqual(['renamed from Typo to Typo fixed']);

    expect((await e.call('POST', `/api/data/ticket/${calm.id}/transitions/close`)).status).toBe(200);
    expect(await notes(calm.id)).toEqual(['renamed from Typo to Typo fixed', 'closed']);
  });

  it('rolls the change back with the automation when an action fails, and stops loops', async () => {
    const loop = {
      kind: 'automation',
      name: 'd_loop',
      label: L('Loop'),
      entity: 'note',
      trigger: { created: true },
      actions: [{ type: 'create_record', entity: 'note', values: { text: 'again' } }],
    };
    expect((await e.call('POST', '/api/meta/deploy', { documents: [loop] })).status).toBe(201);
    const before = (await e.call('GET', '/api/data/note?count=true&limit=1')).body.total;
    const res = await e.call('POST', '/api/data/note', { text: 'start' });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('automation_loop');
    expect((await e.call('GET', '/api/data/note?count=true&limit=1')).body.total).toBe(before);
    expect(
      (await e.call('POST', '/api/meta/deploy', { documents: [], delete: [{ kind: 'automation', name: 'd_loop' }] })).status,
    ).toBe(201);
  });

  it('runs before a delete: a refusal keeps the record, other records go, updates do not trigger it', async () => {
    const guard = {
      kind: 'automation',
      name: 'e_keep_high',
      label: L('High tickets stay'),
      entity: 'ticket',
      trigger: { deleted: true },
      condition: { '==': [{ var: 'priority' }, 'high'] },
      actions: [
        { type: 'refuse', code: 'ticket_kept', field: 'priority', message: L('High tickets stay', '高优先级工单不能删除') },
      ],
    };
    expect((await e.call('POST', '/api/meta/deploy', { documents: [guard] })).status).toBe(201);
    const high = (await e.call('POST', '/api/data/ticket', { title: '机房断电', priority: 'high' })).body.data;
    const low = (await e.call('POST', '/api/data/ticket', { title: 'Old', priority: 'low' })).body.data;
    const refused = await e.call('DELETE', `/api/data/ticket/${high.id}`, undefined, { 'accept-language': 'zh-CN' });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({
      code: 'ticket_kept',
      message: '高优先级工单不能删除',
      details: [{ path: '/priority' }],
    });
    expect((await e.call('GET', `/api/data/ticket/${high.id}`)).status).toBe(200);
    expect((await e.call('DELETE', `/api/data/ticket/${low.id}`)).status).toBe(200);
    expect((await e.call('GET', `/api/data/ticket/${low.id}`)).status).toBe(404);
    // Updates do not trigger it.
    expect((await e.call('PATCH', `/api/data/ticket/${high.id}`, { title: '机房断电（已恢复）', version: 1 })).status).toBe(200);
    const wrong = await e.call('POST', '/api/meta/deploy', {
      documents: [{ ...guard, name: 'e_bad', actions: [{ type: 'fire', event: 'close' }] }],
    });
    expect([wrong.status, wrong.body.error.details.map((d: any) => `${d.path} ${d.code}`)]).toEqual([
      400,
      ['/documents/0/actions/0/type invalid_action'],
    ]);
    expect(
      (await e.call('POST', '/api/meta/deploy', { documents: [], delete: [{ kind: 'automation', name: 'e_keep_high' }] })).status,
    ).toBe(201);
  });

  it('refuses unsound automations at deploy', async () => {
    const bad = {
      kind: 'automation',
      name: 'bad',
      label: L('Bad'),
      entity: 'ticket',
      trigger: { fieldChanged: ['nope'] },
      condition: { '==': [{ var: 'ghost' }, 1] },
      actions: [{ type: 'set', values: { title: 'x' } }, { type: 'teleport' }],
    };
    const res = await e.call('POST', '/api/meta/deploy', {
      documents: [
        bad,
        {
          ...bad,
          name: 'bad2',
          trigger: { stateEntered: 'limbo' },
          condition: undefined,
          actions: [{ type: 'notify', template: 'urgent', to: { var: 'owner_id' } }],
        },
      ],
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: any) => `${d.path} ${d.code}`)).toEqual(
      expect.arrayContaining([
        '/documents/0/trigger/fieldChanged/0 unknown_field',
        '/documents/0/condition/==/0/var unknown_field',
        '/documents/0/actions/0/type invalid_action',
        '/documents/0/actions/1/type unknown_action',
        '/documents/1/trigger/stateEntered unknown_state',
      ]),
    );
    expect(
      (await e.call('POST', '/api/meta/deploy', { documents: [{ ...bad, trigger: { created: true, updated: true } }] })).status,
    ).toBe(400);
  });

  it("reads a bulk create's lookups together, each record against its own: a refusal names its row, past a hundred rows too", async () => {
    const stock = {
      kind: 'entity',
      name: 'stock',
      label: L('Stock'),
      fields: [
        { name: 'sku', type: 'text', label: L('SKU'), required: true },
        { name: 'available', type: 'integer', label: L('Available') },
      ],
    };
    const pick = {
      kind: 'entity',
      name: 'pick',
      label: L('Pick'),
      fields: [
        { name: 'sku', type: 'text', label: L('SKU'), required: true },
        { name: 'quantity', type: 'integer', label: L('Quantity'), required: true },
      ],
    };
    const within = {
      kind: 'automation',
      name: 'pick_within_stock',
      label: L('Within stock', '不超过库存'),
      entity: 'pick',
      trigger: { created: true },
      lookups: {
        available: { entity: 'stock', op: 'max', field: 'available', where: { '==': [{ var: 'sku' }, { var: '$record.sku' }] } },
      },
      condition: { '>': [{ var: 'quantity' }, { var: '$lookup.available' }] },
      actions: [{ type: 'refuse', code: 'over_stock', field: 'quantity', message: L('More than in stock', '超过库存') }],
    };
    expect((await e.call('POST', '/api/meta/deploy', { documents: [stock, pick, within] })).status).toBe(201);
    expect((await e.call('POST', '/api/data/stock', [{ sku: 'A', available: 5 }, { sku: 'B', available: 1 }])).status).toBe(201);
    const count = async () => (await e.call('GET', '/api/data/pick?limit=1&count=true')).body.total;
    const ok = await e.call('POST', '/api/data/pick', [
      { sku: 'A', quantity: 3 },
      { sku: 'B', quantity: 1 },
      { sku: 'A', quantity: 5 },
    ]);
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    expect(await count()).toBe(3);
    const over = await e.call('POST', '/api/data/pick', [
      { sku: 'A', quantity: 3 },
      { sku: 'B', quantity: 2 },
    ]);
    expect([over.status, over.body.error.code, over.body.error.details[0].path]).toEqual([409, 'over_stock', '/1/quantity']);
    const many = Array.from({ length: 150 }, (_, i) => ({ sku: i % 2 ? 'B' : 'A', quantity: i === 121 ? 2 : 1 }));
    const late = await e.call('POST', '/api/data/pick', many);
    expect([late.status, late.body.error.details[0].path, late.body.error.message]).toEqual([409, '/121/quantity', 'More than in stock']);
    expect(await count()).toBe(3);
    many[121].quantity = 1;
    expect((await e.call('POST', '/api/data/pick', many)).status).toBe(201);
    expect(await count()).toBe(153);
  });
});

describe.each(drivers)('after-commit actions (webhooks) on %s', (driver) => {
  let e: TestEngine;
  let server: import('node:http').Server;
  let url = '';
  const received: { path: string; body: any }[] = [];
  let failuresLeft = 0;
  beforeAll(async () => {
    const { createServer } = await import('node:http');
    server = createServer((req, res) => {
      let text = '';
      req.on('data', (c) => (text += c));
      req.on('end', () => {
        received.push({ path: req.url ?? '', body: JSON.parse(text || 'null') });
        if (failuresLeft > 0) {
          failuresLeft--;
          res.writeHead(503).end();
        } else res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}`;
    e = await startEngine(driver);
    const hooks = [
      {
        kind: 'automation',
        name: 'w_created',
        label: L('Hook'),
        entity: 'ticket',
        trigger: { created: true },
        actions: [{ type: 'webhook', url: `${url}/tickets`, body: { title: { var: 'title' }, id: { var: 'id' } } }],
      },
    ];
    const flow = structuredClone(app[3]) as any;
    flow.states.open.on.close.actions = [
      { type: 'webhook', url: `${url}/closed` },
      { type: 'create_record', entity: 'note', values: { text: { var: 'priority' } } },
    ]; // no priority: the note has no text, and fails
    expect(
      (
        await e.call('POST', '/api/meta/deploy', {
          documents: [...app.filter((d) => d.kind !== 'automation' && d.kind !== 'workflow'), flow, ...hooks],
        })
      ).status,
    ).toBe(201);
  });
  afterAll(async () => {
    await e?.stop();
    server?.close();
  });
  const waitFor = async (check: () => boolean, ms = 15_000) => {
    for (const until = Date.now() + ms; Date.now() < until && !check(); ) await new Promise((r) => setTimeout(r, 200));
    return check();
  };

  it('calls the webhook after the change commits, and retries from the queue until it answers', async () => {
    failuresLeft = 1;
    const before = received.length;
    const started = Date.now();
    const res = await e.call('POST', '/api/data/ticket', { title: '接口通知' });
    expect(res.status).toBe(201);
    expect(Date.now() - started).toBeLessThan(2000); // the request did not wait for the other system
    expect(await waitFor(() => received.length >= before + 2)).toBe(true);
    const calls = received.slice(before).filter((r) => r.path === '/tickets');
    expect(calls).toHaveLength(2); // 503, then 204 on the retry
    expect(calls[1].body).toEqual({ title: '接口通知', id: res.body.data.id });
  });

  it('calls nobody when the change rolls back', async () => {
    const t = (await e.call('POST', '/api/data/ticket', { title: '回滚' })).body.data;
    await waitFor(() => received.some((r) => r.body?.id === t.id));
    const before = received.length;
    const res = await e.call('POST', `/api/data/ticket/${t.id}/transitions/close`);
    expect(res.status).toBe(422); // the note action fails: no text
    await new Promise((r) => setTimeout(r, 2000));
    expect(received.slice(before).filter((r) => r.path === '/closed')).toEqual([]);
    expect((await e.call('GET', `/api/data/ticket/${t.id}`)).body.data.state).toBe('open');
  });

  it('refuses a webhook without a usable URL', async () => {
    const bad = {
      kind: 'automation',
      name: 'w_bad',
      label: L('Bad'),
      entity: 'ticket',
      trigger: { created: true },
      actions: [{ type: 'webhook', url: 'file:///etc/passwd' }],
    };
    const res = await e.call('POST', '/api/meta/deploy', { documents: [bad] });
    expect([res.status, res.body.error.details[0].path, res.body.error.details[0].code]).toEqual([
      400,
      '/documents/0/actions/0/url',
      'invalid_url',
    ]);
  });
});

describe.each(drivers)('scheduled automations on %s', (driver) => {
  let e: TestEngine;
  beforeAll(async () => {
    e = await startEngine(driver);
    const { loadPackage } = await import('../../metadata/loader.js');
    const { join, resolve } = await import('node:path');
    const res = await e.call('POST', '/api/meta/deploy', {
      documents: await loadPackage(join(resolve(import.meta.dirname, '..', '..'), 'sample-apps', 'sales')),
    });
    expect(res.status).toBe(201);
  });
  afterAll(() => e?.stop());

  it('registers the churn warning as a Saturday 02:00 Beijing-time schedule in the job queue', async () => {
    let schedules: any[] = [];
    for (let i = 0; i < 20 && !schedules.length; i++) {
      schedules = (await e.jobs.schedules()).filter((s: any) => s.name === 'automation.churn_warning');
      if (!schedules.length) await new Promise((r) => setTimeout(r, 100));
    }
    expect(schedules.map((s: any) => [s.cron, s.timezone])).toEqual([['0 2 * * 6', 'Asia/Shanghai']]);
  });

  it('on a tick, notifies the owners of customers without an order for six months only — sent through the queue like the cron would', async () => {
    const { sql } = await import('drizzle-orm');
    const [stale, fresh, ordered] = (
      await e.call('POST', '/api/data/account', [
        { name: '久未下单 A', region: 'east', grade: 'a' },
        { name: '新客户 A', region: 'east', grade: 'a' },
        { name: '近期下单 C', region: 'east', grade: 'c' },
      ])
    ).body.data;
    // The stale customer's last order is 200 days old; the other old customer ordered 30 days ago.
    const day = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);
    for (const [account, date] of [
      [stale.id, day(200)],
      [ordered.id, day(250)],
      [ordered.id, day(30)],
    ])
      expect((await e.call('POST', '/api/data/order', { account, amount: 100, order_date: date })).status).toBe(201);
    await e.database.db.execute(
      sql`update account set created_at = now() - interval '300 days' where id in (${stale.id}, ${ordered.id})`,
    );
    const before = e.scheduler.runs.length;
    await e.jobs.send('automation.churn_warning', { automation: 'churn_warning' });
    for (let i = 0; i < 40 && e.scheduler.runs.length === before; i++) await new Promise((r) => setTimeout(r, 200));
    expect(e.scheduler.runs.at(-1)).toMatchObject({ automation: 'churn_warning', matched: 1, failed: [] });
    const warned = (await e.call('GET', '/api/notifications')).body.data.filter((n: any) => n.template === 'churn_warning');
    expect(warned.map((n: any) => n.recordId)).toEqual([stale.id]);
    expect(warned[0].subject['zh-CN']).toBe('流失预警：久未下单 A');
    expect(warned[0].body['zh-CN']).toContain(`最近下单：${day(200)}`);
    const state = async (id: string) => (await e.call('GET', `/api/data/account/${id}`)).body.data.churn_status;
    expect([await state(stale.id), await state(fresh.id), await state(ordered.id)]).toEqual(['warned', 'normal', 'normal']);

    // Defer before confirm (暂缓流失 → 确认流失): confirming straight from the warning is not possible.
    const fire = (event: string, body?: unknown) => e.call('POST', `/api/data/account/${stale.id}/transitions/${event}`, body);
    expect((await fire('confirm', { input: { reason: '半年无订单' } })).body.error.code).toBe('invalid_transition');
    expect((await fire('defer', { input: { reason: '客户年底有采购计划' } })).status).toBe(200);
    expect((await fire('confirm', { input: { reason: '确认转向竞争对手' } })).status).toBe(200);
    expect(await state(stale.id)).toBe('churned');
    const [entry] = (await e.call('GET', `/api/data/account/${stale.id}/workflow-history`)).body.data.transitions.reverse();
    expect(entry).toMatchObject({ event: 'warn', from: 'normal', to: 'warned', actor: null, comment: 'automation: warn' });

    // The next tick leaves warned and churned customers alone.
    const runs = e.scheduler.runs.length;
    await e.jobs.send('automation.churn_warning', { automation: 'churn_warning' });
    for (let i = 0; i < 40 && e.scheduler.runs.length === runs; i++) await new Promise((r) => setTimeout(r, 200));
    expect(e.scheduler.runs.at(-1)).toMatchObject({ matched: 0 });
  });

  it('refuses firing an event no workflow has, and the fire action outside automations', async () => {
    const bad = {
      kind: 'automation',
      name: 'bad_fire',
      label: L('Bad'),
      entity: 'account',
      trigger: { created: true },
      actions: [{ type: 'fire', event: 'explode' }],
    };
    const res = await e.call('POST', '/api/meta/deploy', { documents: [bad] });
    expect([res.status, res.body.error.details[0].path, res.body.error.details[0].code]).toEqual([
      400,
      '/documents/0/actions/0/event',
      'unknown_event',
    ]);
    const { loadPackage } = await import('../../metadata/loader.js');
    const { join, resolve } = await import('node:path');
    const wf = structuredClone(
      (await loadPackage(join(resolve(import.meta.dirname, '..', '..'), 'sample-apps', 'sales'))).find(
        (d: any) => d.name === 'churn_watch',
      ),
    ) as any;
    wf.states.normal.on.warn.actions = [{ type: 'fire', event: 'recover' }];
    const res2 = await e.call('POST', '/api/meta/deploy', { documents: [wf] });
    expect([res2.status, res2.body.error.details[0].code]).toEqual([400, 'invalid_action']);
  });

  it('refuses a malformed cron expression or time zone with the path', async () => {
    const bad = {
      kind: 'automation',
      name: 'bad_cron',
      label: L('Bad'),
      entity: 'account',
      trigger: { schedule: { cron: '0 2 * *', timeZone: 'Mars/Base' } },
      actions: [{ type: 'notify', template: 'churn_warning', to: [{ var: 'owner_id' }] }],
    };
    const res = await e.call('POST', '/api/meta/deploy', { documents: [bad] });
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: any) => [d.path, d.code])).toEqual([
      ['/documents/0/trigger/schedule/cron', 'invalid_cron'],
      ['/documents/0/trigger/schedule/timeZone', 'invalid_time_zone'],
    ]);
  });
});
