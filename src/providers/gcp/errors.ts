/**
 * Compute Engine errors → the contract's typed errors, and one SDK call with backoff.
 *
 * Compute reports a failure in one of two places:
 * - the HTTP answer, Google's error body `{"error": {"code": 403, "message": …, "errors":
 *   [{"domain", "reason": "forbidden", "message"}], "details": [{"@type": "…google.rpc.ErrorInfo",
 *   "reason": "IAM_PERMISSION_DENIED", …}]}}`. google-gax's REST transport keeps `message`, the
 *   gRPC `code` (from the HTTP status) and the ErrorInfo `reason`, and drops the legacy `errors[]`:
 *   so the adapter reads the ErrorInfo reason when there is one, else the HTTP status;
 * - the zone operation, once DONE: `Operation.error.errors[{code: "ZONE_RESOURCE_POOL_EXHAUSTED",
 *   message}]`, where capacity and most quota failures of an insert land.
 *
 * Both go through {@link GCP_ERROR_TABLE} (data, not code), with the scopes of SkyPilot's GCP
 * failover (notes/anchors.md): the zone on ZONE_RESOURCE_POOL_EXHAUSTED, the region on a
 * per-region QUOTA_EXCEEDED, the whole cloud on GPUS_ALL_REGIONS and on credentials/IAM errors.
 */
import type { Logger } from 'pino';
import { AuthenticationError, CloudError, ImageNotFoundError, InstanceNotFoundError, InsufficientCapacityError, InvalidRequestError, OutOfQuotaError, ResourceNotFoundError, ServiceUnavailableError, type FailureScope } from '../sdk/errors.js';

export type GcpErrorKind = 'capacity' | 'quota' | 'auth' | 'throttle' | 'not-found' | 'exists' | 'unavailable' | 'invalid' | 'image-not-found';

export interface GcpErrorRule {
  kind: GcpErrorKind;
  scope?: FailureScope;
}

/**
 * Operation error codes (UPPER_CASE) and HTTP error reasons (camelCase) → typed error and scope.
 * Sources: Compute's "Troubleshooting resource availability" and "Quotas" pages, the discovery
 * doc's `Operation.error`, Google's API error model (cloud.google.com/apis/design/errors).
 */
export const GCP_ERROR_TABLE: Readonly<Record<string, GcpErrorRule>> = {
  // Capacity: the zone has no resources for the request now.
  ZONE_RESOURCE_POOL_EXHAUSTED: { kind: 'capacity', scope: 'zone' },
  ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS: { kind: 'capacity', scope: 'zone' },
  // The zone does not offer the machine type or accelerator at all.
  UNSUPPORTED_OPERATION: { kind: 'capacity', scope: 'zone' },
  resourceNotReady: { kind: 'unavailable' },
  // Quota: per region, unless the message names a project-wide metric (see quotaScope).
  QUOTA_EXCEEDED: { kind: 'quota', scope: 'region' },
  quotaExceeded: { kind: 'quota', scope: 'region' },
  // Credentials and permissions: nothing on this provider will work.
  authError: { kind: 'auth', scope: 'provider' },
  unauthorized: { kind: 'auth', scope: 'provider' },
  forbidden: { kind: 'auth', scope: 'provider' },
  accessNotConfigured: { kind: 'auth', scope: 'provider' },
  SERVICE_ACCOUNT_ACCESS_DENIED: { kind: 'auth', scope: 'provider' },
  // google.rpc.ErrorInfo reasons (the SDK keeps these as `reason`; it drops the legacy errors[]).
  IAM_PERMISSION_DENIED: { kind: 'auth', scope: 'provider' },
  SERVICE_DISABLED: { kind: 'auth', scope: 'provider' },
  ACCESS_TOKEN_EXPIRED: { kind: 'auth', scope: 'provider' },
  CREDENTIALS_MISSING: { kind: 'auth', scope: 'provider' },
  ACCESS_TOKEN_TYPE_UNSUPPORTED: { kind: 'auth', scope: 'provider' },
  RATE_LIMIT_EXCEEDED: { kind: 'throttle' },
  // Throttling: Compute's API rate limits (per project, per minute) and operation rate limits.
  rateLimitExceeded: { kind: 'throttle' },
  userRateLimitExceeded: { kind: 'throttle' },
  RESOURCE_OPERATION_RATE_EXCEEDED: { kind: 'throttle' },
  // Reads.
  notFound: { kind: 'not-found' },
  RESOURCE_NOT_FOUND: { kind: 'not-found' },
  alreadyExists: { kind: 'exists' },
  RESOURCE_ALREADY_EXISTS: { kind: 'exists' },
  // Google-side faults.
  backendError: { kind: 'unavailable' },
  internalError: { kind: 'unavailable' },
  INTERNAL_ERROR: { kind: 'unavailable' },
  // Refused as asked.
  invalid: { kind: 'invalid' },
  badRequest: { kind: 'invalid' },
  required: { kind: 'invalid' },
  conditionNotMet: { kind: 'invalid' },
};

