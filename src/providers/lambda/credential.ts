/** Credential of a Lambda Cloud connection: an API key (sent as Bearer, or Basic like `curl -u key:`). */
import { z } from 'zod';
import { createLogger, type Logger } from '../../logging/logger.js';
import { RATE_LIMIT_OPTION_FIELDS } from '../http/rateLimit.js';
import type { CloudClient } from '../sdk/client.js';
import { ApiKeyCredential, headerSecretOption, httpUrlOption, isLoopbackUrl, parseCredentialOptions, refIdOption } from '../sdk/credential.js';
import { LAMBDA_DEFAULT_BASE_URL, LAMBDA_PROVIDER_ID } from './api.js';
import { LambdaClient, LAMBDA_CAPABILITIES } from './client.js';
import type { LambdaHttpTarget } from './http.js';

// Re-exported: part of this adapter's public surface (./index.ts).
export { isLoopbackUrl };

export const LambdaCredentialOptionsSchema = z
  .object({
    refId: refIdOption,
    /** Lambda's API key (cloud.lambda.ai/api-keys). */
    apiKey: headerSecretOption('apiKey', 'the Lambda API key'),
    /** Default https://cloud.lambda.ai; tests point it at a replica. */
    baseUrl: httpUrlOption('baseUrl', 'baseUrl must be a URL such as https://cloud.lambda.ai').optional(),
    /** "bearer" (Lambda's recommendation, default) or "basic" (`curl -u key:`). */
    authScheme: z.enum(['bearer', 'basic']).default('bearer'),
    /** Per-request timeout; default 30 s. */
    timeoutMs: z.number().int().positive().optional(),
    /** How often callers should poll an instance; default 5 s (the API allows about one request per second). */
    instancePollMs: z.number().int().positive().optional(),
    /** rateLimitRetries (default 2) and rateLimitMaxWaitMs (default 15 s): see ../http/rateLimit.ts. */
    ...RATE_LIMIT_OPTION_FIELDS,
    /**
     * Test only: baseUrl is a local replica (test/replicas/lambda) whose instances are sshd
     * processes on a shared host. The adapter then takes the SSH port and user from the replica's
     * `gpuflow_replica` instance field and reports instances as not privileged. Refused unless
     * baseUrl is a loopback address.
     */
    testReplica: z.boolean().default(false),
  })
  .strict()
  .refine((o) => !o.testReplica || (o.baseUrl !== undefined && isLoopbackUrl(o.baseUrl)), {
    message: 'testReplica is for local replicas only: baseUrl must be a loopback URL such as http://127.0.0.1:PORT',
    path: ['testReplica'],
  });
export type LambdaCredentialOptions = z.input<typeof LambdaCredentialOptionsSchema>;

let defaultLogger: Logger | undefined;
function logger(): Logger {
  return (defaultLogger ??= createLogger('lambda', process.env.GPUFLOW_LOG_LEVEL ?? 'warn'));
}

export class LambdaCredential extends ApiKeyCredential {
  readonly authScheme: 'bearer' | 'basic';

  constructor(opts: LambdaCredentialOptions) {
    const data = parseCredentialOptions(LambdaCredentialOptionsSchema, opts, 'Lambda');
    super(data, { id: LAMBDA_PROVIDER_ID, capabilities: LAMBDA_CAPABILITIES, defaultBaseUrl: LAMBDA_DEFAULT_BASE_URL, tenantPrefix: 'lambda' });
    this.authScheme = data.authScheme;
  }

  /** The API is global: one client serves every region; `location` only becomes its default. */
  override async makeClient(location: string): Promise<CloudClient> {
    return new LambdaClient(this, location);
  }

  /** @internal The HTTP target (holds the key): for the client only. */
  httpTarget(): LambdaHttpTarget {
    return { ...this.httpTargetFields(), authScheme: this.authScheme, logger: logger() };
  }
}
