/**
 * Routing's view of the synced catalogs, per worker process: each connection's latest snapshot and
 * its offers, read from the catalog entity with a Query and kept until a newer sync is due (the
 * snapshot is older than one poll time), so planning does not query the entity every time. The
 * combined offer index is built once per set of snapshots and reused by every decision.
 */
import { indexOffers, type OfferIndex } from '../../routing/rankOffers.js';
import type { Offer } from '../../routing/offer.js';
import { offersFromSnapshot, type CatalogSnapshot } from './snapshot.js';

export interface SnapshotReader {
  snapshot(connection: string): Promise<CatalogSnapshot | undefined>;
}

export interface SyncedCatalog {
  snapshot: CatalogSnapshot;
  offers: Offer[];
}

/** However old the cached snapshot, the entity is asked again at most this often. */
const MIN_REQUERY_MS = 1_000;

export class SyncedCatalogs {
  private readonly cache = new Map<string, { catalog?: SyncedCatalog; fetchedAt: number }>();
  private combined?: { key: string; index: OfferIndex };

  constructor(private readonly reader: SnapshotReader) {}

  /** The connection's synced catalog, or undefined when it was never synced. */
  async read(connection: string, now = Date.now()): Promise<SyncedCatalog | undefined> {
    const hit = this.cache.get(connection);
    if (hit && now - hit.fetchedAt < MIN_REQUERY_MS) return hit.catalog;
    if (hit?.catalog && now - Date.parse(hit.catalog.snapshot.syncedAt) <= hit.catalog.snapshot.pollMs) return hit.catalog;
    const snapshot = await this.reader.snapshot(connection);
    const catalog = !snapshot
      ? undefined
      : hit?.catalog && hit.catalog.snapshot.seq === snapshot.seq && hit.catalog.snapshot.syncedAt === snapshot.syncedAt
        ? hit.catalog
        : { snapshot, offers: offersFromSnapshot(snapshot) };
    this.cache.set(connection, { ...(catalog ? { catalog } : {}), fetchedAt: now });
    return catalog;
  }

  /**
   * One index over several synced catalogs, rebuilt only when one of them changed. `offers` are the
   * catalogs' offers as routing uses them (after per-connection adjustments, which depend on the
   * connection's configuration only), one array per catalog.
   */
  indexOf(catalogs: readonly SyncedCatalog[], offers: readonly (readonly Offer[])[] = catalogs.map((c) => c.offers)): OfferIndex {
    const key = catalogs.map((c) => `${c.snapshot.connection}@${c.snapshot.seq}@${c.snapshot.syncedAt}`).join('\u0000');
    if (this.combined?.key !== key) this.combined = { key, index: indexOffers(offers.flat()) };
    return this.combined.index;
  }
}
