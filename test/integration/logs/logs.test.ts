/**
 * Logs that live and last, end to end on the real dev server and the local cloud's real sshd
 * instances, through the real CLI: read after the instance is terminated (with the secret masked
 * everywhere), a preempted attempt's log kept and labelled, and `gpuflow logs -f` across a worker
 * kill -9 and restart, over SSH and from the store, with every line exactly once.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { nodeEntryArgs } from '../../../src/cli/nodeEntry.js';
import { LocalLogStore } from '../../../src/logs/localStore.js';
import type { LogLine } from '../../../src/logs/records.js';
import { runGpuflow } from '../../helpers/cli.js';
import { killHard, startTestEnv, waitFor, type TestEnv } from '../../helpers/environment.js';

const SECRET = `tok-${Math.random().toString(36).slice(2)}-LOGS`;
const logDir = mkdtempSync(join(tmpdir(), 'gpuflow-logs-it-'));
let env: TestEnv;
let worker: ChildProcess;
const store = new LocalLogStore(logDir);

before(async () => {
  // The worker (a child) and the CLI read these from the environment they inherit.
  process.env.GPUFLOW_LOG_DIR = logDir;
  process.env.LOGS_TEST_SECRET = SECRET;
  env = await startTestEnv();
  worker = await env.spawnWorker();
});
after(async () => {
  await env?.teardown();
  rmSync(logDir, { recursive: true, force: true });
});

function jsonLines(stdout: string): LogLine[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as LogLine);
}

/** Every file under the store, as text. */
function storedText(): string {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(readFileSync(p, 'utf8'));
    }
  };
  walk(logDir);
  return out.join('\n');
}

async function storedLines(workloadId: string): Promise<number> {
  let n = 0;
  for (const a of await store.listAttempts(workloadId)) n += a.shippedBytes;
  return n;
}

