/**
 * The watchdog's shell texts, run by a real bash in a temp HOME: the action decided at install,
 * the start-once guard, the lease on the node's clock, and what happens at expiry (job SIGTERM
 * first, then self-terminate or power-off). Power-off is only ever exercised against fake
 * `shutdown`/`poweroff`/`sudo` commands on a PATH without the system's sbin directories.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { envFileContent, jobDir, launchCommand, pathSegment, standardJobEnv } from '../../../src/activities/node.js';
import { checkIntervalSeconds, installCommand, leaseSeconds, renewCommand, watchdogScript } from '../../../src/activities/watchdogScript.js';

const root = mkdtempSync(join(tmpdir(), 'gpuflow-watchdog-unit-'));
const started: number[] = [];

after(() => {
  // Every watchdog or job a test started, whatever happened to the test.
  for (const pid of started) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  rmSync(root, { recursive: true, force: true });
});

let homes = 0;
/** A fresh node: its own HOME and a bin/ for fake commands, and a clean environment. */
function node(extra: Record<string, string> = {}): { home: string; bin: string; env: Record<string, string> } {
  const home = join(root, `home-${++homes}`);
  const bin = join(home, 'fakebin');
  mkdirSync(bin, { recursive: true });
  // No sbin directories: the real shutdown/poweroff can never be found by these tests.
  return { home, bin, env: { HOME: home, PATH: `${bin}:/usr/bin:/bin`, ...extra } };
}

