/**
 * A workload's cost from its instances' provider lifetimes, under each provider's billing unit.
 * Pure (time comes in as `now`): the workflow, its status and the client share it.
 */
import { billedCost, billedMs, ledgerSum, type BillingPolicy } from '../money/billing.js';
import { toJSON, type Money, type MoneyJSON } from '../money/money.js';

export interface BilledInstance {
  connection: string;
  pricePerHour: MoneyJSON;
  billing: BillingPolicy;
  /** Provider-reported lifetime. */
  createdAt: string;
  terminatedAt?: string;
}

export function lifetimeMs(b: BilledInstance, now: number): number {
  return Math.max(0, (b.terminatedAt ? Date.parse(b.terminatedAt) : now) - Date.parse(b.createdAt));
}

/** An instance's cost so far (or final, once terminated), under its provider's billing. */
export function instanceCost(b: BilledInstance, now: number): Money {
  return billedCost(b.pricePerHour, lifetimeMs(b, now), b.billing);
}

export function instanceBilledMs(b: BilledInstance, now: number): number {
  return billedMs(lifetimeMs(b, now), b.billing);
}

/** Cost (at ledger scale) and billed time of all instances at `now`. */
export function accrued(billed: readonly BilledInstance[], now: number): { cost: MoneyJSON; billedMs: number } {
  return {
    cost: toJSON(ledgerSum(billed.map((b) => instanceCost(b, now)))),
    billedMs: billed.reduce((n, b) => n + instanceBilledMs(b, now), 0),
  };
}
