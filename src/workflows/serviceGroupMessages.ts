/**
 * A service group's public surface: what its proxy reads and reports, what clients ask and see.
 * Dependency-free (only @temporalio/workflow's message definitions and types), shared by the
 * workflow, the proxy activity and the client.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { WorkloadState } from '../workload/messages.js';
import type { WorkloadSpec } from '../workload/specSchema.js';

/**
 * starting: its workload is placing/booting; active: in the pool once healthy; draining: out of
 * the pool, its in-flight requests finishing; stopping: drained, its workload being stopped.
 */
export type ReplicaPhase = 'starting' | 'active' | 'draining' | 'stopping';

export interface ReplicaMember {
  workloadId: string;
  slot: number;
  phase: ReplicaPhase;
  /** Held on on-demand capacity (service.onDemandMin); otherwise it prefers spot. */
  onDemand: boolean;
  /** As the proxy last saw its workload's status. */
  healthy: boolean;
  /** host:port the proxy sends to (the health-checked port's endpoint). */
  target?: string;
  state?: WorkloadState;
  startedAt: string;
  /** The replica it replaced (that one's workload ended without being asked). */
  replaces?: string;
}

/** What the proxy reads every tick: who may be in its pool, and the load policy's inputs. */
export interface GroupMembership {
  groupId: string;
  /** Replicas the group aims for now. */
  desired: number;
  min: number;
  max: number;
  members: { workloadId: string; phase: ReplicaPhase }[];
  /** The port on each replica the proxy sends to (the health check's, else the first). */
  servicePort: number;
  /** upAfter/downAfter: the cool-down's end for a load-driven change up or down (ISO). */
  autoscale?: { targetInFlight: number; windowMs: number; upAfter: string; downAfter: string };
  ended: boolean;
}

/** The proxy's view of one replica: from that replica's workload status and the proxy's own counters. */
export interface ReplicaReport {
  workloadId: string;
  healthy: boolean;
  target?: string;
  state?: WorkloadState;
  inFlight: number;
}

export interface ProxyReport {
  /** Where the proxy listens (host:port). */
  endpoint: string;
  replicas: ReplicaReport[];
  /** Draining replicas with no request in flight and out of the pool: safe to stop. */
  drained: string[];
  /** Requests in flight per pooled replica, averaged over the autoscale window. */
  loadPerReplica?: number;
  /** The replica count that load asks for (clamped to min..max), when it differs from `desired`. */
  loadWants?: number;
  /** Since the proxy started: requests answered, and those that failed on every replica tried. */
  served: number;
  failed: number;
  retried: number;
}

export interface ScaleEvent {
  at: string;
  from: number;
  to: number;
  by: 'start' | 'manual' | 'load' | 'schedule' | 'schedule-end';
  why: string;
}

export interface ServiceGroupStatus {
  groupId: string;
  name: string;
  state: 'running' | 'stopping' | 'stopped';
  desired: number;
  min: number;
  max: number;
  onDemandMin: number;
  endpoint?: string;
  members: ReplicaMember[];
  /** Replicas whose workload ended unasked and were replaced. */
  replaced: number;
  /** An active schedule burst: at least `replicas` until `until`. */
  burst?: { replicas: number; until: string };
  scaleEvents: ScaleEvent[];
  proxy?: Pick<ProxyReport, 'served' | 'failed' | 'retried' | 'loadPerReplica'>;
}

export interface ServiceGroupInput {
  /** Already validated by parseWorkloadSpec; has service.replicas and service.endpoint. */
  spec: WorkloadSpec;
}

export interface ServiceGroupResult {
  groupId: string;
  replicasStarted: number;
  replaced: number;
  scaleEvents: ScaleEvent[];
}

export const groupStatusQuery = defineQuery<ServiceGroupStatus>('groupStatus');
export const groupMembershipQuery = defineQuery<GroupMembership>('groupMembership');
export const proxyReportSignal = defineSignal<[ProxyReport]>('proxyReport');
/** A schedule's burst: at least `replicas` for `forMs` from now. */
export const burstSignal = defineSignal<[{ replicas: number; forMs: number; why?: string }]>('burst');
/** Sets the replica count (clamped to service.replicas); returns the count then. */
export const scaleUpdate = defineUpdate<number, [{ replicas: number; why?: string }]>('scale');
/** Drains every replica, stops them, and ends the group. */
export const stopGroupUpdate = defineUpdate<string, [{ reason?: string }]>('stopGroup');
