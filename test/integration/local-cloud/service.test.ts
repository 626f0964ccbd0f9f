/**
 * Services and restarts on one real local-cloud instance (its own sshd, real SSH from the
 * activities, real HTTP to the service): the activity functions are called directly in Temporal's
 * MockActivityEnvironment, so heartbeats and cancellation behave as under a worker.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CancelledFailure } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { serviceActivities } from '../../../src/activities/service.js';
import { sshActivities, type SshActivityDeps } from '../../../src/activities/ssh.js';
import { jobDir, pathSegment } from '../../../src/activities/node.js';
import type { HealthCheckSpec, InstanceRef, ServicePort, ServiceRunInput } from '../../../src/activities/types.js';
import { LocalCredential, startLocalCloud, type LocalCloudHandle } from '../../../src/providers/local/index.js';
import { ProviderRegistry } from '../../../src/providers/registry.js';
import type { CloudClient } from '../../../src/providers/sdk/client.js';
import { waitForInstanceLifecycleStatus } from '../../../src/providers/sdk/waiters.js';
import { generateSshKeyPair, shellQuote } from '../../../src/ssh/sshClient.js';

/**
 * The service: an HTTP server on $GPUFLOW_PORT_8000 whose /health answers by ~/mode ("500" makes it
 * unhealthy; "crash" makes it exit 5 before listening). It records its pid for the test to kill.
 */
const SERVER_JS = `
const fs = require('fs'); const http = require('http');
const mode = () => { try { return fs.readFileSync(process.env.HOME + '/mode', 'utf8').trim(); } catch { return 'ok'; } };
if (mode() === 'crash') { console.log('crashing on purpose'); process.exit(5); }
const port = Number(process.env.GPUFLOW_PORT_8000);
http.createServer((req, res) => {
  if (req.url === '/health') { res.writeHead(mode() === '500' ? 500 : 200); res.end(); return; }
  res.end('hello from ' + process.pid);
}).listen(port, '127.0.0.1', () => { fs.writeFileSync(process.env.HOME + '/server.pid', String(process.pid)); console.log('listening on ' + port + ' pid ' + process.pid); });
`;

const JOB = 'n=$(cat ~/count 2>/dev/null || echo 0); echo $((n + 1)) > ~/count; echo "job run $n"; [ "$n" -ge 1 ] || exit 3';

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

/** PIDs whose environment has GPUFLOW_INSTANCE_ID=<id>: what runs inside the instance. */
function insideInstance(id: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readFileSync(`/proc/${e}/environ`, 'utf8').split('\0').includes(`GPUFLOW_INSTANCE_ID=${id}`) && alive(Number(e))) out.push(Number(e));
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

