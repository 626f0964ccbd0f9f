/**
 * What changed between the synced catalog and the provider's listing now: types added, removed
 * (kept and marked, not deleted), prices and availability changed; plus what the IDs say about the
 * provider: the same type and location under a new ID, or one ID now naming another type. Those are
 * reported as integrity issues and shown as what they look like (removed + added, identity change);
 * they are never merged into one entry.
 *
 * Pure and deterministic: the sync activity computes a diff against the stored snapshot, and the
 * catalog entity workflow applies it (so only changes travel, not the whole catalog every poll).
 */
import type { MoneyJSON } from '../../money/money.js';
import {
  contentKey,
  identityOf,
  type CatalogEntry,
  type CatalogSnapshot,
  type IntegrityIssue,
  type ListedEntry,
  type Listing,
} from './snapshot.js';

export type ChangeField = 'on-demand price' | 'spot price' | 'availability' | 'identity' | 'spec';

export interface FieldChange {
  field: ChangeField;
  from: string;
  to: string;
}

export interface CatalogDiff {
  /** New IDs, and IDs listed again after they were removed (their firstSeenAt restarts). */
  added: CatalogEntry[];
  /** IDs still listed whose contents changed: the entry as it is now and what changed. */
  changed: { entry: CatalogEntry; changes: FieldChange[] }[];
  /** IDs no longer listed. */
  removed: { id: string; type: string; location: string; subLocation: string }[];
}

export interface DiffResult {
  diff: CatalogDiff;
  /** The listing's own issues plus the cross-sync ID issues. */
  issues: IntegrityIssue[];
}

/** Removed entries are kept this long, then pruned from the snapshot. */
export const REMOVED_RETENTION_MS = 30 * 24 * 3_600_000;

/** Exact equality of two amounts, whatever their scales. */
export function sameMoney(a: MoneyJSON | undefined, b: MoneyJSON | undefined): boolean {
  if (!a || !b) return a === b;
  if (a.currency !== b.currency) return false;
  const s = Math.max(a.scale, b.scale);
  return BigInt(a.amount) * 10n ** BigInt(s - a.scale) === BigInt(b.amount) * 10n ** BigInt(s - b.scale);
}

/** "2.49 USD", exact. */
export function moneyText(m: MoneyJSON | undefined): string {
  if (!m) return 'none';
  const neg = m.amount < 0;
  const digits = String(Math.abs(m.amount)).padStart(m.scale + 1, '0');
  const int = digits.slice(0, digits.length - m.scale);
  let frac = m.scale > 0 ? digits.slice(-m.scale).replace(/0+$/, '') : '';
  if (frac.length < 2) frac = frac.padEnd(2, '0');
  return `${neg ? '-' : ''}${int}.${frac} ${m.currency}`;
}

function specText(e: ListedEntry): string {
  const gpu = e.gpu ? `${e.gpu.count}x ${e.gpu.type}` : 'no GPU';
  return `${gpu}, ${e.vcpu} vCPU, ${e.memoryGiB} GiB${e.diskGiB !== undefined ? `, ${e.diskGiB} GiB disk` : ''}, ${e.country || 'no country'}${e.unusable ? `, unusable: ${e.unusable}` : ''}`;
}

function fieldChanges(before: CatalogEntry, now: ListedEntry): FieldChange[] {
  // The common case, an entry as it was: one comparison of its whole content.
  if (before.unusable === now.unusable && contentKey(before) === contentKey(now)) return [];
  const out: FieldChange[] = [];
  if (identityOf(before) !== identityOf(now)) out.push({ field: 'identity', from: identityOf(before), to: identityOf(now) });
  if (!sameMoney(before.onDemandPrice, now.onDemandPrice)) out.push({ field: 'on-demand price', from: moneyText(before.onDemandPrice), to: moneyText(now.onDemandPrice) });
  if (!sameMoney(before.spotPrice, now.spotPrice)) out.push({ field: 'spot price', from: moneyText(before.spotPrice), to: moneyText(now.spotPrice) });
  if (before.available !== now.available) out.push({ field: 'availability', from: before.available ? 'available' : 'unavailable', to: now.available ? 'available' : 'unavailable' });
  // Everything else (GPU, sizes, country, priority, unusable), compared without the fields above.
  const rest = ({ onDemandPrice: _o, spotPrice: _s, ...e }: ListedEntry) =>
    contentKey({ ...e, type: '', location: '', subLocation: '', available: true }) + (e.unusable ?? '');
  if (rest(before) !== rest(now)) out.push({ field: 'spec', from: specText(before), to: specText(now) });
  return out;
}

