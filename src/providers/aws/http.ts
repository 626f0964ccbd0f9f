/**
 * One EC2 call through the official SDK, and the map from EC2 error codes to the contract's typed
 * errors. The SDK signs (SigV4), serializes the Query protocol, parses the XML and retries
 * throttling (`RequestLimitExceeded`) and 5xx answers with its standard backoff (`maxAttempts`);
 * what is still failing after that is mapped here, by the table below (data, not code).
 *
 * Scopes follow SkyPilot's AWS failover handling (notes/anchors.md): capacity blocks the zone,
 * account limits the region (EC2 quotas are per region), credentials the whole provider.
 */
import type { Logger } from 'pino';
import type { z } from 'zod';
import { unexpectedResponse } from '../http/request.js';
import { AuthenticationError, CloudError, DuplicateFirewallRuleError, ImageNotFoundError, InstanceNotFoundError, InsufficientCapacityError, InvalidRequestError, OutOfQuotaError, ResourceNotFoundError, ServiceUnavailableError, type FailureScope } from '../sdk/errors.js';

export type AwsErrorKind = 'capacity' | 'quota' | 'auth' | 'throttle' | 'instance-not-found' | 'not-found' | 'image-not-found' | 'duplicate' | 'duplicate-rule' | 'unavailable' | 'invalid';

export interface AwsErrorRule {
  kind: AwsErrorKind;
  scope?: FailureScope;
}

/** EC2 error codes (API Reference, "Error codes for the Amazon EC2 API") → typed error and scope. */
export const AWS_ERROR_TABLE: Readonly<Record<string, AwsErrorRule>> = {
  // Capacity: this zone has none of the type now (a server error, HTTP 500).
  InsufficientInstanceCapacity: { kind: 'capacity', scope: 'zone' },
  InsufficientHostCapacity: { kind: 'capacity', scope: 'zone' },
  InsufficientCapacityOnHost: { kind: 'capacity', scope: 'zone' },
  // The spot request cannot be met at this price or shape: another offer may do.
  SpotMaxPriceTooLow: { kind: 'capacity', scope: 'offer' },
  UnfulfillableCapacity: { kind: 'capacity', scope: 'zone' },
  // Account limits, per region.
  MaxSpotInstanceCountExceeded: { kind: 'quota', scope: 'region' },
  VcpuLimitExceeded: { kind: 'quota', scope: 'region' },
  InstanceLimitExceeded: { kind: 'quota', scope: 'region' },
  // The region is not enabled for the account: no use trying it, other regions may work.
  OptInRequired: { kind: 'quota', scope: 'region' },
  // Credentials and permissions: nothing on this provider will work.
  UnauthorizedOperation: { kind: 'auth', scope: 'provider' },
  AuthFailure: { kind: 'auth', scope: 'provider' },
  InvalidClientTokenId: { kind: 'auth', scope: 'provider' },
  SignatureDoesNotMatch: { kind: 'auth', scope: 'provider' },
  Blocked: { kind: 'auth', scope: 'provider' },
  PendingVerification: { kind: 'auth', scope: 'provider' },
  // Throttling: the SDK already backed off; Temporal retries later.
  RequestLimitExceeded: { kind: 'throttle' },
  Throttling: { kind: 'throttle' },
  ThrottlingException: { kind: 'throttle' },
  // Reads.
  'InvalidInstanceID.NotFound': { kind: 'instance-not-found' },
  'InvalidInstanceID.Malformed': { kind: 'instance-not-found' },
  'InvalidAMIID.NotFound': { kind: 'image-not-found' },
  'InvalidAMIID.Malformed': { kind: 'image-not-found' },
  'InvalidAMIID.Unavailable': { kind: 'image-not-found' },
  'InvalidGroup.NotFound': { kind: 'not-found' },
  'InvalidKeyPair.NotFound': { kind: 'not-found' },
  // Creates of named things that exist already (the adapter treats these as "found").
  'InvalidKeyPair.Duplicate': { kind: 'duplicate' },
  'InvalidGroup.Duplicate': { kind: 'duplicate' },
  'InvalidPermission.Duplicate': { kind: 'duplicate-rule' },
  // AWS-side faults.
  InternalError: { kind: 'unavailable' },
  InternalFailure: { kind: 'unavailable' },
  ServiceUnavailable: { kind: 'unavailable' },
  Unavailable: { kind: 'unavailable' },
  RequestTimeout: { kind: 'unavailable' },
  // Refused as asked: a bad parameter, an idempotency token reused with other parameters.
  IdempotentParameterMismatch: { kind: 'invalid' },
  InvalidParameterValue: { kind: 'invalid' },
  InvalidParameterCombination: { kind: 'invalid' },
  MissingParameter: { kind: 'invalid' },
  Unsupported: { kind: 'invalid' },
};

/** The wait suggested to Temporal after the SDK's own retries of a throttled call ran out. */
export const AWS_THROTTLE_RETRY_AFTER_MS = 5_000;

/** What the adapter reads of an SDK error (ServiceException or a transport error). */
interface SdkErrorLike {
  name?: string;
  message?: string;
  code?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number; attempts?: number };
}

