/**
 * One Lambda Cloud API call: auth header, timeout, `{data}` envelope validated with zod, and every
 * failure mapped to the contract's typed errors.
 *
 * Retries: only HTTP 429 is retried here, a bounded number of times and only when the wait
 * (Retry-After, else the documented limit) is short. Everything else, and a 429 whose wait is too
 * long, surfaces as a typed error (ServiceUnavailableError with retryAfterMs) for Temporal to retry
 * durably. A 429 is safe to repeat (the request was refused, nothing happened); a 5xx on launch is
 * not (the instance may exist), so 5xx is never repeated here. The loop is ../http/rateLimit.ts;
 * sending, timeouts and network failures are ../http/request.ts.
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
import { retryShortRateLimits } from '../http/rateLimit.js';
import { type ApiKeyHttpTarget, bodySnippet, parseJsonOr, parseRetryAfter, sendRequest, serviceUnavailable, unexpectedResponse } from '../http/request.js';
import { LAMBDA_API_PREFIX, LAMBDA_ERROR_CODES, LAMBDA_RATE_LIMITS, LambdaErrorBodySchema } from './api.js';

/** What a call is about, which decides what "not found" and "rate limited" mean. */
export type LambdaOperation = 'launch' | 'instance' | 'ssh-key' | 'catalog';

export interface LambdaHttpTarget extends ApiKeyHttpTarget {
  authScheme: 'bearer' | 'basic';
}

export interface LambdaRequestOptions {
  body?: unknown;
  op: LambdaOperation;
  /** Overrides the target's 429 retries (best-effort calls use 0). */
  rateLimitRetries?: number;
}

export function authorizationHeader(apiKey: string, scheme: 'bearer' | 'basic'): string {
  // Basic is curl's `-u key:`: the key as user name, empty password.
  return scheme === 'basic' ? `Basic ${Buffer.from(`${apiKey}:`).toString('base64')}` : `Bearer ${apiKey}`;
}

/** The wait Lambda's documented limits imply when a 429 carries no Retry-After. */
export function documentedRateLimitWaitMs(op: LambdaOperation): number {
  return op === 'launch' ? LAMBDA_RATE_LIMITS.launchIntervalMs : LAMBDA_RATE_LIMITS.generalIntervalMs;
}

/** Maps a Lambda error response to a typed cloud error. Matches on `error.code`, never on messages (the spec says so), except Brev's region rule. */
export function lambdaErrorFromResponse(
  status: number,
  body: unknown,
  retryAfter: string | null,
  what: string,
  op: LambdaOperation,
): CloudError {
  const parsed = LambdaErrorBodySchema.safeParse(body);
  const code = parsed.success ? parsed.data.error.code : '';
  const text = parsed.success ? parsed.data.error.message || code : bodySnippet(body) || `HTTP ${status}`;
  const message = `${what}: ${text} (HTTP ${status}${code ? ` ${code}` : ''})`;
  const headerWait = parseRetryAfter(retryAfter);

  if (code.startsWith(LAMBDA_ERROR_CODES.providerPrefix)) {
    // Upstream trouble ("provider/internal-unavailable": "Try again shortly").
    return serviceUnavailable(message, headerWait);
  }
  if (status === 401) return new AuthenticationError(message);
  if (status === 403) return new AuthenticationError(message); // account-inactive, invalid-address: nothing works until a human acts
  if (status === 429) return new ServiceUnavailableError(message, { retryAfterMs: headerWait ?? documentedRateLimitWaitMs(op) });
  if (status === 408 || status >= 500) return serviceUnavailable(message, headerWait);
  if (code === LAMBDA_ERROR_CODES.insufficientCapacity) return new InsufficientCapacityError(message, { scope: 'zone' });
  // Lambda quotas are per account, not per region: no other Lambda placement will do better.
  if (code === LAMBDA_ERROR_CODES.quotaExceeded) return new OutOfQuotaError(message, { scope: 'provider' });
  if (op === 'launch' && code === LAMBDA_ERROR_CODES.invalidParameters && parsed.success && /region/i.test(parsed.data.error.message) && /does not exist/i.test(parsed.data.error.message)) {
    // Brev's rule: a launch into a region that does not (or no longer) offer the type.
    return new InsufficientCapacityError(message, { scope: 'region' });
  }
  if (code === LAMBDA_ERROR_CODES.objectDoesNotExist || status === 404) {
    if (op === 'instance') return new InstanceNotFoundError(message);
    // A launch naming something that is gone (type, SSH key, image): this offer cannot work.
    if (op === 'launch') return new InvalidRequestError(message);
    return new ResourceNotFoundError(message);
  }
  return new InvalidRequestError(message);
}

/** Sends one request (repeating it only on a short 429) and returns the envelope's `data`. */
export async function callLambda<T extends z.ZodTypeAny>(
  target: LambdaHttpTarget,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  schema: T,
  opts: LambdaRequestOptions,
): Promise<z.output<T>> {
  const what = `lambda ${method} ${LAMBDA_API_PREFIX}${path}`;
  const url = `${target.baseUrl}${LAMBDA_API_PREFIX}${path}`;
  const policy = {
    retries: opts.rateLimitRetries ?? target.rateLimitRetries,
    maxWaitMs: target.rateLimitMaxWaitMs,
    fallbackWaitMs: documentedRateLimitWaitMs(opts.op),
    sleep: target.sleep,
    logger: target.logger,
    provider: 'lambda',
    path: `${LAMBDA_API_PREFIX}${path}`,
  };
  return retryShortRateLimits(policy, async (attempt) => {
    const { response: res, text, ms } = await sendRequest({
      method,
      url,
      headers: { authorization: authorizationHeader(target.apiKey, target.authScheme) },
      body: opts.body,
      timeoutMs: target.timeoutMs,
      what,
      secret: target.apiKey,
    });
    // A non-JSON body is kept as text: the error mapping quotes it.
    const body = parseJsonOr(text, text);
    target.logger?.debug({ method, path: `${LAMBDA_API_PREFIX}${path}`, status: res.status, ms, attempt }, 'lambda api request');
    if (!res.ok) return { ok: false, status: res.status, error: lambdaErrorFromResponse(res.status, body, res.headers.get('retry-after'), what, opts.op) };
    const env = z.object({ data: schema as z.ZodTypeAny }).safeParse(body);
    if (!env.success) throw unexpectedResponse(what, env.error);
    return { ok: true, value: env.data.data as z.output<T> };
  });
}
