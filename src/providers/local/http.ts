/**
 * One HTTP call to the local cloud daemon, with its failure mapped to the contract's typed errors.
 * No retries here: the caller (a Temporal activity) retries durably.
 */
import { z } from 'zod';
import {
  AuthenticationError,
  CloudError,
  InstanceNotFoundError,
  InsufficientCapacityError,
  InvalidRequestError,
  OutOfQuotaError,
  ResourceNotFoundError,
} from '../sdk/errors.js';
import { parseJsonOr, parseRetryAfter, sendRequest, serviceUnavailable, unexpectedResponse } from '../http/request.js';
import { ErrorBodySchema } from './api.js';

// Kept here too: part of this module's public surface (re-exported by ./index.ts; the Lambda and Shadeform adapters once imported it from here).
export { parseRetryAfter };

export interface HttpTarget {
  url: string;
  token: string;
  /** Per-request timeout; default 30 s. */
  timeoutMs?: number;
}

export interface RequestOptions {
  query?: [string, string][];
  body?: unknown;
  /** What a 404 means for this call (default: instance-not-found → InstanceNotFoundError). */
  notFound?: 'instance' | 'resource';
}

/** Maps a daemon error response to a typed cloud error. */
export function errorFromResponse(status: number, body: unknown, retryAfter: string | null, what: string, notFound: 'instance' | 'resource' = 'instance'): CloudError {
  const parsed = ErrorBodySchema.safeParse(body);
  const code = parsed.success ? parsed.data.error.code : '';
  const message = `${what}: ${parsed.success ? parsed.data.error.message : `HTTP ${status}`}${code ? ` (${code})` : ''}`;
  const retryAfterMs = parseRetryAfter(retryAfter);
  if (status === 401) return new AuthenticationError(message);
  if (status === 403) return code === 'quota-exceeded' ? new OutOfQuotaError(message) : new AuthenticationError(message);
  if (status === 409 && code === 'insufficient-capacity') return new InsufficientCapacityError(message, { scope: 'zone' });
  if (status === 404) {
    if (code === 'instance-not-found' && notFound === 'instance') return new InstanceNotFoundError(message);
    return new ResourceNotFoundError(message);
  }
  if (status === 408 || status === 429 || status >= 500) return serviceUnavailable(message, retryAfterMs);
  return new InvalidRequestError(message);
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
  const { response: res, text } = await sendRequest({
    method,
    url: joinUrl(target.url, p, opts.query),
    headers: { authorization: `Bearer ${target.token}` },
    body: opts.body,
    timeoutMs: target.timeoutMs ?? 30_000,
    what,
  });
  // The daemon always answers JSON; anything else is treated as no body.
  const body = parseJsonOr(text, undefined);
  if (!res.ok) throw errorFromResponse(res.status, body, res.headers.get('retry-after'), what, opts.notFound);
  if (res.status === 204) return { status: 204, data: undefined };
  const env = z.object({ data: schema as z.ZodTypeAny }).safeParse(body);
  // A daemon answering with the wrong shape is a bug on its side, not a bad request of ours.
  if (!env.success) throw unexpectedResponse(what, env.error);
  return { status: res.status, data: env.data.data as z.output<T> };
}
