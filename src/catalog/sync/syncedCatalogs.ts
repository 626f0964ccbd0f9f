/**
 * Routing's view of the synced catalogs, per worker process: each connection's latest snapshot and
 * its offers, read from the catalog entity (a Query for its head) and the catalog content store (the
 * entries, by digest), and kept until a newer sync is due (the snapshot is older than one poll
 * time), so planning does not query the entity every time. A sync that left the catalog as it was
 * (same digest) costs a Query: the entries are not read again and the offers are only re-dated.
 * The combined offer index is built once per set of snapshots and reused by every decision.
 */
import { indexOffers, type OfferIndex } from '../../routing/rankOffers.js';
import type { Offer } from '../../routing/offer.js';
import { offersFromSnapshot, type CatalogSnapshot } from './snapshot.js';

export interface SnapshotReader {
  /** The latest snapshot; `known` is the one held now (its entries are reused when the digest is the same). */
  snapshot(connection: string, known?: CatalogSnapshot): Promise<CatalogSnapshot | undefined>;
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
    const known = hit?.catalog?.snapshot;
    const snapshot = await this.reader.snapshot(connection, known);
    const catalog = !snapshot
      ? undefined
      : hit?.catalog && known!.seq === snapshot.seq && known!.syncedAt === snapshot.syncedAt
        ? hit.catalog
        : hit?.catalog && snapshot.digest !== undefined && known!.digest === snapshot.digest
          ? { snapshot, offers: hit.catalog.offers.map((o) => ({ ...o, seenAt: snapshot.syncedAt })) }
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
