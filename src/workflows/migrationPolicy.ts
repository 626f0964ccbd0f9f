/**
 * Whether a running job moves, and where (placement.rebalance, residency, `gpuflow migrate`).
 * Pure and shared: the workflow's migration step and the cost simulator's "migrate" policy call
 * the same function on the same ranked candidates (rankOffers' output).
 *
 * Rebalance: the cheapest candidate that is not the current placement moves the job when
 *   - it is cheaper per hour by at least minSavingsPercent of the current price, and
 *   - the saving over the horizon left after the move pays for the move:
 *       saving = (current − target) × (horizon − provisionEstimate)
 *       moveCost = target × (provisionEstimate + resyncEstimate + lostProgress)
 *     where horizon is placement.rebalance.horizon, capped by what lifecycle.maxDuration leaves,
 *     and lostProgress is the work since the last checkpoint at the expected cutover (0 when the
 *     job checkpoints on SIGTERM: no checkpointInterval declared).
 * Residency: the placement no longer satisfies the spec's placement (an update removed its
 *   country or region): the cheapest satisfying candidate, whatever it costs.
 * Manual: the cheapest candidate matching `to` (connection or provider, and optionally region).
 */
import { fromJSON, greaterThan, lessThan, multiply, proRate, subtract, toDecimalString, toJSON, type Money, type MoneyJSON } from '../money/money.js';
import { expandCountryPins } from '../routing/countries.js';
import type { Offer } from '../routing/offer.js';
import type { WorkloadSpec } from '../workload/specSchema.js';

export type MoveReason = 'rebalance' | 'residency' | 'manual';

export type RebalanceSettings = NonNullable<WorkloadSpec['placement']['rebalance']>;

/** Defaults when a move is asked for (residency, by hand) on a workload without placement.rebalance. */
export const DEFAULT_REBALANCE: RebalanceSettings = { interval: 600_000, minSavingsPercent: 10, horizon: 3_600_000, provisionEstimate: 300_000, resyncEstimate: 60_000 };
/** How long a job may stay where an updated placement excludes it, unless placement.residencyDeadline says. */
export const DEFAULT_RESIDENCY_DEADLINE_MS = 1_800_000;

/** Where the job runs now (the workload's chosen offer). */
export interface CurrentPlacement {
  connection: string;
  provider: string;
  instanceTypeId: string;
  location: string;
  country: string;
  spot: boolean;
  pricePerHour: MoneyJSON;
}

/** `provider/region`, `connection/region`, or just a provider or connection. */
export interface MoveTarget {
  provider: string;
  location?: string;
}

export interface MoveInput {
  trigger: MoveReason;
  current: CurrentPlacement;
  /** Ranked candidates that satisfy the spec as it is now (cheapest first). */
  candidates: readonly Offer[];
  settings: RebalanceSettings;
  /** How long the job has run on the current instance. */
  runningForMs: number;
  /** Run time left under lifecycle.maxDuration, when it has one. */
  remainingMs?: number;
  /** manual: where to go. */
  to?: MoveTarget;
}

export type MoveDecision =
  | { move: true; reason: MoveReason; target: Offer; savingPerHour: MoneyJSON; moveCost: MoneyJSON; netSaving?: MoneyJSON; why: string }
  | { move: false; why: string };

export function sameMarket(a: Pick<Offer, 'connection' | 'instanceTypeId' | 'location' | 'spot'>, b: Pick<Offer, 'connection' | 'instanceTypeId' | 'location' | 'spot'>): boolean {
  return a.connection === b.connection && a.instanceTypeId === b.instanceTypeId && a.location === b.location && a.spot === b.spot;
}

export function parseMoveTarget(to: string): MoveTarget {
  const m = /^([A-Za-z0-9._-]+)(?:\/([A-Za-z0-9._-]+))?$/.exec(to.trim());
  if (!m) throw new RangeError(`--to "${to}" must be provider/region (e.g. local/eu-central) or a provider or connection name`);
  return { provider: m[1]!, ...(m[2] ? { location: m[2] } : {}) };
}

function matchesTarget(o: Offer, to: MoveTarget): boolean {
  return (o.provider === to.provider || o.connection === to.provider) && (to.location === undefined || o.location === to.location);
}

