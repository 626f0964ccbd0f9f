/**
 * The local cloud end to end: the daemon in-process with a temp data dir, real sshd instances, a
 * real OpenSSH client, and the adapter's typed errors.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import ssh2 from 'ssh2';
import {
  LocalCloudAdmin,
  LocalCredential,
  LOCAL_CAPABILITIES,
  startLocalCloud,
  type LocalCatalogInput,
  type LocalCloudHandle,
} from '../../../src/providers/local/index.js';
import type { CloudClient } from '../../../src/providers/sdk/client.js';
import {
  AuthenticationError,
  InstanceNotFoundError,
  InsufficientCapacityError,
  InvalidRequestError,
  OutOfQuotaError,
  ServiceUnavailableError,
} from '../../../src/providers/sdk/errors.js';
import { InstanceSchema, InstanceTypeSchema, LocationSchema, type Instance, type LifecycleStatus } from '../../../src/providers/sdk/types.js';
import { waitForInstanceLifecycleStatus } from '../../../src/providers/sdk/waiters.js';

const execFileAsync = promisify(execFile);

const CATALOG: LocalCatalogInput = {
  regions: [
    { name: 'r-one', description: 'Test region one', country: 'USA', priority: 0 },
    { name: 'r-two', description: 'Test region two', country: 'DEU', priority: 1 },
  ],
  instanceTypes: [
    {
      type: 'gpu_2x_a100_sxm4',
      gpuDescription: '2x A100 (40 GB SXM4)',
      gpu: { productName: 'NVIDIA A100-SXM4-40GB' },
      vcpu: 30,
      memoryGiB: 200,
      diskGiB: 512,
      pricePerHour: '2.58',
      spotPricePerHour: '1.38',
      capacity: { 'r-one': 6, 'r-two': 2 },
    },
    { type: 'gpu_1x_l4', gpuDescription: '1x L4 (24 GB PCIe)', vcpu: 8, memoryGiB: 32, diskGiB: 100, pricePerHour: '0.75', capacity: { 'r-one': 1 } },
  ],
  bootDelayMs: 150,
  instancePollMs: 100,
  instanceTypePollMs: 30_000,
};

interface Key {
  privateFile: string;
  publicKey: string;
}

function newKey(dir: string, name: string): Key {
  const k = ssh2.utils.generateKeyPairSync('ed25519', { comment: name });
  const privateFile = join(dir, name);
  writeFileSync(privateFile, k.private, { mode: 0o600 });
  return { privateFile, publicKey: k.public };
}

async function ssh(inst: Instance, key: Key, command: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const args = [
    '-F', '/dev/null',
    '-i', key.privateFile,
    '-p', String(inst.sshPort),
    '-o', 'IdentitiesOnly=yes',
    '-o', 'BatchMode=yes',
    '-o', 'StrictHostKeyChecking=no',
    '-o', 'UserKnownHostsFile=/dev/null',
    '-o', 'LogLevel=ERROR',
    '-o', 'ConnectTimeout=5',
    `${inst.sshUser}@${inst.publicIp}`,
    command,
  ];
  try {
    const { stdout, stderr } = await execFileAsync('ssh', args, { timeout: 15_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

/** PIDs whose command line mentions `needle` (like `pgrep -f`), not counting this process. */
function pgrep(needle: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0').join(' ').includes(needle) && alive(Number(e))) out.push(Number(e));
    } catch {
      // gone
    }
  }
  return out;
}

/** PIDs whose environment has GPUFLOW_INSTANCE_ID=<id>: the processes running inside the instance. */
function insideInstance(id: string): number[] {
  const needle = `GPUFLOW_INSTANCE_ID=${id}`;
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readFileSync(`/proc/${e}/environ`, 'utf8').split('\0').includes(needle) && alive(Number(e))) out.push(Number(e));
    } catch {
      // gone
    }
  }
  return out;
}

