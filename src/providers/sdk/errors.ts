/**
 * Typed provider errors. Adapters map native errors to these; the workflow layer decides from
 * `retryable` and `scope` whether to retry durably, fail over to the next candidate, or give up.
 */

/** How far a failure reaches: what the router should stop trying after it. */
export type FailureScope = 'offer' | 'zone' | 'region' | 'provider';

export type CloudErrorCode =
  | 'INSUFFICIENT_CAPACITY'
  | 'OUT_OF_QUOTA'
  | 'IMAGE_NOT_FOUND'
  | 'DUPLICATE_FIREWALL_RULE'
  | 'INSTANCE_NOT_FOUND'
  | 'RESOURCE_NOT_FOUND'
  | 'SERVICE_UNAVAILABLE'
  | 'AUTHENTICATION'
  | 'NOT_IMPLEMENTED'
  | 'INVALID_REQUEST';

export abstract class CloudError extends Error {
  abstract readonly code: CloudErrorCode;
  /** Whether the same call may succeed if repeated later (5xx, timeouts, rate limits). */
  abstract readonly retryable: boolean;
  /** What a failed create blocks; undefined for errors that are not about placement. */
  readonly scope?: FailureScope;
  /** Milliseconds the provider asked us to wait (Retry-After), when it said. */
  readonly retryAfterMs?: number;

  constructor(message: string, options?: { cause?: unknown; scope?: FailureScope; retryAfterMs?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    if (options?.scope) this.scope = options.scope;
    if (options?.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }
}

export class InsufficientCapacityError extends CloudError {
  readonly code = 'INSUFFICIENT_CAPACITY';
  readonly retryable = false;
  constructor(message = 'zone has insufficient resources to fulfill the request', options?: { cause?: unknown; scope?: FailureScope }) {
    super(message, { scope: 'zone', ...options });
  }
}

export class OutOfQuotaError extends CloudError {
  readonly code = 'OUT_OF_QUOTA';
  readonly retryable = false;
  constructor(message = 'out of quota in the region to fulfill the request', options?: { cause?: unknown; scope?: FailureScope }) {
    super(message, { scope: 'region', ...options });
  }
}

export class ImageNotFoundError extends CloudError {
  readonly code = 'IMAGE_NOT_FOUND';
  readonly retryable = false;
  constructor(message = 'image not found', options?: { cause?: unknown }) {
    super(message, { scope: 'provider', ...options });
  }
}

export class DuplicateFirewallRuleError extends CloudError {
  readonly code = 'DUPLICATE_FIREWALL_RULE';
  readonly retryable = false;
}

export class InstanceNotFoundError extends CloudError {
  readonly code = 'INSTANCE_NOT_FOUND';
  readonly retryable = false;
  constructor(message = 'instance not found', options?: { cause?: unknown }) {
    super(message, options);
  }
}

export class ResourceNotFoundError extends CloudError {
  readonly code = 'RESOURCE_NOT_FOUND';
  readonly retryable = false;
  constructor(message = 'resource not found', options?: { cause?: unknown }) {
    super(message, options);
  }
}

export class ServiceUnavailableError extends CloudError {
  readonly code = 'SERVICE_UNAVAILABLE';
  readonly retryable = true;
  constructor(message = 'api is temporarily unavailable', options?: { cause?: unknown; retryAfterMs?: number }) {
    super(message, options);
  }
}

export class AuthenticationError extends CloudError {
  readonly code = 'AUTHENTICATION';
  readonly retryable = false;
  constructor(message = 'the provider rejected the credentials', options?: { cause?: unknown }) {
    super(message, { scope: 'provider', ...options });
  }
}

export class NotImplementedError extends CloudError {
  readonly code = 'NOT_IMPLEMENTED';
  readonly retryable = false;
  constructor(what: string) {
    super(`not implemented: ${what}`);
  }
}

/** The provider refused the request as malformed (4xx other than auth/not-found/capacity). */
export class InvalidRequestError extends CloudError {
  readonly code = 'INVALID_REQUEST';
  readonly retryable = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { scope: 'offer', ...options });
  }
}

export function isCloudError(e: unknown): e is CloudError {
  return e instanceof CloudError;
}
