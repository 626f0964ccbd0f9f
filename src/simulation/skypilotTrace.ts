/** A trace generated from a SkyPilot catalog directory with the seeded model of preemptionModel.ts. */
import { readSkypilotCatalog } from '../catalog/skypilot/index.js';
import { transformScale, fromJSON, toSnapshot, type MoneyJSON } from '../money/money.js';
import type { Offer } from '../routing/offer.js';
import { PRICE_SCALE, STEPS_PER_HOUR } from './grid.js';
import {
  BAND_WEIGHTS,
  capacitySeries,
  DEFAULT_MODEL,
  driftedPrices,
  hourlyHazard,
  INTERRUPTION_BANDS,
  poissonSteps,
  reclaimAfter,
  SeededRandom,
  type ModelParams,
} from './preemptionModel.js';
import { marketKey, Trace, type Market } from './trace.js';

export interface GeneratedTraceOptions {
  seed: number;
  hours: number;
  start?: Date;
  model?: Partial<ModelParams>;
}

/** A price per hour at scale 6, exact (catalog prices carry at most 6 decimals). */
export function amountAtPriceScale(m: MoneyJSON): number {
  const d = transformScale(fromJSON(m), PRICE_SCALE);
  const snap = toSnapshot(d);
  if (snap.scale !== PRICE_SCALE) throw new Error(`price ${JSON.stringify(m)} has more than ${PRICE_SCALE} decimals`);
  return snap.amount;
}

/**
 * Markets from catalog offers (GPU offers only), each with its own seeded series. The seed of each
 * market is derived from the trace seed and its position in a sorted order, so adding a cloud to
 * the catalog does not reshuffle the others' series less than it must.
 */
export function generateTrace(offers: readonly Offer[], opts: GeneratedTraceOptions, description: string): Trace {
  const p: ModelParams = { ...DEFAULT_MODEL, ...opts.model };
  const steps = opts.hours * STEPS_PER_HOUR;
  const start = opts.start ?? new Date('2026-01-05T00:00:00Z');
  const gpuOffers = offers.filter((o) => o.gpu).sort((a, b) => (marketKey(a) < marketKey(b) ? -1 : marketKey(a) > marketKey(b) ? 1 : 0));
  const onDemandPrice = new Map<string, number>();
  for (const o of gpuOffers) if (!o.spot) onDemandPrice.set(`${o.connection}\u0000${o.instanceTypeId}`, amountAtPriceScale(o.pricePerHour));
  const rng = new SeededRandom(opts.seed);
  const markets: Market[] = [];
  const seen = new Set<string>();
  for (const o of gpuOffers) {
    const key = marketKey(o);
    if (seen.has(key)) continue; // a catalog listing one ID twice: the first row is the market
    seen.add(key);
    const r = new SeededRandom(Math.floor(rng.next() * 2 ** 31));
    const base = amountAtPriceScale(o.pricePerHour);
    const offer: Offer = { ...o, available: true, seenAt: start.toISOString() };
    if (!o.spot) {
      const capacity = capacitySeries(r, steps, p.onDemandUpHours, p.onDemandDownHours);
      markets.push({ offer, prices: new Float64Array(opts.hours).fill(base), capacity, preemptions: [] });
      continue;
    }
    const band = r.pick(INTERRUPTION_BANDS, BAND_WEIGHTS);
    const preemptions = poissonSteps(r, hourlyHazard(band.monthly) * p.hazardScale, steps);
    const capacity = capacitySeries(r, steps, p.spotUpHours, p.spotDownHours);
    reclaimAfter(r, capacity, preemptions, p.reclaimHours);
    const ceiling = onDemandPrice.get(`${o.connection}\u0000${o.instanceTypeId}`) ?? base * 3;
    markets.push({ offer, prices: driftedPrices(r, opts.hours, base, ceiling, p), capacity, preemptions, band: band.label });
  }
  return new Trace(start, opts.hours, markets, { kind: 'skypilot', description, seed: opts.seed });
}

/** A generated trace over the SkyPilot catalogs in `dir` (`<cloud>/vms.csv`). */
export function skypilotTrace(dir: string, opts: GeneratedTraceOptions): Trace {
  const catalog = readSkypilotCatalog(dir, { seenAt: (opts.start ?? new Date('2026-01-05T00:00:00Z')).toISOString() });
  return generateTrace(catalog.offers, opts, `SkyPilot catalog ${dir} (${catalog.files.map((f) => f.cloud).join(', ')}), seed ${opts.seed}, ${opts.hours} h`);
}
