/**
 * Workloads through the AWS EC2 adapter, end to end: a real Temporal dev server, a gpuflow worker
 * (a child process, so its logs can be read), the local cloud, and the EC2 replica (SigV4 verified,
 * EC2's throttling buckets on) whose instances are local cloud sshd instances, reached by the
 * unmodified @aws-sdk/client-ec2. Covers a whole workload from RunInstances to termination,
 * failover from AWS out of capacity (zone by zone) to the local cloud, a spot instance AWS takes
 * back (notice, then `Server.SpotInstanceTermination`) recovered elsewhere, and that the secret
 * access key is in no workflow history and no worker log.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { LocalCredential } from '../../../src/providers/local/index.js';
import { startTestEnv, waitFor, type TestEnv } from '../../helpers/environment.js';
import { assertSecretKeptOut, spawnDebugWorker, writeSecretFile } from '../../helpers/providerWorker.js';
import { AWS_REPLICA_REGIONS, AWS_REPLICA_TYPES, replicaCatalogCsv } from '../../replicas/aws/catalog.js';
import { startAwsReplica, type AwsReplicaHandle } from '../../replicas/aws/server.js';

const keys = { accessKeyId: `AKIA${randomBytes(8).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(30).toString('base64') };
// g6.xlarge (L4) a little under the local cloud's L4 (0.80/h), so AWS is tried first for L4.
const types = AWS_REPLICA_TYPES.map((t) => (t.type === 'g6.xlarge' ? { ...t, price: '0.70' } : t));
const regions = AWS_REPLICA_REGIONS.filter((r) => r.name !== 'eu-central-1');
let env: TestEnv;
let replica: AwsReplicaHandle | undefined;
let logs: () => string;
const workloads: string[] = [];

before(async () => {
  env = await startTestEnv({
    extraConnections: async ({ dir, cloud }) => {
      replica = await startAwsReplica({ localCloud: { url: cloud.url, token: cloud.token }, ...keys, backing: { type: 'gpu_1x_l4', location: 'us-east' }, regions, types, spotNoticeMs: 1_000 });
      const apiKeyFile = writeSecretFile(dir, 'aws-keys.json', JSON.stringify(keys));
      const catalogFile = join(dir, 'aws-vms.csv');
      writeFileSync(catalogFile, replicaCatalogCsv(regions, types));
      return [{ kind: 'aws', name: 'aws', regions: regions.map((r) => r.name), endpoint: replica.url, catalogFile, apiKeyFile, testReplica: true }];
    },
  });
  ({ logs } = await spawnDebugWorker(env));
});

after(async () => {
  await env?.teardown();
  await replica?.close();
});

/** Instances not yet terminated or shutting down (EC2 stops billing at shutting-down). */
const live = () => replica!.admin.instances().filter((i) => i.state !== 'terminated' && i.state !== 'shutting-down');

