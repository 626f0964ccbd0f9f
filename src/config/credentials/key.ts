/**
 * The credential store's 256-bit key: from GPUFLOW_CREDENTIALS_KEY (32 bytes in base64 or hex), or
 * from a key file (GPUFLOW_CREDENTIALS_KEY_FILE, default $GPUFLOW_HOME/credentials.key). Only a
 * command that stores a secret may create the key file (0600); readers fail with what to set.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gpuflowHome } from '../paths.js';

export const KEY_ENV = 'GPUFLOW_CREDENTIALS_KEY';
export const KEY_FILE_ENV = 'GPUFLOW_CREDENTIALS_KEY_FILE';
const KEY_BYTES = 32;

export interface StoreKey {
  /** Never logged: Buffer contents do not reach JSON logs through this object's toJSON. */
  readonly bytes: Buffer;
  /** Where it came from, for messages: "GPUFLOW_CREDENTIALS_KEY" or the key file's path. */
  readonly source: string;
  /** A new key file was written (tell the user to back it up). */
  readonly created: boolean;
  /** HMAC of a fixed label under the key: tells "wrong key" apart from "tampered file" without revealing the key. */
  readonly fingerprint: string;
}

export function defaultKeyFile(): string {
  return process.env[KEY_FILE_ENV] ?? join(gpuflowHome(), 'credentials.key');
}

/** 32 bytes from 64 hex digits or base64 (with or without padding); anything else is refused. */
export function decodeKey(text: string, source: string): Buffer {
  const t = text.trim();
  const bytes = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : /^[A-Za-z0-9+/]{43}=?$/.test(t) ? Buffer.from(t, 'base64') : undefined;
  if (!bytes || bytes.length !== KEY_BYTES) {
    throw new Error(`${source} must hold a 32-byte key as 64 hex digits or base64 (e.g. \`openssl rand -base64 32\`)`);
  }
  return bytes;
}

function keyFingerprint(bytes: Buffer): string {
  return createHmac('sha256', bytes).update('gpuflow-credentials-key-id').digest('hex').slice(0, 16);
}

function storeKey(bytes: Buffer, source: string, created: boolean): StoreKey {
  const key = { bytes, source, created, fingerprint: keyFingerprint(bytes) };
  Object.defineProperty(key, 'bytes', { enumerable: false });
  return key;
}

/**
 * The key, in this order: GPUFLOW_CREDENTIALS_KEY, the key file. With `create`, a missing key file
 * is written (random, 0600) when the env var is unset; without it, a missing key is an error.
 */
export function resolveStoreKey(opts: { create: boolean; keyFile?: string; env?: NodeJS.ProcessEnv } = { create: false }): StoreKey {
  const env = opts.env ?? process.env;
  const fromEnv = env[KEY_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return storeKey(decodeKey(fromEnv, KEY_ENV), KEY_ENV, false);
  const file = opts.keyFile ?? defaultKeyFile();
  if (existsSync(file)) {
    const mode = statSync(file).mode & 0o077;
    if (mode !== 0) throw new Error(`key file ${file} is readable by other users (mode ${(statSync(file).mode & 0o777).toString(8)}): run \`chmod 600 ${file}\``);
    return storeKey(decodeKey(readFileSync(file, 'utf8'), `key file ${file}`), file, false);
  }
  if (!opts.create) {
    throw new Error(`no credentials key: set ${KEY_ENV} (32 bytes, base64 or hex) or create the key file ${file} (\`gpuflow providers add\` creates one)`);
  }
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const bytes = randomBytes(KEY_BYTES);
  // `wx`: never overwrite a key another process just created (that would orphan its secrets).
  writeFileSync(file, `${bytes.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600); // the umask may have narrowed the mode further, never widened: make it exact
  return storeKey(bytes, file, true);
}
