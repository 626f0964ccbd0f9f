/**
 * Credential of a FluidStack connection: an API token (a JWT, sent as Bearer), and per region the
 * project to use there and the region's country; plus the connection's price list, since the API
 * has no prices. Field names follow FluidStack's own (ATLAS_API_TOKEN, ATLAS_PROJECT_ID,
 * ATLAS_REGION_URL).
 *
 * The API is locational: every region is its own host with its own projects. A client made for a
 * region sees that region; a client made for "" sees every configured region (the catalog view).
 */
import { z } from 'zod';
import { lazyLogger } from '../../logging/logger.js';
import { RATE_LIMIT_OPTION_FIELDS } from '../http/rateLimit.js';
import type { Capability } from '../sdk/capabilities.js';
import type { ApiType, CloudClient, CloudCredential } from '../sdk/client.js';
import { hashedTenantId, headerSecretOption, hideSecret, isLoopbackUrl, parseCredentialOptions, refIdOption } from '../sdk/credential.js';
import { InvalidRequestError } from '../sdk/errors.js';
import { FLUIDSTACK_PROVIDER_ID } from './api.js';
import { FluidstackClient, FLUIDSTACK_CAPABILITIES } from './client.js';
import type { FluidstackHttpTarget } from './http.js';
import { FluidstackPriceListSchema, pricesFor, type FluidstackTypePrices } from './prices.js';
import { FluidstackRegionConfigSchema, resolveRegion, type FluidstackRegion } from './regions.js';

export const FluidstackCredentialOptionsSchema = z
  .object({
    refId: refIdOption,
    /** FluidStack's API token (a JWT; ATLAS_API_TOKEN), sent as `Authorization: Bearer`. */
    apiToken: headerSecretOption('apiToken', 'the FluidStack API token'),
    /** The regions to use, each with its project. */
    regions: z
      .array(FluidstackRegionConfigSchema, { message: 'regions must list the FluidStack regions to use, each with name, projectId and country' })
      .min(1, 'regions must list at least one FluidStack region (name, projectId, country)')
      .refine((rs) => new Set(rs.map((r) => r.name)).size === rs.length, { message: 'regions must not name a region twice' }),
    /** USD per hour per instance type (the API has none); unpriced types are not offered. */
    prices: FluidstackPriceListSchema,
    /** Per-request timeout; default 30 s. */
    timeoutMs: z.number().int().positive().default(30_000),
    /** How often callers should poll an instance; default 5 s. */
    instancePollMs: z.number().int().positive().default(5_000),
    /** rateLimitRetries (default 2) and rateLimitMaxWaitMs (default 15 s): see ../http/rateLimit.ts. */
    ...RATE_LIMIT_OPTION_FIELDS,
    /**
     * Test only: the regions are local replicas (test/replicas/fluidstack) whose instances are
     * sshd processes on a shared host; SSH port and user then come from the replica's
     * `gpuflow_replica` field and instances are reported not privileged. Refused unless every
     * region's url is a loopback address.
     */
    testReplica: z.boolean().default(false),
  })
  .strict()
  .refine((o) => !o.testReplica || o.regions.every((r) => r.url !== undefined && isLoopbackUrl(r.url)), {
    message: 'testReplica is for local replicas only: every regions[].url must be a loopback URL such as http://127.0.0.1:PORT/api/v1alpha1',
    path: ['testReplica'],
  });
export type FluidstackCredentialOptions = z.input<typeof FluidstackCredentialOptionsSchema>;

/** Every configured region: what makeClient("") means. */
export const ALL_FLUIDSTACK_REGIONS = '';

const logger = lazyLogger('fluidstack');

export class FluidstackCredential implements CloudCredential {
  readonly refId: string;
  readonly regions: readonly FluidstackRegion[];
  readonly timeoutMs: number;
  readonly instancePollMs: number;
  readonly rateLimitRetries: number;
  readonly rateLimitMaxWaitMs: number;
  readonly testReplica: boolean;
  /** Not enumerable, so it stays out of JSON, logs and inspection. */
  declare readonly apiToken: string;
  readonly #prices: z.output<typeof FluidstackPriceListSchema>;

  constructor(opts: FluidstackCredentialOptions) {
    const data = parseCredentialOptions(FluidstackCredentialOptionsSchema, opts, 'FluidStack');
    this.refId = data.refId;
    this.regions = data.regions.map(resolveRegion);
    this.timeoutMs = data.timeoutMs;
    this.instancePollMs = data.instancePollMs;
    this.rateLimitRetries = data.rateLimitRetries;
    this.rateLimitMaxWaitMs = data.rateLimitMaxWaitMs;
    this.testReplica = data.testReplica;
    this.#prices = data.prices;
    hideSecret(this, 'apiToken', data.apiToken);
  }

  /** Each region is its own API host with its own projects. */
  getApiType(): ApiType {
    return 'locational';
  }

  /** A copy: callers must not be able to change what the adapter declares. */
  async getCapabilities(): Promise<Capability[]> {
    return [...FLUIDSTACK_CAPABILITIES];
  }

  getCloudProviderId(): string {
    return FLUIDSTACK_PROVIDER_ID;
  }

  getReferenceId(): string {
    return this.refId;
  }

  /** One token is one tenant; the ID is a truncated hash, never the token. */
  async getTenantId(): Promise<string> {
    return hashedTenantId('fluidstack', this.apiToken);
  }

  /** A client for one configured region, or for every region with "" (the catalog view). */
  async makeClient(location: string): Promise<CloudClient> {
    if (location === ALL_FLUIDSTACK_REGIONS) return new FluidstackClient(this, location, this.regions);
    const r = this.regions.find((x) => x.name === location);
    if (!r) throw new InvalidRequestError(`fluidstack: region "${location}" is not configured on connection ${this.refId} (configured: ${this.regions.map((x) => x.name).join(', ')})`);
    return new FluidstackClient(this, location, [r]);
  }

  /** The connection's prices for a type, or undefined when it states none. */
  pricesFor(type: string): FluidstackTypePrices | undefined {
    return pricesFor(this.#prices, type);
  }

  /** @internal The HTTP target (holds the token): for the client only. */
  httpTarget(): FluidstackHttpTarget {
    return { apiToken: this.apiToken, timeoutMs: this.timeoutMs, rateLimitRetries: this.rateLimitRetries, rateLimitMaxWaitMs: this.rateLimitMaxWaitMs, logger: logger() };
  }

  toJSON(): Record<string, unknown> {
    return { provider: FLUIDSTACK_PROVIDER_ID, refId: this.refId, regions: this.regions.map((r) => r.name), ...(this.testReplica ? { testReplica: true } : {}) };
  }
}
