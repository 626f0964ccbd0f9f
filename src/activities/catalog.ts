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
import { SyncedCatalogs } from '../catalog/sync/syncedCatalogs.js';
import type { CatalogContentStore } from '../catalog/sync/contentStore.js';
import { constraintsFromSpec } from '../routing/constraints.js';
import { rankOffers } from '../routing/rankOffers.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { PlanCandidatesInput, PlanCandidatesResult } from './types.js';
import { collectOffers } from '../catalog/offers.js';

export function planCandidatesActivity(registry: ProviderRegistry, opts: { synced?: SyncedCatalogs; contents?: CatalogContentStore } = {}) {
  let synced = opts.synced;
  /** The worker's catalogs, read through its own Temporal client (the first activity call makes them). */
  const syncedCatalogs = (): SyncedCatalogs => {
    if (!synced) {
      const ctx = Context.current();
      synced = new SyncedCatalogs(new CatalogStoreClient(ctx.client, ctx.info.taskQueue, opts.contents ? { contents: opts.contents } : {}));
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
