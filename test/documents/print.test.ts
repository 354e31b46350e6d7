/** Printed documents: templates render a record with its related records and approval trail to HTML and PDF. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PDFParse } from 'pdf-parse';
import { drivers } from '../support/engine.js';
import { startOrg, type Org } from '../access/org.js';

describe.each(drivers)('print on %s', (driver) => {
  let org: Org;
  let claim: any;
  const print = (user: Parameters<Org['as']>[0], path: string, headers: Record<string, string> = {}) =>
    Promise.resolve(org.e.app.request(path, { headers: { authorization: `Bearer ${org.tokens[user]}`, ...headers } }));

  beforeAll(async () => {
    org = await startOrg(driver, ['sales', 'finance']);
    const res = await org.as('rep_east', 'POST', '/api/data/expense_claim', {
      title: '杭州客户拜访差旅费',
      expense_type: 'travel',
      amount: 2680.5,
      receipts: 3,
      expense_date: '2026-11-20',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    claim = res.body.data;
    const submitted = await org.as('rep_east', 'POST', `/api/data/expense_claim/${claim.id}/approval/submit`, {});
    expect(submitted.status, JSON.stringify(submitted.body)).toBeLessThan(300);
  }, 180_000);
  afterAll(() => org?.e.stop());

  it('renders a PDF whose text extracts back as the Chinese that went in, with the approval trail', async () => {
    const res = await print('rep_east', `/api/data/expense_claim/${claim.id}/print?format=pdf`, { 'accept-language': 'zh-CN' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(Buffer.from(bytes.slice(0, 5)).toString()).toBe('%PDF-');
    const parser = new PDFParse({ data: bytes });
    const text = (await parser.getText()).text.replace(/\s+/g, '');
    await parser.destroy();
    for (const words of ['费用报销单', '杭州客户拜访差旅费', '2,680.50', '审批记录', '报销人签字']) expect(text).toContain(words);
    // the font is embedded as a subset: a page of text stays small
    expect(bytes.byteLength).toBeLessThan(300_000);
  });

  it('renders HTML in the caller’s language, escaping record values', async () => {
    const patched = await org.as('rep_east', 'PATCH', `/api/data/expense_claim/${claim.id}`, {
      version: (await org.as('rep_east', 'GET', `/api/data/expense_claim/${claim.id}`)).body.data.version,
      description: '<script>alert(1)</script>',
    });
    expect([200, 409, 423]).toContain(patched.status);
    const res = await print('rep_east', `/api/data/expense_claim/${claim.id}/print?format=html`, { 'accept-language': 'en' });
    const html = await res.text();
    expect(html).toContain('Expense claim');
    expect(html).toContain('Approval trail');
    expect(html).not.toContain('<script>alert');
  });

  it('refuses without the read or print right, an unknown template and a bad format', async () => {
    expect((await print('rep_north', `/api/data/expense_claim/${claim.id}/print`)).status).toBe(404);
    const nope = await print('rep_east', `/api/data/expense_claim/${claim.id}/print?template=nope`, {
      'accept-language': 'zh-CN',
    });
    expect(nope.status).toBe(404);
    expect((await nope.json()).error.message).toContain('打印模板');
    const bad = await print('rep_east', `/api/data/expense_claim/${claim.id}/print?format=docx`);
    expect([bad.status, (await bad.json()).error.details[0].path]).toEqual([400, '/query/format']);
    // an entity without a print template
    expect((await print('gm', `/api/data/account/${org.accounts.gm.id}/print`)).status).toBe(404);
    // marketing reads accounts but has no print right on them — use a print template made for accounts
    const deployed = await org.e.call('POST', '/api/meta/deploy', {
      documents: [
        {
          kind: 'template',
          name: 'account_card',
          label: { en: 'Card', 'zh-CN': '卡片' },
          entity: 'account',
          print: true,
          subject: { en: '{{record.name}}', 'zh-CN': '{{record.name}}' },
          body: { en: '<p>{{record.name}}</p>', 'zh-CN': '<p>{{record.name}}</p>' },
        },
      ],
    });
    expect(deployed.status, JSON.stringify(deployed.body)).toBe(201);
    expect((await print('gm', `/api/data/account/${org.accounts.gm.id}/print?format=html`)).status).toBe(200);
    const marketingReads = await org.as('marketing', 'GET', `/api/data/account/${org.accounts.marketing.id}`);
    if (marketingReads.status === 200)
      expect((await print('marketing', `/api/data/account/${org.accounts.marketing.id}/print`)).status).toBe(403);
  });

  it('keeps templates sandboxed: no prototype, constructor, process, file system or network', async () => {
    const escapes = [
      '{{constructor.constructor "return process"}}',
      '{{#with "s"}}{{lookup this "constructor"}}{{/with}}',
      '{{lookup (lookup record "__proto__") "constructor"}}',
      '{{#with record}}{{__proto__.polluted}}{{/with}}',
      '{{record.constructor.name}}',
      '{{#each (lookup record "constructor")}}{{@key}}{{/each}}',
      '{{log "x"}}{{helperMissing}}',
      '{{> partial}}',
    ];
    for (const [i, body] of escapes.entries()) {
      const name = `escape_${i}`;
      const deployed = await org.e.call('POST', '/api/meta/deploy', {
        documents: [
          {
            kind: 'template',
            name,
            label: { en: 'x', 'zh-CN': 'x' },
            entity: 'expense_claim',
            print: true,
            subject: { en: 'x', 'zh-CN': 'x' },
            body: { en: `<p>[${body}]</p>`, 'zh-CN': `<p>[${body}]</p>` },
          },
        ],
      });
      if (deployed.status !== 201) continue; // refused at deploy: fine
      const res = await print('rep_east', `/api/data/expense_claim/${claim.id}/print?format=html&template=${name}`);
      const text = await res.text();
      expect(res.status, `${body}: ${text.slice(0, 300)}`).toBeLessThan(500);
      expect(text, body).not.toMatch(/function|\[object|process|native code|Object\]/);
    }
    expect(({} as any).polluted).toBeUndefined();
  });
});
