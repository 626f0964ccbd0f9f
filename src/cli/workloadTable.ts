/** `gpuflow ps`: one row per workload with what `sky status` shows, and how each ended. */
import type { WorkloadRow } from '../client/workloadRows.js';
import { exactMoney, formatDuration, relativeTime } from './format.js';

export function formatWorkloadTable(rows: readonly WorkloadRow[], now = Date.now()): string {
  if (rows.length === 0) return 'no workloads (`gpuflow run SPEC` starts one)';
  const table = [['WORKLOAD', 'STATE', 'OUTCOME', 'GPU', 'WHERE', 'SPOT', 'COST', 'DURATION', 'STARTED', 'PROJECT']];
  for (const r of rows) {
    table.push([
      r.workloadId,
      r.state || '-',
      r.outcome ?? (r.status === 'RUNNING' ? '-' : r.status.toLowerCase()),
      r.gpu ?? '-',
      r.provider ? `${r.provider}/${r.region ?? '?'}` : '-',
      r.onSpot === undefined ? (r.spot ?? '-') : r.onSpot ? 'spot' : 'on-demand',
      r.cost ? exactMoney(r.cost) : '-',
      formatDuration(r.durationMs ?? (r.closeTime?.getTime() ?? now) - r.startTime.getTime()),
      relativeTime(r.startTime.toISOString(), now),
      r.project ?? '',
    ]);
  }
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  return table.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}
