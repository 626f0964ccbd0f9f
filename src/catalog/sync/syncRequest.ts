/**
 * One sync, prepared: the provider's listing diffed against the synced catalog, the new catalog and
 * its canonical serialization (what the catalog content store keeps), and the Update the catalog
 * entity applies (digest, counts, at most MAX_INLINE_CHANGES change records, the digest of all of
 * them when more). No I/O: the sync activity stores the blobs and sends the request; tests build
 * the same requests.
 */
import { serializeCatalog, serializeChanges, type SerializedBlob } from './contentStore.js';
import { applyDiff, changeRecords, diffCatalog, isEmptyDiff, type CatalogDiff } from './diff.js';
import type { CatalogSnapshot, IntegrityIssue, Listing } from './snapshot.js';
import { MAX_INLINE_CHANGES, type ApplySyncRequest } from './store.js';

/** Bounds what one sync stores: a broken provider must not flood history. */
export const MAX_STORED_ISSUES = 200;

export interface PreparedSync {
  request: ApplySyncRequest;
  diff: CatalogDiff;
  /** Every issue found (the request carries at most MAX_STORED_ISSUES). */
  issues: IntegrityIssue[];
  /** The catalog after the sync (its seq and digest as the entity will have them). */
  next: CatalogSnapshot;
  /** To store before the request is sent: the new catalog (absent when unchanged) and the full change list (when large). */
  blobs: SerializedBlob[];
}

export function prepareSync(prev: CatalogSnapshot | undefined, listing: Listing, meta: { connection: string; provider: string; pollMs: number; syncedAt: string }): PreparedSync {
  const { connection, provider, pollMs, syncedAt } = meta;
  const { diff, issues } = diffCatalog(prev, listing, syncedAt);
  const applied = applyDiff(prev, diff, { connection, provider, pollMs, syncedAt, issues });
  // Unchanged (nothing added, changed, removed or pruned): the same catalog, stored already.
  const same = prev?.digest !== undefined && isEmptyDiff(diff) && applied.entries.length === prev.entries.length;
  const blobs: SerializedBlob[] = [];
  const catalogBlob = same ? undefined : serializeCatalog({ connection, provider, entries: applied.entries });
  if (catalogBlob) blobs.push(catalogBlob);
  const digest = catalogBlob?.digest ?? prev!.digest!;
  const bytes = catalogBlob?.bytes.length ?? prev?.bytes ?? 0;
  const next: CatalogSnapshot = { ...applied, digest, bytes };
  const records = changeRecords(diff, connection, next.seq, syncedAt);
  let changesDigest: string | undefined;
  if (records.length > MAX_INLINE_CHANGES) {
    const all = serializeChanges(connection, records);
    blobs.push(all);
    changesDigest = all.digest;
  }
  const listed = next.entries.filter((e) => !e.removedAt);
  const request: ApplySyncRequest = {
    baseSeq: prev?.seq ?? 0,
    ...(prev?.digest ? { baseDigest: prev.digest } : {}),
    provider,
    pollMs,
    syncedAt,
    catalog: {
      digest,
      bytes,
      entries: next.entries.length,
      listed: listed.length,
      removed: next.entries.length - listed.length,
      unusable: listed.filter((e) => e.unusable || !e.country).length,
    },
    counts: { added: diff.added.length, removed: diff.removed.length, changed: diff.changed.length },
    changes: records.slice(0, MAX_INLINE_CHANGES),
    ...(changesDigest ? { changesDigest } : {}),
    issues: issues.slice(0, MAX_STORED_ISSUES),
  };
  return { request, diff, issues, next, blobs };
}
