/**
 * Cost reports from budget ledgers: daily buckets rolled up per day, ISO week or month (UTC), as
 * rows for a table, JSON or CSV. Exact money throughout; amounts print as exact decimals.
 */
import { exactDecimal, ledgerSum } from '../money/billing.js';
import { toJSON, type MoneyJSON } from '../money/money.js';
import { parseSince } from '../time/since.js';
import { periodLabel, periodStartOf, utcDay, type LedgerEntry } from './ledger.js';
import type { BudgetPeriod } from './config.js';

export type CostGrouping = BudgetPeriod;

export interface CostRow {
  /** The budget key the row aggregates, e.g. project:ml (or project:ml/tenant:acme). */
  scope: string;
  /** "2026-09-14", "2026-W38" or "2026-09". */
  period: string;
  /** First day of the period (UTC). */
  start: string;
  cost: MoneyJSON;
  workloads: number;
}

export interface CostReport {
  by: CostGrouping;
  since?: string;
  rows: CostRow[];
  totals: { currency: string; cost: MoneyJSON; workloads: number }[];
}

/** Rolls daily buckets up into periods. */
export function rollUp(scope: string, daily: { day: string; cost: MoneyJSON; count: number }[], by: CostGrouping): CostRow[] {
  const groups = new Map<string, { start: number; costs: MoneyJSON[]; workloads: number; currency: string }>();
  for (const d of daily) {
    const start = periodStartOf(by, Date.parse(`${d.day}T00:00:00Z`));
    const label = periodLabel(by, start);
    const g = groups.get(label) ?? { start, costs: [], workloads: 0, currency: d.cost.currency };
    g.costs.push(d.cost);
    g.workloads += d.count;
    groups.set(label, g);
  }
  return [...groups.entries()]
    .sort(([, a], [, b]) => a.start - b.start)
    .map(([period, g]) => ({ scope, period, start: utcDay(g.start), cost: toJSON(ledgerSum(g.costs, g.currency)), workloads: g.workloads }));
}

/** Daily buckets from ledger entries (by the day each was committed). */
export function dailyFromEntries(entries: LedgerEntry[]): { day: string; cost: MoneyJSON; count: number }[] {
  const byDay = new Map<string, LedgerEntry[]>();
  for (const e of entries) {
    const day = e.committedAt.slice(0, 10);
    byDay.set(day, [...(byDay.get(day) ?? []), e]);
  }
  return [...byDay.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([day, es]) => ({ day, cost: toJSON(ledgerSum(es.map((e) => e.cost), es[0]!.cost.currency)), count: es.length }));
}

export function totals(rows: CostRow[]): CostReport['totals'] {
  const byCurrency = new Map<string, CostRow[]>();
  for (const r of rows) byCurrency.set(r.cost.currency, [...(byCurrency.get(r.cost.currency) ?? []), r]);
  return [...byCurrency.entries()].map(([currency, rs]) => ({
    currency,
    cost: toJSON(ledgerSum(rs.map((r) => r.cost), currency)),
    workloads: rs.reduce((n, r) => n + r.workloads, 0),
  }));
}

/** `--since` for cost reports: the UTC day the window starts on. */
export function sinceDay(value: string, now = Date.now()): string {
  return utcDay(parseSince(value, now));
}

function csvCell(v: string | number): string {
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(rows: CostRow[]): string {
  const lines = [['scope', 'period', 'start', 'cost', 'currency', 'workloads'].join(',')];
  for (const r of rows) lines.push([r.scope, r.period, r.start, exactDecimal(r.cost), r.cost.currency, r.workloads].map(csvCell).join(','));
  return `${lines.join('\n')}\n`;
}
