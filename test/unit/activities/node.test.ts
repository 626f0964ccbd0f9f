/**
 * The node-side shell that node.ts builds, run by a real bash in a temp HOME: port mapping in the
 * job script (against a `docker` on PATH that records its arguments), and restarting a job on the
 * same node (stop the old run, move its files aside, once per run number).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import {
  envFileContent,
  jobScript,
  launchCommand,
  launchWithAgeCommand,
  parseLaunch,
  pathSegment,
  pollCommand,
  prepareRunCommand,
  standardJobEnv,
  stopCommand,
} from '../../../src/activities/node.js';

const execFileAsync = promisify(execFile);

describe('job script port mapping', () => {
  let dir: string;
  let bin: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'gpuflow-node-'));
    bin = join(dir, 'bin');
    mkdirSync(bin);
    // A Docker engine stand-in: `docker info` succeeds, `docker run` prints its arguments one a line.
    writeFileSync(join(bin, 'docker'), '#!/usr/bin/env bash\n[ "$1" = info ] && exit 0\nprintf "%s\\n" "$@"\n');
    chmodSync(join(bin, 'docker'), 0o755);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function runScript(script: string, withDocker: boolean): Promise<string> {
    const file = join(dir, `job-${Math.random().toString(36).slice(2)}.sh`);
    writeFileSync(file, script);
    const PATH = withDocker ? `${bin}:/usr/bin:/bin` : '/usr/bin:/bin';
    const { stdout } = await execFileAsync('bash', [file], { env: { PATH, HOME: dir, GPUFLOW_CHECKPOINT_DIR: join(dir, 'ckpt') } });
    return stdout;
  }

  it('publishes each port with -p when a host port differs, instead of host networking', async () => {
    const ports = [{ port: 8000, public: true, hostPort: 18000 }, { port: 9090, public: false }];
    const args = (await runScript(jobScript('serve', 'vllm/vllm-openai:v0.6.3', ['A'], ports), true)).split('\n');
    assert.ok(!args.includes('--network'));
    const flags = args.flatMap((a, i) => (a === '-p' ? [args[i + 1]] : []));
    assert.deepEqual(flags, ['18000:8000', '9090:9090']);
    // Inside the container the command binds the container port.
    const envs = args.flatMap((a, i) => (a === '-e' ? [args[i + 1]] : []));
    assert.deepEqual(envs, ['A', 'GPUFLOW_PORT_8000=8000', 'GPUFLOW_PORT_9090=9090']);
    assert.deepEqual(args.slice(-4, -1), ['vllm/vllm-openai:v0.6.3', '-c', 'serve']);
  });

  it('keeps host networking when no port is mapped elsewhere', async () => {
    const args = (await runScript(jobScript('serve', 'img:1', [], [{ port: 8000, public: true, hostPort: 8000 }]), true)).split('\n');
    assert.equal(args[args.indexOf('--network') + 1], 'host');
    assert.ok(!args.includes('-p'));
  });

  it('without Docker, the command finds its host port in $GPUFLOW_PORT_<port>', async () => {
    const out = await runScript(jobScript('echo "bind $GPUFLOW_PORT_8000 and $GPUFLOW_PORT_22"', 'img:1', [], [
      { port: 8000, public: true, hostPort: 18000 },
      { port: 22, public: false },
    ]), false);
    assert.equal(out, 'bind 18000 and 22\n');
  });
});

describe('restarting a job on the same node', () => {
  let home: string;
  const id = 'svc:2026-11-23T10:00:00Z';
  let d: string;

  before(() => {
    home = mkdtempSync(join(tmpdir(), 'gpuflow-node-run-'));
    d = join(home, '.gpuflow', 'jobs', pathSegment(id));
  });
  after(() => rmSync(home, { recursive: true, force: true }));

  const sh = async (command: string): Promise<string> => (await execFileAsync('bash', ['-c', command], { env: { HOME: home, PATH: '/usr/bin:/bin' } })).stdout;

  function install(body: string): void {
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'job.sh'), jobScript(body, undefined, []));
    writeFileSync(join(d, 'env'), envFileContent(standardJobEnv(id)));
  }

  async function waitFor(pred: () => Promise<boolean> | boolean, what: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!(await pred())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('reruns a finished job once per run number, keeping the log and the old exit code', async () => {
    install('echo "attempt $(cat ~/n 2>/dev/null || echo 0)"; exit $(( 3 + $(cat ~/n 2>/dev/null || echo 0) ))');
    assert.equal((await sh(launchCommand(id))).trim(), 'STARTED');
    await waitFor(async () => (await sh(pollCommand(id))).startsWith('EXIT'), 'run 0 to exit');
    assert.equal((await sh(pollCommand(id))).trim(), 'EXIT 3');

    writeFileSync(join(home, 'n'), '1');
    assert.equal((await sh(prepareRunCommand(id, 1, 1))).trim(), 'PREPARED');
    assert.equal(readFileSync(join(d, 'runs', '0', 'exit_code'), 'utf8').trim(), '3');
    assert.ok(!existsSync(join(d, 'exit_code')) && !existsSync(join(d, 'started')));
    // A retried prepare (a worker crash after it) changes nothing.
    assert.equal((await sh(prepareRunCommand(id, 1, 1))).trim(), 'ALREADY');

    const launched = parseLaunch(await sh(launchWithAgeCommand(id)));
    assert.equal(launched.state, 'STARTED');
    assert.ok(launched.ageSeconds <= 1);
    await waitFor(async () => (await sh(pollCommand(id))).startsWith('EXIT'), 'run 1 to exit');
    assert.equal((await sh(pollCommand(id))).trim(), 'EXIT 4');
    // Re-attaching to a run that ended reports it, it does not start it again.
    assert.equal(parseLaunch(await sh(launchWithAgeCommand(id))).state, 'EXITED');
    assert.equal((await sh(prepareRunCommand(id, 1, 1))).trim(), 'ALREADY');
    assert.equal((await sh(pollCommand(id))).trim(), 'EXIT 4', 'a late retry of prepare 1 must not move run 1 aside');

    const log = readFileSync(join(d, 'log'), 'utf8');
    assert.match(log, /^attempt 0\ngpuflow: run 1 \(restart 1\) at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\nattempt 1\n$/);
  });

  it('stops what is left of the previous run: SIGTERM, then SIGKILL after the grace', async () => {
    // Ignores SIGTERM, so only the SIGKILL after the 1 s grace ends it.
    install('trap "" TERM; echo $$ > ~/job.pid; while true; do sleep 0.1; done');
    await sh(prepareRunCommand(id, 2, 1));
    assert.equal(parseLaunch(await sh(launchCommand(id))).state, 'STARTED');
    await waitFor(() => existsSync(join(home, 'job.pid')), 'the job to write its pid');
    const pid = Number(readFileSync(join(home, 'job.pid'), 'utf8'));
    assert.equal((await sh(pollCommand(id))).trim(), 'RUNNING');

    const t0 = Date.now();
    assert.equal((await sh(prepareRunCommand(id, 3, 1))).trim(), 'PREPARED');
    const took = Date.now() - t0;
    assert.ok(took >= 900 && took < 8_000, `stop took ${took} ms`);
    assert.ok(!existsSync(`/proc/${pid}`) || readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].startsWith('Z'), 'old run is gone');
    assert.ok(existsSync(join(d, 'runs', '2', 'pid')));
    assert.ok(!existsSync(join(d, 'runs', '2', 'exit_code')), 'a killed run has no exit code to keep');
    assert.equal((await sh(pollCommand(id))).trim(), 'LOST', 'nothing launched for run 3 yet');
  });

  it('stop waits for the whole process group, not just the launcher (also under set -u, as the watchdog runs it)', async () => {
    // The launcher's shell dies on SIGTERM at once; the job ignores it and must get the SIGKILL.
    install('trap "" TERM; echo $$ > ~/job.pid; while true; do sleep 0.1; done');
    rmSync(join(home, 'job.pid'), { force: true });
    await sh(prepareRunCommand(id, 4, 1));
    await sh(launchCommand(id));
    await waitFor(() => existsSync(join(home, 'job.pid')), 'the job to write its pid');
    const pid = Number(readFileSync(join(home, 'job.pid'), 'utf8'));
    const t0 = Date.now();
    await sh(`set -u; stop_job() (\n${stopCommand(id, 1)}\n); stop_job`);
    assert.ok(Date.now() - t0 >= 900, 'waited out the grace');
    await waitFor(() => !existsSync(`/proc/${pid}`) || readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].startsWith('Z'), 'the job to die');
  });

  it('refuses run numbers below 1 and a missing job directory', async () => {
    assert.throws(() => prepareRunCommand(id, 0, 1), /run must be an integer >= 1/);
    await assert.rejects(sh(prepareRunCommand('never-bootstrapped', 1, 1)), /bootstrap the instance first/);
  });

  it('parses launch output', () => {
    assert.deepEqual(parseLaunch('ATTACHED\nAGE 12\n'), { state: 'ATTACHED', ageSeconds: 12 });
    assert.deepEqual(parseLaunch('STARTED\nAGE -1\n'), { state: 'STARTED', ageSeconds: 0 });
    assert.throws(() => parseLaunch('bash: oops'), /unexpected launch output/);
  });
});
