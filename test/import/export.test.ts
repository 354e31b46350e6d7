/** Export (issue 15): labels as headers, picklist labels, reference titles, typed XLSX, filter/sort/fields, rights. */
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers, q, startEngine, type TestEngine } from '../support/engine.js';
import { importApp } from './fixtures.js';

describe.each(drivers)('export on %s', (driver) => {
  let e: TestEngine;
  let clerk: string;
  beforeAll(async () => {
    e = await startEngine(driver);
    expect((await e.call('POST', '/api/meta/deploy', { documents: importApp() })).status).toBe(201);
    const c = await e.createUser({ username: 'clerk', display_name: 'Clerk', roles: ['clerk'], password: 'clerk password 123' });
    clerk = await e.login('clerk', c.password);
    const co = await e.call('POST', '/api/data/company', [
      { name: '华东机械', industry: 'manufacturing', founded: '2026-11-27', revenue: 1200.5, listed: true },
      { name: 'Beta', industry: 'it', revenue: 3 },
    ]);
    await e.call('POST', '/api/data/person', { name: '张三', company: co.body.data[0].id });
  }, 120_000);
  afterAll(() => e?.stop());

  it('writes CSV with labels, picklist labels and reference titles in the caller language, filtered and sorted', async () => {
    const res = await e.call('GET', `/api/data/company/export?fields=name,industry,revenue,owner_id&sort=-revenue`, undefined, {
      'accept-language': 'zh-CN',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toContain("filename*=UTF-8''%E5%85%AC%E5%8F%B8.csv");
    expect(
      String(res.body)
        .replace(/^\uFEFF/, '')
        .trim()
        .split('\r\n'),
    ).toEqual(['公司名称,行业,营收,负责人', '华东机械,制造业,1200.5,Administrator', 'Beta,信息技术,3,Administrator']);
    const people = await e.call('GET', `/api/data/person/export?fields=name,company&ids=true`);
    const [header, row] = String(people.body)
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\r\n');
    expect(header).toBe('ID,Name,Company,Company (ID)');
    expect(row).toMatch(/^[0-9a-f-]{36},张三,华东机械,[0-9a-f-]{36}$/);
    const filtered = await e.call(
      'GET',
      `/api/data/company/export?fields=name&filter=${q({ '==': [{ var: 'industry' }, 'it'] })}`,
    );
    expect(String(filtered.body).trim().split('\r\n')).toHaveLength(2);
  });

  it('writes XLSX with typed numbers and dates', async () => {
    const res = await e.app.request('/api/data/company/export?format=xlsx&fields=name,founded,revenue,listed&sort=name', {
      headers: { authorization: `Bearer ${e.admin.token}` },
    });
    expect(res.headers.get('content-type')).toContain('spreadsheetml');
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(Buffer.from(await res.arrayBuffer()) as never);
    const sheet = book.worksheets[0]!;
    expect(sheet.getRow(1).values).toEqual([undefined, 'Company name', 'Founded', 'Revenue', 'Listed']);
    const row = sheet.getRow(3);
    expect(row.getCell(1).value).toBe('华东机械');
    expect(row.getCell(2).value).toEqual(new Date('2026-11-27T00:00:00Z'));
    expect(row.getCell(3).value).toBe(1200.5);
    expect(row.getCell(4).value).toBe(true);
  });

  it('refuses without the export right, unreadable fields and bad parameters', async () => {
    expect((await e.call('GET', '/api/data/company/export?format=pdf')).status).toBe(400);
    expect((await e.call('GET', '/api/data/company/export?limit=5')).status).toBe(400);
    expect((await e.callAs(clerk, 'GET', '/api/data/person/export')).status).toBe(403);
  });
});
