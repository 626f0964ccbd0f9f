/**
 * One instance's life after it runs: bootstrap, job or service, and the watchers beside them.
 * The instance watcher decides loss from the provider's own status; the work is abandoned then
 * (not awaited: a graceful stop over SSH to a dead node would only add minutes).
 */
import { CancellationScope, condition, isCancellation, log, patched } from '@temporalio/workflow';
import type { InstanceLoss, InstanceRef } from '../../activities/types.js';
import { describeLoss, instanceLost } from '../instanceLoss.js';
import { watchdogLeaseMs } from '../../workflows/recoveryPolicy.js';
import { providerCalls } from '../activityOptions.js';
import { continueDue, now, type WorkloadContext } from '../context.js';
import type { AttemptRecord } from '../messages.js';
import { bootstrap } from './bootstrap.js';
import { runJob } from './job.js';
import { runSetup } from './setup.js';
import { superviseService } from './service.js';
import { dropReplacement, watchForMove } from './migration.js';
import type { Replacement } from '../migrationState.js';
import { holdLease, installWatchdog, watchInstance, watchUtilization } from './watchers.js';

/**
 * The node watchdog is installed before the job or service starts (and so before the workload
 * reads "running"), not beside it: a workflow terminated from outside runs no cleanup, and only
 * the watchdog's lease then ends the instance. Installed beside the job, a terminate that came
 * while the install was still connecting (or retrying) left an instance no one would end.
 * Workloads recorded before this install it beside the job, as they did.
 */
export const WATCHDOG_BEFORE_WORK_PATCH = 'watchdog-before-work';

/**
 * How one instance's attempt ended; `continue`: history is long, carry on in a new run (the job
 * keeps running); `moved`: the job stopped here for a replacement that is running and bootstrapped.
 */
export type AttemptEnd = { kind: 'finished' } | { kind: 'lost'; loss: InstanceLoss } | { kind: 'continue' } | { kind: 'moved'; replacement: Replacement };

export async function runOnInstance(ctx: WorkloadContext, target: InstanceRef, record: AttemptRecord): Promise<AttemptEnd> {
  const { run } = ctx;
  /** Set when a continued run re-attaches to this instance's job or service. */
  const resumed = run.resume;
  /** A migration's replacement: bootstrapped before the cutover. */
  const prepared = ctx.prepared === target.cloudId;
  ctx.prepared = undefined;
  let replacement: Replacement | undefined;
  let continuing = false;
  const leaseMs = watchdogLeaseMs(run.spec);
  let loss: InstanceLoss | undefined;
  let done = false;
  const watchScope = new CancellationScope();
  const scope = new CancellationScope();
  ctx.nodeScope = scope;
  const watching = watchScope.run(async () => {
    loss = await watchInstance(ctx, target);
  });
  watching.catch(() => undefined); // cancelled when the attempt ends
  /** Whether the watchdog is on the node already (a continued run's, or installed before the work). */
  let watchdogInstalled = !!resumed && run.watchdogRenewedAt !== undefined;
  const startWatchers = () => {
    const start = () => {
      const tasks = [watchUtilization(ctx, target, () => done)];
      if (leaseMs !== undefined) tasks.push(holdLease(ctx, target, leaseMs, watchdogInstalled));
      return tasks;
    };
    // Release 0.1 started these in the node scope (so a finished job left them running until the
    // workflow closed); workloads that await their activities start them in the watch scope.
    const tasks = run.features.awaitLongActivities ? undefined : start();
    watchScope.run(() => Promise.all(tasks ?? start())).catch((e: unknown) => {
      if (!isCancellation(e)) log.warn('a watcher failed', { error: (e as Error).message });
    });
    watchScope
      .run(() => watchForMove(ctx, target, () => done))
      .then((r) => (replacement = r))
      .catch((e: unknown) => {
        if (!isCancellation(e)) log.warn('the migration check failed', { error: (e as Error).message });
      });
  };
  const work = scope.run(async () => {
    if (!resumed && !prepared) {
      await bootstrap(ctx, target);
      if (run.stopReason) return;
      await runSetup(ctx, target);
      if (run.stopReason) return;
    }
    if (leaseMs !== undefined && !watchdogInstalled && patched(WATCHDOG_BEFORE_WORK_PATCH)) {
      await installWatchdog(ctx, target, leaseMs);
      watchdogInstalled = true;
      if (run.stopReason) return;
    }
    startWatchers();
    if (run.spec.lifecycle.kind === 'service') return superviseService(ctx, target, record, resumed?.run);
    return runJob(ctx, target, record, resumed?.run);
  });
  work.catch(() => undefined); // abandoned when the instance is lost
  try {
    await Promise.race([work, condition(() => loss !== undefined), condition(() => continueDue(ctx)), condition(() => replacement !== undefined)]);
    if (loss) {
      scope.cancel();
      return { kind: 'lost', loss };
    }
    if (replacement && !run.stopReason) {
      // Break: SIGTERM and grace (the job checkpoints), then the cutover.
      scope.cancel();
      const stopped = await work.then(
        () => false,
        (e: unknown) => isCancellation(e),
      );
      if (stopped && !loss && !run.stopReason) {
        const rep = replacement;
        replacement = undefined;
        return { kind: 'moved', replacement: rep };
      }
      if (loss) return { kind: 'lost', loss };
      if (run.stopReason) return { kind: 'finished' };
      await work;
      return { kind: 'finished' };
    }
    if (continueDue(ctx)) {
      continuing = true;
      return { kind: 'continue' };
    }
    await work;
    return { kind: 'finished' };
  } catch (e) {
    if (loss) return { kind: 'lost', loss };
    if (isCancellation(e) && run.stopReason) return { kind: 'finished' };
    // The job vanished or the node kept failing: lost only if the provider says so.
    if (!isCancellation(e)) {
      const v = await providerCalls.getInstance(target).catch(() => undefined);
      if (v && instanceLost(v.instance.status)) {
        return { kind: 'lost', loss: { status: v.instance.status.lifecycleStatus, reason: describeLoss(v.instance.status), detectedAt: now() } };
      }
    }
    throw e;
  } finally {
    done = true;
    if (!continuing) run.resume = undefined;
    ctx.nodeScope = undefined;
    watchScope.cancel();
    // A replacement made ready but not cut over to (the job ended, a stop, a loss): not needed.
    if (replacement) await dropReplacement(ctx, replacement);
  }
}
