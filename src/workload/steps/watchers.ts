/**
 * Watchers beside the work on an instance: the instance itself (preemption, loss), GPU
 * utilization (auto-shutdown) and the node watchdog's lease.
 */
import { condition, isCancellation, log } from '@temporalio/workflow';
import type { InstanceLoss, InstanceRef } from '../../activities/types.js';
import { AWAITED_WATCHER, awaitedProbes, BOOTSTRAP, onNode, probes, WATCHER, watchers } from '../activityOptions.js';
import { now, stop, type WorkloadContext } from '../context.js';
import { gpuIdle } from '../../workflows/idleShutdownPolicy.js';
import { recordIdleSample } from '../state.js';

const STOP_GRACE_MS = 10_000;

function watcherOptions(ctx: WorkloadContext) {
  return ctx.run.features.awaitLongActivities ? AWAITED_WATCHER : WATCHER;
}

/** A probe whose end the workload awaits (when it does; see WorkloadFeatures). */
function probe<T>(ctx: WorkloadContext, call: (p: typeof probes) => Promise<T>): Promise<T> {
  if (!ctx.run.features.awaitLongActivities) return call(probes);
  const p = call(awaitedProbes);
  ctx.longActivities.push(p);
  return p;
}

/** Returns only when the provider reports the instance lost. */
export async function watchInstance(ctx: WorkloadContext, target: InstanceRef): Promise<InstanceLoss> {
  const p = watchers.watchInstance.executeWithOptions({ ...watcherOptions(ctx), summary: `watch ${target.cloudId} for preemption or loss` }, [target]);
  ctx.longActivities.push(p);
  return p;
}

/** Samples GPU utilization every sampleInterval and stops the workload once idle for the whole window. */
export async function watchUtilization(ctx: WorkloadContext, target: InstanceRef, isDone: () => boolean): Promise<void> {
  const { run } = ctx;
  while (!isDone()) {
    const cfg = run.autoShutdown;
    if (cfg === 'off') {
      await condition(() => isDone() || run.autoShutdown !== cfg);
      continue;
    }
    const changed = await condition(() => isDone() || run.autoShutdown !== cfg, cfg.sampleInterval);
    if (isDone()) return;
    if (changed) continue;
    ctx.busy++;
    try {
      if (await sampleOnce(ctx, target, cfg)) return;
    } finally {
      ctx.busy--;
      ctx.progress++;
    }
  }
}

/** One sample (and SSH-session count) and its transition; true when the workload stops for idleness. */
async function sampleOnce(ctx: WorkloadContext, target: InstanceRef, cfg: Exclude<WorkloadContext['run']['autoShutdown'], 'off'>): Promise<boolean> {
  const { run } = ctx;
  let utilization: number[];
  try {
    utilization = await probe(ctx, (p) => p.sampleGpuUtilization(target));
  } catch (e) {
    if (isCancellation(e)) throw e;
    log.warn('GPU sample failed; not counted as idle', { error: (e as Error).message });
    return false;
  }
  let sshSessions: number | undefined;
  if (gpuIdle(cfg, utilization) && cfg.requireNoSshSessions) {
    run.gpuUtilization = utilization;
    try {
      sshSessions = await probe(ctx, (p) => p.countSshSessions(target));
    } catch (e) {
      if (isCancellation(e)) throw e;
      log.warn('SSH session count failed; not counted as idle', { error: (e as Error).message });
      return false;
    }
  }
  if (recordIdleSample(run, cfg, { utilization, ...(sshSessions !== undefined ? { sshSessions } : {}) }, Date.now()) === 'shutdown') {
    log.info('GPU idle for the whole window: shutting down', { idleWindowMs: cfg.idleWindow });
    stop(ctx, 'idle-shutdown');
    return true;
  }
  return false;
}

/** Installs the node's watchdog with its first lease. */
export async function installWatchdog(ctx: WorkloadContext, target: InstanceRef, lease: number): Promise<void> {
  await onNode.installWatchdog.executeWithOptions(
    { ...BOOTSTRAP, summary: `install the node watchdog on ${target.cloudId} (lease ${Math.round(lease / 1000)} s)` },
    [{ ref: target, workloadId: ctx.run.workloadId, leaseMs: lease, stopGraceMs: STOP_GRACE_MS }],
  );
  ctx.run.watchdogRenewedAt = now();
}

/** Installs the node's watchdog (unless it is installed already), then keeps its lease renewed. */
export async function holdLease(ctx: WorkloadContext, target: InstanceRef, lease: number, installed: boolean): Promise<void> {
  const { workloadId } = ctx.run;
  if (!installed) await installWatchdog(ctx, target, lease);
  const p = watchers.holdWatchdogLease.executeWithOptions(
    { ...watcherOptions(ctx), summary: `renew the watchdog lease on ${target.cloudId} every ${Math.round(Math.min(lease / 3, 60_000) / 1000)} s` },
    [{ ref: target, workloadId, leaseMs: lease }],
  );
  ctx.longActivities.push(p);
  await p;
}
