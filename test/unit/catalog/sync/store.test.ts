/**
 * The catalog entity's state (pure): a sync applies only on the catalog it was computed against,
 * changes and syncs stay bounded, the catalog itself stays out (a digest), status and change queries
 * say what the CLI shows; an entity of the older version (snapshot inline) moves over.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { diffCatalog } from '../../../../src/catalog/sync/diff.js';
import { normalizeListing, type CatalogSnapshot } from '../../../../src/catalog/sync/snapshot.js';
import {
  applySync,
  changesSince,
  checkApplySync,
  headView,
  MAX_INLINE_CHANGES,
  MAX_SYNC_RECORDS,
  newStoreState,
  recordFailure,
  storeStatus,
  type ApplySyncRequest,
  type CatalogStoreState,
  type LegacyApplySyncRequest,
} from '../../../../src/catalog/sync/store.js';
import { prepareSync } from '../../../../src/catalog/sync/syncRequest.js';
import { instanceTypesOf, locationsOf, parseCatalog } from '../../../../src/providers/local/daemon/catalog.js';
import { TEST_CATALOG } from '../../../helpers/testCatalog.js';

const cat = parseCatalog(TEST_CATALOG, 'test');
const listing = normalizeListing(instanceTypesOf(cat, () => true), locationsOf(cat));

/** The catalog each state's last request was computed to (as the sync activity keeps it in the content store). */
const synced = new WeakMap<CatalogStoreState, CatalogSnapshot>();

/** The sync activity's request against the state's catalog; the tests apply each one they make, unless refused. */
function request(state: CatalogStoreState, at: string, l = listing): ApplySyncRequest {
  const p = prepareSync(synced.get(state), l, { connection: 'local', provider: 'local', pollMs: 60_000, syncedAt: at });
  synced.set(state, p.next);
  return p.request;
}

