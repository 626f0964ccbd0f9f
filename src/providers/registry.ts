/** The worker's provider connections by name, and their clients by location. */
import { spendingCapConfig, type BudgetConfig } from '../budget/config.js';
import type { Connection } from '../config/connections.js';
import { connectionSecret, lazyDefaultStore, secretSourceCount, type SecretLookup } from '../config/credentials/lookup.js';
import type { BillingPolicy } from '../money/billing.js';
import { adapterFor } from './adapters.js';
import type { CloudClient, CloudCredential } from './sdk/client.js';

export interface RegisteredConnection {
  name: string;
  credential: CloudCredential;
  /** How long an instance may take from create to running before it is abandoned. */
  provisioningTimeoutMs: number;
  /** How the provider bills instance lifetimes (default: per second, no minimum). */
  billing?: BillingPolicy;
  /** Hard spending ceiling per period, from connections.yaml `spendingCap`. */
  spendingCap?: BudgetConfig;
  /** Region globs, most preferred first (connections.yaml `regionPreferences`). */
  regionPreferences?: string[];
}

/** Billing when a connection does not declare one: the adapter's (each cites its provider's terms). */
export function defaultBilling(kind: Connection['kind']): BillingPolicy {
  return adapterFor(kind).defaultBilling;
}

const DEFAULT_PROVISIONING_TIMEOUT_MS = 20 * 60_000;

/**
 * The connection's credential, made by its kind's adapter. Its secret comes from the connection's
 * secret file or, with `credentialRef`, from the encrypted store (`secrets`; default: the default
 * store, opened on first use). Resolved here, on the worker, so secrets never travel in workflow inputs.
 * A connection naming no secret uses the adapter's `credentialWithoutSecret` (connections.ts allows
 * that only for adapters that have one).
 */
export function credentialFor(c: Connection, secrets: () => SecretLookup = lazyDefaultStore()): CloudCredential {
  const adapter = adapterFor(c.kind);
  if (adapter.credentialWithoutSecret && secretSourceCount(c) === 0) return adapter.credentialWithoutSecret(c);
  return adapter.credential(c, connectionSecret(c, secrets).reveal());
}

export class ProviderRegistry {
  private readonly byName = new Map<string, RegisteredConnection>();
  private readonly clients = new Map<string, Promise<CloudClient>>();

  constructor(connections: RegisteredConnection[]) {
    for (const c of connections) this.byName.set(c.name, c);
  }

  /** `secrets`: where `credentialRef`s resolve (default: the default encrypted store, opened only if one is used). */
  static fromConnections(connections: Connection[], secrets: () => SecretLookup = lazyDefaultStore()): ProviderRegistry {
    return new ProviderRegistry(
      connections.map((c) => ({
        name: c.name,
        credential: credentialFor(c, secrets),
        provisioningTimeoutMs: c.provisioningTimeout ?? DEFAULT_PROVISIONING_TIMEOUT_MS,
        billing: c.billing ?? defaultBilling(c.kind),
        ...(c.spendingCap ? { spendingCap: spendingCapConfig(c.spendingCap) } : {}),
        ...(c.regionPreferences ? { regionPreferences: c.regionPreferences } : {}),
      })),
    );
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  get(name: string): RegisteredConnection {
    const c = this.byName.get(name);
    if (!c) throw new Error(`no provider connection named "${name}" on this worker (known: ${this.names().join(', ') || 'none'})`);
    return c;
  }

  /** A client for the connection; global APIs share one client for every location. */
  async client(name: string, location = ''): Promise<CloudClient> {
    const conn = this.get(name);
    const key = conn.credential.getApiType() === 'global' ? `${name}\u0000` : `${name}\u0000${location}`;
    let p = this.clients.get(key);
    if (!p) {
      p = conn.credential.makeClient(location);
      this.clients.set(key, p);
      p.catch(() => this.clients.delete(key));
    }
    return p;
  }
}
