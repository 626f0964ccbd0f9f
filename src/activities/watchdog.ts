/**
 * Watchdog lease activities (issue 5): install the node-side watchdog once, and renew its lease.
 * The workflow renews; if it stops (terminated from outside, control plane gone), the node stops
 * its job and ends itself. See watchdogScript.ts for what runs on the node.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import type { ProviderRegistry } from '../providers/registry.js';
import type { Instance } from '../providers/sdk/types.js';
import { sshExec, type SshTarget } from '../ssh/sshClient.js';
import { asActivityFailure } from './failures.js';
import type { InstallWatchdogInput, InstallWatchdogResult, RenewWatchdogLeaseInput, WatchdogAction } from './types.js';
import { installCommand, renewCommand, watchdogScript } from './watchdogScript.js';

export interface WatchdogActivityDeps {
  registry: ProviderRegistry;
  sshPrivateKey: string;
}

const InstanceRefSchema = z.object({
  connection: z.string().min(1, 'ref.connection is required'),
  cloudId: z.string().min(1, 'ref.cloudId is required'),
  location: z.string(),
});

/** The watchdog checks at most once a second, so a lease shorter than 4 s could not be honoured. */
const LeaseMsSchema = z.number().int('leaseMs must be whole milliseconds').min(4_000, 'leaseMs must be at least 4000 (4 s)');

const InstallWatchdogInputSchema = z.object({
  ref: InstanceRefSchema,
  workloadId: z.string().min(1, 'workloadId is required'),
  leaseMs: LeaseMsSchema,
  stopGraceMs: z.number().int().nonnegative('stopGraceMs must be 0 or more milliseconds'),
});

const RenewWatchdogLeaseInputSchema = InstallWatchdogInputSchema.omit({ stopGraceMs: true });

function parseInput<T extends z.ZodTypeAny>(schema: T, input: unknown, activity: string): z.output<T> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ');
  throw ApplicationFailure.nonRetryable(`${activity}: invalid input: ${issues}`, 'InvalidWatchdogInput');
}

const ACTIONS: readonly WatchdogAction[] = ['provider-self-terminate', 'shutdown', 'stop-job-only'];

function isAction(s: string | undefined): s is WatchdogAction {
  return ACTIONS.includes(s as WatchdogAction);
}

export function watchdogActivities({ registry, sshPrivateKey }: WatchdogActivityDeps) {
  async function reach(ref: z.output<typeof InstanceRefSchema>): Promise<{ instance: Instance; target: SshTarget }> {
    const instance = await asActivityFailure(async () => (await registry.client(ref.connection, ref.location)).getInstance(ref.cloudId));
    if (!instance.publicIp || !instance.sshPort || !instance.sshUser) {
      throw ApplicationFailure.retryable(`instance ${ref.cloudId} has no SSH address yet`, 'SshNotReady');
    }
    return { instance, target: { host: instance.publicIp, port: instance.sshPort, username: instance.sshUser, privateKey: sshPrivateKey } };
  }

  return {
    /**
     * Writes the lease (expiry on the node's clock), the watchdog script and what it will do at
     * expiry, and starts it once: a retried install re-attaches to the running one. The action is
     * the provider's self-terminate command when the node has one, a power-off only on a privileged
     * host (not notPrivileged, not a container), and otherwise stopping the job only.
     */
    async installWatchdog(raw: InstallWatchdogInput): Promise<InstallWatchdogResult> {
      const input = parseInput(InstallWatchdogInputSchema, raw, 'installWatchdog');
      const ctx = Context.current();
      const { instance, target } = await reach(input.ref);
      const privileged = !instance.notPrivileged && !instance.isContainer;
      const r = await sshExec(target, installCommand({ workloadId: input.workloadId, leaseMs: input.leaseMs, privileged }), {
        stdin: watchdogScript(input),
        timeoutMs: 60_000,
        signal: ctx.cancellationSignal,
      });
      // The last line is the installer's answer (a login shell on some images prints before it).
      const [state = '', action] = (r.stdout.trim().split('\n').pop() ?? '').trim().split(/\s+/);
      if (r.code !== 0 || !isAction(action)) {
        throw ApplicationFailure.retryable(`installing the watchdog failed (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`, 'WatchdogInstallFailed');
      }
      if (state === 'FIRED') ctx.log.warn('the watchdog had already fired: its lease expired before this install', { workloadId: input.workloadId, action });
      else ctx.log.info(`watchdog ${state.toLowerCase()}`, { workloadId: input.workloadId, action, leaseMs: input.leaseMs });
      return { action };
    },

    /** Pushes the lease's expiry to now + leaseMs on the node's clock (atomic rewrite). */
    async renewWatchdogLease(raw: RenewWatchdogLeaseInput): Promise<void> {
      const input = parseInput(RenewWatchdogLeaseInputSchema, raw, 'renewWatchdogLease');
      const ctx = Context.current();
      const { target } = await reach(input.ref);
      const r = await sshExec(target, renewCommand(input), { timeoutMs: 30_000, signal: ctx.cancellationSignal });
      const out = (r.stdout.trim().split('\n').pop() ?? '').trim();
      if (r.code !== 0) throw ApplicationFailure.retryable(`renewing the watchdog lease failed (exit ${r.code}): ${r.stderr.trim()}`, 'WatchdogRenewFailed');
      if (out === 'MISSING') {
        throw ApplicationFailure.nonRetryable(`no watchdog is installed for workload ${input.workloadId} on ${input.ref.cloudId} (run installWatchdog first)`, 'WatchdogNotInstalled');
      }
      // Too late or nobody watching: the lease is written anyway; the workflow learns what
      // happened to the job from the job itself.
      if (out.startsWith('FIRED')) ctx.log.warn('the watchdog already fired: the lease had expired', { workloadId: input.workloadId, fired: out.slice(6) });
      else if (out === 'NOT-RUNNING') ctx.log.warn('the watchdog process is gone (node rebooted?); the lease is written but nobody watches it', { workloadId: input.workloadId });
    },
  };
}
