/**
 * Where a connection's secret comes from, for every kind alike: `credentialRef` (the encrypted
 * store), or the kind's secret file (`apiKeyFile`, or `tokenFile` for the local cloud). New
 * provider kinds get store-backed credentials by declaring these fields; nothing here is per kind.
 */
import { readFileSync } from 'node:fs';
import { resolveStoreKey } from './key.js';
import { Secret } from './secret.js';
import { CredentialStore } from './store.js';

/** What the registry needs from a store: a secret by reference. */
export interface SecretLookup {
  get(ref: string): Secret;
}

/** The secret-source fields a connection may carry (exactly one is set; connections.ts checks). */
export interface SecretSourceFields {
  name: string;
  credentialRef?: string | undefined;
  apiKeyFile?: string | undefined;
  tokenFile?: string | undefined;
}

/** "store:lambda-us", "file:/etc/gpuflow/lambda.key": what `providers list` shows. */
export function describeSecretSource(c: SecretSourceFields): string {
  if (c.credentialRef) return `store:${c.credentialRef}`;
  const file = c.apiKeyFile ?? c.tokenFile;
  return file ? `file:${file}` : 'none';
}

/** How many secret sources the connection names (connections.ts wants exactly one, or none where the adapter allows it). */
export function secretSourceCount(c: SecretSourceFields): number {
  return [c.credentialRef, c.apiKeyFile, c.tokenFile].filter((v) => v !== undefined).length;
}

export function connectionSecret(c: SecretSourceFields, lookup: () => SecretLookup): Secret {
  if (c.credentialRef) return lookup().get(c.credentialRef);
  const file = c.apiKeyFile ?? c.tokenFile;
  if (!file) throw new Error(`connection "${c.name}" names no credential: set credentialRef (\`gpuflow providers add\`) or apiKeyFile/tokenFile`);
  return new Secret(readFileSync(file, 'utf8').trim());
}

/**
 * The default store (GPUFLOW_CREDENTIALS_FILE or $GPUFLOW_HOME/credentials.enc), opened on first
 * use only: a worker whose connections all use files needs no key.
 */
export function lazyDefaultStore(): () => SecretLookup {
  let store: CredentialStore | undefined;
  return () => (store ??= CredentialStore.open(resolveStoreKey({ create: false })));
}
