/**
 * Workloads through the Azure VMs adapter, end to end: a real Temporal dev server, a gpuflow worker
 * (a child process, so its logs can be read), the local cloud, and the ARM + Entra ID replica over
 * TLS (client secret checked, bearer tokens required) whose VMs are local cloud sshd instances,
 * reached by the unmodified @azure/arm-compute, @azure/arm-network and @azure/identity. Covers a
 * whole workload from the VM's PUT to its deletion (NIC and public IP with it), a Spot VM Azure
 * evicts (deallocating, then deleted: evictionPolicy Delete) recovered on a new Spot VM, and that
 * the client secret is in no workflow history and no worker log.
 *
 * Only Azure offers a T4 here (the local cloud has none), so the T4 workloads go to Azure.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { LocalCredential } from '../../../src/providers/local/index.js';
import { startTestEnv, waitFor, type TestEnv } from '../../helpers/environment.js';
import { assertSecretKeptOut, spawnDebugWorker, writeSecretFile } from '../../helpers/providerWorker.js';
import { writeAzureReplicaCatalog } from '../../replicas/azure/catalog.js';
import { startAzureReplica, type AzureReplicaHandle } from '../../replicas/azure/server.js';
import { TEST_RESOURCE_GROUP, testServicePrincipal } from '../../replicas/azure/servicePrincipal.js';

const sp = testServicePrincipal();
let env: TestEnv;
let replica: AzureReplicaHandle | undefined;
let logs: () => string;
const workloads: string[] = [];

before(async () => {
  env = await startTestEnv({
    extraConnections: async ({ dir, cloud }) => {
      replica = await startAzureReplica({ localCloud: { url: cloud.url, token: cloud.token }, ...sp, resourceGroups: [TEST_RESOURCE_GROUP], backing: { type: 'gpu_1x_l4', location: 'us-east' }, evictionGraceMs: 1_000 });
      const apiKeyFile = writeSecretFile(dir, 'azure-sp.json', JSON.stringify(sp, null, 2));
      const catalogFile = writeAzureReplicaCatalog(dir);
      return [
        {
          kind: 'azure',
          name: 'azure',
          regions: ['eastus', 'westeurope'],
          resourceGroup: TEST_RESOURCE_GROUP,
          endpoint: replica.url,
          authorityHost: replica.authorityHost,
          caFile: replica.caFile,
          catalogFile,
          apiKeyFile,
          pollIntervalMs: 200,
          instancePollMs: 1_000,
          testReplica: true,
        },
      ];
    },
  });
  ({ logs } = await spawnDebugWorker(env));
});

after(async () => {
  await env?.teardown();
  await replica?.close();
});

const workloadTag = (v: { tags: Record<string, string> }) => v.tags['gpuflow-workload'];

it('runs a workload on an Azure VM from its PUT to its deletion (NIC and public IP with it)', { timeout: 60_000 }, async () => {
  const wl = await env.client.launch({ name: 'on-azure', command: 'echo hello-from-azure; nvidia-smi -L', gpu: { classes: ['T4'] } });
  workloads.push(wl.workloadId);
  const r = await wl.result();
  assert.equal(r.outcome, 'succeeded', JSON.stringify(r.attempts));
  assert.equal(r.exitCode, 0);
  assert.equal(r.offer?.connection, 'azure');
  assert.equal(r.offer?.type, 'Standard_NC4as_T4_v3');
  assert.equal(r.offer?.location, 'eastus', 'the cheaper region');
  assert.equal(r.offer?.country, 'USA');
  const cloudId = (await wl.status()).instance?.cloudId ?? '';
  const [rg, name] = cloudId.split('/') as [string, string];
  const vm = replica!.admin.vm(rg, name)!;
  assert.ok(vm, `the workload recorded its VM as <resourceGroup>/<name> (${cloudId})`);
  assert.equal(vm.request.properties && (vm.request.properties as { priority?: string }).priority, 'Regular');
  assert.equal(vm.tags['gpuflow-cloud-cred-ref-id'], 'azure');
  assert.equal(workloadTag(vm), wl.workloadId);
  assert.equal(replica!.admin.vms().some((v) => v.name === name), false, 'the VM was deleted');
  await waitFor('its NIC and public IP deleted with it', async () => !replica!.admin.network('networkInterfaces').some((n) => n.name === `${name}-nic`) && !replica!.admin.network('publicIPAddresses').some((n) => n.name === `${name}-ip`), 10_000);
  assert.ok(replica!.requests.filter((q) => q.path.startsWith('/subscriptions/')).every((q) => q.auth === 'bearer'), 'every ARM call carried a bearer token');
  assert.ok(replica!.requests.some((q) => /\/operations\//.test(q.path)), 'the PUT was followed through Azure-AsyncOperation');
  const local = await new LocalCredential({ refId: 'probe', url: env.cloud.url, token: env.cloud.token }).makeClient('');
  await waitFor('the backing machine terminated', async () => (await local.getInstance(vm.backingId)).status.lifecycleStatus === 'terminated', 15_000);
});

it('recovers a Spot VM Azure evicted (deallocating, then deleted) on a new Spot VM', { timeout: 60_000 }, async (t) => {
  const wl = await env.client.launch({ name: 'azure-spot', command: 'sleep 4; echo survived', gpu: { classes: ['T4'] }, spot: 'only' });
  workloads.push(wl.workloadId);
  await waitFor('the job running on Azure', async () => (await wl.status()).state === 'running', 40_000);
  const first = (await wl.status()).instance!;
  const [rg, name] = first.cloudId.split('/') as [string, string];
  const vm = replica!.admin.vm(rg, name)!;
  const p = vm.request.properties as { priority?: string; evictionPolicy?: string; billingProfile?: { maxPrice?: number } };
  assert.deepEqual([p.priority, p.evictionPolicy, p.billingProfile?.maxPrice], ['Spot', 'Delete', -1]);
  await replica!.admin.evict(rg, name);
  const r = await wl.result();
  assert.equal(r.outcome, 'succeeded', JSON.stringify(r.attempts));
  assert.equal(r.attempts[0]!.outcome, 'interrupted');
  assert.match(r.attempts[0]!.reason ?? '', /preempt/i);
  assert.equal(r.offer?.connection, 'azure');
  assert.equal(r.offer?.spot, true);
  const second = replica!.admin.everVms().find((v) => v.name !== name && v.spot && workloadTag(v) === wl.workloadId);
  assert.ok(second, 'a second Spot VM ran the workload');
  t.diagnostic(`evicted in ${vm.location}, recovered in ${second.location}; attempt 1: ${r.attempts[0]!.reason}`);
  assert.equal(replica!.admin.vms().filter((v) => workloadTag(v) === wl.workloadId).length, 0, 'every VM of the workload is gone');
});

it('keeps the client secret out of workflow histories and worker logs', async () => {
  const out = await assertSecretKeptOut(env, { secret: sp.clientSecret, workloadIds: workloads, logs, provider: 'azure', what: 'client secret' });
  assert.ok(out.includes('"method":"virtualMachines.createOrUpdate"'), 'ARM calls are logged by method');
  assert.ok(replica!.admin.tokenRequests().every((t) => t.ok), 'the worker authenticated with the right secret');
});
