/**
 * The node-side watchdog lease against a real local cloud daemon and real sshd instances: the
 * activities (installWatchdog, renewWatchdogLease) run as Temporal activities (mock activity
 * context), reach the instance over SSH, and the node ends itself through the local cloud's
 * metadata endpoint when the lease is not renewed.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { envFileContent, jobDir, launchCommand, pollCommand, standardJobEnv } from '../../../src/activities/node.js';
import type { InstanceRef } from '../../../src/activities/types.js';
import { watchdogActivities } from '../../../src/activities/watchdog.js';
import { LocalCredential, startLocalCloud, type LocalCatalogInput, type LocalCloudHandle } from '../../../src/providers/local/index.js';
import { ProviderRegistry } from '../../../src/providers/registry.js';
import type { CloudClient } from '../../../src/providers/sdk/client.js';
import type { Instance } from '../../../src/providers/sdk/types.js';
import { waitForInstanceLifecycleStatus } from '../../../src/providers/sdk/waiters.js';
import { generateSshKeyPair, shellQuote, sshExec } from '../../../src/ssh/sshClient.js';

const CATALOG: LocalCatalogInput = {
  regions: [{ name: 'r-one', description: 'Test region', country: 'USA', priority: 0 }],
  instanceTypes: [{ type: 'gpu_1x_l4', gpuDescription: '1x L4 (24 GB PCIe)', vcpu: 8, memoryGiB: 32, diskGiB: 100, pricePerHour: '0.75', capacity: { 'r-one': 8 } }],
  bootDelayMs: 150,
  instancePollMs: 100,
  instanceTypePollMs: 30_000,
};
const LEASE_MS = 6_000;
const STOP_GRACE_MS = 1_000;

function alive(pid: number): boolean {
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].startsWith('Z');
  } catch {
    return false;
  }
}

/** Live PIDs whose environment has GPUFLOW_INSTANCE_ID=<id>: the processes inside the instance. */
function insideInstance(id: string): number[] {
  const needle = `GPUFLOW_INSTANCE_ID=${id}`;
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .map(Number)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(needle) && alive(pid);
      } catch {
        return false;
      }
    });
}

