/**
 * `gpuflow budget set|status|list|reconcile` and `gpuflow cost`: budgets and cost reports from the
 * budget entity workflows. Money prints as exact decimals; --json output keeps exact MoneyJSON.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { GpuflowClient } from '../client/gpuflowClient.js';
import { BUDGET_PERIODS, ON_CAP_POLICIES, type BudgetScopeInput } from '../budget/config.js';
import type { BudgetStatus } from '../budget/ledger.js';
import { toCsv, type CostReport } from '../budget/report.js';
import { formatExact } from '../money/billing.js';
import type { RateTableInput } from '../money/exchangeRates.js';
import { readSpecFile } from './cliContext.js';

type WithClient = <T>(fn: (c: GpuflowClient) => Promise<T>) => Promise<T>;

interface ScopeFlags {
  project?: string;
  tenant?: string;
  connection?: string;
}

function scopeOf(o: ScopeFlags, allowConnection = true): BudgetScopeInput {
  const given = [o.project && { project: o.project }, o.tenant && { tenant: o.tenant }, allowConnection && o.connection && { connection: o.connection }].filter(Boolean);
  if (given.length !== 1) {
    throw new InvalidArgumentError(`name exactly one of --project, --tenant${allowConnection ? ' or --connection' : ''}`);
  }
  return given[0] as BudgetScopeInput;
}

function parseAlerts(v: string): number[] {
  if (v.trim() === 'none') return [];
  return v.split(',').map((p) => {
    const t = p.trim().replace(/%$/, '');
    if (!/^\d+$/.test(t)) throw new InvalidArgumentError(`alert thresholds are whole percents such as 50,80 (got "${p}")`);
    return Number(t);
  });
}

const POLICY_TEXT = { stop: 'running workloads are stopped gracefully at the cap', finish: 'running workloads finish; new work is refused' };

export function formatBudgetStatus(st: BudgetStatus): string {
  const rows: [string, string][] = [['budget', st.key]];
  if (st.config) {
    rows.push(['cap', `${formatExact(st.config.cap)} per ${st.config.period} (${POLICY_TEXT[st.config.onCap]})${st.config.source === 'connections' ? ' [connections.yaml]' : ''}`]);
  } else rows.push(['cap', 'none (ledger only)']);
  rows.push(['period', `${st.period.label} (${st.period.start.slice(0, 10)} to ${st.period.end.slice(0, 10)} UTC)`]);
  rows.push(['committed', `${formatExact(st.committed)} (${st.workloadsThisPeriod} workload(s) this period)`]);
  rows.push(['reserved', `${formatExact(st.reserved)} held by ${st.holds.length} running workload(s)`]);
  if (st.left) rows.push(['left', formatExact(st.left)]);
  if (st.usedPercent !== undefined) rows.push(['used', `${st.usedPercent}% (committed + accrued by running workloads)`]);
  if (st.config) rows.push(['alerts at', st.config.alerts.length ? st.config.alerts.map((a) => `${a}%`).join(', ') + (st.config.webhookUrl ? ` → POST ${st.config.webhookUrl}` : '') : 'none']);
  for (const a of st.alerts) {
    rows.push(['alert', `${a.threshold}% of ${formatExact(a.cap)} reached in ${a.period} at ${a.at} (spent ${formatExact(a.spend)})${a.webhook !== 'none' ? `, webhook ${a.webhook}${a.webhookError ? `: ${a.webhookError}` : ''}` : ''}`]);
  }
  for (const h of st.holds) rows.push(['hold', `${h.workloadId}: ${formatExact(h.amount)}${h.what ? ` (${h.what})` : ''} since ${h.since}`]);
  if (st.orphansReleased) rows.push(['orphans', `${st.orphansReleased} hold(s) of workloads that ended unsettled were released`]);
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}

export function formatBudgetList(list: BudgetStatus[]): string {
  const header = ['BUDGET', 'PERIOD', 'CAP', 'COMMITTED', 'RESERVED', 'LEFT', 'USED', 'ON CAP'];
  const rows = list.map((s) => [
    s.key,
    s.period.label,
    s.config ? formatExact(s.config.cap) : '-',
    formatExact(s.committed),
    formatExact(s.reserved),
    s.left ? formatExact(s.left) : '-',
    s.usedPercent !== undefined ? `${s.usedPercent}%` : '-',
    s.config?.onCap ?? '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

export function formatCostReport(r: CostReport): string {
  if (r.rows.length === 0) return `no costs recorded${r.since ? ` since ${r.since}` : ''}`;
  const header = ['SCOPE', r.by.toUpperCase(), 'COST', 'WORKLOADS'];
  const rows = r.rows.map((x) => [x.scope, x.period, formatExact(x.cost), String(x.workloads)]);
  for (const t of r.totals) rows.push(['total', '', formatExact(t.cost), String(t.workloads)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  return [header, ...rows].map((row) => row.map((c, i) => (i >= 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

export function registerBudgetCommands(program: Command, withClient: WithClient): void {
  const budget = program.command('budget').description('hard caps and soft alerts per project, tenant and provider connection');

  budget
    .command('set')
    .description('set a project or tenant budget: a hard cap per period, soft alerts, and what happens at the cap')
    .option('--project <name>')
    .option('--tenant <name>')
    .option('--cap <amount>', 'hard cap per period, e.g. 500.00 (exact decimal)')
    .option('--currency <code>', 'USD, EUR or GBP', 'USD')
    .addOption(new Option('--period <period>', 'budget period (UTC)').choices([...BUDGET_PERIODS]).default('month'))
    .option('--alerts <percents>', 'soft alert thresholds, % of the cap: 50,80 (or none)', parseAlerts)
    .addOption(new Option('--on-cap <policy>', 'stop: stop running workloads gracefully; finish: let them finish, refuse new work').choices([...ON_CAP_POLICIES]).default('stop'))
    .option('--webhook <url>', 'POST each alert (once per period and threshold) to this URL')
    .option('--rates <file>', 'YAML/JSON table of dated exchange rates into the budget currency: { source, maxAgeDays, rates: [{ from, to, rate, date }] }')
    .option('--clear', 'remove the cap (the ledger is kept)')
    .option('--json')
    .action(async (o: ScopeFlags & { cap?: string; currency: string; period: string; alerts?: number[]; onCap: string; webhook?: string; rates?: string; clear?: boolean; json?: boolean }) => {
      const scope = scopeOf(o, false);
      if (!o.clear && o.cap === undefined) throw new InvalidArgumentError('--cap is required (or --clear to remove the cap)');
      await withClient(async (c) => {
        const st = await c.budgets.set(
          scope,
          o.clear
            ? null
            : {
                cap: o.cap!,
                currency: o.currency,
                period: o.period as (typeof BUDGET_PERIODS)[number],
                ...(o.alerts ? { alerts: o.alerts } : {}),
                onCap: o.onCap as (typeof ON_CAP_POLICIES)[number],
                ...(o.webhook ? { webhookUrl: o.webhook } : {}),
                ...(o.rates ? { rates: readSpecFile(o.rates) as RateTableInput } : {}),
              },
        );
        console.log(o.json ? JSON.stringify(st) : formatBudgetStatus(st));
      });
    });

  budget
    .command('status')
    .description("a budget's cap, period, committed and reserved spend, what is left, and fired alerts")
    .option('--project <name>')
    .option('--tenant <name>')
    .option('--connection <name>')
    .option('--json')
    .action(async (o: ScopeFlags & { json?: boolean }) => {
      const scope = scopeOf(o);
      await withClient(async (c) => {
        const st = await c.budgets.status(scope);
        if (!st) {
          if (o.json) console.log('null');
          else console.log(`nothing recorded for ${Object.entries(scope).map(([k, v]) => `${k}:${v}`).join('')} yet (no budget set, no spend)`);
          return;
        }
        console.log(o.json ? JSON.stringify(st) : formatBudgetStatus(st));
      });
    });

  budget
    .command('list')
    .description('every budget with its cap, spend and what is left this period')
    .option('--json')
    .action(async (o: { json?: boolean }) => {
      await withClient(async (c) => {
        const list = await c.budgets.list();
        if (o.json) return console.log(JSON.stringify(list));
        console.log(list.length ? formatBudgetList(list) : 'no budgets yet');
      });
    });

  budget
    .command('reconcile')
    .description('release holds of workloads that ended without settling (e.g. terminated), now')
    .option('--project <name>')
    .option('--tenant <name>')
    .option('--connection <name>')
    .action(async (o: ScopeFlags) => {
      const scope = scopeOf(o);
      await withClient(async (c) => {
        const r = await c.budgets.reconcile(scope, 0);
        console.log(r.released.length ? `released: ${r.released.join(', ')}` : 'no orphaned holds');
      });
    });

  program
    .command('cost')
    .description('costs per day, week or month from the ledgers (every project unless a scope is given)')
    .option('--project <name>')
    .option('--tenant <name>')
    .option('--connection <name>')
    .addOption(new Option('--by <period>', 'group by').choices([...BUDGET_PERIODS]).default('day'))
    .option('--since <when>', 'a date (2026-09-01) or a span back from now (7d, 12h)')
    .addOption(new Option('--json', 'JSON: { by, since, rows, totals } with exact amounts').conflicts('csv'))
    .option('--csv', 'CSV: scope,period,start,cost,currency,workloads')
    .action(async (o: ScopeFlags & { by: string; since?: string; json?: boolean; csv?: boolean }) => {
      if (o.connection && (o.project || o.tenant)) throw new InvalidArgumentError('--connection cannot be combined with --project or --tenant');
      await withClient(async (c) => {
        const report = await c.budgets.cost({
          ...(o.project ? { project: o.project } : {}),
          ...(o.tenant ? { tenant: o.tenant } : {}),
          ...(o.connection ? { connection: o.connection } : {}),
          by: o.by as (typeof BUDGET_PERIODS)[number],
          ...(o.since ? { since: o.since } : {}),
        });
        if (o.json) console.log(JSON.stringify(report));
        else if (o.csv) process.stdout.write(toCsv(report.rows));
        else console.log(formatCostReport(report));
      });
    });
}
