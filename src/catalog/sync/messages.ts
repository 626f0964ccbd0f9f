/**
 * The catalog entity workflow's public surface (one entity per provider connection): its Updates
 * and Queries, plus its workflow ID. Dependency-free (types only), so clients, activities and
 * workflows share it safely.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { CatalogChange } from './diff.js';
import type { CatalogSnapshot } from './snapshot.js';
import type { ApplySyncRequest, ApplySyncResult, CatalogHeadView, CatalogStatus, LegacyApplySyncRequest } from './store.js';

/** The entity holding a connection's synced catalog. */
export function catalogStoreWorkflowId(connection: string): string {
  return `catalog:${connection}`;
}

/**
 * Applies one sync (the new catalog's digest and its changes); the validator rejects one computed
 * against another catalog. Older workers send the whole diff instead (LegacyApplySyncRequest).
 */
export const applyCatalogSyncUpdate = defineUpdate<ApplySyncResult, [ApplySyncRequest | LegacyApplySyncRequest]>('applyCatalogSync');
/** Records that a sync could not read the provider (the snapshot stays, and ages). */
export const recordCatalogSyncFailureUpdate = defineUpdate<void, [{ at: string; error: string }]>('recordCatalogSyncFailure');

/** Where the catalog is (its digest in the catalog content store), what the entity references. */
export const catalogHeadQuery = defineQuery<CatalogHeadView>('catalogHead');
/** The inline snapshot of an entity of an older version (null once its catalog is in the content store). */
export const catalogSnapshotQuery = defineQuery<CatalogSnapshot | null>('catalogSnapshot');
export const catalogStatusQuery = defineQuery<CatalogStatus>('catalogStatus');
export const catalogChangesQuery = defineQuery<CatalogChange[], [{ sinceMs?: number; limit?: number }]>('catalogChanges');
