/**
 * Budgets: which scopes have one (project, tenant, provider connection), and their configuration,
 * validated at the boundary with messages that name the field and the fix.
 *
 * Pure (zod + money): shared by workflows, activities, the client and the CLI.
 */
import { z } from 'zod';
import { parseAmount } from '../money/billing.js';
import { RateTableSchema, type RateTable } from '../money/exchangeRates.js';
import { currencyOf, toJSON, type MoneyJSON } from '../money/money.js';

export const BUDGET_SCOPES = ['project', 'tenant', 'connection'] as const;
export type BudgetScopeKind = (typeof BUDGET_SCOPES)[number];

export const BUDGET_PERIODS = ['day', 'week', 'month'] as const;
export type BudgetPeriod = (typeof BUDGET_PERIODS)[number];

/** What happens to running workloads when a hard cap is reached. */
export const ON_CAP_POLICIES = ['stop', 'finish'] as const;
export type OnCapPolicy = (typeof ON_CAP_POLICIES)[number];

/** A budget's configuration as stored in its entity workflow: exact money, normalized. */
export interface BudgetConfig {
  /** Hard cap per period. */
  cap: MoneyJSON;
  period: BudgetPeriod;
  /** Soft alert thresholds, whole percent of the cap, ascending and unique. */
  alerts: number[];
  /** stop: running workloads are stopped gracefully; finish: they finish, new work is refused. */
  onCap: OnCapPolicy;
  /** POSTed once per period and threshold when an alert fires. */
  webhookUrl?: string;
  /** Where the configuration came from: `gpuflow budget set` / the API, or connections.yaml. */
  source: 'api' | 'connections';
  /** Dated exchange rates into the budget's currency: the only way it accepts spend in another currency. */
  rates?: RateTable;
}

const SCOPE_NAME = /^[A-Za-z0-9._-]{1,64}$/;

/** "project:ml", "tenant:acme", "connection:lambda-us". */
export type BudgetKey = `${BudgetScopeKind}:${string}`;

export function budgetKey(scope: BudgetScopeKind, name: string): BudgetKey {
  if (!SCOPE_NAME.test(name)) throw new RangeError(`${scope} name "${name}" must be 1-64 letters, digits, ".", "_" or "-"`);
  return `${scope}:${name}`;
}

export function parseBudgetKey(key: string): { scope: BudgetScopeKind; name: string } {
  const i = key.indexOf(':');
  const scope = key.slice(0, i) as BudgetScopeKind;
  const name = key.slice(i + 1);
  if (i < 0 || !BUDGET_SCOPES.includes(scope) || !SCOPE_NAME.test(name)) {
    throw new RangeError(`"${key}" is not a budget: use project:<name>, tenant:<name> or connection:<name>`);
  }
  return { scope, name };
}

/** The entity workflow's ID for a budget key. */
export function budgetWorkflowId(key: string): string {
  return `budget:${key}`;
}

export const BUDGET_WORKFLOW_PREFIX = 'budget:';

/** Scope as the API accepts it: "project:ml" or { project: "ml" }. */
export type BudgetScopeInput = string | { project: string } | { tenant: string } | { connection: string };

export function toBudgetKey(scope: BudgetScopeInput): BudgetKey {
  if (typeof scope === 'string') {
    const { scope: kind, name } = parseBudgetKey(scope);
    return budgetKey(kind, name);
  }
  if ('project' in scope) return budgetKey('project', scope.project);
  if ('tenant' in scope) return budgetKey('tenant', scope.tenant);
  return budgetKey('connection', scope.connection);
}

const currencyField = z
  .string()
  .default('USD')
  .transform((c, ctx) => {
    try {
      return currencyOf(c).code;
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
      return z.NEVER;
    }
  });

const alertsField = z
  .array(z.number().int('alert thresholds are whole percents such as 50 or 80').min(1, 'alert thresholds are 1-100 (% of the cap)').max(100, 'alert thresholds are 1-100 (% of the cap)'))
  .max(10, 'at most 10 alert thresholds')
  .default([50, 80])
  .transform((a) => [...new Set(a)].sort((x, y) => x - y));

