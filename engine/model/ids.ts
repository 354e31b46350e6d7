import { randomBytes } from 'node:crypto';

/** The text form of a UUID, any version, either case (what PostgreSQL's uuid type accepts as input). */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

let pool = Buffer.alloc(0);
let poolOffset = 0;

/**
 * UUID version 7 (RFC 9562): a millisecond timestamp followed by random bits. Record ids are
 * generated in the engine rather than by gen_random_uuid() so that new rows land at the right-hand
 * edge of the primary-key index (v4 ids scatter inserts across the whole index).
 */
export function uuidv7(now = Date.now()): string {
  // Random bytes are drawn 4 KiB at a time: one call into the system's generator per 256 ids (an import
  // numbers thousands of records a second), never reused.
  if (poolOffset + 16 > pool.length) {
    pool = randomBytes(4096);
    poolOffset = 0;
  }
  const bytes = Buffer.from(pool.subarray(poolOffset, poolOffset + 16));
  poolOffset += 16;
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = (bytes[6] & 0x0f) | 0x70;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
