/**
 * Migration as data: what a WorkloadRun carries about moves (requests, residency deadline, the last
 * verdict) and the pure transitions of a move: the replacement's attempt while both instances
 * live, and the cutover that makes it current. No effects, no clock (time comes in as `now`).
 */
import type { InstanceRef, InstanceView } from '../activities/types.js';
import type { BillingPolicy } from '../money/billing.js';
import type { Offer } from '../routing/offer.js';
import type { MoveDecision, MoveReason } from '../workflows/migrationPolicy.js';
import type { BilledInstance } from './cost.js';
import type { AttemptRecord, MigrationStatus } from './messages.js';
import type { WorkloadRun } from './state.js';

export interface MigrationState {
  moves: number;
  /** Requests by hand so far (their sequence numbers answer the update that made them). */
  requests: number;
  request?: { seq: number; to?: string } | undefined;
  /** Set by a placement update that excludes where the job runs; cleared by the move. */
  residency?: { violation: string; since: number; deadline: number; nextTryAt: number } | undefined;
  lastCheck?: { at: number; trigger: MoveReason; move: boolean; why: string; seq?: number };
  /** When the last periodic rebalance check ran (the next is an interval later). */
  lastRebalanceAt?: number;
}

/** A replacement instance that is running and bootstrapped, while the job still runs on the old one. */
export interface Replacement {
  reason: MoveReason;
  why: string;
  candidate: Offer;
  record: AttemptRecord;
  ref: InstanceRef;
  view: InstanceView;
  bill: BilledInstance;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function migrationOf(run: WorkloadRun): MigrationState {
  run.migration ??= { moves: 0, requests: 0 };
  return run.migration;
}

export function recordMoveCheck(run: WorkloadRun, trigger: MoveReason, d: MoveDecision, now: number, seq?: number): void {
  const m = migrationOf(run);
  m.lastCheck = { at: now, trigger, move: d.move, why: d.why, ...(seq !== undefined ? { seq } : {}) };
  if (trigger === 'rebalance') m.lastRebalanceAt = now;
}

/** A placement update changed the rules: if the job's placement breaks them, it must leave by the deadline. */
export function recordPlacementChange(run: WorkloadRun, violation: string | undefined, deadlineMs: number, now: number): void {
  const m = migrationOf(run);
  if (!violation) {
    m.residency = undefined;
    return;
  }
  // A second update keeps the first deadline: the rule has been broken since then.
  const since = m.residency?.since ?? now;
  m.residency = { violation, since, deadline: m.residency?.deadline ?? now + deadlineMs, nextTryAt: now };
}

/** The replacement's create returned: its bill goes in before the current one (which stays last while it lives). */
export function recordReplacementCreated(run: WorkloadRun, record: AttemptRecord, candidate: Offer, created: InstanceView, billing: BillingPolicy, now: number): BilledInstance {
  record.createdAt = iso(now);
  record.cloudId = created.instance.cloudId;
  const bill: BilledInstance = { connection: candidate.connection, pricePerHour: candidate.pricePerHour, billing, createdAt: created.instance.createdAt };
  run.billed.splice(Math.max(0, run.billed.length - 1), 0, bill);
  return bill;
}

/** The job stopped on the old instance: the replacement becomes the workload's instance. */
export function recordCutover(run: WorkloadRun, old: AttemptRecord, rep: Replacement, now: number): void {
  const m = migrationOf(run);
  old.outcome = 'migrated';
  old.reason = `${rep.reason}: moved to ${rep.candidate.connection}/${rep.candidate.location} at ${iso(now)}`;
  const i = run.billed.indexOf(rep.bill);
  if (i >= 0) run.billed.splice(i, 1);
  run.billed.push(rep.bill);
  run.ref = rep.ref;
  run.live = true;
  run.view = rep.view;
  const c = rep.candidate;
  run.offer = {
    connection: c.connection,
    provider: c.provider,
    instanceTypeId: c.instanceTypeId,
    type: c.type,
    location: c.location,
    country: c.country,
    spot: c.spot,
    gpu: c.gpu ? `${c.gpu.count}x ${c.gpu.type}` : 'none',
    pricePerHour: c.pricePerHour,
    why: `moved (${rep.reason}): ${rep.why}`,
  };
  delete run.gpuUtilization;
  run.idleSinceMs = undefined;
  m.moves++;
  if (rep.reason === 'residency') m.residency = undefined;
}

export function migrationStatus(m: MigrationState): MigrationStatus {
  return {
    moves: m.moves,
    ...(m.lastCheck ? { lastCheck: { at: iso(m.lastCheck.at), trigger: m.lastCheck.trigger, move: m.lastCheck.move, why: m.lastCheck.why } } : {}),
    ...(m.residency ? { residency: { violation: m.residency.violation, since: iso(m.residency.since), deadline: iso(m.residency.deadline) } } : {}),
  };
}
