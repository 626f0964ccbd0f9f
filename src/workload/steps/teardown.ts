/** The end of every instance and of the workload: terminate (never cancelled), then settle the budgets. */
import { CancellationScope, condition, log } from '@temporalio/workflow';
import type { InstanceRef } from '../../activities/types.js';
import type { Instance } from '../../providers/sdk/types.js';
import { CLEANUP, cleanup, LONG_ACTIVITY_CANCEL_WAIT_MS } from '../activityOptions.js';
import { now, type WorkloadContext } from '../context.js';
import type { BilledInstance } from '../cost.js';
import { recordTerminated } from '../state.js';

export async function terminate(ctx: WorkloadContext, target: InstanceRef, bill: BilledInstance | undefined, why: string): Promise<void> {
  ctx.run.live = false;
  await CancellationScope.nonCancellable(async () => {
    const final: Instance | null = await cleanup.terminateInstance.executeWithOptions(
      { ...CLEANUP, summary: `terminate ${target.cloudId} on ${target.connection}/${target.location} (${why})` },
      [target],
    );
    recordTerminated(ctx.run, target, bill, final?.terminatedAt ?? now());
  });
}

/** Every instance has terminated: commit the actual costs, release the holds. */
export async function settleBudgets(ctx: WorkloadContext): Promise<void> {
  await CancellationScope.nonCancellable(async () => {
    try {
      await ctx.budget.settle(ctx.run.outcome, Date.now());
    } catch (e) {
      log.error('could not commit the workload cost to its budgets', { error: (e as Error).message });
    }
  });
}

/** Waits (bounded) until every long activity confirmed its cancellation, so none is left pending. */
export async function awaitLongActivities(ctx: WorkloadContext): Promise<void> {
  if (!ctx.run.features.awaitLongActivities || ctx.longActivities.length === 0) return;
  let settled = false;
  void Promise.allSettled(ctx.longActivities).then(() => (settled = true));
  await CancellationScope.nonCancellable(() => condition(() => settled, LONG_ACTIVITY_CANCEL_WAIT_MS));
}
