/**
 * The conformance suite against the Azure VMs adapter (@azure/arm-compute, @azure/arm-network,
 * @azure/identity, unmodified) and the ARM + Entra ID replica over TLS (client secret checked,
 * bearer token required, throttling on), whose VMs are real local cloud sshd instances.
 *
 *   node --import tsx --test test/conformance/azure.test.ts
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AzureCredential } from '../../src/providers/azure/index.js';
import { BACKING } from '../replicas/backingCatalog.js';
import { writeAzureReplicaCatalog } from '../replicas/azure/catalog.js';
import { startAzureReplica } from '../replicas/azure/server.js';
import { TEST_RESOURCE_GROUP, testServicePrincipal } from '../replicas/azure/servicePrincipal.js';
import { useReplicaOnBackingCloud } from './replicaClouds.js';
import { runConformanceSuite } from './suite.js';

const sp = testServicePrincipal();
const catalogFile = writeAzureReplicaCatalog(mkdtempSync(join(tmpdir(), 'gpuflow-azure-conformance-')));
const replica = useReplicaOnBackingCloud((localCloud) => startAzureReplica({ localCloud, ...sp, resourceGroups: [TEST_RESOURCE_GROUP], backing: BACKING }));

runConformanceSuite({
  name: 'azure',
  credential: () =>
    new AzureCredential({
      refId: 'conformance-azure',
      servicePrincipal: sp,
      regions: ['eastus', 'westeurope'],
      resourceGroup: TEST_RESOURCE_GROUP,
      endpoint: replica().url,
      authorityHost: replica().authorityHost,
      caFile: replica().caFile,
      catalogFile,
      testReplica: true,
      instancePollMs: 500,
      pollIntervalMs: 100,
    }),
  location: 'eastus',
  // <region>-<noSub>-<size>: offers are regional.
  stableIds: ['eastus-noSub-Standard_ND96isr_H100_v5', 'eastus-noSub-Standard_NC24ads_A100_v4', 'westeurope-noSub-Standard_NC4as_T4_v3'],
  sshTimeoutMs: 60_000,
  // At the replica: one PUT for the refId, identity tags, the key in osProfile, the HPC image, NIC + IP.
  afterCreate: (instance) => {
    const [rg, name] = instance.cloudId.split('/') as [string, string];
    const vm = replica().admin.vm(rg, name)!;
    assert.equal(vm.tags['gpuflow-ref-id'], instance.refId);
    assert.equal(vm.tags['gpuflow-cloud-cred-ref-id'], 'conformance-azure');
    const os = vm.request.properties as { osProfile: { linuxConfiguration: { disablePasswordAuthentication: boolean; ssh: { publicKeys: { keyData: string }[] } } }; storageProfile: { imageReference: { publisher: string } } };
    assert.match(os.osProfile.linuxConfiguration.ssh.publicKeys[0]!.keyData, /^ssh-/);
    assert.equal(os.osProfile.linuxConfiguration.disablePasswordAuthentication, true);
    assert.equal(os.storageProfile.imageReference.publisher, 'microsoft-dsvm');
    assert.equal(replica().admin.everVms().filter((x) => x.name === name).length, 1, 'one PUT for the refId');
    assert.ok(replica().admin.network('networkInterfaces').some((n) => n.name === `${name}-nic`));
    assert.ok(replica().admin.network('publicIPAddresses').some((n) => n.name === `${name}-ip`));
  },
});
