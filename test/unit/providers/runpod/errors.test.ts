/**
 * RunPod native errors → typed errors: the mapping of GraphQL `errors` (HTTP 200, RunPod's way) and
 * of HTTP statuses, then each kind end to end through the adapter against the replica: a bad key
 * (never retried), no capacity (RunPod's verbatim message), balance, an unknown pod, RunPod's
 * internal error, a 5xx with Retry-After, a refused query, a refused input; and the key never
 * reaching an error message.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { z } from 'zod';
import { callRunPod, RunPodCredential, runpodErrorFromGraphQl, runpodErrorFromResponse, RUNPOD_CAPACITY_MESSAGE } from '../../../../src/providers/runpod/index.js';
import type { CloudClient } from '../../../../src/providers/sdk/client.js';
import {
  AuthenticationError,
  InstanceNotFoundError,
  InsufficientCapacityError,
  InvalidRequestError,
  OutOfQuotaError,
  ServiceUnavailableError,
  type CloudError,
} from '../../../../src/providers/sdk/errors.js';
import { generateSshKeyPair } from '../../../../src/ssh/sshClient.js';
import { BACKING, startBackingCloud } from '../../../replicas/backingCatalog.js';
import { startRunPodReplica, type RunPodReplicaHandle } from '../../../replicas/runpod/server.js';

const runpodErr = (message: string, code = 'RUNPOD') => [{ message, extensions: { code } }];

describe('runpodErrorFromGraphQl / runpodErrorFromResponse', () => {
  const g = (message: string, op: 'create' | 'instance' | 'terminate' | 'catalog' = 'create', code?: string) => runpodErrorFromGraphQl(runpodErr(message, code), 'runpod Op', op);

  it('maps RunPod messages (HTTP 200 errors) to typed errors', () => {
    const cap = g(RUNPOD_CAPACITY_MESSAGE);
    assert.ok(cap instanceof InsufficientCapacityError);
    assert.equal(cap.scope, 'zone');
    assert.equal(cap.retryable, false);
    assert.ok(g('There are not enough free GPUs on the host machine to start this pod') instanceof InsufficientCapacityError);
    assert.ok(g('Your bid per GPU ($0.1/hr) is below the minimum bid of $0.34/hr for RTX 4090.') instanceof InsufficientCapacityError);
    const bal = g('Insufficient funds: your balance is too low to rent this pod.');
    assert.ok(bal instanceof OutOfQuotaError);
    assert.equal(bal.scope, 'provider');
    assert.ok(g('pod not found to terminate', 'terminate') instanceof InstanceNotFoundError);
    assert.ok(g('pod not found', 'create') instanceof InvalidRequestError, 'not-found outside pod calls is a bad request');
    const internal = g('Something went wrong. Please try again later or contact support.', 'create', 'INTERNAL_SERVER_ERROR');
    assert.ok(internal instanceof ServiceUnavailableError);
    assert.equal(internal.retryable, true);
    assert.ok(g('Unauthorized', 'catalog', 'UNAUTHENTICATED') instanceof AuthenticationError);
    assert.ok(g('gpuCount must be between 1 and 8') instanceof InvalidRequestError);
    assert.match(cap.message, /^runpod Op: There are no longer any instances available.* \(RUNPOD\)$/);
  });

  it('maps HTTP statuses: 401/403 auth, 429 and 5xx retryable with Retry-After, 400 by its errors', () => {
    const r = (status: number, body: unknown, retryAfter: string | null = null) => runpodErrorFromResponse(status, body, retryAfter, 'runpod Op', 'create');
    assert.ok(r(401, { errors: [{ message: 'Unauthorized' }] }) instanceof AuthenticationError);
    assert.ok(r(403, 'forbidden') instanceof AuthenticationError);
    assert.equal(r(429, '').retryAfterMs, 1_000, 'RunPod documents no GraphQL limits: 1 s without Retry-After');
    assert.equal(r(429, '', '4').retryAfterMs, 4_000);
    const five = r(503, 'upstream', '2');
    assert.ok(five instanceof ServiceUnavailableError);
    assert.equal(five.retryAfterMs, 2_000);
    assert.ok(r(500, '') instanceof ServiceUnavailableError);
    assert.ok(r(400, { errors: [{ message: 'Cannot query field "bogus" on type "Pod".', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }] }) instanceof InvalidRequestError);
    assert.ok(r(400, { errors: runpodErr(RUNPOD_CAPACITY_MESSAGE) }) instanceof InsufficientCapacityError);
  });
});

describe('RunPod errors end to end (adapter ↔ replica)', () => {
  const apiKey = 'rpa_errors_0123456789abcdef';
  const key = generateSshKeyPair('runpod-errors-test');
  let backing: Awaited<ReturnType<typeof startBackingCloud>>;
  let replica: RunPodReplicaHandle;
  let client: CloudClient;
  const create = (refId: string, instanceType = '1x_NVIDIA_GeForce_RTX_4090', location = 'US-TX-3') => client.createInstance({ refId, location, instanceType, publicKey: key.publicKey });
  const since = (n: number) => replica.admin.requests().slice(n);

  before(async () => {
    backing = await startBackingCloud();
    replica = await startRunPodReplica({ localCloud: backing, apiKey, backing: BACKING });
    client = await new RunPodCredential({ refId: 'rp-errors', apiKey, baseUrl: replica.url, testReplica: true }).makeClient('');
  });
  after(async () => {
    for (const p of await replica.admin.pods()) if (p.desiredStatus !== 'TERMINATED') await client.terminateInstance(p.id as string);
    await replica?.close();
    await backing?.close();
  });
  beforeEach(() => replica.admin.clearFaults());

  it('a bad key is AuthenticationError, sent once and never retried', async () => {
    const bad = await new RunPodCredential({ refId: 'rp-bad', apiKey: 'rpa_wrong', baseUrl: replica.url, testReplica: true }).makeClient('');
    const n = replica.admin.requests().length;
    await assert.rejects(bad.getInstanceTypes({}), (e: CloudError) => e instanceof AuthenticationError && !e.retryable && e.scope === 'provider');
    await assert.rejects(bad.createInstance({ refId: 'x', location: 'US-TX-3', instanceType: '1x_NVIDIA_GeForce_RTX_4090', publicKey: key.publicKey }), AuthenticationError);
    assert.deepEqual(since(n).map((r) => [r.status, r.auth]), [[401, 'bearer'], [401, 'bearer']]);
  });

  it('no capacity: InsufficientCapacityError with RunPod’s message, and no pod left behind', async () => {
    replica.admin.setOutOfCapacity([{ gpuTypeId: 'NVIDIA GeForce RTX 4090', dataCenterId: 'US-TX-3' }]);
    const before = (await replica.admin.pods()).length;
    await assert.rejects(create('cap-1'), (e: CloudError) => e instanceof InsufficientCapacityError && e.scope === 'zone' && e.message.includes(RUNPOD_CAPACITY_MESSAGE));
    assert.equal((await replica.admin.pods()).length, before);
    // The catalog was stale (the fault did not hide it): still listed as available.
    assert.ok((await client.getInstanceTypes({ locations: ['US-TX-3'] })).find((t) => t.id === '1x_NVIDIA_GeForce_RTX_4090_US-TX-3')?.isAvailable);
  });

  it('no capacity for real: a data center whose GPUs are all rented', async () => {
    // EU-SE-1 has two A100s: a 2x pod takes both, the next one finds nothing, and the stock shows it.
    const first = await create('cap-2a', '2x_NVIDIA_A100_80GB_PCIe', 'EU-SE-1');
    await assert.rejects(create('cap-2b', '1x_NVIDIA_A100_80GB_PCIe', 'EU-SE-1'), InsufficientCapacityError);
    const t = (await client.getInstanceTypes({ locations: ['EU-SE-1'] })).find((x) => x.type === '1x_NVIDIA_A100_80GB_PCIe')!;
    assert.equal(t.isAvailable, false);
    await client.terminateInstance(first.cloudId);
    assert.equal((await client.getInstanceTypes({ locations: ['EU-SE-1'] })).find((x) => x.type === '1x_NVIDIA_A100_80GB_PCIe')!.isAvailable, true);
  });

  it('a balance error is OutOfQuotaError for the whole provider', async () => {
    replica.admin.setInsufficientBalance(true);
    await assert.rejects(create('bal-1'), (e: CloudError) => e instanceof OutOfQuotaError && e.scope === 'provider' && !e.retryable);
  });

  it('an unknown pod: getInstance throws InstanceNotFoundError; terminate is done', async () => {
    await assert.rejects(client.getInstance('nosuchpod00000'), InstanceNotFoundError);
    const n = replica.admin.requests().length;
    await client.terminateInstance('nosuchpod00000');
    assert.equal(since(n)[0]!.operation, 'GpuflowTerminate');
  });

  it('RunPod’s "Something went wrong" (HTTP 200, INTERNAL_SERVER_ERROR) is retryable', async () => {
    replica.admin.internalErrorNext(1);
    await assert.rejects(client.listInstances({}), (e: CloudError) => e instanceof ServiceUnavailableError && e.retryable && /Something went wrong/.test(e.message));
    await client.listInstances({});
  });

  it('a 5xx is ServiceUnavailableError carrying Retry-After; a create is not repeated in place', async () => {
    replica.admin.failNext({ count: 1, status: 503, retryAfterSeconds: 7 });
    const n = replica.admin.requests().length;
    await assert.rejects(create('5xx-1'), (e: CloudError) => e instanceof ServiceUnavailableError && e.retryAfterMs === 7_000);
    assert.equal(since(n).length, 1);
  });

  it('a refused input (too many GPUs) and a query RunPod cannot run are InvalidRequestError', async () => {
    await assert.rejects(create('bad-1', '16x_NVIDIA_GeForce_RTX_4090'), (e: CloudError) => e instanceof InvalidRequestError && /gpuCount/.test(e.message));
    const target = { baseUrl: replica.url, apiKey, timeoutMs: 5_000, rateLimitRetries: 0, rateLimitMaxWaitMs: 0 };
    await assert.rejects(callRunPod(target, 'Bogus', 'query Bogus { pod(input: { podId: "x" }) { bogus } }', {}, z.unknown(), 'instance'), (e: CloudError) => e instanceof InvalidRequestError && /HTTP 400/.test(e.message) && /bogus/.test(e.message));
    await assert.rejects(callRunPod(target, 'Broken', 'query Broken { pod(', {}, z.unknown(), 'instance'), InvalidRequestError);
    await assert.rejects(create('bad-2', 'gpu_1x_a10'), (e: CloudError) => e instanceof InvalidRequestError && /\{count\}x_\{gpuTypeId\}/.test(e.message));
  });
});

describe('RunPod adapter: the key never reaches an error message', () => {
  it('scrubs a body that echoes the Authorization header (a misbehaving proxy), and a non-GraphQL 200 is retryable', async () => {
    const apiKey = 'rpa_echoed_key_0123456789';
    let status = 400;
    const server = http.createServer((req, res) => {
      if (status === 200) res.writeHead(200, { 'content-type': 'text/html' }).end(`<html>maintenance (${String(req.headers.authorization)})</html>`);
      else res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ message: `header ${String(req.headers.authorization)} refused` }] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
      const c = await new RunPodCredential({ refId: 'echo', apiKey, baseUrl: url }).makeClient('');
      await assert.rejects(c.getInstance('p'), (e: Error) => {
        assert.ok(!e.message.includes(apiKey), e.message);
        assert.match(e.message, /\[redacted\]/);
        return true;
      });
      status = 200;
      await assert.rejects(c.listInstances({}), (e: Error) => e instanceof ServiceUnavailableError && /not a GraphQL response/.test(e.message) && !e.message.includes(apiKey));
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
