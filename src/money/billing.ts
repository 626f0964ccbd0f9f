/**
 * How providers bill an instance's lifetime, and the exact ledger arithmetic built on it.
 *
 * A provider bills created → terminated, rounded up to its unit (second, minute, hour), with an
 * optional minimum charge. Costs are dinero values normalized to LEDGER_SCALE (10^-8 of the major
 * unit), rounding up, so sums across workloads, budgets and periods are exact integer additions
 * that never overflow for realistic amounts (2^53 units at scale 8 is ~90 million).
 *
 * Pure and dependency-light: imported by workflow code as well as activities and the CLI.
 */
import { z } from 'zod';
import {
  add,
  currencyOf,
  fromJSON,
  toDecimal,
  toJSON,
  toSnapshot,
  transformScale,
  up,
  zero,
  type Money,
  type MoneyJSON,
} from './money.js';

export const BILLING_GRANULARITIES = ['second', 'minute', 'hour'] as const;
export type BillingGranularity = (typeof BILLING_GRANULARITIES)[number];

export const BillingPolicySchema = z
  .object({
    /** The unit a provider rounds an instance's lifetime up to. */
    granularity: z.enum(BILLING_GRANULARITIES, { message: 'billing.granularity must be one of second, minute, hour' }).default('second'),
    /** Minimum charge per instance, in seconds of its price (e.g. 60: at least one minute). */
    minimumSeconds: z.number().int('billing.minimumSeconds must be a whole number of seconds').min(0).max(31 * 86_400).default(0),
  })
  .strict();
export type BillingPolicy = z.output<typeof BillingPolicySchema>;

export const PER_SECOND: BillingPolicy = { granularity: 'second', minimumSeconds: 0 };

const UNIT_MS: Record<BillingGranularity, number> = { second: 1_000, minute: 60_000, hour: 3_600_000 };

/** The lifetime a provider charges for: rounded up to its unit, at least its minimum. Integers only. */
export function billedMs(lifetimeMs: number, policy: BillingPolicy): number {
  if (!Number.isSafeInteger(lifetimeMs)) throw new RangeError('lifetimeMs must be an integer');
  const ms = Math.max(0, lifetimeMs);
  const unit = UNIT_MS[policy.granularity];
  const rest = ms % unit;
  const rounded = rest === 0 ? ms : ms - rest + unit;
  return Math.max(rounded, policy.minimumSeconds * 1_000);
}

/** Exact scale of every ledger amount: 10^-8 of the currency's major unit. */
export const LEDGER_SCALE = 8;

/** Brings an amount to LEDGER_SCALE, rounding up (a cost is never under-counted). */
export function toLedger(m: Money): Money {
  const { scale } = toSnapshot(m);
  if (scale === LEDGER_SCALE) return m;
  return scale > LEDGER_SCALE ? transformScale(m, LEDGER_SCALE, up) : transformScale(m, LEDGER_SCALE);
}

export function ledgerZero(currency = 'USD'): Money {
  return toLedger(zero(currency));
}

/** The sum at ledger scale; in `currency`, else the values' own (USD when there are none). Mixed currencies throw: never converted here. */
export function ledgerSum(values: (Money | MoneyJSON)[], currency?: string): Money {
  const first = values[0];
  const code = currency ?? (first === undefined ? 'USD' : isMoneyJSON(first) ? first.currency : toSnapshot(first).currency.code);
  let acc = ledgerZero(code);
  for (const v of values) acc = add(acc, toLedger(isMoneyJSON(v) ? fromJSON(v) : v));
  return acc;
}

/**
 * What an instance at `pricePerHour` costs for `lifetimeMs` under `policy`: price × billed time,
 * computed exactly in BigInt and rounded up to 10^-LEDGER_SCALE.
 */
