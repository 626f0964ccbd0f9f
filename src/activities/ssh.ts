/** Bootstrap, job control and GPU sampling over SSH. */
import { readFileSync } from 'node:fs';
import { Context, CancelledFailure } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { ProviderRegistry } from '../providers/registry.js';
import { generateFirewallScript } from '../providers/sdk/firewall.js';
import type { Instance } from '../providers/sdk/types.js';
import { SshSession, sshExec, waitForSsh, type SshTarget } from '../ssh/sshClient.js';
import { asActivityFailure } from './failures.js';
import {
  envFileContent,
  GPU_QUERY,
  SSH_SESSIONS_QUERY,
  jobDir,
  jobScript,
  launchCommand,
  parseGpuUtilization,
  pollCommand,
  prepareRunCommand,
  standardJobEnv,
  stopCommand,
  tailLogCommand,
} from './node.js';
import { firewallRulesFor, publishedPortAcceptCommands } from './servicePorts.js';
import { parseOutputRead, readOutputCommand, SECRET_NAMES_VAR } from '../logs/nodeOutput.js';
import { LogShipper } from '../logs/shipper.js';
import { attemptLabel, type LogStore } from '../logs/store.js';
import type { BootstrapInput, BootstrapResult, InstanceRef, RunJobRestartInput, RunJobResult } from './types.js';

export interface SshActivityDeps {
  registry: ProviderRegistry;
  sshPrivateKey: string;
  /** Where job output is shipped while the job runs (see src/logs); none: not shipped. */
  logs?: { store: LogStore; maxAttemptBytes: number };
}

/** Bytes read from the node per chunk: its base64 stays under the SSH client's 1 MB output cap. */
const SHIP_CHUNK_BYTES = 512 * 1024;

/** Secret references resolve here, on the worker, so their values never enter workflow history. */
export function resolveSecretEnv(refs: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, ref] of Object.entries(refs)) {
    const [kind, ...rest] = ref.split(':');
    const where = rest.join(':');
    if (kind === 'env') {
      const v = process.env[where];
      if (v === undefined) throw ApplicationFailure.nonRetryable(`secretEnv.${name}: worker environment has no ${where}`, 'SecretNotFound');
      out[name] = v;
    } else if (kind === 'file') {
      try {
        out[name] = readFileSync(where, 'utf8').trim();
      } catch {
        throw ApplicationFailure.nonRetryable(`secretEnv.${name}: cannot read ${where} on the worker`, 'SecretNotFound');
      }
    }
  }
  return out;
}

/** The secret values the worker can resolve, for masking: one it cannot is not in the job either. */
function resolveSecretEnvLenient(refs: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, ref] of Object.entries(refs)) {
    try {
      Object.assign(out, resolveSecretEnv({ [name]: ref }));
    } catch {
      // not resolvable here: nothing to mask
    }
  }
  return out;
}

/** The instance as the provider reports it now, and how to SSH to it. */
export async function instanceAccess({ registry, sshPrivateKey }: SshActivityDeps, ref: InstanceRef): Promise<{ instance: Instance; target: SshTarget }> {
  const inst = await asActivityFailure(async () => (await registry.client(ref.connection, ref.location)).getInstance(ref.cloudId));
  if (!inst.publicIp || !inst.sshPort || !inst.sshUser) {
    throw ApplicationFailure.retryable(`instance ${ref.cloudId} has no SSH address yet`, 'SshNotReady');
  }
  return { instance: inst, target: { host: inst.publicIp, port: inst.sshPort, username: inst.sshUser, privateKey: sshPrivateKey } };
}

/**
 * Readies the job directory for a restart (run > 0) on the same instance: see prepareRunCommand.
 * Idempotent, so a retried activity neither stops the new run nor loses the old one's log.
 */
export async function prepareRun(
  exec: (command: string, timeoutMs: number) => Promise<{ code: number | null; stdout: string; stderr: string }>,
  workloadId: string,
  run: number,
  stopGraceMs: number,
): Promise<'PREPARED' | 'ALREADY'> {
  // Stopping the old run may take the whole grace: keep heartbeating meanwhile.
  const ctx = Context.current();
  const beat = setInterval(() => ctx.heartbeat({ phase: 'preparing-run', run }), 5_000);
  const r = await exec(prepareRunCommand(workloadId, run, Math.ceil(stopGraceMs / 1000)), stopGraceMs + 150_000).finally(() => clearInterval(beat));
  const out = r.stdout.trim();
  if (r.code !== 0 || (out !== 'PREPARED' && out !== 'ALREADY')) {
    throw ApplicationFailure.retryable(`preparing run ${run} failed (exit ${r.code}): ${r.stderr.trim().slice(0, 500)}`, 'PrepareRunFailed');
  }
  return out;
}

