/**
 * Bootstrap over SSH: the node layout, the job's environment (with the checkpoint convention),
 * secrets resolved by the worker; then workdir and files synced from the content store (only the
 * manifest's digest is in history).
 */
import { ApplicationFailure } from '@temporalio/workflow';
import type { InstanceRef } from '../../activities/types.js';
import { checkpointEnv } from '../../workflows/recoveryPolicy.js';
import { BOOTSTRAP, onNode, SYNC, syncCalls } from '../activityOptions.js';
import { now, setState, type WorkloadContext } from '../context.js';

const SSH_TIMEOUT_MS = 10 * 60_000;

/** Where the workdir lands (sync/manifest.ts REMOTE_WORKDIR), as the job's environment spells it. */
const WORKDIR_ENV = { GPUFLOW_WORKDIR: '$HOME/gpuflow_workdir' };

/** `ahead`: a migration's replacement, bootstrapped while the job still runs elsewhere (the state stays). */
export async function bootstrap(ctx: WorkloadContext, target: InstanceRef, opts: { ahead?: boolean } = {}): Promise<void> {
  const { spec, workloadId } = ctx.run;
  if ((spec.workdir !== undefined || spec.files) && !spec.sync) {
    // Only a client packs: a spec that reached the workflow some other way has no content to sync.
    throw ApplicationFailure.nonRetryable('workdir/files were not packed into the content store: launch through GpuflowClient.launch or `gpuflow run`', 'SyncNotPacked');
  }
  // Every instance the job starts on counts as an attempt, moves included.
  const recoveries = ctx.run.recoveries + (ctx.run.migration?.moves ?? 0) + (opts.ahead ? 1 : 0);
  if (!opts.ahead) setState(ctx, 'bootstrapping', `bootstrapping ${target.cloudId} over SSH`);
  await onNode.bootstrapInstance.executeWithOptions(
    { ...BOOTSTRAP, summary: `bootstrap ${target.cloudId} on ${target.connection}/${target.location} over SSH (attempt ${recoveries + 1}${opts.ahead ? ', ahead of a move' : ''})` },
    [
      {
        ref: target,
        workloadId,
        command: spec.command ?? '',
        ...(spec.image ? { image: spec.image } : {}),
        env: { ...spec.env, ...checkpointEnv(spec, workloadId), ...(spec.workdir !== undefined ? WORKDIR_ENV : {}), GPUFLOW_ATTEMPT: String(recoveries + 1) },
        secretEnv: spec.secretEnv,
        ports: spec.ports,
        sshTimeoutMs: SSH_TIMEOUT_MS,
      },
    ],
  );
  if (spec.sync && !ctx.run.stopReason) await syncFiles(ctx, target, spec.sync);
}

async function syncFiles(ctx: WorkloadContext, target: InstanceRef, sync: { manifest: string; files: number; bytes: number }): Promise<void> {
  const mib = (sync.bytes / 1024 ** 2).toFixed(1);
  setState(ctx, 'bootstrapping', `syncing ${sync.files} files (${mib} MiB) to ${target.cloudId}`);
  const stats = await syncCalls.syncFiles.executeWithOptions({ ...SYNC, summary: `sync ${sync.files} files (${mib} MiB) to ${target.cloudId}` }, [{ ref: target, manifest: sync.manifest }]);
  ctx.run.sync = {
    cloudId: target.cloudId,
    manifest: stats.manifest,
    files: stats.files,
    bytes: stats.bytes,
    sentEntries: stats.sentEntries,
    sentBytes: stats.sentBytes,
    wireBytes: stats.wireBytes,
    removed: stats.removed,
    ms: stats.ms,
    at: now(),
  };
}
