/**
 * The catalog content store on a real directory: equal catalogs get equal digests whatever their
 * keys' order, a blob reads back only when its content still hashes to its name, and a collection
 * deletes what nothing references once it is past the grace time (a fresh or re-put blob stays).
 * And the sync requests built for it stay small for a large catalog.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CatalogBlobNotFoundError, CatalogContentStore, catalogStoreDir, serializeCatalog, serializeChanges } from '../../../../src/catalog/sync/contentStore.js';
import { normalizeListing, type CatalogEntry } from '../../../../src/catalog/sync/snapshot.js';
import { MAX_INLINE_CHANGES } from '../../../../src/catalog/sync/store.js';
import { prepareSync } from '../../../../src/catalog/sync/syncRequest.js';
import { instanceTypesOf, locationsOf, parseCatalog } from '../../../../src/providers/local/daemon/catalog.js';
import { syntheticCatalog } from '../../../helpers/syntheticCatalog.js';

const dir = mkdtempSync(join(tmpdir(), 'gpuflow-catalog-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const entry: CatalogEntry = {
  id: 'us-east-noSub-gpu_1x_l4',
  type: 'gpu_1x_l4',
  location: 'us-east',
  subLocation: '',
  country: 'USA',
  locationPriority: 1,
  vcpu: 8,
  memoryGiB: 32,
  onDemandPrice: { amount: 80, currency: 'USD', scale: 2 },
  available: true,
  firstSeenAt: '2026-12-04T00:00:00.000Z',
};

describe('catalog content store', () => {
  it('equal catalogs, equal digests (key order does not matter); another price, another digest', () => {
    const reordered = Object.fromEntries(Object.entries(entry).reverse()) as unknown as CatalogEntry;
    reordered.onDemandPrice = { scale: 2, currency: 'USD', amount: 80 };
    const a = serializeCatalog({ connection: 'local', provider: 'local', entries: [entry] });
    const b = serializeCatalog({ connection: 'local', provider: 'local', entries: [reordered] });
    assert.match(a.digest, /^sha256:[0-9a-f]{64}$/);
    assert.equal(a.digest, b.digest);
    assert.deepEqual(a.bytes, b.bytes);
    const c = serializeCatalog({ connection: 'local', provider: 'local', entries: [{ ...entry, onDemandPrice: { amount: 81, currency: 'USD', scale: 2 } }] });
    assert.notEqual(c.digest, a.digest);
  });

  it('puts and gets by digest; a corrupt or missing blob is an error naming the fix', async () => {
    const store = new CatalogContentStore(join(dir, 'rw'));
    const blob = serializeCatalog({ connection: 'local', provider: 'local', entries: [entry] });
    await store.put('local', blob);
    await store.put('local', blob); // idempotent
    assert.deepEqual((await store.getCatalog('local', blob.digest)).entries, [entry]);
    const changes = serializeChanges('local', [{ at: entry.firstSeenAt, connection: 'local', seq: 1, kind: 'added', id: entry.id, what: 'gpu_1x_l4 in us-east' }]);
    await store.put('local', changes);
    assert.equal((await store.getChanges('local', changes.digest))[0]?.id, entry.id);
    await assert.rejects(store.getCatalog('local', changes.digest), /is not a gpuflow-catalog\/1 catalog/);

    const file = join(store.location, 'local', `${blob.digest.slice(7)}.json.gz`);
    writeFileSync(file, gzipSync(Buffer.from(blob.bytes.toString('utf8').replace('"vcpu":8', '"vcpu":9'))));
    await assert.rejects(store.getCatalog('local', blob.digest), /is corrupt \(its content hashes to sha256:[0-9a-f]{64}\): delete it and run `gpuflow catalog sync --connection local`/);
    const missing = `sha256:${'0'.repeat(64)}`;
    await assert.rejects(store.getCatalog('local', missing), (e: Error) => e instanceof CatalogBlobNotFoundError && /GPUFLOW_CATALOG_DIR/.test(e.message));
    await assert.rejects(store.getCatalog('local', 'sha256:../../etc'), /not a catalog digest/);
  });

  it('collects unreferenced blobs past the grace time only; a blob put again is fresh again', async () => {
    const store = new CatalogContentStore(join(dir, 'gc'));
    const blobs = [1, 2, 3].map((n) => serializeCatalog({ connection: 'local', provider: 'local', entries: [{ ...entry, vcpu: n }] }));
    for (const b of blobs) await store.put('local', b);
    const path = (d: string) => join(store.location, 'local', `${d.slice(7)}.json.gz`);
    const old = new Date(Date.now() - 3_600_000);
    for (const b of blobs) utimesSync(path(b.digest), old, old);
    writeFileSync(`${path(blobs[0]!.digest)}.abcdef.tmp`, 'half a write');
    utimesSync(`${path(blobs[0]!.digest)}.abcdef.tmp`, old, old);
    // Blob 2 is about to be referenced again: put refreshes its time.
    await store.put('local', blobs[1]!);
    const gone = await store.collect('local', new Set([blobs[0]!.digest]), 600_000);
    assert.deepEqual(gone, [blobs[2]!.digest]);
    assert.deepEqual(readdirSync(join(store.location, 'local')).sort(), [blobs[0]!, blobs[1]!].map((b) => `${b.digest.slice(7)}.json.gz`).sort());
    assert.deepEqual(await store.usage('local'), { blobs: 2, bytes: (await store.usage('local')).bytes });
    assert.deepEqual(await store.collect('nobody', new Set(), 0), []);
  });

  it('lives under $GPUFLOW_HOME/catalogs unless GPUFLOW_CATALOG_DIR says otherwise', () => {
    assert.equal(catalogStoreDir({ GPUFLOW_CATALOG_DIR: '/srv/catalogs' }), '/srv/catalogs');
    assert.match(catalogStoreDir({}), /[/\\]catalogs$/);
  });

  it('a 20,000-offer first sync sends 500 change records and digests, not the catalog', () => {
    const cat = parseCatalog(syntheticCatalog(20_000), 'synthetic');
    const listing = normalizeListing(instanceTypesOf(cat, () => true), locationsOf(cat));
    const p = prepareSync(undefined, listing, { connection: 'local', provider: 'local', pollMs: 60_000, syncedAt: '2026-12-04T00:00:00.000Z' });
    assert.equal(p.request.catalog.entries, 20_000);
    assert.equal(p.request.changes.length, MAX_INLINE_CHANGES);
    assert.equal(p.blobs.length, 2, 'the catalog and the full change list');
    assert.equal(p.request.changesDigest, p.blobs[1]!.digest);
    const bytes = Buffer.byteLength(JSON.stringify(p.request));
    assert.ok(bytes < 150_000, `request ${bytes} B`);
    assert.ok(p.request.catalog.bytes > 2 * 1024 * 1024, `catalog ${p.request.catalog.bytes} B`);
    // Unchanged: the same digest, nothing to store, a small request.
    const again = prepareSync(p.next, listing, { connection: 'local', provider: 'local', pollMs: 60_000, syncedAt: '2026-12-04T00:01:00.000Z' });
    assert.deepEqual([again.blobs.length, again.request.catalog.digest, again.request.baseDigest], [0, p.request.catalog.digest, p.request.catalog.digest]);
    assert.ok(Buffer.byteLength(JSON.stringify(again.request)) < 600);
  });
});
