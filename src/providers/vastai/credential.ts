/** Credential of a Vast.ai connection: an API key, sent as `Authorization: Bearer <key>`. */
import { z } from 'zod';
import { createLogger, type Logger } from '../../logging/logger.js';
import { RATE_LIMIT_OPTION_FIELDS } from '../http/rateLimit.js';
import type { CloudClient } from '../sdk/client.js';
import { ApiKeyCredential, headerSecretOption, httpUrlOption, isLoopbackUrl, parseCredentialOptions, refIdOption } from '../sdk/credential.js';
import { VASTAI_DEFAULT_BASE_URL, VASTAI_DEFAULT_IMAGE, VASTAI_PROVIDER_ID } from './api.js';
import { VastaiClient, VASTAI_CAPABILITIES } from './client.js';
import type { VastHttpTarget } from './http.js';

export const VastaiCredentialOptionsSchema = z
  .object({
    refId: refIdOption,
    /** Vast's API key (Authorization: Bearer), from cloud.vast.ai/manage-keys. */
    apiKey: headerSecretOption('apiKey', 'the Vast.ai API key'),
    /** Default https://console.vast.ai; tests point it at a replica. */
    baseUrl: httpUrlOption('baseUrl', 'baseUrl must be a URL such as https://console.vast.ai').optional(),
    /** Per-request timeout; default 30 s. */
    timeoutMs: z.number().int().positive().optional(),
    /** How often callers should poll an instance; default 5 s (show instance allows one call per 2 s). */
    instancePollMs: z.number().int().positive().optional(),
    /** rateLimitRetries (default 2) and rateLimitMaxWaitMs (default 15 s): see ../http/rateLimit.ts. */
    ...RATE_LIMIT_OPTION_FIELDS,
    /** Docker image when a create names none; default the spec's `vastai/base-image:@vastai-automatic-tag`. */
    image: z.string().min(1, 'image must be a Docker image reference such as vastai/base-image:@vastai-automatic-tag').default(VASTAI_DEFAULT_IMAGE),
    /** Disk (GB) when a create names no size; default 16. */
    diskGb: z.number().int().positive().max(100_000).default(16),
    /** How many asks one catalog search reads (Vast counts searched rows against a daily quota); default 1000. */
    searchLimit: z.number().int().positive().max(10_000).default(1000),
    /**
     * Test only: baseUrl is a local replica (test/replicas/vastai) whose machines are sshd
     * processes run as the test user, who is not root; the SSH user is then read from the replica's
     * `gpuflow_replica` field. Refused unless baseUrl is a loopback address.
     */
    testReplica: z.boolean().default(false),
  })
  .strict()
  .refine((o) => !o.testReplica || (o.baseUrl !== undefined && isLoopbackUrl(o.baseUrl)), {
    message: 'testReplica is for local replicas only: baseUrl must be a loopback URL such as http://127.0.0.1:PORT',
    path: ['testReplica'],
  });
export type VastaiCredentialOptions = z.input<typeof VastaiCredentialOptionsSchema>;

let defaultLogger: Logger | undefined;
function logger(): Logger {
  return (defaultLogger ??= createLogger('vastai', process.env.GPUFLOW_LOG_LEVEL ?? 'warn'));
}

export class VastaiCredential extends ApiKeyCredential {
  readonly image: string;
  readonly diskGb: number;
  readonly searchLimit: number;

  constructor(opts: VastaiCredentialOptions) {
    const data = parseCredentialOptions(VastaiCredentialOptionsSchema, opts, 'Vast.ai');
    super(data, { id: VASTAI_PROVIDER_ID, capabilities: VASTAI_CAPABILITIES, defaultBaseUrl: VASTAI_DEFAULT_BASE_URL, tenantPrefix: 'vastai' });
    this.image = data.image;
    this.diskGb = data.diskGb;
    this.searchLimit = data.searchLimit;
  }

  /** The API is global (countries are a search filter): one client serves every location. */
  override async makeClient(location: string): Promise<CloudClient> {
    return new VastaiClient(this, location);
  }

  /** @internal The HTTP target (holds the key): for the client only. */
  httpTarget(): VastHttpTarget {
    return { ...this.httpTargetFields(), logger: logger() };
  }
}
