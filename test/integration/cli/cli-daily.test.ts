/**
 * The CLI as a daily tool (issue 19): real processes against a real dev server, local cloud and
 * sshd; Ctrl-C in a real terminal (tmux).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { nodeEntryArgs } from '../../../src/cli/nodeEntry.js';
import { toDecimalString } from '../../../src/money/money.js';
import { GpuflowClient, TemporalUnreachableError } from '../../../src/client/gpuflowClient.js';
import type { WorkloadStatus } from '../../../src/workflows/messages.js';
import { CatalogStoreClient } from '../../../src/catalog/sync/client.js';
import { ensureCatalogSyncLoops } from '../../../src/catalog/sync/loops.js';
import { workloadsViewUrl } from '../../../src/cli/webUi.js';
import { loadConnections } from '../../../src/config/connections.js';
import { ProviderRegistry } from '../../../src/providers/registry.js';
import { runGpuflow, type CliResult } from '../../helpers/cli.js';
import { startTestEnv, waitFor, type TestEnv } from '../../helpers/environment.js';

const exec = promisify(execFile);
let env: TestEnv;
let cliEnv: NodeJS.ProcessEnv;

function gpuflow(...args: string[]): Promise<CliResult> {
  return runGpuflow(cliEnv, args, 120_000);
}

function spec(name: string, command: string, extra = ''): string {
  const f = join(env.dir, `${name}.yaml`);
  writeFileSync(f, `name: ${name}\ncommand: ${JSON.stringify(command)}\ngpu: { classes: [L4] }\nspot: never\n${extra}`);
  return f;
}

async function status(id: string): Promise<WorkloadStatus> {
  return env.client.handle(id).status();
}

/** A terminal of its own (tmux on a private socket) running the CLI, for Ctrl-C as a user sends it. */
class Terminal {
  private readonly socket = `gpuflow-test-${process.pid}`;
  private readonly log: string;
  constructor(private readonly name: string) {
    this.log = join(env.dir, `${name}.tty.log`);
  }
  async start(args: string[]): Promise<void> {
    const vars = Object.entries(cliEnv)
      .filter(([k, v]) => v !== undefined && /^(TEMPORAL_|GPUFLOW_|PATH$|HOME$)/.test(k))
      .map(([k, v]) => `${k}=${shellQuote(v!)}`);
    // The terminal's output goes to a file (pipe-pane): Ctrl-C reaches the CLI alone, as in a shell.
    const cmd = `env ${vars.join(' ')} ${[process.execPath, ...nodeEntryArgs('cli/main'), ...args].map(shellQuote).join(' ')}; echo "exit=$?"; sleep 600`;
    writeFileSync(this.log, '');
    // The CLI starts once its output is piped (a loaded machine may take long to attach the pipe).
    const piped = `${this.log}.piped`;
    const waitPiped = `while [ ! -e ${shellQuote(piped)} ]; do sleep 0.1; done`;
    await exec('tmux', ['-L', this.socket, 'new-session', '-d', '-s', this.name, '-x', '250', '-y', '50', 'bash', '-c', `${waitPiped}; ${cmd}`]);
    await exec('tmux', ['-L', this.socket, 'pipe-pane', '-t', this.name, '-o', `cat >> ${shellQuote(this.log)}`]);
    writeFileSync(piped, '');
  }
  output(): string {
    try {
      return readFileSync(this.log, 'utf8').replace(/\r/g, '');
    } catch {
      return '';
    }
  }
  async waitFor(re: RegExp, timeoutMs = 90_000): Promise<string> {
    return waitFor(`terminal output ${re}`, async () => (re.test(this.output()) ? this.output() : undefined), timeoutMs, 250);
  }
  async ctrlC(): Promise<void> {
    await exec('tmux', ['-L', this.socket, 'send-keys', '-t', this.name, 'C-c']);
  }
  async close(): Promise<void> {
    // This session only (the tmux server exits with its last session): terminals may overlap.
    await exec('tmux', ['-L', this.socket, 'kill-session', '-t', this.name]).catch(() => undefined);
  }
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function workloadIdOf(out: string): string {
  const m = /workload (\S+)/.exec(out);
  assert.ok(m, `no workload ID in:\n${out}`);
  return m[1]!;
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

before(async () => {
  env = await startTestEnv();
  await env.startWorker();
  cliEnv = { ...env.childEnv, GPUFLOW_SSH_KEY: env.sshKeyFile };
});
after(async () => {
  await env?.teardown();
});

describe('gpuflow CLI, daily use', () => {
  it('1: Ctrl-C on run detaches and says how to stop or follow it; --stop-on-interrupt stops it', async () => {
    const f = spec('ctrl-c', 'for i in $(seq 1 120); do echo tick-$i; sleep 1; done');
    const t = new Terminal('detach');
    try {
      await t.start(['run', f]);
      await t.waitFor(/\| tick-1\b/);
      await t.ctrlC();
      // At once: the CLI is back at the prompt well within 10 s (a pending wait for the result once
      // held it up to 20 s after the message; about 1 s on a loaded machine now).
      const out = await t.waitFor(/exit=\d+/, 10_000);
      const id = workloadIdOf(out);
      assert.match(out, new RegExp(`detached: ${id} keeps running; \`gpuflow stop ${id}\` ends it; \`gpuflow logs -f ${id}\` follows it`));
      assert.match(out, /exit=130/);
      assert.equal((await status(id)).state, 'running', 'the workload keeps running');
      // `gpuflow logs -f` follows it, as the message says, until it ends.
      const follow = new Terminal('follow');
      try {
        await follow.start(['logs', '-f', id]);
        const seen = Number(/tick-(\d+)/.exec(await follow.waitFor(/tick-\d+/))![1]);
        await follow.waitFor(new RegExp(`tick-${seen + 1}\\b`), 30_000);
        const stop = await gpuflow('stop', id);
        assert.equal(stop.code, 0, stop.stderr);
        await env.client.handle(id).result();
        const followed = await follow.waitFor(/exit=\d+/, 60_000);
        assert.match(followed, /terminated: stopped/);
      } finally {
        await follow.close();
      }
    } finally {
      await t.close();
    }

    const s = new Terminal('stop');
    try {
      await s.start(['run', f, '--stop-on-interrupt']);
      await s.waitFor(/\| tick-1\b/);
      await s.ctrlC();
      const out = await s.waitFor(/exit=\d+/, 90_000);
      const id = workloadIdOf(out);
      assert.match(out, new RegExp(`interrupted: stopping ${id}`));
      assert.match(out, /terminated: stopped/);
      assert.equal((await status(id)).outcome, 'stopped');
    } finally {
      await s.close();
    }
  });

  it("2: run streams the job's output under the state lines (--quiet turns it off) and shows the last lines on failure", async () => {
    const ok = await gpuflow('run', spec('stream', 'for i in 1 2 3; do echo line-$i; sleep 1; done'));
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /running\n(?:.*\n)*?\s+\| line-1\n\s+\| line-2\n\s+\| line-3\n/);
    assert.ok(ok.stdout.indexOf('| line-1') > ok.stdout.indexOf(' running'), 'output comes under the running state line');
    assert.equal(ok.stdout.match(/\| line-2/g)?.length, 1, 'each line once');

    const quiet = await gpuflow('run', spec('quiet', 'echo hidden-line; sleep 2'), '--quiet');
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.doesNotMatch(quiet.stdout, /hidden-line/);
    assert.match(quiet.stdout, /terminated: succeeded/);

    const bad = await gpuflow('run', spec('fails', 'echo loading model; sleep 2; echo "CUDA out of memory: the cause" >&2; exit 3'));
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /last \d+ line\(s\) of the job's output \(exit code 3\):\n\s+\| loading model\n\s+\| CUDA out of memory: the cause\n/);
    assert.match(bad.stdout, /terminated: failed: .*3/);
  });

  it('3: no server: a clear error naming the address and the fix, after a 2 s connect timeout', async () => {
    const port = await freePort();
    const r = await runGpuflow({ ...cliEnv, TEMPORAL_ADDRESS: `127.0.0.1:${port}` }, ['ps']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`cannot reach the Temporal server at 127\\.0\\.0\\.1:${port}.*is \`gpuflow dev\` running\\?.*TEMPORAL_ADDRESS`));
    // The connect itself (not the CLI's start-up, which a loaded machine slows): bounded by its 2 s timeout.
    const t0 = Date.now();
    await assert.rejects(GpuflowClient.connect({ address: `127.0.0.1:${port}` }), TemporalUnreachableError);
    assert.ok(Date.now() - t0 < 4_000, `connect gave up after ${Date.now() - t0} ms`);
  });

  it('4: status of an ended workload shows its outcome, exact cost and attempt ends, no live details', async () => {
    const r = await gpuflow('run', spec('ended', 'echo done; sleep 1'), '--json');
    assert.equal(r.code, 0, r.stderr);
    const { workloadId } = JSON.parse(r.stdout) as { workloadId: string };
    const st = await status(workloadId);
    const human = await gpuflow('status', workloadId);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /state\s+terminated \(succeeded\)/);
    assert.match(human.stdout, new RegExp(`\\ncost\\s+${toDecimalString(st.costSoFar).replace('.', '\\.')} USD\\n`), 'the exact cost');
    assert.match(human.stdout, /instance\s+local:\S+ \(terminated\)/);
    // The workflow records a finished attempt as completed, with its end.
    assert.match(human.stdout, /attempts\s+local\/\S+ completed, created \S+, ended \S+\n/);
    assert.match(human.stdout, /duration\s+/);
    for (const gone of [/budgets/, /ssh/, /gpu utilization/, /watchdog/, /cost so far/, / created\b(?!,? ?\d)/]) assert.doesNotMatch(human.stdout, gone);
  });

