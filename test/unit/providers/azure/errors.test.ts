/**
 * Azure errors → typed errors, through the unmodified SDKs over real TLS: the replica answers with
 * ARM's error bodies, failed long-running operations and Entra ID's OAuth errors; no machine is
 * created (every case is refused before the replica would make one). Also the table on SDK-shaped
 * errors, and what a bad service principal says.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { after, before, it } from 'node:test';
import { AzureCredential, azureErrorFrom, parseAzureServicePrincipal, type AzureCredentialOptions } from '../../../../src/providers/azure/index.js';
import type { CloudClient } from '../../../../src/providers/sdk/client.js';
import { AuthenticationError, ImageNotFoundError, InsufficientCapacityError, InvalidRequestError, OutOfQuotaError, ResourceNotFoundError, ServiceUnavailableError } from '../../../../src/providers/sdk/errors.js';
import { writeAzureReplicaCatalog } from '../../../replicas/azure/catalog.js';
import { startAzureReplica, type AzureReplicaHandle } from '../../../replicas/azure/server.js';
import { TEST_RESOURCE_GROUP, testServicePrincipal } from '../../../replicas/azure/servicePrincipal.js';

const sp = testServicePrincipal();
const catalogFile = writeAzureReplicaCatalog(mkdtempSync(join(tmpdir(), 'gpuflow-azure-errors-')));
let replica: AzureReplicaHandle;
let client: CloudClient;
const opts = (o: Partial<AzureCredentialOptions> = {}): AzureCredentialOptions => ({
  refId: 'errors',
  servicePrincipal: sp,
  regions: ['eastus', 'westeurope'],
  resourceGroup: TEST_RESOURCE_GROUP,
  endpoint: replica.url,
  authorityHost: replica.authorityHost,
  caFile: replica.caFile,
  catalogFile,
  backoffMs: 20,
  pollIntervalMs: 50,
  ...o,
});
const publicKey = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHxT0wq3x1ZcY2YbGdRUQ0k0o3tF1bQeXhD8lH3n5r9a test';
const create = (c: CloudClient, location = 'eastus', instanceType = 'Standard_NC24ads_A100_v4', useSpot = false) => c.createInstance({ refId: `err-${Math.random()}`, location, instanceType, publicKey, useSpot } as never);
const refused = (p: Promise<unknown>) => p.then(() => assert.fail('no error'), (x: unknown) => x as Error & { scope?: string; retryAfterMs?: number });

before(async () => {
  // The backing cloud is never reached: every create here is refused first.
  replica = await startAzureReplica({ localCloud: { url: 'http://127.0.0.1:9', token: 'unused' }, ...sp, resourceGroups: [TEST_RESOURCE_GROUP], throttling: false });
  client = await new AzureCredential(opts()).makeClient('');
});
after(() => replica.close());

it('AllocationFailed in the PUT operation → InsufficientCapacityError for the region; the failed VM, NIC and IP are removed', async () => {
  replica.admin.setCapacityOff({ location: 'westeurope' });
  const e = await refused(create(client, 'westeurope', 'Standard_NC4as_T4_v3'));
  assert.ok(e instanceof InsufficientCapacityError, String(e));
  assert.equal(e.scope, 'region');
  assert.match(e.message, /AllocationFailed: Allocation failed/);
  assert.equal(replica.admin.vms().length, 0, 'the Failed VM was deleted');
  assert.equal(replica.admin.network('networkInterfaces').length, 0, 'its NIC was deleted');
  assert.equal(replica.admin.network('publicIPAddresses').length, 0, 'its public IP was deleted');
});

it('ZonalAllocationFailed → InsufficientCapacityError for the zone', async () => {
  replica.admin.setCapacityOff({ vmSize: 'Standard_NV36ads_A10_v5', code: 'ZonalAllocationFailed' });
  const e = await refused(create(client, 'eastus', 'Standard_NV36ads_A10_v5'));
  assert.ok(e instanceof InsufficientCapacityError, String(e));
  assert.equal(e.scope, 'zone');
});

it('SkuNotAvailable (409 on the PUT) → InsufficientCapacityError for the offer', async () => {
  const e = await refused(create(client, 'eastus', 'Standard_ND96isr_MI300X_v5'));
  assert.ok(e instanceof InsufficientCapacityError, String(e));
  assert.equal(e.scope, 'offer');
  assert.match(e.message, /SkuNotAvailable/);
});

it("OperationNotAllowed with Azure's quota text → OutOfQuotaError for the region", async () => {
  replica.admin.setQuota({ family: 'standardNDSH100v5Family', location: 'eastus', limit: 0 });
  const e = await refused(create(client, 'eastus', 'Standard_ND96isr_H100_v5'));
  assert.ok(e instanceof OutOfQuotaError, String(e));
  assert.equal(e.scope, 'region');
  assert.match(e.message, /exceeding approved standardNDSH100v5Family Cores quota/);
});

it('OperationNotAllowed without quota text is a refusal, not quota', () => {
  const e = azureErrorFrom(Object.assign(new Error("Operation 'restart' is not allowed on VM 'x' since the VM is deallocated."), { name: 'RestError', code: 'OperationNotAllowed', statusCode: 409 }), 'azure t');
  assert.ok(e instanceof InvalidRequestError, String(e));
});

it('403 AuthorizationFailed → AuthenticationError', async () => {
  replica.admin.failNext({ status: 403, code: 'AuthorizationFailed', message: "The client 'x' does not have authorization to perform action 'Microsoft.Compute/skus/read'.", path: '/skus' });
  const e = await refused(client.getInstanceTypes({}));
  assert.ok(e instanceof AuthenticationError, String(e));
  assert.equal(e.scope, 'provider');
});

it('a wrong client secret: Entra ID answers invalid_client → AuthenticationError, and the secret is in no message', async () => {
  const wrong = `sec~wrong-${Math.random()}`;
  const c = await new AzureCredential(opts({ servicePrincipal: { ...sp, clientSecret: wrong } })).makeClient('');
  const e = await refused(c.getInstanceTypes({}));
  assert.ok(e instanceof AuthenticationError, String(e));
  assert.ok(!e.message.includes(wrong) && !e.message.includes(sp.clientSecret), 'no secret in the message');
  assert.ok(replica.admin.tokenRequests().some((t) => t.clientId === sp.clientId && !t.ok));
});

it('429 with Retry-After is retried after the wait Azure names, then succeeds', async () => {
  replica.admin.failNext({ status: 429, code: 'TooManyRequests', path: '/skus', retryAfterS: 1 });
  const t0 = Date.now();
  const types = await client.getInstanceTypes({ locations: ['eastus'] });
  assert.ok(types.length > 0);
  assert.ok(Date.now() - t0 >= 900, `waited ${Date.now() - t0} ms for Retry-After: 1`);
});

it('429 on every attempt → ServiceUnavailableError carrying Retry-After', async () => {
  const c = await new AzureCredential(opts({ maxAttempts: 1 })).makeClient('');
  replica.admin.failNext({ status: 429, code: 'TooManyRequests', path: '/skus', retryAfterS: 7 });
  const e = await refused(c.getInstanceTypes({}));
  assert.ok(e instanceof ServiceUnavailableError, String(e));
  assert.equal(e.retryAfterMs, 7_000);
});

it('5xx is retried with backoff; when it persists → ServiceUnavailableError (retryable)', async () => {
  replica.admin.failNext({ status: 503, code: 'ServiceUnavailable', path: '/skus', count: 2 });
  assert.ok((await client.getInstanceTypes({ locations: ['eastus'] })).length > 0, 'recovered after two 503s');
  const c = await new AzureCredential(opts({ maxAttempts: 2 })).makeClient('');
  replica.admin.failNext({ status: 500, code: 'InternalServerError', path: '/skus', count: 2 });
  const e = await refused(c.getInstanceTypes({ locations: ['eastus'] }));
  assert.ok(e instanceof ServiceUnavailableError, String(e));
});

it('a resource group that does not exist → InvalidRequestError naming it', async () => {
  const c = await new AzureCredential(opts({ resourceGroup: 'no-such-rg' })).makeClient('');
  const e = await refused(create(c));
  assert.ok(e instanceof InvalidRequestError, String(e));
  assert.match(e.message, /ResourceGroupNotFound: Resource group 'no-such-rg' could not be found/);
});

it('the table on SDK-shaped errors: image, not found, unknown LRO code, identity errors', () => {
  assert.ok(azureErrorFrom(Object.assign(new Error('x'), { code: 'PlatformImageNotFound', statusCode: 404 }), 't') instanceof ImageNotFoundError);
  assert.ok(azureErrorFrom(Object.assign(new Error('x'), { code: 'ResourceNotFound', statusCode: 404 }), 't') instanceof ResourceNotFoundError);
  assert.ok(azureErrorFrom(new Error('The long-running operation has failed. SomethingNew. It broke.'), 't') instanceof InvalidRequestError);
  assert.ok(azureErrorFrom(new Error('The long-running operation has failed. InternalExecutionError. Try again.'), 't') instanceof ServiceUnavailableError);
  assert.ok(azureErrorFrom(Object.assign(new Error('AADSTS7000215'), { name: 'AuthenticationError', errorResponse: { error: 'invalid_client' } }), 't') instanceof AuthenticationError);
  assert.ok(azureErrorFrom(Object.assign(new Error('no env'), { name: 'CredentialUnavailableError' }), 't') instanceof AuthenticationError);
  assert.ok(azureErrorFrom(new Error('socket hang up'), 't') instanceof ServiceUnavailableError, 'a transport error is retryable');
});

it('a bad service principal names the field and never shows the secret; the credential hides it', () => {
  assert.throws(() => parseAzureServicePrincipal('{"tenantId":"nope","clientId":"x","clientSecret":"s3cr3t-value"}'), (e: Error) => /tenantId must be the Microsoft Entra tenant ID/.test(e.message) && /clientId/.test(e.message) && /subscriptionId/.test(e.message) && !e.message.includes('s3cr3t-value'));
  assert.throws(() => parseAzureServicePrincipal('not json s3cr3t'), (e: Error) => /was not JSON/.test(e.message) && !e.message.includes('s3cr3t'));
  // az ad sp create-for-rbac output plus the connection's subscriptionId.
  const p = parseAzureServicePrincipal(JSON.stringify({ appId: sp.clientId, password: 'pw-1', tenant: sp.tenantId, displayName: 'x' }), sp.subscriptionId);
  assert.equal(p.clientSecret, 'pw-1');
  const cred = new AzureCredential(opts());
  assert.ok(!JSON.stringify(cred).includes(sp.clientSecret) && !inspect(cred, { depth: 5 }).includes(sp.clientSecret), 'no secret in JSON or inspect');
  assert.throws(() => new AzureCredential({ ...opts(), regions: ['mars-central'] }), /regions\.0: .*Azure region names|region is not in the adapter's region/);
  assert.throws(() => new AzureCredential({ ...opts(), endpoint: 'https://management.azure.com', testReplica: true }), /testReplica is for local replicas only/);
});
