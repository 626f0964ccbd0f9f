/**
 * The workload workflow's public surface: its messages, status shape and search attributes.
 * Dependency-free (only @temporalio/common and types), so clients and workflows share it safely.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { MoneyJSON } from '../money/money.js';
import type { BilledInstance } from './cost.js';
import type { AutoShutdown } from './specSchema.js';

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
  /**
   * created: its instance is (or was, while the workload ran on it) the workload's own;
   * completed: the workload ended on it and terminated it; interrupted: the provider ended it
   * (preemption, host failure) and the workload recovered elsewhere; failed-over: its create
   * failed; abandoned: it never came up; migrated: the job moved off it (make-before-break) to
   * the next attempt, whose `move` says why.
   */
  outcome: 'created' | 'completed' | 'failed-over' | 'abandoned' | 'interrupted' | 'migrated';
  /** Set on an attempt made to move a running job: rebalance (cheaper), residency (placement changed) or manual (`gpuflow migrate`). */
  move?: 'rebalance' | 'residency' | 'manual';
  reason?: string;
  /** Timeline (ISO times, workflow clock): create asked, create returned, running, job started, loss detected. */
  plannedAt?: string;
  createdAt?: string;
  runningAt?: string;
  jobStartedAt?: string;
  interruptedAt?: string;
  /** The provider's own record of when the instance ended, for interrupted attempts. */
  providerEndedAt?: string;
  /** When its instance was terminated (the provider's time when it reports one). */
  terminatedAt?: string;
}

/** Where a service listens, as reachable from outside the node (public) or inside its network. */
export interface ServiceEndpoint {
  port: number;
  hostPort: number;
  public: boolean;
  host: string;
  /** http://host:hostPort, for public ports. */
  url?: string;
}

export interface ServiceStatus {
  healthy: boolean;
  endpoints: ServiceEndpoint[];
  restarts: number;
  lastRestartReason?: string;
}

/** The spec's `setup` on the current (or last) instance: once per instance, before the first run. */
export interface SetupStatus {
  cloudId: string;
  state: 'running' | 'succeeded' | 'failed';
  exitCode?: number;
  startedAt: string;
  endedAt?: string;
  /** Where its output is on the node (setup writes its own log, apart from the job's). */
  log: string;
}

/** The last sync of `workdir` and `files` to a node (counts only; the content never enters history). */
export interface SyncStatus {
  cloudId: string;
  manifest: string;
  files: number;
  bytes: number;
  /** Entries written and file bytes sent this time (0 when the node already had everything). */
  sentEntries: number;
  sentBytes: number;
  wireBytes: number;
  removed: number;
  ms: number;
  at: string;
}

export interface WorkloadStatus {
  workloadId: string;
  name: string;
  project: string;
  tenant: string;
  state: WorkloadState;
  outcome?: WorkloadOutcome;
  offer?: ChosenOffer;
  /**
   * The current (or, once it ended, the last) instance. SSH details only while it lives;
   * `terminatedAt` once it is gone.
   */
  instance?: { connection: string; cloudId: string; sshHost?: string; sshPort?: number | undefined; sshUser?: string | undefined; createdAt?: string | undefined; terminatedAt?: string };
  startedAt: string;
  /** When the workload ended (state terminated). */
  endedAt?: string;
  /**
   * Workflow time at which elapsedMs and costSoFar were computed. A query runs at the time of the
   * workflow's last task, so a live workload's figures are as of then: WorkloadHandle.status()
   * brings them to the client's clock from `costBasis`.
   */
  asOf: string;
  /** To asOf, or to endedAt once ended. */
  elapsedMs: number;
  /** Accrued from the instances' provider-reported lifetimes, under each provider's billing granularity, at ledger scale (8 decimals). */
  costSoFar: MoneyJSON;
  /** costSoFar as a decimal string at the ledger scale with its currency, e.g. "0.01234567 USD". */
  costExact: string;
  /** What the cost is computed from: each instance's price, billing unit and provider lifetime. */
  costBasis: BilledInstance[];
  /** Budget holds: the most this workload may spend in each budget it counts against. Absent once released. */
  budgets?: { key: string; reserved: MoneyJSON; overrun?: boolean }[];
  /** Set once the workload's actual cost is committed to its budgets and the holds released. */
  budgetsSettled?: boolean;
  attempts: AttemptRecord[];
  autoShutdown: AutoShutdown;
  /** The last sample, while the instance lives. */
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
  setup?: SetupStatus;
  sync?: SyncStatus;
  /** Migration: moves made, the last check's verdict, a pending residency deadline. */
  migration?: MigrationStatus;
}

export interface MigrationStatus {
  moves: number;
  lastCheck?: { at: string; trigger: 'rebalance' | 'residency' | 'manual'; move: boolean; why: string };
  /** An update excluded where the job runs: it must move before `deadline`, or it stops. */
  residency?: { violation: string; since: string; deadline: string };
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
/** Moves a running job now (make-before-break), optionally to `provider/region`; returns the verdict. */
export const migrateUpdate = defineUpdate<{ moving: boolean; why: string }, [{ to?: string }]>('migrate');
/** Replaces placement.countries / placement.regions; a job the new rules exclude must move within placement.residencyDeadline. */
export const updatePlacementUpdate = defineUpdate<string, [{ countries?: string[] | null; regions?: string[] | null }]>('updatePlacement');
export const logsUpdate = defineUpdate<string, [{ lines?: number }]>('logs');

export const SA_STATE = defineSearchAttributeKey('GpuflowState', SearchAttributeType.KEYWORD);
export const SA_PROVIDER = defineSearchAttributeKey('GpuflowProvider', SearchAttributeType.KEYWORD);
export const SA_GPU = defineSearchAttributeKey('GpuflowGpu', SearchAttributeType.KEYWORD);
export const SA_REGION = defineSearchAttributeKey('GpuflowRegion', SearchAttributeType.KEYWORD);
export const SA_SPOT = defineSearchAttributeKey('GpuflowSpot', SearchAttributeType.BOOL);
export const SA_PROJECT = defineSearchAttributeKey('GpuflowProject', SearchAttributeType.KEYWORD);
export const SA_TENANT = defineSearchAttributeKey('GpuflowTenant', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTES = [SA_STATE, SA_PROVIDER, SA_GPU, SA_REGION, SA_SPOT, SA_PROJECT, SA_TENANT];
