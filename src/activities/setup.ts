/** The setup activity: runs the spec's `setup` once on the instance and waits for its exit code. */
import { CancelledFailure, Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { SshSession, sshExec } from '../ssh/sshClient.js';
import { launchSetupCommand, pollSetupCommand, setupScript, stopSetupCommand } from './setupScript.js';
import { instanceAccess, type SshActivityDeps } from './ssh.js';
import type { InstanceRef } from './types.js';

export interface RunSetupInput {
  ref: InstanceRef;
  workloadId: string;
  setup: string;
  pollMs: number;
  stopGraceMs: number;
}

export interface RunSetupResult {
  exitCode: number;
  /** true: it had run (or was running) before this call: a retry or a worker restart. */
  reattached: boolean;
}

export function setupActivities(deps: SshActivityDeps) {
  return {
    async runSetup(input: RunSetupInput): Promise<RunSetupResult> {
      const ctx = Context.current();
      const { target } = await instanceAccess(deps, input.ref);
      const session = new SshSession(target);
      const exec = (command: string, timeoutMs: number, stdin?: string) =>
        session.exec(command, { timeoutMs, signal: ctx.cancellationSignal, ...(stdin !== undefined ? { stdin } : {}) });
      try {
        const launched = await exec(launchSetupCommand(input.workloadId), 60_000, setupScript(input.setup));
        if (launched.code !== 0) throw ApplicationFailure.retryable(`launching setup failed: ${launched.stderr.trim().slice(0, 500)}`, 'LaunchFailed');
        const reattached = !launched.stdout.includes('STARTED');
        let lostOnce = false;
        for (;;) {
          ctx.heartbeat({ phase: 'setup' });
          const line = (await exec(pollSetupCommand(input.workloadId), 30_000)).stdout.trim();
          if (line.startsWith('EXIT ')) return { exitCode: Number(line.slice(5)), reattached };
          if (line === 'LOST' && lostOnce) throw ApplicationFailure.nonRetryable('setup is gone without an exit code (the node lost it)', 'JobLost');
          lostOnce = line === 'LOST';
          await ctx.sleep(lostOnce ? 1_000 : input.pollMs);
        }
      } catch (e) {
        if (!(e instanceof CancelledFailure) && !ctx.cancellationSignal.aborted) throw e;
        if (ctx.cancellationDetails?.notFound) throw e;
        await sshExec(target, stopSetupCommand(input.workloadId, Math.ceil(input.stopGraceMs / 1000)), { timeoutMs: input.stopGraceMs + 30_000 }).catch(() => undefined);
        throw e instanceof CancelledFailure ? e : new CancelledFailure('setup cancelled');
      } finally {
        session.close();
      }
    },
  };
}
