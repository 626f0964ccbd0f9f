/** The encrypted credential store: AES-256-GCM, versioned file, key from env or a 0600 key file. */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { decodeKey, KEY_ENV, resolveStoreKey } from '../../../src/config/credentials/key.js';
import { Secret } from '../../../src/config/credentials/secret.js';
import { CredentialStore } from '../../../src/config/credentials/store.js';
import { REDACT_PATHS } from '../../../src/logging/logger.js';

const dir = mkdtempSync(join(tmpdir(), 'gpuflow-credstore-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(dir, `case-${++n}`);
const keyFromEnv = (bytes = randomBytes(32)) => resolveStoreKey({ create: false, env: { [KEY_ENV]: bytes.toString('base64') } });
const SECRET = `secret_${randomBytes(16).toString('hex')}`;

function modeOf(file: string): number {
  return statSync(file).mode & 0o777;
}

describe('credential store', () => {
  it('round-trips secrets through a file that holds no plaintext, mode 0600', () => {
    const d = fresh();
    const key = keyFromEnv();
    const file = join(d, 'credentials.enc');
    const store = CredentialStore.open(key, file);
    store.set('lambda-us', new Secret(SECRET), 'lambda');
    store.set('local', new Secret('tok'), 'local');
    assert.equal(modeOf(file), 0o600);
    const text = readFileSync(file, 'utf8');
    assert.ok(!text.includes(SECRET), 'no plaintext secret');
    assert.ok(!text.includes(Buffer.from(SECRET).toString('base64')), 'no base64 of it either');
    assert.ok(!text.includes('lambda-us'), 'reference names are encrypted too');
    const envelope = JSON.parse(text) as Record<string, unknown>;
    assert.equal(envelope.format, 'gpuflow-credentials');
    assert.equal(envelope.version, 1);
    assert.equal(envelope.cipher, 'aes-256-gcm');
    assert.equal(Buffer.from(envelope.iv as string, 'base64').length, 12);
    assert.equal(Buffer.from(envelope.tag as string, 'base64').length, 16);

    const again = CredentialStore.open(key, file);
    assert.equal(again.get('lambda-us').reveal(), SECRET);
    assert.deepEqual(again.refs().map((r) => [r.ref, r.kind]), [['lambda-us', 'lambda'], ['local', 'local']]);
    assert.equal(again.delete('local'), true);
    assert.equal(again.delete('local'), false);
    assert.equal(CredentialStore.open(key, file).has('local'), false);
    assert.throws(() => again.get('nope'), /no secret "nope" in the credential store .*stored: lambda-us/);
  });

  it('uses a fresh random IV on every write', () => {
    const key = keyFromEnv();
    const file = join(fresh(), 'c.enc');
    const store = CredentialStore.open(key, file);
    store.set('a', new Secret(SECRET), 'lambda');
    const first = JSON.parse(readFileSync(file, 'utf8')) as { iv: string; ciphertext: string };
    store.set('a', new Secret(SECRET), 'lambda');
    const second = JSON.parse(readFileSync(file, 'utf8')) as { iv: string; ciphertext: string };
    assert.notEqual(first.iv, second.iv);
    assert.notEqual(first.ciphertext, second.ciphertext);
  });

  it('refuses a wrong key with a clear error and reads nothing', () => {
    const file = join(fresh(), 'c.enc');
    CredentialStore.open(keyFromEnv(), file).set('a', new Secret(SECRET), 'lambda');
    assert.throws(() => CredentialStore.open(keyFromEnv(), file), /encrypted with a different key \(fingerprint [0-9a-f]{16}; the key from GPUFLOW_CREDENTIALS_KEY has [0-9a-f]{16}\)/);
  });

  for (const field of ['ciphertext', 'tag', 'iv'] as const) {
    it(`detects a modified ${field} (GCM authentication) and reads nothing`, () => {
      const key = keyFromEnv();
      const file = join(fresh(), 'c.enc');
      CredentialStore.open(key, file).set('a', new Secret(SECRET), 'lambda');
      const env = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
      const b = Buffer.from(env[field]!, 'base64');
      b[b.length - 1] = b[b.length - 1]! ^ 0x01;
      env[field] = b.toString('base64');
      writeFileSync(file, JSON.stringify(env));
      assert.throws(() => CredentialStore.open(key, file), /failed its integrity check .*nothing was read from it/);
    });
  }

  it('refuses a truncated tag instead of checking fewer bytes', () => {
    const key = keyFromEnv();
    const file = join(fresh(), 'c.enc');
    CredentialStore.open(key, file).set('a', new Secret(SECRET), 'lambda');
    const env = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
    env.tag = Buffer.from(env.tag!, 'base64').subarray(0, 4).toString('base64');
    writeFileSync(file, JSON.stringify(env));
    assert.throws(() => CredentialStore.open(key, file), /failed its integrity check/);
  });

  it('binds the header: a changed version or a foreign file is refused by name', () => {
    const key = keyFromEnv();
    const file = join(fresh(), 'c.enc');
    CredentialStore.open(key, file).set('a', new Secret(SECRET), 'lambda');
    const env = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify({ ...env, version: 2 }));
    assert.throws(() => CredentialStore.open(key, file), /format version 2 is not supported \(this gpuflow reads version 1\)/);
    writeFileSync(file, 'not json');
    assert.throws(() => CredentialStore.open(key, file), /is not a gpuflow credentials file/);
  });

  it('treats a missing file as an empty store', () => {
    const s = CredentialStore.open(keyFromEnv(), join(fresh(), 'missing.enc'));
    assert.deepEqual(s.refs(), []);
  });
});

describe('store key', () => {
  it('reads 32 bytes as hex or base64 from GPUFLOW_CREDENTIALS_KEY, and refuses anything else', () => {
    const bytes = randomBytes(32);
    const hex = resolveStoreKey({ create: false, env: { [KEY_ENV]: bytes.toString('hex') } });
    const b64 = resolveStoreKey({ create: false, env: { [KEY_ENV]: bytes.toString('base64') } });
    assert.deepEqual(hex.bytes, bytes);
    assert.equal(hex.fingerprint, b64.fingerprint);
    assert.equal(hex.source, 'GPUFLOW_CREDENTIALS_KEY');
    assert.throws(() => decodeKey(randomBytes(16).toString('hex'), KEY_ENV), /GPUFLOW_CREDENTIALS_KEY must hold a 32-byte key as 64 hex digits or base64/);
    assert.throws(() => decodeKey('correct horse battery staple', KEY_ENV), /32-byte key/);
  });

  it('creates a 0600 key file only when asked, then reads the same key back', () => {
    const keyFile = join(fresh(), 'credentials.key');
    assert.throws(() => resolveStoreKey({ create: false, keyFile, env: {} }), /no credentials key: set GPUFLOW_CREDENTIALS_KEY .* or create the key file/);
    assert.equal(existsSync(keyFile), false);
    const created = resolveStoreKey({ create: true, keyFile, env: {} });
    assert.equal(created.created, true);
    assert.equal(created.source, keyFile);
    assert.equal(modeOf(keyFile), 0o600);
    const read = resolveStoreKey({ create: true, keyFile, env: {} });
    assert.equal(read.created, false);
    assert.deepEqual(read.bytes, created.bytes);
    assert.ok(!JSON.stringify(read).includes(read.bytes.toString('base64')), 'key bytes stay out of JSON');
  });

  it('refuses a key file other users can read', () => {
    const keyFile = join(fresh(), 'credentials.key');
    resolveStoreKey({ create: true, keyFile, env: {} });
    chmodSync(keyFile, 0o644);
    assert.throws(() => resolveStoreKey({ create: false, keyFile, env: {} }), /readable by other users \(mode 644\): run `chmod 600/);
  });
});

describe('Secret', () => {
  it('never shows its value in JSON, strings, inspection or pino logs', () => {
    const s = new Secret(SECRET);
    assert.equal(s.reveal(), SECRET);
    const lines: string[] = [];
    const sink = new Writable({ write: (c: Buffer, _e, cb) => (lines.push(c.toString()), cb()) });
    const log = pino({ redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, sink);
    log.info({ secret: SECRET, conn: { secret: SECRET }, other: s, secrets: { a: SECRET } }, `value ${s}`);
    const shown = [JSON.stringify({ s }), String(s), `${s}`, inspect(s), inspect({ s }, { depth: 5 }), ...lines].join('\n');
    assert.ok(!shown.includes(SECRET), shown);
    assert.match(shown, /\[redacted\]/);
  });
});
