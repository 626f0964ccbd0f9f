/**
 * The sync loop's public surface (one loop per provider connection, `gpuflow-catalog-sync-<connection>`):
 * its Signal, Update and Query. Dependency-free (types only), so clients and workflows share it.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

export function catalogSyncLoopWorkflowId(connection: string): string {
  return `gpuflow-catalog-sync-${connection}`;
}

export interface CatalogSyncLoopState {
  connection: string;
  everyMs: number;
  paused: boolean;
  /** When the timed syncs were paused (ISO), while paused. */
  pausedAt?: string;
  /** Why, as the operator said it (`gpuflow catalog pause --reason`), while paused. */
  pauseReason?: string;
  /** A sync activity is in flight. */
  syncing: boolean;
  /** Syncs run by this execution (it continues-as-new, so this restarts). */
  syncs: number;
  /** When the next timed sync is due (ISO), absent while paused. */
  nextAt?: string;
}

/** Run a sync now (also while paused), unless one is running: then that one is enough. */
export const syncCatalogNowSignal = defineSignal('syncCatalogNow');
export interface CatalogSyncSettings {
  everyMs?: number;
  paused?: boolean;
  /** With paused: true, why (shown by `gpuflow catalog status`). */
  reason?: string;
}

/** Change the poll interval or pause/resume the timed syncs. */
export const configureCatalogSyncUpdate = defineUpdate<CatalogSyncLoopState, [CatalogSyncSettings]>('configureCatalogSync');
export const catalogSyncLoopQuery = defineQuery<CatalogSyncLoopState>('catalogSyncLoop');
