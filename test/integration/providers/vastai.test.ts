/**
 * Workloads through the Vast.ai adapter, end to end: a real Temporal dev server, a gpuflow worker
 * (a child process, so its logs can be read), the local cloud, and the Vast.ai replica (its
 * documented rate limits on) whose instances are local cloud sshd instances. Covers a whole
 * workload from accepting an ask to destroying the instance, failover from Vast out of capacity to
 * the local cloud, recovery of an outbid (preempted) spot workload, and that the API key appears
 * neither in workflow histories nor in worker logs.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, it } from 'node:test';
import { LocalCredential } from '../../../src/providers/local/index.js';
import { startTestEnv, waitFor, type TestEnv } from '../../helpers/environment.js';
import { assertSecretKeptOut, spawnDebugWorker, writeSecretFile } from '../../helpers/providerWorker.js';
import { startVastaiReplica, VASTAI_DOCUMENTED_RATE_LIMITS, type VastaiReplicaHandle } from '../../replicas/vastai/server.js';

const apiKey = randomBytes(32).toString('hex');
let env: TestEnv;
let replica: VastaiReplicaHandle | undefined;
let logs: () => string;
const workloads: string[] = [];

before(async () => {
  env = await startTestEnv({
    extraConnections: async ({ dir, cloud }) => {
      // Vast's documented limits stay on; the create interval is cut from 4.5 s to 1 s so the
      // failover test's second ask and the recovery's new bid need not wait out the one before.
      replica = await startVastaiReplica({
        localCloud: { url: cloud.url, token: cloud.token },
        apiKey,
        backing: { type: 'gpu_1x_l4', location: 'us-east' },
        rateLimits: { ...VASTAI_DOCUMENTED_RATE_LIMITS, 'PUT /api/v0/asks/:id': 1_000 },
      });
      const apiKeyFile = writeSecretFile(dir, 'vastai-api-key', apiKey);
      return [{ kind: 'vastai', name: 'vastai', apiKeyFile, baseUrl: replica.url, testReplica: true }];
    },
  });
  ({ logs } = await spawnDebugWorker(env));
});

after(async () => {
  await env?.teardown();
  await replica?.close();
});

it('runs a workload on Vast.ai from accepting an ask to destroying the instance', { timeout: 90_000 }, async () => {
  const machineAsk = replica!.admin.askOf(10411); // the cheapest RTX 4090 (Texas, 0.35/h)
  const wl = await env.client.launch({ name: 'on-vastai', command: 'echo hello-from-vastai; nvidia-smi -L', gpu: { classes: ['RTX4090'] } });
  workloads.push(wl.workloadId);
  const r = await wl.result();
  assert.equal(r.outcome, 'succeeded');
  assert.equal(r.exitCode, 0);
  assert.equal(r.offer?.connection, 'vastai');
  assert.equal(r.offer?.type, '1x-RTX_4090-24G');
  assert.equal(r.offer?.country, 'USA');
  const cloudId = (await wl.status()).instance?.cloudId;
  assert.ok(cloudId, 'the workload recorded its Vast instance');

  // At the replica: the cheapest ask was accepted as the adapter should, and the instance is destroyed.
  const create = replica!.admin.creates().at(-1)!;
  assert.equal(create.ask_id, machineAsk);
  assert.equal(create.runtype, 'ssh_direct');
  assert.equal(create.price, undefined, 'on demand: no bid');
  const label = new URLSearchParams(create.label as string);
  assert.equal(label.get('gpuflow-cloud-cred-ref-id'), 'vastai');
  assert.equal(label.get('gpuflow-workload'), wl.workloadId);
  assert.ok(label.get('gpuflow-ref-id'));
  const workerKey = readFileSync(`${env.sshKeyFile}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  assert.ok(replica!.admin.instanceKeys(cloudId).some((k) => k.startsWith(workerKey)), 'the worker key is attached to the instance');
  assert.ok(replica!.admin.accountKeys().some((k) => k.key.startsWith(workerKey)), 'and registered on the account before the create');
  const seen = (await replica!.admin.instances()).find((i) => String(i.id) === cloudId);
  assert.equal(seen?.destroyed, true);
  const relisted = replica!.admin.askOf(10411);
  assert.ok(relisted !== undefined && relisted !== machineAsk, 'the machine is listed again under a new ask ID');

  // And the machine behind it (a local cloud sshd) is gone too.
  const local = await new LocalCredential({ refId: 'probe', url: env.cloud.url, token: env.cloud.token }).makeClient('');
  await waitFor('the backing instance terminated', async () => (await local.getInstance(replica!.admin.backingId(cloudId)!)).status.lifecycleStatus === 'terminated', 15_000);
});

it('fails over from Vast.ai out of capacity to the local cloud', { timeout: 90_000 }, async () => {
  // The search still lists H100 SXM asks (stale, as a marketplace is); accepting them fails with no_such_ask.
  replica!.admin.setOutOfCapacity([{ gpuName: 'H100 SXM' }]);
  try {
    const wl = await env.client.launch({ name: 'vastai-failover', command: 'echo landed', gpu: { classes: ['H100'] } });
    workloads.push(wl.workloadId);
    const r = await wl.result();
    assert.equal(r.outcome, 'succeeded');
    assert.equal(r.attempts[0]!.connection, 'vastai', 'Vast (1.87/h) is cheaper than the local H100 (2.49/h), so it is tried first');
    assert.equal(r.attempts[0]!.outcome, 'failed-over');
    assert.match(r.attempts[0]!.reason ?? '', /InsufficientCapacityError/);
    assert.equal(r.offer?.connection, 'local');
    assert.equal((await replica!.admin.instances()).filter((i) => !i.destroyed).length, 0, 'no Vast instance was left behind');
  } finally {
    replica!.admin.clearFaults();
  }
});

it('recovers a spot workload whose Vast instance was outbid (stopped + preempted) on another machine', { timeout: 90_000 }, async () => {
  const wl = await env.client.launch({ name: 'vastai-outbid', command: 'sleep 3; echo survived', gpu: { classes: ['RTX4090'] }, spot: 'only' });
  workloads.push(wl.workloadId);
  await waitFor('the job running on Vast', async () => (await wl.status()).state === 'running', 60_000);
  const first = (await wl.status()).instance!;
  // The cheapest bid the (possibly cached) catalog shows: Texas 0.18, or Germany 0.20 while the first test held Texas.
  const bid = replica!.admin.creates().at(-1)!.price;
  assert.ok(bid === 0.18 || bid === 0.2, `a bid at a cheapest min_bid, got ${String(bid)}`);
  const seen = (await replica!.admin.instances()).find((i) => String(i.id) === first.cloudId)!;
  assert.equal(seen.is_bid, true);
  replica!.admin.outbid(first.cloudId);
  try {
    const r = await wl.result();
    assert.equal(r.outcome, 'succeeded');
    assert.equal(r.attempts[0]!.outcome, 'interrupted');
    assert.match(r.attempts[0]!.reason ?? '', /preempted.*outbid/);
    assert.equal(r.offer?.connection, 'vastai');
    assert.equal(r.offer?.spot, true);
    assert.notEqual(r.offer?.location, r.attempts[0]!.location, 'the outbid region is blocked: the next bid is elsewhere');
    assert.equal((await replica!.admin.instances()).filter((i) => !i.destroyed).length, 0, 'the paused instance was destroyed too');
  } finally {
    replica!.admin.endOutbid(first.cloudId);
  }
});

it('keeps the API key out of workflow histories and worker logs', async () => {
  await assertSecretKeptOut(env, { secret: apiKey, workloadIds: workloads, logs, provider: 'vastai' });
});
