/**
 * Workload rows as `gpuflow ps` shows them (the visibility summary plus how each ended and its cost),
 * and their JSON form: the one shape the server's GET /v1/workloads answers and its client reads.
 */
import type { MoneyJSON } from '../money/money.js';
import type { WorkloadResult, WorkloadStatus } from '../workflows/messages.js';
import type { GpuflowClient, WorkloadListOptions, WorkloadSummary } from './gpuflowClient.js';

export interface WorkloadRow extends WorkloadSummary {
  /** succeeded, stopped, idle-shutdown, failed...: how it ended; absent while it runs. */
  outcome?: string;
  cost?: MoneyJSON;
  durationMs?: number;
}

/** A row on the wire: dates as ISO strings. */
export type WorkloadRowJSON = Omit<WorkloadRow, 'startTime' | 'closeTime'> & { startTime: string; closeTime?: string };

export function rowToJSON(r: WorkloadRow): WorkloadRowJSON {
  const { startTime, closeTime, ...rest } = r;
  return { ...rest, startTime: startTime.toISOString(), ...(closeTime ? { closeTime: closeTime.toISOString() } : {}) };
}

export function rowFromJSON(j: WorkloadRowJSON): WorkloadRow {
  const { startTime, closeTime, ...rest } = j;
  return { ...rest, startTime: new Date(startTime), ...(closeTime ? { closeTime: new Date(closeTime) } : {}) };
}

/** Queries of closed workloads replay them on a worker: never let one hold up the list. */
const DETAIL_TIMEOUT_MS = 5_000;

function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return Promise.race([p.catch(() => undefined), new Promise<undefined>((r) => setTimeout(() => r(undefined), ms).unref())]);
}

async function details(c: GpuflowClient, w: WorkloadSummary): Promise<Pick<WorkloadRow, 'outcome' | 'cost'>> {
  const h = c.handle(w.workloadId);
  if (w.status === 'COMPLETED') {
    const r = await within<WorkloadResult>(h.result(), DETAIL_TIMEOUT_MS);
    if (r) return { outcome: r.outcome, cost: r.cost };
  }
  const st = await within<WorkloadStatus>(h.status(), DETAIL_TIMEOUT_MS);
  // A closed workflow that did not complete failed, was cancelled, terminated or timed out.
  const closedAs = w.status === 'RUNNING' ? undefined : w.status === 'COMPLETED' ? st?.outcome : (st?.outcome ?? w.status.toLowerCase().replace(/_/g, '-'));
  return { ...(closedAs ? { outcome: closedAs } : {}), ...(st ? { cost: st.costSoFar } : {}) };
}

/** The list with each workload's outcome and cost (one query per workload, in parallel). */
export async function listWorkloadRows(c: GpuflowClient, opts: WorkloadListOptions, now = Date.now()): Promise<WorkloadRow[]> {
  const list = await c.list(opts);
  return Promise.all(
    list.map(async (w) => ({
      ...w,
      ...(await details(c, w)),
      durationMs: (w.closeTime?.getTime() ?? now) - w.startTime.getTime(),
    })),
  );
}