async function until<T>(what: string, get: () => Promise<T | undefined> | T | undefined, timeoutMs: number, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

describe('node watchdog lease on the local cloud', { timeout: 90_000, concurrency: true }, () => {
  let dir: string;
  let marks: string;
  let cloud: LocalCloudHandle;
  let client: CloudClient;
  let token: string;
  const key = generateSshKeyPair('watchdog-test');
  const made: string[] = [];
  let wd: ReturnType<typeof watchdogActivities>;

  /** Runs an activity function in a (mock) activity context, as a worker would. */
  const act = <I, O>(fn: (input: I) => Promise<O>, input: I) => new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') }).run(fn, input);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gpuflow-watchdog-'));
    marks = join(dir, 'marks');
    mkdirSync(marks);
    token = randomBytes(16).toString('hex');
    cloud = await startLocalCloud({ dataDir: join(dir, 'data'), token, catalog: CATALOG, killGraceMs: 500 });
    const credential = new LocalCredential({ refId: 'local', url: cloud.url, token });
    const registry = new ProviderRegistry([{ name: 'local', credential, provisioningTimeoutMs: 60_000 }]);
    client = await registry.client('local', 'r-one');
    wd = watchdogActivities({ registry, sshPrivateKey: key.privateKey });
  });

  after(async () => {
    try {
      for (const id of made) await client.terminateInstance(id).catch(() => undefined);
    } finally {
      await cloud?.close();
    }
    const left = made.flatMap(insideInstance);
    for (const pid of left) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(left, [], 'no process of a test instance outlives the tests');
  });

  async function newInstance(refId: string, env: Record<string, string> = {}): Promise<{ inst: Instance; ref: InstanceRef }> {
    const created = await client.createInstance({ refId, name: refId, location: 'r-one', instanceType: 'gpu_1x_l4', publicKey: key.publicKey, additionalEnvVars: env });
    made.push(created.cloudId);
    const inst = await waitForInstanceLifecycleStatus(client, created, 'running', 20_000, 100);
    return { inst, ref: { connection: 'local', cloudId: inst.cloudId, location: 'r-one' } };
  }

  async function ssh(inst: Instance, command: string, stdin?: string) {
    return sshExec({ host: inst.publicIp!, port: inst.sshPort!, username: inst.sshUser!, privateKey: key.privateKey }, command, {
      timeoutMs: 20_000,
      ...(stdin !== undefined ? { stdin } : {}),
    });
  }

  /**
   * Starts a job with the real launcher. On SIGTERM it writes `<name>.term` (when) and copies the
   * watchdog's log as it was at that moment to `<name>.log`, outside the instance (whose directory
   * goes with it when it is terminated).
   */
  async function startJob(inst: Instance, workloadId: string, name: string): Promise<void> {
    const d = jobDir(workloadId);
    const job = [
      `trap 'date +%s%N > ${shellQuote(join(marks, `${name}.term`))}; cp "${d}/watchdog.log" ${shellQuote(join(marks, `${name}.log`))}; exit 143' TERM`,
      'while :; do sleep 0.2; done',
    ].join('\n');
    const r = await ssh(inst, `set -e; mkdir -p "${d}"; cd "${d}"; cat > job.sh; printf '%s' ${shellQuote(envFileContent(standardJobEnv(workloadId)))} > env; ${launchCommand(workloadId)}`, job);
    assert.match(r.stdout, /STARTED/, r.stderr);
  }

  /** Watchdog processes of this job on the instance (by command line). */
  async function watchdogCount(inst: Instance, workloadId: string): Promise<number> {
    const r = await ssh(inst, `n=0; for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < "$f" 2>/dev/null | grep -q "${jobDir(workloadId)}/watchdog.sh" && n=$((n+1)); done; echo $n`);
    return Number(r.stdout.trim());
  }

  it('terminates an instance whose lease is not renewed, after stopping its job with SIGTERM', async (t) => {
    const { inst, ref } = await newInstance('wd-expire');
    assert.match((await ssh(inst, 'echo "$GPUFLOW_SELF_TERMINATE"')).stdout, /\/bin\/gpuflow-self-terminate$/m);
    await startJob(inst, 'wl-expire', 'expire');
    const input = { ref, workloadId: 'wl-expire', leaseMs: LEASE_MS, stopGraceMs: STOP_GRACE_MS };
    const t0 = Date.now();
    // A retried install (here: two at once) starts one watchdog.
    const results = await Promise.all([act(wd.installWatchdog, input), act(wd.installWatchdog, input)]);
    assert.deepEqual(results, [{ action: 'provider-self-terminate' }, { action: 'provider-self-terminate' }]);
    assert.equal(await watchdogCount(inst, 'wl-expire'), 1, 'one watchdog after two installs');

    const ended = await until(
      'the instance to be terminated',
      async () => {
        const i = await client.getInstance(inst.cloudId);
        return i.status.lifecycleStatus === 'terminated' ? i : undefined;
      },
      20_000,
    );
    const elapsed = Date.now() - t0;
    t.diagnostic(`lease ${LEASE_MS} ms not renewed: instance terminated ${elapsed} ms after install`);
    // Lease 6 s (+ < 1 s of whole-second rounding), one 1 s check, the job's stop, the provider's kill.
    assert.ok(elapsed >= LEASE_MS - 500 && elapsed <= LEASE_MS + 1_000 + 1_000 + 4_000, `terminated ${elapsed} ms after install`);
    assert.match(ended.status.messages[0] ?? '', /^terminated from inside the instance: gpuflow watchdog: lease expired/);
    assert.equal(ended.status.interruption, undefined, 'a self-termination is not a preemption');
    assert.ok(existsSync(join(marks, 'expire.term')), 'the job got SIGTERM');
    assert.match(readFileSync(join(marks, 'expire.log'), 'utf8'), /lease expired[\s\S]*stopping the job/, 'from the watchdog, before the provider ended the instance');
    assert.deepEqual(insideInstance(inst.cloudId), [], 'nothing of the instance runs');
  });

  it('keeps an instance whose lease is renewed every 2 s', async () => {
    const { inst, ref } = await newInstance('wd-renewed');
    await startJob(inst, 'wl-renewed', 'renewed');
    assert.deepEqual(await act(wd.installWatchdog, { ref, workloadId: 'wl-renewed', leaseMs: LEASE_MS, stopGraceMs: STOP_GRACE_MS }), { action: 'provider-self-terminate' });
    const until15s = Date.now() + 15_000;
    while (Date.now() < until15s) {
      await new Promise((r) => setTimeout(r, 2_000));
      await act(wd.renewWatchdogLease, { ref, workloadId: 'wl-renewed', leaseMs: LEASE_MS });
    }
    assert.equal((await client.getInstance(inst.cloudId)).status.lifecycleStatus, 'running');
    assert.equal((await ssh(inst, pollCommand('wl-renewed'))).stdout.trim(), 'RUNNING', 'the job still runs');
    assert.ok(!existsSync(join(marks, 'renewed.term')), 'the job never got SIGTERM');
    assert.doesNotMatch((await ssh(inst, `cat "${jobDir('wl-renewed')}/watchdog.log"`)).stdout, /expired/);
    await client.terminateInstance(inst.cloudId);
  });

  it('only stops the job on an unprivileged instance without a self-terminate command', async () => {
    // An image without a self-terminate command: the create env sets it empty.
    const { inst, ref } = await newInstance('wd-stoponly', { GPUFLOW_SELF_TERMINATE: '' });
    // Fakes first on the instance's PATH record any power-off attempt.
    const power = join(marks, 'stoponly.power');
    const fakes = ['shutdown', 'poweroff', 'sudo', 'halt', 'reboot']
      .map((c) => `printf '#!/bin/sh\\necho "${c} $*" >> ${power}\\n' > "$bin/${c}"; chmod 755 "$bin/${c}"`)
      .join('; ');
    assert.equal((await ssh(inst, `bin=$(dirname "$(command -v nvidia-smi)"); ${fakes}`)).code, 0);
    await startJob(inst, 'wl-stoponly', 'stoponly');
    const t0 = Date.now();
    assert.deepEqual(await act(wd.installWatchdog, { ref, workloadId: 'wl-stoponly', leaseMs: LEASE_MS, stopGraceMs: STOP_GRACE_MS }), { action: 'stop-job-only' });

    await until('the job to get SIGTERM', () => (existsSync(join(marks, 'stoponly.term')) ? true : undefined), 15_000);
    assert.ok(Date.now() - t0 >= LEASE_MS - 500, 'not before the lease ran out');
    const log = await until(
      'the watchdog to finish',
      async () => {
        const out = (await ssh(inst, `cat "${jobDir('wl-stoponly')}/watchdog.log"`)).stdout;
        return /stop-job-only: /.test(out) ? out : undefined;
      },
      10_000,
    );
    assert.doesNotMatch(log, /powering off|asking the provider/);
    assert.ok(!existsSync(power), 'no shutdown, poweroff, halt, reboot or sudo was run');
    // The stop takes the launcher's process group down with the job, so no exit code is written.
    assert.match((await ssh(inst, pollCommand('wl-stoponly'))).stdout, /^(EXIT \d+|LOST)$/m, 'the job is stopped');
    assert.equal((await client.getInstance(inst.cloudId)).status.lifecycleStatus, 'running', 'the instance stays up');
    assert.equal((await ssh(inst, 'echo still-here')).stdout.trim(), 'still-here', 'and reachable');
    assert.ok((await client.listInstances()).length > 0, 'the local cloud on the shared host still answers');
    await client.terminateInstance(inst.cloudId);
  });

  it('rejects bad input at the boundary and renewals where no watchdog was installed', async () => {
    const { ref } = await newInstance('wd-input');
    await assert.rejects(act(wd.installWatchdog, { ref, workloadId: 'wl-x', leaseMs: 500, stopGraceMs: 0 }), /leaseMs: leaseMs must be at least 4000/);
    await assert.rejects(act(wd.renewWatchdogLease, { ref, workloadId: 'wl-never-installed', leaseMs: LEASE_MS }), /no watchdog is installed for workload wl-never-installed/);
  });

  it('authenticates the metadata endpoint with the instance token only', async () => {
    const { inst } = await newInstance('wd-metadata');
    const url = `${cloud.url}/metadata/v1/self-terminate`;
    const noToken = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    assert.equal(noToken.status, 401, 'the API token is not a metadata token');
    const wrong = await fetch(url, { method: 'POST', headers: { 'x-gpuflow-metadata-token': 'f'.repeat(48) } });
    assert.equal(wrong.status, 401);
    assert.equal(((await wrong.json()) as { error: { code: string } }).error.code, 'unauthorized');
    assert.equal((await client.getInstance(inst.cloudId)).status.lifecycleStatus, 'running');
    // From inside, the instance's own command works (bash /dev/tcp). The session may die with the
    // instance before it reports back, so the proof is the instance's end and its message.
    await ssh(inst, '"$GPUFLOW_SELF_TERMINATE" "test asked"').catch(() => undefined);
    const ended = await waitForInstanceLifecycleStatus(client, inst, 'terminated', 10_000, 100);
    assert.equal(ended.status.messages[0], 'terminated from inside the instance: test asked');
  });
});

