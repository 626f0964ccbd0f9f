/**
 * Spot without fear, on the real dev server and the local cloud's real sshd instances: preemption
 * recovery from a checkpoint, the recovery limit, spot fallback and spot wait, reruns on listed
 * exit codes, and the node watchdog ending an instance whose workflow was terminated from outside.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { Client as SshClient } from 'ssh2';
import { loadOrCreateSshKey } from '../../../src/ssh/keyStore.js';
import { LocalCredential } from '../../../src/providers/local/index.js';
import { startTestEnv, waitFor, type TestEnv } from '../../helpers/environment.js';

let env: TestEnv;
let ckptRoot: string;

before(async () => {
  env = await startTestEnv();
  await env.startWorker();
  ckptRoot = join(env.dir, 'checkpoints');
  mkdirSync(ckptRoot, { recursive: true });
});
after(async () => {
  await env?.teardown();
});

async function instances() {
  const client = await new LocalCredential({ refId: 'probe', url: env.cloud.url, token: env.cloud.token }).makeClient('');
  return client.listInstances({});
}
async function liveInstances() {
  return (await instances()).filter((i) => i.status.lifecycleStatus !== 'terminated');
}

/**
 * A job that follows the resume convention: it keeps its step in $GPUFLOW_CHECKPOINT_DIR and
 * journals where each attempt started, so a test can tell a resume from a restart.
 */
const RESUMABLE_JOB = [
  'mkdir -p "$GPUFLOW_CHECKPOINT_DIR"',
  'i=$(cat "$GPUFLOW_CHECKPOINT_DIR/step" 2>/dev/null || echo 0)',
  'echo "attempt $GPUFLOW_ATTEMPT task $GPUFLOW_TASK_ID starts at $i" >> "$GPUFLOW_CHECKPOINT_DIR/journal"',
  'while [ "$i" -lt 16 ]; do i=$((i+1)); echo "$i" > "$GPUFLOW_CHECKPOINT_DIR/step"; sleep 0.25; done',
  'echo "finished at $i" >> "$GPUFLOW_CHECKPOINT_DIR/journal"',
].join('\n');

const H100 = { classes: ['H100'] };

function journal(workloadId: string): string[] {
  const f = join(ckptRoot, workloadId.replace(/[^A-Za-z0-9._-]/g, '_'), 'journal');
  return existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n') : [];
}
function step(workloadId: string): number {
  const f = join(ckptRoot, workloadId.replace(/[^A-Za-z0-9._-]/g, '_'), 'step');
  return existsSync(f) ? Number(readFileSync(f, 'utf8').trim()) : 0;
}

