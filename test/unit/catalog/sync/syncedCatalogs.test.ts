/**
 * Planning from synced catalogs: a fresh snapshot is used (and its index reused across decisions)
 * without reading the provider; a stale one is not trusted: the provider is read live, and when that
 * fails the stale offers are ranked but never chosen. The provider here is a local-cloud connection
 * whose daemon is down, so any live read really fails.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { collectOffers } from '../../../../src/catalog/offers.js';
import { applyDiff, diffCatalog } from '../../../../src/catalog/sync/diff.js';
import { normalizeListing, type CatalogSnapshot } from '../../../../src/catalog/sync/snapshot.js';
import { SyncedCatalogs } from '../../../../src/catalog/sync/syncedCatalogs.js';
import { instanceTypesOf, locationsOf, parseCatalog } from '../../../../src/providers/local/daemon/catalog.js';
import { LocalCredential } from '../../../../src/providers/local/index.js';
import { ProviderRegistry } from '../../../../src/providers/registry.js';
import { rankOffers } from '../../../../src/routing/rankOffers.js';
import { TEST_CATALOG } from '../../../helpers/testCatalog.js';

const POLL = 60_000;
const cat = parseCatalog(TEST_CATALOG, 'test');

function snapshotAt(at: string): CatalogSnapshot {
  const { diff, issues } = diffCatalog(undefined, normalizeListing(instanceTypesOf(cat, () => true), locationsOf(cat)), at);
  return applyDiff(undefined, diff, { connection: 'local', provider: 'local', pollMs: POLL, syncedAt: at, issues });
}

/** The entity's Query, in memory: counts reads. */
class Store {
  reads = 0;
  known: (CatalogSnapshot | undefined)[] = [];
  constructor(public snap: CatalogSnapshot | undefined) {}
  async snapshot(_connection: string, known?: CatalogSnapshot): Promise<CatalogSnapshot | undefined> {
    this.reads++;
    this.known.push(known);
    return this.snap;
  }
}

const registry = new ProviderRegistry([
  { name: 'local', credential: new LocalCredential({ refId: 'local', url: 'http://127.0.0.1:1', token: 'not-used-daemon-down', timeoutMs: 2_000 }), provisioningTimeoutMs: 60_000 },
]);
const h100 = { gpuClasses: ['H100'], gpuCount: 1, spot: 'never' as const };

describe('collectOffers with synced catalogs', () => {
  it('a fresh snapshot is used as is, its index reused, the entity re-read only when a newer sync is due', async () => {
    const t0 = Date.parse('2026-11-23T10:00:00.000Z');
    const store = new Store(snapshotAt(new Date(t0).toISOString()));
    const synced = new SyncedCatalogs(store);
    const a = await collectOffers(registry, { synced, now: new Date(t0 + 5_000) });
    assert.deepEqual(a.sources, { local: 'synced' });
    assert.deepEqual(a.unreachable, []);
    assert.equal(a.maxAgeMs.local, 3 * POLL);
    const b = await collectOffers(registry, { synced, now: new Date(t0 + 20_000) });
    assert.equal(b.index, a.index, 'the prebuilt index is reused');
    assert.equal(store.reads, 1, 'no newer sync due: the cached snapshot is used');
    const r = rankOffers(b.index, h100, { now: new Date(t0 + 20_000), maxAgeMs: b.maxAgeMs });
    assert.equal(r.candidates[0]?.instanceTypeId, 'us-east-noSub-gpu_1x_h100_sxm5'); // same price, higher location priority

    store.snap = snapshotAt(new Date(t0 + POLL).toISOString());
    const c = await collectOffers(registry, { synced, now: new Date(t0 + POLL + 5_000) });
    assert.equal(store.reads, 2, 'a newer sync was due: the entity is read again');
    assert.notEqual(c.index, a.index, 'a new snapshot gets a new index');
  });

  it('a stale snapshot is not trusted: live read (fails here), stale offers ranked but never chosen', async () => {
    const t0 = Date.parse('2026-11-23T10:00:00.000Z');
    const synced = new SyncedCatalogs(new Store(snapshotAt(new Date(t0).toISOString())));
    const now = new Date(t0 + 3 * POLL + 1_000);
    const got = await collectOffers(registry, { synced, now });
    assert.deepEqual(got.sources, { local: 'stale-synced' });
    assert.equal(got.unreachable.length, 1);
    assert.equal(got.unreachable[0]!.connection, 'local');
    const r = rankOffers(got.index, h100, { now, maxAgeMs: got.maxAgeMs });
    assert.equal(r.candidates.length, 0);
    const h100OnDemand = r.rejected.filter((x) => x.offer.gpu?.name === 'H100' && !x.offer.spot);
    assert.equal(h100OnDemand.length, 2);
    for (const x of h100OnDemand) assert.match(x.reason, /^offer is stale: last seen 3m ago, max age 3m$/);
  });

  it('never synced and unreachable: no offers, the connection reported', async () => {
    const got = await collectOffers(registry, { synced: new SyncedCatalogs(new Store(undefined)) });
    assert.deepEqual(got.offers, []);
    assert.deepEqual(got.sources, {});
    assert.equal(got.unreachable[0]?.connection, 'local');
  });

  it('a newer sync of the same catalog (same digest) re-dates the offers it holds instead of rebuilding them', async () => {
    const t0 = Date.parse('2026-11-23T10:00:00.000Z');
    const digest = `sha256:${'a'.repeat(64)}`;
    const store = new Store({ ...snapshotAt(new Date(t0).toISOString()), digest });
    const synced = new SyncedCatalogs(store);
    const a = (await synced.read('local', t0 + 1_000))!;
    const later = new Date(t0 + POLL).toISOString();
    store.snap = { ...store.snap!, seq: 2, syncedAt: later };
    const b = (await synced.read('local', t0 + POLL + 5_000))!;
    assert.equal(store.known[1], a.snapshot, 'the held snapshot is offered to the reader');
    assert.equal(b.offers.length, a.offers.length);
    assert.ok(b.offers.every((o) => o.seenAt === later));
    assert.deepEqual(b.offers.map((o) => o.instanceTypeId), a.offers.map((o) => o.instanceTypeId));
    // Another digest: the offers are built from the new entries.
    store.snap = { ...snapshotAt(new Date(t0 + 2 * POLL).toISOString()), seq: 3, digest: `sha256:${'b'.repeat(64)}` };
    store.snap.entries = store.snap.entries.slice(1);
    const c = (await synced.read('local', t0 + 2 * POLL + 5_000))!;
    assert.ok(c.offers.length < a.offers.length);
  });
});
