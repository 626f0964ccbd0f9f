/**
 * One job under one policy, replayed against a trace with the workflow's own decisions: the
 * router's ranking (rankOffers on the catalog as last synced, constraints from the spec, blocked
 * scopes, 25 candidates per pass), the recovery policy (blockFor, blockAfterLoss, sameRegionFirst,
 * releaseLostRegionBlocks, dropTransientBlocks, the recovery limit), spotWait, retryUntilUp and
 * maxPlacementPasses, and the auto-shutdown idle rule (gpuIdle, idleStep) on utilization samples.
 *
 * What the trace stands in for: a create succeeds when the market has capacity at that step, else
 * it fails with InsufficientCapacityError (zone scope), as a provider would; an instance in a market
 * is preempted at the market's preemption steps. Waits and boots round up to the 6-minute step.
 */
import { add, fromJSON, proRate, type Money } from '../money/money.js';
import { constraintsFromSpec, type BlockedScope, type OfferConstraints } from '../routing/constraints.js';
import type { Offer } from '../routing/offer.js';
import { rankOffers } from '../routing/rankOffers.js';
import { NO_CAPACITY_REASON } from '../routing/reasons.js';
import { gpuIdle, idleStep } from '../workflows/idleShutdownPolicy.js';
import { blockAfterLoss, blockFor, dropTransientBlocks, releaseLostRegionBlocks, sameRegionFirst, type LostPlacement } from '../workflows/recoveryPolicy.js';
import type { WorkloadSpec } from '../workload/spec.js';
import { PRICE_SCALE, STEP_MS, stepsFor } from './grid.js';
import type { SimJob } from './mix.js';
import { applyPolicy, type Policy } from './policies.js';
import { decideMove } from '../workflows/migrationPolicy.js';
import type { Trace } from './trace.js';

/** The workflow's constants (src/workflows/workload.ts), mirrored. */
export const CANDIDATES_PER_PASS = 25;
export const DEFAULT_MAX_PLACEMENT_PASSES = 5;
const MAX_BACKOFF_MS = 300_000;
/** GPU utilization the simulator reports while the job works, and after it (idle). */
const BUSY_SAMPLE = [95];
const IDLE_SAMPLE = [0];

/** One placement pass as the router saw it (kept when asked: property tests compare it with the router). */
export interface Decision {
  step: number;
  spec: WorkloadSpec;
  blocked: BlockedScope[];
  lost?: LostPlacement;
  candidates: Offer[];
  /** The candidate created, if one had capacity. */
  chosen?: Offer;
}

/** One instance the job ran on: steps [from, to), work saved on it. */
export interface InstanceRun {
  market: number;
  from: number;
  to: number;
  savedWorkSteps: number;
  preempted: boolean;
}

export interface JobOutcome {
  jobId: string;
  /** Instance cost in steps (integer at scale 7), exact. */
  stepCostUnits: number;
  /** Cost of the idle tail (after the work, until the process exits or auto-shutdown stops it). */
  idleWaste: Money;
  /** Everything billed: steps plus idle tail. */
  cost: Money;
  /** Step at which the work was done; undefined if it was not. */
  doneStep?: number;
  failed?: string;
  preemptions: number;
  /** Live moves (the migrate policy). */
  migrations: number;
  createFailures: number;
  lostWorkSteps: number;
  instances: InstanceRun[];
}

export interface SimulateOptions {
  /** Record every placement pass (for tests). */
  decisions?: Decision[];
}

export function stepCostMoney(units: number, currency = 'USD'): Money {
  if (!Number.isSafeInteger(units)) throw new RangeError(`cost ${units} (scale ${PRICE_SCALE + 1}) is too large to hold exactly`);
  return fromJSON({ amount: units, currency, scale: PRICE_SCALE + 1 });
}

/** The idle tail billed after the work ends at `workEndMs` on an instance whose watchers started at `watchStartMs`. */
export function idleTailMs(spec: WorkloadSpec, tailMs: number, watchStartMs: number, workEndMs: number, submitMs: number): number {
  let billed = tailMs;
  const cfg = spec.autoShutdown;
  if (cfg !== 'off' && tailMs > 0) {
    // Samples every sampleInterval from the watchers' start; busy until the work ends.
    let k = Math.max(1, Math.ceil((workEndMs - watchStartMs) / cfg.sampleInterval));
    let since: number | undefined;
    for (;;) {
      const at = watchStartMs + k * cfg.sampleInterval;
      if (at - workEndMs >= tailMs) break;
      const s = idleStep(cfg, since, gpuIdle(cfg, at >= workEndMs ? IDLE_SAMPLE : BUSY_SAMPLE), at);
      since = s.idleSinceMs;
      if (s.shutdown) {
        billed = at - workEndMs;
        break;
      }
      k++;
    }
  }
  const max = spec.lifecycle.maxDuration;
  if (max !== undefined) billed = Math.max(0, Math.min(billed, submitMs + max - workEndMs));
  return billed;
}

