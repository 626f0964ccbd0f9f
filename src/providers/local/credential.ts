/** Credential of a local cloud connection: the daemon's URL and bearer token. */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Capability } from '../sdk/capabilities.js';
import type { ApiType, CloudClient, CloudCredential } from '../sdk/client.js';
import { LOCAL_PROVIDER_ID, LocalCloudInfoSchema, type LocalCloudInfo } from './api.js';
import { LocalClient, LOCAL_CAPABILITIES } from './client.js';
import { callApi } from './http.js';

export const LocalCredentialOptionsSchema = z
  .object({
    refId: z
      .string({ message: 'refId (the connection name) is required' })
      .min(1, 'refId (the connection name) must not be empty'),
    url: z
      .url({ message: 'url must be the local cloud daemon URL, e.g. http://127.0.0.1:7600' })
      .refine((u) => /^https?:\/\//i.test(u), { message: 'url must start with http:// or https://' }),
    token: z
      .string({ message: 'token (the daemon bearer token) is required' })
      .min(1, 'token (the daemon bearer token) must not be empty')
      .refine((t) => !/\s/.test(t), { message: 'token must not contain whitespace' }),
    /** Per-request timeout; default 30 s. */
    timeoutMs: z.number().int().positive().optional(),
  })
  .strict();
export type LocalCredentialOptions = z.input<typeof LocalCredentialOptionsSchema>;

/** Used when the daemon cannot be asked (it is down when the client is made). */
export const DEFAULT_LOCAL_SETTINGS: Omit<LocalCloudInfo, 'sshUser' | 'bootDelayMs'> = {
  provider: LOCAL_PROVIDER_ID,
  apiVersion: 'v1',
  instancePollMs: 1000,
  instanceTypePollMs: 60_000,
  maxCreateRequestsPerMinute: 60,
};

export class LocalCredential implements CloudCredential {
  readonly refId: string;
  readonly url: string;
  /** Not enumerable, so it stays out of JSON and inspection. */
  declare readonly token: string;
  readonly timeoutMs: number | undefined;

  constructor(opts: { refId: string; url: string; token: string; timeoutMs?: number }) {
    const r = LocalCredentialOptionsSchema.safeParse(opts);
    if (!r.success) {
      throw new Error(`invalid local cloud credential: ${r.error.issues.map((i) => `${i.path.join('.') || '(credential)'}: ${i.message}`).join('; ')}`);
    }
    this.refId = r.data.refId;
    this.url = r.data.url.replace(/\/+$/, '');
    this.timeoutMs = r.data.timeoutMs;
    Object.defineProperty(this, 'token', { value: r.data.token, enumerable: false, writable: false });
  }

  getApiType(): ApiType {
    return 'global';
  }

  async getCapabilities(): Promise<Capability[]> {
    return [...LOCAL_CAPABILITIES];
  }

  getCloudProviderId(): string {
    return LOCAL_PROVIDER_ID;
  }

  getReferenceId(): string {
    return this.refId;
  }

  /** A stable hash of the daemon URL: one local cloud is one tenant. */
  async getTenantId(): Promise<string> {
    return `local-${createHash('sha256').update(this.url.toLowerCase()).digest('hex').slice(0, 16)}`;
  }

  /**
   * The API is global: the location only becomes the client's default. Pacing (poll times, create
   * rate) is read from the daemon; if it cannot be reached, defaults are used and the client still
   * works once the daemon is back.
   */
  async makeClient(location: string): Promise<CloudClient> {
    let settings: LocalCloudInfo | undefined;
    try {
      settings = (await callApi({ url: this.url, token: this.token, timeoutMs: Math.min(this.timeoutMs ?? 5000, 5000) }, 'GET', '/v1/info', LocalCloudInfoSchema)).data;
    } catch {
      settings = undefined;
    }
    return new LocalClient(this, location, settings ?? { ...DEFAULT_LOCAL_SETTINGS, sshUser: '', bootDelayMs: 0 });
  }

  toJSON(): Record<string, string> {
    return { provider: LOCAL_PROVIDER_ID, refId: this.refId, url: this.url };
  }
}
