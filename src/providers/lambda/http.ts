/**
 * One Lambda Cloud API call: auth header, timeout, `{data}` envelope validated with zod, and every
 * failure mapped to the contract's typed errors.
 *
 * Retries: only HTTP 429 is retried here, a bounded number of times and only when the wait
 * (Retry-After, else the documented limit) is short. Everything else, and a 429 whose wait is too
 * long, surfaces as a typed error (ServiceUnavailableError with retryAfterMs) for Temporal to retry
 * durably. A 429 is safe to repeat (the request was refused, nothing happened); a 5xx on launch is
 * not (the instance may exist), so 5xx is never repeated here.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
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
import { parseRetryAfter } from '../local/http.js';
import { LAMBDA_API_PREFIX, LAMBDA_ERROR_CODES, LAMBDA_RATE_LIMITS, LambdaErrorBodySchema } from './api.js';

/** What a call is about, which decides what "not found" and "rate limited" mean. */
export type LambdaOperation = 'launch' | 'instance' | 'ssh-key' | 'catalog';

export interface LambdaHttpTarget {
  baseUrl: string;
  apiKey: string;
  authScheme: 'bearer' | 'basic';
  timeoutMs: number;
  /** How many times a 429 is retried in place (0 = never). */
  rateLimitRetries: number;
  /** A 429 asking for a longer wait than this is not retried in place. */
  rateLimitMaxWaitMs: number;
  logger?: Logger;
  /** Test seam. */
  sleep?: (ms: number) => Promise<void>;
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

function bodyText(body: unknown): string {
  if (typeof body === 'string') return body.replace(/\s+/g, ' ').trim().slice(0, 200);
  return '';
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
  const text = parsed.success ? parsed.data.error.message || code : bodyText(body) || `HTTP ${status}`;
  const message = `${what}: ${text} (HTTP ${status}${code ? ` ${code}` : ''})`;
  const headerWait = parseRetryAfter(retryAfter);

  if (code.startsWith(LAMBDA_ERROR_CODES.providerPrefix)) {
    // Upstream trouble ("provider/internal-unavailable": "Try again shortly").
    return new ServiceUnavailableError(message, headerWait !== undefined ? { retryAfterMs: headerWait } : undefined);
  }
  if (status === 401) return new AuthenticationError(message);
  if (status === 403) return new AuthenticationError(message); // account-inactive, invalid-address: nothing works until a human acts
  if (status === 429) return new ServiceUnavailableError(message, { retryAfterMs: headerWait ?? documentedRateLimitWaitMs(op) });
  if (status === 408 || status >= 500) {
    return new ServiceUnavailableError(message, headerWait !== undefined ? { retryAfterMs: headerWait } : undefined);
  }
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

function scrub(s: string, secret: string): string {
  return secret ? s.split(secret).join('[redacted]') : s;
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
  const retries = opts.rateLimitRetries ?? target.rateLimitRetries;
  const wait = target.sleep ?? ((ms: number) => sleep(ms));
  for (let attempt = 0; ; attempt++) {
    const started = Date.now();
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          authorization: authorizationHeader(target.apiKey, target.authScheme),
          accept: 'application/json',
          ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
        signal: AbortSignal.timeout(target.timeoutMs),
      });
    } catch (e) {
      const err = e as Error & { cause?: { code?: string; message?: string } };
      const reason = err.name === 'TimeoutError' ? `timed out after ${target.timeoutMs} ms` : `${err.message}: ${err.cause?.code ?? err.cause?.message ?? 'network error'}`;
      throw new ServiceUnavailableError(scrub(`${what}: ${reason}`, target.apiKey));
    }
    let text = '';
    try {
      // Defensive: a proxy echoing request headers must not carry the key into errors, logs or history.
      text = scrub(await res.text(), target.apiKey);
    } catch (e) {
      throw new ServiceUnavailableError(`${what}: reading the response failed: ${(e as Error).message}`);
    }
    let body: unknown = text;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    target.logger?.debug({ method, path: `${LAMBDA_API_PREFIX}${path}`, status: res.status, ms: Date.now() - started, attempt }, 'lambda api request');
    if (res.ok) {
      const env = z.object({ data: schema as z.ZodTypeAny }).safeParse(body);
      if (!env.success) {
        throw new ServiceUnavailableError(
          `${what}: unexpected response: ${env.error.issues
            .slice(0, 5)
            .map((i) => `${i.path.join('.')}: ${i.message}`)
            .join('; ')}`,
        );
      }
      return env.data.data as z.output<T>;
    }
    const err = lambdaErrorFromResponse(res.status, body, res.headers.get('retry-after'), what, opts.op);
    if (res.status === 429 && attempt < retries && (err.retryAfterMs ?? 0) <= target.rateLimitMaxWaitMs) {
      target.logger?.warn({ path: `${LAMBDA_API_PREFIX}${path}`, waitMs: err.retryAfterMs, attempt: attempt + 1, of: retries }, 'lambda rate limit: waiting before retrying');
      await wait(err.retryAfterMs ?? documentedRateLimitWaitMs(opts.op));
      continue;
    }
    throw err;
  }
}
