/**
 * The budget entity workflow's public surface: its Updates and Queries. Dependency-free (types
 * only), so clients, activities and workflows share it safely.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { BudgetConfig } from './config.js';
import type { BudgetState, BudgetStatus, CommitRequest, CommitResult, LedgerView, ReserveRequest, ReserveResult } from './ledger.js';

/** Sets (or replaces) the workload's hold. Rejected by the validator when it would exceed the cap. */
export const reserveUpdate = defineUpdate<ReserveResult, [ReserveRequest]>('reserve');
/** Records a finished workload's actual cost and releases its hold. Idempotent per workload. */
export const commitUpdate = defineUpdate<CommitResult, [CommitRequest]>('commit');
/** Sets the cap, period, alerts and policy (null removes the cap: ledger only). */
export const setBudgetUpdate = defineUpdate<BudgetStatus, [{ config: BudgetConfig | null }]>('setBudget');
/** Checks holds older than minAgeMs against their workloads now, releasing those that ended unsettled. */
export const reconcileUpdate = defineUpdate<{ released: string[] }, [{ minAgeMs?: number }]>('reconcile');

export const budgetStatusQuery = defineQuery<BudgetStatus>('budgetStatus');
export const budgetLedgerQuery = defineQuery<LedgerView, [{ since?: string; entries?: boolean }]>('budgetLedger');

/** Sent by a budget to its running workloads when its cap is reached and its policy is "stop". */
export const budgetCapReachedSignal = defineSignal<[{ key: string; message: string }]>('budgetCapReached');

export interface BudgetWorkflowInput {
  key: string;
  state?: BudgetState;
  /** Workloads still to signal (carried across continue-as-new). */
  pendingSignals?: { workloadId: string; key: string; message: string }[];
}

/** The workflow's signature, for clients starting it by name (./client.ts) without importing the workflow. */
export type BudgetWorkflow = (input: BudgetWorkflowInput) => Promise<void>;
