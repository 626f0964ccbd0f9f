/**
 * Workloads through the FluidStack adapter, end to end: a real Temporal dev server, a gpuflow
 * worker (a child process, so its logs can be read), the local cloud, and a FluidStack replica
 * region whose instances are local cloud sshd instances. Covers a whole workload from create to
 * terminate, a spot workload on a preemptible instance, failover from FluidStack out of stock to the local cloud, and that the API token
 * appears neither in workflow histories nor in the worker's logs.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, it } from 'node:test';
import { toDecimalString } from '../../../src/money/money.js';
import { LocalCredential } from '../../../src/providers/local/index.js';
import { startTestEnv, waitFor, type TestEnv } from '../../helpers/environment.js';
import { assertSecretKeptOut, spawnDebugWorker, writeSecretFile } from '../../helpers/providerWorker.js';
import { FLUIDSTACK_TEST_PRICES } from '../../replicas/fluidstack/catalog.js';
import { authorizedKeyFromUserData, startFluidstackReplica, type FluidstackReplicaHandle } from '../../replicas/fluidstack/server.js';

const apiToken = `fs_secret_${randomBytes(16).toString('hex')}`;
let env: TestEnv;
let replica: FluidstackReplicaHandle | undefined;
let logs: () => string;
const workloads: string[] = [];

before(async () => {
  env = await startTestEnv({
    extraConnections: async ({ dir, cloud }) => {
      replica = await startFluidstackReplica({ localCloud: { url: cloud.url, token: cloud.token }, apiToken, region: 'finland-1', backing: { type: 'gpu_1x_l4', location: 'us-east' } });
      const apiKeyFile = writeSecretFile(dir, 'fluidstack-token', apiToken);
      return [
        {
          kind: 'fluidstack',
          name: 'fluidstack',
          apiKeyFile,
          regions: [{ name: 'finland-1', projectId: replica.projectId, country: 'FIN', url: replica.url }],
          prices: structuredClone(FLUIDSTACK_TEST_PRICES),
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

it('runs a workload on FluidStack from create to terminate', { timeout: 90_000 }, async () => {
  const wl = await env.client.launch({ name: 'on-fluidstack', command: 'echo hello-from-fluidstack; nvidia-smi -L', gpu: { classes: ['L40S'] } });
  workloads.push(wl.workloadId);
  const r = await wl.result();
  assert.equal(r.outcome, 'succeeded');
  assert.equal(r.exitCode, 0);
  assert.equal(r.offer?.connection, 'fluidstack');
  assert.equal(r.offer?.type, 'l40s-pcie-48gb.1x');
  assert.equal(r.offer?.location, 'finland-1');
  assert.equal(r.offer?.country, 'FIN');
  const cloudId = (await wl.status()).instance?.cloudId;
  assert.ok(cloudId, 'the workload recorded its FluidStack instance');

  // At the replica: deleted (FluidStack deletes asynchronously), created as the adapter should create it.
  await waitFor('the instance deleted at the replica', async () => (await replica!.admin.instance(cloudId)) === 'deleted', 15_000);
  const { projectId, body } = replica!.admin.creates().at(-1)!;
  assert.equal(projectId, replica!.projectId);
  assert.equal(body.type, 'l40s-pcie-48gb.1x');
  assert.equal(body.preemptible, false);
  assert.ok(authorizedKeyFromUserData(body.userData as string)?.startsWith('ssh-ed25519 '), 'the worker’s key went in through cloud-init');
  const tags = body.tags as Record<string, string>;
  assert.equal(tags['gpuflow-cloud-cred-ref-id'], 'fluidstack');
  assert.equal(tags['gpuflow-workload'], wl.workloadId);
  assert.equal(tags['gpuflow-ref-id'], `${wl.workloadId}-1`);

  // And the machine behind it (a local cloud sshd) is gone too.
  const local = await new LocalCredential({ refId: 'probe', url: env.cloud.url, token: env.cloud.token }).makeClient('');
  const backing = (await local.listInstances({})).find((i) => i.tags.replica === 'fluidstack-finland-1');
  assert.equal(backing?.status.lifecycleStatus, 'terminated');
});

it('runs a spot workload on a preemptible FluidStack instance at the preemptible price', { timeout: 90_000 }, async () => {
  const wl = await env.client.launch({ name: 'fluidstack-spot', command: 'echo spot', gpu: { classes: ['L40S'] }, spot: 'only' });
  workloads.push(wl.workloadId);
  const r = await wl.result();
  assert.equal(r.outcome, 'succeeded');
  assert.equal(r.offer?.connection, 'fluidstack');
  assert.equal(r.offer?.spot, true);
  assert.equal(toDecimalString(r.offer!.pricePerHour), '0.55');
  const { body } = replica!.admin.creates().at(-1)!;
  assert.equal(body.preemptible, true);
});

it('fails over from FluidStack out of stock to the local cloud', { timeout: 90_000 }, async () => {
  // /capacity still reports the 1x H100 (stale, as real catalogs are); creates come back out-of-stock.
  replica!.admin.setOutOfStock([{ type: 'h100-sxm5-80gb.1x' }]);
  try {
    const wl = await env.client.launch({
      name: 'fluidstack-failover',
      command: 'echo landed',
      gpu: { classes: ['H100'] },
      // FluidStack's 1x H100 and the local H100 both cost 2.49/h: prefer FluidStack so it is tried first.
      placement: { providers: { prefer: ['fluidstack'] } },
    });
    workloads.push(wl.workloadId);
    const r = await wl.result();
    assert.equal(r.outcome, 'succeeded');
    assert.equal(r.attempts[0]!.connection, 'fluidstack');
    assert.equal(r.attempts[0]!.outcome, 'failed-over');
    assert.match(r.attempts[0]!.reason ?? '', /InsufficientCapacityError.*out of stock in finland-1/);
    assert.equal(r.offer?.connection, 'local');
    assert.equal((await replica!.admin.instances()).length, 0, 'no FluidStack instance was left behind');
  } finally {
    replica!.admin.clearFaults();
  }
});

it('keeps the API token out of workflow histories and worker logs', async () => {
  await assertSecretKeptOut(env, { secret: apiToken, workloadIds: workloads, logs, provider: 'fluidstack', what: 'API token' });
});
