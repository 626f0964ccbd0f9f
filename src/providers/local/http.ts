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
  ServiceUnavailableError,
} from '../sdk/errors.js';
import { ErrorBodySchema } from './api.js';

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

/** Retry-After as milliseconds: delta-seconds or an HTTP date. */
export function parseRetryAfter(v: string | null, now = Date.now()): number | undefined {
  if (!v) return undefined;
  const t = v.trim();
  if (/^\d+$/.test(t)) return Number(t) * 1000;
  const d = Date.parse(t);
  return Number.isNaN(d) ? undefined : Math.max(0, d - now);
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
  if (status === 408 || status === 429 || status >= 500) {
    return new ServiceUnavailableError(message, retryAfterMs !== undefined ? { retryAfterMs } : undefined);
  }
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
  let res: Response;
  try {
    res = await fetch(joinUrl(target.url, p, opts.query), {
      method,
      headers: {
        authorization: `Bearer ${target.token}`,
        accept: 'application/json',
        ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
      signal: AbortSignal.timeout(target.timeoutMs ?? 30_000),
    });
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    const reason =
      err.name === 'TimeoutError' ? `timed out after ${target.timeoutMs ?? 30_000} ms` : `${err.message}: ${err.cause?.code ?? err.cause?.message ?? 'network error'}`;
    throw new ServiceUnavailableError(`${what}: ${reason}`, { cause: e });
  }
  let text: string;
  try {
    text = await res.text();
  } catch (e) {
    throw new ServiceUnavailableError(`${what}: reading the response failed: ${(e as Error).message}`, { cause: e });
  }
  let body: unknown;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
  }
  if (!res.ok) throw errorFromResponse(res.status, body, res.headers.get('retry-after'), what, opts.notFound);
  if (res.status === 204) return { status: 204, data: undefined };
  const env = z.object({ data: schema as z.ZodTypeAny }).safeParse(body);
  if (!env.success) {
    // A daemon answering with the wrong shape is a bug on its side, not a bad request of ours.
    throw new ServiceUnavailableError(
      `${what}: unexpected response: ${env.error.issues
        .slice(0, 5)
        .map((i) => `${i.path.join('.')}: ${i.message}`)
        .join('; ')}`,
    );
  }
  return { status: res.status, data: env.data.data as z.output<T> };
}
