import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { toDecimalString } from '../../../src/money/money.js';
import { decideMove, DEFAULT_REBALANCE, lostProgressMs, parseMoveTarget, placementViolation, type CurrentPlacement } from '../../../src/workflows/migrationPolicy.js';
import { parseWorkloadSpec } from '../../../src/workload/spec.js';
import { offer, usd } from '../routing/fixtures.js';

const here: CurrentPlacement = { connection: 'lambda', provider: 'lambda', instanceTypeId: 'it-here', location: 'us-east-1', country: 'USA', spot: false, pricePerHour: usd('2.00') };
const self = offer({ instanceTypeId: 'it-here', price: '2.00' });
const settings = { ...DEFAULT_REBALANCE, minSavingsPercent: 10, horizon: 3_600_000, provisionEstimate: 300_000, resyncEstimate: 60_000 };

describe('migration decision: rebalance', () => {
  it('moves when the cheaper offer pays for the move', () => {
    const cheap = offer({ location: 'eu-central-1', country: 'DEU', price: '1.00' });
    const d = decideMove({ trigger: 'rebalance', current: here, candidates: [cheap, self], settings, runningForMs: 600_000 });
    assert.equal(d.move, true);
    assert.ok(d.move);
    assert.equal(d.reason, 'rebalance');
    assert.equal(d.target, cheap);
    assert.equal(toDecimalString(d.savingPerHour), '1.00');
    // 1.00/h × (5 + 1) min = 0.10
    assert.equal(Number(toDecimalString(d.moveCost)), 0.1);
    // saving 1.00/h × 55 min = 0.91666…, minus 0.10
    assert.ok(Number(toDecimalString(d.netSaving!)) > 0.81 && Number(toDecimalString(d.netSaving!)) < 0.82);
  });

  it('stays when the only cheaper offer saves less than minSavingsPercent', () => {
    const d = decideMove({ trigger: 'rebalance', current: here, candidates: [offer({ price: '1.85' }), self], settings, runningForMs: 0 });
    assert.equal(d.move, false);
    assert.match(d.why, /under placement\.rebalance\.minSavingsPercent 10/);
  });

  it('stays when the saving over the time left does not cover provisioning, re-sync and lost progress', () => {
    const cheap = offer({ price: '1.50' });
    // 10 minutes left: 5 of them provisioning; saving 0.50/h × 5 min ≈ 0.042 < 1.50/h × 6 min = 0.15.
    const d = decideMove({ trigger: 'rebalance', current: here, candidates: [cheap], settings, runningForMs: 0, remainingMs: 600_000 });
    assert.equal(d.move, false);
    assert.match(d.why, /not more than the move's estimated 0\.15/);
    // The same offer pays with an hour left.
    assert.equal(decideMove({ trigger: 'rebalance', current: here, candidates: [cheap], settings, runningForMs: 0 }).move, true);
  });

  it('counts the progress since the last checkpoint as part of the move cost', () => {
    const s = { ...settings, checkpointInterval: 1_800_000, horizon: 1_800_000 };
    assert.equal(lostProgressMs(s, 2_100_000), 300_000);
    const cheap = offer({ price: '1.00' });
    // Just after a checkpoint: little to redo, it pays; 29 min after one: it does not.
    assert.equal(decideMove({ trigger: 'rebalance', current: here, candidates: [cheap], settings: s, runningForMs: 0 }).move, true);
    const late = decideMove({ trigger: 'rebalance', current: here, candidates: [cheap], settings: s, runningForMs: 24 * 60_000 });
    assert.equal(late.move, false);
  });

  it('never moves to the market it is on, nor across currencies without a rate', () => {
    const eur = offer({ price: '0.10', pricePerHour: { amount: 10, currency: 'EUR', scale: 2 } });
    const d = decideMove({ trigger: 'rebalance', current: here, candidates: [self, eur], settings, runningForMs: 0 });
    assert.equal(d.move, false);
    assert.match(d.why, /no other satisfying offer/);
  });
});

describe('migration decision: residency and by hand', () => {
  it('a placement that no longer satisfies the countries must move, whatever the price', () => {
    const spec = parseWorkloadSpec({ name: 'r', command: 'true', gpu: { classes: ['H100'] }, placement: { countries: ['DE', 'FI'] } });
    assert.match(placementViolation(spec, here) ?? '', /country USA is no longer in placement\.countries \(DEU, FIN\)/);
    assert.equal(placementViolation(spec, { country: 'DEU', location: 'x' }), undefined);
    const pricier = offer({ location: 'eu-central-1', country: 'DEU', price: '3.00' });
    const d = decideMove({ trigger: 'residency', current: here, candidates: [pricier], settings, runningForMs: 0 });
    assert.ok(d.move);
    assert.equal(d.reason, 'residency');
    assert.equal(d.target, pricier);
    const none = decideMove({ trigger: 'residency', current: here, candidates: [], settings, runningForMs: 0 });
    assert.equal(none.move, false);
  });

  it('EU groups expand when checking residency', () => {
    const spec = parseWorkloadSpec({ name: 'r', command: 'true', gpu: { classes: ['H100'] }, placement: { countries: ['EU'] } });
    assert.equal(placementViolation(spec, { country: 'DEU', location: 'x' }), undefined);
    assert.ok(placementViolation(spec, here));
  });

  it('by hand goes to the cheapest offer on the named provider/region', () => {
    const a = offer({ connection: 'aws', provider: 'aws', location: 'eu-west-1', price: '1.00' });
    const b = offer({ connection: 'runpod', provider: 'runpod', location: 'EU-RO-1', price: '2.50' });
    const d = decideMove({ trigger: 'manual', current: here, candidates: [a, b], settings, runningForMs: 0, to: parseMoveTarget('runpod/EU-RO-1') });
    assert.ok(d.move);
    assert.equal(d.target, b, 'the named target wins over a cheaper one');
    const none = decideMove({ trigger: 'manual', current: here, candidates: [a, b], settings, runningForMs: 0, to: parseMoveTarget('fluidstack') });
    assert.equal(none.move, false);
    assert.match(none.why, /no satisfying offer with capacity on fluidstack/);
    assert.throws(() => parseMoveTarget('a/b/c'), /must be provider\/region/);
  });

  it('the spec validates placement.rebalance', () => {
    assert.throws(() => parseWorkloadSpec({ name: 'r', command: 'true', gpu: { classes: ['H100'] }, placement: { rebalance: {} } }), /placement\.rebalance: placement\.rebalance needs a checkpoint location/);
    const s = parseWorkloadSpec({ name: 'r', command: 'true', gpu: { classes: ['H100'] }, checkpoint: { dir: '/ckpt' }, placement: { rebalance: { interval: '30s', checkpointInterval: '10m' }, residencyDeadline: '5m' } });
    assert.equal(s.placement.rebalance?.interval, 30_000);
    assert.equal(s.placement.rebalance?.minSavingsPercent, 10);
    assert.equal(s.placement.residencyDeadline, 300_000);
  });
});
