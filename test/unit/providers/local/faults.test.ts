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
    assert.deepEqual(set.unavailable, { untilMs: t0 + 2500, status: 503, retryAfterForm: 'seconds' });
    assert.deepEqual(f.unavailableFor('GET', '/v1/locations', t0), { status: 503, retryAfterSeconds: 3, retryAfter: '3' });
    assert.deepEqual(f.unavailableFor('POST', '/v1/instances', t0 + 2000), { status: 503, retryAfterSeconds: 1, retryAfter: '1' });
    assert.equal(f.unavailableFor('GET', '/v1/locations', t0 + 2500), undefined);
    assert.equal(f.get(t0 + 2500).unavailable, undefined);
  });

  it('a rate limit answers 429 with Retry-After as an HTTP-date: the outage end, or retryAfterSeconds after the answer', () => {
    const f = new FaultState();
    const t0 = Date.parse('2026-12-03T15:00:00.400Z');
    f.set({ unavailable: { forMs: 5000, status: 429, retryAfterForm: 'date' } }, t0);
    assert.deepEqual(f.unavailableFor('POST', '/v1/instances', t0), { status: 429, retryAfterSeconds: 5, retryAfter: 'Thu, 03 Dec 2026 15:00:05 GMT' });
    // The same date again in the outage's last second: the wait it names is (almost) over.
    assert.deepEqual(f.unavailableFor('POST', '/v1/instances', t0 + 4700), { status: 429, retryAfterSeconds: 1, retryAfter: 'Thu, 03 Dec 2026 15:00:05 GMT' });
    f.set({ unavailable: { status: 429, retryAfterForm: 'date', retryAfterSeconds: 30 } }, t0);
    assert.equal(f.unavailableFor('GET', '/v1/instances', t0)?.retryAfter, 'Thu, 03 Dec 2026 15:00:30 GMT');
  });

  it('an outage can be limited to methods, path prefixes and a number of requests', () => {
    const f = new FaultState();
    f.set({ unavailable: { methods: ['POST'], paths: ['/v1/instances'], times: 2, retryAfterSeconds: 9 } });
    assert.equal(f.unavailableFor('GET', '/v1/instances'), undefined);
    assert.equal(f.unavailableFor('POST', '/v1/instances-other'), undefined);
    assert.deepEqual(f.unavailableFor('POST', '/v1/instances/lc-1/stop'), { status: 503, retryAfterSeconds: 9, retryAfter: '9' });
    assert.deepEqual(f.unavailableFor('POST', '/v1/instances'), { status: 503, retryAfterSeconds: 9, retryAfter: '9' });
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
