/**
 * 429 handling of the Lambda adapter against the replica's documented limits (one request per
 * second; one launch per 12 s): bounded in-place retries that honour Retry-After (or the documented
 * interval when there is none), and a ServiceUnavailableError with retryAfterMs when the wait is
 * too long for the adapter to sit out (Temporal retries it durably).
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { LambdaCredential } from '../../../../src/providers/lambda/index.js';
import { ServiceUnavailableError, type CloudError } from '../../../../src/providers/sdk/errors.js';
import { generateSshKeyPair } from '../../../../src/ssh/sshClient.js';
import { BACKING, startBackingCloud } from '../../../replicas/backingCatalog.js';
import { LAMBDA_DOCUMENTED_RATE_LIMITS, startLambdaReplica, type LambdaReplicaHandle } from '../../../replicas/lambda/server.js';

describe('Lambda rate limits', () => {
  const apiKey = 'secret_lambda_ratelimit_0123456789';
  let backing: Awaited<ReturnType<typeof startBackingCloud>>;
  let replica: LambdaReplicaHandle;
  const key = generateSshKeyPair('rate-limit-test');
  const cred = (over: Record<string, unknown> = {}) => new LambdaCredential({ refId: 'rl', apiKey, baseUrl: replica.url, testReplica: true, ...over });
  const since = (i: number) => replica.admin.requests().slice(i);

  before(async () => {
    backing = await startBackingCloud();
    replica = await startLambdaReplica({ localCloud: backing, apiKey, backing: BACKING });
  });
  after(async () => {
    await replica?.close();
    await backing?.close();
  });
  beforeEach(async () => {
    replica.admin.clearFaults();
    replica.admin.setRateLimits(LAMBDA_DOCUMENTED_RATE_LIMITS);
    await new Promise((r) => setTimeout(r, 1_100)); // a fresh token
  });

  it('the documented 1 request/s: a burst gets 429 + Retry-After and the adapter waits it out', async () => {
    const client = await cred().makeClient('');
    const start = replica.admin.requests().length;
    const t0 = Date.now();
    await client.getInstanceTypes({});
    await client.getInstanceTypes({});
    const seen = since(start);
    assert.deepEqual(seen.map((r) => r.status), [200, 429, 200]);
    assert.ok(Date.now() - t0 >= 900, 'waited about a second');
  });

  it('honours a longer Retry-After exactly, then succeeds', async () => {
    const client = await cred().makeClient('');
    replica.admin.rateLimitNext({ count: 1, retryAfterSeconds: 2 });
    const start = replica.admin.requests().length;
    const t0 = Date.now();
    await client.listInstances({});
    const waited = Date.now() - t0;
    assert.ok(waited >= 1_950, `waited ${waited} ms for Retry-After: 2`);
    assert.deepEqual(since(start).map((r) => r.status), [429, 200]);
  });

  it('retries a bounded number of times, then surfaces ServiceUnavailableError with retryAfterMs', async () => {
    replica.admin.setRateLimits(false);
    const client = await cred({ rateLimitRetries: 2 }).makeClient('');
    replica.admin.rateLimitNext({ count: 10, retryAfterSeconds: 0 });
    const start = replica.admin.requests().length;
    await assert.rejects(client.listInstances({}), (e: CloudError) => e instanceof ServiceUnavailableError && e.retryable && e.retryAfterMs === 0);
    assert.equal(since(start).length, 3, '1 try + 2 retries, then it stops');
  });

  it('the documented launch limit (1 per 12 s): the second launch gets 429; a 12 s wait is handed to the caller', async () => {
    replica.admin.setRateLimits({ requestsPerSecond: 100, burst: 100 }); // only the launch limit matters here
    const client = await cred({ rateLimitMaxWaitMs: 1_000 }).makeClient('');
    const firstAt = Date.now();
    const first = await client.createInstance({ refId: 'rl-1', location: 'us-east-1', instanceType: 'gpu_1x_a10', publicKey: key.publicKey });
    try {
      const launchesBefore = replica.admin.launches().length;
      await assert.rejects(
        client.createInstance({ refId: 'rl-2', location: 'us-east-1', instanceType: 'gpu_1x_a10', publicKey: key.publicKey }),
        // What is left of the 12 s window (whole seconds): less the time the first launch took.
        (e: CloudError) => e instanceof ServiceUnavailableError && e.retryAfterMs! >= 12_000 - (Date.now() - firstAt) - 1_000 && e.retryAfterMs! <= 12_000,
      );
      assert.equal(replica.admin.launches().length, launchesBefore, 'the second launch was refused, not made');
      const last = replica.admin.requests().filter((r) => r.path.endsWith('/instance-operations/launch')).at(-1)!;
      assert.equal(last.status, 429);
    } finally {
      await client.terminateInstance(first.cloudId);
    }
  });

  it('without Retry-After, a launch 429 means the documented 12 s', async () => {
    replica.admin.setRateLimits({ requestsPerSecond: 100, burst: 100, retryAfterHeader: false });
    const client = await cred({ rateLimitMaxWaitMs: 1_000 }).makeClient('');
    replica.admin.rateLimitNext({ count: 1, paths: ['/instance-operations/launch'], retryAfterHeader: false });
    await assert.rejects(
      client.createInstance({ refId: 'rl-3', location: 'us-east-1', instanceType: 'gpu_1x_a10', publicKey: key.publicKey }),
      (e: CloudError) => e instanceof ServiceUnavailableError && e.retryAfterMs === 12_000,
    );
  });
});