export function simulateJob(job: SimJob, policy: Policy, trace: Trace, opts: SimulateOptions = {}): JobOutcome {
  const spec = applyPolicy(job.spec, policy);
  const constraintsBySpot = new Map<WorkloadSpec['spot'], OfferConstraints>();
  const constraintsFor = (s: WorkloadSpec) => {
    let c = constraintsBySpot.get(s.spot);
    if (!c) constraintsBySpot.set(s.spot, (c = constraintsFromSpec(s)));
    return c;
  };
  const out: JobOutcome = { jobId: job.id, stepCostUnits: 0, idleWaste: fromJSON({ amount: 0, currency: 'USD', scale: 0 }), cost: fromJSON({ amount: 0, currency: 'USD', scale: 0 }), preemptions: 0, migrations: 0, createFailures: 0, lostWorkSteps: 0, instances: [] };
  const blocked: BlockedScope[] = [];
  let t = job.submitStep;
  let saved = 0;
  let recoveries = 0;
  let lost: LostPlacement | undefined;
  const deadline = spec.retryUntilUp !== undefined ? job.submitStep + stepsFor(spec.retryUntilUp) : undefined;
  const finish = () => {
    out.cost = add(stepCostMoney(out.stepCostUnits), out.idleWaste);
    return out;
  };

  for (;;) {
    // place(): passes over ranked candidates, waiting with capped backoff between them.
    const spotUntil = spec.spotWait !== undefined ? t + stepsFor(spec.spotWait) : undefined;
    let market: number | undefined;
    let backoffs = 0;
    for (let pass = 0; market === undefined; pass++) {
      if (t >= trace.steps) {
        out.failed = 'trace ended';
        return finish();
      }
      const waitingForSpot = spotUntil !== undefined && t < spotUntil;
      const planSpec: WorkloadSpec = waitingForSpot ? { ...spec, spot: 'only' } : spec;
      const view = trace.catalogAt(t);
      const ranking = rankOffers(view.index, constraintsFor(planSpec), { blocked: [...blocked], limit: CANDIDATES_PER_PASS, now: view.at });
      let candidates = ranking.candidates;
      if (lost && spec.recovery.strategy === 'failover') candidates = sameRegionFirst(candidates, lost);
      const decision: Decision | undefined = opts.decisions ? { step: t, spec: planSpec, blocked: [...blocked], ...(lost ? { lost } : {}), candidates } : undefined;
      if (decision) opts.decisions!.push(decision);
      if (candidates.length === 0) {
        const waitable = ranking.rejected.some((r) => r.reason === NO_CAPACITY_REASON);
        if (pass === 0 && blocked.length === 0 && !waitingForSpot && !waitable) {
          out.failed = 'NoMatchingOffer';
          return finish();
        }
        if (releaseLostRegionBlocks(blocked) > 0) continue;
      }
      for (const c of candidates) {
        const m = trace.marketOf(c);
        if (!trace.hasCapacity(m, t)) {
          blocked.push(blockFor(c, 'InsufficientCapacityError', 'zone'));
          out.createFailures++;
          continue;
        }
        market = m;
        if (decision) decision.chosen = c;
        break;
      }
      if (market !== undefined) break;
      const outOfTime = deadline !== undefined ? t >= deadline : pass + 1 >= DEFAULT_MAX_PLACEMENT_PASSES;
      if (outOfTime && !waitingForSpot) {
        out.failed = 'NoCapacity';
        return finish();
      }
      if (candidates.length === 0) dropTransientBlocks(blocked);
      const waitMs = Math.min(MAX_BACKOFF_MS, 15_000 * 2 ** backoffs++);
      t += Math.max(1, stepsFor(waitMs));
    }

    // The instance: startup, then work until done or preempted (or moved, with migration).
    let from = t;
    let remaining = job.workSteps - saved;
    let end = from + job.startupSteps + remaining;
    let preemptAt = trace.nextPreemption(market, from);
    for (let move = findMove(job, spec, policy, trace, market, from, end, preemptAt, blocked, constraintsFor(spec)); move; ) {
      // Make-before-break: the old instance bills until the new one has booted. Counted
      // conservatively: its work is kept only to the last checkpoint before the move began (so the
      // run stays a path of the oracle's graph, and the overlap is paid for nothing).
      const progress = move.at - from - job.startupSteps;
      const kept = Math.floor(progress / job.checkpointSteps) * job.checkpointSteps;
      out.stepCostUnits += trace.costUnits(market, from, move.cutover);
      out.instances.push({ market, from, to: move.cutover, savedWorkSteps: kept, preempted: false });
      out.lostWorkSteps += move.cutover - from - job.startupSteps - kept;
      out.migrations++;
      saved += kept;
      market = move.market;
      from = move.at;
      remaining = job.workSteps - saved;
      end = from + job.startupSteps + remaining;
      preemptAt = trace.nextPreemption(market, from);
      move = findMove(job, spec, policy, trace, market, from, end, preemptAt, blocked, constraintsFor(spec));
    }
    if (end <= preemptAt && end <= trace.steps) {
      out.stepCostUnits += trace.costUnits(market, from, end);
      out.instances.push({ market, from, to: end, savedWorkSteps: remaining, preempted: false });
      out.doneStep = end;
      const tail = idleTailMs(spec, job.idleTailMs, (from + job.startupSteps) * STEP_MS, end * STEP_MS, job.submitStep * STEP_MS);
      if (tail > 0) {
        const price = trace.priceAt(market, Math.min(end, trace.steps - 1));
        out.idleWaste = proRate(fromJSON({ amount: price, currency: 'USD', scale: PRICE_SCALE }), tail);
      }
      return finish();
    }
    const stop = Math.min(preemptAt, trace.steps);
    out.stepCostUnits += trace.costUnits(market, from, stop);
    const progress = Math.max(0, stop - from - job.startupSteps);
    const kept = Number.isFinite(job.checkpointSteps) ? Math.floor(progress / job.checkpointSteps) * job.checkpointSteps : 0;
    out.instances.push({ market, from, to: stop, savedWorkSteps: kept, preempted: stop === preemptAt });
    if (stop !== preemptAt) {
      out.failed = 'trace ended';
      return finish();
    }
    saved += kept;
    out.lostWorkSteps += progress - kept;
    out.preemptions++;
    if (recoveries >= spec.recovery.maxRecoveries) {
      out.failed = 'RecoveryLimitReached';
      return finish();
    }
    recoveries++;
    const offer = trace.markets[market]!.offer;
    lost = { connection: offer.connection, location: offer.location };
    const block = blockAfterLoss(spec.recovery.strategy, lost);
    if (block) blocked.push(block);
    t = preemptAt;
  }
}

