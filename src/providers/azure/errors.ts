/**
 * Azure errors → the contract's typed errors, and one SDK call with backoff.
 *
 * Azure reports a failure in one of three places:
 * - the HTTP answer, ARM's error body `{"error": {"code", "message", "details": [...]}}` (Azure
 *   REST API guidelines, `CloudError` in the specs' common types): the SDKs throw a `RestError`
 *   with `statusCode`, `code` (the body's `error.code`) and `message`, and the response headers
 *   (`Retry-After` on 429);
 * - a long-running operation's final status (`Azure-AsyncOperation` → `{"status": "Failed",
 *   "error": {"code", "message"}}`), where capacity failures of a VM create land: @azure/core-lro
 *   throws a plain `Error("The long-running operation has failed. <code>. <message>")`;
 * - the token request: @azure/identity throws `AuthenticationError` (Entra's `invalid_client`,
 *   `unauthorized_client`, AADSTS codes) or `CredentialUnavailableError`.
 *
 * All go through {@link AZURE_ERROR_TABLE} (data, not code). Scopes: SkuNotAvailable blocks the
 * offer (this size in this region), AllocationFailed the region (offers are regional: SkyPilot's
 * Azure failover blocks the region too), ZonalAllocationFailed the zone, quota the region (Azure's
 * vCPU family and regional core quotas are per region), credentials the provider.
 */
import type { Logger } from 'pino';
import { AuthenticationError, CloudError, ImageNotFoundError, InstanceNotFoundError, InsufficientCapacityError, InvalidRequestError, OutOfQuotaError, ResourceNotFoundError, ServiceUnavailableError, type FailureScope } from '../sdk/errors.js';

export type AzureErrorKind = 'capacity' | 'quota' | 'auth' | 'throttle' | 'not-found' | 'unavailable' | 'invalid' | 'image-not-found' | 'maybe-quota' | 'conflict';

export interface AzureErrorRule {
  kind: AzureErrorKind;
  scope?: FailureScope;
}

/**
 * ARM/Compute error codes → typed error and scope. Sources: Azure's "Troubleshoot allocation
 * failures", "Resolve errors for SKU not available", "Resolve errors for resource quotas",
 * "Troubleshoot common Azure deployment errors" and ARM's throttling page.
 */
export const AZURE_ERROR_TABLE: Readonly<Record<string, AzureErrorRule>> = {
  // Capacity.
  SkuNotAvailable: { kind: 'capacity', scope: 'offer' },
  AllocationFailed: { kind: 'capacity', scope: 'region' },
  OverconstrainedAllocationRequest: { kind: 'capacity', scope: 'region' },
  ZonalAllocationFailed: { kind: 'capacity', scope: 'zone' },
  OverconstrainedZonalAllocationRequest: { kind: 'capacity', scope: 'zone' },
  // Spot: no spot capacity at this price / now.
  SpotAllocationFailed: { kind: 'capacity', scope: 'region' },
  // Quota: vCPU family, regional cores, spot cores, public IPs.
  QuotaExceeded: { kind: 'quota', scope: 'region' },
  PublicIPCountLimitReached: { kind: 'quota', scope: 'region' },
  // OperationNotAllowed is quota when its message says so ("exceeding approved … quota"), else a refusal.
  OperationNotAllowed: { kind: 'maybe-quota', scope: 'region' },
  // Credentials and permissions: nothing on this provider will work.
  AuthorizationFailed: { kind: 'auth', scope: 'provider' },
  AuthenticationFailed: { kind: 'auth', scope: 'provider' },
  InvalidAuthenticationToken: { kind: 'auth', scope: 'provider' },
  InvalidAuthenticationTokenTenant: { kind: 'auth', scope: 'provider' },
  ExpiredAuthenticationToken: { kind: 'auth', scope: 'provider' },
  LinkedAuthorizationFailed: { kind: 'auth', scope: 'provider' },
  SubscriptionNotFound: { kind: 'auth', scope: 'provider' },
  MissingSubscriptionRegistration: { kind: 'auth', scope: 'provider' },
  invalid_client: { kind: 'auth', scope: 'provider' },
  unauthorized_client: { kind: 'auth', scope: 'provider' },
  invalid_request: { kind: 'auth', scope: 'provider' },
  invalid_scope: { kind: 'auth', scope: 'provider' },
  unsupported_grant_type: { kind: 'auth', scope: 'provider' },
  // Throttling (ARM: 429 with Retry-After).
  TooManyRequests: { kind: 'throttle' },
  SubscriptionRequestsThrottled: { kind: 'throttle' },
  // Reads.
  NotFound: { kind: 'not-found' },
  ResourceNotFound: { kind: 'not-found' },
  // Configuration the user must fix.
  ResourceGroupNotFound: { kind: 'invalid' },
  InvalidParameter: { kind: 'invalid' },
  InvalidRequestContent: { kind: 'invalid' },
  BadRequest: { kind: 'invalid' },
  PreconditionFailed: { kind: 'conflict' },
  Conflict: { kind: 'conflict' },
  OperationPreempted: { kind: 'unavailable' },
  ImageNotFound: { kind: 'image-not-found' },
  PlatformImageNotFound: { kind: 'image-not-found' },
  InvalidTemplateDeployment: { kind: 'invalid' },
  // Azure-side faults.
  InternalServerError: { kind: 'unavailable' },
  InternalExecutionError: { kind: 'unavailable' },
  ServiceUnavailable: { kind: 'unavailable' },
  RetryableError: { kind: 'unavailable' },
  GatewayTimeout: { kind: 'unavailable' },
};