  it('5: ps shows GPU, where, spot, cost, duration, outcome and relative start; refuses an unknown --state', async () => {
    const r = await gpuflow('ps');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^WORKLOAD\s+STATE\s+OUTCOME\s+GPU\s+WHERE\s+SPOT\s+COST\s+DURATION\s+STARTED\s+PROJECT/);
    assert.match(r.stdout, /\nstream-\w+\s+terminated\s+succeeded\s+1x L4\s+local\/\S+\s+on-demand\s+0\.\d+ USD\s+\S+\s+(just now|\d+ s ago|\d+ min ago)/);
    assert.match(r.stdout, /\nctrl-c-\w+\s+terminated\s+stopped\s/);
    assert.match(r.stdout, /\nfails-\w+\s+terminated\s+failed\s/);
    const bad = await gpuflow('ps', '--state', 'runing');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /argument 'runing' is invalid\. Allowed choices are pending, selecting, .*running.*terminated/);
  });

  it('6: gpuflow ssh runs a command on the node; status prints an ssh command that works as printed', async () => {
    const f = spec('sshable', 'sleep 120');
    const started = await gpuflow('run', f, '--detach');
    const id = started.stdout.trim();
    await waitFor('running', async () => (await status(id)).state === 'running', 90_000);
    const r = await gpuflow('ssh', id, '--', 'echo', 'hello-from-$(hostname)-node');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^hello-from-.+-node\n$/);
    const code = await gpuflow('ssh', id, '--', 'exit 7');
    assert.equal(code.code, 7, 'the remote exit code is the CLI exit code');
    const noNode = await gpuflow('ssh', id, '--node', '1');
    assert.match(noNode.stderr, /--node 1: .* has 1 node \(0\)/);

    const st = await gpuflow('status', id);
    const line = /\nssh\s+gpuflow ssh \S+\s+or: (ssh -i .+)\n/.exec(st.stdout);
    assert.ok(line, st.stdout);
    assert.ok(line[1]!.includes(`-i ${env.sshKeyFile}`));
    const out = execFileSync('bash', ['-c', `${line[1]} echo printed-command-works`], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(out.trim(), 'printed-command-works');

    assert.equal((await gpuflow('stop', id)).code, 0);
    await env.client.handle(id).result();
    const ended = await gpuflow('ssh', id);
    assert.equal(ended.code, 1);
    assert.match(ended.stderr, new RegExp(`${id} has ended \\(stopped\\): its instance is gone`));
  });

  it('7 / 18.5: an unknown GPU class is refused at the boundary with the nearest match, and nothing starts', async () => {
    const before = (JSON.parse((await gpuflow('ps', '--json')).stdout) as unknown[]).length;
    const flag = await gpuflow('run', spec('typo', 'true'), '--gpu', 'H900');
    assert.equal(flag.code, 1);
    assert.match(flag.stderr, /gpu\.classes\.0: H900: unknown GPU class; did you mean H200 or H100\?/);
    const file = join(env.dir, 'typo-file.yaml');
    writeFileSync(file, 'name: typo-file\ncommand: "true"\ngpu: { classes: [L4, H900] }\n');
    const fromFile = await gpuflow('run', file);
    assert.match(fromFile.stderr, /gpu\.classes\.1: H900: unknown GPU class; did you mean H200 or H100\?/);
    const offers = await gpuflow('offers', '--gpu', 'H900:8', '--catalog', join(import.meta.dirname, '..', '..', '..', 'data', 'skypilot-catalog'));
    assert.equal(offers.code, 1);
    assert.match(offers.stderr, /H900: unknown GPU class; did you mean H200 or H100\?/);
    assert.equal((JSON.parse((await gpuflow('ps', '--json')).stdout) as unknown[]).length, before, 'no workflow was started');

    const empty = await gpuflow('offers', '--gpu', 'H100:8', '--connections', env.connectionsFile, '--live');
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /no offer matches: the gpu-count constraint emptied the list \(.*GPU count 1 is not 8\).*--explain.*--catalog data\/skypilot-catalog/);
  });

  it("8: the Web UI's workloads-only view lists workloads alone: no catalog sync loop or entity, no budget entity", async () => {
    // gpuflow's own machinery, as a worker start and a project budget create it.
    await ensureCatalogSyncLoops(env.client.temporal, env.temporal.taskQueue, ProviderRegistry.fromConnections(loadConnections(env.connectionsFile)));
    await waitFor('the catalog entity', async () => (await new CatalogStoreClient(env.client.temporal, env.temporal.taskQueue).status('local'))?.seq, 60_000, 500);
    assert.equal((await gpuflow('budget', 'set', '--project', 'ui-view', '--cap', '10.00')).code, 0);
    const types = new Set<string>();
    for await (const w of env.client.temporal.workflow.list()) types.add(w.type);
    for (const t of ['catalogSyncLoopWorkflow', 'catalogStoreWorkflow', 'budgetWorkflow', 'workloadWorkflow']) assert.ok(types.has(t), `${t} runs on this server`);

    const url = new URL(workloadsViewUrl('http://127.0.0.1:8233', env.server.namespace));
    const query = url.searchParams.get('query')!;
    const listed: string[] = [];
    for await (const w of env.client.temporal.workflow.list({ query })) listed.push(w.type);
    assert.ok(listed.length > 0);
    assert.deepEqual([...new Set(listed)], ['workloadWorkflow'], 'the view lists workloads and nothing else');
    const ps = JSON.parse((await gpuflow('ps', '--json')).stdout) as unknown[];
    assert.equal(listed.length, ps.length, 'every workload `gpuflow ps` shows is in the view');
  });

  it('10: ended workloads, --api-key, YAML errors, help pages: messages a user can act on', async () => {
    const id = JSON.parse((await gpuflow('run', spec('msgs', 'true'), '--json')).stdout).workloadId as string;
    // Logs outlive the instance (the log store): an ended job that wrote nothing says so.
    const logs = await gpuflow('logs', id);
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stderr, new RegExp(`${id} has ended \\(succeeded\\): no output stored for ${id}`));
    assert.doesNotMatch(logs.stderr, /already completed/);
    const stop = await gpuflow('stop', id);
    assert.equal(stop.code, 0);
    assert.match(stop.stdout, new RegExp(`${id} has ended \\(succeeded\\): nothing to stop`));
    const unknown = await gpuflow('status', 'no-such-workload');
    assert.match(unknown.stderr, /no workload no-such-workload: `gpuflow ps` lists them/);

    const key = await gpuflow('providers', 'add', 'lambda', '--name', 'x', '--api-key', 'sk-secret-123');
    assert.equal(key.code, 1);
    assert.match(key.stderr, /--api-key-stdin/);
    assert.doesNotMatch(key.stderr + key.stdout, /sk-secret-123/, 'the key is not echoed');

    const yamlFile = join(env.dir, 'broken.yaml');
    writeFileSync(yamlFile, 'name: [broken\n');
    const yaml = await gpuflow('run', yamlFile);
    assert.match(yaml.stderr, new RegExp(`${yamlFile.replace(/[.]/g, '\\.')}: not valid YAML`));
    const missing = join(env.dir, 'missing.yaml');
    writeFileSync(missing, 'command: "true"\n');
    assert.match((await gpuflow('run', missing)).stderr, /name: required: add name/);

    for (const cmd of ['run', 'logs', 'ssh']) {
      const help = await gpuflow(cmd, '--help');
      assert.match(help.stdout, /Examples:\n\s+\$ gpuflow /, `${cmd} --help has examples`);
      // --project takes any name: the help says so, and what it defaults to.
      if (cmd === 'run') assert.match(help.stdout, /--project <project>\s+cost attribution and budgets \(any name; default\s+"default"\)/);
    }
    assert.match((await gpuflow('ps', '--help')).stdout, /--state <state>.*\(choices: "pending",\s+"selecting"/s);

    const render = await gpuflow('recipes', 'render', 'smoke-test', '-p', 'seconds=3');
    assert.match(render.stdout, /maxDuration: 30m\n/);
    assert.doesNotMatch(render.stdout, /: \d{5,}\n/, 'no durations in milliseconds');
  });
});
