/**
 * Vast.ai native errors → typed errors: the mapping, then each kind end to end against the replica
 * (bad key, asks taken since the search, no capacity, no credit, unknown instances, bad requests,
 * 5xx), and the rest of the adapter's calls (tags in the label, stop/start, the SSH key).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { CloudClient } from '../../../../src/providers/sdk/client.js';
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
import { waitForInstanceLifecycleStatus } from '../../../../src/providers/sdk/waiters.js';
import { VastaiCredential, vastErrorFromResponse } from '../../../../src/providers/vastai/index.js';
import { generateSshKeyPair } from '../../../../src/ssh/sshClient.js';
import { BACKING, startBackingCloud } from '../../../replicas/backingCatalog.js';
import { startVastaiReplica, type VastaiReplicaHandle } from '../../../replicas/vastai/server.js';

const body = (error: string, msg = 'm') => ({ success: false, error, msg });

describe('vastErrorFromResponse', () => {
  const map = (status: number, b: unknown, op: Parameters<typeof vastErrorFromResponse>[4] = 'create', retryAfter: string | null = null) =>
    vastErrorFromResponse(status, b, retryAfter, 'vastai PUT /api/v0/asks/1/', op);

  it('maps the documented bodies', () => {
    assert.ok(map(401, body('auth_error', 'Invalid user key')) instanceof AuthenticationError);
    assert.ok(map(404, { error: 'auth_error', msg: 'Invalid user key' }, 'catalog') instanceof AuthenticationError, 'search answers a bad key with 404');
    assert.ok(map(403, { success: false, error: 'forbidden' }) instanceof AuthenticationError);
    assert.ok(map(403, body('invalid_args', 'error 403/3586: Offer 1 is not your own.')) instanceof InvalidRequestError);
    const gone = map(404, body('invalid_args', 'error 404/3603: no_such_ask Instance type by id 1 is not available.'));
    assert.ok(gone instanceof InsufficientCapacityError);
    assert.equal(gone.scope, 'zone');
    assert.ok(map(410, body('no_such_ask', 'error 410/3907: no_such_ask Instance type 1 is no longer available.')) instanceof InsufficientCapacityError);
    assert.ok(map(400, body('invalid_price', 'Please set a bid price >= 0.001.')) instanceof InvalidRequestError);
    assert.ok(map(400, body('no_ssh_key_for_vm')) instanceof InvalidRequestError);
    assert.ok(map(400, body('insufficient_credit')) instanceof OutOfQuotaError);
    assert.ok(map(404, body('not_found', 'Instance not found'), 'instance') instanceof InstanceNotFoundError);
    assert.ok(map(404, body('no_such_instance'), 'instance') instanceof InstanceNotFoundError);
    assert.ok(map(404, body('not_found'), 'ssh-key') instanceof ResourceNotFoundError);
    assert.match(map(404, body('invalid_args', 'gone')).message, /^vastai PUT \/api\/v0\/asks\/1\/: gone \(HTTP 404 invalid_args\)$/);
  });

  it('makes 429 and 5xx retryable: Retry-After, else the threshold, else backoff', () => {
    assert.equal(map(429, { detail: 'API requests too frequent endpoint threshold=4.5' }).retryAfterMs, 4_500);
    assert.equal(map(429, 'API requests too frequent: endpoint threshold=2.0').retryAfterMs, 2_000);
    assert.equal(map(429, body('search_quota_exceeded'), 'catalog', '3600').retryAfterMs, 3_600_000);
    assert.equal(map(429, 'API requests too frequent').retryAfterMs, 1_000);
    assert.equal(vastErrorFromResponse(429, 'API requests too frequent', null, 'x', 'catalog', 3).retryAfterMs, 8_000);
    const e = map(502, '<html>bad gateway</html>', 'instance', '2');
    assert.ok(e instanceof ServiceUnavailableError);
    assert.equal(e.retryAfterMs, 2_000);
  });
});

describe('Vast.ai adapter: the key never reaches an error message', () => {
  it('scrubs a body that echoes the Authorization header (a misbehaving proxy)', async () => {
    const apiKey = 'b'.repeat(64);
    const server = http.createServer((req, res) => {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ success: false, error: 'invalid_args', msg: `header ${String(req.headers.authorization)} rejected` }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const client = await new VastaiCredential({ refId: 'echo', apiKey, baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }).makeClient('');
      await assert.rejects(client.listInstances({}), (e: Error) => {
        assert.ok(e instanceof InvalidRequestError);
        assert.match(e.message, /Bearer \[redacted\] rejected/);
        assert.ok(!e.message.includes(apiKey));
        return true;
      });
    } finally {
      server.close();
    }
  });
});

describe('Vast.ai adapter against the replica', () => {
  const apiKey = 'c'.repeat(64);
  let backing: Awaited<ReturnType<typeof startBackingCloud>>;
  let replica: VastaiReplicaHandle;
  let client: CloudClient;
  const key = generateSshKeyPair('vast-errors-test');
  let n = 0;
  const attrs = (over: Record<string, unknown> = {}) => ({ refId: `vast-ref-${++n}`, location: 'US', instanceType: '1x-RTX_4090-24G', publicKey: key.publicKey, ...over });
  const asksAccepted = () => replica.admin.requests().filter((r) => r.method === 'PUT' && r.path.startsWith('/api/v0/asks/'));

  before(async () => {
    backing = await startBackingCloud();
    // Rate limits have their own test; here they would only slow the calls down.
    replica = await startVastaiReplica({ localCloud: backing, apiKey, backing: BACKING, rateLimits: false });
    client = await new VastaiCredential({ refId: 'vast-errors', apiKey, baseUrl: replica.url, testReplica: true, instancePollMs: 200 }).makeClient('');
  });
  after(async () => {
    await replica?.close();
    await backing?.close();
  });
  beforeEach(() => replica.admin.clearFaults());

  it('a bad key is an AuthenticationError, never retried (search answers 404 "Invalid user key")', async () => {
    const bad = await new VastaiCredential({ refId: 'bad', apiKey: 'nope', baseUrl: replica.url }).makeClient('');
    const start = replica.admin.requests().length;
    await assert.rejects(bad.getInstanceTypes({}), (e: CloudError) => e instanceof AuthenticationError && e.retryable === false);
    await assert.rejects(bad.listInstances({}), AuthenticationError);
    await assert.rejects(bad.createInstance(attrs()), AuthenticationError);
    const seen = replica.admin.requests().slice(start);
    assert.deepEqual(seen.map((r) => r.status), [404, 401, 401]);
    assert.ok(seen.every((r) => r.auth === 'bearer'));
  });

  it('an ask taken since the search (no_such_ask) → the next cheapest ask is accepted', async () => {
    // Stale search: the cheapest US 4090 ask is re-listed under a new ID between search and accept.
    replica.admin.setOutOfCapacity([{ gpuName: 'RTX 4090', country: 'US' }]);
    const before = asksAccepted().length;
    await assert.rejects(client.createInstance(attrs()), (e: CloudError) => e instanceof InsufficientCapacityError && /no_such_ask/.test(e.message) && e.scope === 'zone');
    const tried = asksAccepted().slice(before);
    assert.equal(tried.length, 2, 'both US RTX 4090 asks were tried, cheapest first');
    assert.ok(tried.every((r) => r.status === 410), 'cancel_unavail: "no longer available"');
    assert.equal((await replica.admin.instances()).filter((i) => !i.destroyed).length, 0, 'nothing left behind');
  });

  it('no ask of the shape at all → InsufficientCapacityError without accepting anything', async () => {
    replica.admin.setOutOfCapacity([{ gpuName: 'H200', hideFromCatalog: true }]);
    const before = asksAccepted().length;
    await assert.rejects(client.createInstance(attrs({ instanceType: '1x-H200-140G', location: 'FR' })), InsufficientCapacityError);
    await assert.rejects(client.createInstance(attrs({ location: 'JP' })), InsufficientCapacityError, 'no RTX 4090 in Japan');
    assert.equal(asksAccepted().length, before);
  });

  it('no credit → OutOfQuotaError for the whole provider', async () => {
    replica.admin.setInsufficientCredit(true);
    await assert.rejects(client.createInstance(attrs()), (e: CloudError) => e instanceof OutOfQuotaError && e.scope === 'provider');
  });

  it('unknown instances: get, reboot, stop → InstanceNotFoundError; terminate is idempotent', async () => {
    await assert.rejects(client.getInstance('99999999'), InstanceNotFoundError);
    await assert.rejects(client.getInstance('not-a-vast-id'), InstanceNotFoundError);
    await assert.rejects(client.rebootInstance!('99999999'), InstanceNotFoundError);
    await assert.rejects(client.stopInstance!('99999999'), InstanceNotFoundError);
    await client.terminateInstance('99999999');
    await client.terminateInstance('not-a-vast-id');
  });

  it('refuses user data, firewall rules, sub-locations, bad types and long labels before calling Vast', async () => {
    const before = replica.admin.requests().length;
    await assert.rejects(client.createInstance(attrs({ userDataBase64: Buffer.from('#!/bin/sh').toString('base64') })), InvalidRequestError);
    await assert.rejects(client.createInstance(attrs({ firewallRules: { ingressRules: [{ fromPort: 80, toPort: 80 }] } })), InvalidRequestError);
    await assert.rejects(client.createInstance(attrs({ subLocation: 'az1' })), InvalidRequestError);
    await assert.rejects(client.createInstance(attrs({ instanceType: 'gpu_1x_a10' })), InvalidRequestError);
    await assert.rejects(client.createInstance(attrs({ location: 'us-east-1' })), InvalidRequestError);
    await assert.rejects(client.createInstance(attrs({ tags: { note: 'x'.repeat(1100) } })), /1024/);
    assert.equal(replica.admin.requests().length, before);
  });

  it('a 5xx on create is not repeated in the adapter (the instance may exist)', async () => {
    replica.admin.failNext({ count: 1, status: 503, methods: ['PUT'], paths: ['/api/v0/asks/'] });
    const before = asksAccepted().length;
    await assert.rejects(client.createInstance(attrs()), (e: CloudError) => e instanceof ServiceUnavailableError && e.retryable);
    assert.equal(asksAccepted().length - before, 1);
  });

  it('creates with the key on the account and on the instance, label identity, tags and stop/start', async () => {
    const inst = await client.createInstance(attrs({ name: 'vast-a', tags: { team: 'ml' }, additionalEnvVars: { MODE: 'test' } }));
    try {
      const create = replica.admin.creates().at(-1)!;
      assert.equal(create.runtype, 'ssh_direct');
      assert.equal(create.cancel_unavail, true);
      assert.deepEqual(create.env, { MODE: 'test' });
      assert.equal(create.disk, 16);
      assert.equal(inst.name, 'vast-a');
      assert.equal(inst.tags.team, 'ml');
      assert.equal(inst.cloudCredRefId, 'vast-errors');
      assert.equal(replica.admin.accountKeys().length, 1);
      assert.deepEqual(replica.admin.instanceKeys(inst.cloudId), [key.publicKey.trim()]);
      // A second create reuses the account key.
      const second = await client.createInstance(attrs({ location: 'DE' }));
      await client.terminateInstance(second.cloudId);
      assert.equal(replica.admin.accountKeys().length, 1, 'the account key is registered once');

      await client.updateInstanceTags!({ instanceId: inst.cloudId, tags: { team: 'infra', owner: 'bob', 'gpuflow-ref-id': 'hijack' } });
      const got = await client.getInstance(inst.cloudId);
      assert.equal(got.tags.team, 'infra');
      assert.equal(got.refId, inst.refId, 'identity cannot be overwritten');
      assert.equal(got.name, 'vast-a');
      assert.deepEqual((await client.listInstances({ tagFilters: { owner: ['bob'] } })).map((i) => i.cloudId), [inst.cloudId]);

      const running = await waitForInstanceLifecycleStatus(client, inst, 'running', 10_000, 100);
      assert.ok(running.sshPort > 0 && running.publicIp === '127.0.0.1');
      await client.stopInstance!(inst.cloudId);
      const stopped = await waitForInstanceLifecycleStatus(client, inst, 'stopped', 10_000, 100);
      assert.equal(stopped.status.interruption, undefined);
      await client.startInstance!(inst.cloudId);
      await waitForInstanceLifecycleStatus(client, inst, 'running', 10_000, 100);
    } finally {
      await client.terminateInstance(inst.cloudId);
    }
    await assert.rejects(client.getInstance(inst.cloudId), InstanceNotFoundError, 'a destroyed instance is gone');
  });

  it('lists every instance in one call (GET /api/v1/instances)', async () => {
    const many = [];
    for (const [instanceType, location] of [['1x-RTX_4090-24G', 'US'], ['1x-RTX_4090-24G', 'US'], ['1x-RTX_4090-24G', 'DE'], ['1x-H100_SXM-80G', 'US']] as const) {
      many.push(await client.createInstance(attrs({ instanceType, location })));
    }
    try {
      const start = replica.admin.requests().length;
      const all = await client.listInstances({});
      assert.deepEqual(all.map((i) => i.cloudId).sort(), many.map((i) => i.cloudId).sort());
      assert.equal(replica.admin.requests().slice(start).filter((r) => r.path === '/api/v1/instances').length, 1);
      assert.deepEqual((await client.listInstances({ instanceIds: [many[1].cloudId, 'x'] })).map((i) => i.cloudId), [many[1].cloudId], 'select_filters id in');
    } finally {
      for (const i of many) await client.terminateInstance(i.cloudId);
    }
  });
});

describe('Vast.ai adapter: listing follows the keyset cursor', () => {
  it('reads every page until next_token is null', async () => {
    const inst = (id: number) => ({ id, actual_status: 'running', intended_status: 'running', label: null, gpu_name: 'RTX 4090', num_gpus: 1, gpu_ram: 24564, geolocation: 'Texas, US' });
    const pages: Record<string, { instances: unknown[]; next_token: string | null }> = {
      '': { instances: Array.from({ length: 25 }, (_, k) => inst(k + 1)), next_token: 'page2' },
      page2: { instances: [inst(26), inst(27)], next_token: null },
    };
    const seen: string[] = [];
    const server = http.createServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://x');
      seen.push(`${u.pathname}?${u.searchParams.toString()}`);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ success: true, ...pages[u.searchParams.get('after_token') ?? ''] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const client = await new VastaiCredential({ refId: 'pages', apiKey: 'd'.repeat(64), baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }).makeClient('');
      const all = await client.listInstances({});
      assert.equal(all.length, 27);
      assert.deepEqual(seen, ['/api/v1/instances?limit=25', '/api/v1/instances?limit=25&after_token=page2']);
    } finally {
      server.close();
    }
  });
});
