/**
 * What every credential over one global API does the same way: the CloudApi answers, identity,
 * option parsing and secret handling. Each adapter keeps what is its own (its options, how its
 * tenant is derived, how it makes a client).
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { RATE_LIMIT_OPTION_FIELDS } from '../http/rateLimit.js';
import type { ApiKeyHttpTarget } from '../http/request.js';
import type { Capability } from './capabilities.js';
import type { ApiType, CloudClient, CloudCredential } from './client.js';

export abstract class GlobalApiCredential implements CloudCredential {
  readonly #providerId: string;
  readonly #capabilities: readonly Capability[];

  protected constructor(
    /** Our reference for this credential (the connection name). */
    readonly refId: string,
    providerId: string,
    capabilities: readonly Capability[],
  ) {
    this.#providerId = providerId;
    this.#capabilities = capabilities;
  }

  /** The API is global: one client serves every location. */
  getApiType(): ApiType {
    return 'global';
  }

  /** A copy: callers must not be able to change what the adapter declares. */
  async getCapabilities(): Promise<Capability[]> {
    return [...this.#capabilities];
  }

  getCloudProviderId(): string {
    return this.#providerId;
  }

  getReferenceId(): string {
    return this.refId;
  }

  abstract getTenantId(): Promise<string>;
  abstract makeClient(location: string): Promise<CloudClient>;
}

/** `{prefix}-{16 hex}`: a stable tenant ID from what identifies the account (an API key, a URL), never revealing it. */
export function hashedTenantId(prefix: string, identity: string): string {
  return `${prefix}-${createHash('sha256').update(identity).digest('hex').slice(0, 16)}`;
}

/**
 * Stores a secret as a non-enumerable, read-only property, so it stays out of JSON, logs and
 * `util.inspect` while the adapter can still read it.
 */
export function hideSecret<O extends object>(target: O, key: string, value: string): void {
  Object.defineProperty(target, key, { value, enumerable: false, writable: false });
}

/** Validates credential options; throws one message naming every bad field. */
export function parseCredentialOptions<S extends z.ZodType>(schema: S, opts: unknown, label: string): z.output<S> {
  const r = schema.safeParse(opts);
  if (!r.success) {
    throw new Error(`invalid ${label} credential: ${r.error.issues.map((i) => `${i.path.join('.') || '(credential)'}: ${i.message}`).join('; ')}`);
  }
  return r.data;
}

/** The connection name every credential requires. */
export const refIdOption = z.string({ message: 'refId (the connection name) is required' }).min(1, 'refId (the connection name) must not be empty');

/** A secret sent in a header: required, and without whitespace (a pasted newline would break the header). */
export function headerSecretOption(field: string, description: string) {
  return z
    .string({ message: `${field} (${description}) is required` })
    .min(1, `${field} (${description}) must not be empty`)
    .refine((k) => !/\s/.test(k), { message: `${field} must not contain whitespace` });
}

