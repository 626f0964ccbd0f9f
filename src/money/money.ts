/**
 * Money as dinero.js values, never floats. On the wire (activity payloads, workflow history, JSON
 * output) money travels as a dinero snapshot-like object `{ amount, currency, scale }`, where amount is
 * an integer in units of 10^-scale of the currency's major unit.
 */
import {
  add,
  convert,
  dinero,
  equal,
  greaterThan,
  greaterThanOrEqual,
  isNegative,
  isPositive,
  isZero,
  lessThan,
  lessThanOrEqual,
  maximum,
  minimum,
  multiply,
  subtract,
  up,
  toDecimal,
  toSnapshot,
  transformScale,
  halfEven,
  type Dinero,
  type DineroCurrency,
  USD,
  EUR,
  GBP,
} from 'dinero.js';
import { z } from 'zod';

export type Money = Dinero<number>;

const CURRENCIES: Record<string, DineroCurrency<number>> = { USD, EUR, GBP };

export const MoneySchema = z
  .object({
    amount: z.number().int('amount must be an integer in minor units of 10^-scale'),
    currency: z.string().refine((c) => c in CURRENCIES, { message: `currency must be one of ${Object.keys(CURRENCIES).join(', ')}` }),
    scale: z.number().int().min(0).max(12),
  })
  .strict();
export type MoneyJSON = z.infer<typeof MoneySchema>;

export function currencyOf(code: string): DineroCurrency<number> {
  const c = CURRENCIES[code.toUpperCase()];
  if (!c) throw new RangeError(`unsupported currency "${code}": use one of ${Object.keys(CURRENCIES).join(', ')}`);
  return c;
}

/**
 * Parses a decimal string such as "2.49" exactly (no float rounding). Digits beyond `maxScale`
 * (catalog float noise such as "0.36979999999999996") are rounded half-even.
 */
export function moneyFromDecimal(decimal: string, currency = 'USD', maxScale = 8): Money {
  const m = /^(-)?(\d+)(?:\.(\d+))?$/.exec(decimal.trim());
  if (!m) throw new RangeError(`"${decimal}" is not a decimal amount such as 2.49`);
  let frac = m[3] ?? '';
  let units = BigInt(`${m[2]}${frac}`);
  if (frac.length > maxScale) {
    const divisor = 10n ** BigInt(frac.length - maxScale);
    const q = units / divisor;
    const r = units % divisor;
    const twice = r * 2n;
    units = twice > divisor || (twice === divisor && q % 2n === 1n) ? q + 1n : q;
    frac = frac.slice(0, maxScale);
  }
  const amount = Number(units) * (m[1] ? -1 : 1);
  if (!Number.isSafeInteger(amount)) throw new RangeError(`"${decimal}" is too large to be held exactly`);
  return dinero({ amount, currency: currencyOf(currency), scale: frac.length });
}

export function moneyFromMinor(minorUnits: number, currency = 'USD'): Money {
  const c = currencyOf(currency);
  return dinero({ amount: minorUnits, currency: c, scale: c.exponent });
}

export function zero(currency = 'USD'): Money {
  return moneyFromMinor(0, currency);
}

export function toJSON(m: Money): MoneyJSON {
  const s = toSnapshot(m);
  return { amount: s.amount, currency: s.currency.code, scale: s.scale };
}

export function fromJSON(j: MoneyJSON): Money {
  return dinero({ amount: j.amount, currency: currencyOf(j.currency), scale: j.scale });
}

/** "2.49" style decimal string, trailing zeros kept to the currency's exponent at least. */
export function toDecimalString(m: Money | MoneyJSON): string {
  const d = 'amount' in m && typeof (m as MoneyJSON).currency === 'string' ? fromJSON(m as MoneyJSON) : (m as Money);
  return toDecimal(d);
}

export function formatMoney(m: Money | MoneyJSON): string {
  const d = 'amount' in m && typeof (m as MoneyJSON).currency === 'string' ? fromJSON(m as MoneyJSON) : (m as Money);
  const code = toSnapshot(d).currency.code;
  const rounded = transformScale(d, Math.max(toSnapshot(d).currency.exponent, Math.min(toSnapshot(d).scale, 4)), halfEven);
  return `${toDecimal(rounded)} ${code}`;
}

export const MS_PER_HOUR = 3_600_000;

/**
 * Cost of running for `durationMs` at `pricePerHour`: truncated to 10^-6 of the price's smallest
 * unit (scale + 6). The product is taken in BigInt because it passes 2^53 for ordinary prices and
 * durations ($98.37 for one hour came out as 98.37000002 in float arithmetic). If the result itself
 * would not fit a safe integer, it is rounded half-even to fewer decimals.
 */
export function proRate(pricePerHour: Money, durationMs: number): Money {
  if (!Number.isSafeInteger(durationMs) || durationMs < 0) throw new RangeError('durationMs must be a non-negative integer');
  const { amount, currency, scale } = toSnapshot(pricePerHour);
  if (durationMs === 0) return dinero({ amount: 0, currency, scale });
  let outScale = scale + 6;
  let units = (BigInt(amount) * BigInt(durationMs) * 10n ** 6n) / BigInt(MS_PER_HOUR);
  while (!isSafeBigInt(units) && outScale > 0) {
    units = divideHalfEven(units, 10n);
    outScale -= 1;
  }
  if (!isSafeBigInt(units)) throw new RangeError(`cost of ${durationMs} ms at ${toDecimal(pricePerHour)} per hour is too large to be held exactly`);
  return dinero({ amount: Number(units), currency, scale: outScale });
}

function isSafeBigInt(n: bigint): boolean {
  return n <= BigInt(Number.MAX_SAFE_INTEGER) && n >= BigInt(Number.MIN_SAFE_INTEGER);
}

function divideHalfEven(n: bigint, divisor: bigint): bigint {
  const q = n / divisor;
  const twiceRemainder = (n % divisor) * 2n * (n < 0n ? -1n : 1n);
  if (twiceRemainder > divisor || (twiceRemainder === divisor && q % 2n !== 0n)) return q + (n < 0n ? -1n : 1n);
  return q;
}

export function sum(values: Money[], currency = 'USD'): Money {
  return values.reduce((acc, v) => add(acc, v), zero(currency));
}

export {
  add,
  convert,
  multiply,
  subtract,
  greaterThan,
  greaterThanOrEqual,
  lessThan,
  lessThanOrEqual,
  equal,
  isNegative,
  isPositive,
  isZero,
  minimum,
  maximum,
  transformScale,
  up,
  toDecimal,
  toSnapshot,
};
