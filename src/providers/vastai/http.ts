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
import { bodyOf, callProviderApi } from '../http/call.js';
import { AUTH_STATUS_RULE, type ErrorTable, errorFromTable, RATE_LIMIT_RULE, UNAVAILABLE_RULE } from '../http/errorTable.js';
import { type ApiKeyHttpTarget, bodySnippet } from '../http/request.js';
import type { CloudError } from '../sdk/errors.js';
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

function vastNativeError(body: unknown): { code: string; text: string } {
  if (typeof body === 'string') return { code: '', text: bodySnippet(body) };
  const p = typeof body === 'object' && body !== null ? VastErrorBodySchema.safeParse(body) : undefined;
  if (!p?.success) return { code: '', text: '' };
  return { code: p.data.error ?? '', text: p.data.msg ?? p.data.message ?? p.data.detail ?? '' };
}

/** Vast's errors, in the order they must be checked: Vast reuses statuses, so codes and texts decide. */
export const VASTAI_ERRORS: ErrorTable<VastOperation> = {
  rules: [
    // Search answers a bad key with 404 "Invalid user key"; the other endpoints with 401 auth_error.
    { status: 401, then: 'auth' },
    { code: VASTAI_ERROR_CODES.authError, then: 'auth' },
    { text: /invalid user key/i, then: 'auth' },
    // The daily search row quota carries a Retry-After that may be hours away: that is honoured too.
    RATE_LIMIT_RULE,
    UNAVAILABLE_RULE,
    // "error 404/3603: no_such_ask Instance type by id N is not available" (error: invalid_args), or
    // 410 no_such_ask with cancel_unavail: the ask was taken or cannot start now.
    { code: VASTAI_ERROR_CODES.noSuchAsk, then: 'capacity-zone' },
    { text: /no_such_ask/, then: 'capacity-zone' },
    // Not documented for create; Vast's prepay endpoint speaks of "Insufficient credit". An account
    // that cannot pay cannot rent anywhere on Vast.
    { code: /credit|balance/i, then: 'quota-provider' },
    { text: /insufficient (credit|balance|funds)/i, then: 'quota-provider' },
    // 403 invalid_args is "Offer N is not your own" (a host's own machine): a bad offer, not a bad key.
    { status: 403, code: VASTAI_ERROR_CODES.invalidArgs, then: 'invalid' },
    AUTH_STATUS_RULE,
    { status: 404, then: 'not-found' },
  ],
  notFound: { instance: 'instance', create: 'invalid', 'ssh-key': 'resource', catalog: 'resource' },
  rateLimitWaitMs: (f) => vastThresholdMs(f.text) ?? vastBackoffMs(f.attempt),
};

/**
 * Maps a Vast error response to a typed cloud error (see {@link VASTAI_ERRORS}). `attempt` numbers
 * the tries of this request (for the backoff of a 429 that names no wait).
 */
export function vastErrorFromResponse(status: number, body: unknown, retryAfter: string | null, what: string, op: VastOperation, attempt = 0): CloudError {
  return errorFromTable(VASTAI_ERRORS, { status, body, retryAfter, what, op, attempt }, vastNativeError(body));
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
  const url = new URL(`${target.baseUrl}${path}`);
  for (const [k, v] of opts.query ?? []) url.searchParams.append(k, v);
  const decodeBody = bodyOf(schema, what);
  return callProviderApi({
    provider: 'vastai',
    what,
    method,
    url,
    headers: { authorization: `Bearer ${target.apiKey}` },
    body: opts.body,
    timeoutMs: target.timeoutMs,
    secret: target.apiKey,
    logFields: { method, path },
    logPath: path,
    logger: target.logger,
    rateLimit: { retries: target.rateLimitRetries, maxWaitMs: target.rateLimitMaxWaitMs, fallbackWaitMs: VASTAI_BACKOFF_BASE_MS, sleep: target.sleep },
    errorFrom: (status, body, retryAfter, attempt) => vastErrorFromResponse(status, body, retryAfter, what, opts.op, attempt),
    decode: (body) => {
      // `{"success": false}` with a 200 is a refusal too; Vast does that on some endpoints.
      if (typeof body === 'object' && body !== null && (body as { success?: unknown }).success === false) throw vastErrorFromResponse(400, body, null, what, opts.op);
      return decodeBody(body);
    },
  });
}
