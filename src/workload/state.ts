/**
 * One workload's life as data: a serializable WorkloadRun and the pure transitions the workflow
 * applies to it (modelled on budget/ledger.ts). Everything the status query shows and everything
 * continue-as-new must carry lives here; nothing here has effects or reads a clock (time comes in
 * as `now`, in ms, from the workflow's deterministic clock).
 */
import type { InstanceLoss, InstanceRef, InstanceView } from '../activities/types.js';
import type { BlockedScope } from '../routing/constraints.js';
import type { Offer } from '../routing/offer.js';
import { newBudgetHolds, type BudgetHoldsState } from '../workflows/workloadBudget.js';
import { gpuIdle, idleStep } from '../workflows/idleShutdownPolicy.js';
import type { BilledInstance } from './cost.js';
import type { MigrationState } from './migrationState.js';
import type { AttemptRecord, ChosenOffer, ServiceStatus, SetupStatus, SyncStatus, WorkloadOutcome, WorkloadState } from './messages.js';
import type { AutoShutdown, WorkloadSpec } from './specSchema.js';

/** Behaviours a workload started on this code has, and one started on older code (replayed) does not. */
export interface WorkloadFeatures {
  /** Long activities are cancelled and awaited (bounded) before the workload completes. */
  awaitLongActivities: boolean;
  /** Continue-as-new when history grows past `historyLimit`. */
  continueAsNew: boolean;
}

export interface WorkloadRun {
  workloadId: string;
  spec: WorkloadSpec;
  /** Workflow-clock ms when the workload (its first run) started. */
  startedAt: number;
  maxPasses: number;
  features: WorkloadFeatures;
  /** Events after which the workflow continues as new (tests force it with a tiny one). */
  historyLimit: number;
  state: WorkloadState;
  outcome?: WorkloadOutcome;
  autoShutdown: AutoShutdown;
  offer?: ChosenOffer;
  ref?: InstanceRef;
  /** Whether `ref` is an instance the workload still has to terminate. */
  live: boolean;
  view?: InstanceView;
  exitCode?: number;
  error?: string;
  gpuUtilization?: number[];
  /** Interactive SSH sessions at the last idle sample (autoShutdown.requireNoSshSessions). */
  sshSessions?: number;
  idleSinceMs?: number | undefined;
  stopReason?: WorkloadOutcome;
  recoveries: number;
  restarts: number;
  service?: ServiceStatus | undefined;
  watchdogRenewedAt?: string;
  /** Blocks learned from failures; they persist across placements (transient ones expire). */
  blocked: BlockedScope[];
  attempts: AttemptRecord[];
  billed: BilledInstance[];
  budget: BudgetHoldsState;
  /** Past its last instance: the guards exit. */
  finished: boolean;
  endedAt?: number;
  /** The spec's setup on the current (or last) instance. */
  setup?: SetupStatus;
  /** The last sync of workdir and files. */
  sync?: SyncStatus;
  /** Continue-as-new carried this run over a running job: how many job starts were already made on `ref`. */
  resume?: { run: number } | undefined;
  /** Moves of the running job (placement.rebalance, residency, by hand); see migrationState.ts. */
  migration?: MigrationState | undefined;
}

export function newWorkloadRun(args: {
  workloadId: string;
  spec: WorkloadSpec;
  now: number;
  maxPasses?: number;
  features: WorkloadFeatures;
  historyLimit?: number;
}): WorkloadRun {
  return {
    workloadId: args.workloadId,
    spec: args.spec,
    startedAt: args.now,
    maxPasses: args.maxPasses ?? 5,
    features: args.features,
    historyLimit: args.historyLimit ?? DEFAULT_HISTORY_LIMIT,
    state: 'pending',
    autoShutdown: args.spec.autoShutdown,
    live: false,
    recoveries: 0,
    restarts: 0,
    blocked: [],
    attempts: [],
    billed: [],
    budget: newBudgetHolds(args.spec),
    finished: false,
  };
}

/** Well under Temporal's 51,200-event limit, so a replay stays cheap. */
export const DEFAULT_HISTORY_LIMIT = 10_000;

const iso = (ms: number) => new Date(ms).toISOString();

/** A stop for `reason`; the first one wins. Returns whether this call set it. */
export function requestStop(run: WorkloadRun, reason: WorkloadOutcome): boolean {
  if (run.stopReason) return false;
  run.stopReason = reason;
  if (run.state !== 'terminating' && run.state !== 'terminated') run.state = 'stopping';
  return true;
}

/** Why a stop update is refused, if it is. */
export function stopRefusal(run: WorkloadRun): string | undefined {
  return run.state === 'terminated' || run.state === 'terminating' ? `workload is already ${run.state}` : undefined;
}

export function setAutoShutdown(run: WorkloadRun, next: AutoShutdown): AutoShutdown {
  run.autoShutdown = next;
  run.idleSinceMs = undefined;
  return next;
}

/** A candidate's next attempt record (its refId is the idempotency key of its create). */
export function planAttempt(run: WorkloadRun, candidate: Offer, now: number): AttemptRecord {
  const record: AttemptRecord = {
    refId: `${run.workloadId}-${run.attempts.length + 1}`,
    connection: candidate.connection,
    instanceTypeId: candidate.instanceTypeId,
    location: candidate.location,
    spot: candidate.spot,
    outcome: 'created',
    plannedAt: iso(now),
  };
  run.attempts.push(record);
  return record;
}

