/**
 * One Vast.ai API call: `Authorization: Bearer`, timeout, zod-validated body, and every failure
 * mapped to the contract's typed errors.
 *
 * Rate limits (docs.vast.ai api-reference/rate-limits-and-errors, rate-limit-endpoint-method-data):
 * per endpoint, method and identity, a token bucket that is mostly a minimum interval (burst 1).
 * A 429's body says "API requests too frequent[: endpoint threshold=X]" (text, `{"detail"}` or
 * `{"msg"}`), where X is that interval in seconds; only some 429s carry Retry-After. The wait is
 * therefore Retry-After, else the threshold, else exponential backoff from 1 s (the docs: "use your
 * own backoff"). Only a short 429 is repeated here (../http/rateLimit.ts); the rest is Temporal's.
 */
import type { z } from 'zod';
import { retryShortRateLimits } from '../http/rateLimit.js';
import { type ApiKeyHttpTarget, bodySnippet, parseJsonOr, parseRetryAfter, sendRequest, serviceUnavailable, unexpectedResponse } from '../http/request.js';
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
import { VASTAI_ERROR_CODES, VastErrorBodySchema } from './api.js';

export type VastOperation = 'create' | 'instance' | 'ssh-key' | 'catalog';

/** First wait of the backoff for a 429 that names no wait; doubled per attempt, at most 30 s. */
export const VASTAI_BACKOFF_BASE_MS = 1_000;
const VASTAI_BACKOFF_MAX_MS = 30_000;

/** The shared API-key target (../http/request.ts). */
export type VastHttpTarget = ApiKeyHttpTarget;

export interface VastRequestOptions {
  body?: unknown;
  query?: [string, string][];
  op: VastOperation;
}

/** The `threshold=X` of a 429 body, in ms (X is the endpoint's minimum interval in seconds). */
export function vastThresholdMs(text: string): number | undefined {
  const m = /threshold\s*=\s*(\d+(?:\.\d+)?)/i.exec(text);
  return m ? Math.round(Number(m[1]) * 1000) : undefined;
}

/** The backoff for the n-th (from 0) 429 that named no wait. */
export function vastBackoffMs(attempt: number): number {
  return Math.min(VASTAI_BACKOFF_MAX_MS, VASTAI_BACKOFF_BASE_MS * 2 ** attempt);
}

function fields(body: unknown): { code: string; text: string } {
  if (typeof body === 'string') return { code: '', text: bodySnippet(body) };
  const p = typeof body === 'object' && body !== null ? VastErrorBodySchema.safeParse(body) : undefined;
  if (!p?.success) return { code: '', text: '' };
  return { code: p.data.error ?? '', text: p.data.msg ?? p.data.message ?? p.data.detail ?? '' };
}

/**
 * Maps a Vast error response to a typed cloud error. `attempt` numbers the tries of this request
 * (for the backoff of a 429 that names no wait).
 */
export function vastErrorFromResponse(status: number, body: unknown, retryAfter: string | null, what: string, op: VastOperation, attempt = 0): CloudError {
  const { code, text } = fields(body);
  const message = `${what}: ${text || `HTTP ${status}`} (HTTP ${status}${code ? ` ${code}` : ''})`;
  const headerWait = parseRetryAfter(retryAfter);

  // Search answers a bad key with 404 "Invalid user key"; the other endpoints with 401 auth_error.
  if (status === 401 || code === VASTAI_ERROR_CODES.authError || /invalid user key/i.test(text)) return new AuthenticationError(message);
  if (status === 429) {
    // The daily search row quota carries a Retry-After that may be hours away: that is honoured too.
    return new ServiceUnavailableError(message, { retryAfterMs: headerWait ?? vastThresholdMs(text) ?? vastBackoffMs(attempt) });
  }
  if (status === 408 || status >= 500) return serviceUnavailable(message, headerWait);
  // "error 404/3603: no_such_ask Instance type by id N is not available" (error: invalid_args), or
  // 410 no_such_ask with cancel_unavail: the ask was taken or cannot start now.
  if (code === VASTAI_ERROR_CODES.noSuchAsk || /no_such_ask/.test(text)) return new InsufficientCapacityError(message, { scope: 'zone' });
  // Not documented for create; Vast's prepay endpoint speaks of "Insufficient credit". An account
  // that cannot pay cannot rent anywhere on Vast.
  if (/credit|balance/i.test(code) || /insufficient (credit|balance|funds)/i.test(text)) return new OutOfQuotaError(message, { scope: 'provider' });
  if (status === 403) {
    // 403 invalid_args is "Offer N is not your own" (a host's own machine): a bad offer, not a bad key.
    return code === VASTAI_ERROR_CODES.invalidArgs ? new InvalidRequestError(message) : new AuthenticationError(message);
  }
  if (status === 404) {
    if (op === 'instance') return new InstanceNotFoundError(message);
    if (op === 'create') return new InvalidRequestError(message);
    return new ResourceNotFoundError(message);
  }
  return new InvalidRequestError(message);
}

/** Sends one request (repeating it only on a short 429). Returns the parsed body. */
export async function callVast<T extends z.ZodTypeAny>(
  target: VastHttpTarget,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  schema: T,
  opts: VastRequestOptions,
): Promise<z.output<T>> {
  const what = `vastai ${method} ${path}`;
  const u = new URL(`${target.baseUrl}${path}`);
  for (const [k, v] of opts.query ?? []) u.searchParams.append(k, v);
  const policy = {
    retries: target.rateLimitRetries,
    maxWaitMs: target.rateLimitMaxWaitMs,
    fallbackWaitMs: VASTAI_BACKOFF_BASE_MS,
    sleep: target.sleep,
    logger: target.logger,
    provider: 'vastai',
    path,
  };
  return retryShortRateLimits(policy, async (attempt) => {
    const { response: res, text, ms } = await sendRequest({
      method,
      url: u,
      headers: { authorization: `Bearer ${target.apiKey}` },
      body: opts.body,
      timeoutMs: target.timeoutMs,
      what,
      secret: target.apiKey,
    });
    // 429s are often plain text: kept as text for the mapping to read the threshold from.
    const body = text.trim() ? parseJsonOr(text, text) : undefined;
    target.logger?.debug({ method, path, status: res.status, ms, attempt }, 'vastai api request');
    if (!res.ok) return { ok: false, status: res.status, error: vastErrorFromResponse(res.status, body, res.headers.get('retry-after'), what, opts.op, attempt) };
    // `{"success": false}` with a 200 is a refusal too; Vast does that on some endpoints.
    if (typeof body === 'object' && body !== null && (body as { success?: unknown }).success === false) {
      return { ok: false, status: res.status, error: vastErrorFromResponse(400, body, null, what, opts.op, attempt) };
    }
    const r = schema.safeParse(body);
    if (!r.success) throw unexpectedResponse(what, r.error);
    return { ok: true, value: r.data as z.output<T> };
  });
}