describe('catalog store state', () => {
  it('applies syncs in order and refuses a diff computed against another snapshot', () => {
    const s = newStoreState('local');
    const r1 = request(s, '2026-11-23T10:00:00.000Z');
    assert.equal(checkApplySync(s, r1), undefined);
    assert.equal(applySync(s, r1).seq, 1);
    // The same request again (computed against sync 0) is a conflict, not a second application.
    assert.match(checkApplySync(s, r1)!, /at sync 1, the diff was computed against sync 0/);
    const r2 = request(s, '2026-11-23T10:01:00.000Z', { entries: listing.entries.filter((e) => e.id !== 'eu-north-noSub-gpu_1x_l4_eu'), issues: [] });
    assert.equal(checkApplySync(s, r2), undefined);
    const res = applySync(s, r2);
    assert.deepEqual([res.seq, res.added, res.removed, res.changed], [2, 0, 1, 0]);
    const st = storeStatus(s);
    assert.deepEqual([st.seq, st.listed, st.removed, st.unusable], [2, listing.entries.length - 1, 1, 0]);
    assert.equal(st.syncedAt, '2026-11-23T10:01:00.000Z');
    assert.deepEqual(changesSince(s, Date.parse('2026-11-23T10:00:30.000Z')).map((c) => `${c.kind} ${c.id}`), ['removed eu-north-noSub-gpu_1x_l4_eu']);
    assert.equal(changesSince(s).length, listing.entries.length + 1);
    assert.equal(changesSince(s, 0, 1)[0]!.kind, 'removed');
  });

  it('a failure is kept until the next successful sync; sync records stay bounded', () => {
    const s = newStoreState('local');
    applySync(s, request(s, '2026-11-23T10:00:00.000Z'));
    recordFailure(s, '2026-11-23T10:01:00.000Z', 'the local cloud API is temporarily unavailable');
    assert.equal(storeStatus(s).lastFailure?.error, 'the local cloud API is temporarily unavailable');
    for (let i = 1; i <= MAX_SYNC_RECORDS + 5; i++) applySync(s, request(s, new Date(Date.parse('2026-11-23T10:02:00.000Z') + i * 60_000).toISOString()));
    assert.equal(storeStatus(s).lastFailure, undefined);
    assert.equal(s.syncs.length, MAX_SYNC_RECORDS);
    assert.equal(s.syncs.at(-1)!.seq, MAX_SYNC_RECORDS + 6);
    assert.equal(s.changes.length, listing.entries.length); // unchanged syncs add no change records
  });

  it('refuses a sync older than the stored one', () => {
    const s = newStoreState('local');
    applySync(s, request(s, '2026-11-23T10:05:00.000Z'));
    const old = { ...request(s, '2026-11-23T10:00:00.000Z') };
    assert.match(checkApplySync(s, old)!, /older than the stored/);
  });

  it('keeps the catalog out of its state: a digest, counts, 500 change records inline and the digest of all', () => {
    const s = newStoreState('local');
    const many = { entries: Array.from({ length: 1_200 }, (_, i) => ({ ...listing.entries[0]!, id: `id-${String(i).padStart(4, '0')}`, type: `t${i}` })), issues: [] };
    const r = request(s, '2026-11-23T10:00:00.000Z', many);
    assert.equal(r.changes.length, MAX_INLINE_CHANGES);
    assert.match(r.changesDigest!, /^sha256:/);
    const res = applySync(s, r);
    assert.deepEqual([res.seq, res.added, res.listed], [1, 1_200, 1_200]);
    assert.equal(s.snapshot, undefined);
    assert.equal(s.head?.entries, 1_200);
    assert.equal(s.changes.length, MAX_INLINE_CHANGES);
    assert.deepEqual(new Set(res.keep), new Set([r.catalog.digest, r.changesDigest]));
    assert.deepEqual(headView(s).keep, res.keep);
    const bytes = Buffer.byteLength(JSON.stringify(s));
    assert.ok(bytes < 150_000, `state ${bytes} B`);
    assert.equal(storeStatus(s).digest, r.catalog.digest);
    // A request computed against another catalog with the same sequence number is refused too.
    const next = request(s, '2026-11-23T10:01:00.000Z', many);
    assert.match(checkApplySync(s, { ...next, baseDigest: `sha256:${'1'.repeat(64)}` })!, /the diff was computed against sha256:1111/);
    assert.equal(checkApplySync(s, next), undefined);
    // The change list is kept while its sync record is; then it is no longer referenced.
    for (let i = 0; i < MAX_SYNC_RECORDS; i++) applySync(s, request(s, new Date(Date.parse('2026-11-23T10:02:00.000Z') + i * 60_000).toISOString(), many));
    assert.deepEqual(headView(s).keep, [s.head!.digest]);
  });

  it('an entity of the older version (the whole snapshot inline) applies its inline diffs, then moves to the content store', () => {
    const s = newStoreState('local');
    const at = '2026-11-23T10:00:00.000Z';
    const legacy: LegacyApplySyncRequest = { baseSeq: 0, provider: 'local', pollMs: 60_000, syncedAt: at, ...diffCatalog(undefined, listing, at) };
    assert.equal(checkApplySync(s, legacy), undefined);
    assert.equal(applySync(s, legacy).seq, 1);
    assert.equal(s.snapshot?.entries.length, listing.entries.length);
    assert.equal(headView(s).legacySnapshot?.seq, 1);
    assert.equal(storeStatus(s).listed, listing.entries.length);
    // The new version's sync diffs against that snapshot (read from the entity) and replaces it by a digest.
    const p = prepareSync(s.snapshot, { entries: listing.entries.slice(1), issues: [] }, { connection: 'local', provider: 'local', pollMs: 60_000, syncedAt: '2026-11-23T10:01:00.000Z' });
    assert.equal(p.request.baseDigest, undefined);
    assert.equal(checkApplySync(s, p.request), undefined);
    const res = applySync(s, p.request);
    assert.deepEqual([res.seq, res.removed], [2, 1]);
    assert.equal(s.snapshot, undefined);
    assert.equal(headView(s).head?.digest, p.request.catalog.digest);
    assert.deepEqual(changesSince(s).map((c) => c.seq), [...listing.entries.map(() => 1), 2]);
    // An older worker's inline diff no longer applies: it is told to recompute.
    assert.match(checkApplySync(s, { ...legacy, baseSeq: 2 })!, /in the content store now/);
  });
});

