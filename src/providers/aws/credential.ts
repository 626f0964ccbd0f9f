/**
 * Credential of an AWS connection. Authentication is whatever the user already has, resolved by
 * the SDK: static keys given here (an IAM access key, zod-validated, never enumerable), a named
 * profile (`~/.aws/config`/`credentials`, SSO included), or, with neither, the SDK's default chain
 * (environment, shared files, web identity, ECS/EC2 instance role). EC2 is regional: a client
 * serves one configured region, and the client for "" every configured region (the catalog view).
 */
import { join } from 'node:path';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { checkEc2Answers } from './answerCheck.js';
import { z } from 'zod';
import { lazyLogger } from '../../logging/logger.js';
import type { Capability } from '../sdk/capabilities.js';
import type { ApiType, CloudClient, CloudCredential } from '../sdk/client.js';
import { hashedTenantId, httpUrlOption, isLoopbackUrl, parseCredentialOptions, refIdOption } from '../sdk/credential.js';
import { InvalidRequestError } from '../sdk/errors.js';
import { AWS_CAPABILITIES, AWS_PROVIDER_ID, AwsStaticKeysSchema, DEFAULT_AMI_NAME_PATTERN, type AwsStaticKeys } from './api.js';
import { AWS_REGIONS } from './regions.js';

/** SkyPilot's AWS catalog in the repo's data/ folder (see data/skypilot-catalog/MANIFEST.md). */
export const DEFAULT_AWS_CATALOG_FILE = join(import.meta.dirname, '..', '..', '..', 'data', 'skypilot-catalog', 'aws', 'vms.csv');

const regionName = z
  .string()
  .regex(/^[a-z]{2}(-gov)?-[a-z]+-\d+$/, 'regions entries are AWS region codes such as us-east-1 or eu-central-1')
  .refine((r) => r in AWS_REGIONS, { message: 'region is not in the adapter\'s region → country table (src/providers/aws/regions.ts): add it there with its country' });

export const AwsCredentialOptionsSchema = z
  .object({
    refId: refIdOption,
    /** Regions this connection may use, e.g. ["us-east-1", "eu-central-1"]. */
    regions: z.array(regionName, { message: 'regions must list AWS region codes such as ["us-east-1"]' }).min(1, 'regions must list at least one AWS region such as us-east-1'),
    /** Static keys; without them (and without `profile`) the SDK's default chain is used. */
    keys: AwsStaticKeysSchema.optional(),
    /** A profile of ~/.aws/config (SSO, assume-role and credential_process profiles included). */
    profile: z.string().min(1, 'profile must name a profile of ~/.aws/config').optional(),
    /** One endpoint for every region instead of https://ec2.<region>.amazonaws.com; tests point it at the replica. */
    endpoint: httpUrlOption('endpoint', 'endpoint must be a URL such as https://ec2.us-east-1.amazonaws.com').optional(),
    /** SkyPilot's AWS vms.csv (on-demand prices, zones); default data/skypilot-catalog/aws/vms.csv. */
    catalogFile: z.string().min(1).optional(),
    /** An AMI for every create that names none; default: the newest Deep Learning Base AMI found by name. */
    amiId: z.string().regex(/^ami-[0-9a-f]{8,17}$/, 'amiId must be an AMI ID such as ami-0abcdef1234567890').optional(),
    amiNamePattern: z.string().min(1).default(DEFAULT_AMI_NAME_PATTERN),
    /**
     * Spot hunting: a spot create asks this many zones of the region at once (the offer's zone
     * first, then the cheapest other zones offering spot for the type), keeps the first instance
     * EC2 gives and terminates the others. Default 1: the offer's zone only.
     */
    spotHuntZones: z.number().int().min(1).max(6).default(1),
    /** SDK attempts per call (first try included); throttling and 5xx are retried with backoff. Default 3. */
    maxAttempts: z.number().int().min(1).max(10).default(3),
    /** Per-request timeout; default 30 s. */
    timeoutMs: z.number().int().positive().default(30_000),
    /** How often callers should poll an instance; default 5 s. */
    instancePollMs: z.number().int().positive().default(5_000),
    /** Test only: the endpoint is the local replica (test/replicas/aws); refused unless it is a loopback URL. */
    testReplica: z.boolean().default(false),
  })
  .strict()
  .refine((o) => !(o.keys && o.profile), { message: 'set keys or profile, not both', path: ['profile'] })
  .refine((o) => !o.testReplica || (o.endpoint !== undefined && isLoopbackUrl(o.endpoint)), {
    message: 'testReplica is for local replicas only: endpoint must be a loopback URL such as http://127.0.0.1:PORT',
    path: ['testReplica'],
  });
