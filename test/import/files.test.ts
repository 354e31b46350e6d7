/**
 * File columns from a .zip upload (issue 15): one table plus the files its file columns name by path
 * inside the archive; each named file is checked against its field's limits, stored, and bound to the
 * new record; a missing path is an error of its row (column, value, message), and nothing of a refused
 * row or a dry run stays in the file table. Archives with no table or several, and a file column
 * without an archive, are refused. On PGlite and PostgreSQL.
 */
import { sql } from 'drizzle-orm';
import { zipSync, strToU8 } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers, L, startEngine, type TestEngine } from '../support/engine.js';
import { upload } from './fixtures.js';

const app = [
  {
    kind: 'entity',
    name: 'contract',
    label: L('Contract', '合同'),
    titleField: 'name',
    fields: [
      { name: 'name', type: 'text', label: L('Name', '名称'), required: true, maxLength: 100 },
      { name: 'scan', type: 'file', accept: ['.pdf'], maxSize: 1000, label: L('Scan', '扫描件') },
      { name: 'photos', type: 'file', multiple: true, maxFiles: 2, label: L('Photos', '照片') },
    ],
  },
];

const pdf = (text: string) => strToU8(`%PDF-1.4 ${text}`);

describe.each(drivers)('import of files from a zip on %s', (driver) => {
  let e: TestEngine;
  beforeAll(async () => {
    e = await startEngine(driver);
    const res = await e.call('POST', '/api/meta/deploy', { documents: app });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }, 120_000);
  afterAll(() => e?.stop());

  const run = (body: unknown, lang = 'zh-CN') => e.call('POST', '/api/data/contract/import', body, { 'accept-language': lang });
  const fileRows = async () =>
    e.database.rows<{ name: string; record_id: string | null }>(
      sql`select name, record_id::text as record_id from files.files where entity = 'contract' order by name`,
    );

  it('stores the files a row names, refuses missing, too large and unaccepted ones per row', async () => {
    const csv = [
      'Name,Scan,Photos',
      '甲合同,docs/甲.pdf,img/1.png | img/2.png',
      'Missing,docs/none.pdf,',
      'Big,docs/big.pdf,',
      'Climbing,../evil.pdf,',
      'Wrong type,img/1.png,',
      'Too many,,img/1.png;img/2.png;img/1.png',
    ].join('\r\n');
    const zip = zipSync({
      '合同.csv': strToU8(csv),
      'docs/甲.pdf': pdf('甲'),
      'docs/big.pdf': new Uint8Array(5000), // zeros: a few bytes compressed, over the field's 1000
      'img/1.png': strToU8('png one'),
      'img/2.png': strToU8('png two'),
      '../evil.pdf': pdf('outside'),
    });
    const up = await upload(e, 'contract', zip);
    expect(up.status, JSON.stringify(up.body)).toBe(201);
    expect(up.body.data).toMatchObject({ format: 'csv', archive: { table: '合同.csv' }, header: ['Name', 'Scan', 'Photos'] });
    expect(up.body.data.mapping).toMatchObject({ Scan: 'scan', Photos: 'photos' });

    // a dry run checks everything and leaves no file behind
    const dry = await run({ file: up.body.data.id, dryRun: true });
    expect(dry.body.data.counts).toMatchObject({ rows: 6, create: 1, error: 5 });
    expect(await fileRows()).toEqual([]);

    const res = await run({ file: up.body.data.id, atomic: false });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data.counts).toMatchObject({ rows: 6, create: 1, error: 5 });
    const rows = (
      await e.call('GET', `/api/data/contract/import/${up.body.data.id}/rows?outcome=error`, undefined, {
        'accept-language': 'zh-CN',
      })
    ).body.data;
    const errors = rows.map((r: any) => r.errors[0]);
    expect(errors[0]).toMatchObject({
      column: 'Scan',
      field: 'scan',
      value: 'docs/none.pdf',
      code: 'file_not_in_archive',
      message: '压缩包中没有文件“docs/none.pdf”',
    });
    expect(errors[1]).toMatchObject({ column: 'Scan', value: 'docs/big.pdf', code: 'file_too_large' });
    // an entry whose path climbs out of the archive is never offered
    expect(errors[2]).toMatchObject({ column: 'Scan', value: '../evil.pdf', code: 'file_not_in_archive' });
    expect(errors[3]).toMatchObject({ column: 'Scan', code: 'file_type_not_accepted', message: expect.stringContaining('.pdf') });
    expect(errors[4]).toMatchObject({ column: 'Photos', code: 'too_many_files' });

    const [record] = (await e.call('GET', '/api/data/contract')).body.data;
    expect(record.name).toBe('甲合同');
    expect(record.scan).toEqual([
      { id: expect.any(String), name: '甲.pdf', size: pdf('甲').byteLength, type: 'application/pdf' },
    ]);
    expect(record.photos.map((p: any) => p.name)).toEqual(['1.png', '2.png']);
    const download = await e.app.request(`/api/files/${record.scan[0].id}`, {
      headers: { authorization: `Bearer ${e.admin.token}` },
    });
    expect(download.status).toBe(200);
    expect(new Uint8Array(await download.arrayBuffer())).toEqual(pdf('甲'));
    // only the kept record's files stay, bound to it
    expect(await fileRows()).toEqual([
      { name: '1.png', record_id: record.id },
      { name: '2.png', record_id: record.id },
      { name: '甲.pdf', record_id: record.id },
    ]);
  });

  it('refuses an archive without one table, and a file column without an archive', async () => {
    const none = await upload(e, 'contract', zipSync({ 'a.pdf': pdf('a') }), e.admin.token, 'zh-CN');
    expect([none.status, none.body.error.code, none.body.error.message]).toEqual([
      400,
      'archive_table',
      '压缩包中没有 CSV 或 XLSX 表格',
    ]);
    const two = await upload(e, 'contract', zipSync({ 'a.csv': strToU8('Name\r\nA'), 'b.csv': strToU8('Name\r\nB') }));
    expect([two.status, two.body.error.code]).toEqual([400, 'archive_table']);
    expect(two.body.error.message).toContain('several tables');
    const broken = await upload(e, 'contract', new Uint8Array([0x50, 0x4b, 0x03, 0x04, 1, 2, 3, 4, 5, 6]));
    expect([broken.status, broken.body.error.code]).toEqual([400, 'unreadable_file']);

    const plain = await upload(e, 'contract', 'Name,Scan\r\nPlain,docs/a.pdf\r\n');
    const res = await run({ file: plain.body.data.id }, 'en');
    expect(res.body.data.counts).toMatchObject({ error: 1, create: 0 });
    const rows = (await e.call('GET', `/api/data/contract/import/${plain.body.data.id}/rows`)).body.data;
    expect(rows[0].errors[0]).toMatchObject({ column: 'Scan', value: 'docs/a.pdf', code: 'file_needs_archive' });
  });

  it('refuses a file that inflates past the size its entry declares (a forged or damaged entry)', async () => {
    const zip = zipSync({ 'c.csv': strToU8('Name,Scan\r\nForged,bomb.pdf\r\n'), 'bomb.pdf': new Uint8Array(50_000) });
    // Declare 10 bytes where 50,000 inflate: in the entry's local header (offset 22) and central directory record (24).
    const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
    for (let i = 0; i + 4 <= zip.length; i++) {
      const signature = view.getUint32(i, true);
      const name = (at: number) => new TextDecoder().decode(zip.subarray(at, at + 8));
      if (signature === 0x04034b50 && name(i + 30) === 'bomb.pdf') view.setUint32(i + 22, 10, true);
      if (signature === 0x02014b50 && name(i + 46) === 'bomb.pdf') view.setUint32(i + 24, 10, true);
    }
    const up = await upload(e, 'contract', zip);
    expect(up.status, JSON.stringify(up.body)).toBe(201);
    const res = await run({ file: up.body.data.id, atomic: false });
    expect(res.body.data).toMatchObject({ state: 'done', counts: { error: 1, create: 0 } });
    const rows = (
      await e.call('GET', `/api/data/contract/import/${up.body.data.id}/rows`, undefined, { 'accept-language': 'zh-CN' })
    ).body.data;
    expect(rows[0].errors[0]).toMatchObject({
      column: 'Scan',
      value: 'bomb.pdf',
      code: 'unreadable_file',
      message: '无法从压缩包中读取“bomb.pdf”',
    });
    expect((await fileRows()).filter((f) => f.name === 'bomb.pdf')).toEqual([]);
  });

  it('refuses an archive of more entries than the limit before reading them', async () => {
    const { MAX_ENTRIES } = await import('../../engine/imports/archive.js');
    const entries: Record<string, Uint8Array> = { 't.csv': strToU8('Name\r\nA') };
    for (let i = 0; i < MAX_ENTRIES; i++) entries[`f/${i}`] = new Uint8Array(0);
    const res = await upload(e, 'contract', zipSync(entries, { level: 0 }));
    expect([res.status, res.body.error.code]).toEqual([400, 'archive_too_large']);
  });
});
