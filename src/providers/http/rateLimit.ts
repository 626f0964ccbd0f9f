/**
 * In-place retry of rate-limited (HTTP 429) calls, shared by the adapters over public APIs.
 *
 * Only 429 is repeated here, a bounded number of times and only when the wait is short: a 429 is
 * safe to repeat (the request was refused, nothing happened). Everything else, and a 429 asking
 * for a longer wait, surfaces as the typed error for Temporal to retry durably. A 5xx on create is
 * not safe to repeat (the instance may exist), so it never is here.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { CloudError } from '../sdk/errors.js';

/** Credential options for the policy below (defaults: 2 retries, waits up to 15 s). */
export const RATE_LIMIT_OPTION_FIELDS = {
  /** How many times a 429 is retried in place before it surfaces as ServiceUnavailableError; default 2. */
  rateLimitRetries: z.number().int().min(0).max(5).default(2),
  /** A 429 asking for a longer wait is not retried in place; default 15 s (one Lambda launch interval fits). */
  rateLimitMaxWaitMs: z.number().int().nonnegative().default(15_000),
};

export interface RateLimitPolicy {
  /** How many times a 429 is retried in place (0 = never). */
  retries: number;
  /** A 429 asking for a longer wait than this is not retried in place. */
  maxWaitMs: number;
  /** The wait when the mapped error carries none. */
  fallbackWaitMs: number;
  /** Test seam; default a real timer. */
  sleep?: ((ms: number) => Promise<void>) | undefined;
  logger?: Logger | undefined;
  /** Names the provider in the retry log line, e.g. "lambda". */
  provider: string;
  /** The request path, for the retry log line. */
  path: string;
}

/** One attempt's outcome: the value, or the adapter's typed error with the HTTP status behind it. */
export type AttemptResult<T> = { ok: true; value: T } | { ok: false; status: number; error: CloudError };

/** Runs `attempt` (numbered from 0) until it succeeds, fails other than with a short 429, or retries run out. */
export async function retryShortRateLimits<T>(policy: RateLimitPolicy, attempt: (n: number) => Promise<AttemptResult<T>>): Promise<T> {
  const wait = policy.sleep ?? ((ms: number) => sleep(ms));
  for (let n = 0; ; n++) {
    const r = await attempt(n);
    if (r.ok) return r.value;
    const err = r.error;
    if (r.status === 429 && n < policy.retries && (err.retryAfterMs ?? 0) <= policy.maxWaitMs) {
      policy.logger?.warn({ path: policy.path, waitMs: err.retryAfterMs, attempt: n + 1, of: policy.retries }, `${policy.provider} rate limit: waiting before retrying`);
      await wait(err.retryAfterMs ?? policy.fallbackWaitMs);
      continue;
    }
    throw err;
  }
}