export function billedCost(pricePerHour: Money | MoneyJSON, lifetimeMs: number, policy: BillingPolicy): Money {
  const price = toSnapshot(isMoneyJSON(pricePerHour) ? fromJSON(pricePerHour) : pricePerHour);
  if (price.amount < 0) throw new RangeError('a price per hour cannot be negative');
  const ms = BigInt(billedMs(lifetimeMs, policy));
  // amount × 10^-scale per hour × ms / 3.6e6  →  units of 10^-LEDGER_SCALE, rounded up.
  let num = BigInt(price.amount) * ms;
  let den = 3_600_000n;
  if (price.scale <= LEDGER_SCALE) num *= 10n ** BigInt(LEDGER_SCALE - price.scale);
  else den *= 10n ** BigInt(price.scale - LEDGER_SCALE);
  const units = (num + den - 1n) / den;
  if (units > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`cost of ${lifetimeMs} ms at ${toDecimal(fromJSON({ amount: price.amount, currency: price.currency.code, scale: price.scale }))} per hour is too large to hold exactly`);
  return fromJSON({ amount: Number(units), currency: price.currency.code, scale: LEDGER_SCALE });
}

export function isMoneyJSON(v: unknown): v is MoneyJSON {
  return !!v && typeof v === 'object' && typeof (v as MoneyJSON).currency === 'string' && typeof (v as MoneyJSON).amount === 'number';
}

/** JSON at LEDGER_SCALE. */
export function ledgerJSON(m: Money | MoneyJSON): MoneyJSON {
  return toJSON(toLedger(isMoneyJSON(m) ? fromJSON(m) : m));
}

/**
 * The exact decimal of an amount, trailing zeros trimmed down to the currency's exponent:
 * "0.00022222", "7.20", "100.00".
 */
export function exactDecimal(m: Money | MoneyJSON): string {
  const d = isMoneyJSON(m) ? fromJSON(m) : m;
  const s = toDecimal(d);
  const exponent = toSnapshot(d).currency.exponent;
  const dot = s.indexOf('.');
  if (dot < 0) return exponent > 0 ? `${s}.${'0'.repeat(exponent)}` : s;
  let end = s.length;
  while (end > dot + 1 + exponent && s[end - 1] === '0') end--;
  return end === dot + 1 ? s.slice(0, dot) : s.slice(0, end);
}

/** "7.20 USD": exact, for messages and tables. */
export function formatExact(m: Money | MoneyJSON): string {
  const d = isMoneyJSON(m) ? fromJSON(m) : m;
  return `${exactDecimal(d)} ${toSnapshot(d).currency.code}`;
}

/**
 * Parses a user-written amount ("100.00", or a whole number) exactly. Floats are refused: 12.5 in
 * YAML or JSON is a binary approximation, so amounts with a fraction must be written as strings.
 * Throws RangeError with a message naming `field`.
 */
export function parseAmount(field: string, value: unknown, currency: string, opts: { allowZero?: boolean } = {}): Money {
  currencyOf(currency); // throws the "unsupported currency" message first
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      throw new RangeError(`${field} must be written as a decimal string such as "12.50": floating-point numbers are not accepted (got ${value})`);
    }
    text = String(value);
  } else if (typeof value === 'string') {
    text = value.trim();
  } else {
    throw new RangeError(`${field} must be a decimal amount such as "100.00"`);
  }
  if (/^-/.test(text)) throw new RangeError(`${field} must not be negative (got "${text}")`);
  const m = /^(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) throw new RangeError(`${field} must be a decimal amount such as "100.00" (got "${text}")`);
  if ((m[2] ?? '').length > LEDGER_SCALE) throw new RangeError(`${field} has more than ${LEDGER_SCALE} decimal places (got "${text}")`);
  const units = BigInt(`${m[1]}${(m[2] ?? '').padEnd(LEDGER_SCALE, '0')}`);
  if (units > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`${field} is too large (got "${text}")`);
  if (units === 0n && !opts.allowZero) throw new RangeError(`${field} must be greater than zero (got "${text}")`);
  return fromJSON({ amount: Number(units), currency: currencyOf(currency).code, scale: LEDGER_SCALE });
}

export type { Money, MoneyJSON };
