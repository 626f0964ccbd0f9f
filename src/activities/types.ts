/** Activity inputs and outputs: plain JSON, safe for workflow history (no secrets). */
import type { MoneyJSON } from '../money/money.js';
import type { Instance } from '../providers/sdk/types.js';
import type { BlockedScope } from '../routing/constraints.js';
import type { Offer } from '../routing/offer.js';
import type { ServiceEndpoint } from '../workload/messages.js';
import type { ServicePort } from '../workload/specSchema.js';
import type { WorkloadSpec } from '../workload/spec.js';

/** The spec's and the status's own types, as the activities take and return them. */
export type { ServiceEndpoint, ServicePort };

export interface PlanCandidatesInput {
  spec: WorkloadSpec;
  blocked: BlockedScope[];
  limit: number;
}

export interface PlanCandidatesResult {
  candidates: Offer[];
  /** Total offers seen across connections. */
  offersConsidered: number;
  /** Why offers were not chosen: counts per reason, largest first (bounded). */
  rejectedReasons: { reason: string; count: number }[];
  /** Connections whose catalog could not be read this time. */
  unreachable: { connection: string; error: string }[];
}

export interface CreateInstanceInput {
  offer: Offer;
  refId: string;
  name: string;
  tags: Record<string, string>;
}

export interface InstanceRef {
  connection: string;
  cloudId: string;
  location: string;
}

export interface InstanceView {
  instance: Instance;
  pollMs: number;
  provisioningTimeoutMs: number;
}

/** How an instance was lost under its workload, as its provider reported it. */
export interface InstanceLoss {
  status: string;
  interruption?: 'preempted' | 'host-failure';
  reason: string;
  /** The provider's own end time, when it reports one. */
  providerEndedAt?: string;
  /** When the watcher saw it (worker clock). */
  detectedAt: string;
}

export interface BootstrapInput {
  ref: InstanceRef;
  workloadId: string;
  command: string;
  /** Container image; used where the host has a Docker engine. */
  image?: string;
  env: Record<string, string>;
  secretEnv: Record<string, string>;
  ports: ServicePort[];
  sshTimeoutMs: number;
}

export interface BootstrapResult {
  sshAttempts: number;
  firewall: 'applied' | 'staged';
  jobDir: string;
}

export interface RunJobInput {
  ref: InstanceRef;
  workloadId: string;
  pollMs: number;
  /** Grace between SIGTERM and SIGKILL when the job is stopped. */
  stopGraceMs: number;
}

/** Run number of a job restarted on the same instance: 0 is the first start, n the nth restart. */
export interface RunJobRestartInput extends RunJobInput {
  run?: number;
  /** 1-based attempt (the instance's place in status.attempts), labelling its shipped log. */
  attempt?: number;
  /** The spec's secretEnv references (never values), resolved on the worker to mask the log. */
  secretEnv?: Record<string, string>;
}

export interface RunJobResult {
  exitCode: number;
  /** True when this attempt re-attached to a job an earlier attempt had started. */
  reattached: boolean;
}

export interface CostBreakdown {
  pricePerHour: MoneyJSON;
  billedMs: number;
  cost: MoneyJSON;
}

export interface HealthCheckSpec {
  port: number;
  /** HTTP GET path (2xx/3xx is healthy); without it, a TCP connect. */
  path?: string;
  intervalMs: number;
  timeoutMs: number;
  /** Consecutive failures that make the service unhealthy. */
  failureThreshold: number;
  /** How long the first healthy check may take after launch. */
  startupTimeoutMs: number;
}

export interface ServiceRunInput {
  ref: InstanceRef;
  workloadId: string;
  /** 0 = first start, n = nth restart on the same instance. */
  run: number;
  ports: ServicePort[];
  healthCheck?: HealthCheckSpec | undefined;
  pollMs: number;
  stopGraceMs: number;
}

export interface StartServiceResult {
  endpoints: ServiceEndpoint[];
  /** From launch (as the node's clock saw it) to the first healthy check. */
  readyAfterMs: number;
  /** True when this attempt found the run already launched by an earlier attempt. */
  reattached: boolean;
}

export interface SuperviseServiceResult {
  reason: 'exited' | 'unhealthy' | 'lost';
  exitCode?: number;
  detail: string;
}

/** What a node does when its watchdog lease expires, after stopping its job (see watchdogScript.ts). */
export type WatchdogAction = 'provider-self-terminate' | 'shutdown' | 'stop-job-only';

export interface InstallWatchdogInput {
  ref: InstanceRef;
  workloadId: string;
  /** How long the node waits for a renewal before it acts (at least 4000). */
  leaseMs: number;
  /** Grace between SIGTERM and SIGKILL when the watchdog stops the job. */
  stopGraceMs: number;
}

export interface InstallWatchdogResult {
  action: WatchdogAction;
}

export interface RenewWatchdogLeaseInput {
  ref: InstanceRef;
  workloadId: string;
  leaseMs: number;
}
