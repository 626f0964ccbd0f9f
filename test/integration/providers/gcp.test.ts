/**
 * Workloads through the Google Compute Engine adapter, end to end: a real Temporal dev server, a
 * gpuflow worker (a child process, so its logs can be read), the local cloud, and the Compute v1
 * replica (self-signed service-account JWTs verified, rate limit on) whose VMs are local cloud
 * sshd instances, reached by the unmodified @google-cloud/compute. Covers a whole workload from
 * instances.insert to deletion, a Spot VM Compute preempts (a `compute.instances.preempted`
 * operation, then deletion) recovered in another zone, and that the service account's private key
 * is in no workflow history and no worker log.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { LocalCredential } from '../../../src/providers/local/index.js';
import { startTestEnv, waitFor, type TestEnv } from '../../helpers/environment.js';
import { spawnDebugWorker, writeSecretFile } from '../../helpers/providerWorker.js';
import { historyText } from '../../helpers/historyText.js';
import { GCP_REPLICA_MACHINE_TYPES, GCP_REPLICA_REGIONS, writeGcpReplicaCatalog } from '../../replicas/gcp/catalog.js';
import { startGcpReplica, type GcpReplicaHandle } from '../../replicas/gcp/server.js';
import { testServiceAccount } from '../../replicas/gcp/serviceAccount.js';

const sa = testServiceAccount();
// Only the L4 and A100 types: the G2 L4 (0.15 + 0.56 = 0.71/h) under the local cloud's L4 (0.80/h), so GCP is tried first.
const types = GCP_REPLICA_MACHINE_TYPES.filter((t) => t.name === 'g2-standard-4' || t.name === 'a2-highgpu-1g');
const regions = GCP_REPLICA_REGIONS;
let env: TestEnv;
let replica: GcpReplicaHandle | undefined;
let logs: () => string;
const workloads: string[] = [];

before(async () => {
  env = await startTestEnv({
    extraConnections: async ({ dir, cloud }) => {
      replica = await startGcpReplica({
        localCloud: { url: cloud.url, token: cloud.token },
        project: sa.key.project_id,
        serviceAccount: { email: sa.key.client_email, keyId: sa.key.private_key_id, publicKey: sa.publicKey },
        backing: { type: 'gpu_1x_l4', location: 'us-east' },
        regions,
        machineTypes: types,
        preemptionGraceMs: 1_000,
      });
      const apiKeyFile = writeSecretFile(dir, 'gcp-key.json', JSON.stringify(sa.key, null, 2));
      const catalogFile = writeGcpReplicaCatalog(dir, regions, types);
      return [{ kind: 'gcp', name: 'gcp', regions: regions.map((r) => r.name), endpoint: replica.url, catalogFile, apiKeyFile, testReplica: true }];
    },
  });
  ({ logs } = await spawnDebugWorker(env));
});

after(async () => {
  await env?.teardown();
  await replica?.close();
});

/** VMs not yet stopped or deleted. */
const live = () => replica!.admin.instances().filter((i) => i.status !== 'TERMINATED' && i.status !== 'STOPPING');

