/**
 * Property tests: for random catalogs and random constraints, the chosen offer satisfies every
 * constraint (checked by an independent, deliberately naive oracle below), no cheaper satisfying
 * offer exists, every offer is either a candidate or rejected with a reason, and the ranking does
 * not depend on input order or on `limit`.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { COUNTRY_GROUPS } from '../../../src/routing/countries.js';
import type { OfferConstraints } from '../../../src/routing/constraints.js';
import type { Offer } from '../../../src/routing/offer.js';
import { explainRejection, rankOffers } from '../../../src/routing/rankOffers.js';
import { NOW, gpu } from './fixtures.js';

const MODELS = ['H100', 'A100', 'L4', 'RTX4090'] as const;
const NETS = ['', 'SXM5', 'SXM4', 'PCIe', 'NVLink'] as const;
const REGIONS = ['us-east-1', 'us-west-2', 'eu-north1', 'eu-west1', 'asia-south-1'] as const;
const COUNTRIES = ['USA', 'DEU', 'FIN', 'FRA', 'NOR', 'JPN'] as const;
const PROVIDERS = ['lambda', 'vast', 'nebius', 'cudo'] as const;

const offerArb: fc.Arbitrary<Offer> = fc
  .record({
    provider: fc.constantFrom(...PROVIDERS),
    id: fc.integer({ min: 0, max: 30 }),
    region: fc.constantFrom(...REGIONS),
    country: fc.constantFrom(...COUNTRIES),
    hasGpu: fc.integer({ min: 0, max: 9 }).map((n) => n < 8),
    model: fc.constantFrom(...MODELS),
    net: fc.constantFrom(...NETS),
    count: fc.constantFrom(1, 2, 4, 8),
    mem: fc.constantFrom(16, 24, 40, 80),
    vcpu: fc.integer({ min: 1, max: 128 }),
    ram: fc.integer({ min: 1, max: 2000 }),
    disk: sometimes(fc.integer({ min: 10, max: 4000 })),
    spot: fc.boolean(),
    // Prices at mixed scales: 2 to 8 decimals.
    amount: fc.integer({ min: 1, max: 5_000_000 }),
    scale: fc.integer({ min: 2, max: 8 }),
    available: fc.integer({ min: 0, max: 9 }).map((n) => n < 8),
    ageS: fc.integer({ min: 0, max: 2400 }),
    prio: fc.integer({ min: 0, max: 2 }),
  })
  .map((r) => ({
    connection: r.provider,
    provider: r.provider,
    instanceTypeId: `${r.region}-${r.id}`,
    type: `t${r.id}`,
    location: r.region,
    subLocation: '',
    country: r.country,
    locationPriority: r.prio,
    ...(r.hasGpu ? { gpu: gpu(r.model, r.count, r.mem, r.net) } : {}),
    vcpu: r.vcpu,
    memoryGiB: r.ram,
    ...(r.disk !== undefined ? { diskGiB: r.disk } : {}),
    spot: r.spot,
    pricePerHour: { amount: r.amount * 10 ** Math.max(0, r.scale - 6), currency: 'USD', scale: r.scale },
    available: r.available,
    seenAt: new Date(NOW.getTime() - r.ageS * 1000).toISOString(),
  }));

/** Present in about one case in six, so that random constraints still leave some offers. */
function sometimes<T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.oneof({ arbitrary: fc.constant(undefined), weight: 5 }, { arbitrary: a, weight: 1 });
}

const usd = (cents: number) => ({ amount: cents, currency: 'USD', scale: 2 });

