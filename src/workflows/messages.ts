/**
 * The workload workflow's public surface: its messages, status shape and search attributes.
 * Dependency-free (only @temporalio/common and types), so clients and workflows share it safely.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { MoneyJSON } from '../money/money.js';
import type { AutoShutdown } from '../workload/spec.js';

export const WORKLOAD_STATES = [
  'pending',
  'selecting',
  'provisioning',
  'waiting-for-instance',
  'bootstrapping',
  'running',
  /** The instance was lost (preemption, host failure) or the job is being restarted. */
  'recovering',
  'stopping',
  'terminating',
  'terminated',
] as const;
export type WorkloadState = (typeof WORKLOAD_STATES)[number];

/** How a terminated workload ended. */
export type WorkloadOutcome = 'succeeded' | 'failed' | 'stopped' | 'idle-shutdown' | 'max-duration' | 'budget-exceeded' | 'cancelled';

export interface ChosenOffer {
  connection: string;
  provider: string;
  instanceTypeId: string;
  type: string;
  location: string;
  country: string;
  spot: boolean;
  gpu: string;
  pricePerHour: MoneyJSON;
  /** Why this offer: its rank and what it beat. */
  why: string;
}

export interface AttemptRecord {
  refId: string;
  connection: string;
  instanceTypeId: string;
  location: string;
  spot: boolean;
  cloudId?: string;
  /** interrupted: the provider ended it (preemption, host failure) and the workload recovered elsewhere. */
  outcome: 'created' | 'failed-over' | 'abandoned' | 'interrupted';
  reason?: string;
  /** Timeline (ISO times, workflow clock): create asked, create returned, running, job started, loss detected. */
  plannedAt?: string;
  createdAt?: string;
  runningAt?: string;
  jobStartedAt?: string;
  interruptedAt?: string;
  /** The provider's own record of when the instance ended, for interrupted attempts. */
  providerEndedAt?: string;
}

/** Where a service listens, as reachable from outside the node (public) or inside its network. */
export interface ServiceEndpointView {
  port: number;
  hostPort: number;
  public: boolean;
  host: string;
  url?: string;
}

export interface ServiceStatus {
  healthy: boolean;
  endpoints: ServiceEndpointView[];
  restarts: number;
  lastRestartReason?: string;
}

export interface WorkloadStatus {
  workloadId: string;
  name: string;
  project: string;
  tenant: string;
  state: WorkloadState;
  outcome?: WorkloadOutcome;
  offer?: ChosenOffer;
  instance?: { connection: string; cloudId: string; sshHost?: string; sshPort?: number; sshUser?: string; createdAt?: string };
  startedAt: string;
  elapsedMs: number;
  /** Accrued from the instances' provider-reported lifetimes, under each provider's billing granularity. */
  costSoFar: MoneyJSON;
  /** Budget holds: the most this workload may spend in each budget it counts against. */
  budgets?: { key: string; reserved: MoneyJSON; overrun?: boolean }[];
  attempts: AttemptRecord[];
  autoShutdown: AutoShutdown;
  gpuUtilization?: number[];
  /** Interactive SSH sessions seen at the last idle sample (autoShutdown.requireNoSshSessions). */
  sshSessions?: number;
  idleSince?: string;
  exitCode?: number;
  error?: string;
  /** Instance losses recovered so far (each a new instance). */
  recoveries: number;
  /** Job reruns after a failure, or service restarts, on the same instance. */
  restarts: number;
  service?: ServiceStatus;
  /** When the node's watchdog lease was last renewed (jobs; see spec.watchdog). */
  watchdogRenewedAt?: string;
}

export interface WorkloadResult {
  workloadId: string;
  outcome: WorkloadOutcome;
  exitCode?: number;
  offer?: ChosenOffer;
  cost: MoneyJSON;
  billedMs: number;
  attempts: AttemptRecord[];
  recoveries: number;
  restarts: number;
  error?: string;
}

export const statusQuery = defineQuery<WorkloadStatus>('status');
/** Stops the workload gracefully: SIGTERM to the job, grace, terminate. Returns the state then. */
export const stopUpdate = defineUpdate<WorkloadState, [{ reason?: string }]>('stop');
export const setAutoShutdownUpdate = defineUpdate<AutoShutdown, [AutoShutdown]>('setAutoShutdown');
/** The last lines of the job's output, read over SSH by an activity. */
export const logsUpdate = defineUpdate<string, [{ lines?: number }]>('logs');

export const SA_STATE = defineSearchAttributeKey('GpuflowState', SearchAttributeType.KEYWORD);
export const SA_PROVIDER = defineSearchAttributeKey('GpuflowProvider', SearchAttributeType.KEYWORD);
export const SA_GPU = defineSearchAttributeKey('GpuflowGpu', SearchAttributeType.KEYWORD);
export const SA_REGION = defineSearchAttributeKey('GpuflowRegion', SearchAttributeType.KEYWORD);
export const SA_SPOT = defineSearchAttributeKey('GpuflowSpot', SearchAttributeType.BOOL);
export const SA_PROJECT = defineSearchAttributeKey('GpuflowProject', SearchAttributeType.KEYWORD);
export const SA_TENANT = defineSearchAttributeKey('GpuflowTenant', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTES = [SA_STATE, SA_PROVIDER, SA_GPU, SA_REGION, SA_SPOT, SA_PROJECT, SA_TENANT];
