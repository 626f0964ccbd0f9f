/**
 * Compute errors → typed errors, through the unmodified SDK and real HTTP: the replica answers
 * with Google's error bodies and failed operations; no machine is created (every case is refused
 * before the replica would make one). Also the table itself, and what a bad key file says.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { after, before, it } from 'node:test';
import { GcpCredential, gcpOperationError, parseGcpServiceAccountKey, quotaScope, type GcpCredentialOptions } from '../../../../src/providers/gcp/index.js';
import type { CloudClient } from '../../../../src/providers/sdk/client.js';
import { AuthenticationError, InstanceNotFoundError, InsufficientCapacityError, OutOfQuotaError, ServiceUnavailableError } from '../../../../src/providers/sdk/errors.js';
import { writeGcpReplicaCatalog } from '../../../replicas/gcp/catalog.js';
import { startGcpReplica, type GcpReplicaHandle } from '../../../replicas/gcp/server.js';
import { testServiceAccount } from '../../../replicas/gcp/serviceAccount.js';

const sa = testServiceAccount();
const catalogFile = writeGcpReplicaCatalog(mkdtempSync(join(tmpdir(), 'gpuflow-gcp-errors-')));
let replica: GcpReplicaHandle;
let client: CloudClient;
const opts = (o: Partial<GcpCredentialOptions> = {}): GcpCredentialOptions => ({ refId: 'errors', regions: ['us-central1', 'europe-west4'], key: sa.key, endpoint: replica.url, catalogFile, backoffMs: 20, ...o });
const publicKey = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHxT0wq3x1ZcY2YbGdRUQ0k0o3tF1bQeXhD8lH3n5r9a test';
const create = (c: CloudClient, zone: string, type = 'g2-standard-4', useSpot = false) =>
  c.createInstance({ refId: `err-${Math.random()}`, location: zone.slice(0, zone.lastIndexOf('-')), subLocation: zone, instanceType: type, publicKey, useSpot } as never);

before(async () => {
  // The backing cloud is never reached: every create here is refused first.
  replica = await startGcpReplica({ localCloud: { url: 'http://127.0.0.1:9', token: 'unused' }, project: sa.key.project_id, serviceAccount: { email: sa.key.client_email, keyId: sa.key.private_key_id, publicKey: sa.publicKey }, throttling: false });
  client = await new GcpCredential(opts()).makeClient('');
});
after(() => replica.close());

it('ZONE_RESOURCE_POOL_EXHAUSTED in the insert operation → InsufficientCapacityError for the zone', async () => {
  replica.admin.setCapacityOff({ zone: 'us-central1-b' });
  try {
    const e = await create(client, 'us-central1-b').then(() => assert.fail('created'), (x: unknown) => x);
    assert.ok(e instanceof InsufficientCapacityError, String(e));
    assert.equal(e.scope, 'zone');
    assert.match(e.message, /ZONE_RESOURCE_POOL_EXHAUSTED/);
    assert.equal(replica.admin.instances().length, 0, 'a failed insert leaves no instance');
  } finally {
    replica.admin.clearCapacity();
  }
});

it('QUOTA_EXCEEDED for a regional GPU metric → OutOfQuotaError for the region; GPUS_ALL_REGIONS → the provider', async () => {
  replica.admin.setQuota({ metric: 'NVIDIA_L4_GPUS', region: 'us-central1', limit: 0 });
  let e = await create(client, 'us-central1-a').then(() => assert.fail('created'), (x: unknown) => x);
  assert.ok(e instanceof OutOfQuotaError, String(e));
  assert.equal(e.scope, 'region');
  assert.match(e.message, /NVIDIA_L4_GPUS/);
  // Spot GPUs count against PREEMPTIBLE_NVIDIA_L4_GPUS, not the on-demand metric: this one is not refused for quota.
  replica.admin.clearQuotas();
  replica.admin.setQuota({ metric: 'GPUS_ALL_REGIONS', limit: 0 });
  e = await create(client, 'europe-west4-a').then(() => assert.fail('created'), (x: unknown) => x);
  assert.ok(e instanceof OutOfQuotaError, String(e));
  assert.equal(e.scope, 'provider');
  replica.admin.clearQuotas();
});

it('401 (a key Google does not know) and 403 (no permission) → AuthenticationError', async () => {
  const other = testServiceAccount(sa.key.project_id);
  const stranger = await new GcpCredential(opts({ key: { ...other.key, private_key_id: sa.key.private_key_id, client_email: sa.key.client_email } })).makeClient('');
  const e1 = await stranger.getLocations().then(() => assert.fail('answered'), (x: unknown) => x);
  assert.ok(e1 instanceof AuthenticationError, String(e1));
  assert.match(e1.message, /HTTP 401/);
  replica.admin.deny(['instances.insert']);
  try {
    const e2 = await create(client, 'us-central1-a').then(() => assert.fail('created'), (x: unknown) => x);
    assert.ok(e2 instanceof AuthenticationError, String(e2));
    assert.match(e2.message, /IAM_PERMISSION_DENIED: Required 'compute\.instances\.create' permission/);
  } finally {
    replica.admin.deny([]);
  }
});

it('429 rateLimitExceeded is retried with backoff; past maxAttempts it is retryable with a wait', async () => {
  const before = replica.requests.length;
  replica.admin.failNext({ status: 429, reason: 'rateLimitExceeded', method: 'regions.list', count: 2 });
  const locs = await client.getLocations();
  assert.deepEqual(locs.map((l) => [l.name, l.country]), [['us-central1', 'USA'], ['europe-west4', 'NLD']]);
  assert.equal(replica.requests.length - before, 3, 'two 429s, then the answer');
  replica.admin.failNext({ status: 429, reason: 'rateLimitExceeded', method: 'regions.list', count: 4 });
  const e = await client.getLocations().then(() => assert.fail('answered'), (x: unknown) => x);
  assert.ok(e instanceof ServiceUnavailableError && e.retryable, String(e));
  assert.equal(e.retryAfterMs, 5_000);
});

it('5xx is retryable; an unknown instance is InstanceNotFoundError', async () => {
  replica.admin.failNext({ status: 503, reason: 'backendError', method: 'zones.list', count: 4 });
  const e = await client.getInstanceTypes().then(() => assert.fail('answered'), (x: unknown) => x);
  assert.ok(e instanceof ServiceUnavailableError && e.retryable, String(e));
  await assert.rejects(client.getInstance('us-central1-a/gpuflow-nobody'), InstanceNotFoundError);
  await client.terminateInstance('us-central1-a/gpuflow-nobody');
});

it('the table: operation codes and quota scope', () => {
  assert.equal(gcpOperationError([{ code: 'ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS', message: 'x' }], 'w').scope, 'zone');
  assert.equal(gcpOperationError([{ code: 'RESOURCE_OPERATION_RATE_EXCEEDED', message: 'x' }], 'w').retryable, true);
  assert.equal(quotaScope("Quota 'GPUS_ALL_REGIONS' exceeded.  Limit: 1.0 globally."), 'provider');
  assert.equal(quotaScope("Quota 'NVIDIA_H100_GPUS' exceeded.  Limit: 0.0 in region us-central1."), 'region');
});

it('a bad key file names the field and the fix, never its content; the key stays out of JSON and inspect', () => {
  assert.throws(() => parseGcpServiceAccountKey('{"type":"authorized_user"}'), (e: Error) => /type must be "service_account"/.test(e.message) && !e.message.includes('authorized_user'));
  assert.throws(() => parseGcpServiceAccountKey(sa.key.private_key), (e: Error) => /was not JSON/.test(e.message) && !e.message.includes('PRIVATE'));
  const cred = new GcpCredential(opts());
  const line = sa.key.private_key.split('\n')[1]!;
  assert.ok(!JSON.stringify(cred).includes(line));
  assert.ok(!inspect(cred, { depth: 5 }).includes(line));
  assert.equal(cred.project, sa.key.project_id);
});
