/**
 * API tokens: `gpf_<id>_<secret>`. The id finds the row; only a scrypt hash of the secret is
 * stored, so a database leak yields no usable token. The plaintext is returned once, at creation.
 */
import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const PREFIX = 'gpf_';
/** scrypt cost: ~30-60 ms per hash on one core; verified tokens are cached, so requests do not pay it. */
const SCRYPT: Required<Pick<ScryptOptions, 'N' | 'r' | 'p'>> = { N: 16_384, r: 8, p: 1 };
const KEY_LEN = 32;

function scryptAsync(secret: string, salt: Buffer, o: typeof SCRYPT): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(secret, salt, KEY_LEN, { ...o, maxmem: 64 * 1024 * 1024 }, (e, key) => (e ? reject(e) : resolve(key))));
}

export interface MintedToken {
  id: string;
  /** Shown once. */
  token: string;
  /** What the database keeps: scrypt$N$r$p$salt$hash. */
  hash: string;
}

export async function mintToken(): Promise<MintedToken> {
  const id = randomBytes(6).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { id, token: `${PREFIX}${id}_${secret}`, hash: await hashSecret(secret) };
}

export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(secret, salt, SCRYPT);
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [alg, n, r, p, salt, hash] = stored.split('$');
  if (alg !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const got = await scryptAsync(secret, Buffer.from(salt, 'base64url'), { N: Number(n), r: Number(r), p: Number(p) });
  return got.length === expected.length && timingSafeEqual(got, expected);
}

/** Splits a presented token; undefined when it is not shaped like one of ours. */
export function parseToken(token: string): { id: string; secret: string } | undefined {
  const m = /^gpf_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/.exec(token.trim());
  return m ? { id: m[1]!, secret: m[2]! } : undefined;
}

/** Cache key for a verified token: a fast hash, never the token itself. */
export function tokenFingerprint(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
