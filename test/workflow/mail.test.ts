/**
 * The e-mail sender: notifications put mails in the outbox in the change's transaction; the sweep job
 * hands them to a real SMTP server (smtp-server, in process) and retries later when it is down.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParsedMail } from 'mailparser';
import { sql } from 'drizzle-orm';
import { startSmtp, type TestSmtp } from '../support/smtp.js';
import { drivers, L, startEngine, type TestEngine } from '../support/engine.js';

const app = [
  {
    kind: 'entity',
    name: 'ticket',
    label: L('Ticket'),
    fields: [
      { name: 'title', type: 'text', label: L('Title'), required: true },
      { name: 'priority', type: 'text', label: L('Priority') },
    ],
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
    name: 'urgent_mail',
    label: L('Urgent tickets'),
    entity: 'ticket',
    trigger: { created: true },
    condition: { '==': [{ var: 'priority' }, 'high'] },
    actions: [{ type: 'notify', template: 'urgent', to: [{ var: 'owner_id' }] }],
  },
];

describe.each(drivers)('e-mail sender on %s', (driver) => {
  let e: TestEngine;
  let smtp: TestSmtp;
  let port = 0;
  const mails: ParsedMail[] = [];
  let ownerToken: string;

  beforeAll(async () => {
    smtp = await startSmtp({ mails });
    port = smtp.port;
    e = await startEngine(driver, { mail: { url: `smtp://127.0.0.1:${port}`, from: 'crm@example.com' } });
    expect((await e.call('POST', '/api/meta/deploy', { documents: app })).status).toBe(201);
    const user = await e.createUser({
      username: 'mailee',
      display_name: '收件人',
      email: 'mailee@example.com',
      roles: ['admin'],
      password: 'mailee password 1',
    });
    ownerToken = await e.login('mailee', user.password);
  });
  afterAll(async () => {
    await e?.stop();
  });

  const outbox = () =>
    e.database.rows<{ status: string; attempts: number; last_error: string | null }>(
      sql`select status, attempts, last_error from inbox.email_outbox order by id`,
    );
  const sweep = async () => {
    const id = await e.jobs.send('email-outbox', {});
    for (let i = 0; i < 50; i++) {
      const job = await e.jobs.job('email-outbox', id!);
      if (job?.state === 'completed') return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error('the sweep did not run');
  };

  it('is scheduled every minute, and delivers the outbox through SMTP from the queue', async () => {
    expect((await e.jobs.schedules()).filter((s: any) => s.name === 'email-outbox').map((s: any) => s.cron)).toEqual([
      '* * * * *',
    ]);
    const res = await e.callAs(ownerToken, 'POST', '/api/data/ticket', { title: '服务器宕机', priority: 'high' });
    expect(res.status).toBe(201);
    expect(await outbox()).toEqual([{ status: 'pending', attempts: 0, last_error: null }]);
    await sweep();
    expect(mails).toHaveLength(1);
    expect(mails[0].subject).toBe('紧急：服务器宕机 / Urgent: 服务器宕机');
    expect((mails[0].to as any).text).toBe('mailee@example.com');
    expect(mails[0].text).toContain('服务器宕机 需要处理');
    expect(mails[0].text).toContain('服务器宕机 needs you');
    expect((await outbox())[0].status).toBe('sent');
    await sweep(); // nothing left: nothing sent twice
    expect(mails).toHaveLength(1);
  });

  it('keeps a mail the server refuses, and tries again later', async () => {
    await smtp.close();
    const down = await startSmtp({ port, refuse: 'mailbox unavailable' });
    try {
      await e.callAs(ownerToken, 'POST', '/api/data/ticket', { title: '第二封', priority: 'high' });
      await sweep();
      const [, second] = await outbox();
      expect(second).toMatchObject({ status: 'pending', attempts: 1 });
      expect(second.last_error).toMatch(/mailbox unavailable/);
      const [{ later }] = await e.database.rows<{ later: boolean }>(
        sql`select next_attempt_at > now() as later from inbox.email_outbox order by id desc limit 1`,
      );
      expect(later).toBe(true);
    } finally {
      await down.close();
    }
  });
});