export type AwsCredentialOptions = z.input<typeof AwsCredentialOptionsSchema>;

const logger = lazyLogger('aws');

export class AwsCredential implements CloudCredential {
  readonly refId: string;
  readonly regions: readonly string[];
  readonly profile: string | undefined;
  readonly endpoint: string | undefined;
  readonly catalogFile: string;
  readonly amiId: string | undefined;
  readonly amiNamePattern: string;
  readonly maxAttempts: number;
  readonly spotHuntZones: number;
  readonly timeoutMs: number;
  readonly instancePollMs: number;
  readonly testReplica: boolean;
  /** Not enumerable, so it stays out of JSON, logs and inspection. */
  declare readonly keys: AwsStaticKeys | undefined;
  readonly #clients = new Map<string, EC2Client>();
  /** The SDK's client class, loaded with the first client: reading connections.yaml does not load the SDK. */
  #Ec2Client: typeof EC2Client | undefined;

  constructor(opts: AwsCredentialOptions) {
    const data = parseCredentialOptions(AwsCredentialOptionsSchema, opts, 'AWS');
    this.refId = data.refId;
    this.regions = [...new Set(data.regions)];
    this.profile = data.profile;
    this.endpoint = data.endpoint;
    this.catalogFile = data.catalogFile ?? DEFAULT_AWS_CATALOG_FILE;
    this.amiId = data.amiId;
    this.amiNamePattern = data.amiNamePattern;
    this.maxAttempts = data.maxAttempts;
    this.spotHuntZones = data.spotHuntZones;
    this.timeoutMs = data.timeoutMs;
    this.instancePollMs = data.instancePollMs;
    this.testReplica = data.testReplica;
    Object.defineProperty(this, 'keys', { value: data.keys ? Object.freeze({ ...data.keys }) : undefined, enumerable: false, writable: false });
  }

  /** EC2 endpoints are regional. */
  getApiType(): ApiType {
    return 'locational';
  }

  async getCapabilities(): Promise<Capability[]> {
    return [...AWS_CAPABILITIES];
  }

  getCloudProviderId(): string {
    return AWS_PROVIDER_ID;
  }

  getReferenceId(): string {
    return this.refId;
  }

  /** A hash of what names the account here (access key ID, profile, or the default chain); never a secret. */
  async getTenantId(): Promise<string> {
    return hashedTenantId('aws', this.keys?.accessKeyId ?? `profile:${this.profile ?? 'default-chain'}`);
  }

  /** A client for one configured region, or for every configured region with "". */
  async makeClient(location: string): Promise<CloudClient> {
    const [{ AwsClient }, { EC2Client }] = await Promise.all([import('./client.js'), import('@aws-sdk/client-ec2')]);
    this.#Ec2Client ??= EC2Client;
    if (location === '') return new AwsClient(this, location, this.regions);
    if (!this.regions.includes(location)) {
      throw new InvalidRequestError(`aws: region "${location}" is not configured on connection ${this.refId} (configured: ${this.regions.join(', ')}); add it to the connection's regions`);
    }
    return new AwsClient(this, location, [location]);
  }

  /** @internal The SDK client of a region (holds the credentials): for the adapter's client only. */
  ec2(region: string): EC2Client {
    let c = this.#clients.get(region);
    if (!c) {
      if (!this.#Ec2Client) throw new Error('aws: ec2() before makeClient() loaded the SDK');
      c = new this.#Ec2Client({
        region,
        maxAttempts: this.maxAttempts,
        requestHandler: { requestTimeout: this.timeoutMs, connectionTimeout: Math.min(this.timeoutMs, 10_000) },
        ...(this.endpoint ? { endpoint: this.endpoint } : {}),
        ...(this.keys ? { credentials: { accessKeyId: this.keys.accessKeyId, secretAccessKey: this.keys.secretAccessKey, ...(this.keys.sessionToken ? { sessionToken: this.keys.sessionToken } : {}) } } : {}),
        ...(this.profile ? { profile: this.profile } : {}),
      });
      checkEc2Answers(c);
      this.#clients.set(region, c);
    }
    return c;
  }

  /** @internal */
  logger() {
    return logger();
  }

  toJSON(): Record<string, unknown> {
    return {
      provider: AWS_PROVIDER_ID,
      refId: this.refId,
      regions: [...this.regions],
      auth: this.keys ? 'static-keys' : this.profile ? `profile:${this.profile}` : 'default-chain',
      ...(this.endpoint ? { endpoint: this.endpoint } : {}),
      ...(this.testReplica ? { testReplica: true } : {}),
    };
  }
}