it('runs a workload on Compute Engine from instances.insert to deletion', { timeout: 60_000 }, async () => {
  const wl = await env.client.launch({ name: 'on-gcp', command: 'echo hello-from-gce; nvidia-smi -L', gpu: { classes: ['L4'] } });
  workloads.push(wl.workloadId);
  const r = await wl.result();
  assert.equal(r.outcome, 'succeeded');
  assert.equal(r.exitCode, 0);
  assert.equal(r.offer?.connection, 'gcp');
  assert.equal(r.offer?.type, 'g2-standard-4');
  // Both regions price the G2 alike; the country is the region's (regions.ts).
  assert.equal(r.offer?.country, { 'us-central1': 'USA', 'europe-west4': 'NLD' }[r.offer?.location ?? '']);
  const cloudId = (await wl.status()).instance?.cloudId ?? '';
  const [zone, name] = cloudId.split('/') as [string, string];
  const inst = replica!.admin.instance(zone, name)!;
  assert.ok(inst, `the workload recorded its VM as <zone>/<name> (${cloudId})`);
  assert.equal(inst.scheduling.provisioningModel, 'STANDARD');
  assert.equal(inst.labels['gpuflow-cloud-cred-ref-id'], 'gcp');
  assert.equal(JSON.parse(inst.metadata.find((m) => m.key === 'gpuflow-tags')!.value)['gpuflow-workload'], wl.workloadId);
  assert.equal(replica!.admin.instances().some((i) => i.name === name), false, 'the VM was deleted');
  const insert = replica!.requests.find((q) => q.method2 === 'instances.insert')!;
  assert.match(insert.path, /requestId=[0-9a-f-]{36}/, 'the insert carried a requestId');
  assert.ok(replica!.requests.every((q) => q.auth === 'bearer'), 'every call carried a bearer token');
  const local = await new LocalCredential({ refId: 'probe', url: env.cloud.url, token: env.cloud.token }).makeClient('');
  await waitFor('the backing machine terminated', async () => (await local.getInstance(replica!.admin.backingId(zone, name)!)).status.lifecycleStatus === 'terminated', 15_000);
});

it('recovers a Spot VM Compute preempted (compute.instances.preempted, then deleted) in another zone', { timeout: 60_000 }, async () => {
  const wl = await env.client.launch({ name: 'gcp-spot', command: 'sleep 4; echo survived', gpu: { classes: ['L4'] }, spot: 'only' });
  workloads.push(wl.workloadId);
  await waitFor('the job running on GCE', async () => (await wl.status()).state === 'running', 40_000);
  const first = (await wl.status()).instance!;
  const [zone, name] = first.cloudId.split('/') as [string, string];
  const vm = replica!.admin.instance(zone, name)!;
  assert.equal(vm.scheduling.provisioningModel, 'SPOT');
  assert.equal(vm.scheduling.instanceTerminationAction, 'DELETE');
  await replica!.admin.preempt(zone, name);
  assert.ok(replica!.admin.operations().some((o) => o.operationType === 'compute.instances.preempted' && o.targetLink.endsWith(`/${name}`)));
  const r = await wl.result();
  assert.equal(r.outcome, 'succeeded');
  assert.equal(r.attempts[0]!.outcome, 'interrupted');
  assert.match(r.attempts[0]!.reason ?? '', /preempted/);
  assert.equal(r.offer?.connection, 'gcp');
  assert.equal(r.offer?.spot, true);
  const second = replica!.admin.everInstances().find((i) => i.name !== name && i.spot && JSON.parse(i.metadata.find((m) => m.key === 'gpuflow-tags')!.value)['gpuflow-workload'] === wl.workloadId);
  assert.ok(second, 'a second Spot VM ran the workload');
  assert.notEqual(second.zone, zone, 'recovered in another zone');
  assert.equal(live().length, 0, 'every VM of the workload is gone');
});

it('keeps the service-account private key out of workflow histories and worker logs', async () => {
  // Every line of the PEM body, and the key as JSON would escape it.
  const pemLines = sa.key.private_key.split('\n').filter((l) => l && !l.startsWith('-----'));
  assert.ok(pemLines.length > 10);
  for (const id of workloads) {
    const history = historyText(await env.client.temporal.workflow.getHandle(id).fetchHistory());
    assert.ok(history.length > 1000);
    for (const l of pemLines) assert.ok(!history.includes(l), `a line of the private key is in the history of ${id}`);
  }
  await waitFor('worker logs', async () => logs().includes('gcp api request'), 10_000);
  const out = logs();
  assert.ok(out.includes('"name":"gcp"'), 'the adapter logged (debug) through the worker');
  for (const l of pemLines) assert.ok(!out.includes(l), 'a line of the private key is in the worker logs');
  assert.ok(!out.includes(sa.key.private_key_id), 'the key ID is not logged either');
  assert.ok(out.includes('"method":"instances.insert"'), 'Compute calls are logged by method');
});