const constraintsArb: fc.Arbitrary<OfferConstraints> = fc
  .record({
    classes: fc.subarray([...MODELS, 'H100 SXM', 'A100-80GB', '*'], { minLength: 1 }),
    count: fc.oneof({ arbitrary: fc.constantFrom(1, 2, 4, 8), weight: 1 }, { arbitrary: fc.constantFrom({ min: 1, max: 2 }, { min: 2, max: 8 }, { min: 1, max: 8 }), weight: 2 }),
    minGpuMemoryGiB: sometimes(fc.constantFrom(24, 40, 80)),
    interconnect: sometimes(fc.subarray(['SXM', 'PCIe', 'NVLink'], { minLength: 1 })),
    minVcpu: sometimes(fc.integer({ min: 1, max: 64 })),
    minMemoryGiB: sometimes(fc.integer({ min: 1, max: 1000 })),
    minDiskGiB: sometimes(fc.integer({ min: 10, max: 2000 })),
    spot: fc.constantFrom('never', 'allow', 'allow', 'only') as fc.Arbitrary<'never' | 'allow' | 'only'>,
    regions: sometimes(fc.subarray(['us-*', 'eu-north1', 'asia-*'], { minLength: 1 })),
    countries: sometimes(fc.subarray(['USA', 'EU', 'NOR', 'JPN'], { minLength: 1 })),
    allow: sometimes(fc.subarray([...PROVIDERS], { minLength: 1 })),
    deny: sometimes(fc.subarray([...PROVIDERS], { minLength: 1, maxLength: 2 })),
    prefer: sometimes(fc.shuffledSubarray([...PROVIDERS], { minLength: 1 })),
    maxPrice: sometimes(fc.integer({ min: 1, max: 5000 }).map(usd)),
    maxGpuPrice: sometimes(fc.integer({ min: 1, max: 1000 }).map(usd)),
  })
  .map((r) => ({
    gpuClasses: r.classes,
    gpuCount: r.count,
    spot: r.spot,
    ...(r.minGpuMemoryGiB !== undefined ? { minGpuMemoryGiB: r.minGpuMemoryGiB } : {}),
    ...(r.interconnect ? { gpuInterconnect: r.interconnect } : {}),
    ...(r.minVcpu !== undefined ? { minVcpu: r.minVcpu } : {}),
    ...(r.minMemoryGiB !== undefined ? { minMemoryGiB: r.minMemoryGiB } : {}),
    ...(r.minDiskGiB !== undefined ? { minDiskGiB: r.minDiskGiB } : {}),
    ...(r.regions ? { regions: r.regions } : {}),
    ...(r.countries ? { countries: r.countries } : {}),
    ...(r.allow ? { providersAllow: r.allow } : {}),
    ...(r.deny ? { providersDeny: r.deny } : {}),
    ...(r.prefer ? { providersPrefer: r.prefer } : {}),
    ...(r.maxPrice ? { maxPricePerHour: r.maxPrice } : {}),
    ...(r.maxGpuPrice ? { maxPricePerGpuHour: r.maxGpuPrice } : {}),
  }));

const MAX_AGE_MS = 30 * 60_000;

