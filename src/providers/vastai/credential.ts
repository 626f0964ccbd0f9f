/** Credential of a Vast.ai connection: an API key, sent as `Authorization: Bearer <key>`. */
import { z } from 'zod';
import { lazyLogger } from '../../logging/logger.js';
import type { CloudClient } from '../sdk/client.js';
import { ApiKeyCredential, apiKeyOptionFields, parseCredentialOptions, testReplicaNeedsLoopback } from '../sdk/credential.js';
import { VASTAI_DEFAULT_BASE_URL, VASTAI_DEFAULT_IMAGE, VASTAI_PROVIDER_ID } from './api.js';
import { VastaiClient, VASTAI_CAPABILITIES } from './client.js';
import type { VastHttpTarget } from './http.js';

export const VastaiCredentialOptionsSchema = z
  .object({
    ...apiKeyOptionFields({ provider: 'Vast.ai', baseUrlExample: 'https://console.vast.ai' }),
    /** Docker image when a create names none; default the spec's `vastai/base-image:@vastai-automatic-tag`. */
    image: z.string().min(1, 'image must be a Docker image reference such as vastai/base-image:@vastai-automatic-tag').default(VASTAI_DEFAULT_IMAGE),
    /** Disk (GB) when a create names no size; default 16. */
    diskGb: z.number().int().positive().max(100_000).default(16),
    /** How many asks one catalog search reads (Vast counts searched rows against a daily quota); default 1000. */
    searchLimit: z.number().int().positive().max(10_000).default(1000),
  })
  .strict()
  .refine(...testReplicaNeedsLoopback('http://127.0.0.1:PORT'));
export type VastaiCredentialOptions = z.input<typeof VastaiCredentialOptionsSchema>;

const logger = lazyLogger('vastai');

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
