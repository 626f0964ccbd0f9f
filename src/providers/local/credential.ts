/** Credential of a local cloud connection: the daemon's URL and bearer token. */
import { z } from 'zod';
import type { CloudClient } from '../sdk/client.js';
import { GlobalApiCredential, hashedTenantId, headerSecretOption, hideSecret, httpUrlOption, parseCredentialOptions, refIdOption } from '../sdk/credential.js';
import { LOCAL_PROVIDER_ID, LocalCloudInfoSchema, type LocalCloudInfo } from './api.js';
import { LocalClient, LOCAL_CAPABILITIES } from './client.js';
import { callApi } from './http.js';

export const LocalCredentialOptionsSchema = z
  .object({
    refId: refIdOption,
    url: httpUrlOption('url', 'url must be the local cloud daemon URL, e.g. http://127.0.0.1:7600'),
    token: headerSecretOption('token', 'the daemon bearer token'),
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

export class LocalCredential extends GlobalApiCredential {
  readonly url: string;
  /** Not enumerable, so it stays out of JSON and inspection. */
  declare readonly token: string;
  readonly timeoutMs: number | undefined;

  constructor(opts: { refId: string; url: string; token: string; timeoutMs?: number }) {
    const data = parseCredentialOptions(LocalCredentialOptionsSchema, opts, 'local cloud');
    super(data.refId, LOCAL_PROVIDER_ID, LOCAL_CAPABILITIES);
    this.url = data.url.replace(/\/+$/, '');
    this.timeoutMs = data.timeoutMs;
    hideSecret(this, 'token', data.token);
  }

  /** A stable hash of the daemon URL: one local cloud is one tenant. */
  override async getTenantId(): Promise<string> {
    return hashedTenantId('local', this.url.toLowerCase());
  }

  /**
   * The API is global: the location only becomes the client's default. Pacing (poll times, create
   * rate) is read from the daemon; if it cannot be reached, defaults are used and the client still
   * works once the daemon is back.
   */
  override async makeClient(location: string): Promise<CloudClient> {
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
