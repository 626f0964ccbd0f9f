/**
 * workloadWorkflow: one GPU workload's whole life, durably.
 *
 *   select offers → create (idempotent by refId, failing over on capacity/quota) → await running
 *   → SSH bootstrap (+ node watchdog lease) → run the job, or keep a service healthy, while
 *   watching the instance (preemption), GPU utilization (idle shutdown) and the max duration
 *   → terminate, on every exit path, in a non-cancellable scope.
 *
 * The life is data (state.ts: WorkloadRun and its transitions); this shell wires the messages
 * (handlers.ts) and calls one module per step (steps/: placement, provision, bootstrap, job,
 * service, watchers, guards, recovery, migration, teardown). Bounded history: past run.historyLimit events
 * the workflow continues as new with its WorkloadRun while the job keeps running, and the next
 * run re-attaches to it.
 */
import { ActivityFailure, ApplicationFailure, allHandlersFinished, CancellationScope, condition, continueAsNew, isCancellation, log, patched, workflowInfo } from '@temporalio/workflow';
import { formatExact } from '../money/billing.js';
import type { LostPlacement } from '../workflows/recoveryPolicy.js';
import { WorkloadBudget } from '../workflows/workloadBudget.js';
import { setState, type WorkloadContext } from './context.js';
import { accrued } from './cost.js';
import { registerHandlers } from './handlers.js';
import type { WorkloadResult } from './messages.js';
import type { WorkloadSpec } from './specSchema.js';
import { finalOutcome, newWorkloadRun, recordEnded, recordFailure, type WorkloadRun } from './state.js';
import { resultOf } from './status.js';
import { runOnInstance } from './steps/attempt.js';
import { enforceMaxDuration, guardBudget } from './steps/guards.js';
import { registerMigrationHandlers } from './migrationHandlers.js';
import { cutOver } from './steps/migration.js';
import { place } from './steps/placement.js';
import { recoverFromLoss } from './steps/recovery.js';
import { awaitLongActivities, settleBudgets, terminate } from './steps/teardown.js';

export interface WorkloadInput {
  /** Already validated by parseWorkloadSpec at the boundary. */
  spec: WorkloadSpec;
  /** Bound on placement passes when the spec sets no retryUntilUp deadline. */
  maxPlacementPasses?: number;
  /** History events after which the workload continues as new (default DEFAULT_HISTORY_LIMIT). */
  historyLimit?: number;
  /** Set by continue-as-new: the workload so far. */
  run?: WorkloadRun;
}

/** Workloads started on this code await their long activities and continue as new; replayed 0.1 ones do neither. */
export const WORKLOAD_RUN_PATCH = 'workload-run-v2';

export async function workloadWorkflow(input: WorkloadInput): Promise<WorkloadResult> {
  const run =
    input.run ??
    newWorkloadRun({
      workloadId: workflowInfo().workflowId,
      spec: input.spec,
      now: Date.now(),
      ...(input.maxPlacementPasses !== undefined ? { maxPasses: input.maxPlacementPasses } : {}),
      ...(input.historyLimit !== undefined ? { historyLimit: input.historyLimit } : {}),
      features: patched(WORKLOAD_RUN_PATCH) ? { awaitLongActivities: true, continueAsNew: true } : { awaitLongActivities: false, continueAsNew: false },
    });
  const { spec } = run;
  const ctx: WorkloadContext = { run, budget: new WorkloadBudget(run.workloadId, spec, run.billed, run.budget), pendingTerminations: [], longActivities: [], busy: 0, progress: 0 };
  registerHandlers(ctx);
  registerMigrationHandlers(ctx);

  const guardScope = new CancellationScope();
  const guards = guardScope.run(() => Promise.all([guardBudget(ctx), enforceMaxDuration(ctx)]));
  guards.catch(() => undefined); // they end with the workload
  let continuing = false;
  try {
    let lost: LostPlacement | undefined;
    for (;;) {
      if (!(run.resume && run.live) && !ctx.prepared) {
        if (!(await place(ctx, lost))) break;
        if (run.stopReason) break;
      }
      const record = run.attempts[run.attempts.length - 1]!;
      const ref = run.ref!;
      const end = await runOnInstance(ctx, ref, record);
      if (end.kind === 'continue') {
        continuing = true;
        break;
      }
      if (end.kind === 'finished') break;
      if (end.kind === 'moved') {
        cutOver(ctx, record, ref, end.replacement);
        lost = undefined;
        continue;
      }
      lost = recoverFromLoss(ctx, record, ref, end.loss);
      if (!lost) break;
    }
    if (continuing) {
      await Promise.all(ctx.pendingTerminations);
      await condition(allHandlersFinished);
      log.info('history is long: continuing as new, the job keeps running', { historyLength: workflowInfo().historyLength });
      return await continueAsNew<typeof workloadWorkflow>({ spec, run });
    }
    return await finish(ctx);
  } catch (e) {
    if (!continuing) recordFailure(run, e instanceof ActivityFailure && e.cause ? e.cause.message : (e as Error).message, isCancellation(e));
    throw e;
  } finally {
    if (!continuing) await endWorkload(ctx, guardScope, guards);
  }
}

/** The work returned: a failed job fails the workload; otherwise terminate, then report the cost. */
async function finish(ctx: WorkloadContext): Promise<WorkloadResult> {
  const { run } = ctx;
  run.outcome = finalOutcome(run);
  if (run.outcome === 'failed') {
    run.error = `job exited with code ${run.exitCode}`;
    throw ApplicationFailure.nonRetryable(run.error, 'JobFailed', { exitCode: run.exitCode });
  }
  // Terminate before reporting cost so the result has the provider's final lifetime.
  if (run.ref && run.live) {
    setState(ctx, 'terminating');
    await terminate(ctx, run.ref, run.billed[run.billed.length - 1], run.exitCode !== undefined ? `job exit code ${run.exitCode}` : run.outcome);
  }
  await Promise.all(ctx.pendingTerminations);
  return resultOf(run, Date.now());
}

/** On every exit path: no instance left, the budgets settled, no long activity left pending. */
async function endWorkload(ctx: WorkloadContext, guardScope: CancellationScope, guards: Promise<unknown>): Promise<void> {
  const { run } = ctx;
  if (run.ref && run.live) {
    setState(ctx, 'terminating');
    await terminate(ctx, run.ref, run.billed[run.billed.length - 1], run.outcome ?? 'workload ended');
  }
  await Promise.all(ctx.pendingTerminations);
  run.finished = true;
  // The guards return once finished; a workload that awaits its activities lets a budget check in flight end.
  if (run.features.awaitLongActivities) ctx.longActivities.push(guards);
  else guardScope.cancel();
  await settleBudgets(ctx);
  recordEnded(run, Date.now());
  setState(ctx, 'terminated', `terminated: ${run.outcome ?? 'ended'}, cost ${formatExact(accrued(run.billed, Date.now()).cost)}`);
  log.info('workload terminated', { outcome: run.outcome, cost: formatExact(accrued(run.billed, Date.now()).cost) });
  await awaitLongActivities(ctx);
}
