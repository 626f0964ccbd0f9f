/**
 * Workloads through the Nebius adapter, end to end: a real Temporal dev server, a gpuflow worker
 * (a child process, so its logs can be read), the local cloud, and the Compute v1 gRPC replica
 * (IAM token checked on every call) whose instances are local cloud sshd machines. Covers a whole
 * workload from InstanceService.Create to Delete, a preemptible instance Nebius preempts
 * (`on_preemption: STOP`) recovered on a new one, and that the IAM token is in no workflow
 * history and no worker log.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, it } from 'node:test';
import { startTestEnv, waitFor, type TestEnv } from '../../helpers/environment.js';
import { spawnDebugWorker, writeSecretFile } from '../../helpers/providerWorker.js';
import { historyText } from '../../helpers/historyText.js';
import { startNebiusReplica, type NebiusReplicaHandle } from '../../replicas/nebius/server.js';

const token = `ne1${randomBytes(32).toString('base64url')}`;
const projects = {
  'eu-north1': { projectId: 'project-e00integrationfi', subnetId: 'vpcsubnet-e00integrationfi' },
  'us-central1': { projectId: 'project-e00integrationus', subnetId: 'vpcsubnet-e00integrationus' },
};
let env: TestEnv;
let replica: NebiusReplicaHandle | undefined;
let logs: () => string;
const workloads: string[] = [];

before(async () => {
  env = await startTestEnv({
    extraConnections: async ({ dir, cloud }) => {
      replica = await startNebiusReplica({
        localCloud: { url: cloud.url, token: cloud.token },
        token,
        backing: { type: 'gpu_1x_l4', location: 'us-east' },
        projects: Object.fromEntries(Object.entries(projects).map(([region, p]) => [p.projectId, { region, subnetId: p.subnetId }])),
      });
      const apiKeyFile = writeSecretFile(dir, 'nebius-token', `${token}\n`);
      return [{ kind: 'nebius', name: 'nebius', projects, endpoint: replica.endpoint, tls: false, apiKeyFile, testReplica: true }];
    },
  });
  ({ logs } = await spawnDebugWorker(env));
});

after(async () => {
  await env?.teardown();
  await replica?.close();
});

/** Instances that still exist (a preempted one is STOPPED until gpuflow deletes it). */
const live = () => replica!.admin.everInstances().filter((i) => replica!.admin.exists(i.metadata.id));

it('runs a workload on Nebius from InstanceService.Create to Delete', { timeout: 60_000 }, async () => {
  // L40S: only Nebius offers it here; the cheapest preset is gpu-l40s-a_1gpu-8vcpu-32gb (1.5484/h) in eu-north1 (Finland).
  const wl = await env.client.launch({ name: 'on-nebius', command: 'echo hello-from-nebius', gpu: { classes: ['L40S'] } });
  workloads.push(wl.workloadId);
  const r = await wl.result();
  assert.equal(r.outcome, 'succeeded');
  assert.equal(r.exitCode, 0);
  assert.equal(r.offer?.connection, 'nebius');
  assert.equal(r.offer?.type, 'gpu-l40s-a_1gpu-8vcpu-32gb');
  assert.equal(r.offer?.location, 'eu-north1');
  assert.equal(r.offer?.country, 'FIN');
  const cloudId = (await wl.status()).instance?.cloudId ?? '';
  const inst = replica!.admin.instance(cloudId)!;
  assert.ok(inst, `the workload recorded its instance ID (${cloudId})`);
  assert.equal(inst.spec.resources.platform, 'gpu-l40s-a');
  assert.equal(inst.spec.resources.preset, '1gpu-8vcpu-32gb');
  assert.equal(inst.spec.preemptible, null);
  assert.equal(inst.metadata.labels['gpuflow-cloud-cred-ref-id'], 'nebius');
  assert.equal(replica!.admin.everInstances().filter((i) => i.metadata.labels['gpuflow-ref-id'] === inst.metadata.labels['gpuflow-ref-id']).length, 1, 'one Create for the refId');
  await waitFor('the instance deleted', async () => !replica!.admin.exists(cloudId), 15_000);
  assert.ok(replica!.admin.calls().some((c) => c.method === 'Operation.Get'), 'the create operation was polled');
});

it('recovers a preemptible instance Nebius preempted (on_preemption STOP) on a new instance', { timeout: 60_000 }, async () => {
  const wl = await env.client.launch({ name: 'nebius-spot', command: 'sleep 4; echo survived', gpu: { classes: ['H200'] }, spot: 'only' });
  workloads.push(wl.workloadId);
  await waitFor('the job running on Nebius', async () => (await wl.status()).state === 'running', 40_000);
  const first = (await wl.status()).instance!;
  const vm = replica!.admin.instance(first.cloudId)!;
  assert.deepEqual(vm.spec.preemptible, { onPreemption: 'STOP', priority: 0 });
  await replica!.admin.preempt(first.cloudId);
  const r = await wl.result();
  assert.equal(r.outcome, 'succeeded');
  assert.equal(r.attempts[0]!.outcome, 'interrupted');
  assert.match(r.attempts[0]!.reason ?? '', /preempt/);
  assert.equal(r.offer?.connection, 'nebius');
  assert.equal(r.offer?.spot, true);
  const second = (await wl.status()).instance!;
  assert.notEqual(second.cloudId, first.cloudId, 'a second instance ran the workload');
  assert.equal(replica!.admin.instance(first.cloudId)!.spec.stopped, false, 'Nebius stopped it, not gpuflow');
  await waitFor('every instance deleted, the preempted one included', async () => live().length === 0, 15_000);
});

it('keeps the IAM token out of workflow histories and worker logs', async () => {
  for (const id of workloads) {
    const history = historyText(await env.client.temporal.workflow.getHandle(id).fetchHistory());
    assert.ok(history.length > 1000);
    assert.ok(!history.includes(token), `the token is in the history of ${id}`);
    assert.ok(!history.includes(token.slice(3, 23)), `part of the token is in the history of ${id}`);
  }
  await waitFor('worker logs', async () => logs().includes('nebius api call'), 10_000);
  const out = logs();
  assert.ok(out.includes('"what":"nebius InstanceService.Create"'), 'the adapter logged its calls (debug) through the worker');
  assert.ok(!out.includes(token.slice(3, 23)), 'the token is not in the worker logs');
});
