/**
 * The encrypted credential store: provider secrets by reference name, in one file encrypted with
 * AES-256-GCM (Node's crypto). Every write re-encrypts the whole file under a fresh random 12-byte
 * IV and replaces it atomically (temp file + rename), so a reader sees the old or the new file,
 * never half of one. The GCM tag authenticates the ciphertext and the header (format, version,
 * key fingerprint): a wrong key or any modified byte is an error before anything is parsed.
 *
 * File format, version 1 (JSON, mode 0600):
 *   { format: "gpuflow-credentials", version: 1, cipher: "aes-256-gcm",
 *     keyFingerprint, iv, tag, ciphertext }           (iv, tag, ciphertext in base64)
 * The plaintext is JSON: { secrets: { <ref>: { value, kind, updatedAt } } }.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { gpuflowHome } from '../paths.js';
import type { StoreKey } from './key.js';
import { Secret } from './secret.js';

export const STORE_FILE_ENV = 'GPUFLOW_CREDENTIALS_FILE';
const FORMAT = 'gpuflow-credentials';
const VERSION = 1;
const IV_BYTES = 12;

export function defaultStoreFile(): string {
  return process.env[STORE_FILE_ENV] ?? join(gpuflowHome(), 'credentials.enc');
}

const EnvelopeSchema = z
  .object({
    format: z.literal(FORMAT),
    version: z.literal(VERSION),
    cipher: z.literal('aes-256-gcm'),
    keyFingerprint: z.string().regex(/^[0-9a-f]{16}$/),
    iv: z.base64(),
    tag: z.base64(),
    ciphertext: z.base64(),
  })
  .strict();

const EntrySchema = z.object({ value: z.string().min(1), kind: z.string().min(1), updatedAt: z.iso.datetime() }).strict();
const PayloadSchema = z.object({ secrets: z.record(z.string(), EntrySchema) }).strict();
type Entry = z.infer<typeof EntrySchema>;

/** What `list` shows of a stored secret: never the value. */
export interface StoredSecretInfo {
  ref: string;
  kind: string;
  updatedAt: string;
}

export class CredentialStoreError extends Error {
  override readonly name = 'CredentialStoreError';
}

function aad(fingerprint: string): Buffer {
  return Buffer.from(`${FORMAT}:v${VERSION}:${fingerprint}`);
}

export class CredentialStore {
  readonly #entries: Map<string, Entry>;

  private constructor(
    readonly file: string,
    private readonly key: StoreKey,
    entries: Map<string, Entry>,
  ) {
    this.#entries = entries;
  }

  /** Opens (decrypts) the store file; a missing file is an empty store. */
  static open(key: StoreKey, file = defaultStoreFile()): CredentialStore {
    if (!existsSync(file)) return new CredentialStore(file, key, new Map());
    return new CredentialStore(file, key, decryptFile(file, key));
  }

  refs(): StoredSecretInfo[] {
    return [...this.#entries].map(([ref, e]) => ({ ref, kind: e.kind, updatedAt: e.updatedAt })).sort((a, b) => a.ref.localeCompare(b.ref));
  }

  has(ref: string): boolean {
    return this.#entries.has(ref);
  }

  get(ref: string): Secret {
    const e = this.#entries.get(ref);
    if (!e) {
      const known = [...this.#entries.keys()].join(', ') || 'none';
      throw new CredentialStoreError(`no secret "${ref}" in the credential store ${this.file} (stored: ${known}); add it with \`gpuflow providers add\``);
    }
    return new Secret(e.value);
  }

  /** Stores (or replaces) a secret and writes the file. */
  set(ref: string, secret: Secret, kind: string): void {
    this.#entries.set(ref, { value: secret.reveal(), kind, updatedAt: new Date().toISOString() });
    this.save();
  }

  /** Deletes a secret and writes the file; false when there was none. */
  delete(ref: string): boolean {
    const had = this.#entries.delete(ref);
    if (had) this.save();
    return had;
  }

  private save(): void {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key.bytes, iv);
    cipher.setAAD(aad(this.key.fingerprint));
    const plaintext = Buffer.from(JSON.stringify({ secrets: Object.fromEntries(this.#entries) }));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    plaintext.fill(0);
    const envelope = {
      format: FORMAT,
      version: VERSION,
      cipher: 'aes-256-gcm',
      keyFingerprint: this.key.fingerprint,
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      ciphertext: ciphertext.toString('base64'),
    };
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(envelope, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(tmp, 0o600);
    renameSync(tmp, this.file);
  }
}

function decryptFile(file: string, key: StoreKey): Map<string, Entry> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CredentialStoreError(`credential store ${file} is not a gpuflow credentials file (${(e as Error).message}); restore it from a backup or remove it and add the connections again`);
  }
  const env = EnvelopeSchema.safeParse(raw);
  if (!env.success) {
    const version = (raw as { version?: unknown } | null)?.version;
    const why = typeof version === 'number' && version !== VERSION ? `format version ${version} is not supported (this gpuflow reads version ${VERSION}): upgrade gpuflow` : env.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; ');
    throw new CredentialStoreError(`credential store ${file} cannot be read: ${why}`);
  }
  const e = env.data;
  if (e.keyFingerprint !== key.fingerprint) {
    throw new CredentialStoreError(
      `credential store ${file} was encrypted with a different key (fingerprint ${e.keyFingerprint}; the key from ${key.source} has ${key.fingerprint}): use the key it was written with (GPUFLOW_CREDENTIALS_KEY or the key file)`,
    );
  }
  let plaintext: Buffer;
  try {
    const iv = Buffer.from(e.iv, 'base64');
    if (iv.length !== IV_BYTES) throw new Error('bad IV length');
    // A fixed 16-byte tag: Node would otherwise accept a truncated (weaker) tag.
    const decipher = createDecipheriv('aes-256-gcm', key.bytes, iv, { authTagLength: 16 });
    decipher.setAAD(aad(e.keyFingerprint));
    decipher.setAuthTag(Buffer.from(e.tag, 'base64'));
    // final() checks the tag: nothing is used unless the whole file authenticates.
    plaintext = Buffer.concat([decipher.update(Buffer.from(e.ciphertext, 'base64')), decipher.final()]);
  } catch {
    throw new CredentialStoreError(`credential store ${file} failed its integrity check (modified, corrupted, or encrypted with another key); nothing was read from it`);
  }
  const payload = PayloadSchema.safeParse(JSON.parse(plaintext.toString('utf8')));
  plaintext.fill(0);
  if (!payload.success) throw new CredentialStoreError(`credential store ${file} holds an unexpected payload; restore it from a backup`);
  return new Map(Object.entries(payload.data.secrets));
}
