/**
 * Exchange rates for budgets: an explicit, dated table the user supplies (a YAML/JSON file, or
 * `rates` in a budget's configuration), validated with zod. A budget kept in one currency accepts
 * spend in another only through a rate from this table, and every conversion is recorded with the
 * rate, its date and source. Never a silent or built-in rate: a missing or stale one is an error
 * that names the currency pair and the fix.
 *
 * Exact: the rate is a decimal (dinero's scaled rate), the product exact, then brought to the
 * ledger's 8 decimals rounding up (a cost is never under-counted). Pure: workflow code may import it.
 */
import { z } from 'zod';
import { toLedger } from './billing.js';
import { convert, currencyOf, toJSON, type Money, type MoneyJSON } from './money.js';

const currencyCode = z.string().transform((c, ctx) => {
  try {
    return currencyOf(c).code;
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});

const RateSchema = z
  .object({
    /** The currency spent, e.g. EUR. */
    from: currencyCode,
    /** The budget's currency, e.g. USD. */
    to: currencyCode,
    /** Units of `to` per unit of `from`, a decimal such as "1.0832" (at most 10 decimals). */
    rate: z
      .union([z.string(), z.number()])
      .transform((v) => String(v).trim())
      .pipe(z.string().regex(/^\d+(\.\d{1,10})?$/, 'rate must be a positive decimal such as "1.0832" (at most 10 decimals)'))
      .refine((r) => /[1-9]/.test(r), { message: 'rate must be greater than 0' }),
    /** The day the rate is for (YYYY-MM-DD); it is used from this day on. */
    date: z
      .union([z.string(), z.date()])
      .transform((d) => (d instanceof Date ? d.toISOString().slice(0, 10) : d))
      .pipe(z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'date must be a day such as 2026-12-01').refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)), { message: 'date is not a valid day' })),
    /** Where the rate comes from (default: the table's source). */
    source: z.string().min(1).optional(),
  })
  .strict()
  .refine((r) => r.from !== r.to, { message: 'from and to must differ' });

export const RateTableSchema = z
  .object({
    /** Where the rates come from, e.g. "ECB euro reference rates" or "finance team, 2026-12". */
    source: z.string().min(1).default('user-supplied'),
    /** A rate older than this (days before the conversion) is refused as stale. */
    maxAgeDays: z.number().int().min(1).max(366).default(31),
    rates: z.array(RateSchema).min(1, 'rates must list at least one { from, to, rate, date }'),
  })
  .strict()
  .superRefine((t, ctx) => {
    const seen = new Set<string>();
    for (const [i, r] of t.rates.entries()) {
      const k = `${r.from}>${r.to}@${r.date}`;
      if (seen.has(k)) ctx.addIssue({ code: 'custom', path: ['rates', i], message: `${r.from}→${r.to} on ${r.date} is listed twice` });
      seen.add(k);
    }
  });
export type RateTableInput = z.input<typeof RateTableSchema>;
export type RateTable = z.output<typeof RateTableSchema>;

/** What the ledger records with each converted amount. */
export interface Conversion {
  from: string;
  to: string;
  rate: string;
  /** The rate's day. */
  date: string;
  source: string;
  /** The amount before conversion. */
  original: MoneyJSON;
}

export type RateLookup = { ok: true; rate: { from: string; to: string; rate: string; date: string; source: string } } | { ok: false; message: string };

const DAY_MS = 86_400_000;

/** The fix a refusal names: where the user adds the rate. */
function fix(from: string, to: string, where: string): string {
  return `add { from: ${from}, to: ${to}, rate: "<${to} per ${from}>", date: <YYYY-MM-DD> } to the rates of ${where} (gpuflow budget set ... --rates <file>)`;
}

/** The newest rate from→to dated on or before `now` and within maxAgeDays, or why there is none. */
export function findRate(table: RateTable | undefined, from: string, to: string, now: number, where: string): RateLookup {
  const pair = `${from}→${to}`;
  if (!table) return { ok: false, message: `no exchange rate ${pair}: ${where} is kept in ${to} and has no rate table; ${fix(from, to, where)}; gpuflow never converts currencies silently` };
  const today = new Date(now).toISOString().slice(0, 10);
  const usable = table.rates.filter((r) => r.from === from && r.to === to && r.date <= today).sort((a, b) => (a.date < b.date ? 1 : -1));
  const best = usable[0];
  if (!best) return { ok: false, message: `no exchange rate ${pair} dated on or before ${today} in the rate table of ${where}; ${fix(from, to, where)}` };
  const ageDays = Math.floor((Date.parse(`${today}T00:00:00Z`) - Date.parse(`${best.date}T00:00:00Z`)) / DAY_MS);
  if (ageDays > table.maxAgeDays) {
    return { ok: false, message: `the exchange rate ${pair} in the rate table of ${where} is dated ${best.date}, ${ageDays} days old (maxAgeDays ${table.maxAgeDays}); ${fix(from, to, where)} with a current date` };
  }
  return { ok: true, rate: { from, to, rate: best.rate, date: best.date, source: best.source ?? table.source } };
}

/** `m` in `rate.to`, exact, at ledger scale (rounded up). */
export function convertAt(m: Money, rate: { to: string; rate: string }): Money {
  const [whole, frac = ''] = rate.rate.split('.');
  const scaled = { amount: Number(`${whole}${frac}`), scale: frac.length };
  if (!Number.isSafeInteger(scaled.amount)) throw new RangeError(`rate ${rate.rate} is too precise to hold exactly`);
  return toLedger(convert(m, currencyOf(rate.to), { [rate.to]: scaled }));
}

export function conversionRecord(original: Money, r: { from: string; to: string; rate: string; date: string; source: string }): Conversion {
  return { from: r.from, to: r.to, rate: r.rate, date: r.date, source: r.source, original: toJSON(original) };
}
