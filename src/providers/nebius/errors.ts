/**
 * gRPC statuses of Nebius's API → the contract's typed errors. Nebius answers with standard gRPC
 * status codes (google.rpc.Code), a message, and for failed operations the same in
 * `Operation.status`. RESOURCE_EXHAUSTED is both "no capacity for this platform" and "quota
 * exceeded": the message tells them apart (Nebius's say "quota" / "limit" for quotas, "not enough
 * resources" / "capacity" for capacity), as do `nebius.common.v1.ServiceError` details when present.
 */
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import {
  AuthenticationError,
  InsufficientCapacityError,
  InstanceNotFoundError,
  InvalidRequestError,
  OutOfQuotaError,
  ResourceNotFoundError,
  ServiceUnavailableError,
  type CloudError,
} from '../sdk/errors.js';

const QUOTA_RE = /quota|limit exceeded|limits? (?:is |are )?reached/i;

/** The typed error of a gRPC status (code + message); `what` names the call (never a secret). */
export function nebiusErrorFrom(code: number, message: string, what: string, cause?: unknown): CloudError {
  const m = `${what}: ${GrpcStatus[code] ?? code}: ${message}`;
  const opts = cause === undefined ? {} : { cause };
  switch (code) {
    case GrpcStatus.RESOURCE_EXHAUSTED:
      // Quota is the region's (Nebius quotas are per region of a tenant); capacity the platform's in the region.
      return QUOTA_RE.test(message) ? new OutOfQuotaError(m, { ...opts, scope: 'region' }) : new InsufficientCapacityError(m, { ...opts, scope: 'offer' });
    case GrpcStatus.UNAVAILABLE:
    case GrpcStatus.DEADLINE_EXCEEDED:
    case GrpcStatus.ABORTED:
    case GrpcStatus.INTERNAL:
      return new ServiceUnavailableError(m, opts);
    case GrpcStatus.UNAUTHENTICATED:
    case GrpcStatus.PERMISSION_DENIED:
      return new AuthenticationError(`${m} (check the connection's IAM token and that its service account may use Compute in this project)`, opts);
    case GrpcStatus.NOT_FOUND:
      return new ResourceNotFoundError(m, opts);
    default:
      return new InvalidRequestError(m, opts);
  }
}

export function isGrpcError(e: unknown): e is ServiceError {
  return e instanceof Error && typeof (e as Partial<ServiceError>).code === 'number' && 'metadata' in e;
}

/** A thrown gRPC error as a typed one (others pass through). */
export function asNebiusError(e: unknown, what: string): unknown {
  return isGrpcError(e) ? nebiusErrorFrom(e.code, e.details || e.message, what, e) : e;
}

export function asInstanceNotFound(e: unknown): unknown {
  return e instanceof ResourceNotFoundError ? new InstanceNotFoundError(e.message, { cause: e }) : e;
}

export { GrpcStatus };
