/** Credential of a RunPod connection: an API key, sent as `Authorization: Bearer <key>`. */
import { z } from 'zod';
import { lazyLogger } from '../../logging/logger.js';
import type { CloudClient } from '../sdk/client.js';
import { ApiKeyCredential, apiKeyOptionFields, parseCredentialOptions, testReplicaNeedsLoopback } from '../sdk/credential.js';
import { RUNPOD_DEFAULT_BASE_URL, RUNPOD_PROVIDER_ID } from './api.js';
import { RunPodClient, RUNPOD_CAPABILITIES } from './client.js';
import type { RunPodHttpTarget } from './http.js';

export const RunPodCredentialOptionsSchema = z
  .object({
    ...apiKeyOptionFields({ provider: 'RunPod', baseUrlExample: 'https://api.runpod.io/graphql' }),
  })
  .strict()
  .refine(...testReplicaNeedsLoopback('http://127.0.0.1:PORT/graphql'));
export type RunPodCredentialOptions = z.input<typeof RunPodCredentialOptionsSchema>;

const logger = lazyLogger('runpod');

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
