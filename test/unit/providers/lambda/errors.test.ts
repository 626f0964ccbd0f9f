/**
 * Lambda native errors → typed errors: the mapping itself, then each kind end to end through the
 * adapter against the replica (which answers with Lambda's error bodies).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { generateSshKeyPair } from '../../../../src/ssh/sshClient.js';
import { LambdaCredential, lambdaErrorFromResponse } from '../../../../src/providers/lambda/index.js';
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
import { BACKING, startBackingCloud } from '../../../replicas/backingCatalog.js';
import { startLambdaReplica, type LambdaReplicaHandle } from '../../../replicas/lambda/server.js';

const body = (code: string, message = 'm') => ({ error: { code, message } });

describe('lambdaErrorFromResponse', () => {
  const map = (status: number, b: unknown, op: Parameters<typeof lambdaErrorFromResponse>[4] = 'launch', retryAfter: string | null = null) =>
    lambdaErrorFromResponse(status, b, retryAfter, 'lambda POST /x', op);

  it('maps each documented code to its typed error', () => {
    const cap = map(400, body('instance-operations/launch/insufficient-capacity', 'Not enough capacity to fulfill launch request.'));
    assert.ok(cap instanceof InsufficientCapacityError);
    assert.equal(cap.scope, 'zone');
    assert.equal(cap.retryable, false);
    const quota = map(400, body('global/quota-exceeded', 'Quota exceeded.'));
    assert.ok(quota instanceof OutOfQuotaError);
    assert.equal(quota.scope, 'provider', 'Lambda quotas are per account');
    assert.ok(map(401, body('global/invalid-api-key')) instanceof AuthenticationError);
    assert.ok(map(403, body('global/account-inactive')) instanceof AuthenticationError);
    assert.ok(map(403, body('global/invalid-address')) instanceof AuthenticationError);
    assert.ok(map(404, body('global/object-does-not-exist', 'Specified instance does not exist.'), 'instance') instanceof InstanceNotFoundError);
    assert.ok(map(404, body('global/object-does-not-exist'), 'launch') instanceof InvalidRequestError, 'a launch naming a missing type/key cannot work: fail over');
    assert.ok(map(400, body('global/object-does-not-exist'), 'ssh-key') instanceof ResourceNotFoundError);
    assert.ok(map(400, body('global/invalid-parameters', 'Invalid request data.')) instanceof InvalidRequestError);
    assert.ok(map(400, body('instance-operations/launch/file-system-in-wrong-region')) instanceof InvalidRequestError);
    const region = map(400, body('global/invalid-parameters', 'Region "xx-1" does not exist.'));
    assert.ok(region instanceof InsufficientCapacityError, 'Brev: a region that does not exist for the launch');
    assert.equal(region.scope, 'region');
  });

  it('makes 429, 5xx and provider/* errors retryable, with Retry-After or the documented limit', () => {
    const launch429 = map(429, 'Too Many Requests', 'launch');
    assert.ok(launch429 instanceof ServiceUnavailableError);
    assert.equal(launch429.retryAfterMs, 12_000, 'launch: one per 12 s');
    assert.equal(map(429, undefined, 'instance').retryAfterMs, 1_000, 'in general: one per second');
    assert.equal(map(429, undefined, 'instance', '7').retryAfterMs, 7_000);
    const upstream = map(503, body('provider/internal-unavailable', 'Provider unavailable'), 'launch', '3');
    assert.ok(upstream instanceof ServiceUnavailableError);
    assert.equal(upstream.retryAfterMs, 3_000);
    assert.ok(map(400, body('provider/quota-service-down')) instanceof ServiceUnavailableError, 'provider/ codes are upstream trouble whatever the status');
    const e500 = map(500, body('global/internal-error'));
    assert.ok(e500 instanceof ServiceUnavailableError);
    assert.equal(e500.retryable, true);
    assert.equal(e500.retryAfterMs, undefined);
  });

  it('says what happened, with the code, and reads non-JSON bodies', () => {
    assert.match(map(400, body('global/quota-exceeded', 'Quota exceeded.')).message, /^lambda POST \/x: Quota exceeded\. \(HTTP 400 global\/quota-exceeded\)$/);
    assert.match(map(502, '<html>Bad Gateway</html>').message, /Bad Gateway.*HTTP 502/);
  });
});

describe('Lambda adapter: the key never reaches an error message', () => {
  it('scrubs a body that echoes the Authorization header (a misbehaving proxy)', async () => {
    const apiKey = 'secret_echoed_key_0123456789';
    const server = http.createServer((req, res) => {
      res.writeHead(502, { 'content-type': 'text/plain' }).end(`bad gateway; you sent ${req.headers.authorization}`);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const client = await new LambdaCredential({ refId: 'echo', apiKey, baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }).makeClient('');
      await assert.rejects(client.listInstances({}), (e: Error) => {
        assert.ok(e instanceof ServiceUnavailableError);
        assert.match(e.message, /\[redacted\]/);
        assert.ok(!e.message.includes(apiKey));
        return true;
      });
    } finally {
      server.close();
    }
  });
});

describe('Lambda adapter errors against the replica', () => {
  const apiKey = 'secret_lambda_errors_0123456789';
  let backing: Awaited<ReturnType<typeof startBackingCloud>>;
  let replica: LambdaReplicaHandle;
  let client: CloudClient;
  const key = generateSshKeyPair('errors-test');
  let n = 0;
  const attrs = (over: Record<string, unknown> = {}) => ({ refId: `ref-${++n}`, location: 'us-east-1', instanceType: 'gpu_1x_a10', publicKey: key.publicKey, ...over });
  const launchCount = () => replica.admin.requests().filter((r) => r.path.endsWith('/instance-operations/launch')).length;
  const liveCount = async () => (await replica.admin.instances()).filter((i) => i.status !== 'terminated' && i.status !== 'terminating').length;

  before(async () => {
    backing = await startBackingCloud();
    replica = await startLambdaReplica({ localCloud: backing, apiKey, backing: BACKING, rateLimits: false, quota: { maxInstances: 3 } });
    client = await new LambdaCredential({ refId: 'errors', apiKey, baseUrl: replica.url, testReplica: true }).makeClient('');
  });
  after(async () => {
    await replica?.close();
    await backing?.close();
  });
  beforeEach(() => replica.admin.clearFaults());

  it('a bad key is an AuthenticationError, never retried', async () => {
    for (const scheme of ['bearer', 'basic'] as const) {
      const bad = await new LambdaCredential({ refId: 'bad', apiKey: 'wrong_key', baseUrl: replica.url, authScheme: scheme }).makeClient('');
      const before = replica.admin.requests().length;
      await assert.rejects(bad.getInstanceTypes({}), (e: CloudError) => e instanceof AuthenticationError && e.retryable === false && /global\/invalid-api-key/.test(e.message));
      await assert.rejects(bad.createInstance(attrs()), AuthenticationError);
      const seen = replica.admin.requests().slice(before);
      assert.equal(seen.length, 2, 'one request per call: no retry');
      assert.ok(seen.every((r) => r.status === 401 && r.auth === scheme));
    }
  });

  it('Basic auth (curl -u key:) with the right key works', async () => {
    const basic = await new LambdaCredential({ refId: 'basic', apiKey, baseUrl: replica.url, authScheme: 'basic' }).makeClient('');
    assert.ok((await basic.getInstanceTypes({})).length > 0);
    assert.equal(replica.admin.requests().at(-1)!.auth, 'basic');
  });

  it('an inactive account is an AuthenticationError', async () => {
    replica.admin.setAccountInactive(true);
    await assert.rejects(client.listInstances({}), (e: Error) => e instanceof AuthenticationError && /account-inactive/.test(e.message));
  });

  it('instance-operations/launch/insufficient-capacity (injected, with a stale catalog) → InsufficientCapacityError, nothing left behind', async () => {
    replica.admin.setOutOfCapacity([{ type: 'gpu_1x_a10', region: 'us-east-1' }]);
    const listed = (await client.getInstanceTypes({ instanceTypes: ['gpu_1x_a10'], locations: ['us-east-1'] }))[0];
    assert.equal(listed.isAvailable, true, 'the catalog still says available');
    await assert.rejects(client.createInstance(attrs()), (e: CloudError) => e instanceof InsufficientCapacityError && e.scope === 'zone');
    assert.equal(await liveCount(), 0);
  });

  it('capacity is stateful: the last unit goes, the region leaves regions_with_capacity_available, the next launch fails', async () => {
    // gpu_1x_h100_sxm5 has capacity 1 in us-south-2.
    const first = await client.createInstance(attrs({ instanceType: 'gpu_1x_h100_sxm5', location: 'us-south-2' }));
    try {
      const [it] = await client.getInstanceTypes({ instanceTypes: ['gpu_1x_h100_sxm5'], locations: ['us-south-2'] });
      assert.equal(it.isAvailable, false);
      await assert.rejects(client.createInstance(attrs({ instanceType: 'gpu_1x_h100_sxm5', location: 'us-south-2' })), InsufficientCapacityError);
    } finally {
      await client.terminateInstance(first.cloudId);
    }
    const [again] = await client.getInstanceTypes({ instanceTypes: ['gpu_1x_h100_sxm5'], locations: ['us-south-2'] });
    assert.equal(again.isAvailable, true, 'terminating gives the capacity back');
  });

  it('global/quota-exceeded (injected, and the account limit) → OutOfQuotaError', async () => {
    replica.admin.setQuotaExceeded(true);
    await assert.rejects(client.createInstance(attrs()), (e: CloudError) => e instanceof OutOfQuotaError && e.scope === 'provider');
    replica.admin.setQuotaExceeded(false);
    const made = [];
    try {
      for (let i = 0; i < 3; i++) made.push(await client.createInstance(attrs()));
      await assert.rejects(client.createInstance(attrs()), OutOfQuotaError, 'the 4th instance is over maxInstances 3');
    } finally {
      for (const m of made) await client.terminateInstance(m.cloudId);
    }
  });

  it('global/object-does-not-exist: get and reboot → InstanceNotFoundError; terminate is idempotent', async () => {
    await assert.rejects(client.getInstance('0000000000000000000000000000dead'), InstanceNotFoundError);
    await assert.rejects(client.rebootInstance!('0000000000000000000000000000dead'), InstanceNotFoundError);
    await client.terminateInstance('0000000000000000000000000000dead');
  });

  it('launching an unknown type is an InvalidRequestError; an unknown region is Brev’s region rule', async () => {
    await assert.rejects(client.createInstance(attrs({ instanceType: 'gpu_9x_nope' })), (e: Error) => e instanceof InvalidRequestError && /object-does-not-exist/.test(e.message));
    await assert.rejects(client.createInstance(attrs({ location: 'atlantis-1' })), (e: CloudError) => e instanceof InsufficientCapacityError && e.scope === 'region');
  });

  it('refuses what Lambda cannot do before calling it (spot, firewall rules, bad tags)', async () => {
    const before = launchCount();
    await assert.rejects(client.createInstance(attrs({ useSpot: true })), (e: Error) => e instanceof InvalidRequestError && /spot/.test(e.message));
    await assert.rejects(client.createInstance(attrs({ firewallRules: { ingressRules: [{ fromPort: 80, toPort: 80 }] } })), InvalidRequestError);
    await assert.rejects(client.createInstance(attrs({ tags: { 'Not Valid': 'x' } })), InvalidRequestError);
    assert.equal(launchCount(), before, 'no launch was sent');
  });

  it('5xx → ServiceUnavailableError with Retry-After, not repeated in the adapter', async () => {
    replica.admin.failNext({ count: 1, status: 503, retryAfterSeconds: 4, paths: ['/instance-operations/launch'] });
    const before = launchCount();
    await assert.rejects(client.createInstance(attrs()), (e: CloudError) => e instanceof ServiceUnavailableError && e.retryAfterMs === 4_000 && /provider\/internal-unavailable/.test(e.message));
    assert.equal(launchCount() - before, 1);
    replica.admin.failNext({ count: 1, status: 500 });
    await assert.rejects(client.listInstances({}), (e: CloudError) => e instanceof ServiceUnavailableError && /global\/internal-error/.test(e.message));
  });

  it('launches with the named SSH key, tags and user data; reads refId back from list and get', async () => {
    const userData = '#cloud-config\nruncmd: [echo hi]\n';
    const inst = await client.createInstance(attrs({ name: 'with-extras', tags: { team: 'ml' }, userDataBase64: Buffer.from(userData).toString('base64') }));
    try {
      const launch = replica.admin.launches().at(-1)!;
      assert.deepEqual(launch.ssh_key_names, [inst.refId]);
      assert.equal(launch.user_data, userData);
      assert.equal(launch.name, 'with-extras');
      assert.ok(!('quantity' in launch), 'quantity is gone in v1.8.3 and rejected');
      assert.equal(replica.admin.sshKeys().find((k) => k.name === inst.refId)?.public_key, key.publicKey);
      const got = await client.getInstance(inst.cloudId);
      assert.equal(got.refId, inst.refId);
      assert.equal(got.cloudCredRefId, 'errors');
      assert.equal(got.tags.team, 'ml');
      const listed = await client.listInstances({ tagFilters: { team: ['ml'] } });
      assert.deepEqual(listed.map((i) => i.cloudId), [inst.cloudId]);
      // A retried create (same refId) finds the first launch instead of launching again.
      const before = launchCount();
      const again = await client.createInstance(attrs({ refId: inst.refId, name: 'with-extras' }));
      assert.equal(again.cloudId, inst.cloudId);
      assert.equal(launchCount(), before);
    } finally {
      await client.terminateInstance(inst.cloudId);
    }
    assert.ok(!replica.admin.sshKeys().some((k) => k.name === inst.refId), 'the refId-named key is removed after terminate');
  });
});
