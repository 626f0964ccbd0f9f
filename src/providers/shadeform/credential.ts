/** Credential of a Shadeform connection: an API key, sent as the `X-API-KEY` header. */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { createLogger, type Logger } from '../../logging/logger.js';
import type { Capability } from '../sdk/capabilities.js';
import type { ApiType, CloudClient, CloudCredential } from '../sdk/client.js';
import { SHADEFORM_DEFAULT_BASE_URL, SHADEFORM_PROVIDER_ID } from './api.js';
import { ShadeformClient, SHADEFORM_CAPABILITIES } from './client.js';
import type { ShadeformHttpTarget } from './http.js';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
function isLoopbackUrl(u: string): boolean {
  try {
    return LOOPBACK_HOSTS.has(new URL(u).hostname);
  } catch {
    return false;
  }
}

export const ShadeformCredentialOptionsSchema = z
  .object({
    refId: z.string({ message: 'refId (the connection name) is required' }).min(1, 'refId (the connection name) must not be empty'),
    /** Shadeform's API key (the X-API-KEY header). */
    apiKey: z
      .string({ message: 'apiKey (the Shadeform API key) is required' })
      .min(1, 'apiKey (the Shadeform API key) must not be empty')
      .refine((k) => !/\s/.test(k), { message: 'apiKey must not contain whitespace' }),
    /** Default https://api.shadeform.ai/v1; tests point it at a replica. */
    baseUrl: z
      .url({ message: 'baseUrl must be a URL such as https://api.shadeform.ai/v1' })
      .refine((u) => /^https?:\/\//i.test(u), { message: 'baseUrl must start with http:// or https://' })
      .optional(),
    /** Per-request timeout; default 30 s. */
    timeoutMs: z.number().int().positive().optional(),
    /** How often callers should poll an instance; default 5 s. */
    instancePollMs: z.number().int().positive().optional(),
    /** How many times a 429 is retried in place before it surfaces as ServiceUnavailableError; default 2. */
    rateLimitRetries: z.number().int().min(0).max(5).default(2),
    /** A 429 asking for a longer wait is not retried in place; default 15 s. */
    rateLimitMaxWaitMs: z.number().int().nonnegative().default(15_000),
    /**
     * Test only: baseUrl is a local replica (test/replicas/shadeform) whose instances are sshd
     * processes on a shared host; instances are then reported as not privileged (the replica's
     * `gpuflow_replica` field). Refused unless baseUrl is a loopback address.
     */
    testReplica: z.boolean().default(false),
  })
  .strict()
  .refine((o) => !o.testReplica || (o.baseUrl !== undefined && isLoopbackUrl(o.baseUrl)), {
    message: 'testReplica is for local replicas only: baseUrl must be a loopback URL such as http://127.0.0.1:PORT/v1',
    path: ['testReplica'],
  });
export type ShadeformCredentialOptions = z.input<typeof ShadeformCredentialOptionsSchema>;

let defaultLogger: Logger | undefined;
function logger(): Logger {
  return (defaultLogger ??= createLogger('shadeform', process.env.GPUFLOW_LOG_LEVEL ?? 'warn'));
}

export class ShadeformCredential implements CloudCredential {
  readonly refId: string;
  readonly baseUrl: string;
  readonly timeoutMs: number;
  readonly instancePollMs: number;
  readonly rateLimitRetries: number;
  readonly rateLimitMaxWaitMs: number;
  readonly testReplica: boolean;
  /** Not enumerable, so it stays out of JSON, logs and inspection. */
  declare readonly apiKey: string;

  constructor(opts: ShadeformCredentialOptions) {
    const r = ShadeformCredentialOptionsSchema.safeParse(opts);
    if (!r.success) {
      throw new Error(`invalid Shadeform credential: ${r.error.issues.map((i) => `${i.path.join('.') || '(credential)'}: ${i.message}`).join('; ')}`);
    }
    this.refId = r.data.refId;
    this.baseUrl = (r.data.baseUrl ?? SHADEFORM_DEFAULT_BASE_URL).replace(/\/+$/, '');
    this.timeoutMs = r.data.timeoutMs ?? 30_000;
    this.instancePollMs = r.data.instancePollMs ?? 5_000;
    this.rateLimitRetries = r.data.rateLimitRetries;
    this.rateLimitMaxWaitMs = r.data.rateLimitMaxWaitMs;
    this.testReplica = r.data.testReplica;
    Object.defineProperty(this, 'apiKey', { value: r.data.apiKey, enumerable: false, writable: false });
  }

  getApiType(): ApiType {
    return 'global';
  }

  async getCapabilities(): Promise<Capability[]> {
    return [...SHADEFORM_CAPABILITIES];
  }

  getCloudProviderId(): string {
    return SHADEFORM_PROVIDER_ID;
  }

  getReferenceId(): string {
    return this.refId;
  }

  /** One API key is one tenant; the ID is a truncated hash, never the key. */
  async getTenantId(): Promise<string> {
    return `shadeform-${createHash('sha256').update(this.apiKey).digest('hex').slice(0, 16)}`;
  }

  /** The API is global (regions are a filter): one client serves every region. */
  async makeClient(location: string): Promise<CloudClient> {
    return new ShadeformClient(this, location);
  }

  /** @internal The HTTP target (holds the key): for the client only. */
  httpTarget(): ShadeformHttpTarget {
    return {
      baseUrl: this.baseUrl,
      apiKey: this.apiKey,
      timeoutMs: this.timeoutMs,
      rateLimitRetries: this.rateLimitRetries,
      rateLimitMaxWaitMs: this.rateLimitMaxWaitMs,
      logger: logger(),
    };
  }

  toJSON(): Record<string, string | boolean> {
    return { provider: SHADEFORM_PROVIDER_ID, refId: this.refId, baseUrl: this.baseUrl, ...(this.testReplica ? { testReplica: true } : {}) };
  }
}