describe('logs that last', () => {
  it('reads stdout and stderr with their times after the instance is terminated, the secret masked everywhere', async () => {
    const command = ['echo "hello from stdout"', 'echo "warning on stderr" >&2', 'echo "token is $HF_TOKEN"', 'for i in 1 2 3 4 5; do echo "step $i"; done'].join('\n');
    const wl = await env.client.launch({ name: 'logs-after', command, gpu: { classes: ['L4'] }, secretEnv: { HF_TOKEN: 'env:LOGS_TEST_SECRET' } });
    const r = await wl.result();
    assert.equal(r.outcome, 'succeeded');
    const st = await wl.status();
    assert.equal(st.state, 'terminated');
    assert.ok(st.attempts[0]!.terminatedAt, 'the instance is gone');

    // In parallel: each CLI start takes a while on a loaded machine.
    const [cli, plain, all] = await Promise.all([
      runGpuflow(env.childEnv, ['logs', wl.workloadId, '--json']),
      runGpuflow(env.childEnv, ['logs', wl.workloadId, '--tail', '2', '-t']),
      runGpuflow(env.childEnv, ['logs', wl.workloadId]),
    ]);
    assert.equal(cli.code, 0, cli.stderr);
    const lines = jsonLines(cli.stdout);
    // Each stream in order (two stampers: their interleaving is by time, not guaranteed exact).
    assert.deepEqual(lines.filter((l) => l.stream === 'stdout').map((l) => l.text), ['hello from stdout', 'token is ***', 'step 1', 'step 2', 'step 3', 'step 4', 'step 5']);
    assert.deepEqual(lines.filter((l) => l.stream === 'stderr').map((l) => l.text), ['warning on stderr']);
    assert.equal(lines.length, 8);
    for (const l of lines) {
      assert.equal(l.attempt, 1);
      assert.match(l.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    }
    assert.equal(plain.code, 0, plain.stderr);
    // --tail 2: the last two lines of the history above, each on its own stream, with its time.
    const lastTwo = lines.slice(-2);
    const onStream = (stream: string) => lastTwo.filter((l) => l.stream === stream).map((l) => `${l.time} ${l.text}\n`).join('');
    assert.ok(lastTwo.some((l) => l.text === 'step 5'));
    assert.equal(plain.stdout, onStream('stdout'));
    assert.ok(plain.stderr.includes(onStream('stderr')));
    assert.equal(plain.stderr.includes('warning on stderr'), lastTwo.some((l) => l.stream === 'stderr'));
    assert.equal(all.stderr.trim(), 'warning on stderr', "the job's stderr on stderr");
    for (const out of [cli.stdout, cli.stderr, plain.stdout, all.stdout, all.stderr]) assert.ok(!out.includes(SECRET), 'the secret is in no CLI output');
    assert.ok(!storedText().includes(SECRET), 'the secret is in no stored log');
    assert.ok(storedText().includes('token is ***'));

    // The embedding API reads the same.
    const api: string[] = [];
    for await (const l of env.client.handle(wl.workloadId).logs({ follow: true })) api.push(l.text);
    assert.deepEqual(api, lines.map((l) => l.text));
  });

  it("keeps a preempted attempt's log, labelled by attempt", async () => {
    const command = 'for i in $(seq 1 40); do echo "attempt $GPUFLOW_ATTEMPT line $i"; sleep 0.25; done';
    const wl = await env.client.launch({ name: 'logs-preempt', command, gpu: { classes: ['H100'] }, spot: 'allow' });
    await waitFor('attempt 1 to ship a few lines', async () => (await storedLines(wl.workloadId)) > 200, 60_000);
    const first = (await wl.status()).instance!;
    await env.admin.preempt(first.cloudId, 'capacity reclaimed');
    const r = await wl.result();
    assert.equal(r.outcome, 'succeeded');
    assert.equal(r.attempts[0]!.outcome, 'interrupted');

    const last = r.attempts.length;
    const [one, twoOut, both] = await Promise.all([
      runGpuflow(env.childEnv, ['logs', wl.workloadId, '--attempt', '1', '--json']),
      runGpuflow(env.childEnv, ['logs', wl.workloadId, '--attempt', String(last), '--json']),
      runGpuflow(env.childEnv, ['logs', wl.workloadId]),
    ]);
    assert.equal(one.code, 0, one.stderr);
    const l1 = jsonLines(one.stdout);
    assert.ok(l1.length >= 3 && l1.length < 40, `attempt 1 was cut short by the preemption (${l1.length} lines)`);
    assert.ok(l1.every((l) => l.attempt === 1 && /^attempt 1 line \d+$/.test(l.text)));
    assert.deepEqual(l1.map((l) => l.text), l1.map((_, i) => `attempt 1 line ${i + 1}`), 'in order, none missing');
    const two = jsonLines(twoOut.stdout);
    assert.deepEqual(two.map((l) => l.text), Array.from({ length: 40 }, (_, i) => `attempt ${last} line ${i + 1}`));
    assert.match(both.stderr, new RegExp(`gpuflow: attempt 1 on ${first.cloudId}[^]*gpuflow: attempt ${last} on `));
    const stored = await store.listAttempts(wl.workloadId);
    assert.equal(stored[0]!.cloudId, first.cloudId);
    assert.equal(stored[0]!.done, false, 'the lost attempt never finished');
    assert.equal(stored.at(-1)!.done, true);
  });

  it('follows across a worker kill -9 and restart with no gap and no duplicate, over SSH and from the store', async () => {
    // The job prints 20 lines, waits for the test's go (both followers are reading by then), then
    // prints the rest while the worker is killed and restarted.
    const gate = join(env.dir, 'follow-go');
    const N = 80;
    const command = [
      `for i in $(seq 1 ${N}); do`,
      `  [ $i = 21 ] && while [ ! -f ${gate} ]; do sleep 0.2; done`,
      `  echo "n $i"; [ $((i % 3)) = 0 ] && echo "e $i" >&2; sleep 0.2`,
      'done',
    ].join('\n');
    const wl = await env.client.launch({ name: 'logs-follow', command, gpu: { classes: ['L4'] } });
    const follow = (extra: string[], childEnv: NodeJS.ProcessEnv) => {
      const child = spawn(process.execPath, [...nodeEntryArgs('cli/main'), 'logs', '-f', wl.workloadId, '--json', ...extra], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      let code: number | null | undefined;
      const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve((code = c))));
      return { child, exited, out: () => stdout, err: () => stderr, code: () => code };
    };
    await waitFor('the job to run', async () => (await wl.status()).state === 'running', 90_000);
    const viaSsh = follow(['--ssh-key', env.sshKeyFile], env.childEnv);
    const viaStore = follow([], { ...env.childEnv, GPUFLOW_SSH_KEY: join(env.dir, 'no-such-key') });
    try {
      await waitFor('both followers to print line 20', async () => viaSsh.out().includes('"n 20"') && viaStore.out().includes('"n 20"'), 180_000);
    } catch (e) {
      throw new Error(`${(e as Error).message}\nssh follower (exit ${viaSsh.code()}): ${viaSsh.out().slice(-500)} ${viaSsh.err()}\nstore follower (exit ${viaStore.code()}): ${viaStore.out().slice(-500)} ${viaStore.err()}\nstored: ${await storedLines(wl.workloadId)} bytes`);
    }

    await killHard(worker);
    writeFileSync(gate, '');
    await new Promise((r) => setTimeout(r, 3_000));
    worker = await env.spawnWorker();
    const r = await wl.result();
    assert.equal(r.outcome, 'succeeded');
    // stdout and stderr are stamped by two processes: each stream is in order, not their interleaving.
    const expected = {
      stdout: Array.from({ length: N }, (_, i) => `n ${i + 1}`),
      stderr: Array.from({ length: N }, (_, i) => i + 1).filter((i) => i % 3 === 0).map((i) => `e ${i}`),
    };
    const streams = (lines: LogLine[]) => ({ stdout: lines.filter((l) => l.stream === 'stdout').map((l) => l.text), stderr: lines.filter((l) => l.stream === 'stderr').map((l) => l.text) });
    for (const [name, f] of [['ssh', viaSsh], ['store', viaStore]] as const) {
      const code = await Promise.race([f.exited, new Promise((r) => setTimeout(() => r('still running'), 60_000))]);
      assert.equal(code, 0, `${name} follower ended with the workload: ${f.err()}`);
      assert.deepEqual(streams(jsonLines(f.out())), expected, `${name}: every line exactly once, in order`);
    }
    const stored = jsonLines((await runGpuflow(env.childEnv, ['logs', wl.workloadId, '--json'])).stdout);
    assert.deepEqual(streams(stored), expected, 'the store has every line once across the restart');
  });
});