/** An http(s) URL option; `invalid` is the message for something that is not a URL at all. */
export function httpUrlOption(field: string, invalid: string) {
  return z.url({ message: invalid }).refine((u) => /^https?:\/\//i.test(u), { message: `${field} must start with http:// or https://` });
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** Whether a URL points at this machine (test replicas must). */
export function isLoopbackUrl(u: string): boolean {
  try {
    return LOOPBACK_HOSTS.has(new URL(u).hostname);
  } catch {
    return false;
  }
}

/**
 * The option fields every API-key credential shares, with the provider's own wording in its
 * messages. Adapters spread them into their schema next to their own options, and add
 * {@link testReplicaNeedsLoopback}.
 */
export function apiKeyOptionFields(p: { provider: string; baseUrlExample: string }) {
  return {
    refId: refIdOption,
    apiKey: headerSecretOption('apiKey', `the ${p.provider} API key`),
    /** The provider's API; tests point it at a replica. */
    baseUrl: httpUrlOption('baseUrl', `baseUrl must be a URL such as ${p.baseUrlExample}`).optional(),
    /** Per-request timeout; default 30 s. */
    timeoutMs: z.number().int().positive().optional(),
    /** How often callers should poll an instance; default 5 s. */
    instancePollMs: z.number().int().positive().optional(),
    /** rateLimitRetries (default 2) and rateLimitMaxWaitMs (default 15 s): see ../http/rateLimit.ts. */
    ...RATE_LIMIT_OPTION_FIELDS,
    /**
     * Test only: baseUrl is a local replica (test/replicas/<provider>) whose instances are sshd
     * processes on a shared host; the adapter then reads the replica's extra instance fields
     * (SSH user/port, not privileged). Refused unless baseUrl is a loopback address.
     */
    testReplica: z.boolean().default(false),
  };
}

/** The refinement that keeps `testReplica` to loopback base URLs: `.refine(...testReplicaNeedsLoopback(example))`. */
export function testReplicaNeedsLoopback(loopbackExample: string) {
  const check = (o: { testReplica: boolean; baseUrl?: string | undefined }) => !o.testReplica || (o.baseUrl !== undefined && isLoopbackUrl(o.baseUrl));
  const params = { message: `testReplica is for local replicas only: baseUrl must be a loopback URL such as ${loopbackExample}`, path: ['testReplica'] };
  return [check, params] as [typeof check, typeof params];
}

/** The parsed options every API-key credential shares (see {@link ApiKeyCredential}). */
export interface ApiKeyCredentialOptions {
  refId: string;
  apiKey: string;
  baseUrl?: string | undefined;
  timeoutMs?: number | undefined;
  instancePollMs?: number | undefined;
  rateLimitRetries: number;
  rateLimitMaxWaitMs: number;
  testReplica: boolean;
}

/**
 * A credential for a public provider API reached with one API key: the key is the tenant, the
 * base URL can point at a local replica for tests (`testReplica`), calls time out and 429s are
 * retried in place per ../http/rateLimit.ts. Adapters add their own options (e.g. an auth scheme)
 * and how they make a client.
 */
export abstract class ApiKeyCredential extends GlobalApiCredential {
  readonly baseUrl: string;
  readonly timeoutMs: number;
  readonly instancePollMs: number;
  readonly rateLimitRetries: number;
  readonly rateLimitMaxWaitMs: number;
  readonly testReplica: boolean;
  /** Not enumerable, so it stays out of JSON, logs and inspection. */
  declare readonly apiKey: string;
  readonly #tenantPrefix: string;

  protected constructor(
    data: ApiKeyCredentialOptions,
    provider: { id: string; capabilities: readonly Capability[]; defaultBaseUrl: string; /** e.g. "lambda" → "lambda-…" */ tenantPrefix: string },
  ) {
    super(data.refId, provider.id, provider.capabilities);
    this.#tenantPrefix = provider.tenantPrefix;
    this.baseUrl = (data.baseUrl ?? provider.defaultBaseUrl).replace(/\/+$/, '');
    this.timeoutMs = data.timeoutMs ?? 30_000;
    this.instancePollMs = data.instancePollMs ?? 5_000;
    this.rateLimitRetries = data.rateLimitRetries;
    this.rateLimitMaxWaitMs = data.rateLimitMaxWaitMs;
    this.testReplica = data.testReplica;
    hideSecret(this, 'apiKey', data.apiKey);
  }

  /** One API key is one tenant; the ID is a truncated hash, never the key. */
  override async getTenantId(): Promise<string> {
    return hashedTenantId(this.#tenantPrefix, this.apiKey);
  }

  /** The HTTP target fields every such adapter needs (holds the key): for the client only. */
  protected httpTargetFields(): Omit<ApiKeyHttpTarget, 'logger' | 'sleep'> {
    return {
      baseUrl: this.baseUrl,
      apiKey: this.apiKey,
      timeoutMs: this.timeoutMs,
      rateLimitRetries: this.rateLimitRetries,
      rateLimitMaxWaitMs: this.rateLimitMaxWaitMs,
    };
  }

  toJSON(): Record<string, string | boolean> {
    return { provider: this.getCloudProviderId(), refId: this.refId, baseUrl: this.baseUrl, ...(this.testReplica ? { testReplica: true } : {}) };
  }
}
