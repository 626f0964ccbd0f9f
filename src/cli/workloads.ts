/** `gpuflow run|ps|status|logs|stop|ssh`: launching workloads, listing them, looking inside, ending them. */
import { spawn } from 'node:child_process';
import { Command, InvalidArgumentError, Option } from 'commander';
import { loadConnections } from '../config/connections.js';
import { defaultConnectionsFile } from '../config/connectionsFile.js';
import { parseWorkloadSpec } from '../workload/spec.js';
import { loadUserDefaults } from '../config/userDefaults.js';
import { WORKLOAD_STATES, type WorkloadState, type WorkloadStatus } from '../workflows/messages.js';
import { collectList, collectParam } from './cliContext.js';
import { configuredServer, withWorkloadBackend, type WorkloadAccess, type WorkloadBackend } from './workloadBackend.js';
import { chooseDefaultGpu, workloadNamesGpu } from './defaultGpu.js';
import { followWorkload, rootMessage } from './follow.js';
import { registerLogsCommand } from './logs.js';
import { formatStatus } from './format.js';
import { formatWorkloadTable } from './workloadTable.js';
import { loadRunTarget } from './runTarget.js';
import { liveSshTarget, sshArgs, sshKeyHint, sshKeyPath } from './sshAccess.js';
import { parseGpuOption } from './offers.js';
import { printGroupStatusIfGroup, registerScaleCommand } from './serviceGroups.js';

function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
}

/** "x has ended (succeeded)", or undefined while it runs; throws a clear error for an unknown ID. */
async function endedNote(b: WorkloadBackend, h: WorkloadAccess): Promise<{ status?: WorkloadStatus; ended?: string }> {
  let st: WorkloadStatus;
  try {
    st = await h.status();
  } catch (e) {
    // Through a server, a workload in a project the caller has no role in is not found either.
    if (b.isNotFound(e)) throw new Error(`no workload ${h.workloadId}${b.viaServer ? ` visible to you on ${b.via}` : ''}: \`gpuflow ps\` lists them`);
    throw e;
  }
  return st.state === 'terminated' ? { status: st, ended: `${h.workloadId} has ended (${st.outcome ?? 'terminated'})` } : { status: st };
}

function nodeIndex(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('a node index: 0, 1, ...');
  return n;
}

interface RunFlags {
  name?: string;
  gpu?: { classes: string[]; count?: number | { min: number; max: number } };
  spot?: string;
  maxPrice?: string;
  project?: string;
  detach?: boolean;
  json?: boolean;
  quiet?: boolean;
  stopOnInterrupt?: boolean;
  sshKey?: string;
  param?: Record<string, string>;
  recipesDir?: string[];
}

async function runCommand(file: string, o: RunFlags, cmd: Command): Promise<void> {
  const spec = loadRunTarget(file, { params: o.param ?? {}, recipesDir: o.recipesDir });
  if (o.name) spec.name = o.name;
  if (!o.gpu && !workloadNamesGpu(spec)) {
    // The connections' defaultGpu (see ./defaultGpu.ts), from the file the worker reads by default.
    const choice = chooseDefaultGpu(spec, loadConnections(defaultConnectionsFile()));
    if (choice) {
      spec.gpu = { classes: choice.gpu.classes, count: choice.gpu.count };
      if (!o.json) console.error(`no GPU named: using ${choice.gpu.classes.join('|')}:${choice.gpu.count}, the default GPU of ${choice.from.join(', ')}`);
    }
  }
  if (o.gpu) spec.gpu = { ...((spec.gpu as object) ?? {}), ...o.gpu };
  if (o.spot) spec.spot = o.spot;
  if (o.maxPrice) spec.maxPricePerHour = o.maxPrice;
  if (o.project) spec.project = o.project;
  // `gpuflow init`'s defaults for a spec that names no project (or tenant).
  const defaults = loadUserDefaults();
  if (spec.project === undefined && defaults.project) spec.project = defaults.project;
  if (spec.tenant === undefined && defaults.tenant && (spec.project === defaults.project || !defaults.project)) spec.tenant = defaults.tenant;
  parseWorkloadSpec(spec); // a bad spec fails here, before any connection or workflow
  await withWorkloadBackend(cmd, async (b) => {
    const { handle, webUrl } = await b.launch(spec);
    const id = handle.workloadId;
    if (o.detach) {
      console.log(o.json ? JSON.stringify({ workloadId: id }) : id);
      return;
    }
    if (!o.json) console.log(`workload ${id}${b.viaServer ? ` via ${b.via}` : ''}${webUrl ? `  (Web UI: ${webUrl})` : ''}`);
    // Ctrl-C: detach at once and say so (the workload keeps running and billing), or with
    // --stop-on-interrupt stop it and follow it to the end (a second Ctrl-C detaches).
    const detach = new AbortController();
    let stopping = false;
    const onInterrupt = () => {
      if (o.stopOnInterrupt && !stopping) {
        stopping = true;
        console.error(`\ninterrupted: stopping ${id} (Ctrl-C again to detach and leave it running)`);
        handle.stop('interrupted (--stop-on-interrupt)').catch((e: Error) => console.error(`could not stop ${id}: ${rootMessage(e)}`));
        return;
      }
      console.error(`\ndetached: ${id} keeps running${stopping ? ' and stopping' : ''}; \`gpuflow stop ${id}\` ends it; \`gpuflow logs -f ${id}\` follows it`);
      detach.abort();
    };
    process.on('SIGINT', onInterrupt);
    try {
      const r = await followWorkload(handle, (l) => !o.json && console.log(l), { output: !o.quiet && !o.json, signal: detach.signal, ...outputKey(b, o.sshKey) });
      if (r.detached) {
        if (o.json) console.log(JSON.stringify({ workloadId: id, detached: true, state: r.last?.state }));
        process.exitCode = 130;
        return;
      }
      if (o.json) console.log(JSON.stringify(r.result ?? { workloadId: id, error: rootMessage(r.error!), status: r.last }));
      if (r.error) process.exitCode = 1;
    } finally {
      process.off('SIGINT', onInterrupt);
    }
  });
}

