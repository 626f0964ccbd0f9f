/**
 * A workload's side of budgets (workflow code: deterministic, activities for every effect).
 *
 *   reserveFor(candidate)  before creating an instance: hold price × reserved duration (billed under
 *                          the connection's granularity) in the project, tenant and connection
 *                          budgets; a refusal means the instance is never created.
 *   check(now)             while an instance lives: when the next interval plus a stop margin would
 *                          outrun the holds, top them up; a refused top-up is a reached cap.
 *   settle()               at the end, after every instance terminated: commit the actual costs
 *                          (provider lifetimes) and release the holds.
 *
 * Every call carries a fresh sequence number; the budget entity treats (workloadId, seq) as the
 * idempotency key, so activity retries (a worker killed mid-reservation) never double-count.
 */
import { log } from '@temporalio/workflow';
import type { BudgetHoldSpec, ReserveBudgetsInput, ReserveBudgetsResult } from '../budget/activities.js';
import { budgetKey } from '../budget/config.js';
import type { Refusal } from '../budget/ledger.js';
import { billedCost, ledgerSum, type BillingPolicy } from '../money/billing.js';
import { add, fromJSON, greaterThan, toJSON, type Money, type MoneyJSON } from '../money/money.js';
import type { Offer } from '../routing/offer.js';
import { instanceBilledMs, instanceCost, lifetimeMs, type BilledInstance } from '../workload/cost.js';
import { budgetCalls, settleCalls } from '../workload/activityOptions.js';
import type { WorkloadSpec } from '../workload/specSchema.js';

export { instanceBilledMs, instanceCost, type BilledInstance } from '../workload/cost.js';

/**
 * What the workload knows of its holds, as plain JSON: carried in its state (and across
 * continue-as-new), so the sequence numbers stay unique for the workload's whole life.
 */
export interface BudgetHoldsState {
  seq: number;
  /** Every budget this workload has asked for a hold in (settled at the end). */
  keys: string[];
  grants: Record<string, MoneyJSON>;
  /** Budgets whose cap was reached under policy "finish" (or whose top-up was refused): no more top-ups there. */
  overrun: string[];
  /** Set once the actual costs are committed and the holds released. */
  settled?: boolean;
}

export function newBudgetHolds(spec: WorkloadSpec): BudgetHoldsState {
  return { seq: 0, keys: [budgetKey('project', spec.project), budgetKey('tenant', spec.tenant)], grants: {}, overrun: [] };
}

/**
 * Reserved when the spec declares neither lifecycle.maxDuration nor budget.estimate. Safe under a
 * hard cap too: a workload that outruns its hold must top it up, and a refused top-up stops it.
 */
export const DEFAULT_RESERVATION_MS = 3_600_000;
/** Kept in hand ahead of every check: what a graceful stop (SIGTERM grace, terminate) may still cost. */
export const STOP_MARGIN_MS = 20_000;


/** The workload's budget calls over its BudgetHoldsState (which this mutates in place). */
export class WorkloadBudget {
  readonly reservedMs: number;
  readonly declared: boolean;
  private readonly projectKey: string;
  private readonly tenantKey: string;

  constructor(
    private readonly workloadId: string,
    private readonly spec: WorkloadSpec,
    private readonly billed: BilledInstance[],
    readonly state: BudgetHoldsState = newBudgetHolds(spec),
  ) {
    const d = spec.lifecycle.maxDuration ?? spec.budget?.estimate;
    this.declared = d !== undefined;
    this.reservedMs = d ?? DEFAULT_RESERVATION_MS;
    this.projectKey = budgetKey('project', spec.project);
    this.tenantKey = budgetKey('tenant', spec.tenant);
  }

  private get keys(): string[] {
    return this.state.keys;
  }

  private isOverrun(key: string): boolean {
    return this.state.overrun.includes(key);
  }

  private markOverrun(key: string): void {
    if (!this.isOverrun(key)) this.state.overrun.push(key);
  }

  /** How often a live instance is checked against its holds. */
  get guardIntervalMs(): number {
    return Math.min(60_000, Math.max(2_000, Math.round(this.reservedMs / 10)));
  }

  counts(key: string): boolean {
    return this.keys.includes(key);
  }

  private applies(key: string, connection: string): boolean {
    return key === this.projectKey || key === this.tenantKey || key === budgetKey('connection', connection);
  }

  /** Final costs, in budget `key`, of this workload's instances that already terminated. */
  private spent(key: string, now: number): Money {
    return ledgerSum(this.billed.filter((b) => b.terminatedAt && this.applies(key, b.connection)).map((b) => instanceCost(b, now)));
  }