function fake(bin: string, name: string, body: string): string {
  const file = join(bin, name);
  writeFileSync(file, `#!/bin/bash\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

function sh(env: Record<string, string>, command: string, stdin = ''): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('/bin/bash', ['-c', command], { env, input: stdin, encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function uptime(): number {
  return Math.floor(Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]));
}

function dirOf(home: string, workloadId: string): string {
  return jobDir(workloadId).replace('$HOME', home);
}

function install(n: ReturnType<typeof node>, workloadId: string, o: { leaseMs: number; privileged: boolean; stopGraceMs?: number }) {
  const r = sh(n.env, installCommand({ workloadId, leaseMs: o.leaseMs, privileged: o.privileged }), watchdogScript({ workloadId, leaseMs: o.leaseMs, stopGraceMs: o.stopGraceMs ?? 1000 }));
  assert.equal(r.code, 0, r.stderr);
  const pidFile = join(dirOf(n.home, workloadId), 'watchdog.pid');
  // Only a live watchdog is remembered for cleanup (a faked setsid leaves a stale pid behind).
  if (existsSync(pidFile) && alive(Number(readFileSync(pidFile, 'utf8')))) started.push(Number(readFileSync(pidFile, 'utf8')));
  return r.stdout.trim();
}

function alive(pid: number): boolean {
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].startsWith('Z');
  } catch {
    return false;
  }
}

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A job (via the real launcher) that records when it got SIGTERM. */
function startJob(n: ReturnType<typeof node>, workloadId: string, marker: string): number {
  const d = dirOf(n.home, workloadId);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'env'), envFileContent(standardJobEnv(workloadId)));
  writeFileSync(join(d, 'job.sh'), `trap 'echo "TERM $(date +%s%N)" > ${marker}; exit 143' TERM\nwhile :; do sleep 0.1; done\n`);
  const r = sh(n.env, launchCommand(workloadId));
  assert.match(r.stdout, /STARTED/, r.stderr);
  const pid = Number(readFileSync(join(d, 'pid'), 'utf8'));
  started.push(pid);
  return pid;
}

describe('watchdog timing', () => {
  it('rounds the lease up to whole seconds and checks a quarter of it, between 1 and 5 s', () => {
    assert.equal(leaseSeconds(6_000), 6);
    assert.equal(leaseSeconds(6_001), 7);
    assert.equal(checkIntervalSeconds(leaseSeconds(6_000)), 1);
    assert.equal(checkIntervalSeconds(12), 3);
    assert.equal(checkIntervalSeconds(20), 5);
    assert.equal(checkIntervalSeconds(3_600), 5);
  });

  it('builds the stop from the job layout with the grace in whole seconds', () => {
    const s = watchdogScript({ workloadId: 'wl/1', leaseMs: 6_000, stopGraceMs: 2_500 });
    assert.match(s, /SIGKILL after 3s/);
    assert.ok(s.includes(pathSegment('wl/1')), 'the job dir is the sanitized workload id');
    assert.match(s, /lease 6s, checked every 1s/);
  });
});

describe('watchdog install decision', () => {
  // `setsid` is faked to do nothing, so these installs never start a watchdog.
  const decide = (privileged: boolean, extra: Record<string, string> = {}, withSelfTerminate = false) => {
    const n = node(extra);
    fake(n.bin, 'setsid', 'exit 0');
    if (withSelfTerminate) fake(n.bin, 'provider-terminate', 'exit 0');
    return install(n, 'wl-decide', { leaseMs: 60_000, privileged });
  };

  it('uses the provider self-terminate command when the node has one', () => {
    assert.equal(decide(false, { GPUFLOW_SELF_TERMINATE: 'provider-terminate --now' }, true), 'STARTED provider-self-terminate');
  });

  it('ignores a self-terminate variable naming no command', () => {
    assert.equal(decide(false, { GPUFLOW_SELF_TERMINATE: 'no-such-command-here' }), 'STARTED stop-job-only');
    assert.equal(decide(false, { GPUFLOW_SELF_TERMINATE: '' }), 'STARTED stop-job-only');
  });

  it('powers off only a privileged host, and never a local cloud instance', () => {
    assert.equal(decide(true), 'STARTED shutdown');
    assert.equal(decide(false), 'STARTED stop-job-only');
    assert.equal(decide(true, { GPUFLOW_INSTANCE_ID: 'lc-123' }), 'STARTED stop-job-only');
  });

  it('writes the lease from the node clock and what to do in watchdog.conf', () => {
    const n = node();
    fake(n.bin, 'setsid', 'exit 0');
    const before = uptime();
    install(n, 'wl-lease', { leaseMs: 30_000, privileged: true });
    const d = dirOf(n.home, 'wl-lease');
    const expiry = Number(readFileSync(join(d, 'lease'), 'utf8'));
    assert.ok(expiry >= before + 30 && expiry <= uptime() + 30, `expiry ${expiry} is uptime + 30`);
    assert.equal(readFileSync(join(d, 'watchdog.conf'), 'utf8'), 'WATCHDOG_ACTION=shutdown\nWATCHDOG_MAY_SHUT_DOWN=yes\n');
  });
});

describe('watchdog start-once guard and renewal', () => {
  it('starts one watchdog, re-attaches on a second install, restarts a dead one once', () => {
    const n = node();
    assert.equal(install(n, 'wl-guard', { leaseMs: 600_000, privileged: false }), 'STARTED stop-job-only');
    const d = dirOf(n.home, 'wl-guard');
    const pid = Number(readFileSync(join(d, 'watchdog.pid'), 'utf8'));
    assert.ok(alive(pid), 'the watchdog runs after the installing shell exited');
    assert.equal(install(n, 'wl-guard', { leaseMs: 600_000, privileged: false }), 'RUNNING stop-job-only');
    assert.equal(Number(readFileSync(join(d, 'watchdog.pid'), 'utf8')), pid, 'no second watchdog');

    process.kill(pid, 'SIGKILL');
    assert.equal(sh(n.env, renewCommand({ workloadId: 'wl-guard', leaseMs: 600_000 })).stdout.trim(), 'NOT-RUNNING');
    assert.equal(install(n, 'wl-guard', { leaseMs: 600_000, privileged: false }), 'RESTARTED stop-job-only');
    const again = Number(readFileSync(join(d, 'watchdog.pid'), 'utf8'));
    assert.notEqual(again, pid);
    assert.ok(alive(again));
    assert.equal(install(n, 'wl-guard', { leaseMs: 600_000, privileged: false }), 'RUNNING stop-job-only');
  });

  it('renews from the node clock, and says MISSING where nothing was installed', () => {
    const n = node();
    assert.equal(sh(n.env, renewCommand({ workloadId: 'wl-none', leaseMs: 10_000 })).stdout.trim(), 'MISSING');
    install(n, 'wl-renew', { leaseMs: 5_000, privileged: false });
    const before = uptime();
    assert.equal(sh(n.env, renewCommand({ workloadId: 'wl-renew', leaseMs: 120_000 })).stdout.trim(), 'RENEWED');
    const expiry = Number(readFileSync(join(dirOf(n.home, 'wl-renew'), 'lease'), 'utf8'));
    assert.ok(expiry >= before + 120 && expiry <= uptime() + 120, `expiry ${expiry} is uptime + 120`);
  });
});

describe('watchdog at expiry', { concurrency: true }, () => {
  it('stops the job with SIGTERM, then calls the provider self-terminate command', async () => {
    const marks = join(root, 'selfterm');
    mkdirSync(marks);
    const n = node();
    n.env.GPUFLOW_SELF_TERMINATE = fake(n.bin, 'provider-terminate', `echo "SELF $(date +%s%N) $*" >> ${marks}/self; exit 0`);
    const job = startJob(n, 'wl-fire', `${marks}/term`);
    assert.equal(install(n, 'wl-fire', { leaseMs: 4_000, privileged: false }), 'STARTED provider-self-terminate');
    const t0 = Date.now();
    await until('the self-terminate call', () => existsSync(`${marks}/self`), 12_000);
    const firedAfterMs = Date.now() - t0;
    assert.ok(firedAfterMs >= 3_500 && firedAfterMs < 4_000 + 1_000 + 3_000, `fired ${firedAfterMs} ms after install (lease 4 s, check 1 s)`);
    const term = Number(readFileSync(`${marks}/term`, 'utf8').split(' ')[1]);
    const [, at, ...reason] = readFileSync(`${marks}/self`, 'utf8').trim().split(' ');
    assert.ok(term < Number(at), 'the job got SIGTERM before the instance was asked to end');
    assert.equal(reason.join(' '), 'gpuflow watchdog: lease expired');
    assert.ok(!alive(job), 'the job is gone');
    const d = dirOf(n.home, 'wl-fire');
    assert.match(readFileSync(join(d, 'watchdog.fired'), 'utf8'), /^provider-self-terminate /);
    const log = readFileSync(join(d, 'watchdog.log'), 'utf8');
    assert.match(log, /lease expired/);
    assert.match(log, /job stopped[\s\S]*asking the provider to terminate/);
    assert.match(sh(n.env, renewCommand({ workloadId: 'wl-fire', leaseMs: 4_000 })).stdout, /^FIRED provider-self-terminate/);
  });

  it('powers off a privileged host after stopping the job (fake shutdown)', async () => {
    const marks = join(root, 'shutdown');
    mkdirSync(marks);
    const n = node();
    for (const cmd of ['shutdown', 'poweroff', 'sudo']) fake(n.bin, cmd, `echo "${cmd} $*" >> ${marks}/power`);
    assert.equal(sh(n.env, 'command -v shutdown').stdout.trim(), join(n.bin, 'shutdown'), 'precondition: only the fake shutdown is reachable');
    startJob(n, 'wl-power', `${marks}/term`);
    assert.equal(install(n, 'wl-power', { leaseMs: 4_000, privileged: true }), 'STARTED shutdown');
    await until('the power-off', () => existsSync(`${marks}/power`), 12_000);
    assert.ok(existsSync(`${marks}/term`), 'the job got SIGTERM first');
    const expected = process.getuid?.() === 0 ? 'shutdown -h now' : 'sudo -n shutdown -h now';
    assert.equal(readFileSync(`${marks}/power`, 'utf8').trim(), expected);
  });

  it('keeps a renewed lease alive and only stops the job where it may do nothing else', async () => {
    const marks = join(root, 'stoponly');
    mkdirSync(marks);
    const n = node();
    for (const cmd of ['shutdown', 'poweroff', 'sudo']) fake(n.bin, cmd, `echo "${cmd} $*" >> ${marks}/power`);
    const job = startJob(n, 'wl-stop', `${marks}/term`);
    assert.equal(install(n, 'wl-stop', { leaseMs: 4_000, privileged: false }), 'STARTED stop-job-only');
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 1_500));
      assert.equal(sh(n.env, renewCommand({ workloadId: 'wl-stop', leaseMs: 4_000 })).stdout.trim(), 'RENEWED');
    }
    assert.ok(alive(job) && !existsSync(`${marks}/term`), 'renewed for 6 s past a 4 s lease: the job still runs');
    await until('the job to be stopped', () => existsSync(`${marks}/term`), 12_000);
    const d = dirOf(n.home, 'wl-stop');
    await until('the watchdog to finish', () => /stop-job-only: /.test(readFileSync(join(d, 'watchdog.log'), 'utf8')), 5_000);
    assert.ok(!existsSync(`${marks}/power`), 'no shutdown, poweroff or sudo was run');
  });
});
