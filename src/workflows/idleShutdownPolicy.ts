/**
 * The auto-shutdown idle rule, pure: the workload workflow applies it to each utilization sample,
 * and the cost simulator (src/simulation) replays it. No Temporal imports: unit-tested directly.
 */
import type { AutoShutdown } from '../workload/specSchema.js';

type IdleConfig = Exclude<AutoShutdown, 'off'>;

/** Whether one GPU sample counts as idle: every GPU under the threshold (no sample: not idle). */
export function gpuIdle(cfg: IdleConfig, gpuUtilization: readonly number[]): boolean {
  return gpuUtilization.length > 0 && gpuUtilization.every((u) => u < cfg.utilizationBelowPercent);
}

export interface IdleState {
  /** When the current idle stretch began; undefined while busy. */
  idleSinceMs: number | undefined;
  /** Idle for the whole window: stop the instance. */
  shutdown: boolean;
}

/** The idle state after a sample taken at `nowMs`: a busy sample restarts the window. */
export function idleStep(cfg: IdleConfig, idleSinceMs: number | undefined, idle: boolean, nowMs: number): IdleState {
  if (!idle) return { idleSinceMs: undefined, shutdown: false };
  const since = idleSinceMs ?? nowMs;
  return { idleSinceMs: since, shutdown: nowMs - since >= cfg.idleWindow };
}
