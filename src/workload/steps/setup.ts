/**
 * The spec's `setup`, once per instance: after the sync, before the first run of the job. A rerun
 * on the same instance (maxRestartsOnError) and a continued run do not come back here; a new
 * instance (recovery) does. Setup failing fails the workload, as in SkyPilot.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import type { InstanceRef } from '../../activities/types.js';
import { ON_NODE, onNode } from '../activityOptions.js';
import { now, setState, type WorkloadContext } from '../context.js';

const SETUP_POLL_MS = 2_000;
const STOP_GRACE_MS = 10_000;

/** Mirrors activities/setupScript.ts setupLogPath (workflow code cannot import activity modules). */
export const setupLog = (workloadId: string) => `~/.gpuflow/jobs/${workloadId.replace(/[^A-Za-z0-9._-]/g, '_')}/setup/log`;

export async function runSetup(ctx: WorkloadContext, target: InstanceRef): Promise<void> {
  const { run } = ctx;
  const setup = run.spec.setup;
  if (!setup || run.stopReason) return;
  const record = { cloudId: target.cloudId, state: 'running' as const, startedAt: now(), log: setupLog(run.workloadId) };
  run.setup = record;
  setState(ctx, 'bootstrapping', `running setup on ${target.cloudId}`);
  const r = await onNode.runSetup.executeWithOptions({ ...ON_NODE, summary: `run setup on ${target.cloudId}` }, [
    { ref: target, workloadId: run.workloadId, setup, pollMs: SETUP_POLL_MS, stopGraceMs: STOP_GRACE_MS },
  ]);
  run.setup = { ...record, state: r.exitCode === 0 ? 'succeeded' : 'failed', exitCode: r.exitCode, endedAt: now() };
  if (r.exitCode !== 0) {
    throw ApplicationFailure.nonRetryable(`setup exited with code ${r.exitCode} on ${target.cloudId} (its output: ${record.log} on the node)`, 'SetupFailed', { exitCode: r.exitCode });
  }
}
