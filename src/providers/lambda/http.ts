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
import { callProviderApi } from '../http/call.js';
import { type ErrorTable, errorFromTable, STANDARD_STATUS_RULES } from '../http/errorTable.js';
import { type ApiKeyHttpTarget, bodySnippet, unexpectedResponse } from '../http/request.js';
import type { CloudError } from '../sdk/errors.js';
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

/** Lambda's errors: matched on `error.code`, never on messages (the spec says so), except Brev's region rule. */
export const LAMBDA_ERRORS: ErrorTable<LambdaOperation> = {
  rules: [
    // Upstream trouble ("provider/internal-unavailable": "Try again shortly").
    { when: (f) => f.code.startsWith(LAMBDA_ERROR_CODES.providerPrefix), then: 'unavailable' },
    // 403 is account-inactive or invalid-address: nothing works until a human acts.
    ...STANDARD_STATUS_RULES,
    { code: LAMBDA_ERROR_CODES.insufficientCapacity, then: 'capacity-zone' },
    // Lambda quotas are per account, not per region: no other Lambda placement will do better.
    { code: LAMBDA_ERROR_CODES.quotaExceeded, then: 'quota-provider' },
    // Brev's rule: a launch into a region that does not (or no longer) offer the type.
    { ops: ['launch'], code: LAMBDA_ERROR_CODES.invalidParameters, when: (f) => /region/i.test(f.text) && /does not exist/i.test(f.text), then: 'capacity-region' },
    { code: LAMBDA_ERROR_CODES.objectDoesNotExist, then: 'not-found' },
    { status: 404, then: 'not-found' },
  ],
  // A launch naming something that is gone (type, SSH key, image): this offer cannot work.
  notFound: { instance: 'instance', launch: 'invalid', 'ssh-key': 'resource', catalog: 'resource' },
  rateLimitWaitMs: (f) => documentedRateLimitWaitMs(f.op),
};

/** Lambda's `{error: {code, message}}`, or the text of a body that is not. */
function lambdaNativeError(body: unknown): { code: string; text: string } {
  const parsed = LambdaErrorBodySchema.safeParse(body);
  return parsed.success ? { code: parsed.data.error.code, text: parsed.data.error.message || parsed.data.error.code } : { code: '', text: bodySnippet(body) };
}

/** Maps a Lambda error response to a typed cloud error (see {@link LAMBDA_ERRORS}). */
export function lambdaErrorFromResponse(status: number, body: unknown, retryAfter: string | null, what: string, op: LambdaOperation): CloudError {
  return errorFromTable(LAMBDA_ERRORS, { status, body, retryAfter, what, op }, lambdaNativeError(body));
}

/** Sends one request (repeating it only on a short 429) and returns the envelope's `data`. */
export async function callLambda<T extends z.ZodTypeAny>(
  target: LambdaHttpTarget,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  schema: T,
  opts: LambdaRequestOptions,
): Promise<z.output<T>> {
  const fullPath = `${LAMBDA_API_PREFIX}${path}`;
  const what = `lambda ${method} ${fullPath}`;
  return callProviderApi({
    provider: 'lambda',
    what,
    method,
    url: `${target.baseUrl}${fullPath}`,
    headers: { authorization: authorizationHeader(target.apiKey, target.authScheme) },
    body: opts.body,
    timeoutMs: target.timeoutMs,
    secret: target.apiKey,
    logFields: { method, path: fullPath },
    logPath: fullPath,
    logger: target.logger,
    rateLimit: { retries: opts.rateLimitRetries ?? target.rateLimitRetries, maxWaitMs: target.rateLimitMaxWaitMs, fallbackWaitMs: documentedRateLimitWaitMs(opts.op), sleep: target.sleep },
    errorFrom: (status, body, retryAfter) => lambdaErrorFromResponse(status, body, retryAfter, what, opts.op),
    decode: (body) => {
      const env = z.object({ data: schema as z.ZodTypeAny }).safeParse(body);
      if (!env.success) throw unexpectedResponse(what, env.error);
      return env.data.data as z.output<T>;
    },
  });
}
