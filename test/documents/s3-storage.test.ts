/**
 * The S3 file storage (engine/files/storage.ts) against a real S3-compatible server: s3rver, an S3 API
 * in Node that keeps objects in a folder, started by the test on a free port. Bytes are stored, read and
 * deleted through the storage itself, then through the engine: an attachment uploaded and downloaded,
 * and an import from a .zip whose refused row's file is removed from the bucket again.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strToU8, zipSync } from 'fflate';
import S3rver from 's3rver';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3FileStorage, storageFromEnv } from '../../engine/files/storage.js';
import { uuidv7 } from '../../engine/model/ids.js';
import { drivers, L, startEngine, type TestEngine } from '../support/engine.js';
import { upload } from '../import/fixtures.js';

const BUCKET = 'crm-files';
let server: S3rver;
let dir: string;
let endpoint: string;
const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'metacrm-s3rver-'));
  server = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory: dir,
    configureBuckets: [{ name: BUCKET, configs: [] }],
  });
  const { port } = await server.run();
  endpoint = `http://127.0.0.1:${port}`;
  // s3rver's fixed credentials, through the SDK's usual chain (as a deployment sets them).
  process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
  process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
});
afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
  for (const [key, value] of [
    ['AWS_ACCESS_KEY_ID', saved.id],
    ['AWS_SECRET_ACCESS_KEY', saved.secret],
  ] as const)
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
});

/** The bucket's keys, read with a client of the test's own (not the storage under test). */
async function keys(prefix = '') {
  const client = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true });
  const res = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return (res.Contents ?? []).map((o) => o.Key!).sort();
}

describe('S3 file storage against s3rver', () => {
  it('stores, reads and deletes bytes under the prefix, and refuses keys that are not file ids', async () => {
    const storage = storageFromEnv(
      { FILE_STORAGE: 's3', S3_BUCKET: BUCKET, S3_ENDPOINT: endpoint, S3_FORCE_PATH_STYLE: '1', S3_PREFIX: 'tenant-a/' },
      '/nowhere',
    );
    expect(storage.kind).toBe('s3');
    const id = uuidv7();
    const bytes = strToU8('%PDF-1.4 合同 contract');
    await storage.put(id, bytes, 'application/pdf');
    expect(await keys()).toEqual([`tenant-a/${id}`]);
    const object = await new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true }).send(
      new GetObjectCommand({ Bucket: BUCKET, Key: `tenant-a/${id}` }),
    );
    expect(object.ContentType).toBe('application/pdf');
    expect(new Uint8Array(await storage.get(id))).toEqual(bytes);
    await storage.delete(id);
    expect(await keys()).toEqual([]);
    await expect(storage.get(id)).rejects.toMatchObject({ name: 'NoSuchKey' });
    await expect(storage.put('../escape', bytes, 'text/plain')).rejects.toThrow(/Refusing storage key/);
  });
});

describe.each(drivers)('the engine on S3 storage (%s)', (driver) => {
  let e: TestEngine;
  const prefix = `${driver}/`;
  beforeAll(async () => {
    const files = new S3FileStorage({ bucket: BUCKET, endpoint, forcePathStyle: true, prefix });
    e = await startEngine(driver, { files });
    const deployed = await e.call('POST', '/api/meta/deploy', {
      documents: [
        {
          kind: 'entity',
          name: 'deal',
          label: L('Deal', '交易'),
          titleField: 'name',
          fields: [
            { name: 'name', type: 'text', label: L('Name', '名称'), required: true, maxLength: 100 },
            { name: 'scan', type: 'file', label: L('Scan', '扫描件') },
          ],
        },
      ],
    });
    expect(deployed.status, JSON.stringify(deployed.body)).toBe(201);
  }, 120_000);
  afterAll(() => e?.stop());

  it('keeps an attachment in the bucket and serves it back', async () => {
    const deal = (await e.call('POST', '/api/data/deal', { name: 'Attachment deal' })).body.data;
    const bytes = strToU8('minutes of the meeting 会议纪要');
    const res = await e.app.request(`/api/data/deal/${deal.id}/attachments?name=${encodeURIComponent('纪要.txt')}`, {
      method: 'POST',
      body: bytes,
      headers: { authorization: `Bearer ${e.admin.token}`, 'content-type': 'text/plain' },
    });
    expect(res.status).toBe(201);
    const file = ((await res.json()) as { data: { id: string } }).data;
    expect(await keys(prefix)).toContain(`${prefix}${file.id}`);
    const download = await e.app.request(`/api/files/${file.id}`, { headers: { authorization: `Bearer ${e.admin.token}` } });
    expect(download.status).toBe(200);
    expect(new Uint8Array(await download.arrayBuffer())).toEqual(bytes);
  });

  it('stores the files of an import in the bucket and removes those of refused rows', async () => {
    const before = await keys(prefix);
    const csv = 'Name,Scan\r\nKept,a.pdf\r\n,b.pdf\r\n'; // the second row has no name: refused after its file was stored
    const up = await upload(e, 'deal', zipSync({ 'deals.csv': strToU8(csv), 'a.pdf': strToU8('A'), 'b.pdf': strToU8('B') }));
    expect(up.status, JSON.stringify(up.body)).toBe(201);
    const res = await e.call('POST', '/api/data/deal/import', { file: up.body.data.id, atomic: false });
    expect(res.body.data.counts).toMatchObject({ create: 1, error: 1 });
    const kept = (await e.call('GET', '/api/data/deal?sort=name')).body.data.find((d: any) => d.name === 'Kept');
    const added = (await keys(prefix)).filter((k) => !before.includes(k));
    expect(added).toEqual([`${prefix}${kept.scan[0].id}`]);
  });
});
