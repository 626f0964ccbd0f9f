/** After the provider ended the instance under the workload: terminate what is left, and decide where to go next. */
import { ApplicationFailure, log } from '@temporalio/workflow';
import type { InstanceLoss, InstanceRef } from '../../activities/types.js';
import { blockAfterLoss, type LostPlacement } from '../../workflows/recoveryPolicy.js';
import { setState, type WorkloadContext } from '../context.js';
import type { AttemptRecord } from '../messages.js';
import { recordLoss } from '../state.js';
import { terminate } from './teardown.js';

/** Where the lost instance ran (for the next placement), or undefined when the workload is stopping. Throws past maxRecoveries. */
export function recoverFromLoss(ctx: WorkloadContext, record: AttemptRecord, ref: InstanceRef, loss: InstanceLoss): LostPlacement | undefined {
  const { run } = ctx;
  const { recovery } = run.spec;
  recordLoss(run, record, loss, Date.now());
  log.warn('instance lost: recovering', { cloudId: ref.cloudId, reason: loss.reason });
  setState(ctx, 'recovering', `instance ${ref.cloudId} lost (${loss.reason}): recovering`);
  // What is left of it is terminated beside the re-placement (awaited before the workload ends):
  // the provider already ended it, and recovery should not wait on the call.
  ctx.pendingTerminations.push(terminate(ctx, ref, run.billed[run.billed.length - 1], `lost: ${loss.reason}`));
  if (run.stopReason) return undefined;
  if (run.recoveries >= recovery.maxRecoveries) {
    throw ApplicationFailure.nonRetryable(`instance lost ${run.recoveries + 1} times (recovery.maxRecoveries ${recovery.maxRecoveries}); last: ${loss.reason}`, 'RecoveryLimitReached');
  }
  run.recoveries++;
  const lost = { connection: ref.connection, location: ref.location };
  const block = blockAfterLoss(recovery.strategy, lost);
  if (block) run.blocked.push(block);
  return lost;
}
