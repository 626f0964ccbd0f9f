/**
 * `gpuflow logs <id>`: every attempt's output from the log store (so it works after the instance is
 * gone), then with -f new lines live until the workload ends (over SSH with the worker's key, else
 * from the store as the worker ships it). The job's stdout to stdout, its stderr and gpuflow's own
 * notes to stderr (as `docker logs`), or every line as JSON on stdout with --json.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { WorkflowNotFoundError } from '@temporalio/common';
import { parseSince } from '../time/since.js';
import type { GpuflowClient } from '../client/gpuflowClient.js';
import type { LogLine } from '../logs/records.js';
import { LocalLogStore } from '../logs/localStore.js';
import { logSettingsFromEnv } from '../logs/settings.js';
import { withGpuflowClient } from './cliContext.js';
import { sshKeyPath } from './sshAccess.js';
import { existsSync } from 'node:fs';

export interface LogsFlags {
  follow?: boolean;
  tail?: number;
  since?: Date;
  attempt?: number;
  timestamps?: boolean;
  json?: boolean;
  sshKey?: string;
}

export function positiveInt(what: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${what}: a whole number >= 0 (got "${v}")`);
    return n;
  };
}

/** `10m`, `2h`, `1d` (that long ago) or an ISO time, as every `--since` (src/time/since.ts). */
export function parseSinceFlag(v: string, now = Date.now()): Date {
  try {
    return new Date(parseSince(v, now));
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

export function formatLogLine(l: LogLine, o: { timestamps?: boolean }): string {
  return o.timestamps && l.time ? `${l.time} ${l.text}` : l.text;
}

/** `viaServer` handles the command when the CLI talks to a gpuflow server (it returns false otherwise). */
export type ServerLogs = (cmd: Command, id: string, o: LogsFlags) => Promise<boolean>;

export function registerLogsCommand(program: Command, examples: (...lines: string[]) => string, viaServer?: ServerLogs): void {
  program
    .command('logs')
    .argument('<workloadId>')
    .option('-f, --follow', 'keep printing new output until the workload ends (live from the node, across recoveries)')
    .option('-n, --tail <n>', 'only the last N lines of what is stored (following: then every new line)', positiveInt('--tail'))
    .option('--lines <n>', 'same as --tail', positiveInt('--lines'))
    .option('--since <time>', 'only lines since then: 10m, 2h, 1d or an ISO time', (v) => parseSinceFlag(v))
    .option('--attempt <n>', "only this attempt's log (1-based, as `gpuflow status` numbers attempts; a preempted attempt keeps its log)", positiveInt('--attempt'))
    .option('-t, --timestamps', "prefix each line with the node's time (UTC, microseconds)")
    .option('--json', 'one JSON object per line: attempt, time, stream (stdout|stderr|gpuflow), text')
    .option('--ssh-key <file>', "the worker's key, to follow live from the node (default: env GPUFLOW_SSH_KEY, else gpuflow dev's)")
    .description("the job's output: stdout and stderr with their times, kept after the instance is gone (see README, Logs)")
    .addHelpText(
      'after',
      examples('gpuflow logs hello-gpu-1b79c0de', 'gpuflow logs -f hello-gpu-1b79c0de', 'gpuflow logs hello-gpu-1b79c0de --attempt 1 --tail 50', 'gpuflow logs hello-gpu-1b79c0de --since 10m -t'),
    )
    .action(async (id: string, o: LogsFlags & { lines?: number }, cmd: Command) => {
      const flags = { ...o, ...(o.tail === undefined && o.lines !== undefined ? { tail: o.lines } : {}) };
      if (viaServer && (await viaServer(cmd, id, flags))) return;
      await withGpuflowClient(cmd, async (c) => logsCommand(c, id, flags));
    });
}

async function logsCommand(c: GpuflowClient, id: string, o: LogsFlags): Promise<void> {
  const key = sshKeyPath(o.sshKey);
  const h = c.handle(id, existsSync(key) ? { sshKeyFile: key } : {});
  let exists = true;
  try {
    await h.describe();
  } catch (e) {
    if (!(e instanceof WorkflowNotFoundError)) throw e;
    exists = false;
  }
  const store = new LocalLogStore(logSettingsFromEnv().dir);
  const stored = await store.listAttempts(id);
  if (!exists && stored.length === 0) throw new Error(`no workload ${id} and no stored log for it: \`gpuflow ps\` lists workloads`);
  const ac = new AbortController();
  const onSigint = () => ac.abort();
  process.once('SIGINT', onSigint);
  let n = 0;
  try {
    for await (const l of h.logs({ follow: !!o.follow && exists, signal: ac.signal, ...(o.tail !== undefined ? { tail: o.tail } : {}), ...(o.since ? { since: o.since } : {}), ...(o.attempt !== undefined ? { attempt: o.attempt } : {}) })) {
      n++;
      if (o.json) process.stdout.write(`${JSON.stringify(l)}\n`);
      else (l.stream === 'stdout' ? process.stdout : process.stderr).write(`${formatLogLine(l, o)}\n`);
    }
  } finally {
    process.off('SIGINT', onSigint);
  }
  if (o.follow && exists && !ac.signal.aborted) {
    // Following ended with the workload: say how (a note, on stderr).
    const st = await h.status().catch(() => undefined);
    if (st?.state === 'terminated') console.error(`terminated: ${st.outcome ?? 'terminated'}${st.exitCode !== undefined ? ` (exit code ${st.exitCode})` : ''}`);
  }
  if (n === 0 && !o.follow) {
    const which = o.attempt !== undefined ? `attempt ${o.attempt} of ${id}` : id;
    const st = exists ? await h.status().catch(() => undefined) : undefined;
    if (st?.state === 'terminated') console.error(`${id} has ended (${st.outcome ?? 'terminated'}): no output stored for ${which} (it wrote none, or it ran before the log store; store: ${store.location})`);
    else console.error(`no output stored for ${which} yet (the worker ships it while the job runs; store: ${store.location})`);
  }
}