describe('preemption recovery', () => {
  it('resumes a preempted spot job in another region from its checkpoint, and never goes back', async () => {
    const wl = await env.client.launch({ name: 'resume', command: RESUMABLE_JOB, gpu: H100, spot: 'allow', checkpoint: { dir: ckptRoot } });
    await waitFor('a few steps done', async () => step(wl.workloadId) >= 4, 60_000);
    const first = (await wl.status()).instance!;
    assert.equal((await wl.status()).offer?.location, 'us-east', 'the cheapest spot H100 is in us-east');
    const preemptedAt = Date.now();
    await env.admin.preempt(first.cloudId, 'capacity reclaimed');
    const r = await wl.result();
    assert.equal(r.outcome, 'succeeded');
    assert.equal(r.recoveries, 1);
    assert.equal(r.attempts.length, 2);
    assert.equal(r.attempts[0]!.outcome, 'interrupted');
    assert.match(r.attempts[0]!.reason ?? '', /preempted/);
    assert.equal(r.attempts[1]!.location, 'eu-central', 'the preempted region is blocked: the next offer is elsewhere');
    assert.ok(r.offer?.spot, 'still on spot');
    const detectedMs = Date.parse(r.attempts[0]!.interruptedAt!) - preemptedAt;
    assert.ok(detectedMs < 3_000, `preemption detected within a poll interval or so (${detectedMs} ms)`);
    const lines = journal(wl.workloadId);
    assert.match(lines[0]!, /^attempt 1 task .* starts at 0$/);
    const resumed = /^attempt 2 task .* starts at (\d+)$/.exec(lines[1] ?? '');
    assert.ok(resumed && Number(resumed[1]) >= 4, `attempt 2 resumed from the checkpoint, not from 0: ${lines.join(' | ')}`);
    assert.equal(lines.at(-1), 'finished at 16');
    assert.deepEqual(await liveInstances(), [], 'no instance is left running');
    const st = await wl.status();
    assert.equal(st.recoveries, 1);
    assert.ok(Number(st.costSoFar.amount) > 0, 'cost covers both attempts');
  });

  it('fails clearly after more losses than maxRecoveries, with every instance terminated', async () => {
    const wl = await env.client.launch({ name: 'too-many', command: 'sleep 300', gpu: H100, spot: 'only', recovery: { maxRecoveries: 1 } });
    for (let n = 0; n < 2; n++) {
      const st = await waitFor(`attempt ${n + 1} running`, async () => {
        const s = await wl.status();
        return s.state === 'running' && s.attempts.length === n + 1 ? s : undefined;
      }, 60_000);
      await env.admin.preempt(st.instance!.cloudId);
    }
    await assert.rejects(wl.result(), (e: Error) => e instanceof WorkflowFailedError && /instance lost 2 times \(recovery\.maxRecoveries 1\)/.test(String(e.cause?.message)));
    const st = await wl.status();
    assert.equal(st.outcome, 'failed');
    assert.deepEqual(st.attempts.map((a) => a.outcome), ['interrupted', 'interrupted']);
    const mine = (await instances()).filter((i) => st.attempts.some((a) => a.cloudId === i.cloudId));
    assert.equal(mine.length, 2);
    assert.ok(mine.every((i) => i.status.lifecycleStatus === 'terminated'), 'every instance of the workload is terminated');
  });
});

describe('spot routing', () => {
  it('spot "allow" falls back to on-demand when spot has no capacity', async () => {
    await env.admin.setFaults({ outOfCapacity: [{ type: 'gpu_1x_h100_sxm5', market: 'spot' }] });
    try {
      const wl = await env.client.launch({ name: 'fallback', command: 'true', gpu: H100, spot: 'allow' });
      const r = await wl.result();
      assert.equal(r.outcome, 'succeeded');
      assert.equal(r.offer?.spot, false, 'on-demand');
      assert.ok(r.attempts.some((a) => a.spot && a.outcome === 'failed-over'), 'spot was tried first');
    } finally {
      await env.admin.clearFaults();
    }
  });

  it('with spotWait, waits for spot before falling back', async () => {
    await env.admin.setFaults({ outOfCapacity: [{ type: 'gpu_1x_h100_sxm5', market: 'spot' }] });
    try {
      const started = Date.now();
      const wl = await env.client.launch({ name: 'spot-wait', command: 'true', gpu: H100, spot: 'allow', spotWait: '4s' });
      const r = await wl.result();
      assert.equal(r.offer?.spot, false);
      const onDemand = r.attempts.find((a) => !a.spot)!;
      assert.ok(Date.parse(onDemand.plannedAt!) - started >= 4_000, 'on-demand only after the spot wait');
    } finally {
      await env.admin.clearFaults();
    }
  });
});

