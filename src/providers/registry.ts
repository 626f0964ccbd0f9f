/** The worker's provider connections by name, and their clients by location. */
import { spendingCapConfig, type BudgetConfig } from '../budget/config.js';
import type { Connection } from '../config/connections.js';
import { connectionSecret, lazyDefaultStore, type SecretLookup } from '../config/credentials/lookup.js';
import { PER_SECOND, type BillingPolicy } from '../money/billing.js';
import { FluidstackCredential } from './fluidstack/index.js';
import { LambdaCredential } from './lambda/index.js';
import { LocalCredential } from './local/index.js';
import { RunPodCredential } from './runpod/index.js';
import { ShadeformCredential } from './shadeform/index.js';
import { VastaiCredential } from './vastai/index.js';
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

/**
 * Billing when a connection does not declare one: the local cloud bills per second; Lambda bills
 * on-demand instances in one-minute increments (docs.lambda.ai/public-cloud/billing); Shadeform
 * passes through its underlying clouds' terms, assumed per minute here. Declare `billing` on a
 * connection whose terms differ. RunPod bills "all compute and storage charges per second"
 * (docs.runpod.io/accounts-billing/billing). Vast.ai: "On-Demand: Per-second billing" (vast.ai/pricing).
 */
export function defaultBilling(kind: Connection['kind']): BillingPolicy {
  return kind === 'local' || kind === 'runpod' || kind === 'vastai' ? PER_SECOND : { granularity: 'minute', minimumSeconds: 0 };
}

const DEFAULT_PROVISIONING_TIMEOUT_MS = 20 * 60_000;

/**
 * The connection's credential. Its secret comes from the connection's secret file or, with
 * `credentialRef`, from the encrypted store (`secrets`; default: the default store, opened on
 * first use). Resolved here, on the worker, so secrets never travel in workflow inputs.
 */
export function credentialFor(c: Connection, secrets: () => SecretLookup = lazyDefaultStore()): CloudCredential {
  const secret = connectionSecret(c, secrets).reveal();
  switch (c.kind) {
    case 'local':
      return new LocalCredential({ refId: c.name, url: c.url, token: secret });
    case 'lambda':
      return new LambdaCredential({
        refId: c.name,
        apiKey: secret,
        ...(c.baseUrl ? { baseUrl: c.baseUrl } : {}),
        ...(c.testReplica ? { testReplica: true } : {}),
      });
    case 'shadeform':
      return new ShadeformCredential({
        refId: c.name,
        apiKey: secret,
        ...(c.baseUrl ? { baseUrl: c.baseUrl } : {}),
        ...(c.testReplica ? { testReplica: true } : {}),
      });
    case 'runpod':
      return new RunPodCredential({
        refId: c.name,
        apiKey: secret,
        ...(c.baseUrl ? { baseUrl: c.baseUrl } : {}),
        ...(c.testReplica ? { testReplica: true } : {}),
      });
    case 'vastai':
      return new VastaiCredential({
        refId: c.name,
        apiKey: secret,
        ...(c.baseUrl ? { baseUrl: c.baseUrl } : {}),
        ...(c.testReplica ? { testReplica: true } : {}),
      });
    case 'fluidstack':
      return new FluidstackCredential({ refId: c.name, apiToken: secret, regions: c.regions, prices: c.prices, ...(c.testReplica ? { testReplica: true } : {}) });
  }
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