/** A connection's spending cap refused the candidate's reservation: recorded, the connection blocked. */
export function recordCapRefusal(run: WorkloadRun, candidate: Offer, message: string): void {
  run.blocked.push({ connection: candidate.connection, reason: 'SpendingCapReached', scope: 'provider' });
  run.attempts.push({
    refId: `${run.workloadId}-${run.attempts.length + 1}`,
    connection: candidate.connection,
    instanceTypeId: candidate.instanceTypeId,
    location: candidate.location,
    spot: candidate.spot,
    outcome: 'failed-over',
    reason: `SpendingCapReached: ${message}`,
  });
}

/** The create returned: the instance is the workload's to terminate from now on. */
export function recordCreated(
  run: WorkloadRun,
  record: AttemptRecord,
  candidate: Offer,
  created: InstanceView,
  billing: BilledInstance['billing'],
  why: string,
  now: number,
): BilledInstance {
  record.createdAt = iso(now);
  run.ref = { connection: candidate.connection, cloudId: created.instance.cloudId, location: created.instance.location };
  run.live = true;
  record.cloudId = created.instance.cloudId;
  const bill: BilledInstance = { connection: candidate.connection, pricePerHour: candidate.pricePerHour, billing, createdAt: created.instance.createdAt };
  run.billed.push(bill);
  run.view = created;
  run.offer = {
    connection: candidate.connection,
    provider: candidate.provider,
    instanceTypeId: candidate.instanceTypeId,
    type: candidate.type,
    location: candidate.location,
    country: candidate.country,
    spot: candidate.spot,
    gpu: candidate.gpu ? `${candidate.gpu.count}x ${candidate.gpu.type}` : 'none',
    pricePerHour: candidate.pricePerHour,
    why,
  };
  return bill;
}

/** Why the chosen offer won, for status. */
export function whyChosen(args: { rank: number; pass: number; lost: boolean; candidates: number; considered: number; recoveries: number; attempts: number }): string {
  return args.rank === 0 && args.pass === 0 && !args.lost
    ? `cheapest of ${args.candidates} matching offers (${args.considered} considered)`
    : `rank ${args.rank + 1} in pass ${args.pass + 1}${args.lost ? ` of recovery ${args.recoveries}` : ''} after ${args.attempts - 1} earlier attempt(s)`;
}

/** The instance's termination returned: the workload no longer owns it. */
export function recordTerminated(run: WorkloadRun, target: InstanceRef, bill: BilledInstance | undefined, terminatedAt: string): void {
  if (bill) bill.terminatedAt = terminatedAt;
  const record = run.attempts.find((a) => a.cloudId === target.cloudId && a.connection === target.connection);
  if (record) record.terminatedAt = terminatedAt;
}

/** The provider ended the instance under the workload. */
export function recordLoss(run: WorkloadRun, record: AttemptRecord, loss: InstanceLoss, now: number): void {
  record.outcome = 'interrupted';
  record.reason = loss.reason;
  record.interruptedAt = iso(now);
  if (loss.providerEndedAt) record.providerEndedAt = loss.providerEndedAt;
  run.service = run.service ? { ...run.service, healthy: false } : undefined;
}

/** What an idle sample means for the auto-shutdown: keep going, or shut down. */
export function recordIdleSample(
  run: WorkloadRun,
  cfg: Exclude<AutoShutdown, 'off'>,
  sample: { utilization: number[]; sshSessions?: number },
  now: number,
): 'busy' | 'idle' | 'shutdown' {
  run.gpuUtilization = sample.utilization;
  if (sample.sshSessions !== undefined) run.sshSessions = sample.sshSessions;
  let idle = gpuIdle(cfg, sample.utilization);
  if (idle && cfg.requireNoSshSessions) idle = sample.sshSessions === 0;
  const step = idleStep(cfg, run.idleSinceMs, idle, now);
  run.idleSinceMs = step.idleSinceMs;
  return step.shutdown ? 'shutdown' : idle ? 'idle' : 'busy';
}

/** The service came up healthy at `endpoints`. */
export function recordServiceUp(run: WorkloadRun, endpoints: ServiceStatus['endpoints']): void {
  run.service = {
    healthy: true,
    endpoints,
    restarts: run.restarts,
    ...(run.service?.lastRestartReason ? { lastRestartReason: run.service.lastRestartReason } : {}),
  };
}

export function recordServiceDown(run: WorkloadRun, why: string): void {
  run.service = { healthy: false, endpoints: run.service?.endpoints ?? [], restarts: run.restarts, lastRestartReason: why };
}

/**
 * Whether a run whose job or service is attached continues as new: only workloads started on code
 * that does, never while stopping, and only once history is past the limit (or the server
 * suggests it) and has grown since the run attached (so a continued run always makes progress).
 */
export function shouldContinueAsNew(run: WorkloadRun, h: { historyLength: number; suggested: boolean; sinceLength: number }): boolean {
  if (!run.features.continueAsNew || run.stopReason || run.finished) return false;
  return h.historyLength > h.sinceLength && (h.historyLength >= run.historyLimit || h.suggested);
}

/** How the workload ends when its work returned normally. */
export function finalOutcome(run: WorkloadRun): WorkloadOutcome {
  return run.stopReason ?? (run.exitCode === 0 ? 'succeeded' : 'failed');
}

/** The workload failed (or was cancelled) with `message`. */
export function recordFailure(run: WorkloadRun, message: string, cancelled: boolean): void {
  run.error = message;
  run.outcome = cancelled ? 'cancelled' : 'failed';
}

/** Every instance has terminated: the attempt the workload ended on is completed; live-only readings go. */
export function recordEnded(run: WorkloadRun, now: number): void {
  run.finished = true;
  run.endedAt = now;
  for (const a of run.attempts) if (a.outcome === 'created' && a.cloudId && a.terminatedAt) a.outcome = 'completed';
  if (run.service) run.service = { ...run.service, healthy: false, endpoints: [] };
}
