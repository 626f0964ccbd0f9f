/**
 * The adapter against the gRPC replica's error answers, over real gRPC: a wrong token, quota at
 * Create, no capacity in the Create operation, retried UNAVAILABLE, an idempotent repeat create
 * whose first answer was lost (ALREADY_EXISTS → GetByName), NOT_FOUND.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { NebiusCredential } from '../../../../src/providers/nebius/index.js';
import type { CloudClient } from '../../../../src/providers/sdk/client.js';
import { AuthenticationError, InstanceNotFoundError, InsufficientCapacityError, OutOfQuotaError } from '../../../../src/providers/sdk/errors.js';
import { generateSshKeyPair } from '../../../../src/ssh/sshClient.js';
import { BACKING, startBackingCloud } from '../../../replicas/backingCatalog.js';
import { startNebiusReplica, type NebiusReplicaHandle } from '../../../replicas/nebius/server.js';

const token = `ne1${randomBytes(24).toString('base64url')}`;
const projects = { 'eu-north1': { projectId: 'project-e00errorsfi', subnetId: 'vpcsubnet-e00errorsfi' } };
let backing: Awaited<ReturnType<typeof startBackingCloud>>;
let replica: NebiusReplicaHandle;
let client: CloudClient;
const key = generateSshKeyPair('nebius-errors').publicKey;
const credential = (iamToken: string) => new NebiusCredential({ refId: 'errors', iamToken, projects, endpoint: replica.endpoint, tls: false, testReplica: true, operationPollMs: 100, backoffMs: 50 });

before(async () => {
  backing = await startBackingCloud();
  replica = await startNebiusReplica({ localCloud: backing, token, backing: BACKING, projects: { 'project-e00errorsfi': { region: 'eu-north1', subnetId: 'vpcsubnet-e00errorsfi' } } });
  client = await credential(token).makeClient('eu-north1');
});
after(async () => {
  await replica?.close();
  await backing?.close();
});

const attrs = (refId: string, instanceType = 'gpu-h100-sxm_1gpu-16vcpu-200gb') => ({ refId, location: 'eu-north1', instanceType, publicKey: key });

it('a wrong IAM token is an authentication error, and the token is not in its message', async () => {
  const wrong = `ne1${randomBytes(24).toString('base64url')}`;
  const c = await credential(wrong).makeClient('eu-north1');
  const e = await c.listInstances().then(() => undefined, (x: unknown) => x);
  assert.ok(e instanceof AuthenticationError, String(e));
  assert.ok(!e.message.includes(wrong) && !e.message.includes(token));
});

it('quota at Create is OutOfQuotaError (region); no capacity in the operation is InsufficientCapacityError', async () => {
  replica.admin.setGpuQuota('eu-north1', 4);
  await assert.rejects(client.createInstance(attrs('quota-1', 'gpu-h100-sxm_8gpu-128vcpu-1600gb')), (e: unknown) => e instanceof OutOfQuotaError && e.scope === 'region' && /Quota exceeded/.test(e.message));
  replica.admin.setGpuQuota('eu-north1', 1000);
  replica.admin.capacityOff('gpu-h100-sxm', 'eu-north1');
  await assert.rejects(client.createInstance(attrs('cap-1')), (e: unknown) => e instanceof InsufficientCapacityError && /not enough resources/.test(e.message));
  replica.admin.capacityOn('gpu-h100-sxm', 'eu-north1');
});

it('UNAVAILABLE is retried; a create whose answer was lost is answered by GetByName; a repeat returns the same instance', async () => {
  replica.admin.failNext('List', status.UNAVAILABLE, 'upstream connect error', 2);
  const a = await client.createInstance(attrs('idem-1'));
  // A repeat finds it by its label.
  assert.equal((await client.createInstance(attrs('idem-1'))).cloudId, a.cloudId);
  // A repeat whose List lags the first create: the Create collides on the name (ALREADY_EXISTS), GetByName answers.
  replica.admin.staleListNext();
  const b = await client.createInstance(attrs('idem-1'));
  assert.equal(b.cloudId, a.cloudId);
  assert.ok(replica.admin.calls().some((c) => c.method === 'Create' && c.code === status.ALREADY_EXISTS));
  assert.ok(replica.admin.calls().some((c) => c.method === 'GetByName' && c.code === status.OK));
  assert.equal(replica.admin.everInstances().filter((i) => i.metadata.labels['gpuflow-ref-id'] === 'idem-1').length, 1);
  const lists = replica.admin.calls().filter((c) => c.method === 'List' && c.code === status.UNAVAILABLE).length;
  assert.equal(lists, 2, 'both UNAVAILABLE answers were retried');
  await client.terminateInstance(a.cloudId);
});

it('NOT_FOUND on get is InstanceNotFoundError; terminate of a gone instance is done', async () => {
  await assert.rejects(client.getInstance('computeinstance-e00doesnotexist'), InstanceNotFoundError);
  await client.terminateInstance('computeinstance-e00doesnotexist');
});