/** The wait suggested after the adapter's own retries of a throttled call ran out, when Azure named none. */
export const AZURE_THROTTLE_RETRY_AFTER_MS = 5_000;

/** Words of a quota refusal (OperationNotAllowed: "Operation could not be completed as it results in exceeding approved … quota"). */
const QUOTA_TEXT = /quota|exceeding approved|cores? limit/i;
/** core-lro's message for a failed long-running operation: "…has failed. <code>. <message>". */
const LRO_FAILED = /^The long-running operation has failed\. ([A-Za-z_]+)\. ([\s\S]*)$/;

/** What the adapter reads of an SDK error (RestError, identity's AuthenticationError, core-lro's Error). */
interface SdkErrorLike {
  name?: string;
  message?: string;
  code?: string;
  statusCode?: number;
  response?: { headers?: { get?(name: string): string | undefined } };
  errorResponse?: { error?: string; errorDescription?: string };
  /** MSAL's errors (ServerError: the token endpoint's OAuth `error`, e.g. invalid_client). */
  errorCode?: string;
}

/** @azure/identity's and MSAL's error names: the token request failed, so nothing on this provider works. */
const IDENTITY_ERRORS = new Set(['AuthenticationError', 'AuthenticationRequiredError', 'CredentialUnavailableError', 'AggregateAuthenticationError', 'ServerError', 'ClientAuthError']);

/** The Azure error code of an SDK error: RestError's `code`, a failed LRO's code, or identity's OAuth error. */
export function azureErrorCode(e: unknown): string {
  const x = (e ?? {}) as SdkErrorLike;
  if (typeof x.code === 'string' && x.code) return x.code;
  const lro = LRO_FAILED.exec(x.message ?? '');
  if (lro) return lro[1]!;
  if (x.name === 'AuthenticationError' && x.errorResponse?.error) return x.errorResponse.error;
  if (typeof x.errorCode === 'string' && x.errorCode) return x.errorCode;
  // MSAL's message leads with the OAuth error: "invalid_client: Error(s): 7000215 - …".
  const oauth = /^(invalid_client|unauthorized_client|invalid_request|invalid_scope|unsupported_grant_type):/.exec(x.message ?? '');
  return oauth ? oauth[1]! : '';
}

