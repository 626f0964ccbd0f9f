/**
 * Workloads on an SSH fleet, end to end: a real Temporal dev server, a gpuflow worker (a child
 * process, so its logs can be read), the local cloud, and one "owned" box with 2x L4 (a real sshd
 * with the nvidia-smi shim) in the fleet connection at an internal 0.30 per GPU-hour, below the
 * local cloud's L4 (0.80). Two workloads share the box on disjoint GPUs; a third, with the box
 * full, lands on the local cloud; terminate releases the lease and kills what the job left running;
 * the box's private key is in no history and no log line.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, it, type TestContext } from 'node:test';
import { ConnectionSchema } from '../../../src/config/connections.js';
import { startTestEnv, waitFor, type TestEnv } from '../../helpers/environment.js';
import { startFleetHost, type FleetHost } from '../../helpers/fleetHost.js';
import { assertSecretKeptOut, spawnDebugWorker } from '../../helpers/providerWorker.js';

let env: TestEnv;
let box: FleetHost | undefined;
let logs: () => string;
const workloads: string[] = [];

const leasesDir = () => join(box!.home, '.gpuflow-fleet', 'leases');
const leases = () => (existsSync(leasesDir()) ? readdirSync(leasesDir()).filter((d) => !d.startsWith('.')) : []);

/** PIDs whose environment carries GPUFLOW_LEASE (any lease of the box). */
async function leaseProcesses(): Promise<number[]> {
  const out: number[] = [];
  for (const e of await readdir('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const environ = await readFile(`/proc/${e}/environ`, 'latin1').catch(() => '');
    const vars = environ.split('\0');
    if (vars.some((x) => x.startsWith('GPUFLOW_LEASE=')) && vars.some((x) => x.startsWith(`HOME=${box!.home}`))) out.push(Number(e));
  }
  return out;
}

before(async () => {
  env = await startTestEnv({
    extraConnections: async ({ dir }) => {
      box = await startFleetHost(dir, 'box-l4', { productName: 'NVIDIA L4', count: 2, memoryGiB: 24 });
      return [
        ConnectionSchema.parse({
          kind: 'ssh',
          name: 'fleet',
          hosts: [{ name: box.name, host: box.host, port: box.port, user: box.user, identityFile: box.identityFile, listenAddress: '127.0.0.1', leasePorts: '23200-23299' }],
          region: 'lab',
          country: 'DEU',
          pricePerGpuHour: '0.30',
        }),
      ];
    },
  });
  ({ logs } = await spawnDebugWorker(env));
});

after(async () => {
  // The box first: it lives in the environment's directory, which teardown deletes.
  await box?.close();
  await env?.teardown();
});

it('shares the box between two workloads on disjoint GPUs, then fails over to the local cloud when it is full', { timeout: 300_000 }, async (t: TestContext) => {
  const seen = (n: number) => join(env.dir, `seen-${n}`);
  // The two fleet jobs hold their GPUs until the test has placed the third workload.
  const release = join(env.dir, 'release-fleet-jobs');
  const hold = `while [ ! -e ${release} ]; do sleep 0.2; done`;
  const launch = (n: number) =>
    env.client.launch({
      name: `fleet-${n}`,
      // What the job sees of the GPUs; a stray background process terminate must kill.
      command: `echo "$CUDA_VISIBLE_DEVICES $(nvidia-smi --query-gpu=index --format=csv,noheader | tr '\\n' ' ')" > ${seen(n)}; nohup sleep 600 >/dev/null 2>&1 & ${hold}`,
      gpu: { classes: ['L4'] },
    });
  const first = await launch(1);
  workloads.push(first.workloadId);
  await waitFor('the first job running', async () => (await first.status()).state === 'running', 150_000, 500);
  const second = await launch(2);
  workloads.push(second.workloadId);
  await waitFor('the second job running', async () => (await second.status()).state === 'running', 150_000, 500);
  assert.equal(leases().length, 2, 'two leases on the box');

  // The box is full: the third L4 workload goes to the local cloud (0.80/h).
  const third = await env.client.launch({ name: 'fleet-3', command: 'echo landed', gpu: { classes: ['L4'] } });
  workloads.push(third.workloadId);
  const r3 = await third.result();
  assert.equal(r3.outcome, 'succeeded');
  assert.equal(r3.offer?.connection, 'local');
  for (const a of r3.attempts.filter((x) => x.connection === 'fleet')) {
    assert.equal(a.outcome, 'failed-over');
    assert.match(a.reason ?? '', /InsufficientCapacityError/);
  }
  t.diagnostic(`third workload: ${r3.attempts.map((a) => `${a.connection}:${a.outcome}`).join(' → ')}`);
  assert.equal(leases().length, 2, 'no third lease was made');
  writeFileSync(release, '');

  const [r1, r2] = [await first.result(), await second.result()];
  for (const r of [r1, r2]) {
    assert.equal(r.outcome, 'succeeded');
    assert.equal(r.exitCode, 0);
    assert.equal(r.offer?.connection, 'fleet');
    assert.equal(r.offer?.type, '1x_l4_24gb');
    assert.equal(r.offer?.country, 'DEU');
  }
  const [s1, s2] = [readFileSync(seen(1), 'utf8').trim(), readFileSync(seen(2), 'utf8').trim()];
  const gpuOf = (s: string) => s.split(' ')[0];
  assert.deepEqual([gpuOf(s1), gpuOf(s2)].sort(), ['0', '1'], `each job sees one GPU of its own: ${s1} | ${s2}`);
  assert.equal(s1, `${gpuOf(s1)} ${gpuOf(s1)}`, 'nvidia-smi in the lease lists only its GPU');

  // Terminated: leases released, their files and every process they left (the nohup sleeps) gone.
  await waitFor('the leases released', async () => leases().length === 0, 60_000, 500);
  await waitFor('the jobs’ processes killed', async () => (await leaseProcesses()).length === 0, 60_000, 500);
  for (const r of [r1, r2]) assert.ok(r.cost.amount > 0 && r.billedMs > 0, `owned GPUs are costed at the internal rate: ${JSON.stringify(r.cost)}`);
});

it('keeps the box’s private key out of workflow histories and worker logs', async () => {
  const key = readFileSync(box!.identityFile, 'utf8');
  const logText = await assertSecretKeptOut(env, { secret: key.trim(), workloadIds: workloads, logs, provider: 'ssh', what: 'private key' });
  // Not even one line of its body.
  for (const line of key.split('\n').filter((l) => l.length > 40 && !l.startsWith('-----'))) assert.ok(!logText.includes(line), 'a line of the private key is in the worker logs');
});
