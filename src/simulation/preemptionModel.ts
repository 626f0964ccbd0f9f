/**
 * The seeded preemption, capacity and price-drift model that turns a static catalog into a trace.
 * Every number here is documented in docs/simulation.md with where it comes from; the ones marked
 * "assumption" are ours, not published, and can be overridden.
 */
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';
import { STEPS_PER_HOUR } from './grid.js';

/**
 * AWS Spot Instance Advisor "frequency of interruption" bands: the share of instances of a type
 * that Spot reclaimed over the trailing month. `monthly` is the probability we use for the band
 * (its midpoint; 25 % for the open ">20 %" band, an assumption).
 */
export const INTERRUPTION_BANDS = [
  { label: '<5%', monthly: 0.025 },
  { label: '5-10%', monthly: 0.075 },
  { label: '10-15%', monthly: 0.125 },
  { label: '15-20%', monthly: 0.175 },
  { label: '>20%', monthly: 0.25 },
] as const;
export type InterruptionBand = (typeof INTERRUPTION_BANDS)[number];

/** How often each band is drawn for a GPU spot market (assumption: GPU types skew to the high bands). */
export const BAND_WEIGHTS = [0.15, 0.15, 0.2, 0.2, 0.3] as const;

const HOURS_PER_MONTH = 730;

export interface ModelParams {
  /** Multiplies every hazard rate (1: the published bands; 10: a stress test). */
  hazardScale: number;
  /** Spot capacity: mean hours available, then mean hours without capacity (assumption). */
  spotUpHours: number;
  spotDownHours: number;
  /** On-demand capacity (assumption). */
  onDemandUpHours: number;
  onDemandDownHours: number;
  /** Capacity is gone for this long on average after a preemption: the provider reclaimed it (assumption). */
  reclaimHours: number;
  /** Spot price drift: hourly mean reversion and volatility of the log price (assumption). */
  driftReversion: number;
  driftVolatility: number;
}

export const DEFAULT_MODEL: ModelParams = {
  hazardScale: 1,
  spotUpHours: 12,
  spotDownHours: 1,
  onDemandUpHours: 48,
  onDemandDownHours: 0.5,
  reclaimHours: 1,
  driftReversion: 0.05,
  driftVolatility: 0.04,
};

/** Constant hazard per hour for a monthly interruption probability: 1 - e^(-λ·730) = p. */
export function hourlyHazard(monthly: number): number {
  return -Math.log(1 - monthly) / HOURS_PER_MONTH;
}

/** A seeded stream of floats in [0, 1). */
export class SeededRandom {
  readonly #g: RandomGenerator;
  constructor(seed: number) {
    this.#g = xoroshiro128plus(seed);
  }
  next(): number {
    return uniformFloat64(this.#g);
  }
  /** Exponential with the given mean. */
  exponential(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }
  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
  pick<T>(items: readonly T[], weights: readonly number[]): T {
    let r = this.next() * weights.reduce((a, b) => a + b, 0);
    for (let i = 0; i < items.length; i++) if ((r -= weights[i]!) < 0) return items[i]!;
    return items[items.length - 1]!;
  }
}

/** Steps at which a Poisson process of rate `perHour` fires within `steps`. */
export function poissonSteps(rng: SeededRandom, perHour: number, steps: number): number[] {
  const out: number[] = [];
  if (!(perHour > 0)) return out;
  let h = rng.exponential(1 / perHour);
  while (h * STEPS_PER_HOUR < steps) {
    const s = Math.max(1, Math.ceil(h * STEPS_PER_HOUR));
    if (s < steps && out[out.length - 1] !== s) out.push(s);
    h += rng.exponential(1 / perHour);
  }
  return out;
}

/** Capacity per step: an on/off process with exponential spells, starting available. */
export function capacitySeries(rng: SeededRandom, steps: number, upHours: number, downHours: number): Uint8Array {
  const cap = new Uint8Array(steps);
  let s = 0;
  let up = true;
  while (s < steps) {
    const len = Math.max(1, Math.round(rng.exponential(up ? upHours : downHours) * STEPS_PER_HOUR));
    if (up) cap.fill(1, s, Math.min(steps, s + len));
    s += len;
    up = !up;
  }
  return cap;
}

/** Capacity gone after each preemption (the provider took it back) for an exponential spell. */
export function reclaimAfter(rng: SeededRandom, cap: Uint8Array, preemptions: readonly number[], meanHours: number): void {
  for (const p of preemptions) cap.fill(0, p, Math.min(cap.length, p + Math.max(1, Math.round(rng.exponential(meanHours) * STEPS_PER_HOUR))));
}

/**
 * Hourly spot prices at scale 6: a mean-reverting walk of the log price around the catalog price,
 * kept between half the catalog price and `ceiling`, rounded to 4 decimals.
 */
export function driftedPrices(rng: SeededRandom, hours: number, base: number, ceiling: number, p: ModelParams): Float64Array {
  const out = new Float64Array(hours);
  let x = 0;
  for (let h = 0; h < hours; h++) {
    const price = Math.min(ceiling, Math.max(base / 2, base * Math.exp(x)));
    out[h] = Math.round(price / 100) * 100;
    x = (1 - p.driftReversion) * x + p.driftVolatility * rng.normal();
  }
  return out;
}
