/**
 * Import through the API (issue 15): encodings, XLSX, mapping, match rules, dry run, error file,
 * permissions, undo, wrong input — on PGlite and PostgreSQL.
 */
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers, startEngine, type TestEngine } from '../support/engine.js';
import { importApp, upload } from './fixtures.js';

/** GB18030 bytes of a text, as Excel on Chinese Windows saves a CSV (encoded by the test with a real encoder). */
async function gbk(text: string): Promise<Uint8Array> {
  const iconv = (await import('iconv-lite')).default;
  return iconv.encode(text, 'gb18030');
}

describe.each(drivers)('import on %s', (driver) => {
  let e: TestEngine;
  let importer: string;
  let clerk: string;
  beforeAll(async () => {
    e = await startEngine(driver);
    const res = await e.call('POST', '/api/meta/deploy', { documents: importApp() });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const u = await e.createUser({
      username: 'imp',
      display_name: '导入员',
      roles: ['importer'],
      password: 'importer password 1',
    });
    importer = await e.login('imp', u.password);
    const c = await e.createUser({ username: 'clerk', display_name: 'Clerk', roles: ['clerk'], password: 'clerk password 123' });
    clerk = await e.login('clerk', c.password);
  }, 120_000);
  afterAll(() => e?.stop());

  const send = (entity: string, bytes: Uint8Array | string, token = importer, lang = 'en') =>
    upload(e, entity, bytes, token, lang);
  const run = (entity: string, body: unknown, token = importer, lang = 'en') =>
    e.callAs(token, 'POST', `/api/data/${entity}/import`, body, { 'accept-language': lang });

  it('imports a Chinese-Excel (GB18030) CSV with labels as headers, dictionary labels, Chinese dates', async () => {
    const csv =
      '公司名称,信用代码,行业,成立日期,营收,上市\r\n华东机械,91310000MA1K000001,制造业,2026年11月27日,"1,200.50",是\r\n北方软件,,信息技术,2026/3/5,￥300,否\r\n';
    const up = await send('company', await gbk(csv), importer, 'zh-CN');
    expect(up.status, JSON.stringify(up.body)).toBe(201);
    expect(up.body.data).toMatchObject({
      format: 'csv',
      encoding: 'gb18030',
      header: ['公司名称', '信用代码', '行业', '成立日期', '营收', '上市'],
    });
    expect(up.body.data.mapping).toEqual({
      公司名称: 'name',
      信用代码: 'credit_code',
      行业: 'industry',
      成立日期: 'founded',
      营收: 'revenue',
      上市: 'listed',
    });
    const dry = await run('company', { file: up.body.data.id, dryRun: true });
    expect(dry.status, JSON.stringify(dry.body)).toBe(200);
    expect(dry.body.data).toMatchObject({
      state: 'done',
      dryRun: true,
      committed: false,
      counts: { rows: 2, create: 2, error: 0 },
    });
    expect((await e.call('GET', '/api/data/company?count=true')).body.total).toBe(0);
    const done = await run('company', { file: up.body.data.id });
    expect(done.body.data).toMatchObject({ state: 'done', committed: true, counts: { create: 2 } });
    const list = (await e.call('GET', '/api/data/company?sort=name')).body.data;
    const east = list.find((r: any) => r.name === '华东机械');
    expect(east).toMatchObject({
      industry: 'manufacturing',
      founded: '2026-11-27',
      revenue: 1200.5,
      listed: true,
      double: 2401,
      no: expect.stringMatching(/^C-\d{6}$/),
    });
    expect(list.find((r: any) => r.name === '北方软件')).toMatchObject({
      industry: 'it',
      founded: '2026-03-05',
      revenue: 300,
      listed: false,
    });
    // audited as the importer
    const history = await e.call('GET', `/api/data/company/${east.id}/history`);
    expect(history.body.data[0]).toMatchObject({ action: 'create' });
  });

  it('reads UTF-8 with a BOM, and XLSX with typed cells and Excel serial dates', async () => {
    const bom = await send('company', '\uFEFFCompany name,Credit code,Industry\r\nBom Ltd,,it\r\n', importer);
    expect(bom.body.data).toMatchObject({ encoding: 'utf-8', header: ['Company name', 'Credit code', 'Industry'] });
    const bomRun = await run('company', { file: bom.body.data.id });
    expect(bomRun.body.data?.counts, JSON.stringify(bomRun.body)).toMatchObject({ create: 1 });
    const book = new ExcelJS.Workbook();
    book.addWorksheet('Notes').addRow(['nothing here']);
    const sheet = book.addWorksheet('公司');
    sheet.addRow(['公司名称', '成立日期', '营收', '上市']);
    sheet.addRow(['Excel 公司', new Date(Date.UTC(2025, 0, 2)), 5000, true]);
    sheet.addRow(['Serial 公司', 46000, '7,000', 'FALSE']);
    const bytes = new Uint8Array(await book.xlsx.writeBuffer());
    const up = await send('company', bytes, importer);
    expect(up.status, JSON.stringify(up.body)).toBe(201);
    expect(up.body.data).toMatchObject({ format: 'xlsx', sheets: ['Notes', '公司'] });
    const res = await run('company', {
      file: up.body.data.id,
      sheet: '公司',
      mapping: { 公司名称: 'name', 成立日期: 'founded', 营收: 'revenue', 上市: 'listed' },
    });
    expect(res.body.data.counts, JSON.stringify(res.body)).toMatchObject({ create: 2, error: 0 });
    const rows = (
      await e.call(
        'GET',
        `/api/data/company?filter=${encodeURIComponent(JSON.stringify({ in: [{ var: 'name' }, ['Excel 公司', 'Serial 公司']] }))}&sort=name`,
      )
    ).body.data;
    expect(rows.map((r: any) => [r.name, r.founded, r.revenue, r.listed])).toEqual([
      ['Excel 公司', '2025-01-02', 5000, true],
      ['Serial 公司', '2025-12-09', 7000, false],
    ]);
  });

  it('matches by the entity rules: credit code first, else name; overwrites only the allowed fields', async () => {
    const csv =
      '公司名称,信用代码,行业,营收,机密\r\n改名机械,91310000MA1K000001,信息技术,999,\r\n北方软件,,制造业,1,\r\n新公司,,信息技术,5,\r\n';
    const up = await send('company', csv);
    const insertOnly = await run('company', { file: up.body.data.id, mode: 'insert', dryRun: true });
    expect(insertOnly.body.data?.counts, JSON.stringify(insertOnly.body)).toMatchObject({ create: 1, skip: 2 });
    const res = await run('company', { file: up.body.data.id });
    expect(res.body.data.counts, JSON.stringify(res.body)).toMatchObject({ update: 2, create: 1, error: 0 });
    const byCode = (
      await e.call(
        'GET',
        `/api/data/company?filter=${encodeURIComponent(JSON.stringify({ '==': [{ var: 'credit_code' }, '91310000MA1K000001'] }))}`,
      )
    ).body.data[0];
    // name is not in overwrite: matched by code, the name stays; industry and revenue change
    expect(byCode).toMatchObject({ name: '华东机械', industry: 'it', revenue: 999, double: 1998 });
    const update = await run('company', { file: (await send('company', csv)).body.data.id, mode: 'update' });
    expect(update.body.data.counts).toMatchObject({ skip: 3 }); // nothing to change, and no match for the rest... (新公司 exists now)
  });

  it('reports row errors with column, value and message; all or nothing; error file keeps the columns', async () => {
    const csv =
      'Company name,Industry,Founded,Revenue\r\nGood One,it,2026-01-01,10\r\nBad Co,it,,\r\nThird,Farming,2026-02-30,abc\r\nGood Two,,,\r\nGood One,it,,\r\n';
    const up = await send('company', csv);
    const res = await run('company', { file: up.body.data.id }, importer, 'zh-CN');
    expect(res.body.data).toMatchObject({ committed: false, counts: { rows: 5, error: 3, create: 2 } });
    expect(
      (
        await e.call(
          'GET',
          `/api/data/company?filter=${encodeURIComponent(JSON.stringify({ '==': [{ var: 'name' }, 'Good Two'] }))}`,
        )
      ).body.data,
    ).toEqual([]);
    const rows = await e.callAs(importer, 'GET', `/api/data/company/import/${up.body.data.id}/rows?outcome=error`);
    expect(rows.body.data.map((r: any) => r.line)).toEqual([3, 4, 6]);
    const third = rows.body.data[1].errors;
    expect(third).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          column: 'Industry',
          value: 'Farming',
          code: 'invalid_value',
          message: expect.stringContaining('不是可选值之一'),
        }),
        expect.objectContaining({ column: 'Founded', value: '2026-02-30', message: '不是有效的日期' }),
        expect.objectContaining({ column: 'Revenue', value: 'abc', message: '必须是数字' }),
      ]),
    );
    expect(rows.body.data[0].errors[0]).toMatchObject({
      code: 'no_test_names'.length ? expect.any(String) : '',
      message: '不允许',
    });
    expect(rows.body.data[2].errors[0]).toMatchObject({ code: 'duplicate_in_file', message: expect.stringContaining('第 2 行') });
    const file = await e.callAs(importer, 'GET', `/api/data/company/import/${up.body.data.id}/errors`, undefined, {
      'accept-language': 'zh-CN',
    });
    expect(file.status).toBe(200);
    const lines = String(file.body)
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\r\n');
    expect(lines[0]).toBe('Company name,Industry,Founded,Revenue,错误信息');
    expect(lines.slice(1).map((l) => l.split(',').slice(0, 4).join(','))).toEqual([
      'Bad Co,it,,',
      'Third,Farming,2026-02-30,abc',
      'Good One,it,,',
    ]);
    // commit the good rows
    const good = await run('company', { file: up.body.data.id, atomic: false });
    expect(good.body.data).toMatchObject({ committed: true, counts: { create: 2, error: 3 } });
  });

  it('gives the error file of an XLSX upload as XLSX (or CSV when asked), with the refused rows and what is wrong', async () => {
    const book = new ExcelJS.Workbook();
    const sheet = book.addWorksheet('客户');
    sheet.addRow(['公司名称', '营收']);
    sheet.addRow(['好公司', 100]);
    sheet.addRow(['坏公司', 'abc']);
    const up = await send('company', new Uint8Array(await book.xlsx.writeBuffer()), importer);
    const res = await run(
      'company',
      { file: up.body.data.id, mapping: { 公司名称: 'name', 营收: 'revenue' } },
      importer,
      'zh-CN',
    );
    expect(res.body.data.counts).toMatchObject({ rows: 2, error: 1 });
    const path = `/api/data/company/import/${up.body.data.id}/errors`;
    const file = await e.app.request(path, { headers: { authorization: `Bearer ${importer}`, 'accept-language': 'zh-CN' } });
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    expect(file.headers.get('content-disposition')).toContain('.xlsx');
    const read = new ExcelJS.Workbook();
    await read.xlsx.load(Buffer.from(await file.arrayBuffer()) as never);
    const values = read.worksheets[0]!.getSheetValues()
      .slice(1)
      .map((r: any) => r.slice(1));
    expect(values.length).toBe(2);
    expect(values[0]).toEqual(['公司名称', '营收', '错误信息']);
    expect(values[1].slice(0, 2)).toEqual(['坏公司', 'abc']);
    expect(String(values[1][2])).toContain('营收');
    const csv = await e.callAs(importer, 'GET', `${path}?format=csv`);
    expect(
      String(csv.body)
        .replace(/^\uFEFF/, '')
        .split('\r\n')[1],
    ).toContain('坏公司,abc');
    const bad = await e.callAs(importer, 'GET', `${path}?format=pdf`);
    expect([bad.status, bad.body.error.details[0].path]).toEqual([400, '/query/format']);
  });

  it('marks an import whose process died as failed, and removes uploads a week after their last run', async () => {
    const { sql } = await import('drizzle-orm');
    const { existsSync } = await import('node:fs');
    const csv = 'Company name\r\nHousekeeping Co\r\n';
    // A run lost with its process: "running" for an hour, no job in the queue.
    const lostUp = await send('company', csv, importer, 'zh-CN');
    const lostId = lostUp.body.data.id;
    await e.database.db.execute(sql`update imports.imports set state = 'running', options = '{"lang": "zh-CN"}'::jsonb,
      started_at = now() - interval '1 hour' where id = ${lostId}`);
    // A run that is still young is left alone: it may be running in a request right now.
    const youngUp = await send('company', csv);
    await e.database.db.execute(
      sql`update imports.imports set state = 'running', started_at = now() where id = ${youngUp.body.data.id}`,
    );
    // A finished import, last run eight days ago, and one run yesterday.
    const oldUp = await send('company', csv);
    const oldId = oldUp.body.data.id;
    expect((await run('company', { file: oldId, dryRun: true })).status).toBe(200);
    await e.database.db.execute(sql`update imports.imports set finished_at = now() - interval '8 days' where id = ${oldId}`);
    const recentUp = await send('company', csv);
    expect((await run('company', { file: recentUp.body.data.id, dryRun: true })).status).toBe(200);
    const pathOf = async (id: string) =>
      (await e.database.rows<{ file_path: string }>(sql`select file_path from imports.imports where id = ${id}`))[0]!.file_path;
    const [oldPath, recentPath] = [await pathOf(oldId), await pathOf(recentUp.body.data.id)];
    expect([existsSync(oldPath), existsSync(recentPath)]).toEqual([true, true]);

    const swept = await e.imports.housekeeping();
    expect(swept.lost).toBe(1);
    const lost = await e.callAs(importer, 'GET', `/api/data/company/import/${lostId}`, undefined, { 'accept-language': 'zh-CN' });
    expect([lost.body.data.state, lost.body.data.error.code]).toEqual(['failed', 'import_interrupted']);
    expect(lost.body.data.error.message).toContain('中断');
    expect((await e.callAs(importer, 'GET', `/api/data/company/import/${youngUp.body.data.id}`)).body.data.state).toBe('running');
    expect([existsSync(oldPath), existsSync(recentPath)]).toEqual([false, true]);
    // The removed file can be neither run again nor give an error file: upload it again.
    const again = await run('company', { file: oldId }, importer, 'zh-CN');
    expect([again.status, again.body.error.code]).toEqual([410, 'import_file_removed']);
    expect(again.body.error.message).toContain('重新上传');
    expect((await e.callAs(importer, 'GET', `/api/data/company/import/${oldId}/errors`)).status).toBe(410);
    // Housekeeping twice changes nothing more.
    await e.database.db.execute(sql`update imports.imports set state = 'failed' where id = ${youngUp.body.data.id}`);
    expect(await e.imports.housekeeping()).toEqual({ lost: 0, removed: 0 });
  });

  it('refuses without the import right, fields without write right, bad mapping, bad files', async () => {
    const csv = 'Company name,Secret\r\nX,y\r\n';
    const denied = await send('company', csv, clerk);
    expect([denied.status, denied.body.error.code]).toEqual([403, 'forbidden']);
    const up = await send('company', csv);
    const secret = await run('company', { file: up.body.data.id, mapping: { 'Company name': 'name', Secret: 'secret' } });
    expect([secret.status, secret.body.error.code, secret.body.error.details[0].path]).toEqual([
      403,
      'field_not_writable',
      '/mapping/Secret',
    ]);
    const unknown = await run('company', { file: up.body.data.id, mapping: { Nope: 'name', Secret: 'nofield' } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details.map((d: any) => d.code)).toEqual(['unknown_column', 'unknown_field']);
    const computed = await run('company', { file: up.body.data.id, mapping: { Secret: 'double' } });
    expect(computed.body.error.details[0].code).toBe('computed_field');
    expect((await send('company', '')).body.error.code).toBe('empty_file');
    expect((await send('company', new Uint8Array([0x50, 0x4b, 0x03, 0x04, 1, 2, 3]))).status).toBe(400);
    expect((await send('company', new Uint8Array([0xd0, 0xcf, 0x11, 0xe0, 0, 0]))).body.error.code).toBe('unreadable_file');
    expect((await run('company', { file: 'nope' })).status).toBe(404);
    expect((await run('company', {})).status).toBe(400);
    expect((await run('company', { file: up.body.data.id, mode: 'merge' })).status).toBe(400);
    // someone else's upload is not found
    expect((await e.call('GET', `/api/data/company/import/${up.body.data.id}`)).status).toBe(404);
  });

  it('resolves references by a unique field or title, and matches people by mobile', async () => {
    const csv = '姓名,手机,公司\r\n张三,13800000001,华东机械\r\n李四,13800000002,No Such Co\r\n';
    const up = await send('person', csv);
    const res = await run('person', { file: up.body.data.id, atomic: false });
    expect(res.body.data.counts).toMatchObject({ create: 1, error: 1 });
    const err = (await e.callAs(importer, 'GET', `/api/data/person/import/${up.body.data.id}/rows`)).body.data[0];
    expect(err.errors[0]).toMatchObject({ column: '公司', value: 'No Such Co', code: 'invalid_reference' });
    const again = await send('person', '姓名,手机\r\n张三丰,13800000001\r\n', importer);
    const upd = await run('person', { file: again.body.data.id, mode: 'upsert' });
    expect(upd.body.data.counts).toMatchObject({ update: 1 });
  });

  it('saves mapping templates and uses them', async () => {
    const saved = await e.callAs(importer, 'POST', '/api/data/company/import/mappings', {
      name: '财务表',
      mapping: { 名称: 'name' },
    });
    expect(saved.status).toBe(201);
    const up = await send('company', '名称\r\n模板公司\r\n');
    expect(up.body.data.templates.map((t: any) => t.name)).toContain('财务表');
    const res = await run('company', { file: up.body.data.id, template: '财务表' });
    expect(res.body.data.counts).toMatchObject({ create: 1 });
    expect((await e.callAs(importer, 'POST', '/api/data/company/import/mappings', { name: '' })).status).toBe(400);
  });

  it('undoes an import while its records are unchanged, and refuses once one changed', async () => {
    const up = await send('company', 'Company name,Revenue\r\nUndo A,1\r\nUndo B,2\r\n');
    const done = await run('company', { file: up.body.data.id });
    expect(done.body.data.counts.create).toBe(2);
    const undo = await e.callAs(importer, 'POST', `/api/data/company/import/${up.body.data.id}/undo`);
    expect(undo.status, JSON.stringify(undo.body)).toBe(200);
    expect(undo.body.data.state).toBe('undone');
    const left = await e.call(
      'GET',
      `/api/data/company?filter=${encodeURIComponent(JSON.stringify({ in: [{ var: 'name' }, ['Undo A', 'Undo B']] }))}`,
    );
    expect(left.body.data).toEqual([]);

    const up2 = await send('company', 'Company name,Revenue\r\nUndo C,1\r\n');
    await run('company', { file: up2.body.data.id });
    const c = (
      await e.call('GET', `/api/data/company?filter=${encodeURIComponent(JSON.stringify({ '==': [{ var: 'name' }, 'Undo C'] }))}`)
    ).body.data[0];
    await e.call('PATCH', `/api/data/company/${c.id}`, { revenue: 50, version: c.version });
    const refused = await e.callAs(importer, 'POST', `/api/data/company/import/${up2.body.data.id}/undo`);
    expect([refused.status, refused.body.error.code]).toEqual([409, 'changed_since_import']);
  });

  it('runs a queued import as a job with progress and a result', async () => {
    const lines = ['Company name,Revenue'];
    for (let i = 0; i < 3000; i++) lines.push(`Job ${i},${i}`);
    const up = await send('company', lines.join('\n'));
    const res = await run('company', { file: up.body.data.id, async: true });
    expect(res.status).toBe(202);
    let state = res.body.data;
    for (let i = 0; i < 120 && state.state !== 'done' && state.state !== 'failed'; i++) {
      await new Promise((r) => setTimeout(r, 250));
      state = (await e.callAs(importer, 'GET', `/api/data/company/import/${up.body.data.id}`)).body.data;
    }
    expect(state).toMatchObject({ state: 'done', progress: 1, committed: true, counts: { rows: 3000, create: 3000 } });
  }, 60_000);
});
