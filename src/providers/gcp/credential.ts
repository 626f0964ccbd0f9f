/**
 * Credential of a Google Cloud connection. Authentication is what the user already has:
 *
 * - a **service-account key** (the JSON file the console or `gcloud iam service-accounts keys
 *   create` writes; zod-validated, held in a non-enumerable frozen property), signed into a
 *   self-signed JWT per request by google-auth-library's `JWT` client (Google accepts those for
 *   its APIs in place of an OAuth access token, so no token endpoint is involved);
 * - with no key, **Application Default Credentials** (`GOOGLE_APPLICATION_CREDENTIALS`,
 *   `gcloud auth application-default login`, the metadata server on GCE), through
 *   google-auth-library's `GoogleAuth` with the Compute scope; the project must then be given.
 *
 * Compute's API is global (one endpoint, every zone in the path): a client serves the configured
 * regions, the one for "" all of them.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { lazyLogger } from '../../logging/logger.js';
import type { Capability } from '../sdk/capabilities.js';
import type { ApiType, CloudClient, CloudCredential } from '../sdk/client.js';
import { hashedTenantId, httpUrlOption, isLoopbackUrl, parseCredentialOptions, refIdOption } from '../sdk/credential.js';
import { InvalidRequestError } from '../sdk/errors.js';
import { COMPUTE_API_HOST, COMPUTE_SCOPE, DEFAULT_IMAGE, GCP_PROVIDER_ID, GcpServiceAccountKeySchema, type GcpServiceAccountKey } from './api.js';
import { GcpClient, GCP_CAPABILITIES } from './client.js';
import { GCP_REGIONS } from './regions.js';

/** SkyPilot's GCP catalog in the repo's data/ folder (see data/skypilot-catalog/MANIFEST.md). */
export const DEFAULT_GCP_CATALOG_FILE = join(import.meta.dirname, '..', '..', '..', 'data', 'skypilot-catalog', 'gcp', 'vms.csv');

const regionName = z
  .string()
  .regex(/^[a-z]+-[a-z]+\d+$/, 'regions entries are Google Cloud region names such as us-central1 or europe-west4')
  .refine((r) => r in GCP_REGIONS, { message: "region is not in the adapter's region → country table (src/providers/gcp/regions.ts): add it there with its country" });

export const GcpCredentialOptionsSchema = z
  .object({
    refId: refIdOption,
    /** Regions this connection may use, e.g. ["us-central1", "europe-west4"]. */
    regions: z.array(regionName, { message: 'regions must list Google Cloud regions such as ["us-central1"]' }).min(1, 'regions must list at least one Google Cloud region such as us-central1'),
    /** A service-account key; without it, Application Default Credentials. */
    key: GcpServiceAccountKeySchema.optional(),
    /** The project; default: the key's project_id (required with ADC). */
    project: z.string().regex(/^[a-z][-a-z0-9.:]{4,62}[a-z0-9]$/, 'project must be a Google Cloud project ID such as my-gpu-project').optional(),
    /** Compute's API root instead of https://compute.googleapis.com; tests point it at the replica. */
    endpoint: httpUrlOption('endpoint', 'endpoint must be a URL such as https://compute.googleapis.com').optional(),
    /** SkyPilot's GCP vms.csv (host VM and accelerator prices per zone); default data/skypilot-catalog/gcp/vms.csv. */
    catalogFile: z.string().min(1).optional(),
    /** Boot image (URL or `projects/P/global/images[/family]/X`); default the Deep Learning VM family with CUDA. */
    image: z.string().regex(/^(https:\/\/\S+|projects\/[a-z][-a-z0-9]+\/global\/images\/\S+)$/, 'image must be an image path such as projects/deeplearning-platform-release/global/images/family/common-cu124-ubuntu-2204-py310').default(DEFAULT_IMAGE),
    /** Attempts per call (first included); throttling (429) and 5xx are retried with backoff. Default 4. */
    maxAttempts: z.number().int().min(1).max(10).default(4),
    /** First backoff of a retried call; doubled per attempt (with jitter), at most 8 s. Default 500 ms. */
    backoffMs: z.number().int().positive().default(500),
    /** Per-request timeout; default 60 s (zoneOperations.wait answers within about 2 min at most). */
    timeoutMs: z.number().int().positive().default(60_000),
    /** How long a create waits for its insert operation to be DONE; default 3 min. */
    operationTimeoutMs: z.number().int().positive().default(180_000),
    /** How often callers should poll an instance; default 5 s. */
    instancePollMs: z.number().int().positive().default(5_000),
    /** Test only: the endpoint is the local replica (test/replicas/gcp); refused unless it is a loopback URL. */
    testReplica: z.boolean().default(false),
  })
  .strict()
  .refine((o) => o.key !== undefined || o.project !== undefined, { message: 'project is required with Application Default Credentials (no service-account key given)', path: ['project'] })
  .refine((o) => !o.testReplica || (o.endpoint !== undefined && isLoopbackUrl(o.endpoint)), {
    message: 'testReplica is for local replicas only: endpoint must be a loopback URL such as http://127.0.0.1:PORT',
    path: ['testReplica'],
  });
export type GcpCredentialOptions = z.input<typeof GcpCredentialOptionsSchema>;

const logger = lazyLogger('gcp');

