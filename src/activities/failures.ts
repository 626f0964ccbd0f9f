/**
 * Provider errors become Temporal failures whose type is the error class, so workflows and retry
 * policies can tell capacity (fail over) from outages (retry durably) without knowing providers.
 */
import { ApplicationFailure } from '@temporalio/common';
import { isCloudError } from '../providers/sdk/errors.js';

export interface CloudFailureDetails {
  code: string;
  scope?: string;
}

/**
 * The shortest wait passed on as nextRetryDelay. The server reads a zero nextRetryDelay as "no
 * more retries" (the activity fails at once), and a provider asking to come back now means
 * "Retry-After: 0" or a date that has just passed (HTTP dates have one-second resolution).
 */
export const MIN_NEXT_RETRY_DELAY_MS = 1_000;

export function toApplicationFailure(e: unknown): unknown {
  if (!isCloudError(e)) return e;
  const details: CloudFailureDetails = { code: e.code, ...(e.scope ? { scope: e.scope } : {}) };
  return ApplicationFailure.create({
    type: e.name,
    message: e.message,
    nonRetryable: !e.retryable,
    details: [details],
    // Only a retryable error waits; a non-retryable one with a nextRetryDelay would still not retry.
    ...(e.retryable && e.retryAfterMs !== undefined ? { nextRetryDelay: Math.max(MIN_NEXT_RETRY_DELAY_MS, Math.ceil(e.retryAfterMs)) } : {}),
  });
}

/** Runs a provider call, rethrowing typed cloud errors as Temporal failures. */
export async function asActivityFailure<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw toApplicationFailure(e);
  }
}
