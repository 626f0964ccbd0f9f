/**
 * The catalog entity's state (pure): a diff applies only on the snapshot it was computed against,
 * changes and syncs stay bounded, status and change queries say what the CLI shows.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { diffCatalog } from '../../../../src/catalog/sync/diff.js';
import { normalizeListing } from '../../../../src/catalog/sync/snapshot.js';
import { applySync, changesSince, checkApplySync, MAX_SYNC_RECORDS, newStoreState, recordFailure, storeStatus, type ApplySyncRequest } from '../../../../src/catalog/sync/store.js';
import { instanceTypesOf, locationsOf, parseCatalog } from '../../../../src/providers/local/daemon/catalog.js';
import { TEST_CATALOG } from '../../../helpers/testCatalog.js';

const cat = parseCatalog(TEST_CATALOG, 'test');
const listing = normalizeListing(instanceTypesOf(cat, () => true), locationsOf(cat));

function request(state: ReturnType<typeof newStoreState>, at: string, l = listing): ApplySyncRequest {
  const { diff, issues } = diffCatalog(state.snapshot, l, at);
  return { baseSeq: state.snapshot?.seq ?? 0, provider: 'local', pollMs: 60_000, syncedAt: at, diff, issues };
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
});
