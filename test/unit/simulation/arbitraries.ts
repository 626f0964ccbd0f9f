/** Random small traces and jobs for the simulator's property tests. */
import fc from 'fast-check';
import type { Offer } from '../../../src/routing/offer.js';
import { STEPS_PER_HOUR } from '../../../src/simulation/grid.js';
import type { SimJob } from '../../../src/simulation/mix.js';
import { Trace, type Market } from '../../../src/simulation/trace.js';
import { WorkloadSpecSchema } from '../../../src/workload/spec.js';
import { gpu, NOW, usd } from '../routing/fixtures.js';

const REGIONS = [
  { location: 'us-east-1', country: 'USA' },
  { location: 'eu-north1', country: 'FIN' },
  { location: 'eu-west1', country: 'FRA' },
] as const;
const PROVIDERS = ['lambda', 'nebius', 'verda'] as const;

export const HOURS = 16;
const STEPS = HOURS * STEPS_PER_HOUR;

const marketArb = fc.record({
  provider: fc.constantFrom(...PROVIDERS),
  region: fc.constantFrom(...REGIONS),
  zone: fc.constantFrom('', 'a', 'b'),
  model: fc.constantFrom('H100', 'A100'),
  spot: fc.integer({ min: 0, max: 2 }).map((n) => n > 0),
  /** Hourly prices, scale 6, multiples of 100 (4 decimals). */
  prices: fc.array(fc.integer({ min: 2_000, max: 40_000 }).map((n) => n * 100), { minLength: HOURS, maxLength: HOURS }),
  /** Capacity spells: alternating up/down lengths in steps. */
  spells: fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 8 }),
  startsUp: fc.integer({ min: 0, max: 9 }).map((n) => n < 8),
  preemptions: fc.uniqueArray(fc.integer({ min: 1, max: STEPS - 1 }), { maxLength: 15 }),
});

export const traceArb: fc.Arbitrary<Trace> = fc.tuple(fc.array(marketArb, { minLength: 1, maxLength: 7 }), fc.constantFrom(1, 5, 10)).map(([raw, syncEvery]) => {
  const markets: Market[] = raw.map((r, i) => {
    const capacity = new Uint8Array(STEPS);
    let s = 0;
    let up = r.startsUp;
    for (let k = 0; s < STEPS; k++) {
      const len = r.spells[k % r.spells.length]!;
      if (up) capacity.fill(1, s, Math.min(STEPS, s + len));
      s += len;
      up = !up;
    }
    const offer: Offer = {
      connection: r.provider,
      provider: r.provider,
      instanceTypeId: `m${i}-${r.model}`,
      type: `1x-${r.model}`,
      location: r.region.location,
      subLocation: r.zone,
      country: r.region.country,
      locationPriority: 0,
      gpu: gpu(r.model, 1, 80),
      vcpu: 16,
      memoryGiB: 128,
      spot: r.spot,
      pricePerHour: usd('1.00'),
      available: true,
      seenAt: NOW.toISOString(),
    };
    const preemptions = r.spot ? [...r.preemptions].sort((a, b) => a - b) : [];
    for (const p of preemptions) capacity.fill(0, p, Math.min(STEPS, p + 3));
    return { offer, prices: Float64Array.from(r.prices), capacity, preemptions };
  });
  return new Trace(NOW, HOURS, markets, { kind: 'skypilot', description: 'property test' }, syncEvery);
});

export const jobArb: fc.Arbitrary<SimJob> = fc
  .record({
    classes: fc.constantFrom(['H100'], ['A100'], ['H100', 'A100']),
    spot: fc.constantFrom('never', 'allow', 'allow', 'only'),
    strategy: fc.constantFrom('eager-next-region', 'failover'),
    countries: fc.option(fc.constantFrom(['FIN'], ['EU'], ['USA']), { nil: undefined }),
    maxPrice: fc.option(fc.constantFrom('2.00', '3.00'), { nil: undefined }),
    autoShutdown: fc.boolean(),
    submitStep: fc.integer({ min: 0, max: 20 }),
    workSteps: fc.integer({ min: 1, max: 60 }),
    checkpointSteps: fc.option(fc.integer({ min: 1, max: 10 }), { nil: undefined }),
    startupSteps: fc.integer({ min: 0, max: 3 }),
    idleTailMs: fc.constantFrom(0, 60_000, 1_800_000),
  })
  .map((r) => ({
    id: 'job',
    spec: WorkloadSpecSchema.parse({
      name: 'job',
      command: 'simulated',
      gpu: { classes: r.classes },
      spot: r.spot,
      retryUntilUp: '6h',
      recovery: { strategy: r.strategy, maxRecoveries: 10 },
      ...(r.countries ? { placement: { countries: r.countries } } : {}),
      ...(r.maxPrice ? { maxPricePerHour: r.maxPrice } : {}),
      autoShutdown: r.autoShutdown ? {} : 'off',
    }),
    submitStep: r.submitStep,
    workSteps: r.workSteps,
    checkpointSteps: r.checkpointSteps ?? Infinity,
    startupSteps: r.startupSteps,
    idleTailMs: r.idleTailMs,
  }));