/** The EC2 error code of an SDK error (`name` is the `<Code>` of the error XML). */
export function awsErrorCode(e: unknown): string {
  const x = e as SdkErrorLike;
  return x?.name ?? '';
}

/** Maps an SDK failure to a typed CloudError. `what` prefixes the message ("aws us-east-1 RunInstances"). */
export function awsErrorFrom(e: unknown, what: string): CloudError {
  if (e instanceof CloudError) return e;
  const x = (e ?? {}) as SdkErrorLike;
  const code = x.name ?? 'Error';
  const status = x.$metadata?.httpStatusCode;
  const message = `${what}: ${code}: ${(x.message ?? '').slice(0, 400)}${status ? ` (HTTP ${status})` : ''}`;
  // A 2xx that failed anyway: the body was not EC2's XML (./answerCheck.ts) or the SDK could not
  // read it (truncated, an HTML page). The provider's fault, not our request's: retryable.
  if (status !== undefined && status >= 200 && status < 300) return new ServiceUnavailableError(`${what}: unreadable answer: ${code}: ${(x.message ?? '').split('\n')[0]!.slice(0, 300)} (HTTP ${status})`);
  const rule = AWS_ERROR_TABLE[code];
  if (rule) return fromRule(rule, message);
  // Not an EC2 answer: network errors, timeouts, a body the SDK could not parse.
  if (status === undefined) return new ServiceUnavailableError(message);
  if (status >= 500 || status === 408) return new ServiceUnavailableError(message);
  if (status === 401 || status === 403) return new AuthenticationError(message);
  if (status === 429) return new ServiceUnavailableError(message, { retryAfterMs: AWS_THROTTLE_RETRY_AFTER_MS });
  return new InvalidRequestError(message);
}

function fromRule(rule: AwsErrorRule, message: string): CloudError {
  const scope = rule.scope ? { scope: rule.scope } : {};
  switch (rule.kind) {
    case 'capacity':
      return new InsufficientCapacityError(message, scope);
    case 'quota':
      return new OutOfQuotaError(message, scope);
    case 'auth':
      return new AuthenticationError(message);
    case 'throttle':
      return new ServiceUnavailableError(message, { retryAfterMs: AWS_THROTTLE_RETRY_AFTER_MS });
    case 'instance-not-found':
      return new InstanceNotFoundError(message);
    case 'image-not-found':
      return new ImageNotFoundError(message);
    case 'not-found':
      return new ResourceNotFoundError(message);
    case 'duplicate-rule':
      return new DuplicateFirewallRuleError(message);
    case 'duplicate':
    case 'invalid':
      return new InvalidRequestError(message);
    case 'unavailable':
      return new ServiceUnavailableError(message);
  }
}

/** A command the EC2 client can send (any SDK command). */
export interface Ec2Sender {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  send(command: any): Promise<any>;
}

/**
 * Sends one command, logs it (action, region, attempts, ms: never a credential) and maps a failure.
 * `tolerate` lists error codes returned as `{ code }` instead of thrown (e.g. a duplicate).
 * `schema` (./responses.ts) validates what the SDK parsed: a wrong-typed answer is a retryable
 * ServiceUnavailableError, never a value read with defaults.
 */
export async function sendEc2<S extends z.ZodTypeAny>(
  client: Ec2Sender,
  command: { constructor: { name: string } },
  ctx: { region: string; logger?: Logger | undefined },
  schema: S,
  tolerate: readonly string[] = [],
): Promise<{ ok: true; value: z.output<S> } | { ok: false; code: string }> {
  const action = command.constructor.name.replace(/Command$/, '');
  const what = `aws ${ctx.region} ${action}`;
  const started = Date.now();
  let out: { $metadata?: { attempts?: number; httpStatusCode?: number } };
  try {
    out = (await client.send(command)) as typeof out;
    ctx.logger?.debug({ action, region: ctx.region, status: out.$metadata?.httpStatusCode, attempts: out.$metadata?.attempts, ms: Date.now() - started }, 'aws api request');
  } catch (e) {
    const code = awsErrorCode(e);
    const x = e as SdkErrorLike;
    ctx.logger?.debug({ action, region: ctx.region, status: x.$metadata?.httpStatusCode, attempts: x.$metadata?.attempts, code, ms: Date.now() - started }, 'aws api request');
    if (tolerate.includes(code)) return { ok: false, code };
    throw awsErrorFrom(e, what);
  }
  const v = schema.safeParse(out);
  if (!v.success) throw unexpectedResponse(what, v.error);
  return { ok: true, value: v.data as z.output<S> };
}

/** {@link sendEc2} without tolerated codes: the value, or a thrown typed error. */
export async function callEc2<S extends z.ZodTypeAny>(client: Ec2Sender, command: { constructor: { name: string } }, ctx: { region: string; logger?: Logger | undefined }, schema: S): Promise<z.output<S>> {
  const r = await sendEc2(client, command, ctx, schema);
  if (!r.ok) throw new ServiceUnavailableError(`aws ${ctx.region}: unexpected ${r.code}`);
  return r.value;
}