/**
 * After a cancellation (stop, idle, cancel): stops the job on a fresh connection, since the
 * activity's own SSH calls were aborted with it, then returns the cancellation to rethrow.
 */
export async function stopAfterCancel(t: SshTarget, workloadId: string, stopGraceMs: number, e: unknown, what: string): Promise<unknown> {
  const ctx = Context.current();
  await sshExec(t, stopCommand(workloadId, Math.ceil(stopGraceMs / 1000)), { timeoutMs: stopGraceMs + 30_000 }).catch((err: Error) =>
    ctx.log.warn(`could not stop the ${what} cleanly; terminate will`, { error: err.message }),
  );
  return e instanceof CancelledFailure ? e : new CancelledFailure(`${what} cancelled`);
}

export function sshActivities(deps: SshActivityDeps) {
  const target = async (ref: InstanceRef): Promise<SshTarget> => (await instanceAccess(deps, ref)).target;
  const { registry } = deps;

  async function exec(t: SshTarget, command: string, opts: { stdin?: string; timeoutMs?: number } = {}) {
    const r = await sshExec(t, command, { timeoutMs: opts.timeoutMs ?? 60_000, signal: Context.current().cancellationSignal, ...(opts.stdin !== undefined ? { stdin: opts.stdin } : {}) });
    return r;
  }

  /** The attempt's shipper on the activity's SSH session, when the worker has a log store. */
  function logShipper(input: RunJobRestartInput, run: (command: string, timeoutMs: number) => Promise<{ code: number | null; stdout: string; stderr: string }>) {
    if (!deps.logs) return undefined;
    const dir = jobDir(input.workloadId);
    const attempt = input.attempt ?? 0;
    return new LogShipper({
      store: deps.logs.store,
      maxAttemptBytes: deps.logs.maxAttemptBytes,
      chunkBytes: SHIP_CHUNK_BYTES,
      meta: { workloadId: input.workloadId, label: attemptLabel(attempt, input.ref.cloudId), attempt, cloudId: input.ref.cloudId, connection: input.ref.connection },
      secrets: Object.values(resolveSecretEnvLenient(input.secretEnv ?? {})),
      read: async (offset, maxBytes) => {
        const r = await run(readOutputCommand(dir, offset, maxBytes), 30_000);
        if (r.code !== 0) throw new Error(`reading the job output failed (exit ${r.code}): ${r.stderr.trim().slice(0, 300)}`);
        return parseOutputRead(r.stdout);
      },
    });
  }

  /** A log store or SSH hiccup must not fail the job: the next poll ships from the same offset. */
  async function shipLogs(shipper: LogShipper | undefined): Promise<void> {
    if (!shipper) return;
    try {
      await shipper.ship();
    } catch (e) {
      if (Context.current().cancellationSignal.aborted) throw e;
      Context.current().log.warn('shipping job output failed; retrying at the next poll', { error: (e as Error).message });
    }
  }

  return {
    /** Waits for SSH (contract: up to 10 min), installs the job, stages or applies firewall rules. */
    async bootstrapInstance(input: BootstrapInput): Promise<BootstrapResult> {
      const ctx = Context.current();
      const t = await target(input.ref);
      const attempts = await waitForSsh(t, {
        timeoutMs: input.sshTimeoutMs,
        signal: ctx.cancellationSignal,
        onAttempt: (n) => ctx.heartbeat({ phase: 'waiting-for-ssh', attempt: n }),
      });
      const dir = jobDir(input.workloadId);
      const secretNames = Object.keys(input.secretEnv);
      // The node's output stamper masks these variables' values (names only in the file's own entry).
      const env = {
        ...standardJobEnv(input.workloadId),
        ...(secretNames.length ? { [SECRET_NAMES_VAR]: secretNames.join(' ') } : {}),
        ...input.env,
        ...resolveSecretEnv(input.secretEnv),
      };
      const script = jobScript(input.command, input.image, Object.keys(env), input.ports);
      // The env file may hold secrets: created 0600 before anything is written to it.
      const install = [
        `set -e`,
        `mkdir -p "${dir}"`,
        `cd "${dir}"`,
        `umask 077`,
        `cat > job.sh.tmp`,
        `mv job.sh.tmp job.sh`,
      ].join('\n');
      let r = await exec(t, install, { stdin: script });
      if (r.code !== 0) throw ApplicationFailure.retryable(`installing the job failed: ${r.stderr.trim()}`, 'BootstrapFailed');
      r = await exec(t, `set -e; cd "${dir}"; umask 077; cat > env.tmp; mv env.tmp env`, { stdin: envFileContent(env) });
      if (r.code !== 0) throw ApplicationFailure.retryable(`writing the job environment failed: ${r.stderr.trim()}`, 'BootstrapFailed');
      ctx.heartbeat({ phase: 'job-installed' });

      const fw = [generateFirewallScript(firewallRulesFor(input.ports)), ...publishedPortAcceptCommands(input.ports).map((c) => `${c}\n`)].join('');
      const inst = await asActivityFailure(async () => (await registry.client(input.ref.connection, input.ref.location)).getInstance(input.ref.cloudId));
      // On shared or unprivileged hosts (the local cloud) the script is staged, not run: running
      // ufw there would rewrite the host's own firewall.
      const apply = !inst.notPrivileged && !inst.isContainer;
      r = await exec(t, `set -e; cd "${dir}"; cat > firewall.sh; chmod 700 firewall.sh; ${apply ? 'sudo -n bash ./firewall.sh' : 'true'}`, { stdin: fw, timeoutMs: 120_000 });
      if (r.code !== 0) throw ApplicationFailure.retryable(`applying firewall rules failed: ${r.stderr.trim()}`, 'BootstrapFailed');
      return { sshAttempts: attempts, firewall: apply ? 'applied' : 'staged', jobDir: dir };
    },

    /**
     * Starts the job, or re-attaches to it after a worker restart, and heartbeats until it exits.
     * `run` > 0 restarts it on the same instance: what is left of the previous run is stopped and
     * its files moved aside first (once per run number), the log keeps growing.
     * On cancellation it stops the job (SIGTERM, grace, SIGKILL) before reporting cancelled.
     */
    async runJob(input: RunJobRestartInput): Promise<RunJobResult> {
      const ctx = Context.current();
      const t = await target(input.ref);
      const session = new SshSession(t);
      const run = (command: string, timeoutMs: number) => session.exec(command, { timeoutMs, signal: ctx.cancellationSignal });
      try {
        if (input.run) {
          ctx.heartbeat({ phase: 'preparing-run', run: input.run });
          await prepareRun(run, input.workloadId, input.run, input.stopGraceMs);
        }
        const launched = await run(launchCommand(input.workloadId), 60_000);
        if (launched.code !== 0) throw ApplicationFailure.retryable(`launching the job failed: ${launched.stderr.trim()}`, 'LaunchFailed');
        const reattached = !launched.stdout.includes('STARTED');
        ctx.log.info(reattached ? 're-attached to running job' : 'job started', { workloadId: input.workloadId });
        let lostOnce = false;
        const shipper = logShipper(input, run);
        for (;;) {
          ctx.heartbeat({ phase: 'running' });
          const r = await run(pollCommand(input.workloadId), 30_000);
          const line = r.stdout.trim();
          // Shipped after the poll: once it said EXIT, this read ships the job's last line too.
          await shipLogs(shipper);
          if (line.startsWith('EXIT ')) return { exitCode: Number(line.slice(5)), reattached };
          // LOST must be seen twice in a row: one odd reading on a loaded node is not a lost job.
          if (line === 'LOST' && lostOnce) throw ApplicationFailure.nonRetryable('the job process is gone without an exit code (node lost it)', 'JobLost');
          lostOnce = line === 'LOST';
          await ctx.sleep(lostOnce ? 1_000 : input.pollMs);
        }
      } catch (e) {
        if (!(e instanceof CancelledFailure) && !ctx.cancellationSignal.aborted) throw e;
        // The workflow run is gone (not a cancel): it continued as new and its next run re-attaches,
        // so stopping here would kill the job under it. (A run terminated from outside leaves the
        // node to its watchdog, as it leaves the instance to the orphan sweep.)
        if (ctx.cancellationDetails?.notFound) throw e;
        throw await stopAfterCancel(t, input.workloadId, input.stopGraceMs, e, 'job');
      } finally {
        session.close();
      }
    },

    async sampleGpuUtilization(ref: InstanceRef): Promise<number[]> {
      const t = await target(ref);
      const r = await exec(t, GPU_QUERY, { timeoutMs: 30_000 });
      if (r.code !== 0) throw ApplicationFailure.retryable(`nvidia-smi failed: ${r.stderr.trim()}`, 'GpuSampleFailed');
      return parseGpuUtilization(r.stdout);
    },

    /** Interactive (pty) SSH sessions on the node, for auto-shutdown's requireNoSshSessions. */
    async countSshSessions(ref: InstanceRef): Promise<number> {
      const t = await target(ref);
      const r = await exec(t, SSH_SESSIONS_QUERY, { timeoutMs: 30_000 });
      const n = Number(r.stdout.trim());
      if (r.code !== 0 || !Number.isInteger(n)) throw ApplicationFailure.retryable(`counting SSH sessions failed: ${r.stderr.trim() || r.stdout.trim()}`, 'SshSessionCountFailed');
      return n;
    },

    async tailJobLogs(input: { ref: InstanceRef; workloadId: string; lines: number }): Promise<string> {
      const t = await target(input.ref);
      const r = await exec(t, tailLogCommand(input.workloadId, input.lines), { timeoutMs: 30_000 });
      return r.stdout;
    },
  };
}
