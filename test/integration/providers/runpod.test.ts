/**
 * Workloads through the RunPod adapter, end to end: a real Temporal dev server, a gpuflow worker
 * (a child process, so its logs can be read), the local cloud, and the RunPod GraphQL replica whose
 * pods are local cloud sshd instances. Covers a whole workload from create to terminate, failover
 * from RunPod out of capacity to the local cloud, a preempted spot pod recovered in another data
 * center, and that the API key appears neither in workflow histories nor in the worker's logs.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, it } from 'node:test';
import { LocalCredential } from '../../../src/providers/local/index.js';
import { startTestEnv, waitFor, type TestEnv } from '../../helpers/environment.js';
import { assertSecretKeptOut, spawnDebugWorker, writeSecretFile } from '../../helpers/providerWorker.js';
import { startRunPodReplica, type RunPodReplicaHandle } from '../../replicas/runpod/server.js';

const apiKey = `rpa_secret_${randomBytes(16).toString('hex')}`;
let env: TestEnv;
let replica: RunPodReplicaHandle | undefined;
let logs: () => string;
const workloads: string[] = [];

before(async () => {
  env = await startTestEnv({
    extraConnections: async ({ dir, cloud }) => {
      replica = await startRunPodReplica({ localCloud: { url: cloud.url, token: cloud.token }, apiKey, backing: { type: 'gpu_1x_l4', location: 'us-east' } });
      const apiKeyFile = writeSecretFile(dir, 'runpod-api-key', apiKey);
      return [{ kind: 'runpod', name: 'runpod', apiKeyFile, baseUrl: replica.url, testReplica: true }];
    },
  });
  ({ logs } = await spawnDebugWorker(env));
});

after(async () => {
  await env?.teardown();
  await replica?.close();
});

it('runs a workload on RunPod from create to terminate', { timeout: 90_000 }, async () => {
  // Only RunPod sells RTX 4090s here (0.69/h in US-TX-3 and EU-RO-1): pinned to the US.
  const wl = await env.client.launch({ name: 'on-runpod', command: 'echo hello-from-runpod', gpu: { classes: ['RTX4090'] }, placement: { countries: ['US'] } });
  workloads.push(wl.workloadId);
  const r = await wl.result();
  assert.equal(r.outcome, 'succeeded');
  assert.equal(r.exitCode, 0);
  assert.equal(r.offer?.connection, 'runpod');
  assert.equal(r.offer?.type, '1x_NVIDIA_GeForce_RTX_4090');
  assert.equal(r.offer?.country, 'USA');
  const cloudId = (await wl.status()).instance?.cloudId;
  assert.ok(cloudId, 'the workload recorded its pod');

  // At the replica: the pod is terminated, deployed as the adapter should deploy it.
  const pod = (await replica!.admin.pods()).find((p) => p.id === cloudId)!;
  assert.equal(pod.desiredStatus, 'TERMINATED');
  const deploy = replica!.admin.deploys().at(-1)!;
  assert.equal(deploy.mutation, 'podFindAndDeployOnDemand');
  assert.equal(deploy.input.gpuTypeId, 'NVIDIA GeForce RTX 4090');
  assert.equal(deploy.input.dataCenterId, 'US-TX-3');
  const podEnv = Object.fromEntries((deploy.input.env as { key: string; value: string }[]).map((e) => [e.key, e.value]));
  assert.match(podEnv.PUBLIC_KEY ?? '', /^ssh-ed25519 /);
  assert.equal(podEnv.GPUFLOW_CLOUD_CRED_REF_ID, 'runpod');
  assert.match(podEnv.GPUFLOW_REF_ID ?? '', new RegExp(`^${wl.workloadId}`));
  assert.match(podEnv.GPUFLOW_TAGS ?? '', new RegExp(wl.workloadId));

  // And the machine behind it (a local cloud sshd) is gone too.
  const local = await new LocalCredential({ refId: 'probe', url: env.cloud.url, token: env.cloud.token }).makeClient('');
  const backingId = replica!.admin.backingId(cloudId)!;
  await waitFor('the backing machine terminated', async () => (await local.getInstance(backingId)).status.lifecycleStatus === 'terminated', 15_000);
});

it('fails over from RunPod out of capacity to the local cloud', { timeout: 90_000 }, async () => {
  // RunPod's L4 (0.43/h) is cheaper than the local cloud's (0.80/h), so it is tried first. The
  // catalog still lists it as in stock (stale, as real catalogs are); deploys fail.
  replica!.admin.setOutOfCapacity([{ gpuTypeId: 'NVIDIA L4' }]);
  try {
    const wl = await env.client.launch({ name: 'runpod-failover', command: 'echo landed', gpu: { classes: ['L4'] } });
    workloads.push(wl.workloadId);
    const r = await wl.result();
    assert.equal(r.outcome, 'succeeded');
    assert.equal(r.attempts[0]!.connection, 'runpod');
    assert.equal(r.attempts[0]!.outcome, 'failed-over');
    assert.match(r.attempts[0]!.reason ?? '', /InsufficientCapacityError/);
    assert.equal(r.offer?.connection, 'local');
    assert.equal((await replica!.admin.pods()).filter((p) => p.desiredStatus !== 'TERMINATED').length, 0, 'no RunPod pod was left behind');
  } finally {
    replica!.admin.clearFaults();
  }
});

it('recovers a preempted RunPod spot pod in another data center, and terminates the interrupted pod', { timeout: 90_000 }, async () => {
  const wl = await env.client.launch({ name: 'runpod-spot', command: 'sleep 6', gpu: { classes: ['RTX4090'] }, spot: 'only' });
  workloads.push(wl.workloadId);
  const st = await waitFor('running on a spot pod', async () => {
    const s = await wl.status();
    return s.state === 'running' ? s : undefined;
  }, 60_000);
  assert.equal(st.offer?.connection, 'runpod');
  assert.equal(st.offer?.spot, true);
  const first = st.instance!.cloudId;
  assert.equal(replica!.admin.deploys().at(-1)!.mutation, 'podRentInterruptable');
  await replica!.admin.interrupt(first);
  const r = await wl.result();
  assert.equal(r.outcome, 'succeeded');
  assert.equal(r.attempts[0]!.outcome, 'interrupted');
  assert.match(r.attempts[0]!.reason ?? '', /preempted/);
  assert.notEqual(r.attempts[1]!.location, r.attempts[0]!.location, 'the preempted data center is blocked');
  assert.equal(r.offer?.connection, 'runpod');
  // An interrupted pod still exists at RunPod (EXITED, disk kept and billed): gpuflow terminated it.
  assert.equal((await replica!.admin.pods()).find((p) => p.id === first)?.desiredStatus, 'TERMINATED');
});

it('keeps the API key out of workflow histories and worker logs', async () => {
  await assertSecretKeptOut(env, { secret: apiKey, workloadIds: workloads, logs, provider: 'runpod' });
  // Every call the replica saw carried the key as a bearer token, never in the URL.
  assert.ok(replica!.admin.requests().every((r) => r.auth === 'bearer'));
});
