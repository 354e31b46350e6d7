/**
 * File fields and attachments on both databases, with the local store (the S3 store, the same interface
 * over @aws-sdk/client-s3, is tested against an S3-compatible server in s3-storage.test.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers } from '../support/engine.js';
import { startOrg, type Org } from '../access/org.js';
import { LocalFileStorage } from '../../engine/files/storage.js';
import { purgeFiles } from '../../engine/files/retention.js';
import { sql } from 'drizzle-orm';

const PDF = Buffer.from('%PDF-1.4\n% test receipt\n');

describe.each(drivers)('files on %s', (driver) => {
  let org: Org;
  let dir: string;
  const upload = (user: Parameters<Org['as']>[0], path: string, bytes: Buffer, type = 'application/pdf') =>
    Promise.resolve(
      org.e.app.request(path, {
        method: 'POST',
        body: new Uint8Array(bytes),
        headers: { authorization: `Bearer ${org.tokens[user]}`, 'content-type': type },
      }),
    ).then(async (r) => ({ status: r.status, body: await r.json() }));
  const fetchFile = (user: Parameters<Org['as']>[0], id: string) =>
    org.e.app.request(`/api/files/${id}`, { headers: { authorization: `Bearer ${org.tokens[user]}` } });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'metacrm-files-test-'));
    org = await startOrg(driver, ['sales', 'finance'], { files: new LocalFileStorage(dir) });
  }, 180_000);
  afterAll(async () => {
    await org?.e.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const claim = async (user: Parameters<Org['as']>[0], extra: Record<string, unknown> = {}) => {
    const res = await org.as(user, 'POST', '/api/data/expense_claim', {
      title: '出差报销',
      expense_type: 'travel',
      amount: 1200,
      receipts: 1,
      expense_date: '2026-11-20',
      ...extra,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.data;
  };

  it('uploads receipts for a file field, binds them on save with the stored name and size, and serves them', async () => {
    const up = await upload(
      'rep_east',
      `/api/files?entity=expense_claim&field=receipt_files&name=${encodeURIComponent('发票 1.pdf')}`,
      PDF,
    );
    expect(up.status, JSON.stringify(up.body)).toBe(201);
    expect(up.body.data).toMatchObject({ name: '发票 1.pdf', size: PDF.length, type: 'application/pdf' });
    // a made-up name and size are replaced by what was stored
    const record = await claim('rep_east', { receipt_files: [{ id: up.body.data.id, name: 'evil.exe', size: 1 }] });
    expect(record.receipt_files).toEqual([up.body.data]);
    const res = await fetchFile('rep_east', up.body.data.id);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(PDF);
    expect(res.headers.get('content-disposition')).toContain(encodeURIComponent('发票 1.pdf'));
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    // another employee may not read the claim, so not its receipts either
    expect((await fetchFile('rep_north', up.body.data.id)).status).toBe(404);
    // finance reads all claims
    expect((await fetchFile('finance', up.body.data.id)).status).toBe(200);
  });

  it('refuses a type or size the field does not accept, a missing name and a non-file field, writing nothing', async () => {
    const html = await upload(
      'rep_east',
      '/api/files?entity=expense_claim&field=receipt_files&name=x.html',
      Buffer.from('<script>'),
      'text/html',
    );
    expect([html.status, html.body.error.code]).toEqual([422, 'file_type_not_accepted']);
    const big = await upload(
      'rep_east',
      '/api/files?entity=expense_claim&field=receipt_files&name=big.pdf',
      Buffer.alloc(10 * 1024 * 1024 + 1),
    );
    expect([big.status, big.body.error.code]).toEqual([413, 'file_too_large']);
    const noName = await upload('rep_east', '/api/files?entity=expense_claim&field=receipt_files', PDF);
    expect([noName.status, noName.body.error.code]).toEqual([400, 'file_name_required']);
    const notFile = await upload('rep_east', '/api/files?entity=expense_claim&field=title&name=a.pdf', PDF);
    expect([notFile.status, notFile.body.error.code]).toEqual([400, 'not_a_file_field']);
    const zh = await org.e.app.request('/api/files?entity=expense_claim&field=receipt_files&name=a.exe', {
      method: 'POST',
      body: PDF,
      headers: {
        authorization: `Bearer ${org.tokens.rep_east}`,
        'content-type': 'application/x-msdownload',
        'accept-language': 'zh-CN',
      },
    });
    expect((await zh.json()).error.message).toContain('只接受');
    // a field the role may not write (accountant-only fields are not in the employee's write list)
    const account = await upload('marketing', '/api/files?entity=contract&field=scan&name=a.pdf', PDF);
    expect(account.status).toBe(403);
  });

  it("refuses naming someone else's file, an unknown id, or a file of another field", async () => {
    const mine = await upload('rep_east', '/api/files?entity=expense_claim&field=receipt_files&name=a.pdf', PDF);
    const used = await claim('rep_east', { receipt_files: [{ id: mine.body.data.id }] });
    // bound to that claim: another claim can't take it
    const res = await org.as('rep_east', 'POST', '/api/data/expense_claim', {
      title: 'x',
      expense_type: used.expense_type,
      amount: 1,
      expense_date: '2026-11-20',
      receipt_files: [{ id: mine.body.data.id }],
    });
    expect([res.status, res.body.error.details[0].path]).toEqual([422, '/receipt_files']);
    const unknown = await org.as('rep_east', 'PATCH', `/api/data/expense_claim/${used.id}`, {
      version: used.version,
      receipt_files: [{ id: '0190a4c2-0000-7000-8000-000000000000' }],
    });
    expect(unknown.status).toBe(422);
    const bad = await org.as('rep_east', 'PATCH', `/api/data/expense_claim/${used.id}`, {
      version: used.version,
      receipt_files: [{ id: 'nope' }],
    });
    expect(bad.status).toBe(422);
    // a pending upload is the uploader's alone
    const pending = await upload('rep_east', '/api/files?entity=expense_claim&field=receipt_files&name=p.pdf', PDF);
    expect((await fetchFile('rep_north', pending.body.data.id)).status).toBe(404);
    expect((await fetchFile('rep_east', pending.body.data.id)).status).toBe(200);
    expect((await fetchFile('rep_east', 'not-a-uuid')).status).toBe(404);
  });

  it('keeps the files of a deleted record, and restoring the record brings them back', async () => {
    const up = await upload('rep_east', '/api/files?entity=expense_claim&field=receipt_files&name=r.pdf', PDF);
    const record = await claim('rep_east', { receipt_files: [{ id: up.body.data.id }] });
    expect((await org.as('rep_east', 'DELETE', `/api/data/expense_claim/${record.id}`)).status).toBe(200);
    expect((await fetchFile('rep_east', up.body.data.id)).status).toBe(200);
    const restored = await org.as('rep_east', 'POST', `/api/data/expense_claim/${record.id}/restore`);
    expect(restored.status, JSON.stringify(restored.body)).toBe(200);
    const again = await org.as('rep_east', 'GET', `/api/data/expense_claim/${record.id}`);
    expect(again.body.data.receipt_files).toEqual([up.body.data]);
  });

  it('attaches any file to any record with its update right, lists and removes attachments', async () => {
    const account = org.accounts.rep_east;
    const added = await upload(
      'rep_east',
      `/api/data/account/${account.id}/attachments?name=${encodeURIComponent('营业执照.png')}`,
      PDF,
      'image/png',
    );
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    const list = await org.as('rep_east', 'GET', `/api/data/account/${account.id}/attachments`);
    expect(list.body.data.map((f: any) => f.name)).toEqual(['营业执照.png']);
    // rep_north can't read rep_east's account: 404 for the list and the file
    expect((await org.as('rep_north', 'GET', `/api/data/account/${account.id}/attachments`)).status).toBe(404);
    expect((await fetchFile('rep_north', added.body.data.id)).status).toBe(404);
    // service staff read all accounts but may not change them
    expect((await org.as('service', 'GET', `/api/data/account/${account.id}/attachments`)).status).toBe(200);
    expect((await upload('service', `/api/data/account/${account.id}/attachments?name=x.pdf`, PDF)).status).toBe(403);
    expect((await org.as('service', 'DELETE', `/api/data/account/${account.id}/attachments/${added.body.data.id}`)).status).toBe(
      403,
    );
    expect((await org.as('rep_east', 'DELETE', `/api/data/account/${account.id}/attachments/${added.body.data.id}`)).status).toBe(
      204,
    );
    expect((await org.as('rep_east', 'GET', `/api/data/account/${account.id}/attachments`)).body.data).toEqual([]);
    expect((await fetchFile('rep_east', added.body.data.id)).status).toBe(404);
    expect((await upload('rep_east', `/api/data/account/${account.id}/attachments?name=empty.txt`, Buffer.alloc(0))).status).toBe(
      400,
    );
  });

  it('purges removed attachments after 30 days and uploads no record took after a day, bytes and rows; keeps the rest', async () => {
    const store = new LocalFileStorage(dir);
    const day = 86_400_000;
    const account = org.accounts.rep_east;
    const attach = async (name: string) =>
      (await upload('rep_east', `/api/data/account/${account.id}/attachments?name=${name}`, PDF)).body.data.id as string;
    const removed = await attach('removed.pdf');
    const kept = await attach('kept.pdf');
    expect((await org.as('rep_east', 'DELETE', `/api/data/account/${account.id}/attachments/${removed}`)).status).toBe(204);
    const unbound = (await upload('rep_east', '/api/files?entity=expense_claim&field=receipt_files&name=never-saved.pdf', PDF)).body
      .data.id as string;
    // A file field's earlier file (the history and revert name it) and the files of a binned record stay.
    const first = (await upload('rep_east', '/api/files?entity=expense_claim&field=receipt_files&name=v1.pdf', PDF)).body.data.id;
    const second = (await upload('rep_east', '/api/files?entity=expense_claim&field=receipt_files&name=v2.pdf', PDF)).body.data.id;
    const record = await claim('rep_east', { receipt_files: [{ id: first }] });
    const changed = await org.as('rep_east', 'PATCH', `/api/data/expense_claim/${record.id}`, {
      receipt_files: [{ id: second }],
      version: record.version,
    });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    const binnedFile = (await upload('rep_east', '/api/files?entity=expense_claim&field=receipt_files&name=binned.pdf', PDF)).body.data
      .id;
    const binned = await claim('rep_east', { receipt_files: [{ id: binnedFile }] });
    expect((await org.as('rep_east', 'DELETE', `/api/data/expense_claim/${binned.id}`)).status).toBe(200);
    const exists = (id: string) => store.get(id).then(() => true, () => false);
    const rows = async () =>
      new Set((await org.e.database.rows<{ id: string }>(sql`select id::text from files.files`)).map((r) => r.id));

    // Within their grace periods nothing goes.
    expect(await purgeFiles(org.e.database, store, {}, new Date(Date.now() + 0.5 * day))).toBe(0);
    expect(await exists(unbound)).toBe(true);
    // After a day the upload no record took goes; the removed attachment waits its 30 days.
    expect(await purgeFiles(org.e.database, store, {}, new Date(Date.now() + 2 * day))).toBeGreaterThanOrEqual(1);
    expect([await exists(unbound), (await rows()).has(unbound)]).toEqual([false, false]);
    expect([await exists(removed), (await rows()).has(removed)]).toEqual([true, true]);
    expect(await purgeFiles(org.e.database, store, {}, new Date(Date.now() + 31 * day))).toBeGreaterThanOrEqual(1);
    expect([await exists(removed), (await rows()).has(removed)]).toEqual([false, false]);
    const left = await rows();
    for (const id of [kept, first, second, binnedFile]) expect([id, await exists(id), left.has(id)]).toEqual([id, true, true]);
    expect((await fetchFile('rep_east', kept)).status).toBe(200);
    // The engine runs it every night.
    const [schedule] = await org.e.database.rows<{ cron: string; timezone: string }>(
      sql`select cron, timezone from jobs.schedule where name = 'file-retention'`,
    );
    expect(schedule).toEqual({ cron: '40 3 * * *', timezone: 'Asia/Shanghai' });
  });
});
