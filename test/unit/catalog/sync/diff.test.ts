/**
 * Catalog diffs and the integrity report, on instance types produced by the local cloud's own
 * catalog code (the contract's real shapes): added, removed (kept, unavailable), price and
 * availability changes; duplicate IDs, renamed IDs and reused IDs reported, never merged.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyDiff, changeRecords, diffCatalog, isEmptyDiff, moneyText, REMOVED_RETENTION_MS, sameMoney } from '../../../../src/catalog/sync/diff.js';
import { normalizeListing, offersFromSnapshot, type CatalogSnapshot } from '../../../../src/catalog/sync/snapshot.js';
import { instanceTypesOf, locationsOf, parseCatalog, type LocalCatalogInput } from '../../../../src/providers/local/daemon/catalog.js';
import type { InstanceType } from '../../../../src/providers/sdk/types.js';
import { TEST_CATALOG } from '../../../helpers/testCatalog.js';

const T0 = '2026-11-23T10:00:00.000Z';
const T1 = '2026-11-23T10:01:00.000Z';
const T2 = '2026-11-23T10:02:00.000Z';

function listed(input: LocalCatalogInput, available: (type: string, region: string) => boolean = () => true) {
  const c = parseCatalog(input, 'test');
  return { types: instanceTypesOf(c, (t, r) => available(t.type, r.name)), locations: locationsOf(c) };
}

function sync(prev: CatalogSnapshot | undefined, types: InstanceType[], locations: ReturnType<typeof locationsOf>, at: string) {
  const { diff, issues } = diffCatalog(prev, normalizeListing(types, locations), at);
  const next = applyDiff(prev, diff, { connection: 'local', provider: 'local', pollMs: 60_000, syncedAt: at, issues });
  return { diff, issues, next };
}

function withType(input: LocalCatalogInput, type: string, patch: Record<string, unknown>): LocalCatalogInput {
  return { ...input, instanceTypes: input.instanceTypes.map((t) => (t.type === type ? { ...t, ...patch } : t)) };
}

describe('diffCatalog / applyDiff', () => {
  const base = listed(TEST_CATALOG);
  const first = sync(undefined, base.types, base.locations, T0);

  it('the first sync adds every listed ID; applying it gives a sorted snapshot with the countries', () => {
    assert.equal(first.diff.added.length, base.types.length);
    assert.equal(first.next.seq, 1);
    assert.deepEqual(first.next.entries.map((e) => e.id), [...base.types.map((t) => t.id)].sort());
    const l4 = first.next.entries.find((e) => e.id === 'us-east-noSub-gpu_1x_l4')!;
    assert.equal(l4.country, 'USA');
    assert.equal(l4.firstSeenAt, T0);
    assert.equal(moneyText(l4.onDemandPrice), '0.80 USD');
    assert.deepEqual(first.issues, []);
  });

  it('an unchanged listing is an empty diff (only the sync time moves)', () => {
    const again = sync(first.next, base.types, base.locations, T1);
    assert.ok(isEmptyDiff(again.diff));
    assert.equal(again.next.seq, 2);
    assert.equal(again.next.syncedAt, T1);
    assert.deepEqual(again.next.entries, first.next.entries);
  });

  it('a price change, a removed type, an added type and an availability change', () => {
    let cat = withType(TEST_CATALOG, 'gpu_1x_h100_sxm5', { pricePerHour: '2.19', spotPricePerHour: '1.25' });
    cat = { ...cat, instanceTypes: cat.instanceTypes.filter((t) => t.type !== 'gpu_1x_l4_eu') };
    cat.instanceTypes.push({ type: 'gpu_1x_a100', gpuDescription: '1x A100 (40 GB SXM4)', vcpu: 30, memoryGiB: 200, diskGiB: 500, pricePerHour: '1.29', capacity: { 'eu-north': 1 } });
    const now = listed(cat, (type, region) => !(type === 'gpu_1x_l4' && region === 'eu-central'));
    const { diff, issues, next } = sync(first.next, now.types, now.locations, T1);
    assert.deepEqual(issues, []);
    assert.deepEqual(diff.added.map((e) => e.id), ['eu-north-noSub-gpu_1x_a100']);
    assert.deepEqual(diff.removed.map((r) => r.id), ['eu-north-noSub-gpu_1x_l4_eu']);
    const changed = Object.fromEntries(diff.changed.map((c) => [c.entry.id, c.changes]));
    assert.deepEqual(changed['us-east-noSub-gpu_1x_h100_sxm5'], [{ field: 'on-demand price', from: '2.49 USD', to: '2.19 USD' }]);
    assert.deepEqual(changed['eu-central-noSub-gpu_1x_l4'], [{ field: 'availability', from: 'available', to: 'unavailable' }]);

    // Removed: kept, marked, unavailable, not routed; changed ones keep their first-seen time.
    const gone = next.entries.find((e) => e.id === 'eu-north-noSub-gpu_1x_l4_eu')!;
    assert.equal(gone.removedAt, T1);
    assert.equal(gone.available, false);
    assert.equal(next.entries.find((e) => e.id === 'us-east-noSub-gpu_1x_h100_sxm5')!.firstSeenAt, T0);
    const offers = offersFromSnapshot(next);
    assert.ok(!offers.some((o) => o.instanceTypeId === 'eu-north-noSub-gpu_1x_l4_eu'));
    assert.equal(offers.find((o) => o.instanceTypeId === 'us-east-noSub-gpu_1x_h100_sxm5' && !o.spot)!.pricePerHour.amount, 219);
    assert.ok(offers.every((o) => o.seenAt === T1));

    const records = changeRecords(diff, 'local', next.seq, T1);
    assert.deepEqual(records.map((r) => `${r.kind} ${r.id}`).sort(), [
      'added eu-north-noSub-gpu_1x_a100',
      'changed eu-central-noSub-gpu_1x_h100_sxm5',
      'changed eu-central-noSub-gpu_1x_l4',
      'changed us-east-noSub-gpu_1x_h100_sxm5',
      'removed eu-north-noSub-gpu_1x_l4_eu',
    ]);
    assert.equal(records.find((r) => r.kind === 'removed')!.what, 'gpu_1x_l4_eu in eu-north');

    // Listed again: added again (not a silent revival), first seen anew.
    const back = sync(next, base.types, base.locations, T2);
    assert.ok(back.diff.added.some((e) => e.id === 'eu-north-noSub-gpu_1x_l4_eu' && e.firstSeenAt === T2));
    assert.equal(back.next.entries.find((e) => e.id === 'eu-north-noSub-gpu_1x_l4_eu')!.removedAt, undefined);
  });

  it('removed entries are pruned after the retention period', () => {
    const one = { ...base, types: base.types.filter((t) => t.id !== 'eu-north-noSub-gpu_1x_l4_eu') };
    const removed = sync(first.next, one.types, one.locations, T1).next;
    const later = new Date(Date.parse(T1) + REMOVED_RETENTION_MS + 1).toISOString();
    const pruned = sync(removed, one.types, one.locations, later).next;
    assert.ok(removed.entries.some((e) => e.id === 'eu-north-noSub-gpu_1x_l4_eu'));
    assert.ok(!pruned.entries.some((e) => e.id === 'eu-north-noSub-gpu_1x_l4_eu'));
  });

  it('money is compared exactly, whatever the scale', () => {
    assert.ok(sameMoney({ amount: 249, currency: 'USD', scale: 2 }, { amount: 24900, currency: 'USD', scale: 4 }));
    assert.ok(!sameMoney({ amount: 249, currency: 'USD', scale: 2 }, { amount: 24901, currency: 'USD', scale: 4 }));
    assert.ok(!sameMoney({ amount: 249, currency: 'USD', scale: 2 }, { amount: 249, currency: 'EUR', scale: 2 }));
  });
});

describe('integrity report', () => {
  const base = listed(TEST_CATALOG);

  it('one ID listed twice with different prices: reported, kept once, not routed', () => {
    const dupe = base.types.find((t) => t.id === 'us-east-noSub-gpu_1x_l4')!;
    const types = [...base.types, { ...dupe, basePrice: { ...dupe.basePrice!, amount: dupe.basePrice!.amount + 5 } }];
    const { issues, next } = sync(undefined, types, base.locations, T0);
    assert.equal(issues.length, 1);
    assert.equal(issues[0]!.kind, 'duplicate-id');
    assert.equal(issues[0]!.id, 'us-east-noSub-gpu_1x_l4');
    assert.match(issues[0]!.message, /listed 2 times .* 2 different contents: not routed/);
    assert.equal(next.entries.filter((e) => e.id === 'us-east-noSub-gpu_1x_l4').length, 1);
    assert.ok(next.entries.find((e) => e.id === 'us-east-noSub-gpu_1x_l4')!.unusable);
    assert.ok(!offersFromSnapshot(next).some((o) => o.instanceTypeId === 'us-east-noSub-gpu_1x_l4'));
    assert.ok(offersFromSnapshot(next).some((o) => o.instanceTypeId === 'eu-central-noSub-gpu_1x_l4'));
  });

  it('identical copies of one ID: reported, still routed', () => {
    const dupe = base.types.find((t) => t.id === 'us-east-noSub-gpu_1x_l4')!;
    const { issues, next } = sync(undefined, [...base.types, dupe], base.locations, T0);
    assert.deepEqual(issues.map((i) => i.kind), ['duplicate-id']);
    assert.match(issues[0]!.message, /identical copies/);
    assert.ok(offersFromSnapshot(next).some((o) => o.instanceTypeId === 'us-east-noSub-gpu_1x_l4'));
  });

  it('the same type and location under a new ID: id-changed, shown as removed + added', () => {
    const first = sync(undefined, base.types, base.locations, T0).next;
    const renamed = base.types.map((t) => (t.id === 'us-east-noSub-gpu_1x_l4' ? { ...t, id: 'l4-use-v2' } : t));
    const { diff, issues } = sync(first, renamed, base.locations, T1);
    assert.deepEqual(diff.added.map((e) => e.id), ['l4-use-v2']);
    assert.deepEqual(diff.removed.map((e) => e.id), ['us-east-noSub-gpu_1x_l4']);
    assert.deepEqual(issues.map((i) => [i.kind, i.id]), [['id-changed', 'l4-use-v2']]);
    assert.match(issues[0]!.message, /gpu_1x_l4 in us-east changed its instance-type ID from us-east-noSub-gpu_1x_l4 to l4-use-v2/);
  });

  it('one ID now naming another type: id-reused, an identity change', () => {
    const first = sync(undefined, base.types, base.locations, T0).next;
    const h100 = base.types.find((t) => t.id === 'us-east-noSub-gpu_1x_h100_sxm5')!;
    const reused = base.types.filter((t) => t.id !== 'us-east-noSub-gpu_1x_h100_sxm5').map((t) => (t.id === 'us-east-noSub-gpu_1x_l4' ? { ...h100, id: t.id } : t));
    const { diff, issues } = sync(first, reused, base.locations, T1);
    const c = diff.changed.find((x) => x.entry.id === 'us-east-noSub-gpu_1x_l4')!;
    assert.equal(c.changes[0]!.field, 'identity');
    assert.equal(c.changes[0]!.to, 'gpu_1x_h100_sxm5 in us-east');
    assert.ok(issues.some((i) => i.kind === 'id-reused' && i.id === 'us-east-noSub-gpu_1x_l4'));
  });

  it('a type in a location the provider does not list has no country: reported, not routed', () => {
    const locations = base.locations.filter((l) => l.name !== 'eu-north');
    const { issues, next } = sync(undefined, base.types, locations, T0);
    assert.deepEqual(issues.map((i) => [i.kind, i.id]), [['unknown-location', 'eu-north-noSub-gpu_1x_l4_eu']]);
    assert.equal(next.entries.find((e) => e.id === 'eu-north-noSub-gpu_1x_l4_eu')!.country, '');
    assert.ok(!offersFromSnapshot(next).some((o) => o.location === 'eu-north'));
    assert.ok(offersFromSnapshot(next).every((o) => /^[A-Z]{3}$/.test(o.country)));
  });
});