describe('local cloud metadata tokens and state written before them', { timeout: 60_000 }, () => {
  it('gives a restored instance a token and a self-terminate command', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpuflow-watchdog-state-'));
    const dataDir = join(dir, 'data');
    const token = randomBytes(16).toString('hex');
    const key = generateSshKeyPair('watchdog-state-test');
    let cloud = await startLocalCloud({ dataDir, token, catalog: CATALOG, killGraceMs: 500 });
    let id = '';
    try {
      const client = await new LocalCredential({ refId: 'local', url: cloud.url, token }).makeClient('r-one');
      const created = await client.createInstance({ refId: 'wd-old', location: 'r-one', instanceType: 'gpu_1x_l4', publicKey: key.publicKey });
      id = created.cloudId;
      await waitForInstanceLifecycleStatus(client, created, 'running', 20_000, 100);
      await cloud.close();
      // State as an older daemon wrote it: no metadata tokens.
      const stateFile = join(dataDir, 'state.json');
      const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { instances: Record<string, unknown>[] };
      for (const r of state.instances) delete r.metadataToken;
      writeFileSync(stateFile, JSON.stringify(state));

      cloud = await startLocalCloud({ dataDir, token, catalog: CATALOG, killGraceMs: 500 });
      const again = await new LocalCredential({ refId: 'local', url: cloud.url, token }).makeClient('r-one');
      const inst = await waitForInstanceLifecycleStatus(again, created, 'running', 20_000, 100);
      const restored = JSON.parse(readFileSync(stateFile, 'utf8')) as { instances: { metadataToken?: string }[] };
      assert.match(restored.instances[0].metadataToken ?? '', /^[0-9a-f]{48}$/, 'a token was issued and persisted');
      const target = { host: inst.publicIp!, port: inst.sshPort!, username: inst.sshUser!, privateKey: key.privateKey };
      await sshExec(target, '"$GPUFLOW_SELF_TERMINATE" "after restore"', { timeoutMs: 20_000 }).catch(() => undefined);
      const ended = await waitForInstanceLifecycleStatus(again, inst, 'terminated', 10_000, 100);
      assert.equal(ended.status.messages[0], 'terminated from inside the instance: after restore');
    } finally {
      await cloud.close();
      const left = id ? insideInstance(id) : [];
      for (const pid of left) process.kill(pid, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      assert.deepEqual(left, []);
    }
  });
});