export function azureHttpStatus(e: unknown): number | undefined {
  const s = (e as SdkErrorLike)?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

/** `Retry-After` of a throttled answer (seconds or an HTTP date), in ms. */
export function retryAfterMsOf(e: unknown): number | undefined {
  const h = (e as SdkErrorLike)?.response?.headers?.get?.('retry-after');
  if (!h) return undefined;
  const s = Number(h);
  if (Number.isFinite(s) && s >= 0) return Math.round(s * 1000);
  const at = Date.parse(h);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}

function fromRule(rule: AzureErrorRule, message: string, e: unknown): CloudError {
  switch (rule.kind) {
    case 'capacity':
      return new InsufficientCapacityError(message, rule.scope ? { scope: rule.scope } : {});
    case 'quota':
      return new OutOfQuotaError(message, { scope: rule.scope ?? 'region' });
    case 'maybe-quota':
      return QUOTA_TEXT.test(message) ? new OutOfQuotaError(message, { scope: rule.scope ?? 'region' }) : new InvalidRequestError(message);
    case 'auth':
      return new AuthenticationError(message);
    case 'throttle':
      return new ServiceUnavailableError(message, { retryAfterMs: retryAfterMsOf(e) ?? AZURE_THROTTLE_RETRY_AFTER_MS });
    case 'not-found':
      return new ResourceNotFoundError(message);
    case 'image-not-found':
      return new ImageNotFoundError(message);
    case 'conflict':
    case 'invalid':
      return new InvalidRequestError(message);
    case 'unavailable':
      return new ServiceUnavailableError(message);
  }
}

/** Maps an SDK failure to a typed CloudError. `what` prefixes the message ("azure eastus virtualMachines.createOrUpdate"). */
export function azureErrorFrom(e: unknown, what: string): CloudError {
  if (e instanceof CloudError) return e;
  const x = (e ?? {}) as SdkErrorLike;
  const status = azureHttpStatus(e);
  const code = azureErrorCode(e);
  const lro = LRO_FAILED.exec(x.message ?? '');
  const text = lro ? lro[2]! : (x.message ?? String(e));
  const message = `${what}: ${code ? `${code}: ` : ''}${text.split('\n')[0]!.slice(0, 400)}${status ? ` (HTTP ${status})` : ''}`;
  const rule = code ? AZURE_ERROR_TABLE[code] : undefined;
  if (status === 404 && (!rule || rule.kind === 'not-found')) return new ResourceNotFoundError(message);
  if (rule) return fromRule(rule, message, e);
  if (IDENTITY_ERRORS.has(x.name ?? '')) return new AuthenticationError(message);
  if (status === undefined) {
    // A failed long-running operation with a code the table does not know: the request was refused.
    if (lro) return new InvalidRequestError(message);
    return new ServiceUnavailableError(message);
  }
  if (status === 401 || status === 403) return new AuthenticationError(message);
  if (status === 429) return new ServiceUnavailableError(message, { retryAfterMs: retryAfterMsOf(e) ?? AZURE_THROTTLE_RETRY_AFTER_MS });
  if (status >= 500 || status === 408) return new ServiceUnavailableError(message);
  return new InvalidRequestError(message);
}

export interface AzureCallContext {
  /** "azure eastus virtualMachines.createOrUpdate": names the call in errors and logs. */
  what: string;
  method: string;
  region?: string;
  logger?: Logger | undefined;
  /** Attempts, the first included (throttling and 5xx are retried). */
  maxAttempts: number;
  /** First backoff; doubled per attempt with full jitter, at most 8 s (or Azure's Retry-After). */
  backoffMs?: number;
}

/**
 * One SDK call: logged at debug (method, region, attempts, ms, HTTP status, code; never a
 * credential), retried on throttling (429, honouring Retry-After up to 30 s) and 5xx with
 * exponential backoff and jitter, and mapped to a typed error when it still fails. Only calls safe
 * to repeat come here (reads, and PUT/DELETE of a named resource, which ARM makes idempotent).
 */
export async function callAzure<T>(fn: () => Promise<T>, ctx: AzureCallContext): Promise<T> {
  const started = Date.now();
  const base = ctx.backoffMs ?? 500;
  for (let attempt = 1; ; attempt++) {
    try {
      const out = await fn();
      ctx.logger?.debug({ method: ctx.method, region: ctx.region, attempts: attempt, ms: Date.now() - started }, 'azure api request');
      return out;
    } catch (e) {
      const err = azureErrorFrom(e, ctx.what);
      ctx.logger?.debug({ method: ctx.method, region: ctx.region, attempts: attempt, status: azureHttpStatus(e), code: azureErrorCode(e), ms: Date.now() - started }, 'azure api request');
      if (!(err instanceof ServiceUnavailableError) || attempt >= ctx.maxAttempts) throw err;
      const cap = Math.min(8_000, base * 2 ** (attempt - 1));
      const wait = err.retryAfterMs !== undefined && retryAfterMsOf(e) !== undefined ? Math.min(30_000, err.retryAfterMs) : Math.round(cap / 2 + Math.random() * (cap / 2));
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/** Not found → `InstanceNotFoundError` (reads of one VM). */
export function asInstanceNotFound(e: CloudError): CloudError {
  return e instanceof ResourceNotFoundError ? new InstanceNotFoundError(e.message) : e;
}
