/** Retention: a workload's logs go once its last shipment is older than the retention period. */
import type { LogStore } from './store.js';

export async function pruneLogs(store: LogStore, retentionMs: number, now = Date.now()): Promise<string[]> {
  const removed: string[] = [];
  for (const workloadId of await store.listWorkloads()) {
    const attempts = await store.listAttempts(workloadId);
    const last = Math.max(...attempts.map((a) => Date.parse(a.updatedAt)).filter(Number.isFinite));
    if (attempts.length > 0 && Number.isFinite(last) && now - last > retentionMs) {
      await store.deleteWorkload(workloadId);
      removed.push(workloadId);
    }
  }
  return removed;
}
