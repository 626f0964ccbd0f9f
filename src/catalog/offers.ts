/**
 * The offers of every connection a worker (or the CLI) has: from the synced catalog when it is
 * fresh, else read live from the provider (a stale synced catalog is the last resort). Used by the
 * planning activity (src/activities/catalog.ts) and by `gpuflow offers`.
 */
import { isSnapshotStale, normalizeListing, offersFromSnapshot } from './sync/snapshot.js';
import { SyncedCatalogs, type SyncedCatalog } from './sync/syncedCatalogs.js';
import type { Offer } from '../routing/offer.js';
import { DEFAULT_STALE_POLL_MULTIPLE, indexOffers, type OfferIndex } from '../routing/rankOffers.js';
import { applyRegionPreferences } from '../routing/regionPreferences.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { PlanCandidatesResult } from '../activities/types.js';

/** Where a connection's offers came from in one collection. */
export type OfferSource = 'synced' | 'live' | 'stale-synced';

export interface CollectedOffers {
  offers: Offer[];
  unreachable: PlanCandidatesResult['unreachable'];
  /** Offers older than this (per connection) are never chosen. */
  maxAgeMs: Record<string, number>;
  sources: Record<string, OfferSource>;
  /** The offers, indexed for ranking. */
  index: OfferIndex;
}

export interface CollectOptions {
  /** The synced catalogs; without it every connection is read live. */
  synced?: SyncedCatalogs;
  now?: Date;
  staleAfterPolls?: number;
}

/** One live read of a connection's catalog, normalized like a sync (duplicate IDs are not routed). */
async function liveOffers(registry: ProviderRegistry, name: string, at: Date): Promise<{ offers: Offer[]; pollMs: number }> {
  const client = await registry.client(name);
  const [types, locations] = await Promise.all([client.getInstanceTypes({}), client.getLocations({ includeUnavailable: true })]);
  const { entries } = normalizeListing(types, locations);
  const syncedAt = at.toISOString();
  const pollMs = client.getInstanceTypePollTimeMs();
  const snapshot = { connection: name, provider: client.getCloudProviderId(), pollMs, seq: 0, syncedAt, issues: [], entries: entries.map((e) => ({ ...e, firstSeenAt: syncedAt })) };
  return { offers: offersFromSnapshot(snapshot), pollMs };
}

interface ConnectionRead {
  offers: Offer[];
  source?: OfferSource;
  /** Set when the offers are a fresh synced catalog (their index can be reused). */
  fresh?: SyncedCatalog;
  maxAgeMs?: number;
  error?: string;
}

/** One connection's offers: its synced catalog while fresh, else a live read, else the stale catalog. */
async function readConnection(registry: ProviderRegistry, name: string, now: Date, multiple: number, syncedCatalogs?: SyncedCatalogs): Promise<ConnectionRead> {
  let synced: SyncedCatalog | undefined;
  try {
    synced = await syncedCatalogs?.read(name, now.getTime());
  } catch {
    synced = undefined; // the store unreachable is no reason not to plan: read the provider
  }
  if (synced && !isSnapshotStale(synced.snapshot, now.getTime(), multiple)) {
    return { offers: synced.offers, source: 'synced', fresh: synced, maxAgeMs: synced.snapshot.pollMs * multiple };
  }
  try {
    const live = await liveOffers(registry, name, now);
    return { offers: live.offers, source: 'live', maxAgeMs: live.pollMs * multiple };
  } catch (e) {
    const error = (e as Error).message;
    return synced ? { offers: synced.offers, source: 'stale-synced', maxAgeMs: synced.snapshot.pollMs * multiple, error } : { offers: [], error };
  }
}

export async function collectOffers(registry: ProviderRegistry, opts: CollectOptions = {}): Promise<CollectedOffers> {
  const now = opts.now ?? new Date();
  const multiple = opts.staleAfterPolls ?? DEFAULT_STALE_POLL_MULTIPLE;
  const names = registry.names();
  const reads = await Promise.all(names.map((name) => readConnection(registry, name, now, multiple, opts.synced)));
  const unreachable: PlanCandidatesResult['unreachable'] = [];
  const maxAgeMs: Record<string, number> = {};
  const sources: Record<string, OfferSource> = {};
  const perConnection = names.map((name, i) => {
    const r = reads[i]!;
    if (r.error) unreachable.push({ connection: name, error: r.error });
    if (r.maxAgeMs !== undefined) maxAgeMs[name] = r.maxAgeMs;
    if (r.source) sources[name] = r.source;
    // Per-connection adjustments of the offers, whatever their source, belong here.
    return applyRegionPreferences(r.offers, registry.get(name).regionPreferences);
  });
  const offers = perConnection.flat();
  const fresh = reads.map((r) => r.fresh);
  const allFresh = names.length > 0 && fresh.every((c) => c !== undefined);
  const index = allFresh && opts.synced ? opts.synced.indexOf(fresh as SyncedCatalog[], perConnection) : indexOffers(offers);
  return { offers, unreachable, maxAgeMs, sources, index };
}
