/** Credential of a Lambda Cloud connection: an API key (sent as Bearer, or Basic like `curl -u key:`). */
import { z } from 'zod';
import { lazyLogger } from '../../logging/logger.js';
import type { CloudClient } from '../sdk/client.js';
import { ApiKeyCredential, apiKeyOptionFields, isLoopbackUrl, parseCredentialOptions, testReplicaNeedsLoopback } from '../sdk/credential.js';
import { LAMBDA_DEFAULT_BASE_URL, LAMBDA_PROVIDER_ID } from './api.js';
import { LambdaClient, LAMBDA_CAPABILITIES } from './client.js';
import type { LambdaHttpTarget } from './http.js';

// Re-exported: part of this adapter's public surface (./index.ts).
export { isLoopbackUrl };

export const LambdaCredentialOptionsSchema = z
  .object({
    ...apiKeyOptionFields({ provider: 'Lambda', baseUrlExample: 'https://cloud.lambda.ai' }),
    /** "bearer" (Lambda's recommendation, default) or "basic" (`curl -u key:`). */
    authScheme: z.enum(['bearer', 'basic']).default('bearer'),
  })
  .strict()
  .refine(...testReplicaNeedsLoopback('http://127.0.0.1:PORT'));
export type LambdaCredentialOptions = z.input<typeof LambdaCredentialOptionsSchema>;

const logger = lazyLogger('lambda');

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
