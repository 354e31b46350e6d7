/**
 * Sending a quote to the customer by e-mail: the print template rendered to PDF under the print right,
 * kept in the quote's attachments, queued in the outbox and handed to a real SMTP server (smtp-server, in
 * process) with the PDF attached; bad addresses are refused with their path and nothing is written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParsedMail } from 'mailparser';
import { PDFParse } from 'pdf-parse';
import { sql } from 'drizzle-orm';
import { startSmtp, type TestSmtp } from '../support/smtp.js';
import { drivers } from '../support/engine.js';
import { startOrg, type Org } from '../access/org.js';

describe.each(drivers)('sending a document by e-mail on %s', (driver) => {
  let org: Org;
  let smtp: TestSmtp;
  let quote: any;
  const mails: ParsedMail[] = [];

  beforeAll(async () => {
    smtp = await startSmtp({ mails });
    const port = smtp.port;
    org = await startOrg(driver, ['sales'], { mail: { url: `smtp://127.0.0.1:${port}`, from: 'sales@example.com' } });
    const deal = await org.as('rep_east', 'POST', '/api/data/opportunity', {
      title: '杭州数据中心扩容',
      account: org.accounts.rep_east.id,
      amount: 380000,
    });
    expect(deal.status, JSON.stringify(deal.body)).toBe(201);
    const created = await org.as('rep_east', 'POST', '/api/data/quote', {
      opportunity: deal.body.data.id,
      list_amount: 380000,
      discount: 5,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    quote = created.body.data;
  }, 180_000);
  afterAll(async () => {
    await org?.e.stop();
    await smtp?.close();
  });

  const outboxCount = async () =>
    (await org.e.database.rows<{ n: number }>(sql`select count(*)::int as n from inbox.email_outbox`))[0]!.n;
  const fileCount = async () => (await org.e.database.rows<{ n: number }>(sql`select count(*)::int as n from files.files`))[0]!.n;
  const sweep = async () => {
    const id = await org.e.jobs.send('email-outbox', {});
    for (let i = 0; i < 50; i++) {
      if ((await org.e.jobs.job('email-outbox', id!))?.state === 'completed') return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error('the sweep did not run');
  };

  it('sends the quote as a PDF to the customer, keeps the PDF with the quote and lists what was sent', async () => {
    const res = await org.e.callAs(
      org.tokens.rep_east,
      'POST',
      `/api/data/quote/${quote.id}/email`,
      { to: ['Buyer@Customer.example.com'], cc: ['boss@customer.example.com'], message: '王总您好，报价单请查收。' },
      { 'accept-language': 'zh-CN' },
    );
    expect([res.status, res.body.error]).toEqual([202, undefined]);
    expect(res.body.data.to).toEqual(['buyer@customer.example.com']);
    const attached = res.body.data.attachments[0];
    expect(attached.type).toBe('application/pdf');

    // The PDF is in the quote's attachments: what the customer got stays with the quote.
    const attachments = (await org.as('rep_east', 'GET', `/api/data/quote/${quote.id}/attachments`)).body.data;
    expect(attachments.map((a: any) => a.id)).toContain(attached.id);

    await sweep();
    expect(mails).toHaveLength(1);
    const mail = mails[0]!;
    expect((mail.to as any).text).toBe('buyer@customer.example.com');
    expect((mail.cc as any).text).toBe('boss@customer.example.com');
    expect(mail.text).toContain('王总您好，报价单请查收。');
    expect(mail.attachments).toHaveLength(1);
    expect(mail.attachments[0]!.contentType).toBe('application/pdf');
    const parser = new PDFParse({ data: new Uint8Array(mail.attachments[0]!.content) });
    const text = (await parser.getText()).text.replace(/\s+/g, '');
    await parser.destroy();
    expect(text).toContain(quote.quote_no);

    const sent = (await org.as('rep_east', 'GET', `/api/data/quote/${quote.id}/emails`)).body.data;
    expect(sent.map((m: any) => [m.to, m.status, m.sent_by])).toEqual([['buyer@customer.example.com', 'sent', org.ids.rep_east]]);
  });

  it('refuses bad addresses with their paths, in the caller’s language, and writes nothing', async () => {
    const [mailsBefore, filesBefore] = [await outboxCount(), await fileCount()];
    const res = await org.e.callAs(
      org.tokens.rep_east,
      'POST',
      `/api/data/quote/${quote.id}/email`,
      { to: ['ok@example.com', 'not-an-address'], cc: 'x@', bcc: ['a@b.cn'] },
      { 'accept-language': 'zh-CN' },
    );
    expect([res.status, res.body.error.code]).toEqual([422, 'validation_failed']);
    expect(res.body.error.details.map((d: any) => `${d.path} ${d.code}`).sort()).toEqual([
      '/bcc unknown_property',
      '/cc/0 invalid_email',
      '/to/1 invalid_email',
    ]);
    expect(res.body.error.details.find((d: any) => d.path === '/to/1').message).toContain('不是有效的邮箱地址');
    // Not even an object that brings its own "toString" (the fuzzer's find) gets past the check.
    const odd = await org.as('rep_east', 'POST', `/api/data/quote/${quote.id}/email`, { to: 1e16, cc: [{ toString: ' ~' }] });
    expect([odd.status, odd.body.error.details.map((d: any) => d.path).sort()]).toEqual([422, ['/cc/0', '/to']]);
    const none = await org.as('rep_east', 'POST', `/api/data/quote/${quote.id}/email`, { to: [] });
    expect([none.status, none.body.error.details[0].path]).toEqual([422, '/to']);
    expect([await outboxCount(), await fileCount()]).toEqual([mailsBefore, filesBefore]);
  });

  it('sends only what the sender may print: another rep’s quote is not found, an unknown template is 404', async () => {
    const [mailsBefore, filesBefore] = [await outboxCount(), await fileCount()];
    expect((await org.as('rep_north', 'POST', `/api/data/quote/${quote.id}/email`, { to: ['a@example.com'] })).status).toBe(404);
    const nope = await org.as('rep_east', 'POST', `/api/data/quote/${quote.id}/email`, {
      to: ['a@example.com'],
      template: 'nope',
    });
    expect([nope.status, nope.body.error.code]).toEqual([404, 'template_not_found']);
    expect((await org.as('rep_north', 'GET', `/api/data/quote/${quote.id}/emails`)).status).toBe(404);
    expect([await outboxCount(), await fileCount()]).toEqual([mailsBefore, filesBefore]);
  });
});
