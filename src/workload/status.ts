/**
 * What the status query and the result show of a WorkloadRun: what is true now. Once the workload
 * ended: no SSH line or endpoint for a dead instance, no stale utilization, released holds not
 * listed, elapsed and cost frozen at the end. Pure.
 */
import { toDecimalString } from '../money/money.js';
import { budgetHolds } from '../workflows/workloadBudget.js';
import { accrued } from './cost.js';
import type { WorkloadResult, WorkloadStatus } from './messages.js';
import { migrationStatus } from './migrationState.js';
import type { WorkloadRun } from './state.js';

const iso = (ms: number) => new Date(ms).toISOString();

export function statusOf(run: WorkloadRun, now: number): WorkloadStatus {
  const at = run.endedAt ?? now;
  const { cost } = accrued(run.billed, at);
  const holds = budgetHolds(run.budget);
  const ref = run.ref;
  const instance = ref ? run.view?.instance : undefined;
  const terminatedAt = ref ? run.attempts.find((a) => a.cloudId === ref.cloudId && a.connection === ref.connection)?.terminatedAt : undefined;
  return {
    workloadId: run.workloadId,
    name: run.spec.name,
    project: run.spec.project,
    tenant: run.spec.tenant,
    state: run.state,
    ...(run.outcome ? { outcome: run.outcome } : {}),
    ...(run.offer ? { offer: run.offer } : {}),
    ...(ref
      ? {
          instance: {
            connection: ref.connection,
            cloudId: ref.cloudId,
            ...(run.live && instance?.publicIp ? { sshHost: instance.publicIp, sshPort: instance.sshPort, sshUser: instance.sshUser } : {}),
            createdAt: instance?.createdAt,
            ...(!run.live && terminatedAt ? { terminatedAt } : {}),
          },
        }
      : {}),
    startedAt: iso(run.startedAt),
    ...(run.endedAt !== undefined ? { endedAt: iso(run.endedAt) } : {}),
    asOf: iso(at),
    elapsedMs: at - run.startedAt,
    costSoFar: cost,
    costExact: `${toDecimalString(cost)} ${cost.currency}`,
    costBasis: run.billed,
    ...(holds.length ? { budgets: holds } : {}),
    ...(run.budget.settled ? { budgetsSettled: true } : {}),
    attempts: run.attempts,
    autoShutdown: run.autoShutdown,
    ...(run.live && run.gpuUtilization ? { gpuUtilization: run.gpuUtilization } : {}),
    ...(run.live && run.sshSessions !== undefined ? { sshSessions: run.sshSessions } : {}),
    ...(run.live && run.idleSinceMs !== undefined ? { idleSince: iso(run.idleSinceMs) } : {}),
    ...(run.exitCode !== undefined ? { exitCode: run.exitCode } : {}),
    ...(run.error ? { error: run.error } : {}),
    recoveries: run.recoveries,
    restarts: run.restarts,
    ...(run.service ? { service: run.service } : {}),
    ...(run.watchdogRenewedAt ? { watchdogRenewedAt: run.watchdogRenewedAt } : {}),
    ...(run.migration ? { migration: migrationStatus(run.migration) } : {}),
    ...(run.setup ? { setup: run.setup } : {}),
    ...(run.sync ? { sync: run.sync } : {}),
  };
}

export function resultOf(run: WorkloadRun, now: number): WorkloadResult {
  const { cost, billedMs } = accrued(run.billed, now);
  return {
    workloadId: run.workloadId,
    outcome: run.outcome!,
    ...(run.exitCode !== undefined ? { exitCode: run.exitCode } : {}),
    ...(run.offer ? { offer: run.offer } : {}),
    cost,
    billedMs,
    attempts: run.attempts,
    recoveries: run.recoveries,
    restarts: run.restarts,
    ...(run.outcome === 'budget-exceeded' && run.error ? { error: run.error } : {}),
  };
}
