/**
 * 429 handling of the Vast.ai adapter against the replica's documented limits (a minimum interval
 * per endpoint, method and key; 429 "API requests too frequent endpoint threshold=X", no
 * Retry-After): bounded in-place retries that wait Retry-After, else the threshold, else an
 * exponential backoff, and a ServiceUnavailableError with retryAfterMs when the wait is too long
 * for the adapter to sit out (Temporal retries it durably).
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ServiceUnavailableError, type CloudError } from '../../../../src/providers/sdk/errors.js';
import { callVast, VastaiCredential, VastInstancesPageSchema, type VastHttpTarget } from '../../../../src/providers/vastai/index.js';
import { generateSshKeyPair } from '../../../../src/ssh/sshClient.js';
import { BACKING, startBackingCloud } from '../../../replicas/backingCatalog.js';
import { startVastaiReplica, VASTAI_DOCUMENTED_RATE_LIMITS, type VastaiReplicaHandle } from '../../../replicas/vastai/server.js';

describe('Vast.ai rate limits', () => {
  const apiKey = 'e'.repeat(64);
  let backing: Awaited<ReturnType<typeof startBackingCloud>>;
  let replica: VastaiReplicaHandle;
  const key = generateSshKeyPair('vast-rate-limit-test');
  const cred = (over: Record<string, unknown> = {}) => new VastaiCredential({ refId: 'rl', apiKey, baseUrl: replica.url, testReplica: true, ...over });
  const since = (i: number, path?: string) => replica.admin.requests().slice(i).filter((r) => !path || r.path.startsWith(path));

  before(async () => {
    backing = await startBackingCloud();
    replica = await startVastaiReplica({ localCloud: backing, apiKey, backing: BACKING });
  });
  after(async () => {
    await replica?.close();
    await backing?.close();
  });
  beforeEach(() => {
    replica.admin.clearFaults();
    replica.admin.setRateLimits(VASTAI_DOCUMENTED_RATE_LIMITS); // fresh buckets
  });

  it('the documented 2 s between show-instance calls: the second gets 429 threshold=2.0 and the adapter waits it out', async () => {
    const client = await cred().makeClient('');
    const inst = await client.createInstance({ refId: 'rl-show', location: 'US', instanceType: '1x-RTX_4090-24G', publicKey: key.publicKey });
    try {
      const start = replica.admin.requests().length;
      const t0 = Date.now();
      await client.getInstance(inst.cloudId);
      const waited = Date.now() - t0;
      // createInstance read the instance just before: this read came too soon.
      assert.deepEqual(since(start).map((r) => r.status), [429, 200]);
      assert.ok(waited >= 1_900, `waited ${waited} ms for a 2 s threshold`);
    } finally {
      replica.admin.setRateLimits(false);
      await client.terminateInstance(inst.cloudId);
    }
  });

  it('the documented 4.5 s between creates: a wait longer than rateLimitMaxWaitMs is handed to the caller, and nothing is made', async () => {
    const client = await cred({ rateLimitMaxWaitMs: 1_000 }).makeClient('');
    const first = await client.createInstance({ refId: 'rl-1', location: 'US', instanceType: '1x-RTX_4090-24G', publicKey: key.publicKey });
    try {
      const made = (await replica.admin.instances()).length;
      await assert.rejects(
        client.createInstance({ refId: 'rl-2', location: 'DE', instanceType: '1x-RTX_4090-24G', publicKey: key.publicKey }),
        (e: CloudError) => e instanceof ServiceUnavailableError && e.retryable && e.retryAfterMs === 4_500 && /threshold=4\.5/.test(e.message),
      );
      assert.equal((await replica.admin.instances()).length, made, 'the second accept was refused, not made');
      assert.equal(since(0, '/api/v0/asks/').at(-1)!.status, 429);
    } finally {
      replica.admin.setRateLimits(false);
      await client.terminateInstance(first.cloudId);
    }
  });

  it('Retry-After wins over the threshold when Vast sends it', async () => {
    replica.admin.setRateLimits(false);
    const client = await cred().makeClient('');
    replica.admin.rateLimitNext({ count: 1, threshold: 9, retryAfterSeconds: 1 });
    const start = replica.admin.requests().length;
    const t0 = Date.now();
    await client.listInstances({});
    const waited = Date.now() - t0;
    assert.ok(waited >= 950 && waited < 5_000, `waited ${waited} ms for Retry-After: 1 (threshold 9 s ignored)`);
    assert.deepEqual(since(start).map((r) => r.status), [429, 200]);
  });

  it('a plain-text 429 naming no wait: exponential backoff from 1 s, bounded, then ServiceUnavailableError', async () => {
    replica.admin.setRateLimits(false);
    replica.admin.rateLimitNext({ count: 10, text: true });
    const waits: number[] = [];
    const target: VastHttpTarget = { baseUrl: replica.url, apiKey, timeoutMs: 5_000, rateLimitRetries: 3, rateLimitMaxWaitMs: 15_000, sleep: async (ms) => void waits.push(ms) };
    const start = replica.admin.requests().length;
    await assert.rejects(
      callVast(target, 'GET', '/api/v1/instances', VastInstancesPageSchema, { op: 'catalog' }),
      (e: CloudError) => e instanceof ServiceUnavailableError && e.retryAfterMs === 8_000 && /API requests too frequent/.test(e.message),
    );
    assert.deepEqual(waits, [1_000, 2_000, 4_000]);
    assert.equal(since(start).length, 4, '1 try + 3 retries, then it stops');
  });
});
