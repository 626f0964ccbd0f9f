/**
 * Pure decisions of the workload workflow about failures: which scope a failed placement blocks,
 * which blocks expire, where a lost instance's workload goes next, and which job failures rerun.
 * No Temporal imports: unit-tested directly.
 */
import type { BlockedScope } from '../routing/constraints.js';
import type { Offer } from '../routing/offer.js';
import type { WorkloadSpec } from '../workload/spec.js';

/** Block reasons that can clear with time (capacity comes back); others hold for the workload's life. */
const TRANSIENT_BLOCK_REASONS = new Set(['InsufficientCapacityError', 'OutOfQuotaError', 'ProvisioningFailed', 'InstanceLost']);

/** The reason recorded on the region block that eager-next-region puts on a lost instance's region. */
export const LOST_REGION_REASON = 'InstanceLost';

/** The scope a failed create blocks follows the error: zone/region for capacity, provider for auth. */
export function blockFor(failed: Offer, failureType: string, scope: string | undefined): BlockedScope {
  const base = { connection: failed.connection, reason: failureType };
  switch (scope) {
    case 'provider':
      return { ...base, scope: 'provider' };
    case 'region':
      return { ...base, scope: 'region', location: failed.location };
    case 'zone':
      return { ...base, scope: 'zone', location: failed.location, subLocation: failed.subLocation, type: failed.type, spot: failed.spot };
    default:
      return { ...base, scope: 'offer', instanceTypeId: failed.instanceTypeId, spot: failed.spot };
  }
}

/** Drops the blocks that waiting may clear; returns how many were dropped. Mutates `blocked`. */
export function dropTransientBlocks(blocked: BlockedScope[]): number {
  const keep = blocked.filter((b) => !TRANSIENT_BLOCK_REASONS.has(b.reason));
  const dropped = blocked.length - keep.length;
  blocked.splice(0, blocked.length, ...keep);
  return dropped;
}

/** Where the instance that was lost ran. */
export interface LostPlacement {
  connection: string;
  location: string;
}

/**
 * After an instance is lost: eager-next-region blocks its region (the workflow drops the block
 * again only when nothing else has capacity); failover blocks nothing and tries the same region first.
 */
export function blockAfterLoss(strategy: WorkloadSpec['recovery']['strategy'], lost: LostPlacement): BlockedScope | undefined {
  if (strategy === 'failover') return undefined;
  return { connection: lost.connection, scope: 'region', location: lost.location, reason: LOST_REGION_REASON };
}

/**
 * eager-next-region, when nothing outside the lost regions has capacity: drops the lost-region
 * blocks so the next pass ranks the full space again; returns how many were dropped. Mutates `blocked`.
 */
export function releaseLostRegionBlocks(blocked: BlockedScope[]): number {
  const keep = blocked.filter((b) => b.reason !== LOST_REGION_REASON);
  const dropped = blocked.length - keep.length;
  if (dropped > 0) blocked.splice(0, blocked.length, ...keep);
  return dropped;
}

/** Candidates in `lost`'s region first (failover), the rest in their ranked order. */
export function sameRegionFirst(candidates: Offer[], lost: LostPlacement): Offer[] {
  const same = candidates.filter((c) => c.connection === lost.connection && c.location === lost.location);
  return same.length === 0 ? candidates : [...same, ...candidates.filter((c) => !same.includes(c))];
}

/** Whether a job that exited with `exitCode` reruns, given the restarts already made. */
export function shouldRestartJob(recovery: WorkloadSpec['recovery'], exitCode: number, restartsSoFar: number): boolean {
  if (exitCode === 0 || restartsSoFar >= recovery.maxRestartsOnError) return false;
  return recovery.restartExitCodes === undefined || recovery.restartExitCodes.includes(exitCode);
}

/** Watchdog lease for this spec, or undefined when off (default: on for jobs, off for services). */
export function watchdogLeaseMs(spec: WorkloadSpec): number | undefined {
  const w = spec.watchdog;
  if (w === 'off') return undefined;
  if (w === undefined) return spec.lifecycle.kind === 'job' ? 600_000 : undefined;
  return w.lease;
}

/** A workload ID as a path segment (the same rule the node layout uses; see activities/node.ts). */
export function taskPathSegment(workloadId: string): string {
  return workloadId.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** The resume convention: where this task's checkpoints live, per the spec's `checkpoint`. */
export function checkpointEnv(spec: WorkloadSpec, workloadId: string): Record<string, string> {
  const seg = taskPathSegment(workloadId);
  const env: Record<string, string> = {};
  if (spec.checkpoint?.dir) env.GPUFLOW_CHECKPOINT_DIR = `${spec.checkpoint.dir.replace(/\/+$/, '')}/${seg}`;
  if (spec.checkpoint?.uri) env.GPUFLOW_CHECKPOINT_URI = `${spec.checkpoint.uri.replace(/\/+$/, '')}/${seg}`;
  return env;
}
