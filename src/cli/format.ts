/** Human output for the CLI: short, aligned, no colors required. */
import { formatMoney, toDecimalString, type MoneyJSON } from '../money/money.js';
import type { AttemptRecord, WorkloadResult, WorkloadStatus } from '../workflows/messages.js';
import { liveSshTarget, sshCommandLine, sshKeyPath } from './sshAccess.js';

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

/** Cost as the ledger holds it (all 8 decimals of a pro-rated price), not rounded for display. */
export function exactMoney(m: MoneyJSON): string {
  return `${toDecimalString(m)} ${m.currency}`;
}

/** "12:03:04" local time of an ISO instant, with the date when it is not today. */
export function localTime(iso: string, now = Date.now()): string {
  const d = new Date(iso);
  const sameDay = new Date(now).toDateString() === d.toDateString();
  return sameDay ? d.toLocaleTimeString(undefined, { hour12: false }) : `${d.toLocaleDateString()} ${d.toLocaleTimeString(undefined, { hour12: false })}`;
}

/** "3 min ago", "2 h ago", "just now". */
export function relativeTime(iso: string, now = Date.now()): string {
  const s = Math.round((now - new Date(iso).getTime()) / 1000);
  if (s < 10) return 'just now';
  if (s < 90) return `${s} s ago`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min ago`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

function attemptLine(a: AttemptRecord, ended: boolean, now: number): string {
  const where = `${a.connection}/${a.location}/${a.instanceTypeId}${a.spot ? '/spot' : ''}`;
  // `created` is the attempt that ran; once the workload has ended its instance was terminated
  // (every path ends in a terminate), so say that rather than `created`.
  const outcome = ended && a.outcome === 'created' ? (a.cloudId ? 'terminated' : 'not created') : a.outcome;
  const endedAt = (a as AttemptRecord & { terminatedAt?: string }).terminatedAt ?? a.interruptedAt;
  const times = [a.createdAt ? `created ${localTime(a.createdAt, now)}` : '', endedAt ? `ended ${localTime(endedAt, now)}` : ended && a.cloudId ? 'ended with the workload' : '']
    .filter(Boolean)
    .join(', ');
  return `${where} ${outcome}${a.reason ? ` (${a.reason})` : ''}${times ? `, ${times}` : ''}`;
}

export interface StatusView {
  /** Local clock, to show elapsed time and the age of a running workload's cost. */
  now?: number;
  /** The SSH key to put in the printed command. */
  sshKey?: string;
}

/** Only what is true now: an ended workload shows its outcome, exact cost and each attempt's end, no live details. */
export function formatStatus(st: WorkloadStatus, view: StatusView = {}): string {
  const now = view.now ?? Date.now();
  const ended = st.state === 'terminated';
  // The query answers with the workflow's clock at its last task; the cost is as of then.
  const asOf = st.asOf ? Date.parse(st.asOf) : new Date(st.startedAt).getTime() + st.elapsedMs;
  const lagS = Math.round((now - asOf) / 1000);
  const target = liveSshTarget(st);
  const rows: [string, string][] = [
    ['workload', st.workloadId],
    ['state', st.outcome ? `${st.state} (${st.outcome})` : st.state],
    ['project/tenant', `${st.project}/${st.tenant}`],
    ['offer', describeOffer(st) || '-'],
    ['instance', st.instance ? `${st.instance.connection}:${st.instance.cloudId}${ended ? ' (terminated)' : ''}` : '-'],
  ];
  if (target) rows.push(['ssh', `gpuflow ssh ${st.workloadId}   or: ${sshCommandLine(target, view.sshKey ?? sshKeyPath())}`]);
  rows.push(
    ['started', `${localTime(st.startedAt, now)} (${relativeTime(st.startedAt, now)})`],
    ended ? ['duration', formatDuration(st.elapsedMs)] : ['elapsed', formatDuration(Math.max(st.elapsedMs, now - new Date(st.startedAt).getTime()))],
    ended ? ['cost', exactMoney(st.costSoFar)] : ['cost so far', `${exactMoney(st.costSoFar)}${lagS >= 5 ? ` (as of ${formatDuration(lagS * 1000)} ago)` : ''}`],
  );
  if (!ended) {
    rows.push(['budgets', st.budgets?.map((b) => `${b.key} holds ${formatMoney(b.reserved)}${b.overrun ? ' (cap reached, finishing)' : ''}`).join('; ') || '-']);
    rows.push(['auto-shutdown', st.autoShutdown === 'off' ? 'off' : `below ${st.autoShutdown.utilizationBelowPercent}% for ${formatDuration(st.autoShutdown.idleWindow)}`]);
    if (st.state === 'running') rows.push(['gpu utilization', st.gpuUtilization ? st.gpuUtilization.map((u) => `${u}%`).join(' ') : '-']);
  }
  rows.push(['attempts', st.attempts.map((a) => attemptLine(a, ended, now)).join('; ') || '-']);
  if (st.recoveries || st.restarts) rows.push(['recoveries', `${st.recoveries ?? 0} instance loss(es), ${st.restarts ?? 0} restart(s) on the same instance`]);
  if (st.service && !ended) {
    const where = st.service.endpoints.map((e) => e.url ?? `${e.host}:${e.hostPort}${e.public ? '' : ' (internal)'}`).join(', ');
    rows.push(['service', `${st.service.healthy ? 'healthy' : 'not healthy'} at ${where || '-'}${st.service.lastRestartReason ? `; last restart: ${st.service.lastRestartReason}` : ''}`]);
  }
  if (st.watchdogRenewedAt && !ended) rows.push(['watchdog lease', `renewed ${localTime(st.watchdogRenewedAt, now)}`]);
  if (st.exitCode !== undefined) rows.push(['exit code', String(st.exitCode)]);
  if (st.error) rows.push(['error', st.error]);
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}

export function formatResult(r: WorkloadResult): string {
  const recovered = r.recoveries ? `, recovered ${r.recoveries}×` : '';
  return `${r.outcome}${r.exitCode !== undefined ? `, exit ${r.exitCode}` : ''}${recovered}, cost ${exactMoney(r.cost)} over ${formatDuration(r.billedMs)} billed`;
}