it('runs a workload on EC2 from RunInstances to termination', { timeout: 90_000 }, async () => {
  const wl = await env.client.launch({ name: 'on-aws', command: 'echo hello-from-ec2; nvidia-smi -L', gpu: { classes: ['A10G'] } });
  workloads.push(wl.workloadId);
  const r = await wl.result();
  assert.equal(r.outcome, 'succeeded');
  assert.equal(r.exitCode, 0);
  assert.equal(r.offer?.connection, 'aws');
  assert.equal(r.offer?.type, 'g5.xlarge');
  assert.equal(r.offer?.country, 'USA');
  const cloudId = (await wl.status()).instance?.cloudId;
  assert.ok(cloudId?.startsWith('i-'), 'the workload recorded its EC2 instance');

  const launch = replica!.admin.launches().find((l) => l.InstanceType === 'g5.xlarge')!;
  assert.ok(launch.ClientToken, 'RunInstances carried a ClientToken');
  assert.equal(launch['InstanceMarketOptions.MarketType'], undefined, 'on demand');
  assert.match(launch.ImageId!, /^ami-/);
  const inst = replica!.admin.instance(cloudId!)!;
  assert.equal(inst.tags.get('gpuflow-cloud-cred-ref-id'), 'aws');
  assert.equal(inst.tags.get('gpuflow-workload'), wl.workloadId);
  assert.equal(inst.state, 'terminated');
  const workerKey = readFileSync(`${env.sshKeyFile}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  assert.ok(replica!.admin.keyPairs(inst.region).some((k) => k.name === launch.KeyName && k.material.startsWith(workerKey)), 'the worker key was imported as the key pair');
  assert.ok(replica!.admin.securityGroups(inst.region).some((g) => inst.groupIds.includes(g.id) && g.ingress.some((p) => p.from === 22)), 'a security group opens SSH');

  const local = await new LocalCredential({ refId: 'probe', url: env.cloud.url, token: env.cloud.token }).makeClient('');
  await waitFor('the backing instance terminated', async () => (await local.getInstance(replica!.admin.backingId(cloudId!)!)).status.lifecycleStatus === 'terminated', 15_000);
});

it('fails over from AWS out of capacity, zone by zone, to the local cloud', { timeout: 120_000 }, async () => {
  replica!.admin.setCapacityOff({ type: 'g6.xlarge' });
  try {
    const wl = await env.client.launch({ name: 'aws-failover', command: 'echo landed', gpu: { classes: ['L4'] } });
    workloads.push(wl.workloadId);
    const r = await wl.result();
    assert.equal(r.outcome, 'succeeded');
    const onAws = r.attempts.filter((a) => a.connection === 'aws');
    assert.ok(onAws.length >= 1, 'AWS (0.70/h) is cheaper than the local L4 (0.80/h), so it is tried first');
    for (const a of onAws) {
      assert.equal(a.outcome, 'failed-over');
      assert.match(a.reason ?? '', /InsufficientCapacityError/);
    }
    // Each refusal blocked its zone only: every zone offering g6.xlarge was tried once, then the local cloud.
    const tried = replica!.admin.launches().filter((l) => l.InstanceType === 'g6.xlarge').map((l) => `${l.region}/${l['Placement.AvailabilityZone']}`);
    assert.deepEqual([...new Set(tried)].sort(), ['us-east-1/us-east-1a', 'us-east-1/us-east-1b', 'us-east-1/us-east-1c', 'us-west-2/us-west-2a', 'us-west-2/us-west-2b']);
    assert.equal(onAws.length, 5, 'one attempt per zone');
    assert.equal(r.offer?.connection, 'local');
    assert.equal(live().length, 0, 'no EC2 instance was left behind');
  } finally {
    replica!.admin.clearCapacity();
  }
});

it('recovers a spot workload AWS took back (notice, Server.SpotInstanceTermination) in another zone', { timeout: 120_000 }, async () => {
  const wl = await env.client.launch({ name: 'aws-spot', command: 'sleep 4; echo survived', gpu: { classes: ['A10G'] }, spot: 'only' });
  workloads.push(wl.workloadId);
  await waitFor('the job running on EC2', async () => (await wl.status()).state === 'running', 60_000);
  const first = (await wl.status()).instance!;
  const launch = replica!.admin.launches().at(-1)!;
  assert.equal(launch['InstanceMarketOptions.MarketType'], 'spot');
  assert.equal(launch['InstanceMarketOptions.SpotOptions.SpotInstanceType'], 'one-time');
  assert.equal(launch['InstanceMarketOptions.SpotOptions.InstanceInterruptionBehavior'], 'terminate');
  const before = replica!.admin.instance(first.cloudId)!;
  await replica!.admin.interrupt(first.cloudId);
  assert.equal(replica!.admin.instance(first.cloudId)!.stateReason?.code, 'Server.SpotInstanceTermination');
  const r = await wl.result();
  assert.equal(r.outcome, 'succeeded');
  assert.equal(r.attempts[0]!.outcome, 'interrupted');
  assert.match(r.attempts[0]!.reason ?? '', /preempted/);
  assert.equal(r.offer?.connection, 'aws');
  assert.equal(r.offer?.spot, true);
  const second = replica!.admin.instances().find((i) => i.id !== before.id && i.tags.get('gpuflow-workload') === wl.workloadId)!;
  assert.notEqual(second.zone, before.zone, 'recovered in another zone');
  assert.equal(live().length, 0, 'every EC2 instance of the workload is terminated');
});

it('keeps the secret access key out of workflow histories and worker logs', async () => {
  const out = await assertSecretKeptOut(env, { secret: keys.secretAccessKey, workloadIds: workloads, logs, provider: 'aws', what: 'AWS secret access key' });
  assert.ok(out.includes('"action":"RunInstances"'), 'EC2 calls are logged by action');
});