/** Price as an exact rational: BigInt numerator over 10^scale, compared by cross-multiplying. */
function cmpMoney(a: { amount: number; scale: number }, b: { amount: number; scale: number }, bTimes = 1): number {
  const x = BigInt(a.amount) * 10n ** BigInt(b.scale);
  const y = BigInt(b.amount) * BigInt(bTimes) * 10n ** BigInt(a.scale);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The oracle: the constraints as plainly as they are documented, written independently of the router. */
function satisfies(o: Offer, c: OfferConstraints): boolean {
  if (c.providersAllow && !c.providersAllow.includes(o.provider)) return false;
  if (c.providersDeny?.includes(o.provider)) return false;
  if (!o.gpu) return false;
  const g = o.gpu;
  const memGiB = g.memory.value; // fixtures use GiB
  const netOk = (want: string) =>
    want === 'SXM' ? g.networkDetails.startsWith('SXM') : want === 'NVLink' ? ['NVLink', 'NVL'].includes(g.networkDetails) || g.networkDetails.startsWith('SXM') : g.networkDetails === want;
  const classOk = c.gpuClasses.some((k) => {
    if (k === '*') return true;
    if (k === 'H100 SXM') return g.name === 'H100' && g.networkDetails.startsWith('SXM');
    if (k === 'A100-80GB') return g.name === 'A100' && memGiB >= 80;
    return g.name === k;
  });
  if (!classOk) return false;
  if (c.gpuInterconnect && !c.gpuInterconnect.some(netOk)) return false;
  const [min, max] = typeof c.gpuCount === 'number' ? [c.gpuCount, c.gpuCount] : [c.gpuCount.min, c.gpuCount.max];
  if (g.count < min || g.count > max) return false;
  if (c.minGpuMemoryGiB !== undefined && memGiB < c.minGpuMemoryGiB) return false;
  if (c.minVcpu !== undefined && o.vcpu < c.minVcpu) return false;
  if (c.minMemoryGiB !== undefined && o.memoryGiB < c.minMemoryGiB) return false;
  if (c.minDiskGiB !== undefined && o.diskGiB !== undefined && o.diskGiB < c.minDiskGiB) return false;
  if (c.spot === 'never' && o.spot) return false;
  if (c.spot === 'only' && !o.spot) return false;
  if (c.regions && !c.regions.some((r) => (r.endsWith('*') ? o.location.startsWith(r.slice(0, -1)) : o.location === r))) return false;
  if (c.countries && !c.countries.some((p) => (COUNTRY_GROUPS[p] ? COUNTRY_GROUPS[p]!.includes(o.country) : p === o.country))) return false;
  if (c.maxPricePerHour && cmpMoney(o.pricePerHour, c.maxPricePerHour) > 0) return false;
  if (c.maxPricePerGpuHour && cmpMoney(o.pricePerHour, c.maxPricePerGpuHour, g.count) > 0) return false;
  if (!o.available) return false;
  if (NOW.getTime() - Date.parse(o.seenAt) > MAX_AGE_MS) return false;
  return true;
}

const opts = { now: NOW, maxAgeMs: MAX_AGE_MS };
const RUNS = { numRuns: 300 };

describe('routing properties', () => {
  it('every candidate satisfies every constraint; every satisfying offer is a candidate', () => {
    let withCandidates = 0;
    fc.assert(
      fc.property(fc.array(offerArb, { maxLength: 80 }), constraintsArb, (offers, c) => {
        const r = rankOffers(offers, c, opts);
        if (r.candidates.length > 0) withCandidates++;
        for (const o of r.candidates) assert.ok(satisfies(o, c), `chosen but violates: ${JSON.stringify(o)}`);
        for (const x of r.rejected) assert.ok(!satisfies(x.offer, c), `rejected (${x.reason}) but satisfies: ${JSON.stringify(x.offer)}`);
        assert.equal(r.candidates.length + r.rejected.length, offers.length);
        assert.equal(r.matched, r.candidates.length);
      }),
      RUNS,
    );
    // The generators must produce matches often enough for the property to mean something.
    assert.ok(withCandidates >= RUNS.numRuns / 15, `only ${withCandidates} of ${RUNS.numRuns} runs had a candidate`);
  });

  it('no satisfying offer is cheaper than the chosen one, and candidates never get cheaper down the list', () => {
    fc.assert(
      fc.property(fc.array(offerArb, { maxLength: 60 }), constraintsArb, (offers, c) => {
        const r = rankOffers(offers, c, { ...opts, limit: 1 });
        const ok = offers.filter((o) => satisfies(o, c));
        if (ok.length === 0) return assert.equal(r.candidates.length, 0);
        const best = r.candidates[0]!;
        for (const o of ok) assert.ok(cmpMoney(o.pricePerHour, best.pricePerHour) >= 0, `cheaper satisfying offer ${JSON.stringify(o.pricePerHour)} < ${JSON.stringify(best.pricePerHour)}`);
        const all = rankOffers(offers, c, opts).candidates;
        for (let i = 1; i < all.length; i++) assert.ok(cmpMoney(all[i - 1]!.pricePerHour, all[i]!.pricePerHour) <= 0);
      }),
      RUNS,
    );
  });

  it('with spot "allow", the choice is the cheaper of what "never" and "only" would choose', () => {
    fc.assert(
      fc.property(fc.array(offerArb, { maxLength: 60 }), constraintsArb, (offers, c) => {
        const pick = (spot: OfferConstraints['spot']) => rankOffers(offers, { ...c, spot }, { ...opts, limit: 1 }).candidates[0];
        const allow = pick('allow');
        const never = pick('never');
        const only = pick('only');
        if (!never && !only) return assert.equal(allow, undefined);
        assert.ok(allow);
        const cheapest = [never, only].filter((x): x is Offer => !!x).reduce((a, b) => (cmpMoney(b.pricePerHour, a.pricePerHour) < 0 ? b : a));
        assert.equal(cmpMoney(allow.pricePerHour, cheapest.pricePerHour), 0);
      }),
      RUNS,
    );
  });

  it('the ranking depends neither on input order nor on limit; reasons agree with explainRejection', () => {
    fc.assert(
      fc.property(fc.array(offerArb, { maxLength: 50 }), constraintsArb, fc.integer({ min: 1, max: 10 }), fc.integer(), (offers, c, limit, seed) => {
        const full = rankOffers(offers, c, opts);
        const shuffled = [...offers].sort((a, b) => ((offers.indexOf(a) * 2654435761) ^ seed) - ((offers.indexOf(b) * 2654435761) ^ seed));
        const again = rankOffers(shuffled, c, opts);
        assert.deepEqual(again.candidates, full.candidates);
        assert.deepEqual(rankOffers(offers, c, { ...opts, limit }).candidates, full.candidates.slice(0, limit));
        for (const x of full.rejected) {
          assert.ok(x.reason.length > 0);
          assert.equal(x.reason, explainRejection(x.offer, c, opts));
        }
      }),
      RUNS,
    );
  });
});
