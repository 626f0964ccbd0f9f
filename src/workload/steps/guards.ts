/** Guards beside the whole workload: its budget holds while an instance lives, and its max duration. */
import { condition, log } from '@temporalio/workflow';
import { stop, type WorkloadContext } from '../context.js';

/** While an instance lives: keep its holds ahead of its spend, stop when a capped budget cannot. */
export async function guardBudget(ctx: WorkloadContext): Promise<void> {
  const { run } = ctx;
  for (;;) {
    await condition(() => run.finished || (run.live && !run.stopReason));
    if (run.finished) return;
    if (await condition(() => run.finished || !run.live || !!run.stopReason, ctx.budget.guardIntervalMs)) continue;
    const refusal = await ctx.budget.check(Date.now());
    ctx.progress++;
    if (refusal && !run.stopReason) {
      log.warn('budget cap reached: stopping', { key: refusal.key, message: refusal.message });
      run.error = refusal.message;
      stop(ctx, 'budget-exceeded');
    }
  }
}

/** The hard ceiling on the workload's whole life, across every attempt (and every continued run). */
export async function enforceMaxDuration(ctx: WorkloadContext): Promise<void> {
  const max = ctx.run.spec.lifecycle.maxDuration;
  if (max === undefined) return;
  const left = ctx.run.startedAt + max - Date.now();
  if (left > 0 && (await condition(() => ctx.run.finished, left))) return;
  if (ctx.run.finished) return;
  log.info('max duration reached: stopping', { maxDurationMs: max });
  stop(ctx, 'max-duration');
}
