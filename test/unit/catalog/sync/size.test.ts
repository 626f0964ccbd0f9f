/**
 * What a sync stores and sends for a large real catalog: the local cloud seeded from the shared
 * SkyPilot price lists (every GPU type of nine clouds). The snapshot must stay well under
 * Temporal's 2 MB payload limit, an unchanged sync must cost almost nothing, and the synced catalog
 * must route the same offers as a live read.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyDiff, diffCatalog } from '../../../../src/catalog/sync/diff.js';
import { normalizeListing, offersFromSnapshot } from '../../../../src/catalog/sync/snapshot.js';
import { skypilotToLocalCatalog } from '../../../../src/catalog/skypilot/toLocalCatalog.js';
import { instanceTypesOf, locationsOf, parseCatalog } from '../../../../src/providers/local/daemon/catalog.js';
import { offersFromInstanceTypes } from '../../../../src/routing/offer.js';
import { SKYPILOT_CATALOG_DIR } from '../../../helpers/skypilotCatalog.js';

const SKYPILOT = SKYPILOT_CATALOG_DIR;

describe('catalog sync payloads for the full SkyPilot catalog', () => {
  const cat = parseCatalog(skypilotToLocalCatalog(SKYPILOT, { capacity: 2, includeCpuOnly: false }).catalog, 'skypilot');
  const types = instanceTypesOf(cat, () => true);
  const locations = locationsOf(cat);
  const t0 = '2026-11-23T10:00:00.000Z';
  const first = diffCatalog(undefined, normalizeListing(types, locations), t0);
  const snapshot = applyDiff(undefined, first.diff, { connection: 'local', provider: 'local', pollMs: 60_000, syncedAt: t0, issues: first.issues });

  it('the first sync and the snapshot stay under 512 KB (Temporal warns there, refuses 2 MB)', () => {
    const firstBytes = Buffer.byteLength(JSON.stringify({ baseSeq: 0, diff: first.diff, issues: first.issues }));
    const snapshotBytes = Buffer.byteLength(JSON.stringify(snapshot));
    assert.ok(types.length > 600, `${types.length} instance types`);
    assert.ok(firstBytes < 512 * 1024, `first sync ${firstBytes} B`);
    assert.ok(snapshotBytes < 512 * 1024, `snapshot ${snapshotBytes} B`);
  });

  it('an unchanged sync is a few hundred bytes', () => {
    const again = diffCatalog(snapshot, normalizeListing(types, locations), '2026-11-23T10:01:00.000Z');
    assert.deepEqual(again.issues, []);
    const bytes = Buffer.byteLength(JSON.stringify({ baseSeq: 1, diff: again.diff, issues: again.issues }));
    assert.ok(bytes < 300, `${bytes} B`);
  });

  it('routes exactly the offers a live read gives', () => {
    const key = (o: { instanceTypeId: string; spot: boolean; pricePerHour: { amount: number; scale: number } }) => `${o.instanceTypeId}/${o.spot}/${o.pricePerHour.amount}e-${o.pricePerHour.scale}`;
    const live = offersFromInstanceTypes('local', types, locations, t0).map(key).sort();
    const synced = offersFromSnapshot(snapshot).map(key).sort();
    assert.ok(live.length > 600, `${live.length} offers`);
    assert.deepEqual(synced, live);
  });
});
