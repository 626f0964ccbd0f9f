/** Human output for the CLI: short, aligned, no colors required. */
import { formatMoney } from '../money/money.js';
import type { WorkloadResult, WorkloadStatus } from '../workflows/messages.js';

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 90) return `${(ms / 1000).toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 90) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export function describeOffer(st: WorkloadStatus): string {
  if (!st.offer) return '';
  const o = st.offer;
  return `${o.connection} ${o.type} ${o.location} (${o.country}) ${o.spot ? 'spot' : 'on-demand'} ${formatMoney(o.pricePerHour)}/h: ${o.why}`;
}

export function formatStatus(st: WorkloadStatus): string {
  const rows: [string, string][] = [
    ['workload', st.workloadId],
    ['state', st.outcome ? `${st.state} (${st.outcome})` : st.state],
    ['project/tenant', `${st.project}/${st.tenant}`],
    ['offer', describeOffer(st) || '-'],
    ['instance', st.instance ? `${st.instance.connection}:${st.instance.cloudId}${st.instance.sshHost ? ` ssh ${st.instance.sshUser}@${st.instance.sshHost} -p ${st.instance.sshPort}` : ''}` : '-'],
    ['elapsed', formatDuration(st.elapsedMs)],
    ['cost so far', formatMoney(st.costSoFar)],
    ['budgets', st.budgets?.map((b) => `${b.key} holds ${formatMoney(b.reserved)}${b.overrun ? ' (cap reached, finishing)' : ''}`).join('; ') || '-'],
    ['auto-shutdown', st.autoShutdown === 'off' ? 'off' : `below ${st.autoShutdown.utilizationBelowPercent}% for ${formatDuration(st.autoShutdown.idleWindow)}`],
    ['gpu utilization', st.gpuUtilization ? st.gpuUtilization.map((u) => `${u}%`).join(' ') : '-'],
    ['attempts', st.attempts.map((a) => `${a.connection}/${a.location}/${a.instanceTypeId}${a.spot ? '/spot' : ''} ${a.outcome}${a.reason ? ` (${a.reason})` : ''}`).join('; ') || '-'],
  ];
  if (st.recoveries || st.restarts) rows.push(['recoveries', `${st.recoveries ?? 0} instance loss(es), ${st.restarts ?? 0} restart(s) on the same instance`]);
  if (st.service) {
    const where = st.service.endpoints.map((e) => e.url ?? `${e.host}:${e.hostPort}${e.public ? '' : ' (internal)'}`).join(', ');
    rows.push(['service', `${st.service.healthy ? 'healthy' : 'not healthy'} at ${where || '-'}${st.service.lastRestartReason ? `; last restart: ${st.service.lastRestartReason}` : ''}`]);
  }
  if (st.watchdogRenewedAt) rows.push(['watchdog lease', `renewed ${st.watchdogRenewedAt}`]);
  if (st.exitCode !== undefined) rows.push(['exit code', String(st.exitCode)]);
  if (st.error) rows.push(['error', st.error]);
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}

export function formatResult(r: WorkloadResult): string {
  const recovered = r.recoveries ? `, recovered ${r.recoveries}×` : '';
  return `${r.outcome}${r.exitCode !== undefined ? `, exit ${r.exitCode}` : ''}${recovered}, cost ${formatMoney(r.cost)} over ${formatDuration(r.billedMs)} billed`;
}
