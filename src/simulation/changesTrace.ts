/**
 * A trace from a team's own history: the catalog-sync changes gpuflow recorded (`gpuflow catalog
 * changes --json`: CatalogChange records, see src/catalog/sync/diff.ts) replayed over a base catalog.
 *
 * The base is the catalog as it is now (`gpuflow offers --json --limit 0`, or a SkyPilot directory
 * for `skypilot:<cloud>` connections). History is rewound from it: walking the changes newest first,
 * a price or availability change is undone (its `from` value), an added entry did not exist before
 * it, a removed one existed (if the base still knows it). Then it plays forward hour by hour. The
 * changes say nothing of preemptions, so spot markets get the seeded hazard model of
 * preemptionModel.ts; capacity is the recorded availability (an entry not listed has none).
 */
import { z } from 'zod';
import { moneyFromDecimal, toJSON } from '../money/money.js';
import { OfferSchema, type Offer } from '../routing/offer.js';
import { STEPS_PER_HOUR } from './grid.js';
import { BAND_WEIGHTS, DEFAULT_MODEL, hourlyHazard, INTERRUPTION_BANDS, poissonSteps, reclaimAfter, SeededRandom, type ModelParams } from './preemptionModel.js';
import { amountAtPriceScale } from './skypilotTrace.js';
import { marketKey, Trace, type Market } from './trace.js';

const FieldChangeSchema = z.object({
  field: z.enum(['on-demand price', 'spot price', 'availability', 'identity', 'spec']),
  from: z.string(),
  to: z.string(),
});

/** One record of `gpuflow catalog changes --json`. */
export const CatalogChangeSchema = z.object({
  at: z.iso.datetime({ offset: true }),
  connection: z.string().min(1),
  seq: z.number().int(),
  kind: z.enum(['added', 'removed', 'changed']),
  id: z.string().min(1),
  what: z.string(),
  changes: z.array(FieldChangeSchema).optional(),
});
export type CatalogChangeRecord = z.infer<typeof CatalogChangeSchema>;

export const ChangesFileSchema = z.array(CatalogChangeSchema).min(1, 'the changes file has no changes: record some with `gpuflow catalog sync` first');
export const BaseOffersSchema = z.array(OfferSchema).min(1, 'the base catalog has no offers');

export interface ChangesTraceOptions {
  seed: number;
  /** Hours simulated after the last change (default 48): jobs need time to finish. */
  hoursAfter?: number;
  model?: Partial<ModelParams>;
}

export interface ChangesTraceReport {
  trace: Trace;
  /** Changes that name no offer of the base catalog (their market cannot be priced). */
  unmatched: number;
  applied: number;
}

/** "2.49 USD" → amount at scale 6; "none" → undefined. */
function priceFromText(text: string): number | undefined {
  const m = /^(-?\d+(?:\.\d+)?) ([A-Z]{3})$/.exec(text.trim());
  if (!m) return undefined;
  return amountAtPriceScale(toJSON(moneyFromDecimal(m[1]!, m[2]!, 6)));
}

interface State {
  present: boolean;
  available: boolean;
  price: number;
}

export function changesTrace(base: readonly Offer[], changes: readonly CatalogChangeRecord[], opts: ChangesTraceOptions, description: string): ChangesTraceReport {
  const p: ModelParams = { ...DEFAULT_MODEL, ...opts.model };
  const sorted = [...changes].sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || a.seq - b.seq);
  const startMs = Math.floor(Date.parse(sorted[0]!.at) / 3_600_000) * 3_600_000;
  const lastMs = Date.parse(sorted[sorted.length - 1]!.at);
  const hours = Math.ceil((lastMs - startMs) / 3_600_000) + (opts.hoursAfter ?? 48);
  const steps = hours * STEPS_PER_HOUR;
  const gpuOffers = base.filter((o) => o.gpu);
  const byEntry = new Map<string, Offer[]>();
  for (const o of gpuOffers) {
    const k = `${o.connection}\u0000${o.instanceTypeId}`;
    byEntry.set(k, [...(byEntry.get(k) ?? []), o]);
  }
  // Rewind: the state of each market before the first change.
  const state = new Map<string, State>(gpuOffers.map((o) => [marketKey(o), { present: true, available: o.available, price: amountAtPriceScale(o.pricePerHour) }]));
  const touches = (c: CatalogChangeRecord) => byEntry.get(`${c.connection}\u0000${c.id}`) ?? [];
  let unmatched = 0;
  for (const c of [...sorted].reverse()) {
    const offers = touches(c);
    if (offers.length === 0) {
      unmatched++;
      continue;
    }
    for (const o of offers) {
      const s = state.get(marketKey(o))!;
      if (c.kind === 'added') s.present = false;
      else if (c.kind === 'removed') s.present = true;
      for (const f of c.changes ?? []) {
        if (f.field === 'availability') s.available = f.from === 'available';
        if ((f.field === 'spot price') === o.spot && (f.field === 'spot price' || f.field === 'on-demand price')) {
          const from = priceFromText(f.from);
          if (from === undefined) s.present = false;
          else s.price = from;
        }
      }
    }
  }
  // Play forward, hour by hour (capacity per step follows the hour's state).
  const rng = new SeededRandom(opts.seed);
  const markets: Market[] = [];
  const index = new Map<string, number>();
  for (const o of gpuOffers) {
    const key = marketKey(o);
    if (index.has(key)) continue;
    index.set(key, markets.length);
    markets.push({ offer: { ...o, available: true, seenAt: new Date(startMs).toISOString() }, prices: new Float64Array(hours), capacity: new Uint8Array(steps), preemptions: [] });
  }
  let ci = 0;
  let applied = 0;
  for (let h = 0; h < hours; h++) {
    const hourEnd = startMs + (h + 1) * 3_600_000;
    for (; ci < sorted.length && Date.parse(sorted[ci]!.at) < hourEnd; ci++) {
      const c = sorted[ci]!;
      const offers = touches(c);
      if (offers.length) applied++;
      for (const o of offers) {
        const s = state.get(marketKey(o))!;
        if (c.kind === 'added') s.present = true;
        else if (c.kind === 'removed') s.present = false;
        for (const f of c.changes ?? []) {
          if (f.field === 'availability') s.available = f.to === 'available';
          if ((f.field === 'spot price') === o.spot && (f.field === 'spot price' || f.field === 'on-demand price')) {
            const to = priceFromText(f.to);
            if (to === undefined) s.present = false;
            else {
              s.present = true;
              s.price = to;
            }
          }
        }
      }
    }
    for (const [key, i] of index) {
      const s = state.get(key)!;
      const m = markets[i]!;
      m.prices[h] = s.price;
      if (s.present && s.available) m.capacity.fill(1, h * STEPS_PER_HOUR, (h + 1) * STEPS_PER_HOUR);
    }
  }
  for (const m of markets) {
    const r = new SeededRandom(Math.floor(rng.next() * 2 ** 31));
    if (!m.offer.spot) continue;
    const band = r.pick(INTERRUPTION_BANDS, BAND_WEIGHTS);
    m.band = band.label;
    m.preemptions = poissonSteps(r, hourlyHazard(band.monthly) * p.hazardScale, steps);
    reclaimAfter(r, m.capacity, m.preemptions, p.reclaimHours);
  }
  const trace = new Trace(new Date(startMs), hours, markets, { kind: 'changes', description, seed: opts.seed });
  return { trace, unmatched, applied };
}