/** Project-wide quota metrics: exceeding one blocks every region (SkyPilot: GPUS_ALL_REGIONS blocks the cloud). */
export const PROJECT_WIDE_QUOTAS = ['GPUS_ALL_REGIONS', 'GPUS-ALL-REGIONS', 'gpus_all_regions'] as const;

/** The wait suggested to Temporal after the adapter's own retries of a throttled call ran out. */
export const GCP_THROTTLE_RETRY_AFTER_MS = 5_000;

/** HTTP status of a gRPC code, as google-gax maps them the other way (status.js). */
const GRPC_TO_HTTP: Readonly<Record<number, number>> = { 3: 400, 5: 404, 6: 409, 7: 403, 8: 429, 9: 400, 10: 409, 12: 501, 13: 500, 14: 503, 4: 504, 16: 401, 2: 500 };

/** One error as Compute words it (HTTP `errors[]` entry or an operation error entry). */
export interface GceErrorItem {
  reason?: string | null;
  code?: string | null;
  message?: string | null;
  domain?: string | null;
}

/** What the adapter reads of an SDK error (GoogleError, or a transport error). */
interface SdkErrorLike {
  name?: string;
  message?: string;
  code?: number | string;
  errors?: GceErrorItem[];
  reason?: string;
  status?: number;
  /** google-gax sets it on REST errors (the HTTP status it received). */
  httpStatusCode?: number;
}

/** The quota scope of a quota error: `provider` for a project-wide metric (GPUS_ALL_REGIONS), else `region`. */
export function quotaScope(message: string): FailureScope {
  return PROJECT_WIDE_QUOTAS.some((q) => message.includes(q)) ? 'provider' : 'region';
}

function fromRule(rule: GcpErrorRule, message: string): CloudError {
  switch (rule.kind) {
    case 'capacity':
      return new InsufficientCapacityError(message, rule.scope ? { scope: rule.scope } : {});
    case 'quota':
      return new OutOfQuotaError(message, { scope: quotaScope(message) });
    case 'auth':
      return new AuthenticationError(message);
    case 'throttle':
      return new ServiceUnavailableError(message, { retryAfterMs: GCP_THROTTLE_RETRY_AFTER_MS });
    case 'not-found':
      return new ResourceNotFoundError(message);
    case 'image-not-found':
      return new ImageNotFoundError(message);
    case 'exists':
    case 'invalid':
      return new InvalidRequestError(message);
    case 'unavailable':
      return new ServiceUnavailableError(message);
  }
}

/** The first code/reason of an error list the table knows, else the first one. */
function pick(items: readonly GceErrorItem[]): { key: string; item: GceErrorItem } | undefined {
  const keyed = items.map((i) => ({ key: i.code || i.reason || '', item: i })).filter((x) => x.key);
  return keyed.find((x) => x.key in GCP_ERROR_TABLE) ?? keyed[0];
}

/** A DONE operation's `error.errors` as a typed error (capacity and quota land here). */
export function gcpOperationError(errors: readonly GceErrorItem[], what: string): CloudError {
  const p = pick(errors);
  const message = `${what}: ${errors.map((e) => `${e.code ?? e.reason ?? 'ERROR'}: ${(e.message ?? '').slice(0, 300)}`).join('; ')}`;
  const rule = p ? GCP_ERROR_TABLE[p.key] : undefined;
  if (rule) return fromRule(rule, message);
  return new InvalidRequestError(message);
}

/** The HTTP status of an SDK error, from its gRPC code (the REST fallback maps HTTP → gRPC). */
export function gcpHttpStatus(e: unknown): number | undefined {
  const x = e as SdkErrorLike;
  if (typeof x?.httpStatusCode === 'number') return x.httpStatusCode;
  if (typeof x?.status === 'number') return x.status;
  return typeof x?.code === 'number' ? GRPC_TO_HTTP[x.code] : undefined;
}

/** The reason of an SDK error: `errors[0].reason` of Google's error body (or the ErrorInfo reason). */
export function gcpErrorReason(e: unknown): string {
  const x = e as SdkErrorLike;
  return pick(x?.errors ?? [])?.key ?? x?.reason ?? '';
}

/**
 * An answer the SDK could not read: a 2xx with a body that is not Compute's JSON. google-gax
 * reports an unparsable body as "Exceeded maximum number of retries retrying error … is not valid
 * JSON" (DEADLINE_EXCEEDED, no HTTP status) or as an undecodable response with `httpStatusCode`.
 */
