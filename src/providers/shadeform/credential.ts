/** Credential of a Shadeform connection: an API key, sent as the `X-API-KEY` header. */
import { z } from 'zod';
import { lazyLogger } from '../../logging/logger.js';
import type { CloudClient } from '../sdk/client.js';
import { ApiKeyCredential, apiKeyOptionFields, parseCredentialOptions, testReplicaNeedsLoopback } from '../sdk/credential.js';
import { SHADEFORM_DEFAULT_BASE_URL, SHADEFORM_PROVIDER_ID } from './api.js';
import { ShadeformClient, SHADEFORM_CAPABILITIES } from './client.js';
import type { ShadeformHttpTarget } from './http.js';

export const ShadeformCredentialOptionsSchema = z
  .object({
    ...apiKeyOptionFields({ provider: 'Shadeform', baseUrlExample: 'https://api.shadeform.ai/v1' }),
  })
  .strict()
  .refine(...testReplicaNeedsLoopback('http://127.0.0.1:PORT/v1'));
export type ShadeformCredentialOptions = z.input<typeof ShadeformCredentialOptionsSchema>;

const logger = lazyLogger('shadeform');

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
