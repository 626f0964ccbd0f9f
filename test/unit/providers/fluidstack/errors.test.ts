/**
 * FluidStack native errors → typed errors (the mapping, then each kind end to end against the
 * replica), 429 backoff, out-of-stock as the capacity error, preemption, stop/start conflicts, and
 * project/region scoping across two replica regions.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { FluidstackCredential, fluidstackErrorFromResponse, type FluidstackCredentialOptions } from '../../../../src/providers/fluidstack/index.js';
import type { CloudClient } from '../../../../src/providers/sdk/client.js';
import {
  AuthenticationError,
  InstanceNotFoundError,
  InsufficientCapacityError,
  InvalidRequestError,
  NotImplementedError,
  ResourceNotFoundError,
  ServiceUnavailableError,
  type CloudError,
} from '../../../../src/providers/sdk/errors.js';
import { waitForInstanceLifecycleStatus } from '../../../../src/providers/sdk/waiters.js';
import { generateSshKeyPair } from '../../../../src/ssh/sshClient.js';
import { BACKING, startBackingCloud } from '../../../replicas/backingCatalog.js';
import { FLUIDSTACK_TEST_PRICES } from '../../../replicas/fluidstack/catalog.js';
import { authorizedKeyFromUserData, startFluidstackReplica, type FluidstackReplicaHandle } from '../../../replicas/fluidstack/server.js';

const NO_SUCH = '00000000-0000-4000-8000-000000000000';

describe('fluidstackErrorFromResponse', () => {
  const map = (status: number, body: unknown, op: 'create' | 'instance' | 'catalog' = 'instance', retryAfter: string | null = null) =>
    fluidstackErrorFromResponse(status, body, retryAfter, 'fluidstack GET /x', op);

  it('maps the spec’s statuses', () => {
    assert.ok(map(401, { message: 'unauthorized' }) instanceof AuthenticationError);
    assert.ok(map(403, { message: 'Forbidden' }) instanceof AuthenticationError);
    assert.equal(map(403, { message: 'Forbidden' }).retryable, false);
    assert.ok(map(404, { message: 'Instance not found' }) instanceof InstanceNotFoundError);
    assert.ok(map(404, { message: 'filesystem not found' }, 'create') instanceof InvalidRequestError);
    assert.ok(map(404, { message: 'not found' }, 'catalog') instanceof ResourceNotFoundError);
    assert.ok(map(400, { message: 'Invalid input' }) instanceof InvalidRequestError);
    assert.ok(map(409, { message: 'Instance state conflict' }) instanceof InvalidRequestError);
    assert.ok(map(501, { message: 'Not implemented' }) instanceof NotImplementedError);
    assert.equal(map(400, { message: 'bad name' }).message, 'fluidstack GET /x: bad name (HTTP 400)');
    assert.match(map(502, '<html>bad gateway</html>').message, /<html>bad gateway<\/html> \(HTTP 502\)/);
  });

  it('makes 429 and 5xx retryable, honouring Retry-After (1 s without it: FluidStack documents no limits)', () => {
    assert.equal(map(429, { message: 'slow down' }).retryAfterMs, 1_000);
    assert.equal(map(429, { message: 'slow down' }, 'catalog', '7').retryAfterMs, 7_000);
    const e = map(500, { message: 'Server error' }, 'create', '3');
    assert.ok(e instanceof ServiceUnavailableError && e.retryable);
    assert.equal(e.retryAfterMs, 3_000);
    assert.equal(map(503, '').retryAfterMs, undefined);
  });
});

describe('FluidStack adapter: the token never reaches an error message', () => {
  it('scrubs a body that echoes the Authorization header', async () => {
    const apiToken = 'fs_echoed_token_0123456789';
    const server = http.createServer((req, res) => {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ message: `header ${String(req.headers.authorization)} rejected` }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1alpha1`;
      const client = await new FluidstackCredential({ refId: 'echo', apiToken, regions: [{ name: 'r1', projectId: NO_SUCH, country: 'FI', url }], prices: {} }).makeClient('r1');
      await assert.rejects(client.listInstances({}), (e: Error) => {
        assert.ok(e instanceof InvalidRequestError);
        assert.match(e.message, /header Bearer \[redacted\] rejected/);
        assert.ok(!e.message.includes(apiToken));
        return true;
      });
    } finally {
      server.close();
    }
  });
});

describe('FluidStack adapter against two replica regions', () => {
  const apiToken = 'fs_secret_errors_0123456789abcdef';
  let backing: Awaited<ReturnType<typeof startBackingCloud>>;
  let fi: FluidstackReplicaHandle;
  let us: FluidstackReplicaHandle;
  let client: CloudClient;
  const key = generateSshKeyPair('fs-errors-test');
  let n = 0;
  const attrs = (over: Record<string, unknown> = {}) => ({ refId: `fs-ref-${++n}`, location: 'finland-1', instanceType: 'l40s-pcie-48gb.1x', publicKey: key.publicKey, ...over });
  const options = (over: Partial<FluidstackCredentialOptions> = {}): FluidstackCredentialOptions => ({
    refId: 'fs-errors',
    apiToken,
    regions: [
      { name: 'finland-1', projectId: fi.projectId, country: 'FIN', url: fi.url },
      { name: 'us-east-1', projectId: us.projectId, country: 'USA', url: us.url },
    ],
    prices: FLUIDSTACK_TEST_PRICES,
    testReplica: true,
    instancePollMs: 200,
    ...over,
  });
  const creates = (r: FluidstackReplicaHandle) => r.admin.requests().filter((q) => q.method === 'POST' && q.path.endsWith('/instances')).length;

  before(async () => {
    backing = await startBackingCloud();
    fi = await startFluidstackReplica({ localCloud: backing, apiToken, region: 'finland-1', backing: BACKING });
    us = await startFluidstackReplica({ localCloud: backing, apiToken, region: 'us-east-1', backing: BACKING });
    client = await new FluidstackCredential(options()).makeClient('');
  });
  after(async () => {
    await fi?.close();
    await us?.close();
    await backing?.close();
  });
  beforeEach(() => {
    fi.admin.clearFaults();
    us.admin.clearFaults();
  });

  it('a bad token is an AuthenticationError, never retried', async () => {
    const bad = await new FluidstackCredential(options({ apiToken: 'not-the-token' })).makeClient('finland-1');
    const start = fi.admin.requests().length;
    await assert.rejects(bad.getInstanceTypes({}), (e: CloudError) => e instanceof AuthenticationError && e.retryable === false);
    await assert.rejects(bad.createInstance(attrs()), AuthenticationError);
    const seen = fi.admin.requests().slice(start);
    assert.equal(seen.length, 3, 'instance-types and capacity, then one create: nothing repeated');
    assert.ok(seen.every((r) => r.status === 401 && r.auth === 'bearer'));
  });

  it('a project the token cannot use (403) is an AuthenticationError; X-PROJECT-ID goes where the spec wants it', async () => {
    const wrong = await new FluidstackCredential(options({ regions: [{ name: 'finland-1', projectId: us.projectId, country: 'FI', url: fi.url }] })).makeClient('finland-1');
    await assert.rejects(wrong.listInstances({}), (e: CloudError) => e instanceof AuthenticationError && /HTTP 403/.test(e.message));
    const inst = await client.createInstance(attrs());
    try {
      const create = fi.admin.creates().at(-1)!;
      assert.equal(create.projectId, fi.projectId);
    } finally {
      await client.terminateInstance(inst.cloudId);
    }
  });

  it('out-of-stock (stale catalog, or capacity used up) → InsufficientCapacityError, and the instance is deleted', async () => {
    fi.admin.setOutOfStock([{ type: 'l40s-pcie-48gb.1x' }]);
    assert.equal((await client.getInstanceTypes({ locations: ['finland-1'], instanceTypes: ['l40s-pcie-48gb.1x'] }))[0].isAvailable, true, 'stale catalog');
    await assert.rejects(client.createInstance(attrs()), (e: CloudError) => e instanceof InsufficientCapacityError && e.scope === 'zone' && /out of stock in finland-1/.test(e.message));
    const refused = fi.admin.requests().filter((r) => r.method === 'DELETE').at(-1)!;
    assert.equal(refused.status, 204, 'the out-of-stock instance was deleted');
    assert.equal(await fi.admin.instance(refused.path.split('/').at(-1)!), 'deleted');
    fi.admin.clearFaults();

    // h100-hgx-80gb.8x: capacity 1 per region.
    const one = await client.createInstance(attrs({ instanceType: 'h100-hgx-80gb.8x' }));
    try {
      assert.equal((await client.getInstanceTypes({ locations: ['finland-1'], instanceTypes: ['h100-hgx-80gb.8x'] }))[0].isAvailable, false);
      assert.equal((await client.getInstanceTypes({ locations: ['us-east-1'], instanceTypes: ['h100-hgx-80gb.8x'] }))[0].isAvailable, true, 'regions have their own capacity');
      await assert.rejects(client.createInstance(attrs({ instanceType: 'h100-hgx-80gb.8x' })), InsufficientCapacityError);
    } finally {
      await client.terminateInstance(one.cloudId);
    }
    assert.equal((await fi.admin.instances()).filter((i) => i.state === 'out-of-stock').length, 0, 'no out-of-stock instance left behind');
  });

  it('unknown instances: get and stop → InstanceNotFoundError; terminate is idempotent', async () => {
    await assert.rejects(client.getInstance(NO_SUCH), InstanceNotFoundError);
    await assert.rejects(client.getInstance('not-a-uuid'), InstanceNotFoundError);
    await assert.rejects(client.stopInstance!(NO_SUCH), InstanceNotFoundError);
    await client.terminateInstance(NO_SUCH);
    await client.terminateInstance('not-a-uuid');
  });

  it('refuses user data, firewall rules, sub-locations, bad tag keys and unconfigured regions before calling FluidStack', async () => {
    const before = creates(fi) + creates(us);
    await assert.rejects(client.createInstance(attrs({ userDataBase64: Buffer.from('#!/bin/sh').toString('base64') })), InvalidRequestError);
    await assert.rejects(client.createInstance(attrs({ firewallRules: { ingressRules: [{ fromPort: 80, toPort: 80 }] } })), InvalidRequestError);
    await assert.rejects(client.createInstance(attrs({ subLocation: 'a' })), InvalidRequestError);
    await assert.rejects(client.createInstance(attrs({ tags: { 'bad key': 'x' } })), /tag key "bad key" must be 1-63 characters/);
    await assert.rejects(client.createInstance(attrs({ location: 'mars-1' })), /region "mars-1" is not served/);
    assert.equal(creates(fi) + creates(us), before);
  });

  it('a create the replica refuses as invalid (unknown type) → InvalidRequestError', async () => {
    await assert.rejects(client.createInstance(attrs({ instanceType: 'no-such.1x' })), (e: CloudError) => e instanceof InvalidRequestError && /unknown instance type/.test(e.message));
  });

  it('429: waits out Retry-After in place; a long one, or too many, surfaces with retryAfterMs', async () => {
    fi.admin.rateLimitNext({ count: 1, retryAfterSeconds: 1, paths: ['/instances'] });
    let t0 = Date.now();
    await client.listInstances({ locations: ['finland-1'] });
    assert.ok(Date.now() - t0 >= 950, 'waited the Retry-After');
    fi.admin.rateLimitNext({ count: 1, retryAfterHeader: false, paths: ['/instances'] });
    t0 = Date.now();
    await client.listInstances({ locations: ['finland-1'] });
    assert.ok(Date.now() - t0 >= 950, 'without Retry-After: the 1 s default');
    fi.admin.rateLimitNext({ count: 5, retryAfterSeconds: 30 });
    await assert.rejects(client.listInstances({ locations: ['finland-1'] }), (e: CloudError) => e instanceof ServiceUnavailableError && e.retryAfterMs === 30_000);
    fi.admin.clearFaults();
    const limited = await new FluidstackCredential(options({ rateLimitRetries: 2 })).makeClient('finland-1');
    fi.admin.rateLimitNext({ count: 10, retryAfterSeconds: 0 });
    const start = fi.admin.requests().length;
    await assert.rejects(limited.listInstances({}), (e: CloudError) => e instanceof ServiceUnavailableError && e.retryAfterMs === 0);
    assert.equal(fi.admin.requests().length - start, 3, '1 try + 2 retries, then it stops');
  });

  it('5xx is retryable with Retry-After and never repeated on create (the instance may exist)', async () => {
    fi.admin.failNext({ count: 1, status: 503, retryAfterSeconds: 3, methods: ['POST'], paths: ['/instances'] });
    const before = creates(fi);
    await assert.rejects(client.createInstance(attrs()), (e: CloudError) => e instanceof ServiceUnavailableError && e.retryAfterMs === 3_000);
    assert.equal(creates(fi) - before, 1);
    fi.admin.failNext({ count: 1, status: 500, paths: ['/capacity'] });
    await assert.rejects(client.getLocations({}), ServiceUnavailableError);
  });

  it('a provisioning failure shows as failed', async () => {
    fi.admin.failNextProvisioning(1);
    const inst = await client.createInstance(attrs());
    const failed = await waitForInstanceLifecycleStatus(client, inst, 'failed', 10_000, 100);
    assert.deepEqual(failed.status.messages, ['fluidstack reports an error']);
    await client.terminateInstance(inst.cloudId);
  });

  it('creates with the key in cloud-init, identity tags and preemptible; preemption shows as failed + interruption preempted', async () => {
    const inst = await client.createInstance(attrs({ location: 'us-east-1', useSpot: true, name: 'spot-one', tags: { team: 'ml' } }));
    try {
      const { body } = us.admin.creates().at(-1)!;
      assert.equal(body.preemptible, true);
      assert.equal(body.name, 'spot-one');
      assert.equal(body.image, 'image://ubuntu22.04');
      assert.equal(authorizedKeyFromUserData(body.userData as string), key.publicKey);
      const tags = body.tags as Record<string, string>;
      assert.equal(tags.team, 'ml');
      assert.equal(tags['gpuflow-ref-id'], inst.refId);
      assert.equal(tags['gpuflow-cloud-cred-ref-id'], 'fs-errors');
      assert.ok(Math.abs(Date.parse(tags['gpuflow-created-at']) - Date.now()) < 60_000);
      assert.equal(inst.spot, true);
      assert.equal(inst.createdAt, tags['gpuflow-created-at']);
      const running = await waitForInstanceLifecycleStatus(client, inst, 'running', 10_000, 100);
      assert.ok(running.sshPort > 0 && running.publicIp);
      await us.admin.preempt(inst.cloudId);
      const got = await client.getInstance(inst.cloudId);
      assert.equal(got.status.lifecycleStatus, 'failed');
      assert.equal(got.status.interruption, 'preempted');
      assert.equal(got.refId, inst.refId, 'identity survives preemption');
      assert.ok((await client.listInstances({ instanceIds: [inst.cloudId] }))[0].status.interruption === 'preempted');
    } finally {
      await client.terminateInstance(inst.cloudId);
    }
    assert.equal(await us.admin.instance(inst.cloudId), 'deleted');
  });

  it('stop/start: 409 on a state conflict is an InvalidRequestError; a running instance stops and starts', async () => {
    const inst = await client.createInstance(attrs());
    try {
      await assert.rejects(client.startInstance!(inst.cloudId), (e: CloudError) => e instanceof InvalidRequestError && /HTTP 409/.test(e.message));
      await waitForInstanceLifecycleStatus(client, inst, 'running', 10_000, 100);
      await client.stopInstance!(inst.cloudId);
      await waitForInstanceLifecycleStatus(client, inst, 'stopped', 10_000, 100);
      await assert.rejects(client.stopInstance!(inst.cloudId), (e: CloudError) => e instanceof InvalidRequestError && /only a running instance/.test(e.message));
      await client.startInstance!(inst.cloudId);
      await waitForInstanceLifecycleStatus(client, inst, 'running', 10_000, 100);
    } finally {
      await client.terminateInstance(inst.cloudId);
    }
  });

  it('regions are scoped: a region client sees only its region; the all-regions client finds instances anywhere', async () => {
    const inst = await client.createInstance(attrs({ location: 'us-east-1' }));
    try {
      const fiOnly = await new FluidstackCredential(options()).makeClient('finland-1');
      await assert.rejects(fiOnly.getInstance(inst.cloudId), InstanceNotFoundError);
      assert.ok(!(await fiOnly.listInstances({})).some((i) => i.cloudId === inst.cloudId));
      assert.equal((await fiOnly.getInstanceTypes({})).every((t) => t.location === 'finland-1'), true);
      assert.equal((await client.getInstance(inst.cloudId)).location, 'us-east-1');
      const usStart = us.admin.requests().length;
      const fiStart = fi.admin.requests().length;
      await client.getInstanceTypes({ locations: ['finland-1'] });
      assert.equal(us.admin.requests().length, usStart, 'a one-region listing does not call other regions');
      assert.equal(fi.admin.requests().length - fiStart, 2, 'instance-types and capacity');
      const locs = await client.getLocations({ includeUnavailable: true });
      assert.deepEqual(locs.map((l) => [l.name, l.country]), [['finland-1', 'FIN'], ['us-east-1', 'USA']]);
    } finally {
      await client.terminateInstance(inst.cloudId);
    }
  });
});
