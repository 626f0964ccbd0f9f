/**
 * bench:lifecycle: a trivial job's whole life through gpuflow (Temporal workflow + worker) against
 * its floor (the same provider calls and SSH commands made directly from one script), and 100
 * concurrent workloads on one worker process with its peak RSS and CPU.
 *
 *   npm run bench:lifecycle [-- --concurrent 100]   (builds first: the worker runs from dist with its prebuilt bundle)
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { launchCommand, pollCommand, jobDir } from '../src/activities/node.js';
import { LocalCredential } from '../src/providers/local/index.js';
import { waitForInstanceLifecycleStatus } from '../src/providers/sdk/waiters.js';
import { loadOrCreateSshKey } from '../src/ssh/keyStore.js';
import { sshExec, waitForSsh } from '../src/ssh/sshClient.js';
import { startTestEnv, waitFor } from '../test/helpers/environment.js';
import { TEST_CATALOG } from '../test/helpers/testCatalog.js';

const { values } = parseArgs({ options: { concurrent: { type: 'string', default: '100' }, 'worker-heap-mb': { type: 'string' } } });
const CONCURRENT = Number(values.concurrent);
const JOB = 'echo done';

const env = await startTestEnv({ catalog: { ...TEST_CATALOG, instanceTypes: TEST_CATALOG.instanceTypes.map((t) => ({ ...t, capacity: Object.fromEntries(Object.keys(t.capacity).map((r) => [r, 400])) })) } });
try {
  const sshKey = loadOrCreateSshKey(env.sshKeyFile);
  const client = await new LocalCredential({ refId: 'local', url: env.cloud.url, token: env.cloud.token }).makeClient('');

  /** The floor: what any orchestrator must do at minimum, made directly. */
  async function floorOnce(i: number): Promise<number> {
    const t0 = performance.now();
    const types = await client.getInstanceTypes({});
    const l4 = types.find((t) => t.type === 'gpu_1x_l4' && t.location === 'us-east')!;
    const inst = await client.createInstance({ refId: `floor-${i}-${Date.now()}`, name: 'floor', location: l4.location, instanceType: l4.type, publicKey: sshKey.publicKey });
    const running = await waitForInstanceLifecycleStatus(client, inst, 'running', 60_000, client.getInstancePollTimeMs());
    const target = { host: running.publicIp, port: running.sshPort, username: running.sshUser, privateKey: sshKey.privateKey };
    await waitForSsh(target, { intervalMs: 200 });
    const wid = `floor-${i}`;
    await sshExec(target, `mkdir -p "${jobDir(wid)}" && cd "${jobDir(wid)}" && cat > job.sh && : > env`, { stdin: `${JOB}\n` });
    await sshExec(target, launchCommand(wid));
    for (;;) {
      const r = await sshExec(target, pollCommand(wid));
      if (r.stdout.startsWith('EXIT')) break;
      await new Promise((r) => setTimeout(r, 2_000));
    }
    await client.terminateInstance(inst.cloudId);
    return performance.now() - t0;
  }

  async function gpuflowOnce(name: string): Promise<number> {
    const t0 = performance.now();
    const wl = await env.client.launch({ name, command: JOB, gpu: { classes: ['L4'] } });
    const r = await wl.result();
    if (r.outcome !== 'succeeded') throw new Error(`workload ${name} ended ${r.outcome}`);
    return performance.now() - t0;
  }

  // One worker process for everything, so its RSS and CPU are the worker's alone.
  const heap = values['worker-heap-mb'];
  const worker = await env.spawnWorker({ fromDist: true, ...(heap ? { nodeArgs: [`--max-old-space-size=${heap}`] } : {}) });
  await floorOnce(0); // warm-up: sshd host keys, module loading
  await gpuflowOnce('warmup');
  const floorMs = await floorOnce(1);
  const gpuflowMs = await gpuflowOnce('single');
  console.log(`lifecycle floor (direct calls)   ${(floorMs / 1000).toFixed(2)} s`);
  console.log(`lifecycle through gpuflow        ${(gpuflowMs / 1000).toFixed(2)} s`);
  console.log(`ratio                            ${(gpuflowMs / floorMs).toFixed(2)}x   (target <= 2.0x)`);

  const pid = worker.pid!;
  const clkTck = 100;
  const cpuTicks = () => {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(f[11]) + Number(f[12]);
  };
  const rssMb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
  let peakRss = rssMb();
  const baseRss = peakRss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMb())), 100);
  const createdBefore = (await env.admin.stats()).createsAccepted;
  const cpu0 = cpuTicks();
  const t0 = performance.now();
  const handles = await Promise.all(Array.from({ length: CONCURRENT }, (_, i) => env.client.launch({ name: `c${i}`, command: 'sleep 2; echo done', gpu: { classes: ['L4'] } })));
  const results = await Promise.allSettled(handles.map((h) => h.result()));
  const wallMs = performance.now() - t0;
  clearInterval(sampler);
  const cpuS = (cpuTicks() - cpu0) / clkTck;
  const ok = results.filter((r) => r.status === 'fulfilled' && r.value.outcome === 'succeeded').length;
  const reasons = new Map<string, number>();
  for (const r of results) {
    if (r.status === 'fulfilled') continue;
    let e: Error | undefined = r.reason as Error;
    while ((e as { cause?: Error })?.cause) e = (e as { cause?: Error }).cause;
    const why = (e?.message ?? String(r.reason)).slice(0, 160);
    reasons.set(why, (reasons.get(why) ?? 0) + 1);
  }
  for (const [why, n] of reasons) console.log(`  failed ${n}x: ${why}`);
  const stats = await env.admin.stats();
  await waitFor('all instances terminated', async () => (await env.admin.stats()).running === 0, 60_000);
  console.log(`${CONCURRENT} concurrent workloads      ${ok}/${CONCURRENT} succeeded in ${(wallMs / 1000).toFixed(1)} s; instances created ${stats.createsAccepted - createdBefore}`);
  console.log(`worker RSS                       ${baseRss.toFixed(0)} MB idle, ${peakRss.toFixed(0)} MB peak   (target <= 400 MB)`);
  console.log(`worker CPU                       ${cpuS.toFixed(1)} s over ${(wallMs / 1000).toFixed(1)} s wall (${((100 * cpuS) / (wallMs / 1000)).toFixed(0)}% of one core)`);
  if (ok !== CONCURRENT) process.exitCode = 1;
} finally {
  await env.teardown();
}