/** Whether the current placement still satisfies the spec's placement rules (countries, regions). */
export function placementViolation(spec: WorkloadSpec, current: Pick<CurrentPlacement, 'country' | 'location'>): string | undefined {
  const { countries, regions } = spec.placement;
  if (countries && countries.length > 0 && !expandCountryPins(countries).has(current.country)) {
    return `country ${current.country} is no longer in placement.countries (${countries.join(', ')})`;
  }
  if (regions && regions.length > 0 && !regions.includes(current.location)) return `region ${current.location} is no longer in placement.regions (${regions.join(', ')})`;
  return undefined;
}

/** Progress lost at a cutover `atMs` after the job started on its instance. */
export function lostProgressMs(settings: RebalanceSettings, atMs: number): number {
  return settings.checkpointInterval === undefined ? 0 : atMs % settings.checkpointInterval;
}

/** The estimated cost of moving to `target`: its price over provisioning, re-sync and the work to redo. */
export function moveCost(settings: RebalanceSettings, target: Pick<Offer, 'pricePerHour'>, runningForMs: number): Money {
  const overhead = settings.provisionEstimate + settings.resyncEstimate + lostProgressMs(settings, runningForMs + settings.provisionEstimate);
  return proRate(fromJSON(target.pricePerHour), overhead);
}

export function decideMove(input: MoveInput): MoveDecision {
  const { current, settings } = input;
  const others = input.candidates.filter((c) => !sameMarket(c, current) && c.pricePerHour.currency === current.pricePerHour.currency);
  const priceNow = fromJSON(current.pricePerHour);
  const describe = (o: Offer) => `${o.type} on ${o.connection}/${o.location}${o.spot ? ' (spot)' : ''} at ${toDecimalString(o.pricePerHour)}/h`;
  const decided = (reason: MoveReason, target: Offer, why: string): Extract<MoveDecision, { move: true }> => ({
    move: true,
    reason,
    target,
    savingPerHour: toJSON(subtract(priceNow, fromJSON(target.pricePerHour))),
    moveCost: toJSON(moveCost(settings, target, input.runningForMs)),
    why,
  });

  if (input.trigger === 'manual') {
    const pool = input.to ? others.filter((o) => matchesTarget(o, input.to!)) : others;
    const target = pool[0];
    if (!target) {
      return { move: false, why: input.to ? `no satisfying offer with capacity on ${input.to.provider}${input.to.location ? `/${input.to.location}` : ''}` : 'no other satisfying offer' };
    }
    return decided('manual', target, `asked by hand: ${describe(target)}`);
  }
  if (input.trigger === 'residency') {
    const target = others[0];
    if (!target) return { move: false, why: 'no offer satisfies the updated placement yet' };
    return decided('residency', target, `placement changed: ${describe(target)}`);
  }

  const target = others[0];
  if (!target) return { move: false, why: 'no other satisfying offer' };
  const priceThere = fromJSON(target.pricePerHour);
  if (!lessThan(priceThere, priceNow)) return { move: false, why: `the cheapest other offer (${describe(target)}) is not cheaper than ${toDecimalString(priceNow)}/h` };
  const savingPerHour = subtract(priceNow, priceThere);
  // minSavingsPercent of the current price, compared exactly: saving × 100 ≥ price × percent (percent in hundredths).
  const pct = Math.round(settings.minSavingsPercent * 100);
  if (lessThan(multiply(savingPerHour, 10_000), multiply(priceNow, pct))) {
    return { move: false, why: `${describe(target)} saves ${toDecimalString(savingPerHour)}/h, under placement.rebalance.minSavingsPercent ${settings.minSavingsPercent}` };
  }
  const horizon = Math.min(settings.horizon, input.remainingMs ?? Number.POSITIVE_INFINITY) - settings.provisionEstimate;
  const cost = moveCost(settings, target, input.runningForMs);
  const saving = horizon > 0 ? proRate(savingPerHour, Math.floor(horizon)) : proRate(savingPerHour, 0);
  if (!greaterThan(saving, cost)) {
    return {
      move: false,
      why: `${describe(target)} would save ${toDecimalString(saving)} over the ${Math.round(Math.max(0, horizon) / 60_000)} min left, not more than the move's estimated ${toDecimalString(cost)}`,
    };
  }
  return {
    ...decided('rebalance', target, `${describe(target)} saves ${toDecimalString(savingPerHour)}/h: ${toDecimalString(saving)} over the horizon against a move cost of ${toDecimalString(cost)}`),
    netSaving: toJSON(subtract(saving, cost)),
  };
}
