/** Ranking: price order, spot "allow", deterministic tie-breaks, staleness, blocked scopes, limits. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bytes } from '../../../src/providers/sdk/bytes.js';
import type { InstanceType, Location } from '../../../src/providers/sdk/types.js';
import { constraintsFromSpec, type BlockedScope } from '../../../src/routing/constraints.js';
import { offersFromInstanceTypes } from '../../../src/routing/offer.js';
import { indexOffers, priceText, rankOffers, staleAfterPolls } from '../../../src/routing/rankOffers.js';
import { summarizeRejections } from '../../../src/routing/explain.js';
import { parseWorkloadSpec } from '../../../src/workload/spec.js';
import { NOW, constraints, offer, usd } from './fixtures.js';

const ids = (os: { instanceTypeId: string; spot?: boolean }[]) => os.map((o) => o.instanceTypeId);

describe('rankOffers: price', () => {
  it('cheapest effective hourly price first, exactly (no float rounding)', () => {
    const offers = [offer({ instanceTypeId: 'c', price: '0.30000001' }), offer({ instanceTypeId: 'a', price: '0.1' }), offer({ instanceTypeId: 'b', price: '0.3' })];
    assert.deepEqual(ids(rankOffers(offers, constraints(), { now: NOW }).candidates), ['a', 'b', 'c']);
  });

  it('compares prices written at different scales', () => {
    const offers = [offer({ instanceTypeId: 'x', pricePerHour: { amount: 250, currency: 'USD', scale: 2 } }), offer({ instanceTypeId: 'y', pricePerHour: { amount: 2499999, currency: 'USD', scale: 6 } })];
    assert.deepEqual(ids(rankOffers(offers, constraints(), { now: NOW }).candidates), ['y', 'x']);
  });
});

describe('rankOffers: spot "allow" takes the cheapest available market', () => {
  const od = offer({ instanceTypeId: 'h100', spot: false, price: '2.49' });
  const sp = offer({ instanceTypeId: 'h100', spot: true, price: '1.29' });
  it('spot when it is cheaper and available', () => {
    const r = rankOffers([od, sp], constraints({ spot: 'allow' }), { now: NOW });
    assert.equal(r.candidates[0], sp);
    assert.equal(r.candidates[1], od, 'on-demand stays as the fallback candidate');
  });
  it('on-demand when spot has no capacity', () => {
    const r = rankOffers([od, { ...sp, available: false }], constraints({ spot: 'allow' }), { now: NOW });
    assert.deepEqual(r.candidates, [od]);
  });
  it('on-demand when it is cheaper than spot', () => {
    const r = rankOffers([od, { ...sp, pricePerHour: usd('2.60') }], constraints({ spot: 'allow' }), { now: NOW });
    assert.equal(r.candidates[0], od);
  });
  it('never and only keep to one market', () => {
    assert.deepEqual(rankOffers([od, sp], constraints({ spot: 'never' }), { now: NOW }).candidates, [od]);
    assert.deepEqual(rankOffers([od, sp], constraints({ spot: 'only' }), { now: NOW }).candidates, [sp]);
  });
});

describe('rankOffers: deterministic tie-breaks', () => {
  const t = (s: number) => new Date(NOW.getTime() - s * 1000).toISOString();
  it('provider preference, then location priority, then freshness, then IDs', () => {
    const a = offer({ connection: 'vast', provider: 'vast', instanceTypeId: 'a' });
    const b = offer({ connection: 'nebius', provider: 'nebius', instanceTypeId: 'b' });
    const c = offer({ connection: 'lambda', instanceTypeId: 'c', locationPriority: 2 });
    const d = offer({ connection: 'lambda', instanceTypeId: 'd', locationPriority: 2, seenAt: t(10) });
    const e = offer({ connection: 'lambda', instanceTypeId: 'e', locationPriority: 2, seenAt: t(10) });
    const f = offer({ connection: 'lambda', instanceTypeId: 'f', locationPriority: 5, price: '2.50' });
    const all = [f, e, d, c, b, a];
    const c1 = constraints({ providersPrefer: ['nebius', 'vast'] });
    assert.deepEqual(ids(rankOffers(all, c1, { now: NOW }).candidates), ['b', 'a', 'c', 'd', 'e', 'f']);
    // Without a preference, location priority and freshness decide; then connection and ID names.
    assert.deepEqual(ids(rankOffers(all, constraints(), { now: NOW }).candidates), ['c', 'd', 'e', 'b', 'a', 'f']);
  });

  it('preference by provider name or connection name, the earlier of the two', () => {
    const a = offer({ connection: 'lambda-2', provider: 'lambda', instanceTypeId: 'a' });
    const b = offer({ connection: 'my-vast', provider: 'vast', instanceTypeId: 'b' });
    assert.deepEqual(ids(rankOffers([a, b], constraints({ providersPrefer: ['my-vast', 'lambda'] }), { now: NOW }).candidates), ['b', 'a']);
  });

  it('the same ranking whatever the input order', () => {
    const offers = Array.from({ length: 40 }, (_, i) => offer({ instanceTypeId: `o${i % 7}`, connection: `c${i % 3}`, spot: i % 2 === 0, price: String(1 + (i % 4)) }));
    const c = constraints({ spot: 'allow' });
    const ref = rankOffers(offers, c, { now: NOW }).candidates;
    const reversed = rankOffers([...offers].reverse(), c, { now: NOW }).candidates;
    assert.deepEqual(reversed, ref);
  });
});

describe('rankOffers: stale offers are never chosen', () => {
  const seen = (minutesAgo: number) => new Date(NOW.getTime() - minutesAgo * 60_000).toISOString();
  it('one max age for all', () => {
    const old = offer({ instanceTypeId: 'old', price: '1', seenAt: seen(20) });
    const fresh = offer({ instanceTypeId: 'fresh', price: '2', seenAt: seen(1) });
    const r = rankOffers([old, fresh], constraints(), { now: NOW, maxAgeMs: 15 * 60_000 });
    assert.deepEqual(ids(r.candidates), ['fresh']);
    assert.equal(r.rejected[0]!.kind, 'stale');
    assert.equal(r.rejected[0]!.reason, 'offer is stale: last seen 20m ago, max age 15m');
  });

  it('per connection or provider: a multiple of each provider poll time', () => {
    const lambda = offer({ connection: 'lambda', instanceTypeId: 'l', price: '1', seenAt: seen(4) });
    const vast = offer({ connection: 'vast', provider: 'vast', instanceTypeId: 'v', price: '1', seenAt: seen(4) });
    const other = offer({ connection: 'x', provider: 'x', instanceTypeId: 'x', price: '1', seenAt: seen(4) });
    const maxAge = staleAfterPolls({ lambda: 60_000, vast: 120_000 }); // 3 polls: 3m and 6m
    assert.deepEqual(maxAge, { lambda: 180_000, vast: 360_000 });
    assert.deepEqual(ids(rankOffers([lambda, vast, other], constraints(), { now: NOW, maxAgeMs: maxAge }).candidates), ['v', 'x']);
    assert.deepEqual(ids(rankOffers([lambda, vast, other], constraints(), { now: NOW, maxAgeMs: { ...maxAge, '*': 60_000 } }).candidates), ['v']);
    const fn = (connection: string) => (connection === 'vast' ? 60_000 : undefined);
    assert.deepEqual(ids(rankOffers([lambda, vast, other], constraints(), { now: NOW, maxAgeMs: fn }).candidates), ['l', 'x']);
  });

  it('an unreadable seenAt is stale', () => {
    const r = rankOffers([offer({ seenAt: 'yesterday' })], constraints(), { now: NOW, maxAgeMs: 60_000 });
    assert.equal(r.candidates.length, 0);
    assert.match(r.rejected[0]!.reason, /last seen time "yesterday" is not a time/);
  });
});

describe('rankOffers: blocked scopes', () => {
  const a = offer({ connection: 'lambda', location: 'us-east-1', subLocation: 'a', type: 't1', instanceTypeId: 'i1' });
  const aSpot = { ...a, spot: true };
  const b = offer({ connection: 'lambda', location: 'us-east-1', subLocation: 'a', type: 't2', instanceTypeId: 'i2' });
  const c = offer({ connection: 'lambda', location: 'us-west-1', subLocation: '', type: 't1', instanceTypeId: 'i3' });
  const d = offer({ connection: 'vast', provider: 'vast', location: 'us-east-1', subLocation: 'a', type: 't1', instanceTypeId: 'i1' });
  const all = [a, aSpot, b, c, d];
  const left = (blocked: BlockedScope[]) => rankOffers(all, constraints({ spot: 'allow' }), { now: NOW, blocked }).candidates.map((o) => `${o.connection}/${o.instanceTypeId}${o.spot ? '/spot' : ''}`).sort();
  it('offer: that instance type in that market (or both when spot is unset)', () => {
    assert.deepEqual(left([{ connection: 'lambda', scope: 'offer', instanceTypeId: 'i1', spot: false, reason: 'X' }]), ['lambda/i1/spot', 'lambda/i2', 'lambda/i3', 'vast/i1']);
    assert.deepEqual(left([{ connection: 'lambda', scope: 'offer', instanceTypeId: 'i1', reason: 'X' }]), ['lambda/i2', 'lambda/i3', 'vast/i1']);
  });
  it('zone: that type in that zone (any type when unset)', () => {
    assert.deepEqual(left([{ connection: 'lambda', scope: 'zone', location: 'us-east-1', subLocation: 'a', type: 't1', reason: 'X' }]), ['lambda/i2', 'lambda/i3', 'vast/i1']);
    assert.deepEqual(left([{ connection: 'lambda', scope: 'zone', location: 'us-east-1', subLocation: 'a', reason: 'X' }]), ['lambda/i3', 'vast/i1']);
  });
  it('region and provider, only on that connection', () => {
    assert.deepEqual(left([{ connection: 'lambda', scope: 'region', location: 'us-east-1', reason: 'X' }]), ['lambda/i3', 'vast/i1']);
    assert.deepEqual(left([{ connection: 'lambda', scope: 'provider', reason: 'X' }]), ['vast/i1']);
  });
  it('says which block and why', () => {
    const r = rankOffers([a], constraints(), { now: NOW, blocked: [{ connection: 'lambda', scope: 'region', location: 'us-east-1', reason: 'InsufficientCapacity' }] });
    assert.equal(r.rejected[0]!.reason, 'blocked after an earlier failure (region: InsufficientCapacity)');
    assert.equal(r.rejected[0]!.kind, 'blocked');
  });
});

describe('rankOffers: limit, explain and serialization', () => {
  const offers = Array.from({ length: 200 }, (_, i) => offer({ instanceTypeId: `i${i}`, price: (((i * 7919) % 97) / 10 + 1).toFixed(2), spot: i % 3 === 0, locationPriority: i % 4 }));
  it('limit keeps the best N, identical to a full sort cut to N; matched counts all', () => {
    const c = constraints({ spot: 'allow' });
    const full = rankOffers(offers, c, { now: NOW });
    for (const limit of [1, 5, 25, 199, 500]) {
      const r = rankOffers(offers, c, { now: NOW, limit });
      assert.deepEqual(r.candidates, full.candidates.slice(0, limit), `limit ${limit}`);
      assert.equal(r.matched, full.candidates.length);
    }
  });
  it('explain: false skips the rejected list', () => {
    const r = rankOffers(offers, constraints(), { now: NOW, explain: false });
    assert.equal(r.rejected.length, 0);
    assert.equal(r.matched, offers.filter((o) => !o.spot).length);
  });
  it('rejected offers serialize with their reason and kind (activity payloads are JSON)', () => {
    const r = rankOffers([offer({ spot: true }), offer()], constraints(), { now: NOW });
    const json = JSON.parse(JSON.stringify(r.rejected)) as { reason: string; kind: string; offer: { spot: boolean } }[];
    assert.deepEqual(json.map((x) => [x.kind, x.reason, x.offer.spot]), [['market', 'spot not allowed', true]]);
    // The whole ranking too: `rejected` is built on first read but is an ordinary enumerable field.
    const whole = JSON.parse(JSON.stringify(rankOffers([offer({ spot: true }), offer()], constraints(), { now: NOW }))) as { candidates: unknown[]; matched: number; rejected: { reason: string }[] };
    assert.deepEqual([whole.candidates.length, whole.matched, whole.rejected.map((x) => x.reason)], [1, 1, ['spot not allowed']]);
  });

  it('an index built once gives the same rankings as the plain array', () => {
    const index = indexOffers(offers);
    for (const c of [constraints({ spot: 'allow' }), constraints({ maxPricePerHour: usd('4'), spot: 'only' }), constraints({ gpuClasses: ['A100'] })]) {
      const a = rankOffers(offers, c, { now: NOW, limit: 10 });
      const b = rankOffers(index, c, { now: NOW, limit: 10 });
      assert.deepEqual(b.candidates, a.candidates);
      assert.deepEqual(b.rejected.map((x) => x.reason), a.rejected.map((x) => x.reason));
    }
  });
  it('summarizeRejections groups by constraint, then identical reason, bounded', () => {
    const r = rankOffers(offers, constraints({ maxPricePerHour: usd('3') }), { now: NOW });
    const s = summarizeRejections(r.rejected, { maxReasons: 2 });
    assert.equal(s.total, r.rejected.length);
    assert.deepEqual(s.kinds.map((k) => k.kind).sort(), ['market', 'price']);
    const price = s.kinds.find((k) => k.kind === 'price')!;
    assert.equal(price.reasons.length, 2);
    assert.ok(price.moreReasons > 0);
    assert.equal(s.kinds.reduce((n, k) => n + k.count, 0), s.total);
    assert.ok(price.reasons[0]!.count >= price.reasons[1]!.count);
  });
});

describe('priceText', () => {
  it('at least two decimals, no trailing zeros beyond, currency unless USD', () => {
    assert.equal(priceText(usd('3.2')), '3.20');
    assert.equal(priceText(usd('3')), '3.00');
    assert.equal(priceText(usd('0.369800')), '0.3698');
    assert.equal(priceText(usd('0.05')), '0.05');
    assert.equal(priceText({ amount: 5, currency: 'EUR', scale: 3 }), '0.005 EUR');
  });
});

describe('constraints from a spec', () => {
  it('old specs keep working; new fields reach the constraints', () => {
    const base = { name: 'j', command: 'true', gpu: { classes: ['H100'], count: 8 } };
    assert.deepEqual(constraintsFromSpec(parseWorkloadSpec(base)), { gpuClasses: ['H100'], gpuCount: 8, spot: 'never' });
    const c = constraintsFromSpec(
      parseWorkloadSpec({
        ...base,
        gpu: { classes: ['H100'], count: { min: 1, max: 8 }, minMemoryGiB: 80, interconnect: 'sxm' },
        resources: { minVcpu: 16, minMemoryGiB: 64, minDiskGiB: 200 },
        spot: 'allow',
        placement: { regions: ['us-*'], countries: ['eu', 'us', 'NOR'], providers: { prefer: ['lambda'] } },
        maxPricePerHour: '30',
        maxPricePerGpuHour: '$2.50',
      }),
    );
    assert.deepEqual(c, {
      gpuClasses: ['H100'],
      gpuCount: { min: 1, max: 8 },
      minGpuMemoryGiB: 80,
      gpuInterconnect: ['SXM'],
      minVcpu: 16,
      minMemoryGiB: 64,
      minDiskGiB: 200,
      spot: 'allow',
      regions: ['us-*'],
      countries: ['EU', 'USA', 'NOR'],
      providersPrefer: ['lambda'],
      maxPricePerHour: { amount: 30, currency: 'USD', scale: 0 },
      maxPricePerGpuHour: { amount: 250, currency: 'USD', scale: 2 },
    });
  });
  it('bad new fields are named', () => {
    assert.throws(() => parseWorkloadSpec({ name: 'j', command: 'true', gpu: { classes: ['H100'], count: { min: 8, max: 2 } } }), /gpu\.count/);
    assert.throws(() => parseWorkloadSpec({ name: 'j', command: 'true', gpu: { classes: ['H100'], interconnect: 'infiniband' } }), /"infiniband" is not an interconnect/);
    assert.throws(() => parseWorkloadSpec({ name: 'j', command: 'true', gpu: { classes: ['H100'] }, placement: { countries: ['Europe'] } }), /or a group \(EU, EEA, EFTA\)/);
    assert.throws(() => parseWorkloadSpec({ name: 'j', command: 'true', gpu: { classes: ['H100'] }, resources: { minCpu: 4 } }), /resources/);
  });
});

describe('offersFromInstanceTypes', () => {
  const loc: Location = { name: 'us-east', description: '', available: true, priority: 1, country: 'USA' };
  const it0: InstanceType = {
    id: 'us-east-noSub-t',
    location: 'us-east',
    availableAzs: [],
    subLocation: '',
    type: 't',
    supportedGpus: [],
    supportedStorage: [{ count: 2, size: bytes(500, 'GiB'), type: 'ssd', isEphemeral: false, isAdditionalDisk: false, isElastic: false }],
    memory: bytes(64, 'GiB'),
    vcpu: 8,
    supportedArchitectures: ['x86_64'],
    supportedUsageClasses: ['on-demand', 'spot'],
    stoppable: true,
    rebootable: true,
    preemptible: true,
    isAvailable: true,
    basePrice: usd('1'),
    spotPrice: usd('0.5'),
    provider: 'local',
    canModifyFirewallRules: false,
  };
  it('one offer per market, with the fixed disk when the storage is not elastic', () => {
    const os = offersFromInstanceTypes('local', [it0], [loc], NOW.toISOString());
    assert.deepEqual(os.map((o) => [o.spot, o.diskGiB, o.locationPriority]), [[false, 1000, 1], [true, 1000, 1]]);
    const elastic = offersFromInstanceTypes('local', [{ ...it0, supportedStorage: [{ ...it0.supportedStorage[0]!, isElastic: true }] }], [loc], NOW.toISOString());
    assert.equal(elastic[0]!.diskGiB, undefined);
  });
});
