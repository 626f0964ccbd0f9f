import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FaultState } from '../../../../src/providers/local/daemon/faults.js';

describe('local cloud faults', () => {
  it('capacity and quota faults match by type and/or location', () => {
    const f = new FaultState();
    f.set({ outOfCapacity: [{ type: 'a', location: 'x' }, { location: 'y', hideFromCatalog: true }], quotaExceeded: [{ type: 'b' }] });
    assert.equal(f.outOfCapacity('a', 'x'), true);
    assert.equal(f.outOfCapacity('a', 'z'), false);
    assert.equal(f.outOfCapacity('anything', 'y'), true);
    assert.equal(f.hiddenFromCatalog('a', 'x'), false);
    assert.equal(f.hiddenFromCatalog('a', 'y'), true);
    assert.equal(f.quotaExceeded('b', 'anywhere'), true);
    assert.equal(f.quotaExceeded('a', 'x'), false);
    f.clear();
    assert.equal(f.outOfCapacity('a', 'x'), false);
  });

  it('an outage ends at untilMs (forMs is turned into untilMs) and says how long in Retry-After', () => {
    const f = new FaultState();
    const t0 = 1_000_000;
    const set = f.set({ unavailable: { forMs: 2500 } }, t0);
    assert.deepEqual(set.unavailable, { untilMs: t0 + 2500 });
    assert.deepEqual(f.unavailableFor('GET', '/v1/locations', t0), { retryAfterSeconds: 3 });
    assert.deepEqual(f.unavailableFor('POST', '/v1/instances', t0 + 2000), { retryAfterSeconds: 1 });
    assert.equal(f.unavailableFor('GET', '/v1/locations', t0 + 2500), undefined);
    assert.equal(f.get(t0 + 2500).unavailable, undefined);
  });

  it('an outage can be limited to methods, path prefixes and a number of requests', () => {
    const f = new FaultState();
    f.set({ unavailable: { methods: ['POST'], paths: ['/v1/instances'], times: 2, retryAfterSeconds: 9 } });
    assert.equal(f.unavailableFor('GET', '/v1/instances'), undefined);
    assert.equal(f.unavailableFor('POST', '/v1/instances-other'), undefined);
    assert.deepEqual(f.unavailableFor('POST', '/v1/instances/lc-1/stop'), { retryAfterSeconds: 9 });
    assert.deepEqual(f.unavailableFor('POST', '/v1/instances'), { retryAfterSeconds: 9 });
    assert.equal(f.unavailableFor('POST', '/v1/instances'), undefined, 'times: 2 is used up');
  });

  it('lost create responses count down; bad input is refused', () => {
    const f = new FaultState();
    f.set({ loseCreateResponses: 1 });
    assert.equal(f.takeLostCreateResponse(), true);
    assert.equal(f.takeLostCreateResponse(), false);
    assert.throws(() => f.set({ latencyMs: -1 }));
    assert.throws(() => f.set({ unavailable: { methods: ['FETCH' as never] } }));
    assert.throws(() => f.set({ nope: true } as never));
  });
});
