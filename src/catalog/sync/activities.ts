/**
 * Catalog sync activities: read one connection's instance types and locations, diff them against
 * the synced catalog, store the new catalog in the catalog content store (by digest) and apply the
 * sync to the connection's catalog entity (through the worker's own Temporal client): its digest,
 * counts and change records, at most MAX_INLINE_CHANGES of them inline (all of them, when more, as
 * a blob of the content store). Then collect the blobs nothing references any more. Record a sync
 * that failed for good. Only a summary goes back into the sync workflow's history.
 */
import { Context } from '@temporalio/activity';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { CatalogStoreClient } from './client.js';
import { openCatalogContentStore, type CatalogContentStore } from './contentStore.js';
import { isEmptyDiff } from './diff.js';
import { normalizeListing, type CatalogSnapshot, type IntegrityIssue } from './snapshot.js';
import { prepareSync } from './syncRequest.js';
import type { ProviderRegistry } from '../../providers/registry.js';

export interface CatalogSyncSummary {
  connection: string;
  seq: number;
  syncedAt: string;
  listed: number;
  added: number;
  removed: number;
  changed: number;
  /** Integrity issues of this sync (at most MAX_SUMMARY_ISSUES; `issueCount` has them all). */
  issues: IntegrityIssue[];
  issueCount: number;
}

/** Bounds what one sync returns: a broken provider must not flood history. */
const MAX_SUMMARY_ISSUES = 10;
const CONFLICT_RETRIES = 3;
/**
 * A blob nothing references is deleted only when older than this: a sync that stored one a moment
 * ago may be about to reference it (several times a sync activity's start-to-close timeout).
 */
export const UNREFERENCED_GRACE_MS = 10 * 60_000;

function isConflict(e: unknown): boolean {
  return e instanceof WorkflowUpdateFailedError && e.cause instanceof ApplicationFailure && e.cause.type === 'CatalogSyncConflict';
}

export function catalogSyncActivities(deps: { registry: ProviderRegistry; contents?: CatalogContentStore }) {
  const contents = deps.contents ?? openCatalogContentStore();
  /**
   * The catalog this worker synced last, per connection: the next sync diffs against it without
   * reading it back from the store (when the entity still names its digest).
   */
  const lastSynced = new Map<string, CatalogSnapshot>();
  const store = () => {
    const ctx = Context.current();
    return new CatalogStoreClient(ctx.client, ctx.info.taskQueue, { contents });
  };

  return {
    async syncCatalog({ connection }: { connection: string }): Promise<CatalogSyncSummary> {
      if (!deps.registry.names().includes(connection)) {
        throw ApplicationFailure.create({
          type: 'UnknownConnection',
          nonRetryable: true,
          message: `this worker has no provider connection named "${connection}" (it has: ${deps.registry.names().join(', ') || 'none'}); delete the schedule gpuflow-catalog-${connection} or add the connection`,
        });
      }
      const client = await deps.registry.client(connection);
      const [types, locations] = await Promise.all([client.getInstanceTypes({}), client.getLocations({ includeUnavailable: true })]);
      const syncedAt = new Date().toISOString();
      const listing = normalizeListing(types, locations);
      const catalogs = store();
      let prev = lastSynced.get(connection);
      lastSynced.delete(connection);
      for (let attempt = 0; ; attempt++) {
        prev = await catalogs.snapshot(connection, prev);
        const { request, diff, issues, blobs, next } = prepareSync(prev, listing, { connection, provider: client.getCloudProviderId(), pollMs: client.getInstanceTypePollTimeMs(), syncedAt });
        for (const b of blobs) await contents.put(connection, b);
        const digest = request.catalog.digest;
        try {
          const r = await catalogs.apply(connection, request);
          lastSynced.set(connection, next);
          if (!isEmptyDiff(diff) || issues.length) {
            Context.current().log.info('catalog synced', { connection, seq: r.seq, added: r.added, removed: r.removed, changed: r.changed, issues: issues.length, digest });
          }
          if (r.keep) {
            await contents.collect(connection, new Set(r.keep), UNREFERENCED_GRACE_MS).catch((e: Error) => Context.current().log.warn('collecting old catalogs failed', { connection, error: e.message }));
          }
          return { connection, seq: r.seq, syncedAt, listed: r.listed, added: r.added, removed: r.removed, changed: r.changed, issues: issues.slice(0, MAX_SUMMARY_ISSUES), issueCount: issues.length };
        } catch (e) {
          // Another sync (a manual trigger) applied first: diff against what it stored.
          if (!isConflict(e) || attempt >= CONFLICT_RETRIES) throw e;
        }
      }
    },

    async recordCatalogSyncFailure({ connection, error }: { connection: string; error: string }): Promise<void> {
      await store().recordFailure(connection, error);
    },
  };
}

/** What the sync workflow proxies (./workflow.ts). */
export type CatalogSyncActivities = ReturnType<typeof catalogSyncActivities>;
