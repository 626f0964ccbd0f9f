/**
 * Credential of a Nebius AI Cloud connection: an IAM access token (`nebius iam get-access-token`,
 * or a service account's token), sent as `authorization: Bearer …` gRPC metadata on every call.
 * The token is zod-validated and held in a non-enumerable property, so it stays out of JSON, logs
 * and workflow history. Each Nebius project lives in one region: the connection maps every region
 * it uses to its project (where instances are created) and subnet (their network interface).
 */
import { z } from 'zod';
import { lazyLogger } from '../../logging/logger.js';
import type { Capability } from '../sdk/capabilities.js';
import type { ApiType, CloudClient, CloudCredential } from '../sdk/client.js';
import { hashedTenantId, hideSecret, parseCredentialOptions, refIdOption } from '../sdk/credential.js';
import { InvalidRequestError } from '../sdk/errors.js';
import { DEFAULT_IMAGE_FAMILY, DEFAULT_NEBIUS_ENDPOINT, NEBIUS_PROVIDER_ID } from './api.js';
import { DEFAULT_NEBIUS_PRICE_FILE } from './catalog.js';
import { NebiusClient, NEBIUS_CAPABILITIES } from './client.js';
import { NEBIUS_REGIONS } from './regions.js';


const RegionProjectSchema = z
  .object({
    /** The project's ID, e.g. project-e00abc123def456 (`nebius iam project list`). */
    projectId: z.string().regex(/^project-[a-z0-9]+$/, 'projectId must be a Nebius project ID such as project-e00abc123def456'),
    /** The subnet instances get their network interface in, e.g. vpcsubnet-e00abc… (`nebius vpc subnet list`). */
    subnetId: z.string().regex(/^vpcsubnet-[a-z0-9]+$/, 'subnetId must be a Nebius subnet ID such as vpcsubnet-e00abc123def456'),
  })
  .strict();

/** `host:port`, no scheme: what gRPC dials. */
const endpointOption = z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'endpoint must be host:port such as compute.api.nebius.cloud:443');

export const NebiusCredentialOptionsSchema = z
  .object({
    refId: refIdOption,
    /** An IAM access token. Never logged. */
    iamToken: z.string({ message: 'iamToken is required: an IAM access token (`nebius iam get-access-token`)' }).min(20, 'iamToken looks too short for a Nebius IAM access token'),
    /** Region → its project and subnet, e.g. {"eu-north1": {projectId, subnetId}}. */
    projects: z
      .record(z.string(), RegionProjectSchema)
      .refine((p) => Object.keys(p).length > 0, 'projects must map at least one region such as eu-north1 to its project and subnet')
      .superRefine((p, ctx) => {
        for (const r of Object.keys(p)) {
          if (!(r in NEBIUS_REGIONS)) ctx.addIssue({ code: 'custom', path: [r], message: `"${r}" is not a Nebius region in the adapter's region → country table (src/providers/nebius/regions.ts: ${Object.keys(NEBIUS_REGIONS).join(', ')})` });
        }
      }),
    /** Compute's gRPC endpoint; tests point it at the replica. */
    endpoint: endpointOption.default(DEFAULT_NEBIUS_ENDPOINT),
    /** TLS to the endpoint (default on); off only for a loopback replica. */
    tls: z.boolean().default(true),
    /** The price table (SkyPilot's Nebius vms.csv layout); default data/skypilot-catalog/nebius/vms.csv. */
    priceFile: z.string().min(1).optional(),
    /** Boot image family; default Ubuntu 22.04 with CUDA 12. */
    imageFamily: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, 'imageFamily must be a Nebius image family such as ubuntu22.04-cuda12').default(DEFAULT_IMAGE_FAMILY),
    /** Attempts per call (first included); UNAVAILABLE/DEADLINE_EXCEEDED are retried with backoff. Default 4. */
    maxAttempts: z.number().int().min(1).max(10).default(4),
    backoffMs: z.number().int().positive().default(500),
    /** Per-call deadline; default 30 s. */
    timeoutMs: z.number().int().positive().default(30_000),
    /** How long a create waits for its operation; default 5 min. */
    operationTimeoutMs: z.number().int().positive().default(300_000),
    /** Operation poll interval; default 2 s. */
    operationPollMs: z.number().int().positive().default(2_000),
    instancePollMs: z.number().int().positive().default(5_000),
    /** Test only: the endpoint is the local replica (test/replicas/nebius); refused unless loopback. */
    testReplica: z.boolean().default(false),
  })
  .strict()
  .refine((o) => o.tls || /^(127\.0\.0\.1|localhost|\[::1\]):/.test(o.endpoint), { message: 'tls may be off only for a loopback endpoint such as 127.0.0.1:PORT (the IAM token would travel in clear)', path: ['tls'] })
  .refine((o) => !o.testReplica || /^(127\.0\.0\.1|localhost):/.test(o.endpoint), { message: 'testReplica is for local replicas only: endpoint must be 127.0.0.1:PORT', path: ['testReplica'] });