/** Runs an activity function in a mock activity context (typed: `run` cannot infer the result). */
function runIn<P extends unknown[], R>(e: MockActivityEnvironment, fn: (...args: P) => Promise<R>, ...args: P): Promise<R> {
  return e.run<P, R, typeof fn>(fn, ...args);
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

async function waitFor(pred: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('services and restarts on a local-cloud instance', { timeout: 90_000 }, () => {
  let dir: string;
  let cloud: LocalCloudHandle;
  let client: CloudClient;
  let ref: InstanceRef;
  let home: string;
  let hostPort: number;
  let acts: ReturnType<typeof sshActivities> & ReturnType<typeof serviceActivities>;
  const workloadId = 'svc-1:2026-11-23T10:00:00Z';
  const env = () => new MockActivityEnvironment({ heartbeatTimeoutMs: 20_000 });

  let ports: ServicePort[];
  let healthCheck: HealthCheckSpec;
  const input = (run: number, over: Partial<ServiceRunInput> = {}): ServiceRunInput => ({
    ref, workloadId, run, ports, healthCheck, pollMs: 400, stopGraceMs: 2_000, ...over,
  });
  const serverPid = () => Number(readFileSync(join(home, 'server.pid'), 'utf8'));
  const jobPath = (id: string, file: string) => join(home, '.gpuflow', 'jobs', pathSegment(id), file);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gpuflow-service-'));
    const token = randomBytes(16).toString('hex');
    cloud = await startLocalCloud({
      dataDir: join(dir, 'data'),
      token,
      killGraceMs: 500,
      catalog: {
        regions: [{ name: 'r-one', description: 'Test region', country: 'USA', priority: 0 }],
        instanceTypes: [{ type: 'gpu_1x_l4', gpuDescription: '1x L4 (24 GB PCIe)', vcpu: 8, memoryGiB: 32, diskGiB: 100, pricePerHour: '0.75', capacity: { 'r-one': 1 } }],
        bootDelayMs: 100,
        instancePollMs: 100,
        instanceTypePollMs: 30_000,
      },
    });
    const credential = new LocalCredential({ refId: 'local', url: cloud.url, token });
    client = await credential.makeClient('r-one');
    const key = generateSshKeyPair('service-test');
    const deps: SshActivityDeps = { registry: new ProviderRegistry([{ name: 'local', credential, provisioningTimeoutMs: 60_000 }]), sshPrivateKey: key.privateKey };
    acts = { ...sshActivities(deps), ...serviceActivities(deps) };
    const created = await client.createInstance({ refId: `svc-${randomBytes(4).toString('hex')}`, name: 'svc', location: 'r-one', instanceType: 'gpu_1x_l4', publicKey: key.publicKey });
    await waitForInstanceLifecycleStatus(client, created, 'running', 15_000, 50);
    ref = { connection: 'local', cloudId: created.cloudId, location: 'r-one' };
    home = join(dir, 'data', 'instances', created.cloudId, 'home');
    hostPort = await freePort();
    ports = [{ port: 8000, public: true, hostPort }];
    healthCheck = { port: 8000, path: '/health', intervalMs: 300, timeoutMs: 1_000, failureThreshold: 3, startupTimeoutMs: 15_000 };
  });

  after(async () => {
    try {
      if (ref) await client.terminateInstance(ref.cloudId).catch(() => undefined);
      if (ref) await waitFor(() => insideInstance(ref.cloudId).length === 0, 'the instance processes to end', 5_000).catch(() => undefined);
    } finally {
      await cloud?.close();
    }
    const left = ref ? insideInstance(ref.cloudId) : [];
    for (const pid of left) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(left, [], 'processes left inside the instance');
  });

  it('starts the service: healthy over real HTTP at its mapped public port, once', async (t) => {
    const boot = await runIn(env(), acts.bootstrapInstance, {
      ref, workloadId, command: `node -e ${shellQuote(SERVER_JS)}`, env: {}, secretEnv: {}, ports, sshTimeoutMs: 30_000,
    });
    assert.equal(boot.firewall, 'staged');
    // The staged firewall opens the host port, not the container port.
    assert.match(readFileSync(jobPath(workloadId, 'firewall.sh'), 'utf8'), new RegExp(`^ufw allow in from any to any port ${hostPort}$`, 'm'));

    const started = await runIn(env(), acts.startService, input(0));
    assert.equal(started.reattached, false);
    assert.deepEqual(started.endpoints, [{ port: 8000, hostPort, public: true, host: '127.0.0.1', url: `http://127.0.0.1:${hostPort}` }]);
    assert.ok(started.readyAfterMs >= 0 && started.readyAfterMs < 15_000, `ready after ${started.readyAfterMs} ms`);
    t.diagnostic(`run 0 healthy ${started.readyAfterMs} ms after launch`);
    const pid = serverPid();
    const res = await fetch(`${started.endpoints[0].url}/hello`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), `hello from ${pid}`);

    // A retried start (say, after a worker crash) re-attaches: same process, no second launch.
    const again = await runIn(env(), acts.startService, input(0));
    assert.equal(again.reattached, true);
    assert.equal(serverPid(), pid);
    assert.equal(readFileSync(jobPath(workloadId, 'log'), 'utf8').match(/listening on/g)?.length, 1);
  });

  it('supervise reports the process exit within a poll interval; run 1 brings it back and keeps the log', async (t) => {
    const oldPid = serverPid();
    const heartbeats: unknown[] = [];
    const watcher = env();
    watcher.on('heartbeat', (d: unknown) => heartbeats.push(d));
    const supervised = runIn(watcher, acts.superviseService, input(0));
    await new Promise((r) => setTimeout(r, 1_000));
    const killedAt = Date.now();
    process.kill(oldPid, 'SIGKILL');
    const outcome = await supervised;
    const tookMs = Date.now() - killedAt;
    assert.deepEqual(outcome, { reason: 'exited', exitCode: 137, detail: 'run 0 exited with code 137' });
    assert.ok(tookMs <= 400 + 1_000, `noticed after ${tookMs} ms (poll 400 ms)`);
    t.diagnostic(`exit noticed ${tookMs} ms after the kill (poll 400 ms)`);
    assert.ok(heartbeats.length >= 2, 'heartbeats while supervising');

    const restarted = await runIn(env(), acts.startService, input(1));
    assert.equal(restarted.reattached, false);
    const newPid = serverPid();
    assert.notEqual(newPid, oldPid);
    assert.equal(await (await fetch(`http://127.0.0.1:${hostPort}/hello`)).text(), `hello from ${newPid}`);
    assert.equal(readFileSync(jobPath(workloadId, 'runs/0/exit_code'), 'utf8').trim(), '137');
    // The retried start of the same run neither stops the new process nor rotates again.
    assert.equal((await runIn(env(), acts.startService, input(1))).reattached, true);
    assert.equal(serverPid(), newPid);
    assert.ok(alive(newPid));
    const log = readFileSync(jobPath(workloadId, 'log'), 'utf8');
    // bash reports the kill of run 0 ("... Killed  node -e ...") between the two runs.
    assert.match(log, new RegExp(`^listening on ${hostPort} pid ${oldPid}\\n[^]*\\b${oldPid} Killed[^]*\\ngpuflow: run 1 \\(restart 1\\) at [0-9TZ:-]+\\nlistening on ${hostPort} pid ${newPid}\\n$`));
    assert.equal((await runIn(env(), acts.tailJobLogs, { ref, workloadId, lines: 1 })).trim(), `listening on ${hostPort} pid ${newPid}`);
  });

  it('supervise reports unhealthy after failureThreshold failed checks in a row (checked on the node for an internal port)', async (t) => {
    writeFileSync(join(home, 'mode'), '500');
    const internal = input(1, { ports: [{ port: 8000, public: false, hostPort }] });
    const t0 = Date.now();
    const outcome = await runIn(env(), acts.superviseService, internal);
    const tookMs = Date.now() - t0;
    assert.equal(outcome.reason, 'unhealthy');
    assert.equal(outcome.detail, `run 1: 3 health checks failed in a row; last: GET http://127.0.0.1:${hostPort}/health: 500`);
    // First check after one interval, then two more: about 3 intervals, plus SSH round trips.
    assert.ok(tookMs >= 3 * 300 && tookMs < 8_000, `unhealthy after ${tookMs} ms`);
    t.diagnostic(`unhealthy after ${tookMs} ms (3 checks, 300 ms apart, over SSH)`);
    assert.ok(alive(serverPid()), 'left running: the next start stops it');

    // A worker restart mid-way carries the failure count in the heartbeat details.
    const resumed = new MockActivityEnvironment({ heartbeatTimeoutMs: 20_000, heartbeatDetails: { failures: 2 } });
    const t1 = Date.now();
    assert.equal((await runIn(resumed, acts.superviseService, internal)).reason, 'unhealthy');
    assert.ok(Date.now() - t1 < 3 * 300, 'one more failure was enough');
  });

  it('a run that exits before it is healthy fails the start non-retryably, with its exit code', async () => {
    writeFileSync(join(home, 'mode'), 'crash');
    const oldPid = serverPid();
    const err = await runIn(env(), acts.startService, input(2)).then(
      () => assert.fail('start should fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ApplicationFailure, String(err));
    assert.equal(err.type, 'ServiceStartFailed');
    assert.equal(err.nonRetryable, true);
    assert.deepEqual(err.details, [{ reason: 'exited', exitCode: 5 }]);
    assert.match(err.message, /^run 2 exited with code 5 before it became healthy/);
    assert.ok(!alive(oldPid), 'run 1 (unhealthy) was stopped before run 2 launched');
    assert.match(readFileSync(jobPath(workloadId, 'log'), 'utf8'), /gpuflow: run 2 .*\ncrashing on purpose\n$/);
  });

  it('a run that never turns healthy fails the start at its startup timeout', async () => {
    writeFileSync(join(home, 'mode'), '500');
    const t0 = Date.now();
    const err = await runIn(env(), acts.startService, input(3, { healthCheck: { ...healthCheck, startupTimeoutMs: 1_500 } })).then(
      () => assert.fail('start should fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ApplicationFailure && err.type === 'ServiceStartFailed' && err.nonRetryable, String(err));
    assert.deepEqual(err.details, [{ reason: 'startup-timeout' }]);
    assert.match(err.message, new RegExp(`^run 3 not healthy within \\d+ ms of launch \\(last check: GET http://127.0.0.1:${hostPort}/health: 500\\)$`));
    assert.ok(Date.now() - t0 >= 1_500 && Date.now() - t0 < 6_000);
  });

  it('without a health check a run is started once it stays up two poll intervals; cancelling supervise stops it', async () => {
    writeFileSync(join(home, 'mode'), 'ok');
    const started = await runIn(env(), acts.startService, input(4, { healthCheck: undefined }));
    assert.ok(started.readyAfterMs >= 2 * 400, `ready after ${started.readyAfterMs} ms`);
    const pid = serverPid();
    const watcher = env();
    const supervised = runIn(watcher, acts.superviseService, input(4, { healthCheck: undefined }));
    await new Promise((r) => setTimeout(r, 800));
    watcher.cancel('CANCELLED');
    await assert.rejects(supervised, (e: unknown) => e instanceof CancelledFailure);
    await waitFor(() => !alive(pid), 'the service to stop', 5_000);
    await assert.rejects(fetch(`http://127.0.0.1:${hostPort}/hello`), /fetch failed/);
  });

  it('runJob run 1 reruns a failed job on the same instance and returns its new exit code', async () => {
    const jobId = 'job-1';
    await runIn(env(), acts.bootstrapInstance, { ref, workloadId: jobId, command: JOB, env: {}, secretEnv: {}, ports: [], sshTimeoutMs: 30_000 });
    const run = (n?: number) => runIn(env(), acts.runJob, { ref, workloadId: jobId, pollMs: 200, stopGraceMs: 1_000, ...(n !== undefined ? { run: n } : {}) });
    assert.deepEqual(await run(), { exitCode: 3, reattached: false });
    assert.deepEqual(await run(1), { exitCode: 0, reattached: false });
    // Retried after a crash: it finds run 1 finished and reports it, without running it again.
    assert.deepEqual(await run(1), { exitCode: 0, reattached: true });
    assert.equal(readFileSync(join(home, 'count'), 'utf8').trim(), '2');
    assert.equal(readFileSync(jobPath(jobId, 'runs/0/exit_code'), 'utf8').trim(), '3');
    assert.match(readFileSync(jobPath(jobId, 'log'), 'utf8'), /^job run 0\ngpuflow: run 1 .*\njob run 1\n$/);
    assert.ok(existsSync(jobPath(jobId, 'runs/1')));
    assert.equal(jobDir(jobId), '$HOME/.gpuflow/jobs/job-1');
  });
});
