/** A job on its instance: run it, rerun it after a failure as the spec allows. */
import { log } from '@temporalio/workflow';
import type { InstanceRef } from '../../activities/types.js';
import { shouldRestartJob } from '../../workflows/recoveryPolicy.js';
import { ON_NODE, onNode } from '../activityOptions.js';
import { now, setAttached, setState, type WorkloadContext } from '../context.js';
import type { AttemptRecord } from '../messages.js';

const JOB_POLL_MS = 2_000;
const STOP_GRACE_MS = 10_000;

/** `firstRun` > 0 when a continued run re-attaches to a job already started (it is the run number then). */
export async function runJob(ctx: WorkloadContext, target: InstanceRef, record: AttemptRecord, firstRun = 0): Promise<void> {
  const { run: wl } = ctx;
  for (let run = firstRun; ; run++) {
    wl.resume = { run };
    record.jobStartedAt ??= now();
    setState(ctx, 'running', `job running on ${target.cloudId}${run ? ` (rerun ${run})` : ''}`);
    let r: { exitCode: number };
    setAttached(ctx, true);
    try {
      r = await onNode.runJob.executeWithOptions(
        { ...ON_NODE, summary: `run the job on ${target.cloudId}${run ? ` (rerun ${run} after exit code ${wl.exitCode})` : ''}` },
        // attempt and secretEnv only label and mask the shipped log: activity inputs are not
        // compared on replay, so older histories replay unchanged.
        [{ ref: target, workloadId: wl.workloadId, pollMs: JOB_POLL_MS, stopGraceMs: STOP_GRACE_MS, run, attempt: wl.attempts.indexOf(record) + 1, secretEnv: wl.spec.secretEnv }],
      );
    } finally {
      setAttached(ctx, false);
    }
    wl.exitCode = r.exitCode;
    if (wl.stopReason || !shouldRestartJob(wl.spec.recovery, wl.exitCode, wl.restarts)) return;
    wl.restarts++;
    log.warn('job failed: rerunning it on the same instance', { exitCode: wl.exitCode, restart: wl.restarts });
    setState(ctx, 'recovering', `job exited with code ${wl.exitCode}: rerun ${wl.restarts} of ${wl.spec.recovery.maxRestartsOnError}`);
  }
}
