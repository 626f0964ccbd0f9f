/**
 * Budget activities: the workload workflow's reservations and commits (Updates on budget entity
 * workflows, through the worker's own Temporal client), and the budget workflow's side effects
 * (alert webhooks, the orphan check).
 *
 * Idempotency: every Update carries the workload's (workloadId, seq) and an updateId derived from
 * them, and holds are absolute amounts, so a retried activity (worker killed mid-reservation)
 * re-sends the same request and changes nothing.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import { BudgetClient, refusalOf } from './client.js';
import { parseBudgetKey, type BudgetConfig, type OnCapPolicy } from './config.js';
import type { AlertEvent, HoldMeta, LedgerEntry, Refusal } from './ledger.js';
import { billedCost, exactDecimal, formatExact, ledgerJSON, PER_SECOND, type BillingPolicy } from '../money/billing.js';
import { add, fromJSON, type MoneyJSON } from '../money/money.js';
import type { ProviderRegistry } from '../providers/registry.js';

export interface BudgetHoldSpec {
  key: string;
  /** Final costs in this budget of the workload's instances that already terminated. */
  spent: MoneyJSON;
  /** Whether the current instance (or candidate) counts in this budget. */
  applies: boolean;
  /** What the workload has spent so far in this budget, including the current instance (top-ups). */
  accrued?: MoneyJSON;
}

export interface ReserveBudgetsInput {
  workloadId: string;
  seq: number;
  holds: BudgetHoldSpec[];
  /** The instance to reserve for: its offer price and how long to hold for. */
  current?: {
    connection: string;
    pricePerHour: MoneyJSON;
    /** Lifetime to reserve (billed under the connection's granularity). */
    desiredMs: number;
    /** Top-ups: accept a partial grant covering at least this lifetime. */
    atLeastMs?: number;
  };
  /** Whether desiredMs comes from lifecycle.maxDuration or budget.estimate. */
  declared: boolean;
  meta: HoldMeta;
}

export interface BudgetGrant {
  key: string;
  granted: MoneyJSON;
  capped: boolean;
  onCap?: OnCapPolicy;
}

export interface ReserveBudgetsResult {
  /** The billing policy of `current.connection` (per second when there is no current). */
  billing: BillingPolicy;
  grants: BudgetGrant[];
  refusals: Refusal[];
}

export interface SettleBudgetsInput {
  workloadId: string;
  seq: number;
  commits: { key: string; cost: MoneyJSON; entry?: Omit<LedgerEntry, 'committedAt' | 'seq' | 'cost'> }[];
}

export interface BudgetActivityDeps {
  registry: ProviderRegistry;
}

function humanMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${Math.ceil(ms / 1000)}s`;
}

export function budgetActivities({ registry }: BudgetActivityDeps) {
  function budgets(): BudgetClient {
    const ctx = Context.current();
    return new BudgetClient(ctx.client, ctx.info.taskQueue);
  }

  function billingOf(connection: string): BillingPolicy {
    try {
      return registry.get(connection).billing ?? PER_SECOND;
    } catch {
      return PER_SECOND;
    }
  }

  /** A connection budget's cap as this worker's connections.yaml declares it (undefined: not ours). */
  function declaredCap(key: string): BudgetConfig | null | undefined {
    const { scope, name } = parseBudgetKey(key);
    if (scope !== 'connection' || !registry.names().includes(name)) return undefined;
    return registry.get(name).spendingCap ?? null;
  }

  return {
    /**
     * Sets the workload's hold in every listed budget, in parallel. Refusals are returned (the
     * workflow decides: fail, fail over, stop, or finish); infrastructure errors are retried.
     */
    async reserveBudgets(input: ReserveBudgetsInput): Promise<ReserveBudgetsResult> {
      const client = budgets();
      const billing = input.current ? billingOf(input.current.connection) : PER_SECOND;
      const cur = input.current;
      const ahead = cur ? billedCost(cur.pricePerHour, cur.desiredMs, billing) : undefined;
      const atLeast = cur?.atLeastMs !== undefined ? billedCost(cur.pricePerHour, cur.atLeastMs, billing) : undefined;
      const what = cur
        ? `${exactDecimal(cur.pricePerHour)} ${cur.pricePerHour.currency}/h for ${humanMs(cur.atLeastMs ?? cur.desiredMs)} on ${cur.connection}${cur.atLeastMs !== undefined ? ', a top-up for a running instance' : ''}`
        : undefined;
      const outcomes = await Promise.all(
        input.holds.map(async (h) => {
          const spent = fromJSON(h.spent);
          const amount = h.applies && ahead ? add(fromJSON(ledgerJSON(spent)), ahead) : fromJSON(ledgerJSON(spent));
          const floor = h.applies && atLeast ? add(fromJSON(ledgerJSON(spent)), atLeast) : undefined;
          const syncConfig = declaredCap(h.key);
          const outcome = await client.reserve(
            h.key,
            {
              workloadId: input.workloadId,
              seq: input.seq,
              amount: ledgerJSON(amount),
              ...(floor ? { atLeast: ledgerJSON(floor) } : {}),
              ...(h.accrued ? { accrued: ledgerJSON(h.accrued) } : {}),
              declared: input.declared,
              ...(what && h.applies ? { what } : {}),
              meta: input.meta,
              ...(syncConfig !== undefined ? { syncConfig } : {}),
            },
            `${input.workloadId}/${input.seq}/${h.key}`,
          );
          return { key: h.key, outcome };
        }),
      );
      // Fault injection for tests: die (kill -9) here, after the Updates and before completing.
      const delay = Number(process.env.GPUFLOW_FAULT_RESERVE_DELAY_MS ?? 0);
      if (delay > 0) await Context.current().sleep(delay);
      const grants: BudgetGrant[] = [];
      const refusals: Refusal[] = [];
      for (const { key, outcome } of outcomes) {
        if (outcome.ok) {
          // A budget in another currency answers in the request's too (the workload compares grants with its own spend).
          grants.push({ key, granted: outcome.result.grantedAs ?? outcome.result.granted, capped: !!outcome.result.cap, ...(outcome.result.onCap ? { onCap: outcome.result.onCap } : {}) });
        } else refusals.push(outcome.refusal);
      }
      if (refusals.length) Context.current().log.info('budget refused', { workloadId: input.workloadId, refusals: refusals.map((r) => r.message) });
      return { billing, grants, refusals };
    },

    /** Commits the workload's actual costs and releases its holds. Idempotent. */
    async settleBudgets(input: SettleBudgetsInput): Promise<void> {
      const client = budgets();
      await Promise.all(
        input.commits.map(async (c) => {
          try {
            await client.commit(c.key, { workloadId: input.workloadId, seq: input.seq, cost: ledgerJSON(c.cost), ...(c.entry ? { entry: c.entry } : {}) }, `${input.workloadId}/${input.seq}/${c.key}/commit`);
          } catch (e) {
            const refusal = refusalOf(e);
            if (refusal) throw ApplicationFailure.create({ type: 'BudgetInvalid', message: refusal.message, nonRetryable: true });
            throw e;
          }
        }),
      );
    },

    /** POSTs a fired alert as JSON; a non-2xx answer is retried by the activity's policy. */
    async postBudgetAlert({ url, alert }: { url: string; alert: AlertEvent }): Promise<void> {
      const body = {
        type: 'gpuflow.budget.alert',
        budget: alert.key,
        period: alert.period,
        threshold: alert.threshold,
        spend: exactDecimal(alert.spend),
        cap: exactDecimal(alert.cap),
        currency: alert.cap.currency,
        at: alert.at,
        message: `budget ${alert.key} reached ${alert.threshold}% of its ${formatExact(alert.cap)} cap for ${alert.period} (spent ${formatExact(alert.spend)})`,
      };
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': `${alert.key}/${alert.periodStart}/${alert.threshold}` },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      if (!res.ok) throw new Error(`webhook ${new URL(url).host} answered ${res.status}`);
    },

    /** Which of these workloads are no longer running (closed, or unknown to the server). */
    async endedWorkloads({ workloadIds }: { workloadIds: string[] }): Promise<string[]> {
      const client = Context.current().client;
      const ended: string[] = [];
      for (let i = 0; i < workloadIds.length; i += 20) {
        await Promise.all(
          workloadIds.slice(i, i + 20).map(async (id) => {
            try {
              const d = await client.workflow.getHandle(id).describe();
              if (d.status.name !== 'RUNNING') ended.push(id);
            } catch (e) {
              if (e instanceof WorkflowNotFoundError) ended.push(id);
              else throw e;
            }
          }),
        );
      }
      return ended;
    },
  };
}

/** What the budget workflow proxies (./workflow.ts). */
export type BudgetActivities = ReturnType<typeof budgetActivities>;
