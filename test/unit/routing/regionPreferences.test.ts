/** Region preferences: a tie-break among equal prices, applied to one connection's offers before ranking. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rankOffers } from '../../../src/routing/rankOffers.js';
import { applyRegionPreferences, preferenceRank, regionGlob } from '../../../src/routing/regionPreferences.js';
import { constraints, NOW, offer } from './fixtures.js';

const rank = (offers: ReturnType<typeof offer>[]) => rankOffers(offers, constraints(), { now: NOW }).candidates.map((o) => o.location);

describe('applyRegionPreferences', () => {
  it('ranks a preferred region first among offers of equal price, beating the provider priority', () => {
    const offers = [offer({ location: 'us-east-1', locationPriority: 5 }), offer({ location: 'eu-central-1' }), offer({ location: 'eu-west-1' })];
    assert.equal(rank(offers)[0], 'us-east-1', 'without preferences the provider priority decides');
    assert.deepEqual(rank(applyRegionPreferences(offers, ['eu-west-*', 'eu-*'])), ['eu-west-1', 'eu-central-1', 'us-east-1']);
  });

  it('never beats a lower price and never excludes an offer', () => {
    const offers = [offer({ location: 'us-east-1', price: '2.00' }), offer({ location: 'eu-central-1', price: '2.49' })];
    const ranked = rank(applyRegionPreferences(offers, ['eu-*']));
    assert.deepEqual(ranked, ['us-east-1', 'eu-central-1']);
  });

  it('keeps the provider priority as the order within one preference rank', () => {
    const offers = [offer({ location: 'eu-north-1', locationPriority: 1 }), offer({ location: 'eu-south-1', locationPriority: 3 })];
    assert.deepEqual(rank(applyRegionPreferences(offers, ['eu-*'])), ['eu-south-1', 'eu-north-1']);
  });

  it('returns new objects and leaves unmatched offers untouched', () => {
    const a = offer({ location: 'eu-central-1' });
    const b = offer({ location: 'us-east-1' });
    const out = applyRegionPreferences([a, b], ['EU-*']);
    assert.equal(a.locationPriority, 0, 'input not mutated');
    assert.notEqual(out[0], a);
    assert.ok(out[0]!.locationPriority > 0, 'globs are case-insensitive');
    assert.equal(out[1], b);
    const none = [a, b];
    assert.equal(applyRegionPreferences(none, undefined), none);
    assert.equal(applyRegionPreferences(none, []), none);
  });

  it('matches globs like placement.regions: * and ? only, other characters literal', () => {
    assert.equal(preferenceRank('us-east-1', [regionGlob('us-east-?')]), 0);
    assert.equal(preferenceRank('us-east-12', [regionGlob('us-east-?')]), undefined);
    assert.equal(preferenceRank('usXeast', [regionGlob('us.east')]), undefined, '"." is literal');
    assert.equal(preferenceRank('eu-west-1', [regionGlob('us-*'), regionGlob('*')]), 1);
  });
});
