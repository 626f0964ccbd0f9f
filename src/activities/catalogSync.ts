/**
 * Catalog sync activities: read one connection's instance types and locations, diff them against
 * the stored snapshot and apply the diff to the connection's catalog entity (through the worker's
 * own Temporal client); record a sync that failed for good. Only a summary goes back into the
 * sync workflow's history.
 */
import { Context } from '@temporalio/activity';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { CatalogStoreClient } from '../catalog/sync/client.js';
import { diffCatalog, isEmptyDiff } from '../catalog/sync/diff.js';
import { normalizeListing, type IntegrityIssue } from '../catalog/sync/snapshot.js';
import type { ProviderRegistry } from '../providers/registry.js';

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

/** Bounds what one sync stores and returns: a broken provider must not flood history. */
const MAX_STORED_ISSUES = 200;
const MAX_SUMMARY_ISSUES = 10;
const CONFLICT_RETRIES = 3;

function isConflict(e: unknown): boolean {
  return e instanceof WorkflowUpdateFailedError && e.cause instanceof ApplicationFailure && e.cause.type === 'CatalogSyncConflict';
}

export function catalogSyncActivities(deps: { registry: ProviderRegistry }) {
  const store = () => {
    const ctx = Context.current();
    return new CatalogStoreClient(ctx.client, ctx.info.taskQueue);
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
      for (let attempt = 0; ; attempt++) {
        const prev = await catalogs.snapshot(connection);
        const { diff, issues } = diffCatalog(prev, listing, syncedAt);
        try {
          const r = await catalogs.apply(connection, {
            baseSeq: prev?.seq ?? 0,
            provider: client.getCloudProviderId(),
            pollMs: client.getInstanceTypePollTimeMs(),
            syncedAt,
            diff,
            issues: issues.slice(0, MAX_STORED_ISSUES),
          });
          if (!isEmptyDiff(diff) || issues.length) {
            Context.current().log.info('catalog synced', { connection, seq: r.seq, added: r.added, removed: r.removed, changed: r.changed, issues: issues.length });
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
