/**
 * A status query answers at the time of the workflow's last task, which for a quiet running job
 * can be minutes ago. The client brings elapsed time and cost to its own clock from the status's
 * cost basis (each instance's price, billing unit and lifetime). Pure.
 */
import { toDecimalString } from '../money/money.js';
import { accrued } from './cost.js';
import type { WorkloadStatus } from './messages.js';

export function statusNow(s: WorkloadStatus, now: number): WorkloadStatus {
  // Ended workloads are final; a status from an older worker has no asOf/costBasis to extrapolate from.
  if (s.endedAt || s.state === 'terminated' || !s.asOf || !s.costBasis) return s;
  const asOf = Date.parse(s.asOf);
  if (!(now > asOf)) return s;
  const { cost } = accrued(s.costBasis, now);
  return { ...s, asOf: new Date(now).toISOString(), elapsedMs: now - Date.parse(s.startedAt), costSoFar: cost, costExact: `${toDecimalString(cost)} ${cost.currency}` };
}
