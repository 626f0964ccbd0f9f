/**
 * Credential of an Azure connection: a service principal (tenant, client ID, client secret) and
 * the subscription it works in, as `az ad sp create-for-rbac` makes it. @azure/identity's
 * `ClientSecretCredential` gets tokens for ARM from Microsoft Entra ID (client-credentials flow);
 * the ARM clients of @azure/arm-compute and @azure/arm-network carry them.
 *
 * The secret is zod-validated and held in a non-enumerable frozen property (out of JSON, logs and
 * inspection). The authority host, the ARM endpoint and its token audience are options, for
 * sovereign clouds and Azure Stack Hub, and so tests point them at the local replica; `caFile`
 * adds a CA certificate the TLS connections trust (Azure Stack Hub's own CA, the replica's).
 *
 * ARM is global (one endpoint, the region in each resource): a client serves the configured
 * regions, the one for "" all of them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { lazyLogger } from '../../logging/logger.js';
import type { Capability } from '../sdk/capabilities.js';
import type { ApiType, CloudClient, CloudCredential } from '../sdk/client.js';
import { hashedTenantId, httpUrlOption, isLoopbackUrl, parseCredentialOptions, refIdOption } from '../sdk/credential.js';
import { InvalidRequestError } from '../sdk/errors.js';
import { ARM_ENDPOINT, AZURE_PROVIDER_ID, AzureServicePrincipalSchema, DEFAULT_IMAGE, type AzureServicePrincipal } from './api.js';
import { AzureClient, AZURE_CAPABILITIES } from './client.js';
import { AZURE_REGIONS } from './regions.js';

/** The price file in the repo's data/ folder (see data/azure/README.md for its provenance). */
export const DEFAULT_AZURE_CATALOG_FILE = join(import.meta.dirname, '..', '..', '..', 'data', 'azure', 'vms.csv');

const regionName = z
  .string()
  .regex(/^[a-z]+[a-z0-9]*$/, 'regions entries are Azure region names such as eastus or westeurope (lower case, no spaces)')
  .refine((r) => r in AZURE_REGIONS, { message: "region is not in the adapter's region → country table (src/providers/azure/regions.ts): add it there with its country" });

const imageUrn = z.string().regex(/^[\w.-]+:[\w.-]+:[\w.-]+:[\w.-]+$/, 'image must be a marketplace image URN publisher:offer:sku:version such as microsoft-dsvm:ubuntu-hpc:2204:latest');

export const AzureCredentialOptionsSchema = z
  .object({
    refId: refIdOption,
    servicePrincipal: AzureServicePrincipalSchema,
    /** Regions this connection may use, e.g. ["eastus", "westeurope"]. */
    regions: z.array(regionName, { message: 'regions must list Azure regions such as ["eastus"]' }).min(1, 'regions must list at least one Azure region such as eastus'),
    /** The resource group VMs, NICs, public IPs and the virtual network go into (it must exist: az group create). */
    resourceGroup: z.string().regex(/^[-\w.()]{1,89}[-\w()]$/, 'resourceGroup must be an Azure resource group name (letters, digits, -_.(), at most 90, not ending in ".")'),
    /** ARM's root instead of https://management.azure.com; tests point it at the replica. */
    endpoint: httpUrlOption('endpoint', 'endpoint must be a URL such as https://management.azure.com').optional(),
    /** Microsoft Entra ID's host instead of the SDK's default (AUTHORITY_HOST in api.ts). */
    authorityHost: httpUrlOption('authorityHost', 'authorityHost must be a URL such as https://login.microsoftonline.com').optional(),
    /** The token audience of ARM; default https://management.azure.com. */
    armAudience: z.url('armAudience must be a URL such as https://management.azure.com').optional(),
    /** A PEM CA certificate file the TLS connections trust in addition to the system's. */
    caFile: z.string().min(1).optional(),
    /** Price file (SkyPilot's Azure vms.csv layout); default data/azure/vms.csv. */
    catalogFile: z.string().min(1).optional(),
    /** Marketplace image URN; default the Ubuntu 22.04 HPC image with the NVIDIA stack. */
    image: imageUrn.default(DEFAULT_IMAGE),
    /** Attempts per call (first included); throttling (429) and 5xx are retried with backoff. Default 4. */
    maxAttempts: z.number().int().min(1).max(10).default(4),
    /** First backoff of a retried call; doubled per attempt (with jitter), at most 8 s. Default 500 ms. */
    backoffMs: z.number().int().positive().default(500),
    /** How often a long-running operation is polled when Azure names no Retry-After; default 2 s. */
    pollIntervalMs: z.number().int().positive().default(2_000),
    /** How long a create waits for the VM's PUT to finish; default 15 min (GPU VMs take minutes). */
    operationTimeoutMs: z.number().int().positive().default(15 * 60_000),
    /** How often callers should poll an instance; default 5 s. */
    instancePollMs: z.number().int().positive().default(5_000),
    /** Test only: the endpoint is the local replica (test/replicas/azure); refused unless endpoint and authorityHost are loopback URLs. */
    testReplica: z.boolean().default(false),
  })
  .strict()
  .refine((o) => !o.testReplica || (o.endpoint !== undefined && isLoopbackUrl(o.endpoint) && o.authorityHost !== undefined && isLoopbackUrl(o.authorityHost)), {
    message: 'testReplica is for local replicas only: endpoint and authorityHost must be loopback URLs such as https://127.0.0.1:PORT',
    path: ['testReplica'],
  });
export type AzureCredentialOptions = z.input<typeof AzureCredentialOptionsSchema>;

const logger = lazyLogger('azure');

type ComputeModule = typeof import('@azure/arm-compute');
type NetworkModule = typeof import('@azure/arm-network');