/** The changes from `prev` (absent: nothing synced yet) to `listing`, seen at `at` (ISO). */
export function diffCatalog(prev: CatalogSnapshot | undefined, listing: Listing, at: string): DiffResult {
  const prevById = new Map((prev?.entries ?? []).map((e) => [e.id, e]));
  const listedIds = new Set(listing.entries.map((e) => e.id));
  const diff: CatalogDiff = { added: [], changed: [], removed: [] };
  const issues = [...listing.issues];
  for (const now of listing.entries) {
    const before = prevById.get(now.id);
    if (!before || before.removedAt) {
      diff.added.push({ ...now, firstSeenAt: at });
      continue;
    }
    const changes = fieldChanges(before, now);
    if (changes.length === 0) continue;
    diff.changed.push({ entry: { ...now, firstSeenAt: before.firstSeenAt }, changes });
    const identity = changes.find((c) => c.field === 'identity');
    if (identity) issues.push({ kind: 'id-reused', id: now.id, message: `instance-type ID ${now.id} was ${identity.from} and now names ${identity.to}: the provider's IDs are not stable` });
  }
  for (const before of prev?.entries ?? []) {
    if (before.removedAt || listedIds.has(before.id)) continue;
    diff.removed.push({ id: before.id, type: before.type, location: before.location, subLocation: before.subLocation });
  }
  // The same type and location under a new ID in one sync: the provider renamed it.
  const addedByIdentity = new Map(diff.added.map((e) => [identityOf(e), e.id]));
  for (const r of diff.removed) {
    const newId = addedByIdentity.get(identityOf(r));
    if (newId) issues.push({ kind: 'id-changed', id: newId, message: `${identityOf(r)} changed its instance-type ID from ${r.id} to ${newId}: the provider's IDs are not stable (shown as removed + added, not merged)` });
  }
  return { diff, issues };
}

export function isEmptyDiff(d: CatalogDiff): boolean {
  return d.added.length === 0 && d.changed.length === 0 && d.removed.length === 0;
}

export interface SyncMeta {
  connection: string;
  provider: string;
  pollMs: number;
  syncedAt: string;
  issues: IntegrityIssue[];
}

/**
 * The snapshot after a sync: `prev` with the diff applied, removed entries marked (and pruned after
 * {@link REMOVED_RETENTION_MS}), sorted by ID. applyDiff(prev, diffCatalog(prev, l, t).diff, ...)
 * holds exactly the listing's entries plus the removed ones.
 */
export function applyDiff(prev: CatalogSnapshot | undefined, diff: CatalogDiff, meta: SyncMeta): CatalogSnapshot {
  const byId = new Map((prev?.entries ?? []).map((e) => [e.id, e]));
  for (const e of diff.added) byId.set(e.id, e);
  for (const c of diff.changed) byId.set(c.entry.id, c.entry);
  for (const r of diff.removed) {
    const e = byId.get(r.id);
    if (e && !e.removedAt) byId.set(r.id, { ...e, available: false, removedAt: meta.syncedAt });
  }
  const cutoff = Date.parse(meta.syncedAt) - REMOVED_RETENTION_MS;
  const entries = [...byId.values()]
    .filter((e) => !e.removedAt || Date.parse(e.removedAt) >= cutoff)
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return {
    connection: meta.connection,
    provider: meta.provider,
    pollMs: meta.pollMs,
    seq: (prev?.seq ?? 0) + 1,
    syncedAt: meta.syncedAt,
    entries,
    issues: meta.issues,
  };
}

export type ChangeKind = 'added' | 'removed' | 'changed';

/** One line of `gpuflow catalog changes`. */
export interface CatalogChange {
  at: string;
  connection: string;
  seq: number;
  kind: ChangeKind;
  id: string;
  /** "gpu_1x_l4 in us-east" */
  what: string;
  changes?: FieldChange[];
}

export function changeRecords(diff: CatalogDiff, connection: string, seq: number, at: string): CatalogChange[] {
  return [
    ...diff.added.map((e): CatalogChange => ({ at, connection, seq, kind: 'added', id: e.id, what: identityOf(e) })),
    ...diff.removed.map((r): CatalogChange => ({ at, connection, seq, kind: 'removed', id: r.id, what: identityOf(r) })),
    ...diff.changed.map((c): CatalogChange => ({ at, connection, seq, kind: 'changed', id: c.entry.id, what: identityOf(c.entry), changes: c.changes })),
  ];
}