type ComputeModule = typeof import('@google-cloud/compute');
/** The SDK, loaded on first use: it is large (protos of every Compute service). */
let computeModule: Promise<ComputeModule> | undefined;
function loadCompute(): Promise<ComputeModule> {
  computeModule ??= import('@google-cloud/compute');
  return computeModule;
}

/** The SDK clients the adapter uses, sharing one auth client. */
export interface ComputeClients {
  instances: InstanceType<ComputeModule['InstancesClient']>;
  zoneOperations: InstanceType<ComputeModule['ZoneOperationsClient']>;
  zones: InstanceType<ComputeModule['ZonesClient']>;
  regions: InstanceType<ComputeModule['RegionsClient']>;
  machineTypes: InstanceType<ComputeModule['MachineTypesClient']>;
}

export class GcpCredential implements CloudCredential {
  readonly refId: string;
  readonly regions: readonly string[];
  readonly project: string;
  readonly endpoint: string | undefined;
  readonly catalogFile: string;
  readonly image: string;
  readonly maxAttempts: number;
  readonly backoffMs: number;
  readonly timeoutMs: number;
  readonly operationTimeoutMs: number;
  readonly instancePollMs: number;
  readonly testReplica: boolean;
  /** Not enumerable, so it stays out of JSON, logs and inspection. */
  declare readonly key: GcpServiceAccountKey | undefined;
  #clients: Promise<ComputeClients> | undefined;

  constructor(opts: GcpCredentialOptions) {
    const data = parseCredentialOptions(GcpCredentialOptionsSchema, opts, 'GCP');
    this.refId = data.refId;
    this.regions = [...new Set(data.regions)];
    this.project = data.project ?? data.key!.project_id;
    this.endpoint = data.endpoint;
    this.catalogFile = data.catalogFile ?? DEFAULT_GCP_CATALOG_FILE;
    this.image = data.image;
    this.maxAttempts = data.maxAttempts;
    this.backoffMs = data.backoffMs;
    this.timeoutMs = data.timeoutMs;
    this.operationTimeoutMs = data.operationTimeoutMs;
    this.instancePollMs = data.instancePollMs;
    this.testReplica = data.testReplica;
    Object.defineProperty(this, 'key', { value: data.key ? Object.freeze({ ...data.key }) : undefined, enumerable: false, writable: false });
  }

  /** One endpoint for every zone. */
  getApiType(): ApiType {
    return 'global';
  }

  async getCapabilities(): Promise<Capability[]> {
    return [...GCP_CAPABILITIES];
  }

  getCloudProviderId(): string {
    return GCP_PROVIDER_ID;
  }

  getReferenceId(): string {
    return this.refId;
  }

  /** A hash of the project and the service account (or "adc"); never a secret. */
  async getTenantId(): Promise<string> {
    return hashedTenantId('gcp', `${this.project}\u0000${this.key?.client_email ?? 'adc'}`);
  }

  /** A client for one configured region, or for every configured region with "". */
  async makeClient(location: string): Promise<CloudClient> {
    if (location === '') return new GcpClient(this, location, this.regions);
    if (!this.regions.includes(location)) {
      throw new InvalidRequestError(`gcp: region "${location}" is not configured on connection ${this.refId} (configured: ${this.regions.join(', ')}); add it to the connection's regions`);
    }
    return new GcpClient(this, location, this.regions);
  }

  /** @internal The SDK clients (they hold the auth client): for the adapter's client only. */
  compute(): Promise<ComputeClients> {
    this.#clients ??= (async () => {
      // google-auth-library loads with the SDK, not whenever connections.yaml is read.
      const [m, { GoogleAuth, JWT }] = await Promise.all([loadCompute(), import('google-auth-library')]);
      const key = this.key;
      // A service-account key signs a self-signed JWT per request (audience: the Compute API).
      const auth = key ? { authClient: new JWT({ email: key.client_email, key: key.private_key, keyId: key.private_key_id }) } : { auth: new GoogleAuth({ scopes: [COMPUTE_SCOPE], projectId: this.project }) };
      const url = this.endpoint ? new URL(this.endpoint) : undefined;
      const opts = {
        ...auth,
        projectId: this.project,
        // Compute v1 is a REST API: the SDK's REST transport (google-gax "fallback").
        fallback: true,
        ...(url
          ? { apiEndpoint: url.hostname, port: Number(url.port || (url.protocol === 'http:' ? 80 : 443)), protocol: url.protocol.replace(':', '') }
          : { apiEndpoint: COMPUTE_API_HOST }),
      };
      return {
        instances: new m.InstancesClient(opts),
        zoneOperations: new m.ZoneOperationsClient(opts),
        zones: new m.ZonesClient(opts),
        regions: new m.RegionsClient(opts),
        machineTypes: new m.MachineTypesClient(opts),
      };
    })();
    this.#clients.catch(() => (this.#clients = undefined));
    return this.#clients;
  }

  /** @internal */
  logger() {
    return logger();
  }

  toJSON(): Record<string, unknown> {
    return {
      provider: GCP_PROVIDER_ID,
      refId: this.refId,
      project: this.project,
      regions: [...this.regions],
      auth: this.key ? 'service-account-key' : 'application-default',
      ...(this.endpoint ? { endpoint: this.endpoint } : {}),
      ...(this.testReplica ? { testReplica: true } : {}),
    };
  }
}
