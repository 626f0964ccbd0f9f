/**
 * The hindsight oracle: knowing the whole trace, the cheapest way to get a job's work done.
 *
 * A shortest path over time × saved work: from (step t, work saved w) it may wait a step, or create
 * an instance in any market the job's constraints allow that has capacity at t (and is under the
 * job's price cap then), pay the startup and run until it has saved more work, ending before that
 * market's next preemption. Work is saved only at checkpoint boundaries (or at completion), so
 * restarting costs the startup again, and work after the last checkpoint would be lost: the oracle
 * never runs it. Idle tails do not exist for it (it knows when the work ends).
 *
 * Every policy's run maps onto a path of this graph that costs no more (each of its instances,
 * cut back to its last checkpoint, is an edge), so no policy beats it on the same trace and horizon.
 * Costs are exact integers (scale 7, the trace's step cost); the path is re-priced in dinero.
 */
import { constraintsFromSpec, type OfferConstraints } from '../routing/constraints.js';
import { priceKey, rankOffers } from '../routing/rankOffers.js';
import type { Money } from '../money/money.js';
import type { SimJob } from './mix.js';
import { spotTolerant } from './policies.js';
import { stepCostMoney, type InstanceRun } from './simulateJob.js';
import type { Trace } from './trace.js';

export interface OracleOutcome {
  jobId: string;
  stepCostUnits: number;
  cost: Money;
  doneStep?: number;
  instances: InstanceRun[];
  /** Markets it could choose from. */
  markets: number;
}

/** The markets a job may ever use: every constraint but price caps and capacity (those vary with time). */
export function eligibleMarkets(job: SimJob, trace: Trace): { markets: number[]; constraints: OfferConstraints } {
  const c = constraintsFromSpec({ ...job.spec, spot: spotTolerant(job.spec) ? 'allow' : 'never' });
  const { maxPricePerHour: _a, maxPricePerGpuHour: _b, ...uncapped } = c;
  const ranked = rankOffers(trace.allMarkets(), uncapped, { explain: false });
  return { markets: ranked.candidates.map((o) => trace.marketOf(o)), constraints: c };
}

/** Work levels a path can be at: multiples of the checkpoint interval, and the whole job. */
function workLevels(job: SimJob): number[] {
  const levels = [0];
  if (Number.isFinite(job.checkpointSteps)) for (let w = job.checkpointSteps; w < job.workSteps; w += job.checkpointSteps) levels.push(w);
  levels.push(job.workSteps);
  return levels;
}

/** The oracle for one job, using steps [submit, horizon). */
export function oracleJob(job: SimJob, trace: Trace, horizon = trace.steps): OracleOutcome {
  const { markets, constraints } = eligibleMarkets(job, trace);
  const T0 = job.submitStep;
  const T1 = Math.min(horizon, trace.steps);
  const levels = workLevels(job);
  const L = levels.length;
  const boot = job.startupSteps;
  const width = T1 - T0 + 1;
  const V = new Float64Array(width * L).fill(Infinity);
  const choiceMarket = new Int32Array(width * L).fill(-1);
  const choiceLevel = new Int32Array(width * L).fill(-1);
  for (let t = 0; t < width; t++) V[t * L + L - 1] = 0;
  // Price caps in the trace's units (10^-6 per hour) via the router's exact key (10^-9).
  const cap = constraints.maxPricePerHour ? priceKey(constraints.maxPricePerHour) / 1000 : Infinity;
  const gpuCap = constraints.maxPricePerGpuHour ? priceKey(constraints.maxPricePerGpuHour) / 1000 : Infinity;
  const gpuCounts = markets.map((m) => trace.markets[m]!.offer.gpu?.count ?? 1);
  for (let t = T1 - 1; t >= T0; t--) {
    const row = (t - T0) * L;
    for (let li = 0; li < L - 1; li++) {
      let best = V[row + L + li]!;
      let bm = -1;
      let bl = -1;
      for (let i = 0; i < markets.length; i++) {
        const m = markets[i]!;
        if (!trace.hasCapacity(m, t)) continue;
        const price = trace.priceAt(m, t);
        if (price > cap || price > gpuCap * gpuCounts[i]!) continue;
        const limit = Math.min(trace.nextPreemption(m, t), T1);
        for (let lj = li + 1; lj < L; lj++) {
          const end = t + boot + levels[lj]! - levels[li]!;
          if (end > limit) break;
          const c = trace.costUnits(m, t, end) + V[(end - T0) * L + lj]!;
          // Ties go to starting now: of equally cheap paths, the one that finishes first.
          if (c <= best) {
            best = c;
            bm = m;
            bl = lj;
          }
        }
      }
      V[row + li] = best;
      choiceMarket[row + li] = bm;
      choiceLevel[row + li] = bl;
    }
  }
  const out: OracleOutcome = { jobId: job.id, stepCostUnits: 0, cost: stepCostMoney(0), instances: [], markets: markets.length };
  if (!Number.isFinite(V[0]!)) return out;
  let t = T0;
  let li = 0;
  let units = 0;
  while (li < L - 1) {
    const k = (t - T0) * L + li;
    const m = choiceMarket[k]!;
    if (m < 0) {
      t++;
      continue;
    }
    const lj = choiceLevel[k]!;
    const end = t + boot + levels[lj]! - levels[li]!;
    units += trace.costUnits(m, t, end);
    out.instances.push({ market: m, from: t, to: end, savedWorkSteps: levels[lj]! - levels[li]!, preempted: false });
    t = end;
    li = lj;
  }
  out.stepCostUnits = units;
  out.cost = stepCostMoney(units);
  out.doneStep = t;
  return out;
}

