/**
 * Property tests of the simulator against independent references:
 *  - the hindsight oracle is never beaten: on random traces and jobs, every policy that gets the
 *    job done costs at least the oracle (exact dinero comparison), and the oracle gets it done too;
 *  - the simulator routes as the router does: every placement pass it recorded equals rankOffers
 *    over the same catalog (rebuilt here as a plain array, not the simulator's cached index) with
 *    constraintsFromSpec, the same blocked scopes and the planCandidates limit, reordered by
 *    sameRegionFirst after a loss under failover; and the instance created is the first of those
 *    candidates whose market had capacity.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { lessThanOrEqual } from '../../../src/money/money.js';
import { constraintsFromSpec } from '../../../src/routing/constraints.js';
import type { Offer } from '../../../src/routing/offer.js';
import { rankOffers } from '../../../src/routing/rankOffers.js';
import { oracleJob } from '../../../src/simulation/oracle.js';
import { POLICIES } from '../../../src/simulation/policies.js';
import { CANDIDATES_PER_PASS, simulateJob, type Decision } from '../../../src/simulation/simulateJob.js';
import { sameRegionFirst } from '../../../src/workflows/recoveryPolicy.js';
import { PRICE_SCALE } from '../../../src/simulation/grid.js';
import { jobArb, traceArb } from './arbitraries.js';

describe('hindsight oracle', () => {
  it('is never beaten by any policy on the same trace', () => {
    let compared = 0;
    let preempted = 0;
    fc.assert(
      fc.property(traceArb, jobArb, (trace, job) => {
        const runs = POLICIES.map((p) => ({ p, r: simulateJob(job, p, trace) }));
        const done = runs.filter((x) => x.r.doneStep !== undefined);
        if (done.length === 0) return;
        compared++;
        if (done.some((x) => x.r.preemptions > 0)) preempted++;
        const oracle = oracleJob(job, trace, Math.max(...done.map((x) => x.r.doneStep!)));
        assert.ok(oracle.doneStep !== undefined, 'the oracle finds a way whenever a policy did');
        for (const { p, r } of done) {
          assert.ok(lessThanOrEqual(oracle.cost, r.cost), `${p.name} beat the oracle: ${JSON.stringify(r.cost.toJSON())} < ${JSON.stringify(oracle.cost.toJSON())}`);
        }
      }),
      { numRuns: 300 },
    );
    // Not vacuous: most cases compare finished runs, and many of them recovered from preemptions.
    assert.ok(compared > 80, `only ${compared} cases had a finished run`);
    assert.ok(preempted > 12, `only ${preempted} cases had a preemption`);
  });

  it('pays exactly for the instances on its path, none of them preempted', () => {
    fc.assert(
      fc.property(traceArb, jobArb, (trace, job) => {
        const o = oracleJob(job, trace);
        let units = 0;
        for (const i of o.instances) {
          assert.ok(trace.hasCapacity(i.market, i.from), 'created where there was capacity');
          assert.ok(trace.nextPreemption(i.market, i.from) >= i.to, 'ended before its market preempted it');
          for (let s = i.from; s < i.to; s++) units += trace.priceAt(i.market, s);
        }
        assert.equal(o.stepCostUnits, units);
        if (o.doneStep !== undefined) assert.equal(o.instances.reduce((n, i) => n + i.savedWorkSteps, 0), job.workSteps);
      }),
      { numRuns: 200 },
    );
  });
});

describe('simulator routing', () => {
  it("equals the router's ranking at every placement pass", () => {
    fc.assert(
      fc.property(traceArb, jobArb, fc.constantFrom(...POLICIES), (trace, job, policy) => {
        const decisions: Decision[] = [];
        simulateJob(job, policy, trace, { decisions });
        for (const d of decisions) {
          const synced = d.step - (d.step % trace.syncEverySteps);
          const hour = Math.floor(synced / 10);
          // The catalog as the router would have read it from the last sync, built independently.
          const offers: Offer[] = trace.markets.map((m) => ({
            ...m.offer,
            pricePerHour: { amount: m.prices[hour]!, currency: 'USD', scale: PRICE_SCALE },
            available: m.capacity[synced] === 1,
            seenAt: trace.timeAt(synced).toISOString(),
          }));
          let expected = rankOffers(offers, constraintsFromSpec(d.spec), { blocked: d.blocked, limit: CANDIDATES_PER_PASS, now: trace.timeAt(synced) }).candidates;
          if (d.lost && d.spec.recovery.strategy === 'failover') expected = sameRegionFirst(expected, d.lost);
          const key = (o: Offer) => `${o.connection}/${o.instanceTypeId}/${o.spot}`;
          assert.deepEqual(d.candidates.map(key), expected.map(key));
          const firstWithCapacity = expected.find((o) => trace.hasCapacity(trace.marketOf(o), d.step));
          assert.equal(d.chosen && key(d.chosen), firstWithCapacity && key(firstWithCapacity));
        }
      }),
      { numRuns: 300 },
    );
  });
});
