/**
 * Plans a workload: every connection's offers, ranked against the workload's constraints.
 *
 * Offers come from each connection's synced catalog (the catalog entity kept by the sync schedule)
 * while it is fresh; a connection never synced, or whose catalog is stale (older than
 * DEFAULT_STALE_POLL_MULTIPLE × its poll time: syncs failing or paused), is read live, so a fresh
 * install works. Stale offers are never chosen: when the live read fails too, the stale offers are
 * still ranked and rejected as stale, which says why. When every connection is served from its
 * synced catalog the prebuilt index of those catalogs is reused across decisions.
 */
import { Context } from '@temporalio/activity';
import { CatalogStoreClient } from '../catalog/sync/client.js';
import { isSnapshotStale, normalizeListing, offersFromSnapshot } from '../catalog/sync/snapshot.js';
import { SyncedCatalogs, type SyncedCatalog } from '../catalog/sync/syncedCatalogs.js';
import { constraintsFromSpec } from '../routing/constraints.js';
import type { Offer } from '../routing/offer.js';
import { DEFAULT_STALE_POLL_MULTIPLE, indexOffers, rankOffers, type OfferIndex } from '../routing/rankOffers.js';
import { applyRegionPreferences } from '../routing/regionPreferences.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { PlanCandidatesInput, PlanCandidatesResult } from './types.js';

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

export function planCandidatesActivity(registry: ProviderRegistry, opts: { synced?: SyncedCatalogs } = {}) {
  let synced = opts.synced;
  /** The worker's catalogs, read through its own Temporal client (the first activity call makes them). */
  const syncedCatalogs = (): SyncedCatalogs => {
    if (!synced) {
      const ctx = Context.current();
      synced = new SyncedCatalogs(new CatalogStoreClient(ctx.client, ctx.info.taskQueue));
    }
    return synced;
  };
  return async function planCandidates(input: PlanCandidatesInput): Promise<PlanCandidatesResult> {
    const now = new Date();
    const { offers, unreachable, maxAgeMs, index } = await collectOffers(registry, { synced: syncedCatalogs(), now });
    const ranking = rankOffers(index, constraintsFromSpec(input.spec), { blocked: input.blocked, limit: input.limit, now, maxAgeMs });
    const counts = new Map<string, number>();
    for (const r of ranking.rejected) counts.set(r.reason, (counts.get(r.reason) ?? 0) + 1);
    const rejectedReasons = [...counts.entries()]
      .map(([reason, count]) => ({ reason, count }))
      .sort((a, b) => b.count - a.count)
      .slice(0, 10);
    return { candidates: ranking.candidates, offersConsidered: offers.length, rejectedReasons, unreachable };
  };
}