describe('restarts and the watchdog', () => {
  it('reruns a job on the same instance for a listed exit code, and fails on another', async () => {
    const counter = 'n=$(( $(cat "$GPUFLOW_CHECKPOINT_DIR/runs" 2>/dev/null || echo 0) + 1 )); echo $n > "$GPUFLOW_CHECKPOINT_DIR/runs"';
    const wl = await env.client.launch({
      name: 'rerun',
      command: `${counter}; [ $n -ge 3 ] && exit 0; exit 75`,
      gpu: { classes: ['L4'] },
      recovery: { maxRestartsOnError: 3, restartExitCodes: [75] },
    });
    const r = await wl.result();
    assert.equal(r.outcome, 'succeeded');
    assert.equal(r.restarts, 2);
    assert.equal(r.attempts.length, 1, 'one instance for every run');
    const other = await env.client.launch({ name: 'no-rerun', command: 'exit 4', gpu: { classes: ['L4'] }, recovery: { maxRestartsOnError: 3, restartExitCodes: [75] } });
    await assert.rejects(other.result(), (e: Error) => e instanceof WorkflowFailedError && /job exited with code 4/.test(String(e.cause?.message)));
    assert.equal((await other.status()).restarts, 0);
  });

  it('the node watchdog ends an instance whose workflow was terminated from outside', async () => {
    const wl = await env.client.launch({ name: 'orphan', command: 'sleep 600', gpu: { classes: ['L4'] }, watchdog: { lease: '6s' } });
    const st = await waitFor('lease held', async () => {
      const s = await wl.status();
      return s.state === 'running' && s.watchdogRenewedAt ? s : undefined;
    }, 60_000);
    const cloudId = st.instance!.cloudId;
    await env.client.temporal.workflow.getHandle(wl.workloadId).terminate('control plane gone (test)');
    const terminatedAt = Date.now();
    const ended = await waitFor('the watchdog terminates the instance', async () => {
      const i = (await instances()).find((x) => x.cloudId === cloudId);
      return i && i.status.lifecycleStatus === 'terminated' ? i : undefined;
    }, 45_000);
    const tookMs = Date.now() - terminatedAt;
    assert.ok(tookMs < 30_000, `ended ${tookMs} ms after the workflow was terminated (lease 6 s)`);
    assert.equal(ended.status.interruption, undefined, 'not a preemption: the node ended itself');
  });
});

describe('auto-shutdown', () => {
  it('with requireNoSshSessions, an idle node is kept while someone is logged in, and shut down after', async () => {
    const wl = await env.client.launch({
      name: 'logged-in',
      command: 'sleep 600',
      gpu: { classes: ['L4'] },
      autoShutdown: { utilizationBelowPercent: 10, idleWindow: '3s', sampleInterval: '1s', requireNoSshSessions: true },
    });
    const st = await waitFor('job running', async () => {
      const s = await wl.status();
      return s.state === 'running' && s.instance?.sshHost ? s : undefined;
    }, 60_000);
    // An interactive login: a shell with a pty, as a user's `ssh host` makes.
    const ssh = new SshClient();
    await new Promise<void>((resolve, reject) => {
      ssh.on('ready', () => resolve()).on('error', reject);
      ssh.connect({ host: st.instance!.sshHost!, port: st.instance!.sshPort!, username: st.instance!.sshUser!, privateKey: loadOrCreateSshKey(env.sshKeyFile).privateKey });
    });
    const shell = await new Promise<import('ssh2').ClientChannel>((resolve, reject) => ssh.shell({ term: 'xterm' }, (err, ch) => (err ? reject(err) : resolve(ch))));
    try {
      const seen = await waitFor('the login is counted', async () => ((await wl.status()).sshSessions ?? 0) >= 1 || undefined, 20_000);
      assert.ok(seen);
      await new Promise((r) => setTimeout(r, 6_000)); // twice the idle window, GPU idle all along
      assert.equal((await wl.status()).state, 'running', 'not shut down while someone is logged in');
    } finally {
      shell.end();
      ssh.end();
    }
    const loggedOut = Date.now();
    const r = await wl.result();
    assert.equal(r.outcome, 'idle-shutdown');
    const after = Date.now() - loggedOut;
    // A bound, not a figure: the idle window and the instance's termination, on a loaded 2-core machine.
    assert.ok(after < 60_000, `shut down ${after} ms after the logout (window 3 s, sample 1 s)`);
  });
});