/** The SDK clients the adapter uses, sharing one token credential. */
export interface AzureClients {
  compute: InstanceType<ComputeModule['ComputeManagementClient']>;
  network: InstanceType<NetworkModule['NetworkManagementClient']>;
}

/** A pipeline policy that makes every request trust `ca` (core-rest-pipeline's `tlsSettings`). */
function trustCaPolicy(ca: string) {
  return {
    name: 'gpuflowTrustCa',
    sendRequest(request: { tlsSettings?: { ca?: string } }, next: (r: unknown) => Promise<unknown>) {
      request.tlsSettings = { ...request.tlsSettings, ca };
      return next(request);
    },
  };
}

export class AzureCredential implements CloudCredential {
  readonly refId: string;
  readonly regions: readonly string[];
  readonly subscriptionId: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly resourceGroup: string;
  readonly endpoint: string | undefined;
  readonly authorityHost: string | undefined;
  readonly armAudience: string;
  readonly caFile: string | undefined;
  readonly catalogFile: string;
  readonly image: string;
  readonly maxAttempts: number;
  readonly backoffMs: number;
  readonly pollIntervalMs: number;
  readonly operationTimeoutMs: number;
  readonly instancePollMs: number;
  readonly testReplica: boolean;
  /** Not enumerable, so it stays out of JSON, logs and inspection. */
  declare readonly clientSecret: string;
  #clients: Promise<AzureClients> | undefined;

  constructor(opts: AzureCredentialOptions) {
    const data = parseCredentialOptions(AzureCredentialOptionsSchema, opts, 'Azure');
    this.refId = data.refId;
    this.regions = [...new Set(data.regions)];
    this.subscriptionId = data.servicePrincipal.subscriptionId;
    this.tenantId = data.servicePrincipal.tenantId;
    this.clientId = data.servicePrincipal.clientId;
    this.resourceGroup = data.resourceGroup;
    this.endpoint = data.endpoint?.replace(/\/+$/, '');
    this.authorityHost = data.authorityHost?.replace(/\/+$/, '');
    this.armAudience = (data.armAudience ?? ARM_ENDPOINT).replace(/\/+$/, '');
    this.caFile = data.caFile;
    this.catalogFile = data.catalogFile ?? DEFAULT_AZURE_CATALOG_FILE;
    this.image = data.image;
    this.maxAttempts = data.maxAttempts;
    this.backoffMs = data.backoffMs;
    this.pollIntervalMs = data.pollIntervalMs;
    this.operationTimeoutMs = data.operationTimeoutMs;
    this.instancePollMs = data.instancePollMs;
    this.testReplica = data.testReplica;
    Object.defineProperty(this, 'clientSecret', { value: data.servicePrincipal.clientSecret, enumerable: false, writable: false });
  }

  /** One endpoint for every region. */
  getApiType(): ApiType {
    return 'global';
  }

  async getCapabilities(): Promise<Capability[]> {
    return [...AZURE_CAPABILITIES];
  }

  getCloudProviderId(): string {
    return AZURE_PROVIDER_ID;
  }

  getReferenceId(): string {
    return this.refId;
  }

  /** A hash of the tenant, subscription and client ID; never the secret. */
  async getTenantId(): Promise<string> {
    return hashedTenantId('azure', `${this.tenantId}\u0000${this.subscriptionId}\u0000${this.clientId}`);
  }

  /** A client for one configured region, or for every configured region with "". */
  async makeClient(location: string): Promise<CloudClient> {
    if (location !== '' && !this.regions.includes(location)) {
      throw new InvalidRequestError(`azure: region "${location}" is not configured on connection ${this.refId} (configured: ${this.regions.join(', ')}); add it to the connection's regions`);
    }
    return new AzureClient(this, location, this.regions);
  }

  /** @internal The SDK clients (they hold the token credential): for the adapter's client only. */
  clients(): Promise<AzureClients> {
    this.#clients ??= (async () => {
      const [compute, network, identity] = await Promise.all([import('@azure/arm-compute'), import('@azure/arm-network'), import('@azure/identity')]);
      let ca: string | undefined;
      if (this.caFile) {
        try {
          ca = readFileSync(this.caFile, 'utf8');
        } catch (e) {
          throw new InvalidRequestError(`azure: caFile ${this.caFile} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); point it at a PEM CA certificate`);
        }
      }
      const additionalPolicies = ca ? [{ policy: trustCaPolicy(ca) as never, position: 'perCall' as const }] : [];
      const token = new identity.ClientSecretCredential(this.tenantId, this.clientId, this.clientSecret, {
        ...(this.authorityHost ? { authorityHost: this.authorityHost, disableInstanceDiscovery: true } : {}),
        additionalPolicies,
      });
      // The adapter retries itself (callAzure), with its own logging and error map.
      const common = { endpoint: this.endpoint ?? ARM_ENDPOINT, additionalPolicies, retryOptions: { maxRetries: 0 } };
      return {
        compute: new compute.ComputeManagementClient(token, this.subscriptionId, { ...common, credentials: { scopes: [`${this.armAudience}/.default`] } }),
        network: new network.NetworkManagementClient(token, this.subscriptionId, { ...common, credentialScopes: [`${this.armAudience}/.default`] }),
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
      provider: AZURE_PROVIDER_ID,
      refId: this.refId,
      tenantId: this.tenantId,
      clientId: this.clientId,
      subscriptionId: this.subscriptionId,
      resourceGroup: this.resourceGroup,
      regions: [...this.regions],
      ...(this.endpoint ? { endpoint: this.endpoint } : {}),
      ...(this.testReplica ? { testReplica: true } : {}),
    };
  }
}

export type { AzureServicePrincipal };
