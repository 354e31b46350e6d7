/** Comments with @mentions: visible to those who may read the record, mentions notify only readers. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { drivers } from '../support/engine.js';
import { startOrg, type Org } from '../access/org.js';

describe.each(drivers)('comments on %s', (driver) => {
  let org: Org;
  let account: any;
  beforeAll(async () => {
    org = await startOrg(driver);
    account = org.accounts.rep_east;
  }, 180_000);
  afterAll(() => org?.e.stop());

  const path = () => `/api/data/account/${account.id}/comments`;

  it('adds a comment, mentions notify in-app and by e-mail only those who may read the record', async () => {
    // manager_east reads the east department's accounts; rep_north does not read rep_east's account
    const res = await org.as('rep_east', 'POST', path(), {
      body: '@王经理 请看一下这个客户的授信',
      mentions: [org.ids.manager_east, org.ids.rep_north],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.data.mentions).toEqual([org.ids.manager_east]);
    const inbox = await org.as('manager_east', 'GET', '/api/notifications?unread=true');
    const note = inbox.body.data.find((n: any) => n.template === 'comment_mention');
    expect(note).toMatchObject({ entity: 'account', recordId: account.id });
    expect(note.subject['zh-CN']).toContain('提到了你');
    expect(
      (await org.as('rep_north', 'GET', '/api/notifications?unread=true')).body.data.some(
        (n: any) => n.template === 'comment_mention',
      ),
    ).toBe(false);
    const outbox = await org.e.database.rows<{ n: number }>(
      sql`select count(*)::int as n from inbox.email_outbox o join "user" u on u.id = o.user_id where u.username = 'manager_east' and o.body->>'zh-CN' like '%授信%'`,
    );
    const [{ email }] = await org.e.database.rows<{ email: string | null }>(
      sql`select email from "user" where username = 'manager_east'`,
    );
    expect(Number(outbox[0].n)).toBe(email ? 1 : 0);
  });

  it('shows the timeline to readers only', async () => {
    const list = await org.as('manager_east', 'GET', path());
    expect(list.body.data[0]).toMatchObject({ body: '@王经理 请看一下这个客户的授信', authorName: expect.any(String) });
    expect((await org.as('rep_north', 'GET', path())).status).toBe(404);
    expect((await org.as('rep_north', 'POST', path(), { body: 'hi' })).status).toBe(404);
  });

  it('refuses bad input in the caller’s language, writing nothing', async () => {
    const before = (await org.as('rep_east', 'GET', path())).body.data.length;
    for (const [body, at] of [
      [{ body: '   ' }, '/body'],
      [{ body: 'x'.repeat(5001) }, '/body'],
      [{ body: 'x', mentions: ['nope'] }, '/mentions'],
      [{ body: 'x', mentions: ['0190a4c2-0000-7000-8000-000000000000'] }, '/mentions'],
      [{ body: 'x', extra: 1 }, '/extra'],
      [[1], ''],
    ] as const) {
      const res = await org.as('rep_east', 'POST', path(), body, { 'accept-language': 'zh-CN' });
      expect([res.status, res.body.error.details?.[0]?.path]).toEqual([400, at]);
    }
    expect((await org.as('rep_east', 'GET', path())).body.data.length).toBe(before);
  });

  it('lets only the author delete a comment', async () => {
    const added = await org.as('rep_east', 'POST', path(), { body: '临时评论' });
    const id = added.body.data.id;
    expect((await org.as('manager_east', 'DELETE', `${path()}/${id}`)).status).toBe(403);
    expect((await org.as('rep_east', 'DELETE', `${path()}/${id}`)).status).toBe(204);
    expect((await org.as('rep_east', 'GET', path())).body.data.some((c: any) => c.id === id)).toBe(false);
    expect((await org.as('rep_east', 'DELETE', `${path()}/${id}`)).status).toBe(404);
  });
});
