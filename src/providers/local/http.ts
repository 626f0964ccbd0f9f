/**
 * One HTTP call to the local cloud daemon, with its failure mapped to the contract's typed errors.
 * No retries here: the caller (a Temporal activity) retries durably.
 */
import { z } from 'zod';
import { callProviderApi } from '../http/call.js';
import { type ErrorTable, errorFromTable } from '../http/errorTable.js';
import { parseRetryAfter, unexpectedResponse } from '../http/request.js';
import type { CloudError } from '../sdk/errors.js';
import { ErrorBodySchema } from './api.js';

// Kept here too: part of this module's public surface (re-exported by ./index.ts; the Lambda and Shadeform adapters once imported it from here).
export { parseRetryAfter };

export interface HttpTarget {
  url: string;
  token: string;
  /** Per-request timeout; default 30 s. */
  timeoutMs?: number | undefined;
}

export interface RequestOptions {
  query?: [string, string][];
  body?: unknown;
  /** What a 404 means for this call (default: instance-not-found → InstanceNotFoundError). */
  notFound?: 'instance' | 'resource';
}

/** The daemon's errors: its own statuses and codes (src/providers/local/daemon/server.ts). */
export const LOCAL_ERRORS: ErrorTable<'instance' | 'resource'> = {
  rules: [
    { status: 401, then: 'auth' },
    { status: 403, code: 'quota-exceeded', then: 'quota' },
    { status: 403, then: 'auth' },
    { status: 409, code: 'insufficient-capacity', then: 'capacity-zone' },
    { status: 404, code: 'instance-not-found', then: 'not-found' },
    { status: 404, then: 'resource-not-found' },
    // The daemon states no rate-limit wait of its own: only Retry-After, if any.
    { status: [408, 429, '5xx'], then: 'unavailable' },
  ],
  notFound: { instance: 'instance', resource: 'resource' },
  rateLimitWaitMs: () => 0,
  message: (f) => `${f.what}: ${f.text || `HTTP ${f.status}`}${f.code ? ` (${f.code})` : ''}`,
};

/** Maps a daemon error response to a typed cloud error (see {@link LOCAL_ERRORS}). */
export function errorFromResponse(status: number, body: unknown, retryAfter: string | null, what: string, notFound: 'instance' | 'resource' = 'instance'): CloudError {
  const parsed = ErrorBodySchema.safeParse(body);
  const native = parsed.success ? { code: parsed.data.error.code, text: parsed.data.error.message } : { code: '', text: '' };
  return errorFromTable(LOCAL_ERRORS, { status, body, retryAfter, what, op: notFound }, native);
}

function joinUrl(base: string, p: string, query?: [string, string][]): string {
  const u = new URL(p.replace(/^\//, ''), base.endsWith('/') ? base : `${base}/`);
  for (const [k, v] of query ?? []) u.searchParams.append(k, v);
  return u.toString();
}

/**
 * Sends one request; returns the status and the `data` of the envelope validated with `schema`
 * (undefined for 204). Throws a CloudError for every failure.
 */
export async function callApi<T extends z.ZodTypeAny>(
  target: HttpTarget,
  method: string,
  p: string,
  schema: T,
  opts: RequestOptions = {},
): Promise<{ status: number; data: z.output<T> | undefined }> {
  const what = `local cloud ${method} ${p}`;
  return callProviderApi({
    provider: 'local cloud',
    what,
    method,
    url: joinUrl(target.url, p, opts.query),
    headers: { authorization: `Bearer ${target.token}` },
    body: opts.body,
    timeoutMs: target.timeoutMs ?? 30_000,
    logFields: { method, path: p },
    logPath: p,
    // No retries here: the caller (a Temporal activity) retries durably.
    rateLimit: { retries: 0, maxWaitMs: 0, fallbackWaitMs: 0 },
    errorFrom: (status, body, retryAfter) => errorFromResponse(status, body, retryAfter, what, opts.notFound),
    decode: (body, response) => {
      if (response.status === 204) return { status: 204, data: undefined };
      const env = z.object({ data: schema as z.ZodTypeAny }).safeParse(body);
      // A daemon answering with the wrong shape is a bug on its side, not a bad request of ours.
      if (!env.success) throw unexpectedResponse(what, env.error);
      return { status: response.status, data: env.data.data as z.output<T> };
    },
  });
}
