/** Activity inputs and outputs: plain JSON, safe for workflow history (no secrets). */
import type { MoneyJSON } from '../money/money.js';
import type { Instance } from '../providers/sdk/types.js';
import type { BlockedScope } from '../routing/constraints.js';
import type { Offer } from '../routing/offer.js';
import type { WorkloadSpec } from '../workload/spec.js';

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

export interface BootstrapInput {
  ref: InstanceRef;
  workloadId: string;
  command: string;
  /** Container image; used where the host has a Docker engine. */
  image?: string;
  env: Record<string, string>;
  secretEnv: Record<string, string>;
  ports: { port: number; public: boolean }[];
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