export function registerWorkloadCommands(program: Command): void {
  program
    .command('run')
    .description('launch a workload from a YAML spec or a recipe and follow it to the end, with the job\'s output')
    .argument('<spec>', 'workload spec file (YAML) or recipe name (see `gpuflow recipes list`)')
    .option('-p, --param <key=value>', 'a recipe parameter (repeatable)', collectParam)
    .option('--recipes-dir <dir>', 'also look for recipes here (repeatable)', collectList)
    .option('--name <name>', 'override the name (lower-case DNS-style)')
    .option('--gpu <model[:count]>', 'override the GPU: H100:8, "H100|A100:1", A100-80GB:4 (see `gpuflow offers`)', parseGpuOption)
    .addOption(new Option('--spot <policy>', 'override the spot policy').choices(['never', 'allow', 'only']))
    .option('--max-price <usd>', 'maximum price per hour, e.g. 1.20')
    .option('--project <project>', 'cost attribution and budgets (any name; default "default")')
    .option('-d, --detach', 'start and print the workload ID')
    .option('-q, --quiet', "only the state lines, not the job's output")
    .option('--ssh-key <file>', "stream the job's output over SSH with this key (default: the worker's, env GPUFLOW_SSH_KEY)")
    .option('--stop-on-interrupt', 'Ctrl-C stops the workload (default: Ctrl-C detaches and it keeps running)')
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      examples(
        'gpuflow run examples/hello-gpu.yaml',
        'gpuflow run examples/hello-gpu.yaml --gpu L4:1 --spot allow --max-price 1.20',
        'gpuflow run smoke-test -p seconds=5 --detach',
        'gpuflow run train.yaml --stop-on-interrupt --quiet   # for scripts: Ctrl-C ends it',
      ),
    )
    .action((file: string, o: RunFlags, cmd: Command) => runCommand(file, o, cmd));

  program
    .command('ps')
    .description('list workloads, newest first, with GPU, where, spot, cost, duration and how they ended')
    .option('--project <project>', 'only this project (as in specs\' `project:`)')
    .addOption(new Option('--state <state>', 'only workloads in this state').choices([...WORKLOAD_STATES]))
    .option('--limit <n>', 'at most this many', '50')
    .option('--json')
    .addHelpText('after', examples('gpuflow ps', 'gpuflow ps --state running', 'gpuflow ps --project research --json'))
    .action(async (o: { project?: string; state?: WorkloadState; limit: string; json?: boolean }, cmd: Command) => {
      await withWorkloadBackend(cmd, async (b) => {
        const rows = await b.rows({ ...(o.project ? { project: o.project } : {}), ...(o.state ? { state: o.state } : {}), limit: Number(o.limit) });
        console.log(o.json ? JSON.stringify(rows) : formatWorkloadTable(rows));
      });
    });

  registerScaleCommand(program, examples);

  program
    .command('status')
    .argument('<workloadId>')
    .option('--json')
    .option('--ssh-key <file>', 'the key to show in the ssh command (default: the worker\'s, env GPUFLOW_SSH_KEY)')
    .description("a workload's state, offer, instance and cost; once ended: its outcome, exact cost and each attempt's end; a service group's replicas")
    .addHelpText('after', examples('gpuflow status hello-gpu-1b79c0de', 'gpuflow status hello-gpu-1b79c0de --json'))
    .action(async (id: string, o: { json?: boolean; sshKey?: string }, cmd: Command) => {
      if (await printGroupStatusIfGroup(cmd, id, !!o.json)) return;
      await withWorkloadBackend(cmd, async (b) => {
        const { status } = await endedNote(b, b.handle(id));
        console.log(o.json ? JSON.stringify(status) : formatStatus(status!, { sshKey: sshKeyPath(o.sshKey) }));
      });
    });

  // Through a server (GPUFLOW_SERVER or a login) the output comes through it, where roles apply.
  registerLogsCommand(program, examples, async (cmd, id, o) => {
    if (!configuredServer(cmd)) return false;
    await withWorkloadBackend(cmd, async (b) => serverLogsCommand(b, id, { lines: String(o.tail ?? 100), ...(o.follow ? { follow: true } : {}) }));
    return true;
  });

  program
    .command('stop')
    .argument('<workloadId>')
    .option('--reason <text>', 'why', 'requested from the CLI')
    .description('stop gracefully: SIGTERM to the job, grace period, terminate the instance')
    .addHelpText('after', examples('gpuflow stop hello-gpu-1b79c0de', 'gpuflow stop hello-gpu-1b79c0de --reason "wrong dataset"'))
    .action(async (id: string, o: { reason: string }, cmd: Command) => {
      await withWorkloadBackend(cmd, async (b) => {
        const h = b.handle(id);
        const before = await endedNote(b, h);
        if (before.ended) {
          console.log(`${before.ended}: nothing to stop`);
          return;
        }
        try {
          console.log(`${id}: ${await h.stop(o.reason)}`);
        } catch (e) {
          const after = await endedNote(b, h);
          if (after.ended) console.log(`${after.ended}: nothing to stop`);
          else throw new Error(`${id}: ${rootMessage(e as Error)}`);
        }
      });
    });

  program
    .command('ssh')
    .argument('<workloadId>')
    .argument('[command...]', 'run this on the node instead of a shell (after --)')
    .option('--node <n>', 'which node (workloads have one node: 0)', nodeIndex, 0)
    .option('--ssh-key <file>', 'private key (default: the worker\'s, env GPUFLOW_SSH_KEY)')
    .description("a shell (or a command) on the workload's node, with OpenSSH and the worker's key")
    .addHelpText('after', examples('gpuflow ssh hello-gpu-1b79c0de', 'gpuflow ssh hello-gpu-1b79c0de -- nvidia-smi', 'gpuflow ssh hello-gpu-1b79c0de --node 0 -- tail -f ~/.gpuflow/jobs/*/log'))
    .action(async (id: string, command: string[], o: { node: number; sshKey?: string }, cmd: Command) => {
      const target = await withWorkloadBackend(cmd, async (b) => {
        const { status, ended } = await endedNote(b, b.handle(id));
        if (ended) throw new Error(`${ended}: its instance is gone; \`gpuflow status ${id}\` shows how it ended`);
        if (o.node !== 0) throw new Error(`--node ${o.node}: ${id} has 1 node (0)`);
        const t = liveSshTarget(status!);
        if (!t) throw new Error(`${id} has no SSH address yet (state: ${status!.state}); try again once it is bootstrapping or running`);
        return t;
      });
      const key = sshKeyPath(o.sshKey);
      const hint = sshKeyHint(key);
      if (hint) throw new Error(hint);
      const child = spawn('ssh', sshArgs(target, key, { tty: command.length === 0 && process.stdin.isTTY, command }), { stdio: 'inherit' });
      // The terminal's Ctrl-C belongs to the remote shell; ssh itself reports how it ended.
      process.on('SIGINT', () => undefined);
      const code = await new Promise<number>((resolve, reject) => {
        child.once('error', (e) => reject(new Error(`cannot run ssh (${e.message}): install OpenSSH's client`)));
        child.once('exit', (c, signal) => resolve(c ?? (signal ? 128 : 1)));
      });
      process.exitCode = code;
    });
}

async function serverLogsCommand(b: WorkloadBackend, id: string, o: { lines: string; follow?: boolean }): Promise<void> {
  const h = b.handle(id);
  const { ended } = await endedNote(b, h);
  const gone = (note: string) => `${note}: its instance is gone and its output with it (the job's output lives on the node while it runs)`;
  if (ended) throw new Error(gone(ended));
  if (o.follow) {
    // The output on stdout (pipe it), the state lines on stderr.
    const r = await followWorkload(h, (l) => console.error(l), { output: (l) => console.log(l), ...outputKey(b) });
    if (r.error) process.exitCode = 1;
    return;
  }
  try {
    process.stdout.write(await h.logs(Number(o.lines)));
  } catch (e) {
    const after = await endedNote(b, h);
    if (after.ended) throw new Error(gone(after.ended));
    throw new Error(`${id}: ${rootMessage(e as Error)}`);
  }
}

/** The SSH key that streams the job's output; through a server the output comes through it (roles apply). */
function outputKey(b: WorkloadBackend, flag?: string): { sshKey?: string } {
  return b.viaServer && !flag ? {} : { sshKey: sshKeyPath(flag) };
}
