/** Credential of a Shadeform connection: an API key, sent as the `X-API-KEY` header. */
import { z } from 'zod';
import { createLogger, type Logger } from '../../logging/logger.js';
import { RATE_LIMIT_OPTION_FIELDS } from '../http/rateLimit.js';
import type { CloudClient } from '../sdk/client.js';
import { ApiKeyCredential, headerSecretOption, httpUrlOption, isLoopbackUrl, parseCredentialOptions, refIdOption } from '../sdk/credential.js';
import { SHADEFORM_DEFAULT_BASE_URL, SHADEFORM_PROVIDER_ID } from './api.js';
import { ShadeformClient, SHADEFORM_CAPABILITIES } from './client.js';
import type { ShadeformHttpTarget } from './http.js';

export const ShadeformCredentialOptionsSchema = z
  .object({
    refId: refIdOption,
    /** Shadeform's API key (the X-API-KEY header). */
    apiKey: headerSecretOption('apiKey', 'the Shadeform API key'),
    /** Default https://api.shadeform.ai/v1; tests point it at a replica. */
    baseUrl: httpUrlOption('baseUrl', 'baseUrl must be a URL such as https://api.shadeform.ai/v1').optional(),
    /** Per-request timeout; default 30 s. */
    timeoutMs: z.number().int().positive().optional(),
    /** How often callers should poll an instance; default 5 s. */
    instancePollMs: z.number().int().positive().optional(),
    /** rateLimitRetries (default 2) and rateLimitMaxWaitMs (default 15 s): see ../http/rateLimit.ts. */
    ...RATE_LIMIT_OPTION_FIELDS,
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

export class ShadeformCredential extends ApiKeyCredential {
  constructor(opts: ShadeformCredentialOptions) {
    const data = parseCredentialOptions(ShadeformCredentialOptionsSchema, opts, 'Shadeform');
    super(data, { id: SHADEFORM_PROVIDER_ID, capabilities: SHADEFORM_CAPABILITIES, defaultBaseUrl: SHADEFORM_DEFAULT_BASE_URL, tenantPrefix: 'shadeform' });
  }

  /** The API is global (regions are a filter): one client serves every region. */
  override async makeClient(location: string): Promise<CloudClient> {
    return new ShadeformClient(this, location);
  }

  /** @internal The HTTP target (holds the key): for the client only. */
  httpTarget(): ShadeformHttpTarget {
    return { ...this.httpTargetFields(), logger: logger() };
  }
}
