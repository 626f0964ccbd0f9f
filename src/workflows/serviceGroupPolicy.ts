/**
 * A service group's decisions, as pure functions (workflow-safe; the proxy activity uses the load
 * rule too): each replica's workload spec, which slot a new replica takes, which replicas a
 * scale-down drains, how many replicas load asks for, and what the group aims for now.
 */
import type { WorkloadSpec } from '../workload/specSchema.js';
import type { ReplicaMember } from './serviceGroupMessages.js';

/**
 * A replica's workload spec: the group's, one replica (no group settings), on-demand when it holds
 * the on-demand floor (else spot preferred: "allow"), its ports shifted by slot × portStride.
 */
export function replicaSpec(spec: WorkloadSpec, slot: number, onDemand: boolean): WorkloadSpec {
  const svc = spec.service!;
  const stride = svc.replicas?.portStride ?? 0;
  const { replicas: _r, onDemandMin: _o, endpoint: _e, autoscale: _a, scale: _s, ...single } = svc;
  const spot: WorkloadSpec['spot'] = onDemand ? 'never' : spec.spot === 'never' ? 'allow' : spec.spot;
  return {
    ...spec,
    spot,
    ...(spot !== 'allow' ? { spotWait: undefined } : {}),
    service: single,
    ports: spec.ports.map((p) => (stride ? { ...p, hostPort: (p.hostPort ?? p.port) + slot * stride } : p)),
  };
}

/** The port the proxy sends to: the health check's, else the first declared. */
export function servicePortOf(spec: WorkloadSpec): number {
  return spec.service?.healthCheck?.port ?? spec.ports[0]?.port ?? 0;
}

/** The lowest slot no member holds (draining ones still hold theirs: their ports are in use). */
export function freeSlot(members: readonly Pick<ReplicaMember, 'slot'>[]): number {
  const used = new Set(members.map((m) => m.slot));
  let slot = 0;
  while (used.has(slot)) slot++;
  return slot;
}

/** Whether the next replica should hold on-demand capacity: while fewer serving replicas do than onDemandMin. */
export function nextIsOnDemand(members: readonly Pick<ReplicaMember, 'phase' | 'onDemand'>[], onDemandMin: number): boolean {
  return members.filter((m) => serving(m) && m.onDemand).length < onDemandMin;
}

/** Starting or active: counted towards the desired replicas. */
export function serving(m: Pick<ReplicaMember, 'phase'>): boolean {
  return m.phase === 'starting' || m.phase === 'active';
}

/**
 * Which serving replicas a scale-down by `count` drains: unhealthy ones first, then spot before
 * on-demand while the on-demand floor holds, newest first (the oldest have proved themselves).
 */
export function pickToDrain(members: readonly ReplicaMember[], count: number, onDemandMin: number): ReplicaMember[] {
  const candidates = members.filter(serving).sort((a, b) => Number(a.healthy) - Number(b.healthy) || Number(a.onDemand) - Number(b.onDemand) || b.startedAt.localeCompare(a.startedAt) || b.slot - a.slot);
  let onDemandLeft = members.filter((m) => serving(m) && m.onDemand).length;
  const out: ReplicaMember[] = [];
  for (const m of candidates) {
    if (out.length >= count) break;
    if (m.onDemand && m.healthy && onDemandLeft <= onDemandMin) continue;
    if (m.onDemand) onDemandLeft--;
    out.push(m);
  }
  return out;
}

export function clamp(n: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, n));
}

/**
 * Replicas load asks for: enough that each carries about `targetInFlight` requests in flight.
 * `total` is the window's average of all requests in flight.
 */
export function replicasForLoad(total: number, targetInFlight: number, min: number, max: number): number {
  return clamp(Math.ceil(total / targetInFlight - 1e-9), min, max);
}

/** What the group aims for: its target, raised to an active schedule burst, within min..max. */
export function desiredReplicas(target: number, burst: { replicas: number; untilMs: number } | undefined, nowMs: number, min: number, max: number): number {
  const floor = burst && nowMs < burst.untilMs ? burst.replicas : 0;
  return clamp(Math.max(target, floor), min, max);
}

/**
 * Whether a load-driven change may happen now: up after `cooldownMs` since the last load-driven
 * change, down after `cooldownMs` since any change (so a burst or a scale-up settles first).
 */
export function loadChangeAllowed(wants: number, current: number, nowMs: number, lastLoadChangeMs: number | undefined, lastChangeMs: number | undefined, cooldownMs: number): boolean {
  if (wants === current) return false;
  if (wants > current) return lastLoadChangeMs === undefined || nowMs - lastLoadChangeMs >= cooldownMs;
  return lastChangeMs === undefined || nowMs - lastChangeMs >= cooldownMs;
}
