/**
 * A price and availability trace: markets (one offer each: a provider's instance type in a
 * location, on-demand or spot) with, over time, an hourly price, capacity per step, and the steps
 * at which a running instance in that market is preempted.
 */
import type { Offer } from '../routing/offer.js';
import { indexOffers, type OfferIndex } from '../routing/rankOffers.js';
import { hourOf, PRICE_SCALE, STEP_MS, STEPS_PER_HOUR } from './grid.js';

export interface Market {
  /** The offer as the catalog lists it; price and availability vary with time. */
  offer: Offer;
  /** Price per hour at scale 6, one per trace hour. */
  prices: Float64Array;
  /** 1 where a new instance can be created, one per step. */
  capacity: Uint8Array;
  /** Steps at which an instance running in this market is preempted, ascending. */
  preemptions: number[];
  /** Spot interruption band label ("<5%", "5-10%", ...), for spot markets of generated traces. */
  band?: string;
}

export interface TraceSource {
  kind: 'skypilot' | 'changes';
  description: string;
  seed?: number;
}

export interface CatalogView {
  step: number;
  at: Date;
  offers: Offer[];
  index: OfferIndex;
}

export class Trace {
  readonly hours: number;
  readonly steps: number;
  readonly #byKey = new Map<string, number>();
  readonly #views = new Map<number, CatalogView>();
  readonly #prefix: (Float64Array | undefined)[] = [];
  readonly #next: (Int32Array | undefined)[] = [];
  #allIndex: OfferIndex | undefined;

  constructor(
    readonly start: Date,
    hours: number,
    readonly markets: Market[],
    readonly source: TraceSource,
    /** How often the router's catalog is refreshed (gpuflow's catalog sync), in steps. */
    readonly syncEverySteps = STEPS_PER_HOUR,
  ) {
    this.hours = hours;
    this.steps = hours * STEPS_PER_HOUR;
    markets.forEach((m, i) => {
      if (m.prices.length !== hours || m.capacity.length !== this.steps) throw new Error(`market ${marketKey(m.offer)}: series do not cover ${hours} h`);
      this.#byKey.set(marketKey(m.offer), i);
    });
  }

  timeAt(step: number): Date {
    return new Date(this.start.getTime() + step * STEP_MS);
  }

  marketOf(offer: Offer): number {
    const i = this.#byKey.get(marketKey(offer));
    if (i === undefined) throw new Error(`offer ${marketKey(offer)} is not in the trace`);
    return i;
  }

  priceAt(market: number, step: number): number {
    return this.markets[market]!.prices[hourOf(step)]!;
  }

  hasCapacity(market: number, step: number): boolean {
    return this.markets[market]!.capacity[step] === 1;
  }

  /** The first preemption step after `step` (an instance created at `step` lives until then), or Infinity. */
  nextPreemption(market: number, step: number): number {
    let next = this.#next[market];
    if (!next) {
      next = new Int32Array(this.steps + 1).fill(-1);
      const pre = this.markets[market]!.preemptions;
      let j = pre.length - 1;
      let after = -1;
      for (let s = this.steps; s >= 0; s--) {
        while (j >= 0 && pre[j]! > s) after = pre[j--]!;
        next[s] = after;
      }
      this.#next[market] = next;
    }
    const v = next[Math.min(step, this.steps)]!;
    return v < 0 ? Infinity : v;
  }

  /** Cost of running steps [from, to) in `market`, as an integer at scale 7 (exact). */
  costUnits(market: number, from: number, to: number): number {
    let prefix = this.#prefix[market];
    if (!prefix) {
      const prices = this.markets[market]!.prices;
      prefix = new Float64Array(this.steps + 1);
      for (let s = 0; s < this.steps; s++) prefix[s + 1] = prefix[s]! + prices[hourOf(s)]!;
      this.#prefix[market] = prefix;
    }
    return prefix[to]! - prefix[from]!;
  }

  /**
   * What the router sees at `step`: the catalog as of the last sync, each offer at that hour's price
   * and with the capacity the sync saw (which may be stale by the time of a create).
   */
  catalogAt(step: number): CatalogView {
    const synced = step - (step % this.syncEverySteps);
    let view = this.#views.get(synced);
    if (!view) {
      const at = this.timeAt(synced);
      const seenAt = at.toISOString();
      const h = hourOf(synced);
      const offers = this.markets.map(
        (m): Offer => ({ ...m.offer, pricePerHour: { amount: m.prices[h]!, currency: m.offer.pricePerHour.currency, scale: PRICE_SCALE }, available: m.capacity[synced] === 1, seenAt }),
      );
      view = { step: synced, at, offers, index: indexOffers(offers) };
      this.#views.set(synced, view);
    }
    return view;
  }

  /** Every market, available, at its first price: for finding which markets a job could ever use. */
  allMarkets(): OfferIndex {
    this.#allIndex ??= indexOffers(this.markets.map((m) => ({ ...m.offer, pricePerHour: { amount: m.prices[0]!, currency: m.offer.pricePerHour.currency, scale: PRICE_SCALE }, available: true })));
    return this.#allIndex;
  }
}

/** A market's identity: connection, instance type ID and market. */
export function marketKey(o: Pick<Offer, 'connection' | 'instanceTypeId' | 'spot'>): string {
  return `${o.connection}\u0000${o.instanceTypeId}\u0000${o.spot ? 'spot' : 'on-demand'}`;
}
