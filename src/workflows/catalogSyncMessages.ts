/**
 * The catalog entity workflow's public surface (one entity per provider connection): its Updates
 * and Queries, plus its workflow ID. Dependency-free (types only), so clients, activities and
 * workflows share it safely.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { CatalogChange } from '../catalog/sync/diff.js';
import type { CatalogSnapshot } from '../catalog/sync/snapshot.js';
import type { ApplySyncRequest, ApplySyncResult, CatalogStatus } from '../catalog/sync/store.js';

/** The entity holding a connection's synced catalog. */
export function catalogStoreWorkflowId(connection: string): string {
  return `catalog:${connection}`;
}

/** Applies one sync's diff; the validator rejects a diff computed against another snapshot. */
export const applyCatalogSyncUpdate = defineUpdate<ApplySyncResult, [ApplySyncRequest]>('applyCatalogSync');
/** Records that a sync could not read the provider (the snapshot stays, and ages). */
export const recordCatalogSyncFailureUpdate = defineUpdate<void, [{ at: string; error: string }]>('recordCatalogSyncFailure');

export const catalogSnapshotQuery = defineQuery<CatalogSnapshot | null>('catalogSnapshot');
export const catalogStatusQuery = defineQuery<CatalogStatus>('catalogStatus');
export const catalogChangesQuery = defineQuery<CatalogChange[], [{ sinceMs?: number; limit?: number }]>('catalogChanges');
