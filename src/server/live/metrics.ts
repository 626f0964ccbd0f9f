/**
 * Prometheus metrics (prom-client) from the spend snapshot: workloads by state, $/h burning and
 * spend per project/tenant/provider, budget left, GPU utilization per workload, catalog age,
 * failed-over attempts and failed status queries. Money becomes a float only here, at the
 * exposition format's boundary.
 */
import client from 'prom-client';
import type { SpendTracker } from './spendTracker.js';
import { sumDecimal } from './spendTracker.js';
import { toDecimalString } from '../../money/money.js';

export function createMetricsRegistry(tracker: SpendTracker): MetricsRegistry {
  const register = new client.Registry();
  client.collectDefaultMetrics({ register, prefix: 'gpuflow_server_' });
  const g = (name: string, help: string, labelNames: string[]) => new client.Gauge({ name, help, labelNames, registers: [register] });
  const byState = g('gpuflow_workloads', 'Open workloads by state', ['state']);
  const burn = g('gpuflow_spend_rate_usd_per_hour', 'USD per hour the running instances bill now', ['project', 'tenant', 'provider']);
  const spent = g('gpuflow_spend_running_usd', 'Cost so far of the open workloads', ['project', 'tenant', 'provider']);
  const committed = g('gpuflow_budget_committed_usd', 'Committed spend this budget period', ['scope', 'name', 'period']);
  const reserved = g('gpuflow_budget_reserved_usd', 'Held by running workloads', ['scope', 'name']);
  const left = g('gpuflow_budget_left_usd', 'Cap minus committed minus reserved', ['scope', 'name']);
  const cap = g('gpuflow_budget_cap_usd', 'Budget cap per period', ['scope', 'name', 'period']);
  const used = g('gpuflow_budget_used_percent', 'Whole percent of the cap used (committed + accrued)', ['scope', 'name']);
  const util = g('gpuflow_workload_gpu_utilization_percent', 'Mean GPU utilization at the last idle sample', ['workload', 'project', 'tenant', 'provider']);
  const wcost = g('gpuflow_workload_cost_usd', 'Cost so far per open workload', ['workload', 'project', 'tenant', 'provider']);
  const age = g('gpuflow_catalog_age_seconds', 'Seconds since the connection’s catalog last synced', ['connection', 'provider']);
  const failovers = g('gpuflow_workload_failovers', 'Provisioning attempts that failed over (capacity, quota, errors), open workloads', ['project', 'tenant', 'provider']);
  const queryFailures = new client.Counter({ name: 'gpuflow_status_query_failures_total', help: 'Status queries the server could not answer', registers: [register] });
  let countedFailures = 0;
  const updated = g('gpuflow_snapshot_timestamp_seconds', 'When the spend snapshot was taken', []);

  const refresh = () => {
    const s = tracker.snapshot();
    for (const m of [byState, burn, spent, committed, reserved, left, cap, used, util, wcost, age, failovers]) m.reset();
    for (const [state, n] of Object.entries(s.byState)) byState.set({ state }, n);
    const groups = new Map<string, { labels: { project: string; tenant: string; provider: string }; rates: string[]; costs: string[]; failovers: number }>();
    for (const w of s.workloads) {
      const labels = { project: w.project, tenant: w.tenant, provider: w.provider ?? 'none' };
      const k = JSON.stringify(labels);
      const grp = groups.get(k) ?? { labels, rates: [], costs: [], failovers: 0 };
      grp.rates.push(w.ratePerHour);
      grp.costs.push(w.costNow);
      grp.failovers += w.failovers;
      groups.set(k, grp);
      const wl = { workload: w.workloadId, ...labels };
      wcost.set(wl, Number(w.costNow));
      if (w.gpuUtilization !== undefined) util.set(wl, w.gpuUtilization);
    }
    for (const grp of groups.values()) {
      burn.set(grp.labels, Number(sumDecimal(grp.rates)));
      spent.set(grp.labels, Number(sumDecimal(grp.costs)));
      failovers.set(grp.labels, grp.failovers);
    }
    for (const b of s.budgets) {
      const l = { scope: b.scope, name: b.name };
      committed.set({ ...l, period: b.period.label }, Number(toDecimalString(b.committed)));
      reserved.set(l, Number(toDecimalString(b.reserved)));
      if (b.left) left.set(l, Number(toDecimalString(b.left)));
      if (b.config) cap.set({ ...l, period: b.period.kind }, Number(toDecimalString(b.config.cap)));
      if (b.usedPercent !== undefined) used.set(l, b.usedPercent);
    }
    for (const c of s.catalogs) if (c.ageSeconds !== undefined) age.set({ connection: c.connection, provider: c.provider ?? c.connection }, c.ageSeconds);
    if (tracker.totalQueryFailures > countedFailures) {
      queryFailures.inc(tracker.totalQueryFailures - countedFailures);
      countedFailures = tracker.totalQueryFailures;
    }
    updated.set(Date.parse(s.at) / 1000);
  };
  return Object.assign(register, { refresh });
}

export type MetricsRegistry = client.Registry & { refresh(): void };
