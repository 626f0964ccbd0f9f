/**
 * Live spend: polls the open workloads' status queries and the budgets every few seconds and
 * keeps one snapshot that /metrics, the dashboard's event stream and its pages read. One poll
 * serves every viewer, so N dashboards cost Temporal no more than one.
 */
import { EventEmitter } from 'node:events';
import type { GpuflowClient } from '../../client/gpuflowClient.js';
import type { BudgetStatus } from '../../budget/ledger.js';
import { CatalogStoreClient } from '../../catalog/sync/client.js';
import { fromJSON, greaterThan, moneyFromDecimal, proRate, sum, toDecimalString } from '../../money/money.js';
import { SA_PROJECT, SA_STATE, SA_TENANT, type WorkloadStatus } from '../../workflows/messages.js';

/** States in which an instance exists and bills. */
const BILLING_STATES = new Set(['provisioning', 'waiting-for-instance', 'bootstrapping', 'running', 'recovering', 'stopping', 'terminating']);

export interface LiveWorkload {
  workloadId: string;
  name: string;
  project: string;
  tenant: string;
  state: string;
  provider?: string;
  connection?: string;
  region?: string;
  gpu?: string;
  spot?: boolean;
  /** Decimal USD strings (money is never a float here). */
  costSoFar: string;
  /**
   * costSoFar, or the current instance's price × its age when that is more: the workflow settles
   * cost at intervals, the dashboard and metrics show it between them.
   */
  costNow: string;
  ratePerHour: string;
  gpuUtilization?: number;
  failovers: number;
  startedAt: string;
}

export interface SpendSnapshot {
  at: string;
  workloads: LiveWorkload[];
  /** Open workloads by state (counted from visibility, including ones not queried). */
  byState: Record<string, number>;
  budgets: BudgetStatus[];
  catalogs: { connection: string; provider?: string; syncedAt?: string; ageSeconds?: number }[];
  /** Status queries that failed in this poll. */
  queryFailures: number;
}

export class SpendTracker extends EventEmitter {
  private snap: SpendSnapshot = { at: new Date(0).toISOString(), workloads: [], byState: {}, budgets: [], catalogs: [], queryFailures: 0 };
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly catalogs: CatalogStoreClient;
  totalQueryFailures = 0;

  constructor(
    private readonly gpuflow: GpuflowClient,
    private readonly opts: { intervalMs?: number; maxWorkloads?: number } = {},
  ) {
    super();
    this.catalogs = new CatalogStoreClient(gpuflow.temporal, gpuflow.taskQueue, { queryTimeoutMs: 2000 });
  }

  snapshot(): SpendSnapshot {
    return this.snap;
  }

  start(): void {
    if (this.timer) return;
    const tick = () => {
      this.running = this.poll()
        .then(() => undefined, (e: unknown) => void this.emit('error', e))
        .finally(() => {
          if (this.timer) this.timer = setTimeout(tick, this.opts.intervalMs ?? 2000);
        });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One poll now (also what the timer runs). */
  async poll(): Promise<SpendSnapshot> {
    const max = this.opts.maxWorkloads ?? 1000;
    const open: { id: string; project: string; tenant: string; state: string }[] = [];
    const byState: Record<string, number> = {};
    for await (const wf of this.gpuflow.temporal.workflow.list({ query: `WorkflowType = 'workloadWorkflow' AND ExecutionStatus = 'Running'`, pageSize: 1000 })) {
      const state = String(wf.typedSearchAttributes.get(SA_STATE) ?? 'pending');
      byState[state] = (byState[state] ?? 0) + 1;
      if (open.length < max) open.push({ id: wf.workflowId, project: String(wf.typedSearchAttributes.get(SA_PROJECT) ?? ''), tenant: String(wf.typedSearchAttributes.get(SA_TENANT) ?? ''), state });
    }
    let failures = 0;
    const workloads: LiveWorkload[] = [];
    for (let i = 0; i < open.length; i += 25) {
      const batch = await Promise.all(
        open.slice(i, i + 25).map((w) =>
          this.gpuflow
            .handle(w.id)
            .status()
            .catch(() => {
              failures++;
              return undefined;
            }),
        ),
      );
      for (const st of batch) if (st) workloads.push(liveWorkload(st));
    }
    const [budgets, catalogs] = await Promise.all([this.gpuflow.budgets.list().catch(() => this.snap.budgets), this.catalogStatus()]);
    this.totalQueryFailures += failures;
    this.snap = { at: new Date().toISOString(), workloads, byState, budgets, catalogs, queryFailures: failures };
    this.emit('update', this.snap);
    return this.snap;
  }

  private async catalogStatus(): Promise<SpendSnapshot['catalogs']> {
    try {
      const names = await this.catalogs.connections();
      const all = await Promise.all(names.map((n) => this.catalogs.status(n).catch(() => undefined)));
      return all
        .filter((s) => !!s)
        .map((s) => ({
          connection: s.connection,
          ...(s.provider ? { provider: s.provider } : {}),
          ...(s.syncedAt ? { syncedAt: s.syncedAt, ageSeconds: Math.max(0, (Date.now() - Date.parse(s.syncedAt)) / 1000) } : {}),
        }));
    } catch {
      return this.snap.catalogs;
    }
  }
}

export function liveWorkload(st: WorkloadStatus, now = Date.now()): LiveWorkload {
  const billing = BILLING_STATES.has(st.state) && !!st.offer && !!st.instance;
  const accrued = fromJSON(st.costSoFar);
  const since = st.instance?.createdAt ? Date.parse(st.instance.createdAt) : NaN;
  const estimate = billing && Number.isFinite(since) && now > since ? proRate(fromJSON(st.offer!.pricePerHour), Math.round(now - since)) : undefined;
  const costNow = estimate && greaterThan(estimate, accrued) ? estimate : accrued;
  const util = st.gpuUtilization?.length ? st.gpuUtilization.reduce((a, b) => a + b, 0) / st.gpuUtilization.length : undefined;
  return {
    workloadId: st.workloadId,
    name: st.name,
    project: st.project,
    tenant: st.tenant,
    state: st.state,
    ...(st.offer ? { provider: st.offer.provider, connection: st.offer.connection, region: st.offer.location, gpu: st.offer.gpu, spot: st.offer.spot } : {}),
    costSoFar: toDecimalString(st.costSoFar),
    costNow: toDecimalString(costNow),
    ratePerHour: billing ? toDecimalString(st.offer!.pricePerHour) : '0',
    ...(util !== undefined ? { gpuUtilization: util } : {}),
    failovers: st.attempts.filter((a) => a.outcome === 'failed-over').length,
    startedAt: st.startedAt,
  };
}

/** Sums decimal USD strings with dinero (exact), returning a decimal string. */
export function sumDecimal(values: string[]): string {
  return toDecimalString(sum(values.map((v) => moneyFromDecimal(v, 'USD', 8))));
}