export type NebiusCredentialOptions = z.input<typeof NebiusCredentialOptionsSchema>;
type Parsed = z.output<typeof NebiusCredentialOptionsSchema>;

export const NEBIUS_LOGGER = lazyLogger('nebius');

export class NebiusCredential implements CloudCredential {
  readonly refId: string;
  readonly projects: Readonly<Parsed['projects']>;
  readonly regions: readonly string[];
  readonly endpoint: string;
  readonly tls: boolean;
  readonly priceFile: string;
  readonly imageFamily: string;
  readonly maxAttempts: number;
  readonly backoffMs: number;
  readonly timeoutMs: number;
  readonly operationTimeoutMs: number;
  readonly operationPollMs: number;
  readonly instancePollMs: number;
  readonly testReplica: boolean;
  declare readonly iamToken: string;

  constructor(opts: NebiusCredentialOptions) {
    const d = parseCredentialOptions(NebiusCredentialOptionsSchema, opts, 'Nebius');
    this.refId = d.refId;
    this.projects = Object.freeze({ ...d.projects });
    this.regions = Object.keys(d.projects);
    this.endpoint = d.endpoint;
    this.tls = d.tls;
    this.priceFile = d.priceFile ?? DEFAULT_NEBIUS_PRICE_FILE;
    this.imageFamily = d.imageFamily;
    this.maxAttempts = d.maxAttempts;
    this.backoffMs = d.backoffMs;
    this.timeoutMs = d.timeoutMs;
    this.operationTimeoutMs = d.operationTimeoutMs;
    this.operationPollMs = d.operationPollMs;
    this.instancePollMs = d.instancePollMs;
    this.testReplica = d.testReplica;
    hideSecret(this, 'iamToken', d.iamToken);
  }

  getApiType(): ApiType {
    return 'global';
  }
  async getCapabilities(): Promise<Capability[]> {
    return [...NEBIUS_CAPABILITIES];
  }
  getCloudProviderId(): string {
    return NEBIUS_PROVIDER_ID;
  }
  getReferenceId(): string {
    return this.refId;
  }
  /** The projects are the tenant (a token rotates; its projects do not); never a secret. */
  async getTenantId(): Promise<string> {
    return hashedTenantId('nebius', Object.values(this.projects).map((p) => p.projectId).sort().join('\u0000'));
  }

  /** The region whose project is `projectId`, if the connection has it. */
  regionOfProject(projectId: string): string | undefined {
    return this.regions.find((r) => this.projects[r]!.projectId === projectId);
  }

  async makeClient(location: string): Promise<CloudClient> {
    if (location !== '' && !this.regions.includes(location)) {
      throw new InvalidRequestError(`nebius: region "${location}" is not configured on connection ${this.refId} (configured: ${this.regions.join(', ')}); add it to the connection's projects`);
    }
    return new NebiusClient(this, location);
  }

  toJSON(): Record<string, unknown> {
    return { provider: NEBIUS_PROVIDER_ID, refId: this.refId, endpoint: this.endpoint, regions: [...this.regions], auth: 'iam-token', ...(this.testReplica ? { testReplica: true } : {}) };
  }
}
