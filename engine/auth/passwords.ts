/**
 * Password hashing with scrypt (memory-hard, in Node's crypto: no native add-on to build).
 * Stored as `scrypt$N$r$p$salt$hash` so the cost can be raised later without invalidating old hashes.
 */
import { t, type Lang } from '../model/language.js';
import { isStorableText } from '../model/text.js';
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** 2^15 × 8 × 128 bytes = 32 MiB per hash, about 50–100 ms: slow for an attacker, fine for a login. */
const DEFAULT = { N: 2 ** 15, r: 8, p: 1 };
const KEY_LENGTH = 32;

const derive = (password: string, salt: Buffer, options: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, { ...options, maxmem: 256 * 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );

export async function hashPassword(password: string, cost = DEFAULT): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, cost);
  return ['scrypt', cost.N, cost.r, cost.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, N, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !hash) return false;
  const key = await derive(password, Buffer.from(salt, 'base64url'), { N: Number(N), r: Number(r), p: Number(p) });
  const expected = Buffer.from(hash, 'base64url');
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A hash to verify against when the user does not exist, so the answer takes the same time. */
let decoy: Promise<string> | undefined;
export const decoyHash = () => (decoy ??= hashPassword(randomBytes(16).toString('hex')));

/** Passwords must be long enough to matter; the rest is the user's business (NIST SP 800-63B). */
export function passwordProblem(password: unknown, lang: Lang = 'en'): string | undefined {
  if (typeof password !== 'string') return t(lang, 'must be a string', '必须是字符串');
  if ([...password].length < 10) return t(lang, 'must be at least 10 characters', '至少需要 10 个字符');
  if (password.length > 256) return t(lang, 'must be at most 256 characters', '最多 256 个字符');
  if (!isStorableText(password)) return t(lang, 'must not contain NUL or broken characters', '不能包含空字符或损坏的字符');
  return undefined;
}
