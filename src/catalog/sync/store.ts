/**
 * The state of one connection's catalog entity (pure): the head of its synced catalog (the digest of
 * the catalog in the catalog content store, with its counts and integrity issues), a bounded
 * history of changes and syncs, and the last failure. The entity workflow holds it; these functions
 * are its whole logic, so they are unit-testable and deterministic.
 *
 * The catalog itself is not here: it lives outside history, content-addressed (./contentStore.ts),
 * so the entity's state and every message stay a few hundred KB at most whatever the catalog's size.
 * Entities of older versions carried the whole snapshot in `snapshot`; their syncs (requests with a
 * `diff`) still apply, and the first sync of this version moves the catalog out.
 */
import { applyDiff, changeRecords, type CatalogChange, type CatalogDiff } from './diff.js';
import type { CatalogSnapshot, IntegrityIssue } from './snapshot.js';

/**
 * Bounds that keep the entity's state small: it is carried across continue-as-new in one payload
 * (2 MB limit). A change record is ~200 B, so ~400 KB at most.
 */
export const MAX_CHANGES = 2_000;
export const MAX_SYNC_RECORDS = 20;
/**
 * Change records one sync sends inline (~100 KB); a larger sync (a first sync of a big catalog)
 * sends these and the digest of all of them, stored in the catalog content store.
 */
export const MAX_INLINE_CHANGES = 500;

export interface SyncRecord {
  seq: number;
  at: string;
  added: number;
  removed: number;
  changed: number;
  /** Entries listed by the provider at this sync. */
  listed: number;
  issues: number;
  /** Digest of the catalog after this sync. */
  digest?: string;
  /** Digest of all this sync's change records, when more than MAX_INLINE_CHANGES (only those are kept inline). */
  changesDigest?: string;
}

/** The synced catalog as the entity knows it: where its content is, and what it says. */
export interface CatalogHead {
  connection: string;
  provider: string;
  /** The provider's instance-type poll time: the sync period, and the unit of staleness. */
  pollMs: number;
  seq: number;
  syncedAt: string;
  /** `sha256:<hex>` of the catalog's canonical serialization, in the catalog content store. */
  digest: string;
  /** Size of that serialization. */
  bytes: number;
  /** Entries, removed ones included. */
  entries: number;
  listed: number;
  removed: number;
  unusable: number;
  issues: IntegrityIssue[];
}

export interface CatalogStoreState {
  connection: string;
  head?: CatalogHead;
  /** The whole snapshot, in entities of versions before the content store (gone after their next sync). */
  snapshot?: CatalogSnapshot;
  /** Oldest first, at most MAX_CHANGES. */
  changes: CatalogChange[];
  /** Newest last, at most MAX_SYNC_RECORDS. */
  syncs: SyncRecord[];
  lastFailure?: { at: string; error: string };
}

/**
 * One sync's result, sent by the sync activity after it stored the new catalog: the new head and the
 * changes against the catalog at `baseSeq` (and `baseDigest`).
 */
export interface ApplySyncRequest {
  baseSeq: number;
  /** The digest of the catalog the diff was computed against (absent: none, or an older version's snapshot). */
  baseDigest?: string;
  provider: string;
  pollMs: number;
  syncedAt: string;
  catalog: { digest: string; bytes: number; entries: number; listed: number; removed: number; unusable: number };
  counts: { added: number; removed: number; changed: number };
  /** The first MAX_INLINE_CHANGES change records. */
  changes: CatalogChange[];
  /** All change records, when there are more than those. */
  changesDigest?: string;
  issues: IntegrityIssue[];
}

/** A sync of the versions before the content store: the whole diff inline. Still applied (histories, rolling deploys). */
export interface LegacyApplySyncRequest {
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
  /** Every digest the entity references now: the catalog content store must keep these. */
  keep?: string[];
}