const webhookField = z
  .url({ protocol: /^https?$/, message: 'webhookUrl must be an http(s) URL' })
  .optional();

/** `gpuflow budget set` / `GpuflowClient.budgets.set` input. */
export const BudgetConfigInputSchema = z
  .object({
    /** Hard cap per period: a decimal string such as "100.00" (whole numbers also accepted). */
    cap: z.union([z.string(), z.number()]),
    currency: currencyField,
    period: z.enum(BUDGET_PERIODS, { message: 'period must be day, week or month' }).default('month'),
    alerts: alertsField,
    onCap: z.enum(ON_CAP_POLICIES, { message: 'onCap must be "stop" (stop running workloads gracefully) or "finish" (let them finish, refuse new work)' }).default('stop'),
    webhookUrl: webhookField,
    /** Exchange rates for spend in other currencies (see money/exchangeRates.ts); `to` must be the budget's currency. */
    rates: RateTableSchema.optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    for (const [i, r] of (v.rates?.rates ?? []).entries()) {
      if (r.to !== v.currency) ctx.addIssue({ code: 'custom', path: ['rates', 'rates', i, 'to'], message: `rates convert into the budget's currency ${v.currency}, not ${r.to}` });
    }
  })
  .transform((v, ctx): BudgetConfig => {
    try {
      return {
        cap: toJSON(parseAmount('cap', v.cap, v.currency, { allowZero: true })),
        period: v.period,
        alerts: v.alerts,
        onCap: v.onCap,
        ...(v.webhookUrl ? { webhookUrl: v.webhookUrl } : {}),
        source: 'api',
        ...(v.rates ? { rates: v.rates } : {}),
      };
    } catch (e) {
      ctx.addIssue({ code: 'custom', path: ['cap'], message: (e as Error).message });
      return z.NEVER;
    }
  });
export type BudgetConfigInput = z.input<typeof BudgetConfigInputSchema>;

/** A provider connection's spending cap in connections.yaml: a hard ceiling per period. */
export const SpendingCapSchema = z
  .object({
    amount: z.union([z.string(), z.number()]),
    currency: currencyField,
    period: z.enum(BUDGET_PERIODS, { message: 'spendingCap.period must be day, week or month' }).default('month'),
    alerts: alertsField,
    webhookUrl: webhookField,
  })
  .strict()
  .superRefine((v, ctx) => {
    try {
      parseAmount('spendingCap.amount', v.amount, v.currency, { allowZero: true });
    } catch (e) {
      ctx.addIssue({ code: 'custom', path: ['amount'], message: (e as Error).message });
    }
  });
export type SpendingCap = z.output<typeof SpendingCapSchema>;

/** The budget configuration a connection's spending cap stands for: a ceiling, so running work stops. */
export function spendingCapConfig(cap: SpendingCap): BudgetConfig {
  return {
    cap: toJSON(parseAmount('spendingCap.amount', cap.amount, cap.currency, { allowZero: true })),
    period: cap.period,
    alerts: cap.alerts,
    onCap: 'stop',
    ...(cap.webhookUrl ? { webhookUrl: cap.webhookUrl } : {}),
    source: 'connections',
  };
}

export class InvalidBudgetError extends Error {
  constructor(readonly issues: { path: string; message: string }[]) {
    super(`invalid budget:\n${issues.map((i) => `  - ${i.path || '(budget)'}: ${i.message}`).join('\n')}`);
    this.name = 'InvalidBudgetError';
  }
}

export function parseBudgetConfig(input: unknown): BudgetConfig {
  const r = BudgetConfigInputSchema.safeParse(input);
  if (!r.success) {
    throw new InvalidBudgetError(
      r.error.issues.map((i) => ({
        path: i.path.map(String).join('.'),
        message: i.code === 'unrecognized_keys' ? `unknown field(s) ${i.keys.join(', ')}: check the spelling` : i.message,
      })),
    );
  }
  return r.data;
}

/** Structural equality of two configurations (for syncing connection caps without churn). */
export function sameConfig(a: BudgetConfig | undefined, b: BudgetConfig | undefined): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}
