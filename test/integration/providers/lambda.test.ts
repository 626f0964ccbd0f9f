/**
 * Workloads through the Lambda adapter, end to end: a real Temporal dev server, a gpuflow worker
 * (a child process, so its logs can be read), the local cloud, and the Lambda replica whose
 * instances are local cloud sshd instances. Covers a whole workload from create to terminate,
 * failover from Lambda out of capacity to the local cloud, and that the API key appears neither in
 * workflow histories nor in the worker's logs.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, it } from 'node:test';
import { LocalCredential } from '../../../src/providers/local/index.js';
import { startTestEnv, type TestEnv } from '../../helpers/environment.js';
import { assertSecretKeptOut, spawnDebugWorker, writeSecretFile } from '../../helpers/providerWorker.js';
import { startLambdaReplica, type LambdaReplicaHandle } from '../../replicas/lambda/server.js';

const apiKey = `lambda_secret_${randomBytes(16).toString('hex')}`;
let env: TestEnv;
let replica: LambdaReplicaHandle | undefined;
let logs: () => string;
const workloads: string[] = [];

before(async () => {
  env = await startTestEnv({
    extraConnections: async ({ dir, cloud }) => {
      // Lambda's documented general limit (1 request/s) stays on; the launch interval is cut from
      // 12 s to 2 s so the failover test need not wait out the first test's launch.
      replica = await startLambdaReplica({
        localCloud: { url: cloud.url, token: cloud.token },
        apiKey,
        backing: { type: 'gpu_1x_l4', location: 'us-east' },
        rateLimits: { launchIntervalMs: 2_000 },
      });
      const apiKeyFile = writeSecretFile(dir, 'lambda-api-key', apiKey);
      return [{ kind: 'lambda', name: 'lambda', apiKeyFile, baseUrl: replica.url, testReplica: true }];
    },
  });
  ({ logs } = await spawnDebugWorker(env));
});

after(async () => {
  await env?.teardown();
  await replica?.close();
});

it('runs a workload on Lambda from create to terminate', { timeout: 90_000 }, async () => {
  const wl = await env.client.launch({ name: 'on-lambda', command: 'echo hello-from-lambda; nvidia-smi -L', gpu: { classes: ['A10'] } });
  workloads.push(wl.workloadId);
  const r = await wl.result();
  assert.equal(r.outcome, 'succeeded');
  assert.equal(r.exitCode, 0);
  assert.equal(r.offer?.connection, 'lambda');
  assert.equal(r.offer?.type, 'gpu_1x_a10');
  const cloudId = (await wl.status()).instance?.cloudId;
  assert.ok(cloudId, 'the workload recorded its Lambda instance');

  // At the replica: the instance is terminated, launched as the adapter should launch it.
  const seen = (await replica!.admin.instances()).find((i) => i.id === cloudId);
  assert.equal(seen?.status, 'terminated');
  const launch = replica!.admin.launches().at(-1)!;
  assert.equal((launch.ssh_key_names as string[]).length, 1);
  const tags = Object.fromEntries((launch.tags as { key: string; value: string }[]).map((t) => [t.key, t.value]));
  assert.equal(tags['gpuflow-cloud-cred-ref-id'], 'lambda');
  assert.equal(tags['gpuflow-workload'], wl.workloadId);
  assert.equal((launch.ssh_key_names as string[])[0], tags['gpuflow-ref-id'], 'the SSH key is named after the refId');
  assert.ok(!replica!.admin.sshKeys().some((k) => k.name === tags['gpuflow-ref-id']), 'the per-instance SSH key was removed after terminate');

  // And the machine behind it (a local cloud sshd) is gone too.
  const local = await new LocalCredential({ refId: 'probe', url: env.cloud.url, token: env.cloud.token }).makeClient('');
  const backing = await local.getInstance(replica!.admin.backingId(cloudId)!);
  assert.equal(backing.status.lifecycleStatus, 'terminated');
});

it('fails over from Lambda out of capacity to the local cloud', { timeout: 90_000 }, async () => {
  // The catalog still lists H100 PCIe as available (stale, as real catalogs are); launches fail.
  replica!.admin.setOutOfCapacity([{ type: 'gpu_1x_h100_pcie' }]);
  try {
    const wl = await env.client.launch({
      name: 'lambda-failover',
      command: 'echo landed',
      gpu: { classes: ['H100'] },
      // Lambda's H100 PCIe and the local H100 both cost 2.49/h: prefer Lambda so it is tried first.
      placement: { providers: { prefer: ['lambda'] } },
    });
    workloads.push(wl.workloadId);
    const r = await wl.result();
    assert.equal(r.outcome, 'succeeded');
    assert.equal(r.attempts[0]!.connection, 'lambda');
    assert.equal(r.attempts[0]!.outcome, 'failed-over');
    assert.match(r.attempts[0]!.reason ?? '', /InsufficientCapacityError/);
    assert.equal(r.offer?.connection, 'local');
    assert.equal((await replica!.admin.instances()).filter((i) => i.status !== 'terminated').length, 0, 'no Lambda instance was left behind');
  } finally {
    replica!.admin.clearFaults();
  }
});

it('keeps the API key out of workflow histories and worker logs', async () => {
  const workerLogs = await assertSecretKeptOut(env, { secret: apiKey, workloadIds: workloads, logs, provider: 'lambda' });
  assert.ok(!workerLogs.includes(Buffer.from(`${apiKey}:`).toString('base64')), 'the Basic-encoded key is in the worker logs');
});
