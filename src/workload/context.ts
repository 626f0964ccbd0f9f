/**
 * What the workflow's steps share: the WorkloadRun (data, carried across continue-as-new) and the
 * handful of live handles of the current run that cannot be data (cancellation scopes, promises).
 */
import { setCurrentDetails, upsertSearchAttributes, workflowInfo, type CancellationScope } from '@temporalio/workflow';
import type { WorkloadBudget } from '../workflows/workloadBudget.js';
import { SA_STATE, type WorkloadOutcome, type WorkloadState } from './messages.js';
import { requestStop, shouldContinueAsNew, type WorkloadRun } from './state.js';

export interface WorkloadContext {
  run: WorkloadRun;
  budget: WorkloadBudget;
  /** Bootstrap and the job/service of the current instance: a stop cancels it. */
  nodeScope?: CancellationScope | undefined;
  /** Terminations of lost instances, run beside the re-placement; awaited before the workload ends. */
  pendingTerminations: Promise<void>[];
  /** Long activities (watchers, lease) that end with their scope; awaited, bounded, before the workload completes. */
  longActivities: Promise<unknown>[];
  /**
   * The job or service is running under a long activity that a continued run can re-attach to
   * (run.resume says which run): the one point where the workflow continues as new with a live instance.
   */
  attached?: boolean;
  /** History length when it attached: a run continues only after something happened since. */
  attachedAt?: number;
  /** Watcher steps between an activity's result and its transition: a run never continues in between. */
  busy: number;
  /** Periodic steps completed (samples, budget checks): a run continues only at such a quiet point. */
  progress: number;
  progressAtAttach?: number;
  /** A migration's replacement, already bootstrapped: the next attempt on it skips placement and bootstrap. */
  prepared?: string | undefined;
}

/** Marks the job or service as attached (true) or not; see WorkloadContext.attached. */
export function setAttached(ctx: WorkloadContext, attached: boolean): void {
  ctx.attached = attached;
  if (attached) {
    ctx.attachedAt = workflowInfo().historyLength;
    ctx.progressAtAttach = ctx.progress;
  }
}

/** Whether to continue as new now: attached, history past the limit, and grown since attaching. */
export function continueDue(ctx: WorkloadContext): boolean {
  if (!ctx.attached || ctx.busy > 0 || ctx.progress === ctx.progressAtAttach) return false;
  const info = workflowInfo();
  return shouldContinueAsNew(ctx.run, { historyLength: info.historyLength, suggested: info.continueAsNewSuggested, sinceLength: ctx.attachedAt ?? 0 });
}

/** Workflow-clock ISO time. */
export const now = () => new Date(Date.now()).toISOString();

export function setState(ctx: WorkloadContext, s: WorkloadState, details?: string): void {
  ctx.run.state = s;
  upsertSearchAttributes([{ key: SA_STATE, value: s }]);
  if (details) setCurrentDetails(details);
}

/** Stops the workload for `reason` (the first reason wins); a stop must not wait out an SSH timeout while the instance bills. */
export function stop(ctx: WorkloadContext, reason: WorkloadOutcome): void {
  if (requestStop(ctx.run, reason)) ctx.nodeScope?.cancel();
}
