/**
 * Budgets in the embedding API (`GpuflowClient.budgets`):
 *
 *   await gf.budgets.set({ project: 'ml' }, { cap: '500.00', period: 'month', alerts: [50, 80], onCap: 'stop' });
 *   const st = await gf.budgets.status({ project: 'ml' });
 *   const report = await gf.budgets.cost({ project: 'ml', by: 'week', since: '30d' });
 */
import type { Client } from '@temporalio/client';
import { BudgetClient } from './client.js';
import { InvalidBudgetError, parseBudgetConfig, parseBudgetKey, toBudgetKey, type BudgetConfigInput, type BudgetScopeInput } from './config.js';
import type { BudgetStatus, LedgerView } from './ledger.js';
import { dailyFromEntries, rollUp, sinceDay, totals, type CostGrouping, type CostReport, type CostRow } from './report.js';

export interface CostQuery {
  project?: string;
  tenant?: string;
  connection?: string;
  by?: CostGrouping;
  /** A date (2026-09-01) or a span back from now ("7d"). */
  since?: string;
}

export class BudgetsApi {
  readonly client: BudgetClient;

  constructor(temporal: Client, taskQueue: string) {
    this.client = new BudgetClient(temporal, taskQueue);
  }

  /**
   * Sets a project's or tenant's budget (validated first: InvalidBudgetError names the field).
   * `null` removes the cap and keeps the ledger. Connection caps live in connections.yaml.
   */
  async set(scope: BudgetScopeInput, input: BudgetConfigInput | null): Promise<BudgetStatus> {
    const key = toBudgetKey(scope);
    if (parseBudgetKey(key).scope === 'connection') {
      throw new InvalidBudgetError([{ path: key, message: 'a connection’s spending cap is set in connections.yaml (spendingCap: { amount, currency, period })' }]);
    }
    return this.client.set(key, input === null ? null : parseBudgetConfig(input));
  }

  /** undefined when nothing was ever reserved, spent or configured for the scope. */
  status(scope: BudgetScopeInput): Promise<BudgetStatus | undefined> {
    return this.client.status(toBudgetKey(scope));
  }

  async list(): Promise<BudgetStatus[]> {
    const keys = await this.client.keys();
    const all = await Promise.all(keys.map((k) => this.client.status(k)));
    return all.filter((s): s is BudgetStatus => !!s);
  }

  ledger(scope: BudgetScopeInput, opts: { since?: string; entries?: boolean } = {}): Promise<LedgerView | undefined> {
    return this.client.ledger(toBudgetKey(scope), opts);
  }

  /** Releases holds of workloads that ended without settling (e.g. terminated), now. */
  reconcile(scope: BudgetScopeInput, minAgeMs = 0): Promise<{ released: string[] }> {
    return this.client.reconcile(toBudgetKey(scope), minAgeMs);
  }

  /**
   * Costs per day, week or month. One scope: its ledger. Project and tenant together: the project's
   * recent entries of that tenant (entries are kept for the last 500 workloads per budget). No
   * scope: every project.
   */
  async cost(q: CostQuery = {}): Promise<CostReport> {
    const by = q.by ?? 'day';
    const since = q.since ? sinceDay(q.since) : undefined;
    const opts = since ? { since } : {};
    let rows: CostRow[] = [];
    if (q.project && q.tenant) {
      const view = await this.client.ledger(toBudgetKey({ project: q.project }), { ...opts, entries: true });
      const entries = (view?.entries ?? []).filter((e) => e.tenant === q.tenant);
      rows = rollUp(`project:${q.project}/tenant:${q.tenant}`, dailyFromEntries(entries), by);
    } else if (q.project || q.tenant || q.connection) {
      const key = toBudgetKey(q.project ? { project: q.project } : q.tenant ? { tenant: q.tenant } : { connection: q.connection! });
      const view = await this.client.ledger(key, opts);
      rows = view ? rollUp(key, view.daily, by) : [];
    } else {
      const keys = (await this.client.keys()).filter((k) => k.startsWith('project:'));
      const views = await Promise.all(keys.map((k) => this.client.ledger(k, opts)));
      rows = views.flatMap((v) => (v ? rollUp(v.key, v.daily, by) : []));
      rows.sort((a, b) => a.start.localeCompare(b.start) || a.scope.localeCompare(b.scope));
    }
    return { by, ...(since ? { since } : {}), rows, totals: totals(rows) };
  }
}
