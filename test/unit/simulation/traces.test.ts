import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { changesTrace, ChangesFileSchema } from '../../../src/simulation/changesTrace.js';
import { STEPS_PER_HOUR } from '../../../src/simulation/grid.js';
import { hourlyHazard, INTERRUPTION_BANDS, poissonSteps, SeededRandom } from '../../../src/simulation/preemptionModel.js';
import { generateTrace, skypilotTrace } from '../../../src/simulation/skypilotTrace.js';
import { offer } from '../routing/fixtures.js';

describe('preemption model', () => {
  it('turns a monthly interruption share into an hourly hazard with that monthly probability', () => {
    for (const b of INTERRUPTION_BANDS) assert.ok(Math.abs(1 - Math.exp(-hourlyHazard(b.monthly) * 730) - b.monthly) < 1e-12);
  });

  it('fires preemptions at the hazard rate (Poisson), seeded', () => {
    const rate = hourlyHazard(0.25) * 50; // a stressed band, so a long run sees thousands
    const hours = 200_000;
    const n = poissonSteps(new SeededRandom(7), rate, hours * STEPS_PER_HOUR).length;
    const expected = rate * hours;
    assert.ok(Math.abs(n - expected) < 4 * Math.sqrt(expected), `${n} preemptions, expected about ${expected.toFixed(0)}`);
    assert.deepEqual(poissonSteps(new SeededRandom(7), rate, 10_000), poissonSteps(new SeededRandom(7), rate, 10_000));
  });
});

describe('SkyPilot trace', () => {
  const trace = skypilotTrace('data/skypilot-catalog', { seed: 3, hours: 72 });

  it('is the same for the same seed and differs for another', () => {
    const again = skypilotTrace('data/skypilot-catalog', { seed: 3, hours: 72 });
    const other = skypilotTrace('data/skypilot-catalog', { seed: 4, hours: 72 });
    const sig = (t: typeof trace) => t.markets.map((m) => `${m.preemptions.join(',')}|${m.prices.join(',')}|${m.capacity.join('')}`).join(';');
    assert.equal(sig(again), sig(trace));
    assert.notEqual(sig(other), sig(trace));
  });

  it('keeps on-demand prices fixed and spot prices between half the catalog price and the on-demand price', () => {
    const spot = trace.markets.filter((m) => m.offer.spot);
    assert.ok(spot.length > 20);
    for (const m of trace.markets) {
      const base = m.offer.pricePerHour.amount * 10 ** (6 - m.offer.pricePerHour.scale);
      if (!m.offer.spot) {
        assert.ok(m.prices.every((p) => p === base));
        assert.equal(m.preemptions.length, 0);
        continue;
      }
      const od = trace.markets.find((x) => !x.offer.spot && x.offer.instanceTypeId === m.offer.instanceTypeId && x.offer.connection === m.offer.connection);
      for (const p of m.prices) {
        assert.ok(Number.isInteger(p) && p % 100 === 0, 'four decimals, exact');
        assert.ok(p >= Math.round(base / 2 / 100) * 100 && (!od || p <= od.prices[0]!), `${m.offer.instanceTypeId}: ${p} outside [${base / 2}, ${od?.prices[0]}]`);
      }
      assert.ok(m.band);
    }
  });

  it('shows the router the catalog as last synced: capacity can be stale at a create', () => {
    const view = trace.catalogAt(15);
    assert.equal(view.step, 10);
    const i = trace.markets.findIndex((m) => m.capacity[10] !== m.capacity[15]);
    assert.ok(i >= 0, 'some market changed capacity within the hour');
    assert.equal(view.offers[i]!.available, trace.markets[i]!.capacity[10] === 1);
  });

  it('a trace has only GPU markets', () => {
    const t = generateTrace([offer({ gpu: undefined, instanceTypeId: 'cpu' }), offer({ instanceTypeId: 'gpu' })], { seed: 1, hours: 2 }, 'x');
    assert.deepEqual(t.markets.map((m) => m.offer.instanceTypeId), ['gpu']);
  });
});

describe('trace from catalog changes', () => {
  const base = [offer({ connection: 'lambda', instanceTypeId: 'a', price: '2.00' }), offer({ connection: 'lambda', instanceTypeId: 'a', price: '0.90', spot: true }), offer({ connection: 'lambda', instanceTypeId: 'b', price: '3.00' })];
  const changes = ChangesFileSchema.parse([
    { at: '2026-02-01T00:30:00Z', connection: 'lambda', seq: 1, kind: 'changed', id: 'a', what: 'x', changes: [{ field: 'on-demand price', from: '2.50 USD', to: '2.20 USD' }] },
    { at: '2026-02-01T02:10:00Z', connection: 'lambda', seq: 2, kind: 'changed', id: 'a', what: 'x', changes: [{ field: 'on-demand price', from: '2.20 USD', to: '2.00 USD' }, { field: 'availability', from: 'unavailable', to: 'available' }] },
    { at: '2026-02-01T03:00:00Z', connection: 'lambda', seq: 3, kind: 'added', id: 'b', what: 'y' },
    { at: '2026-02-01T03:00:00Z', connection: 'other', seq: 1, kind: 'added', id: 'zzz', what: 'z' },
  ]);
  const { trace, unmatched, applied } = changesTrace(base, changes, { seed: 1, hoursAfter: 5 }, 'test');
  const od = trace.markets.find((m) => m.offer.instanceTypeId === 'a' && !m.offer.spot)!;
  const b = trace.markets.find((m) => m.offer.instanceTypeId === 'b')!;

  it('rewinds from the base catalog and replays the history hour by hour, ending where the base is', () => {
    assert.equal(trace.start.toISOString(), '2026-02-01T00:00:00.000Z');
    assert.equal(trace.hours, 8); // 3 hours of history (from the hour of the first change) + 5 after
    assert.deepEqual([...od.prices.slice(0, 4)], [2_200_000, 2_200_000, 2_000_000, 2_000_000]);
    assert.equal(od.capacity[0], 0, 'unavailable before the change that made it available');
    assert.equal(od.capacity[2 * STEPS_PER_HOUR], 1);
    assert.equal(b.capacity[2 * STEPS_PER_HOUR], 0, 'not listed before it was added');
    assert.equal(b.capacity[3 * STEPS_PER_HOUR], 1);
    assert.equal(unmatched, 1);
    assert.equal(applied, 3);
  });

  it('rejects a file that is not `catalog changes --json` output', () => {
    assert.throws(() => ChangesFileSchema.parse([{ at: 'yesterday', connection: 'x' }]));
    assert.throws(() => ChangesFileSchema.parse([]), /no changes/);
  });
});