export interface CatalogStatus {
  connection: string;
  provider?: string;
  seq: number;
  syncedAt?: string;
  pollMs?: number;
  /** Digest and size of the synced catalog in the catalog content store. */
  digest?: string;
  bytes?: number;
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

/** What the `catalogHead` Query answers: the head, or an older version's inline snapshot; and what to keep. */
export interface CatalogHeadView {
  head?: CatalogHead;
  legacySnapshot?: CatalogSnapshot;
  /** Sync records, newest last (their change digests). */
  syncs: SyncRecord[];
  keep: string[];
}

export function newStoreState(connection: string): CatalogStoreState {
  return { connection, changes: [], syncs: [] };
}

export function currentSeq(state: CatalogStoreState): number {
  return state.head?.seq ?? state.snapshot?.seq ?? 0;
}

function currentSyncedAt(state: CatalogStoreState): string | undefined {
  return state.head?.syncedAt ?? state.snapshot?.syncedAt;
}

export function isLegacyRequest(req: ApplySyncRequest | LegacyApplySyncRequest): req is LegacyApplySyncRequest {
  return 'diff' in req;
}

/** Why a sync cannot be applied (it was computed against another catalog), or undefined. */
export function checkApplySync(state: CatalogStoreState, req: ApplySyncRequest | LegacyApplySyncRequest): string | undefined {
  const seq = currentSeq(state);
  if (req.baseSeq !== seq) return `catalog of ${state.connection} is at sync ${seq}, the diff was computed against sync ${req.baseSeq}: recompute it`;
  if (!isLegacyRequest(req) && state.head && req.baseDigest !== state.head.digest) {
    return `catalog of ${state.connection} is ${state.head.digest}, the diff was computed against ${req.baseDigest ?? 'no catalog'}: recompute it`;
  }
  if (isLegacyRequest(req) && state.head) return `catalog of ${state.connection} is in the content store now: an older worker's inline diff cannot apply; recompute it`;
  const at = currentSyncedAt(state);
  if (at && Date.parse(req.syncedAt) < Date.parse(at)) return `sync time ${req.syncedAt} is older than the stored ${at}`;
  return undefined;
}

/** The digests the entity references: its catalog and the change lists of its recent syncs. */
export function referencedDigests(state: CatalogStoreState): string[] {
  const keep = new Set<string>();
  if (state.head) keep.add(state.head.digest);
  for (const s of state.syncs) if (s.changesDigest) keep.add(s.changesDigest);
  return [...keep];
}

function pushBounded<T>(list: T[], items: readonly T[], max: number): void {
  list.push(...items);
  if (list.length > max) list.splice(0, list.length - max);
}

export function applySync(state: CatalogStoreState, req: ApplySyncRequest | LegacyApplySyncRequest): ApplySyncResult {
  if (isLegacyRequest(req)) return applyLegacySync(state, req);
  const seq = currentSeq(state) + 1;
  const { catalog } = req;
  state.head = {
    connection: state.connection,
    provider: req.provider,
    pollMs: req.pollMs,
    seq,
    syncedAt: req.syncedAt,
    digest: catalog.digest,
    bytes: catalog.bytes,
    entries: catalog.entries,
    listed: catalog.listed,
    removed: catalog.removed,
    unusable: catalog.unusable,
    issues: req.issues,
  };
  delete state.snapshot;
  pushBounded(
    state.changes,
    req.changes.slice(0, MAX_INLINE_CHANGES).map((c) => ({ ...c, seq, at: req.syncedAt, connection: state.connection })),
    MAX_CHANGES,
  );
  const record: SyncRecord = {
    seq,
    at: req.syncedAt,
    ...req.counts,
    listed: catalog.listed,
    issues: req.issues.length,
    digest: catalog.digest,
    ...(req.changesDigest ? { changesDigest: req.changesDigest } : {}),
  };
  pushBounded(state.syncs, [record], MAX_SYNC_RECORDS);
  delete state.lastFailure;
  return { seq, ...req.counts, listed: catalog.listed, issues: req.issues, keep: referencedDigests(state) };
}

function applyLegacySync(state: CatalogStoreState, req: LegacyApplySyncRequest): ApplySyncResult {
  const snapshot = applyDiff(state.snapshot, req.diff, {
    connection: state.connection,
    provider: req.provider,
    pollMs: req.pollMs,
    syncedAt: req.syncedAt,
    issues: req.issues,
  });
  state.snapshot = snapshot;
  pushBounded(state.changes, changeRecords(req.diff, state.connection, snapshot.seq, req.syncedAt), MAX_CHANGES);
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
  pushBounded(state.syncs, [record], MAX_SYNC_RECORDS);
  delete state.lastFailure;
  return { seq: record.seq, added: record.added, removed: record.removed, changed: record.changed, listed, issues: req.issues };
}

export function recordFailure(state: CatalogStoreState, at: string, error: string): void {
  state.lastFailure = { at, error: error.slice(0, 500) };
}

export function headView(state: CatalogStoreState): CatalogHeadView {
  return {
    ...(state.head ? { head: state.head } : state.snapshot ? { legacySnapshot: state.snapshot } : {}),
    syncs: state.syncs,
    keep: referencedDigests(state),
  };
}

export function storeStatus(state: CatalogStoreState): CatalogStatus {
  const common = {
    connection: state.connection,
    ...(state.lastFailure ? { lastFailure: state.lastFailure } : {}),
    recentSyncs: state.syncs.slice(-5),
  };
  const h = state.head;
  if (h) {
    return {
      ...common,
      provider: h.provider,
      syncedAt: h.syncedAt,
      pollMs: h.pollMs,
      digest: h.digest,
      bytes: h.bytes,
      seq: h.seq,
      listed: h.listed,
      removed: h.removed,
      unusable: h.unusable,
      issues: h.issues,
    };
  }
  const s = state.snapshot;
  const listed = s?.entries.filter((e) => !e.removedAt) ?? [];
  return {
    ...common,
    ...(s ? { provider: s.provider, syncedAt: s.syncedAt, pollMs: s.pollMs } : {}),
    seq: s?.seq ?? 0,
    listed: listed.length,
    removed: (s?.entries.length ?? 0) - listed.length,
    unusable: listed.filter((e) => e.unusable || !e.country).length,
    issues: s?.issues ?? [],
  };
}

/** Changes at or after `sinceMs` (epoch ms), newest last, at most `limit` (the newest ones). */
export function changesSince(state: CatalogStoreState, sinceMs = 0, limit = MAX_CHANGES): CatalogChange[] {
  const hits = state.changes.filter((c) => Date.parse(c.at) >= sinceMs);
  return hits.slice(Math.max(0, hits.length - limit));
}
