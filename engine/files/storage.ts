/**
 * Where file bytes live: a folder on local disk (the default, in the data folder) or any S3-compatible
 * object store (AWS S3, MinIO, Aliyun OSS, Tencent COS …) by configuration. Only bytes are stored here,
 * under the file's id; who may read a file is decided from its record (engine/data/operations/files.ts).
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UUID } from '../model/ids.js';

export interface FileStorage {
  readonly kind: string;
  put(key: string, bytes: Uint8Array, type: string): Promise<void>;
  get(key: string): Promise<Uint8Array>;
  delete(key: string): Promise<void>;
}

/** Keys are file ids (UUIDs): nothing a client sends becomes a path. */
const checkKey = (key: string) => {
  if (!UUID.test(key)) throw new Error(`Refusing storage key ${JSON.stringify(key)}`);
  return key;
};

export class LocalFileStorage implements FileStorage {
  readonly kind = 'local';
  constructor(readonly dir: string) {}
  /** Two levels of folders from the key's last characters, so no folder holds millions of files. */
  private path(key: string) {
    checkKey(key);
    return join(this.dir, key.slice(-2), key.slice(-4, -2), key);
  }
  async put(key: string, bytes: Uint8Array) {
    const path = this.path(key);
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, bytes, { flag: 'wx' }); // a key is written once
  }
  get(key: string) {
    return readFile(this.path(key));
  }
  async delete(key: string) {
    await rm(this.path(key), { force: true });
  }
}

export interface S3Options {
  bucket: string;
  region?: string;
  /** For S3-compatible stores (MinIO, OSS, COS): their endpoint URL. */
  endpoint?: string;
  forcePathStyle?: boolean;
  /** Key prefix inside the bucket. */
  prefix?: string;
}

/** S3 or a compatible store through the AWS SDK; credentials from the SDK's usual chain (AWS_ACCESS_KEY_ID …). */
export class S3FileStorage implements FileStorage {
  readonly kind = 's3';
  private client?: Promise<import('@aws-sdk/client-s3').S3Client>;
  constructor(readonly options: S3Options) {}
  private async s3() {
    this.client ??= import('@aws-sdk/client-s3').then(
      ({ S3Client }) =>
        new S3Client({
          region: this.options.region ?? 'us-east-1',
          endpoint: this.options.endpoint,
          forcePathStyle: this.options.forcePathStyle,
        }),
    );
    return { client: await this.client, sdk: await import('@aws-sdk/client-s3') };
  }
  private key = (key: string) => `${this.options.prefix ?? ''}${checkKey(key)}`;
  async put(key: string, bytes: Uint8Array, type: string) {
    const { client, sdk } = await this.s3();
    await client.send(
      new sdk.PutObjectCommand({ Bucket: this.options.bucket, Key: this.key(key), Body: bytes, ContentType: type }),
    );
  }
  async get(key: string) {
    const { client, sdk } = await this.s3();
    const res = await client.send(new sdk.GetObjectCommand({ Bucket: this.options.bucket, Key: this.key(key) }));
    return res.Body!.transformToByteArray();
  }
  async delete(key: string) {
    const { client, sdk } = await this.s3();
    await client.send(new sdk.DeleteObjectCommand({ Bucket: this.options.bucket, Key: this.key(key) }));
  }
}

/**
 * The storage the environment asks for: FILE_STORAGE=s3 with S3_BUCKET (and S3_REGION, S3_ENDPOINT,
 * S3_FORCE_PATH_STYLE=1, S3_PREFIX), else a folder: FILES_DIR, else `fallbackDir`.
 */
export function storageFromEnv(env: Record<string, string | undefined>, fallbackDir: string): FileStorage {
  if (env.FILE_STORAGE === 's3') {
    if (!env.S3_BUCKET) throw new Error('FILE_STORAGE=s3 needs S3_BUCKET');
    return new S3FileStorage({
      bucket: env.S3_BUCKET,
      region: env.S3_REGION,
      endpoint: env.S3_ENDPOINT,
      forcePathStyle: env.S3_FORCE_PATH_STYLE === '1',
      prefix: env.S3_PREFIX,
    });
  }
  return new LocalFileStorage(env.FILES_DIR ?? fallbackDir);
}