describe('local cloud', { timeout: 60_000 }, () => {
  let dir: string;
  let dataDir: string;
  let token: string;
  let cloud: LocalCloudHandle;
  let admin: LocalCloudAdmin;
  let client: CloudClient;
  let key: Key;
  let otherKey: Key;
  const made: string[] = [];

  const waitStatus = (inst: Instance, s: LifecycleStatus) => waitForInstanceLifecycleStatus(client, inst, s, 10_000, 50);

  async function create(over: Partial<Parameters<CloudClient['createInstance']>[0]> = {}): Promise<Instance> {
    const inst = await client.createInstance({
      refId: randomUUID(),
      name: 'it',
      location: 'r-one',
      instanceType: 'gpu_2x_a100_sxm4',
      publicKey: key.publicKey,
      ...over,
    });
    made.push(inst.cloudId);
    return inst;
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gpuflow-local-cloud-'));
    dataDir = join(dir, 'data');
    token = randomBytes(16).toString('hex');
    cloud = await startLocalCloud({ dataDir, token, catalog: CATALOG, killGraceMs: 500 });
    admin = new LocalCloudAdmin({ url: cloud.url, token });
    client = await new LocalCredential({ refId: 'local-test', url: cloud.url, token }).makeClient('r-one');
    key = newKey(dir, 'id_main');
    otherKey = newKey(dir, 'id_other');
  });

  after(async () => {
    try {
      if (client) for (const id of made) await client.terminateInstance(id).catch(() => undefined);
    } finally {
      await cloud?.close();
    }
    // Nothing of ours may outlive the tests: no sshd, no process started inside an instance.
    const left = pgrep(dir);
    for (const pid of left) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(left, [], `processes left under ${dir}`);
  });

  it('serves a contract-valid catalog', async () => {
    const locations = await client.getLocations();
    assert.deepEqual(locations.map((l) => [l.name, l.country]), [['r-one', 'USA'], ['r-two', 'DEU']]);
    for (const l of locations) LocationSchema.parse(l);
    const types = await client.getInstanceTypes({});
    assert.deepEqual(types.map((t) => t.id), ['r-one-noSub-gpu_2x_a100_sxm4', 'r-two-noSub-gpu_2x_a100_sxm4', 'r-one-noSub-gpu_1x_l4']);
    for (const t of types) InstanceTypeSchema.parse(t);
    const a100 = types[0];
    assert.deepEqual(a100.basePrice, { amount: 258, currency: 'USD', scale: 2 });
    assert.deepEqual(a100.spotPrice, { amount: 138, currency: 'USD', scale: 2 });
    assert.deepEqual(a100.supportedUsageClasses, ['on-demand', 'spot']);
    assert.equal(a100.preemptible, true);
    assert.deepEqual(a100.supportedGpus[0], {
      count: 2, memory: { value: 40, unit: 'GiB' }, memoryDetails: '', networkDetails: 'SXM4', manufacturer: 'NVIDIA', name: 'A100', type: 'A100.SXM4',
    });
    assert.equal(types[2].preemptible, false);
    assert.deepEqual(types[2].supportedUsageClasses, ['on-demand']);
    const l4 = await client.getInstanceTypes({ instanceTypes: ['gpu_1x_l4'] });
    assert.deepEqual(l4.map((t) => t.id), ['r-one-noSub-gpu_1x_l4']);
    const inTwo = await client.getInstanceTypes({ locations: ['r-two'] });
    assert.deepEqual(inTwo.map((t) => t.id), ['r-two-noSub-gpu_2x_a100_sxm4']);
    assert.equal(client.getInstancePollTimeMs(), 100);
    assert.equal(client.getInstanceTypePollTimeMs(), 30_000);
    assert.deepEqual(await client.getCapabilities(), [...LOCAL_CAPABILITIES]);
    assert.ok(!(await client.getCapabilities()).includes('modify-firewall'));
  });

  it('runs a real instance: SSH with its key only, home, nvidia-smi from the admin API', async () => {
    const created = await create({ tags: { team: 'ml', job: 'a' }, additionalEnvVars: { GREETING: "it's local" } });
    InstanceSchema.parse(created);
    assert.equal(created.status.lifecycleStatus, 'pending');
    assert.equal(created.instanceTypeId, 'r-one-noSub-gpu_2x_a100_sxm4');
    assert.equal(created.cloudCredRefId, 'local-test');
    assert.equal(created.notPrivileged, true);
    const inst = await waitStatus(created, 'running');
    assert.ok(inst.sshPort > 0);
    assert.equal(inst.publicIp, '127.0.0.1');

    const home = join(dataDir, 'instances', inst.cloudId, 'home');
    const r = await ssh(inst, key, 'pwd; echo $HOME; which nvidia-smi; echo "$GPUFLOW_INSTANCE_ID"; echo "$GREETING"');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), [home, home, join(dataDir, 'instances', inst.cloudId, 'bin', 'nvidia-smi'), inst.cloudId, "it's local"]);

    const refused = await ssh(inst, otherKey, 'echo should-not-run');
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /Permission denied/);
    assert.doesNotMatch(refused.stdout, /should-not-run/);

    const q = 'nvidia-smi --query-gpu=index,name,utilization.gpu,memory.used,memory.total --format=csv,noheader,nounits';
    assert.equal((await ssh(inst, key, q)).stdout, '0, NVIDIA A100-SXM4-40GB, 0, 0, 40960\n1, NVIDIA A100-SXM4-40GB, 0, 0, 40960\n');
    await admin.setGpuUtilization(inst.cloudId, [87, 12]);
    assert.equal((await ssh(inst, key, q)).stdout, '0, NVIDIA A100-SXM4-40GB, 87, 35635, 40960\n1, NVIDIA A100-SXM4-40GB, 12, 4915, 40960\n');
    const list = await ssh(inst, key, 'nvidia-smi -L; nvidia-smi | grep -c A100-SXM4');
    assert.match(list.stdout, /^GPU 0: NVIDIA A100-SXM4-40GB \(UUID: GPU-[0-9a-f-]+\)\nGPU 1: .*\n2\n$/);
    // The job itself can drive utilization through the file.
    assert.equal((await ssh(inst, key, 'echo 55 > "$GPUFLOW_GPU_UTIL_FILE"; nvidia-smi -i 0 --query-gpu=utilization.gpu --format=csv')).stdout, 'utilization.gpu [%]\n55 %\n');

    // Reads, filters and tags.
    assert.deepEqual((await client.getInstance(inst.cloudId)).tags, { team: 'ml', job: 'a' });
    assert.deepEqual((await client.listInstances({ locations: ['r-one'], tagFilters: { team: ['ml'] } })).map((i) => i.cloudId), [inst.cloudId]);
    assert.deepEqual(await client.listInstances({ tagFilters: { team: ['nope'] } }), []);
    await client.updateInstanceTags!({ instanceId: inst.cloudId, tags: { job: 'b', extra: 'x' } });
    assert.deepEqual((await client.getInstance(inst.cloudId)).tags, { team: 'ml', job: 'b', extra: 'x' });
    assert.deepEqual((await client.listInstances({ instanceIds: [inst.cloudId] })).map((i) => i.cloudId), [inst.cloudId]);
  });

  it('create is idempotent by refId, even when concurrent or when the response is lost', async () => {
    const refId = randomUUID();
    const before = await admin.stats();
    const [a, b, c] = await Promise.all([create({ refId }), create({ refId }), create({ refId })]);
    assert.equal(a.cloudId, b.cloudId);
    assert.equal(a.cloudId, c.cloudId);
    const again = await create({ refId });
    assert.equal(again.cloudId, a.cloudId);
    const after = await admin.stats();
    assert.equal(after.byRefId[refId], 1);
    assert.equal(after.createsAccepted - before.createsAccepted, 1);
    assert.equal(after.createRequests - before.createRequests, 4);

    // The daemon makes the instance but the response is lost: the retry gets that same instance.
    await admin.setFaults({ loseCreateResponses: 1 });
    const lostRef = randomUUID();
    await assert.rejects(create({ refId: lostRef }), ServiceUnavailableError);
    const retried = await create({ refId: lostRef });
    assert.equal((await admin.stats()).byRefId[lostRef], 1);
    await client.terminateInstance(retried.cloudId);
    await client.terminateInstance(a.cloudId);
  });

  it('maps capacity, quota, outage and bad requests to typed errors', async () => {
    await admin.setFaults({ outOfCapacity: [{ type: 'gpu_2x_a100_sxm4', location: 'r-two' }] });
    const cap = await create({ location: 'r-two' }).then(
      () => assert.fail('expected InsufficientCapacityError'),
      (e: unknown) => e,
    );
    assert.ok(cap instanceof InsufficientCapacityError, String(cap));
    assert.equal(cap.scope, 'zone');
    assert.equal(cap.retryable, false);
    // By default the catalog still says available (stale catalog); hideFromCatalog makes it say no.
    assert.equal((await client.getInstanceTypes({ locations: ['r-two'] }))[0].isAvailable, true);
    await admin.setFaults({ outOfCapacity: [{ location: 'r-two', hideFromCatalog: true }] });
    assert.equal((await client.getInstanceTypes({ locations: ['r-two'] }))[0].isAvailable, false);

    await admin.setFaults({ quotaExceeded: [{ type: 'gpu_2x_a100_sxm4' }] });
    await assert.rejects(create(), OutOfQuotaError);

    await admin.setFaults({ unavailable: { forMs: 5_000, methods: ['GET'] } });
    const down = await client.getLocations().then(
      () => assert.fail('expected ServiceUnavailableError'),
      (e: unknown) => e,
    );
    assert.ok(down instanceof ServiceUnavailableError, String(down));
    assert.equal(down.retryable, true);
    assert.ok(down.retryAfterMs !== undefined && down.retryAfterMs > 0 && down.retryAfterMs <= 5_000, String(down.retryAfterMs));
    await admin.setFaults({ unavailable: { times: 1, retryAfterSeconds: 7 } });
    await assert.rejects(client.getLocations(), (e: unknown) => e instanceof ServiceUnavailableError && e.retryAfterMs === 7_000);
    assert.equal((await client.getLocations()).length, 2, 'the outage was for one request only');
    await admin.clearFaults();

    // Real capacity: the L4 has room for one.
    const first = await create({ instanceType: 'gpu_1x_l4' });
    await assert.rejects(create({ instanceType: 'gpu_1x_l4' }), InsufficientCapacityError);
    assert.equal((await client.getInstanceTypes({ instanceTypes: ['gpu_1x_l4'] }))[0].isAvailable, false);
    await client.terminateInstance(first.cloudId);
    assert.equal((await client.getInstanceTypes({ instanceTypes: ['gpu_1x_l4'] }))[0].isAvailable, true, 'terminate frees capacity');

    await assert.rejects(create({ instanceType: 'gpu_1x_l4', useSpot: true }), InvalidRequestError);
    await assert.rejects(create({ instanceType: 'nope' }), InvalidRequestError);
    await assert.rejects(create({ location: 'nowhere' }), InvalidRequestError);
    await assert.rejects(create({ instanceType: 'gpu_1x_l4', location: 'r-two' }), InvalidRequestError);
    await assert.rejects(create({ publicKey: 'not a key' }), InvalidRequestError);
    await assert.rejects(client.getInstance('lc-000000000000'), InstanceNotFoundError);
    await client.terminateInstance('lc-000000000000'); // unknown: no error
  });

  it('terminate kills everything started inside the instance', async () => {
    const inst = await waitStatus(await create(), 'running');
    const r = await ssh(inst, key, 'nohup sleep 1000 > /dev/null 2>&1 & echo $!; (setsid sleep 1001 > /dev/null 2>&1 &) ; true');
    assert.equal(r.code, 0, r.stderr);
    const pid = Number(r.stdout.trim().split('\n')[0]);
    assert.ok(alive(pid), 'the background process runs after the SSH session ended');
    assert.match(readFileSync(`/proc/${pid}/environ`, 'utf8'), new RegExp(`GPUFLOW_INSTANCE_ID=${inst.cloudId}`));
    assert.equal(insideInstance(inst.cloudId).length, 2, 'two sleeps run inside the instance');
    await client.terminateInstance(inst.cloudId);
    assert.ok(!alive(pid), 'the background process is gone');
    assert.deepEqual(insideInstance(inst.cloudId), [], 'so is the one that left its session (setsid)');
    assert.deepEqual(pgrep(join(dataDir, 'instances', inst.cloudId)), []);
    const gone = await client.getInstance(inst.cloudId);
    assert.equal(gone.status.lifecycleStatus, 'terminated');
    assert.ok(gone.terminatedAt);
    assert.equal(gone.status.interruption, undefined);
    await client.terminateInstance(inst.cloudId); // idempotent
    assert.notEqual((await ssh(inst, key, 'true')).code, 0);
  });

  it('spot preemption kills the instance and says so', async () => {
    const inst = await waitStatus(await create({ useSpot: true }), 'running');
    assert.equal(inst.spot, true);
    const pid = Number((await ssh(inst, key, 'nohup sleep 1000 > /dev/null 2>&1 & echo $!')).stdout.trim());
    assert.ok(alive(pid));
    await admin.preempt(inst.cloudId, 'test reclaim');
    const got = await client.getInstance(inst.cloudId);
    assert.equal(got.status.lifecycleStatus, 'terminated');
    assert.equal(got.status.interruption, 'preempted');
    assert.match(got.status.messages.join(' '), /preempted: test reclaim/);
    assert.ok(got.terminatedAt);
    assert.ok(!alive(pid));
    // An on-demand instance cannot be "preempted".
    const od = await create();
    await assert.rejects(admin.preempt(od.cloudId), InvalidRequestError);
    await client.terminateInstance(od.cloudId);
  });

  it('stop, start and reboot', async () => {
    const inst = await waitStatus(await create(), 'running');
    const pid = Number((await ssh(inst, key, 'nohup sleep 1000 > /dev/null 2>&1 & echo $!')).stdout.trim());
    await client.stopInstance!(inst.cloudId);
    const stopped = await client.getInstance(inst.cloudId);
    assert.equal(stopped.status.lifecycleStatus, 'stopped');
    assert.equal(stopped.sshPort, 0);
    assert.ok(!alive(pid));
    assert.notEqual((await ssh(inst, key, 'true')).code, 0);
    await client.startInstance!(inst.cloudId);
    const started = await waitStatus(inst, 'running');
    assert.equal((await ssh(started, key, 'echo back')).stdout, 'back\n');
    const pid2 = Number((await ssh(started, key, 'nohup sleep 1000 > /dev/null 2>&1 & echo $!')).stdout.trim());
    await client.rebootInstance!(inst.cloudId);
    assert.ok(!alive(pid2), 'reboot kills processes');
    const rebooted = await waitStatus(inst, 'running');
    assert.equal((await ssh(rebooted, key, 'echo again')).stdout, 'again\n');
    await client.terminateInstance(inst.cloudId);
  });

  it('a restarted daemon keeps its instances and SSH works again', async () => {
    const inst = await waitStatus(await create({ refId: 'survivor' }), 'running');
    const pid = Number((await ssh(inst, key, 'nohup sleep 1000 > /dev/null 2>&1 & echo $!')).stdout.trim());
    await assert.rejects(startLocalCloud({ dataDir, token, catalog: CATALOG }), /already in use/, 'one daemon per data dir');
    await cloud.close();
    assert.deepEqual(pgrep(join(dataDir, 'instances', inst.cloudId, 'sshd_config')), [], 'close stops the sshd');
    assert.ok(alive(pid), 'workloads outlive the control plane');
    await assert.rejects(client.getInstance(inst.cloudId), ServiceUnavailableError);

    cloud = await startLocalCloud({ dataDir, token, catalog: CATALOG, killGraceMs: 500 });
    admin = new LocalCloudAdmin({ url: cloud.url, token });
    client = await new LocalCredential({ refId: 'local-test', url: cloud.url, token }).makeClient('r-one');
    const back = await client.getInstance(inst.cloudId);
    assert.equal(back.status.lifecycleStatus, 'running');
    assert.equal(back.refId, 'survivor');
    assert.equal((await ssh(back, key, 'pwd')).stdout.trim(), join(dataDir, 'instances', inst.cloudId, 'home'));
    assert.equal((await create({ refId: 'survivor' })).cloudId, inst.cloudId, 'idempotency survives the restart');
    await client.terminateInstance(inst.cloudId);
    assert.ok(!alive(pid));
  });

  it('rejects a bad token with AuthenticationError', async () => {
    const bad = await new LocalCredential({ refId: 'local-test', url: cloud.url, token: 'wrong-token' }).makeClient('');
    const e = await bad.getLocations().then(
      () => assert.fail('expected AuthenticationError'),
      (err: unknown) => err,
    );
    assert.ok(e instanceof AuthenticationError, String(e));
    assert.equal(e.retryable, false);
    await assert.rejects(bad.createInstance({ refId: 'x', location: 'r-one', instanceType: 'gpu_1x_l4', publicKey: key.publicKey }), AuthenticationError);
    await assert.rejects(new LocalCloudAdmin({ url: cloud.url, token: 'nope' }).stats(), AuthenticationError);
  });
});
