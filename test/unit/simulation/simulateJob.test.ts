/** Hand-built traces where the right answer can be worked out on paper. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { toDecimal, transformScale, type Money } from '../../../src/money/money.js';
import type { Offer } from '../../../src/routing/offer.js';
import { STEPS_PER_HOUR } from '../../../src/simulation/grid.js';
import type { SimJob } from '../../../src/simulation/mix.js';
import { oracleJob } from '../../../src/simulation/oracle.js';
import { POLICIES, type Policy } from '../../../src/simulation/policies.js';
import { idleTailMs, simulateJob, type Decision } from '../../../src/simulation/simulateJob.js';
import { Trace, type Market } from '../../../src/simulation/trace.js';
import { WorkloadSpecSchema } from '../../../src/workload/spec.js';
import { gpu, NOW, usd } from '../routing/fixtures.js';

const HOURS = 10;
const STEPS = HOURS * STEPS_PER_HOUR;

function market(id: string, location: string, spot: boolean, pricePerHour: number, over: Partial<Market> = {}, country = 'FIN'): Market {
  const offer: Offer = {
    connection: 'verda',
    provider: 'verda',
    instanceTypeId: id,
    type: '1H100',
    location,
    subLocation: '',
    country,
    locationPriority: 0,
    gpu: gpu('H100', 1, 80),
    vcpu: 16,
    memoryGiB: 128,
    spot,
    pricePerHour: usd('1.00'),
    available: true,
    seenAt: NOW.toISOString(),
  };
  return { offer, prices: new Float64Array(HOURS).fill(pricePerHour), capacity: new Uint8Array(STEPS).fill(1), preemptions: [], ...over };
}

function job(over: Partial<SimJob> = {}, spec: Record<string, unknown> = {}): SimJob {
  return {
    id: 'j',
    spec: WorkloadSpecSchema.parse({ name: 'j', command: 'x', gpu: { classes: ['H100'] }, spot: 'allow', retryUntilUp: '5h', ...spec }),
    submitStep: 0,
    workSteps: 20,
    checkpointSteps: 5,
    startupSteps: 1,
    idleTailMs: 0,
    ...over,
  };
}

const policy = (name: string): Policy => POLICIES.find((p) => p.name === name)!;
const usdText = (m: Money) => toDecimal(transformScale(m, 2));

describe('simulateJob', () => {
  it('runs on the cheapest market and bills startup and work per step', () => {
    const trace = new Trace(NOW, HOURS, [market('od', 'FIN-01', false, 2_000_000), market('sp', 'FIN-01', true, 800_000)], { kind: 'skypilot', description: 't' });
    const r = simulateJob(job(), policy('default'), trace);
    assert.equal(r.doneStep, 21);
    assert.equal(usdText(r.cost), '1.68'); // 21 steps × 0.1 h × 0.80
    const od = simulateJob(job(), policy('on-demand-only'), trace);
    assert.equal(usdText(od.cost), '4.20');
  });

  it('migrate: a checkpointing job moves when another market turns cheaper for long enough, by the workflow\'s rule', () => {
    // sp1 costs 0.80/h, then 3.00/h from hour 2; sp2 stays at 1.00/h. 60 work steps (6 h).
    const prices = new Float64Array(HOURS).fill(3_000_000);
    prices[0] = 800_000;
    prices[1] = 800_000;
    const trace = new Trace(NOW, HOURS, [market('sp1', 'FIN-01', true, 800_000, { prices }), market('sp2', 'FIN-02', true, 1_000_000)], { kind: 'skypilot', description: 't' });
    const stay = simulateJob(job({ workSteps: 60 }), policy('spot-allow'), trace);
    const moved = simulateJob(job({ workSteps: 60 }), policy('migrate'), trace);
    assert.equal(stay.migrations, 0);
    assert.equal(moved.migrations, 1);
    assert.deepEqual(moved.instances.map((i) => trace.markets[i.market]!.offer.instanceTypeId), ['sp1', 'sp2']);
    // The move starts at the first hourly check after the price rise (step 21), paid with overlap: cheaper all the same.
    assert.equal(moved.instances[1]!.from, 21);
    assert.ok(Number(toDecimal(moved.cost)) < Number(toDecimal(stay.cost)), `${usdText(moved.cost)} < ${usdText(stay.cost)}`);
    // A job without checkpoints never moves.
    assert.equal(simulateJob(job({ workSteps: 60, checkpointSteps: Infinity }), policy('migrate'), trace).migrations, 0);
  });

  it('a preemption keeps the work up to the last checkpoint and recovers in another region (eager-next-region)', () => {
    const trace = new Trace(
      NOW,
      HOURS,
      [market('sp1', 'FIN-01', true, 800_000, { preemptions: [14] }), market('sp2', 'FIN-02', true, 900_000), market('od', 'FIN-01', false, 2_000_000)],
      { kind: 'skypilot', description: 't' },
    );
    const decisions: Decision[] = [];
    const r = simulateJob(job(), policy('eager-next-region'), trace, { decisions });
    // steps 0-13 on sp1: 1 startup + 13 work, 10 saved (checkpoints every 5), 3 lost.
    assert.equal(r.preemptions, 1);
    assert.equal(r.lostWorkSteps, 3);
    assert.deepEqual(r.instances.map((i) => [trace.markets[i.market]!.offer.instanceTypeId, i.from, i.to, i.savedWorkSteps]), [
      ['sp1', 0, 14, 10],
      ['sp2', 14, 25, 10],
    ]);
    assert.equal(decisions[1]!.blocked[0]!.reason, 'InstanceLost');
    assert.equal(r.doneStep, 25);
  });

  it('failover tries the lost region first; a stale catalog makes the create fail there and it moves on', () => {
    // sp1 is preempted at 14 and has no capacity after, but the hourly catalog still says it has.
    const cap = new Uint8Array(STEPS).fill(1);
    cap.fill(0, 14, 40);
    const trace = new Trace(
      NOW,
      HOURS,
      [market('sp1', 'FIN-01', true, 800_000, { preemptions: [14], capacity: cap }), market('sp2', 'FIN-02', true, 900_000)],
      { kind: 'skypilot', description: 't' },
    );
    const decisions: Decision[] = [];
    const r = simulateJob(job(), policy('failover'), trace, { decisions });
    assert.equal(decisions[1]!.candidates[0]!.instanceTypeId, 'sp1');
    assert.equal(r.createFailures, 1);
    assert.equal(decisions[1]!.chosen!.instanceTypeId, 'sp2');
  });

  it('eager-next-region falls back to the lost region when nothing else has capacity', () => {
    const trace = new Trace(NOW, HOURS, [market('sp1', 'FIN-01', true, 800_000, { preemptions: [14] }), market('sp2', 'FIN-02', true, 900_000, { capacity: new Uint8Array(STEPS) })], {
      kind: 'skypilot',
      description: 't',
    });
    const r = simulateJob(job({}, { spot: 'only' }), policy('eager-next-region'), trace);
    assert.equal(r.doneStep, 25);
    assert.deepEqual(r.instances.map((i) => trace.markets[i.market]!.offer.instanceTypeId), ['sp1', 'sp1']);
  });

  it('fails like the workflow: no matching offer, recovery limit', () => {
    const trace = new Trace(NOW, HOURS, [market('sp1', 'FIN-01', true, 800_000, { preemptions: [5, 10, 15] })], { kind: 'skypilot', description: 't' });
    assert.equal(simulateJob(job({}, { gpu: { classes: ['A100'] } }), policy('default'), trace).failed, 'NoMatchingOffer');
    assert.equal(simulateJob(job({}, { recovery: { maxRecoveries: 1 } }), policy('default'), trace).failed, 'RecoveryLimitReached');
  });

  it('spot-never keeps jobs that do not tolerate spot on-demand under every policy', () => {
    const trace = new Trace(NOW, HOURS, [market('od', 'FIN-01', false, 2_000_000), market('sp', 'FIN-01', true, 800_000)], { kind: 'skypilot', description: 't' });
    for (const p of POLICIES) assert.equal(simulateJob(job({}, { spot: 'never' }), p, trace).instances.every((i) => !trace.markets[i.market]!.offer.spot), true, p.name);
  });

  it('the oracle skips the preemption instead of losing work', () => {
    const trace = new Trace(NOW, HOURS, [market('sp1', 'FIN-01', true, 800_000, { preemptions: [14] }), market('od', 'FIN-01', false, 2_000_000)], { kind: 'skypilot', description: 't' });
    // With time to spare, one uninterrupted run after the preemption is cheapest (one startup).
    const free = oracleJob(job(), trace);
    assert.deepEqual(free.instances.map((i) => [i.from, i.to]), [[14, 35]]);
    assert.equal(usdText(free.cost), '1.68');
    // Done by step 25: sp1 0-11 (10 work saved at the checkpoint), then 14-25; never the lost 3 steps.
    const o = oracleJob(job(), trace, 25);
    assert.deepEqual(o.instances.map((i) => [i.from, i.to]), [[0, 11], [14, 25]]);
    assert.equal(usdText(o.cost), '1.76');
  });
});

describe('idle tail', () => {
  const cfg = { autoShutdown: { idleWindow: '5m', sampleInterval: '30s' } };
  it('auto-shutdown stops the instance at the first sample a whole idle window after the work ended', () => {
    const spec = job({}, cfg).spec;
    // Watchers start at 0; work ends at 100 s: first idle sample at 120 s, shutdown at 420 s.
    assert.equal(idleTailMs(spec, 3_600_000, 0, 100_000, 0), 320_000);
  });
  it('without auto-shutdown, the whole tail bills; a short tail ends before the window', () => {
    assert.equal(idleTailMs(job({}, { autoShutdown: 'off' }).spec, 3_600_000, 0, 100_000, 0), 3_600_000);
    assert.equal(idleTailMs(job({}, cfg).spec, 60_000, 0, 100_000, 0), 60_000);
  });
  it('lifecycle.maxDuration caps the tail', () => {
    assert.equal(idleTailMs(job({}, { autoShutdown: 'off', lifecycle: { maxDuration: '1h' } }).spec, 7_200_000, 0, 1_800_000, 0), 1_800_000);
  });
});
