/** gRPC statuses → the contract's typed errors (src/providers/nebius/errors.ts). */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { asNebiusError, nebiusErrorFrom } from '../../../../src/providers/nebius/index.js';
import { AuthenticationError, InsufficientCapacityError, InvalidRequestError, OutOfQuotaError, ResourceNotFoundError, ServiceUnavailableError } from '../../../../src/providers/sdk/errors.js';

it('RESOURCE_EXHAUSTED is quota (region) when the message says quota or limit, else capacity (offer)', () => {
  const quota = nebiusErrorFrom(status.RESOURCE_EXHAUSTED, 'Quota exceeded: compute.instance.gpu.h100 in eu-north1: limit 8, requested 1', 'nebius Create');
  assert.ok(quota instanceof OutOfQuotaError);
  assert.equal(quota.scope, 'region');
  assert.equal(quota.retryable, false);
  assert.ok(nebiusErrorFrom(status.RESOURCE_EXHAUSTED, 'resource limit exceeded for tenant', 'x') instanceof OutOfQuotaError);
  const capacity = nebiusErrorFrom(status.RESOURCE_EXHAUSTED, 'not enough resources to allocate instance of platform gpu-h100-sxm', 'nebius Create');
  assert.ok(capacity instanceof InsufficientCapacityError);
  assert.equal(capacity.scope, 'offer');
  assert.equal(capacity.retryable, false);
});

it('UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED and INTERNAL are retryable', () => {
  for (const c of [status.UNAVAILABLE, status.DEADLINE_EXCEEDED, status.ABORTED, status.INTERNAL]) {
    const e = nebiusErrorFrom(c, 'x', 'nebius Get');
    assert.ok(e instanceof ServiceUnavailableError, status[c]);
    assert.equal(e.retryable, true);
  }
});

it('UNAUTHENTICATED and PERMISSION_DENIED are authentication errors that say what to check', () => {
  for (const c of [status.UNAUTHENTICATED, status.PERMISSION_DENIED]) {
    const e = nebiusErrorFrom(c, 'invalid or missing IAM token', 'nebius List');
    assert.ok(e instanceof AuthenticationError);
    assert.match(e.message, /IAM token/);
    assert.match(e.message, new RegExp(status[c]!));
  }
});

it('NOT_FOUND is not-found; INVALID_ARGUMENT and the rest invalid requests', () => {
  assert.ok(nebiusErrorFrom(status.NOT_FOUND, 'resource x not found', 'y') instanceof ResourceNotFoundError);
  assert.ok(nebiusErrorFrom(status.INVALID_ARGUMENT, 'spec.resources.platform: value is required', 'y') instanceof InvalidRequestError);
  assert.ok(nebiusErrorFrom(status.FAILED_PRECONDITION, 'x', 'y') instanceof InvalidRequestError);
});

it('asNebiusError maps a grpc-js ServiceError and passes other errors through', () => {
  const grpcErr = Object.assign(new Error('14 UNAVAILABLE: connection refused'), { code: status.UNAVAILABLE, details: 'connection refused', metadata: {} });
  const e = asNebiusError(grpcErr, 'nebius Get');
  assert.ok(e instanceof ServiceUnavailableError);
  assert.match((e as Error).message, /^nebius Get: UNAVAILABLE: connection refused$/);
  const plain = new TypeError('boom');
  assert.equal(asNebiusError(plain, 'x'), plain);
});
