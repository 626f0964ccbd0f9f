/**
 * Every EC2 error the adapter maps, produced by the EC2 replica and read through the unmodified
 * SDK: capacity (zone), spot and vCPU limits (region), permissions and credentials (provider),
 * throttling (the SDK's backoff, then a retryable error), images, unknown instances, and SigV4.
 *
 *   node --import tsx --test test/integration/providers/aws-errors.test.ts
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AWS_ERROR_TABLE, awsErrorFrom, AwsCredential, type AwsCredentialOptions } from '../../../src/providers/aws/index.js';
import type { CloudClient } from '../../../src/providers/sdk/client.js';
import { CloudError } from '../../../src/providers/sdk/errors.js';
import { generateSshKeyPair } from '../../../src/ssh/sshClient.js';
import { writeReplicaCatalog } from '../../replicas/aws/catalog.js';
import { startAwsReplica, type AwsReplicaHandle } from '../../replicas/aws/server.js';
import { BACKING, startBackingCloud } from '../../replicas/backingCatalog.js';

const keys = { accessKeyId: `AKIA${randomBytes(8).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(30).toString('base64') };
const catalogFile = writeReplicaCatalog(mkdtempSync(join(tmpdir(), 'gpuflow-aws-errors-')));
const publicKey = generateSshKeyPair('aws-errors').publicKey;
let backing: Awaited<ReturnType<typeof startBackingCloud>>;
let replica: AwsReplicaHandle;

before(async () => {
  backing = await startBackingCloud();
  replica = await startAwsReplica({ localCloud: backing, ...keys, backing: BACKING });
});
after(async () => {
  await replica?.close();
  await backing?.close();
});

function client(extra: Partial<AwsCredentialOptions> = {}): Promise<CloudClient> {
  return new AwsCredential({ refId: 'errors', regions: ['us-east-1', 'us-west-2'], keys, endpoint: replica.url, catalogFile, testReplica: true, ...extra } as AwsCredentialOptions).makeClient('us-east-1');
}

let n = 0;
const create = async (c: CloudClient, over: Record<string, unknown> = {}) =>
  c.createInstance({ refId: `err-${++n}`, location: 'us-east-1', subLocation: 'us-east-1a', instanceType: 'g6.xlarge', publicKey, ...over });

async function expectCloudError(p: Promise<unknown>, code: string, scope: string | undefined, retryable: boolean, match: RegExp): Promise<CloudError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof CloudError, `a typed CloudError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.equal(e.scope, scope, e.message);
    assert.equal(e.retryable, retryable);
    assert.match(e.message, match);
    return e;
  }
  assert.fail('no error');
}

describe('aws error mapping through the SDK', () => {
  it('InsufficientInstanceCapacity blocks the zone (after the SDK retried the 500), no instance left', async () => {
    replica.admin.setCapacityOff({ type: 'g6.xlarge', zone: 'us-east-1a' });
    try {
      const before = replica.admin.instances().length;
      const e = await expectCloudError(create(await client()), 'INSUFFICIENT_CAPACITY', 'zone', false, /InsufficientInstanceCapacity: We currently do not have sufficient g6\.xlarge capacity in the Availability Zone you requested \(us-east-1a\)/);
      assert.match(e.message, /HTTP 500/);
      assert.equal(replica.admin.instances().length, before);
      // The next zone has capacity.
      const ok = await create(await client(), { subLocation: 'us-east-1b' });
      assert.equal(ok.subLocation, 'us-east-1b');
      await (await client()).terminateInstance(ok.cloudId);
      await expectCloudError(create(await client(), { useSpot: true }), 'INSUFFICIENT_CAPACITY', 'zone', false, /There is no Spot capacity available/);
    } finally {
      replica.admin.clearCapacity();
    }
  });

  it('MaxSpotInstanceCountExceeded and VcpuLimitExceeded block the region', async () => {
    replica.admin.setLimits({ spotInstances: 0, onDemandVcpus: 2 });
    try {
      await expectCloudError(create(await client(), { useSpot: true }), 'OUT_OF_QUOTA', 'region', false, /MaxSpotInstanceCountExceeded/);
      await expectCloudError(create(await client()), 'OUT_OF_QUOTA', 'region', false, /VcpuLimitExceeded: You have requested more vCPU capacity than your current vCPU limit of 2/);
    } finally {
      replica.admin.setLimits({ spotInstances: Infinity, onDemandVcpus: Infinity });
    }
  });

  it('UnauthorizedOperation, AuthFailure and a wrong secret (SignatureDoesNotMatch) block the provider', async () => {
    replica.admin.deny(['TerminateInstances']);
    try {
      await expectCloudError((await client()).terminateInstance('i-0123456789abcdef0'), 'AUTHENTICATION', 'provider', false, /UnauthorizedOperation: You are not authorized to perform this operation\. \(HTTP 403\)/);
    } finally {
      replica.admin.deny([]);
    }
    const stranger = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: keys.secretAccessKey };
    await expectCloudError((await client({ keys: stranger })).getLocations(), 'AUTHENTICATION', 'provider', false, /AuthFailure: AWS was not able to validate the provided access credentials \(HTTP 401\)/);
    const wrongSecret = { ...keys, secretAccessKey: randomBytes(30).toString('base64') };
    const e = await expectCloudError((await client({ keys: wrongSecret })).getLocations(), 'AUTHENTICATION', 'provider', false, /SignatureDoesNotMatch/);
    assert.ok(!e.message.includes(wrongSecret.secretAccessKey) && !e.message.includes(keys.secretAccessKey), 'no secret in the error');
  });

  it('RequestLimitExceeded is retried by the SDK with backoff, then surfaces as retryable', async () => {
    const seen = () => replica.requests.filter((r) => r.action === 'DescribeRegions').length;
    let before = seen();
    replica.admin.failNext({ code: 'RequestLimitExceeded', message: 'Request limit exceeded.', action: 'DescribeRegions', count: 2 });
    const locations = await (await client()).getLocations();
    assert.ok(locations.length > 0);
    assert.equal(seen() - before, 3, 'two throttled tries, then the answer');
    before = seen();
    replica.admin.failNext({ code: 'RequestLimitExceeded', message: 'Request limit exceeded.', action: 'DescribeRegions', count: 3 });
    const e = await expectCloudError((await client()).getLocations(), 'SERVICE_UNAVAILABLE', undefined, true, /RequestLimitExceeded: Request limit exceeded\. \(HTTP 503\)/);
    assert.ok((e.retryAfterMs ?? 0) > 0, 'a wait for Temporal');
    assert.equal(seen() - before, 3, 'maxAttempts (3) tries');
  });

  it("EC2's own token bucket throttles a burst of describes", async () => {
    const c = await client({ maxAttempts: 1 });
    const results = await Promise.allSettled(Array.from({ length: 200 }, () => c.getLocations()));
    const rejected = results.filter((r) => r.status === 'rejected');
    const throttled = rejected.filter((r) => (r.reason as CloudError).code === 'SERVICE_UNAVAILABLE' && /RequestLimitExceeded/.test((r.reason as Error).message));
    assert.ok(throttled.length >= 1, `a 100-request bucket refilling 20/s refuses part of 200 sent at once (refused ${throttled.length})`);
    assert.equal(rejected.length, throttled.length, 'every refusal is a throttle');
    assert.ok(results.length - rejected.length >= 100, 'the burst the bucket holds goes through');
    await new Promise((r) => setTimeout(r, 5_000)); // let the bucket refill for the next tests
  });

  it('InternalError (500) is retried and then retryable; InvalidAMIID.NotFound is an image error', async () => {
    replica.admin.failNext({ code: 'InternalError', message: 'An internal error has occurred', action: 'DescribeRegions', count: 1 });
    assert.ok((await (await client()).getLocations()).length > 0, 'the SDK retried the 500');
    replica.admin.failNext({ code: 'Unavailable', message: 'The server is overloaded', action: 'DescribeRegions', count: 3 });
    await expectCloudError((await client()).getLocations(), 'SERVICE_UNAVAILABLE', undefined, true, /Unavailable/);
    await expectCloudError(create(await client(), { imageId: 'ami-0000000000000dead' }), 'IMAGE_NOT_FOUND', 'provider', false, /InvalidAMIID\.NotFound/);
  });

  it('unknown instances: getInstance throws InstanceNotFoundError, terminate succeeds (idempotent)', async () => {
    const c = await client();
    await expectCloudError(c.getInstance('i-0123456789abcdef0'), 'INSTANCE_NOT_FOUND', undefined, false, /no instance i-0123456789abcdef0/);
    await c.terminateInstance('i-0123456789abcdef0');
  });

  it('IdempotentParameterMismatch: a ClientToken reused with other parameters is refused', async () => {
    const c = await client();
    const first = await create(c, { refId: 'same-token' });
    await expectCloudError(create(c, { refId: 'same-token', instanceType: 'g5.xlarge' }), 'INVALID_REQUEST', 'offer', false, /IdempotentParameterMismatch/);
    await c.terminateInstance(first.cloudId);
  });

  it('the table maps every code it lists to a typed error', () => {
    for (const [code, rule] of Object.entries(AWS_ERROR_TABLE)) {
      const e = awsErrorFrom({ name: code, message: 'm', $metadata: { httpStatusCode: 400 } }, 'aws us-east-1 X');
      assert.ok(e instanceof CloudError, code);
      if (rule.scope) assert.equal(e.scope, rule.scope, code);
    }
    assert.equal(awsErrorFrom({ name: 'TimeoutError', message: 'socket hang up' }, 'x').code, 'SERVICE_UNAVAILABLE');
  });
});
