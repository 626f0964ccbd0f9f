/**
 * 429 handling of the RunPod adapter against the replica. RunPod documents no rate limits for its
 * GraphQL API, so the replica enforces none and injects 429s: the adapter repeats a 429 in place a
 * bounded number of times, waiting what Retry-After says (1 s without it), and hands a longer wait
 * to the caller as ServiceUnavailableError with retryAfterMs (Temporal retries it durably).
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { RunPodCredential } from '../../../../src/providers/runpod/index.js';
import { ServiceUnavailableError, type CloudError } from '../../../../src/providers/sdk/errors.js';
import { generateSshKeyPair } from '../../../../src/ssh/sshClient.js';
import { BACKING, startBackingCloud } from '../../../replicas/backingCatalog.js';
import { startRunPodReplica, type RunPodReplicaHandle } from '../../../replicas/runpod/server.js';

describe('RunPod rate limits', () => {
  const apiKey = 'rpa_ratelimit_0123456789abcdef';
  let backing: Awaited<ReturnType<typeof startBackingCloud>>;
  let replica: RunPodReplicaHandle;
  const cred = (over: Record<string, unknown> = {}) => new RunPodCredential({ refId: 'rl', apiKey, baseUrl: replica.url, testReplica: true, ...over });
  const since = (n: number) => replica.admin.requests().slice(n);

  before(async () => {
    backing = await startBackingCloud();
    replica = await startRunPodReplica({ localCloud: backing, apiKey, backing: BACKING });
  });
  after(async () => {
    await replica?.close();
    await backing?.close();
  });
  beforeEach(() => replica.admin.clearFaults());

  it('honours Retry-After, then succeeds', async () => {
    const client = await cred().makeClient('');
    replica.admin.rateLimitNext({ count: 1, retryAfterSeconds: 2 });
    const n = replica.admin.requests().length;
    const t0 = Date.now();
    await client.listInstances({});
    const waited = Date.now() - t0;
    assert.ok(waited >= 1_950, `waited ${waited} ms for Retry-After: 2`);
    assert.deepEqual(since(n).map((r) => r.status), [429, 200]);
  });

  it('without Retry-After waits 1 s (no documented limit to go by)', async () => {
    const client = await cred().makeClient('');
    replica.admin.rateLimitNext({ count: 1, retryAfterHeader: false });
    const t0 = Date.now();
    await client.getLocations();
    const waited = Date.now() - t0;
    assert.ok(waited >= 950 && waited < 3_000, `waited ${waited} ms`);
  });

  it('retries a bounded number of times, then surfaces ServiceUnavailableError with retryAfterMs', async () => {
    const client = await cred({ rateLimitRetries: 2 }).makeClient('');
    replica.admin.rateLimitNext({ count: 10, retryAfterSeconds: 0 });
    const n = replica.admin.requests().length;
    await assert.rejects(client.listInstances({}), (e: CloudError) => e instanceof ServiceUnavailableError && e.retryable && e.retryAfterMs === 0);
    assert.equal(since(n).length, 3, '1 try + 2 retries, then it stops');
  });

  it('a Retry-After longer than rateLimitMaxWaitMs is handed to the caller at once', async () => {
    const client = await cred().makeClient('');
    replica.admin.rateLimitNext({ count: 1, retryAfterSeconds: 30 });
    const n = replica.admin.requests().length;
    const t0 = Date.now();
    await assert.rejects(client.getInstanceTypes({}), (e: CloudError) => e instanceof ServiceUnavailableError && e.retryAfterMs === 30_000);
    assert.ok(Date.now() - t0 < 1_000);
    assert.equal(since(n).length, 1);
  });

  it('a rate-limited deploy is repeated (it was refused, nothing was rented) and rents one pod', async () => {
    const client = await cred().makeClient('');
    const key = generateSshKeyPair('runpod-rl');
    replica.admin.rateLimitNext({ count: 1, retryAfterSeconds: 1 });
    const before = replica.admin.deploys().length;
    const inst = await client.createInstance({ refId: 'rl-1', location: 'EU-RO-1', instanceType: '1x_NVIDIA_GeForce_RTX_4090', publicKey: key.publicKey });
    try {
      assert.equal(replica.admin.deploys().length, before + 1);
      assert.equal(inst.refId, 'rl-1');
    } finally {
      await client.terminateInstance(inst.cloudId);
    }
  });
});
