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

export function toApplicationFailure(e: unknown): unknown {
  if (!isCloudError(e)) return e;
  const details: CloudFailureDetails = { code: e.code, ...(e.scope ? { scope: e.scope } : {}) };
  return ApplicationFailure.create({
    type: e.name,
    message: e.message,
    nonRetryable: !e.retryable,
    details: [details],
    ...(e.retryAfterMs !== undefined ? { nextRetryDelay: e.retryAfterMs } : {}),
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