export function isUnreadableAnswer(e: unknown): boolean {
  const status = gcpHttpStatus(e);
  if (status !== undefined && status >= 200 && status < 300) return true;
  const text = `${(e as Error)?.message ?? ''} ${((e as { cause?: Error })?.cause?.message ?? '')}`;
  return /is not valid JSON|Unexpected end of JSON|Unexpected token|in JSON at position|response body (was empty|is not)|Cannot (read|decode)|fromProto3JSON|unreadable/i.test(text);
}

/** Maps an SDK failure to a typed CloudError. `what` prefixes the message ("gcp us-central1-a instances.insert"). */
export function gcpErrorFrom(e: unknown, what: string): CloudError {
  if (e instanceof CloudError) return e;
  const x = (e ?? {}) as SdkErrorLike;
  const status = gcpHttpStatus(e);
  const reason = gcpErrorReason(e);
  const message = `${what}: ${reason ? `${reason}: ` : ''}${(x.message ?? String(e)).split('\n')[0]!.slice(0, 400)}${status ? ` (HTTP ${status})` : ''}`;
  // A 2xx that failed anyway: the body was not Compute's JSON (an HTML page, truncated, wrong
  // types the SDK could not decode). The provider's fault, not our request's: retryable.
  if (isUnreadableAnswer(e)) return new ServiceUnavailableError(`${what}: unreadable answer: ${(x.message ?? '').split('\n')[0]!.slice(0, 300)}${status ? ` (HTTP ${status})` : ''}`);
  const rule = reason ? GCP_ERROR_TABLE[reason] : undefined;
  if (status === 404 && (!rule || rule.kind === 'not-found')) return new ResourceNotFoundError(message);
  if (rule) return fromRule(rule, message);
  if (status === undefined) return new ServiceUnavailableError(message);
  if (status === 401 || status === 403) return new AuthenticationError(message);
  if (status === 429) return new ServiceUnavailableError(message, { retryAfterMs: GCP_THROTTLE_RETRY_AFTER_MS });
  if (status >= 500 || status === 408) return new ServiceUnavailableError(message);
  if (status === 409) return new InvalidRequestError(message);
  return new InvalidRequestError(message);
}

/** Whether a failure is worth repeating at once (with backoff): throttling and Google-side faults. */
export function isRetryableNow(err: CloudError): boolean {
  return err instanceof ServiceUnavailableError;
}

export interface GcpCallContext {
  /** "gcp us-central1-a instances.insert": names the call in errors and logs. */
  what: string;
  method: string;
  zone?: string;
  logger?: Logger | undefined;
  /** Attempts, the first included (throttling and 5xx are retried). */
  maxAttempts: number;
  /** First backoff; doubled per attempt with full jitter, at most 8 s. */
  backoffMs?: number;
}

/**
 * One SDK call: logged at debug (method, zone, attempts, ms, HTTP status; never a credential),
 * retried on throttling (429 / rateLimitExceeded) and 5xx with exponential backoff and jitter,
 * and mapped to a typed error when it still fails. Only calls safe to repeat come here (reads,
 * and inserts/deletes carrying a `requestId`).
 */
export async function callGce<T>(fn: () => Promise<T>, ctx: GcpCallContext): Promise<T> {
  const started = Date.now();
  const base = ctx.backoffMs ?? 500;
  for (let attempt = 1; ; attempt++) {
    try {
      const out = await fn();
      ctx.logger?.debug({ method: ctx.method, zone: ctx.zone, attempts: attempt, ms: Date.now() - started }, 'gcp api request');
      return out;
    } catch (e) {
      const err = gcpErrorFrom(e, ctx.what);
      ctx.logger?.debug({ method: ctx.method, zone: ctx.zone, attempts: attempt, status: gcpHttpStatus(e), reason: gcpErrorReason(e), ms: Date.now() - started }, 'gcp api request');
      // A 2xx Compute's SDK could not read is not repeated here: the call may have been carried
      // out, and a broken answer is rare enough to leave to the caller's (Temporal's) retry.
      if (!isRetryableNow(err) || isUnreadableAnswer(e) || attempt >= ctx.maxAttempts) throw err;
      const cap = Math.min(8_000, base * 2 ** (attempt - 1));
      await new Promise((r) => setTimeout(r, Math.round(cap / 2 + Math.random() * (cap / 2))));
    }
  }
}

/** Not found → `InstanceNotFoundError` (reads of one instance). */
export function asInstanceNotFound(e: CloudError): CloudError {
  return e instanceof ResourceNotFoundError ? new InstanceNotFoundError(e.message) : e;
}
