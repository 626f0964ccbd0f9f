/**
 * Creates of one refId racing each other: both find no VM, both send the VM's PUT with
 * `If-None-Match: *`; the replica (as ARM) makes the first and answers the second 412, which reads
 * the winner's VM. One VM, one NIC, one public IP; terminate removes all three.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { AzureCredential } from '../../../../src/providers/azure/index.js';
import type { CloudClient } from '../../../../src/providers/sdk/client.js';
import { BACKING, startBackingCloud } from '../../../replicas/backingCatalog.js';
import { writeAzureReplicaCatalog } from '../../../replicas/azure/catalog.js';
import { startAzureReplica, type AzureReplicaHandle } from '../../../replicas/azure/server.js';
import { TEST_RESOURCE_GROUP, testServicePrincipal } from '../../../replicas/azure/servicePrincipal.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const sp = testServicePrincipal();
let backing: Awaited<ReturnType<typeof startBackingCloud>>;
let replica: AzureReplicaHandle;
let client: CloudClient;
const publicKey = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHxT0wq3x1ZcY2YbGdRUQ0k0o3tF1bQeXhD8lH3n5r9a test';

before(async () => {
  backing = await startBackingCloud();
  replica = await startAzureReplica({ localCloud: { url: backing.url, token: backing.token }, ...sp, resourceGroups: [TEST_RESOURCE_GROUP], backing: BACKING, throttling: false });
  const catalogFile = writeAzureReplicaCatalog(mkdtempSync(join(tmpdir(), 'gpuflow-azure-create-')));
  client = await new AzureCredential({ refId: 'race', servicePrincipal: sp, regions: ['eastus'], resourceGroup: TEST_RESOURCE_GROUP, endpoint: replica.url, authorityHost: replica.authorityHost, caFile: replica.caFile, catalogFile, pollIntervalMs: 50, testReplica: true }).makeClient('');
});
after(async () => {
  await replica?.close();
  await backing?.close();
});

it('two concurrent creates of one refId make one VM (If-None-Match: * → 412 → the winner)', async () => {
  const attrs = { refId: 'race-1', name: 'race', location: 'eastus', instanceType: 'Standard_NC4as_T4_v3', publicKey, useSpot: true } as never;
  const [a, b] = await Promise.all([client.createInstance(attrs), client.createInstance(attrs)]);
  assert.equal(a.cloudId, b.cloudId);
  const name = a.cloudId.split('/')[1]!;
  assert.equal(replica.admin.everVms().filter((v) => v.name === name).length, 1, 'one VM');
  assert.ok(replica.requests.some((r) => r.method === 'PUT' && r.path.includes('/virtualMachines/') && r.status === 412), 'the second PUT was refused with 412');
  assert.equal(replica.admin.network('networkInterfaces').length, 1);
  assert.equal(replica.admin.network('publicIPAddresses').length, 1);
  assert.equal(a.spot, true);
  await client.terminateInstance(a.cloudId);
  await assert.rejects(
    (async () => {
      for (let i = 0; i < 100; i++) {
        await client.getInstance(a.cloudId);
        await new Promise((r) => setTimeout(r, 50));
      }
    })(),
    { name: 'InstanceNotFoundError' },
  );
  assert.equal(replica.admin.network('networkInterfaces').length + replica.admin.network('publicIPAddresses').length, 0, 'NIC and IP went with the VM');
});
