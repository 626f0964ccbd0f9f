/** Credential of a RunPod connection: an API key, sent as `Authorization: Bearer <key>`. */
import { z } from 'zod';
import { createLogger, type Logger } from '../../logging/logger.js';
import { RATE_LIMIT_OPTION_FIELDS } from '../http/rateLimit.js';
import type { CloudClient } from '../sdk/client.js';
import { ApiKeyCredential, headerSecretOption, httpUrlOption, isLoopbackUrl, parseCredentialOptions, refIdOption } from '../sdk/credential.js';
import { RUNPOD_DEFAULT_BASE_URL, RUNPOD_PROVIDER_ID } from './api.js';
import { RunPodClient, RUNPOD_CAPABILITIES } from './client.js';
import type { RunPodHttpTarget } from './http.js';

export const RunPodCredentialOptionsSchema = z
  .object({
    refId: refIdOption,
    /** A RunPod API key (console → Settings → API Keys; RunPod's tools read it as RUNPOD_API_KEY). */
    apiKey: headerSecretOption('apiKey', 'the RunPod API key'),
    /** The GraphQL endpoint; default https://api.runpod.io/graphql. Tests point it at a replica. */
    baseUrl: httpUrlOption('baseUrl', 'baseUrl must be a URL such as https://api.runpod.io/graphql').optional(),
    /** Per-request timeout; default 30 s. */
    timeoutMs: z.number().int().positive().optional(),
    /** How often callers should poll a pod; default 5 s. */
    instancePollMs: z.number().int().positive().optional(),
    /** rateLimitRetries (default 2) and rateLimitMaxWaitMs (default 15 s): see ../http/rateLimit.ts. */
    ...RATE_LIMIT_OPTION_FIELDS,
    /**
     * Test only: baseUrl is a local replica (test/replicas/runpod) whose pods are sshd processes of
     * the test host's user; the adapter then also asks for the replica's `gpuflowReplica { sshUser }`
     * (RunPod pods are always root). Refused unless baseUrl is a loopback address.
     */
    testReplica: z.boolean().default(false),
  })
  .strict()
  .refine((o) => !o.testReplica || (o.baseUrl !== undefined && isLoopbackUrl(o.baseUrl)), {
    message: 'testReplica is for local replicas only: baseUrl must be a loopback URL such as http://127.0.0.1:PORT/graphql',
    path: ['testReplica'],
  });
export type RunPodCredentialOptions = z.input<typeof RunPodCredentialOptionsSchema>;

let defaultLogger: Logger | undefined;
function logger(): Logger {
  return (defaultLogger ??= createLogger('runpod', process.env.GPUFLOW_LOG_LEVEL ?? 'warn'));
}

export class RunPodCredential extends ApiKeyCredential {
  constructor(opts: RunPodCredentialOptions) {
    const data = parseCredentialOptions(RunPodCredentialOptionsSchema, opts, 'RunPod');
    super(data, { id: RUNPOD_PROVIDER_ID, capabilities: RUNPOD_CAPABILITIES, defaultBaseUrl: RUNPOD_DEFAULT_BASE_URL, tenantPrefix: 'runpod' });
  }

  /** The API is global (data centers are a field of the request): one client serves every location. */
  override async makeClient(location: string): Promise<CloudClient> {
    return new RunPodClient(this, location);
  }

  /** @internal The HTTP target (holds the key): for the client only. */
  httpTarget(): RunPodHttpTarget {
    return { ...this.httpTargetFields(), logger: logger() };
  }
}
