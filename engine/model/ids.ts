import { randomBytes } from 'node:crypto';

/** The text form of a UUID, any version, either case (what PostgreSQL's uuid type accepts as input). */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * UUID version 7 (RFC 9562): a millisecond timestamp followed by random bits. Record ids are
 * generated in the engine rather than by gen_random_uuid() so that new rows land at the right-hand
 * edge of the primary-key index (v4 ids scatter inserts across the whole index).
 */
export function uuidv7(now = Date.now()): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = (bytes[6] & 0x0f) | 0x70;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