/**
 * The first move the workflow's rebalance check would make on this instance: at each check (every
 * `interval` after the job started, on the catalog as last synced), decideMove over the router's
 * candidates; a move needs capacity in the target market then, and the cutover (after the new
 * instance's startup) must come before the old instance ends or is preempted.
 */
function findMove(
  job: SimJob,
  spec: WorkloadSpec,
  policy: Policy,
  trace: Trace,
  market: number,
  from: number,
  end: number,
  preemptAt: number,
  blocked: BlockedScope[],
  constraints: OfferConstraints,
): { at: number; cutover: number; market: number } | undefined {
  const settings = policy.migrate;
  if (!settings || !Number.isFinite(job.checkpointSteps) || spec.lifecycle.kind !== 'job') return undefined;
  const every = Math.max(1, stepsFor(settings.interval));
  const tuned = { ...settings, provisionEstimate: job.startupSteps * STEP_MS, checkpointInterval: job.checkpointSteps * STEP_MS };
  const offer = trace.markets[market]!.offer;
  for (let c = from + job.startupSteps + every; c + job.startupSteps < Math.min(end, preemptAt, trace.steps); c += every) {
    const view = trace.catalogAt(c);
    const ranking = rankOffers(view.index, constraints, { blocked: [...blocked], limit: CANDIDATES_PER_PASS, now: view.at });
    const current = { ...offer, pricePerHour: { amount: trace.priceAt(market, c), currency: offer.pricePerHour.currency, scale: PRICE_SCALE } };
    const max = spec.lifecycle.maxDuration;
    const d = decideMove({
      trigger: 'rebalance',
      current,
      candidates: ranking.candidates,
      settings: tuned,
      runningForMs: (c - from - job.startupSteps) * STEP_MS,
      // What the job still has to do bounds the saving (the simulator knows its work, as a user's estimate would).
      remainingMs: Math.min((end - c) * STEP_MS, max !== undefined ? (job.submitStep + stepsFor(max) - c) * STEP_MS : Infinity),
    });
    if (!d.move) continue;
    const target = trace.marketOf(d.target);
    const cutover = c + job.startupSteps;
    if (!trace.hasCapacity(target, c) || trace.nextPreemption(target, c) <= cutover) continue;
    return { at: c, cutover, market: target };
  }
  return undefined;
}
