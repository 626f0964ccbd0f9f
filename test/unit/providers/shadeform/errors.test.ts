/**
 * Shadeform native errors → typed errors (the mapping, then each kind end to end against the
 * replica), 429 handling, and the rest of the adapter's calls against the replica.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ShadeformCredential, shadeformErrorFromResponse } from '../../../../src/providers/shadeform/index.js';
import {
  AuthenticationError,
  InstanceNotFoundError,
  InsufficientCapacityError,
  InvalidRequestError,
  OutOfQuotaError,
  ResourceNotFoundError,
  ServiceUnavailableError,
  type CloudError,
} from '../../../../src/providers/sdk/errors.js';
import type { CloudClient } from '../../../../src/providers/sdk/client.js';
import { waitForInstanceLifecycleStatus } from '../../../../src/providers/sdk/waiters.js';
import { generateSshKeyPair } from '../../../../src/ssh/sshClient.js';
import { BACKING, startBackingCloud } from '../../../replicas/backingCatalog.js';
import { startShadeformReplica, type ShadeformReplicaHandle } from '../../../replicas/shadeform/server.js';

const body = (error_code: string, error = 'm') => ({ error_code, error });

describe('shadeformErrorFromResponse', () => {
  const map = (status: number, b: unknown, op: Parameters<typeof shadeformErrorFromResponse>[4] = 'create', retryAfter: string | null = null) =>
    shadeformErrorFromResponse(status, b, retryAfter, 'shadeform POST /x', op);

  it('maps the known shapes', () => {
    const oos = map(409, body('OUT_OF_STOCK', 'out of stock'));
    assert.ok(oos instanceof InsufficientCapacityError);
    assert.equal(oos.scope, 'zone');
    assert.ok(map(409, body('QUOTA_EXCEEDED')) instanceof OutOfQuotaError);
    assert.ok(map(409, body('CONFLICT', 'name must be unique')) instanceof InvalidRequestError);
    assert.ok(map(401, body('UNAUTHORIZED')) instanceof AuthenticationError);
    assert.ok(map(403, 'forbidden') instanceof AuthenticationError);
    assert.ok(map(404, body('NOT_FOUND'), 'instance') instanceof InstanceNotFoundError);
    assert.ok(map(404, body('NOT_FOUND'), 'ssh-key') instanceof ResourceNotFoundError);
    assert.ok(map(400, body('INVALID_REQUEST')) instanceof InvalidRequestError);
    assert.match(map(409, body('OUT_OF_STOCK', 'gone')).message, /^shadeform POST \/x: gone \(HTTP 409 OUT_OF_STOCK\)$/);
  });

  it('makes 429 and 5xx retryable, honouring Retry-After (1 s without it: Shadeform documents no limits)', () => {
    assert.equal(map(429, body('RATE_LIMITED')).retryAfterMs, 1_000);
    assert.equal(map(429, body('RATE_LIMITED'), 'catalog', '5').retryAfterMs, 5_000);
    const e = map(503, '', 'instance', '2');
    assert.ok(e instanceof ServiceUnavailableError);
    assert.equal(e.retryAfterMs, 2_000);
    assert.ok(map(500, body('INTERNAL_ERROR')) instanceof ServiceUnavailableError);
  });
});

describe('Shadeform adapter: the key never reaches an error message', () => {
  it('scrubs a body that echoes X-API-KEY (a misbehaving proxy)', async () => {
    const apiKey = 'sf_echoed_key_0123456789';
    const server = http.createServer((req, res) => {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error_code: 'BAD', error: `key ${String(req.headers['x-api-key'])} rejected` }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const client = await new ShadeformCredential({ refId: 'echo', apiKey, baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1` }).makeClient('');
      await assert.rejects(client.listInstances({}), (e: Error) => {
        assert.ok(e instanceof InvalidRequestError);
        assert.match(e.message, /key \[redacted\] rejected/);
        assert.ok(!e.message.includes(apiKey));
        return true;
      });
    } finally {
      server.close();
    }
  });
});

describe('Shadeform adapter against the replica', () => {
  const apiKey = 'sf_secret_errors_0123456789';
  let backing: Awaited<ReturnType<typeof startBackingCloud>>;
  let replica: ShadeformReplicaHandle;
  let client: CloudClient;
  const key = generateSshKeyPair('sf-errors-test');
  let n = 0;
  const attrs = (over: Record<string, unknown> = {}) => ({ refId: `sf-ref-${++n}`, location: 'desmoines-usa-1', instanceType: 'massedcompute_L40', publicKey: key.publicKey, ...over });
  const createCount = () => replica.admin.requests().filter((r) => r.path.endsWith('/instances/create')).length;

  before(async () => {
    backing = await startBackingCloud();
    replica = await startShadeformReplica({ localCloud: backing, apiKey, backing: BACKING, quota: { maxInstances: 3 } });
    client = await new ShadeformCredential({ refId: 'sf-errors', apiKey, baseUrl: replica.url, testReplica: true, instancePollMs: 200 }).makeClient('');
  });
  after(async () => {
    await replica?.close();
    await backing?.close();
  });
  beforeEach(() => replica.admin.clearFaults());

  it('a bad key (X-API-KEY) is an AuthenticationError, never retried', async () => {
    const bad = await new ShadeformCredential({ refId: 'bad', apiKey: 'nope', baseUrl: replica.url }).makeClient('');
    const before = replica.admin.requests().length;
    await assert.rejects(bad.getInstanceTypes({}), (e: CloudError) => e instanceof AuthenticationError && e.retryable === false);
    await assert.rejects(bad.createInstance(attrs()), AuthenticationError);
    const seen = replica.admin.requests().slice(before);
    assert.equal(seen.length, 2);
    assert.ok(seen.every((r) => r.status === 401 && r.auth === 'api-key'));
  });

  it('409 OUT_OF_STOCK (injected with a stale catalog, a region without the type, exhausted capacity) → InsufficientCapacityError', async () => {
    replica.admin.setOutOfStock([{ type: 'L40' }]);
    assert.equal((await client.getInstanceTypes({ instanceTypes: ['massedcompute_L40'] }))[0].isAvailable, true, 'stale catalog');
    await assert.rejects(client.createInstance(attrs()), (e: CloudError) => e instanceof InsufficientCapacityError && /OUT_OF_STOCK/.test(e.message));
    replica.admin.clearFaults();
    await assert.rejects(client.createInstance(attrs({ location: 'helsinki-finland-5' })), InsufficientCapacityError, 'Brev: a region that does not offer the type');
    // verda_B200 has capacity 1 in helsinki-finland-5.
    const b200 = await client.createInstance(attrs({ instanceType: 'verda_B200', location: 'helsinki-finland-5' }));
    try {
      assert.equal((await client.getInstanceTypes({ instanceTypes: ['verda_B200'] }))[0].isAvailable, false);
      await assert.rejects(client.createInstance(attrs({ instanceType: 'verda_B200', location: 'helsinki-finland-5' })), InsufficientCapacityError);
    } finally {
      await client.terminateInstance(b200.cloudId);
    }
  });

  it('quota → OutOfQuotaError', async () => {
    replica.admin.setQuotaExceeded(true);
    await assert.rejects(client.createInstance(attrs()), (e: CloudError) => e instanceof OutOfQuotaError && e.scope === 'provider');
  });

  it('unknown instances: get and reboot → InstanceNotFoundError; terminate is idempotent', async () => {
    await assert.rejects(client.getInstance('00000000-0000-0000-0000-000000000000'), InstanceNotFoundError);
    await assert.rejects(client.rebootInstance!('00000000-0000-0000-0000-000000000000'), InstanceNotFoundError);
    await client.terminateInstance('00000000-0000-0000-0000-000000000000');
  });

  it('refuses spot, user data and firewall rules before calling Shadeform', async () => {
    const before = createCount();
    await assert.rejects(client.createInstance(attrs({ useSpot: true })), InvalidRequestError);
    await assert.rejects(client.createInstance(attrs({ userDataBase64: Buffer.from('#!/bin/sh').toString('base64') })), InvalidRequestError);
    await assert.rejects(client.createInstance(attrs({ firewallRules: { ingressRules: [{ fromPort: 80, toPort: 80 }] } })), InvalidRequestError);
    await assert.rejects(client.createInstance(attrs({ instanceType: 'nounderscore' })), InvalidRequestError);
    assert.equal(createCount(), before);
  });

  it('429 waits out Retry-After, and a longer outage surfaces as ServiceUnavailableError', async () => {
    replica.admin.rateLimitNext({ count: 1, retryAfterSeconds: 1 });
    const t0 = Date.now();
    await client.listInstances({});
    assert.ok(Date.now() - t0 >= 950);
    replica.admin.rateLimitNext({ count: 5, retryAfterSeconds: 30 });
    await assert.rejects(client.listInstances({}), (e: CloudError) => e instanceof ServiceUnavailableError && e.retryAfterMs === 30_000);
    replica.admin.clearFaults();
    replica.admin.failNext({ count: 1, status: 503, retryAfterSeconds: 3, paths: ['/instances/create'] });
    const before = createCount();
    await assert.rejects(client.createInstance(attrs()), (e: CloudError) => e instanceof ServiceUnavailableError && e.retryAfterMs === 3_000);
    assert.equal(createCount() - before, 1, '5xx is not repeated in the adapter');
  });

  it('a provider-side failure after create shows as failed', async () => {
    replica.admin.failNextProvisioning(1, 'the host failed its health check');
    const inst = await client.createInstance(attrs());
    const failed = await waitForInstanceLifecycleStatus(client, inst, 'failed', 10_000, 100);
    assert.deepEqual(failed.status.messages, ['the host failed its health check']);
    await client.terminateInstance(inst.cloudId);
  });

  it('creates with one reused SSH key and tags, updates tags, and reads identity back', async () => {
    const a = await client.createInstance(attrs({ name: 'sf-a', tags: { team: 'ml' } }));
    const b = await client.createInstance(attrs({ name: 'sf-b' }));
    try {
      assert.equal(replica.admin.sshKeys().length, 1, 'one account key for the one public key');
      const create = replica.admin.creates().at(-2)!;
      assert.deepEqual(create.tags, ['team=ml', `gpuflow-ref-id=${a.refId}`, 'gpuflow-cloud-cred-ref-id=sf-errors']);
      assert.equal(create.name, 'sf-a');
      assert.equal(a.status.lifecycleStatus, 'pending', 'create is asynchronous');
      await client.updateInstanceTags!({ instanceId: a.cloudId, tags: { team: 'infra', owner: 'bob', 'gpuflow-ref-id': 'hijack' } });
      const got = await client.getInstance(a.cloudId);
      assert.equal(got.tags.team, 'infra');
      assert.equal(got.tags.owner, 'bob');
      assert.equal(got.refId, a.refId, 'identity tags cannot be overwritten');
      assert.deepEqual((await client.listInstances({ tagFilters: { owner: ['bob'] } })).map((i) => i.cloudId), [a.cloudId]);
      const running = await waitForInstanceLifecycleStatus(client, b, 'running', 10_000, 100);
      assert.ok(running.sshPort > 0 && running.sshUser && running.publicIp);
    } finally {
      await client.terminateInstance(a.cloudId);
      await client.terminateInstance(b.cloudId);
    }
  });
});
