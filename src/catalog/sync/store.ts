/**
 * The state of one connection's catalog entity (pure): the latest snapshot, a bounded history of
 * changes and syncs, and the last failure. The entity workflow holds it; these functions are its
 * whole logic, so they are unit-testable and deterministic.
 */
import { applyDiff, changeRecords, type CatalogChange, type CatalogDiff } from './diff.js';
import type { CatalogSnapshot, IntegrityIssue } from './snapshot.js';

/**
 * Bounds that keep the entity's state small: it is carried across continue-as-new in one payload
 * (2 MB limit), next to the snapshot. A change record is ~200 B, so ~400 KB at most.
 */
export const MAX_CHANGES = 2_000;
export const MAX_SYNC_RECORDS = 20;

export interface SyncRecord {
  seq: number;
  at: string;
  added: number;
  removed: number;
  changed: number;
  /** Entries listed by the provider at this sync. */
  listed: number;
  issues: number;
}

export interface CatalogStoreState {
  connection: string;
  snapshot?: CatalogSnapshot;
  /** Oldest first, at most MAX_CHANGES. */
  changes: CatalogChange[];
  /** Newest last, at most MAX_SYNC_RECORDS. */
  syncs: SyncRecord[];
  lastFailure?: { at: string; error: string };
}

/** One sync's result, sent by the sync activity: the diff against the snapshot at `baseSeq`. */
export interface ApplySyncRequest {
  baseSeq: number;
  provider: string;
  pollMs: number;
  syncedAt: string;
  diff: CatalogDiff;
  issues: IntegrityIssue[];
}

export interface ApplySyncResult {
  seq: number;
  added: number;
  removed: number;
  changed: number;
  listed: number;
  issues: IntegrityIssue[];
}

export interface CatalogStatus {
  connection: string;
  provider?: string;
  seq: number;
  syncedAt?: string;
  pollMs?: number;
  /** Entries the provider lists now. */
  listed: number;
  /** Entries kept as removed. */
  removed: number;
  /** Listed entries routing may not use (ambiguous IDs, unknown locations). */
  unusable: number;
  issues: IntegrityIssue[];
  lastFailure?: { at: string; error: string };
  recentSyncs: SyncRecord[];
}

export function newStoreState(connection: string): CatalogStoreState {
  return { connection, changes: [], syncs: [] };
}

/** Why a sync cannot be applied (it was computed against another snapshot), or undefined. */
export function checkApplySync(state: CatalogStoreState, req: ApplySyncRequest): string | undefined {
  const seq = state.snapshot?.seq ?? 0;
  if (req.baseSeq !== seq) return `catalog of ${state.connection} is at sync ${seq}, the diff was computed against sync ${req.baseSeq}: recompute it`;
  if (state.snapshot && Date.parse(req.syncedAt) < Date.parse(state.snapshot.syncedAt)) return `sync time ${req.syncedAt} is older than the stored ${state.snapshot.syncedAt}`;
  return undefined;
}

export function applySync(state: CatalogStoreState, req: ApplySyncRequest): ApplySyncResult {
  const snapshot = applyDiff(state.snapshot, req.diff, {
    connection: state.connection,
    provider: req.provider,
    pollMs: req.pollMs,
    syncedAt: req.syncedAt,
    issues: req.issues,
  });
  state.snapshot = snapshot;
  state.changes.push(...changeRecords(req.diff, state.connection, snapshot.seq, req.syncedAt));
  if (state.changes.length > MAX_CHANGES) state.changes.splice(0, state.changes.length - MAX_CHANGES);
  const listed = snapshot.entries.filter((e) => !e.removedAt).length;
  const record: SyncRecord = {
    seq: snapshot.seq,
    at: req.syncedAt,
    added: req.diff.added.length,
    removed: req.diff.removed.length,
    changed: req.diff.changed.length,
    listed,
    issues: req.issues.length,
  };
  state.syncs.push(record);
  if (state.syncs.length > MAX_SYNC_RECORDS) state.syncs.splice(0, state.syncs.length - MAX_SYNC_RECORDS);
  delete state.lastFailure;
  return { seq: record.seq, added: record.added, removed: record.removed, changed: record.changed, listed, issues: req.issues };
}

export function recordFailure(state: CatalogStoreState, at: string, error: string): void {
  state.lastFailure = { at, error: error.slice(0, 500) };
}

export function storeStatus(state: CatalogStoreState): CatalogStatus {
  const s = state.snapshot;
  const listed = s?.entries.filter((e) => !e.removedAt) ?? [];
  return {
    connection: state.connection,
    ...(s ? { provider: s.provider, syncedAt: s.syncedAt, pollMs: s.pollMs } : {}),
    seq: s?.seq ?? 0,
    listed: listed.length,
    removed: (s?.entries.length ?? 0) - listed.length,
    unusable: listed.filter((e) => e.unusable || !e.country).length,
    issues: s?.issues ?? [],
    ...(state.lastFailure ? { lastFailure: state.lastFailure } : {}),
    recentSyncs: state.syncs.slice(-5),
  };
}

/** Changes at or after `sinceMs` (epoch ms), newest last, at most `limit` (the newest ones). */
export function changesSince(state: CatalogStoreState, sinceMs = 0, limit = MAX_CHANGES): CatalogChange[] {
  const hits = state.changes.filter((c) => Date.parse(c.at) >= sinceMs);
  return hits.slice(Math.max(0, hits.length - limit));
}