  private async call(
    current: NonNullable<ReserveBudgetsInput['current']>,
    keys: string[],
    accrued?: (key: string) => Money,
  ): Promise<ReserveBudgetsResult> {
    const now = Date.now();
    const seq = ++this.state.seq;
    const holds: BudgetHoldSpec[] = keys.map((key) => ({
      key,
      spent: toJSON(this.spent(key, now)),
      applies: this.applies(key, current.connection),
      ...(accrued ? { accrued: toJSON(accrued(key)) } : {}),
    }));
    const r = await budgetCalls.reserveBudgets({
      workloadId: this.workloadId,
      seq,
      holds,
      current,
      declared: this.declared,
      meta: { name: this.spec.name, project: this.spec.project, tenant: this.spec.tenant, connection: current.connection },
    });
    for (const g of r.grants) this.state.grants[g.key] = g.granted;
    return r;
  }

  /**
   * Holds price × reserved duration for `candidate` in every budget it counts against. Returns its
   * connection's billing policy, or the refusals (the instance must then not be created).
   */
  async reserveFor(candidate: Offer): Promise<{ ok: true; billing: BillingPolicy } | { ok: false; refusals: Refusal[] }> {
    const ck = budgetKey('connection', candidate.connection);
    if (!this.keys.includes(ck)) this.keys.push(ck);
    const r = await this.call(
      { connection: candidate.connection, pricePerHour: candidate.pricePerHour, desiredMs: this.reservedMs },
      this.keys.filter((k) => !this.isOverrun(k)),
    );
    return r.refusals.length ? { ok: false, refusals: r.refusals } : { ok: true, billing: r.billing };
  }

  /**
   * For the live instance: tops the holds up when the next interval plus the stop margin would
   * outrun them. Returns the refusal to stop for (a capped budget with policy "stop"), if any.
   */
  async check(now: number): Promise<Refusal | undefined> {
    const live = this.billed.find((b) => !b.terminatedAt);
    if (!live) return undefined;
    const elapsed = lifetimeMs(live, now);
    const horizon = elapsed + this.guardIntervalMs + STOP_MARGIN_MS;
    const need = billedCost(live.pricePerHour, horizon, live.billing);
    const keys = this.keys.filter((k) => !this.isOverrun(k) && this.applies(k, live.connection));
    const short = keys.some((k) => {
      const g = this.state.grants[k];
      return !g || greaterThan(add(this.spent(k, now), need), fromJSON(g));
    });
    if (!short) return undefined;
    const soFar = instanceCost(live, now);
    const r = await this.call(
      { connection: live.connection, pricePerHour: live.pricePerHour, desiredMs: horizon + this.reservedMs, atLeastMs: horizon },
      keys,
      (k) => add(this.spent(k, now), soFar),
    );
    for (const refusal of r.refusals) {
      if (refusal.kind === 'exceeded' && refusal.onCap === 'finish') {
        this.markOverrun(refusal.key);
        log.warn('budget cap reached; policy lets the workload finish', { key: refusal.key, message: refusal.message });
        continue;
      }
      if (refusal.kind === 'exceeded') return refusal;
      this.markOverrun(refusal.key);
      log.warn('budget top-up refused; not enforced further for this workload', { key: refusal.key, message: refusal.message });
    }
    return undefined;
  }

  /** Holds as the status shows them: the most this workload may spend in each budget. */
  holds(): { key: string; reserved: MoneyJSON; overrun?: boolean }[] {
    return budgetHolds(this.state);
  }

  /** Commits actual costs to every budget asked, releasing the holds. Call after every instance terminated. */
  async settle(outcome: string | undefined, now: number): Promise<void> {
    if (this.state.seq === 0) return; // never reserved anything
    const commits = this.keys.map((key) => {
      const instances = this.billed.filter((b) => this.applies(key, b.connection));
      const cost = ledgerSum(instances.map((b) => instanceCost(b, now)));
      if (instances.length === 0) return { key, cost: toJSON(cost) };
      const created = instances.map((b) => b.createdAt).sort();
      const ended = instances.map((b) => b.terminatedAt ?? new Date(now).toISOString()).sort();
      return {
        key,
        cost: toJSON(cost),
        entry: {
          workloadId: this.workloadId,
          name: this.spec.name,
          project: this.spec.project,
          tenant: this.spec.tenant,
          connections: [...new Set(instances.map((b) => b.connection))],
          billedMs: instances.reduce((n, b) => n + instanceBilledMs(b, now), 0),
          startedAt: created[0]!,
          endedAt: ended[ended.length - 1]!,
          ...(outcome ? { outcome } : {}),
        },
      };
    });
    await settleCalls.settleBudgets({ workloadId: this.workloadId, seq: ++this.state.seq, commits });
    this.state.settled = true;
  }
}

/** Holds as the status shows them: the most this workload may spend in each budget (none once settled). */
export function budgetHolds(state: BudgetHoldsState): { key: string; reserved: MoneyJSON; overrun?: boolean }[] {
  if (state.settled) return [];
  return state.keys.flatMap((key) => {
    const g = state.grants[key];
    return g ? [{ key, reserved: g, ...(state.overrun.includes(key) ? { overrun: true } : {}) }] : [];
  });
}
