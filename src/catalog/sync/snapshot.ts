/**
 * A connection's synced catalog in compact, normalized form: one entry per provider instance-type ID
 * (both markets' prices on it), the time of the sync that produced it, and what was wrong with the
 * provider's listing. Pure and deterministic: used by activities, by the catalog entity workflow and
 * by routing.
 */
import type { MoneyJSON } from '../../money/money.js';
import { byteCountIn } from '../../providers/sdk/bytes.js';
import type { Gpu, InstanceType, Location } from '../../providers/sdk/types.js';
import type { Offer } from '../../routing/offer.js';

export interface CatalogEntry {
  /** The provider's instance-type ID: the key that must be stable and unique. */
  id: string;
  type: string;
  location: string;
  subLocation: string;
  /** ISO alpha-3 country of the location; "" when the provider does not list the location (never routed). */
  country: string;
  locationPriority: number;
  gpu?: Gpu;
  vcpu: number;
  memoryGiB: number;
  diskGiB?: number;
  onDemandPrice?: MoneyJSON;
  spotPrice?: MoneyJSON;
  available: boolean;
  /** Why routing must not use it although listed (e.g. one ID listed twice with different contents). */
  unusable?: string;
  firstSeenAt: string;
  /** When the provider stopped listing it: kept (unavailable) until pruned, so changes stay explainable. */
  removedAt?: string;
}

/** An entry as the provider lists it now, before it is compared with what was synced. */
export type ListedEntry = Omit<CatalogEntry, 'firstSeenAt' | 'removedAt'>;

export type IntegrityKind = 'duplicate-id' | 'id-changed' | 'id-reused' | 'unknown-location';

/** Something about the provider's IDs or locations that sync reports instead of merging. */
export interface IntegrityIssue {
  kind: IntegrityKind;
  id: string;
  message: string;
}

export interface CatalogSnapshot {
  connection: string;
  provider: string;
  /** The provider's instance-type poll time: the sync period, and the unit of staleness. */
  pollMs: number;
  /** Increases by one with every applied sync. */
  seq: number;
  /** When the provider was last read successfully (ISO). */
  syncedAt: string;
  /** Sorted by ID; removed entries included (with removedAt). */
  entries: CatalogEntry[];
  /** Integrity problems found by the last sync. */
  issues: IntegrityIssue[];
  /** The entries' digest in the catalog content store (absent for a live read or an older entity's inline snapshot). */
  digest?: string;
  /** The size of its canonical serialization there. */
  bytes?: number;
}

export interface Listing {
  entries: ListedEntry[];
  issues: IntegrityIssue[];
}

/** What identifies a type in a provider's catalog independently of its ID. */
export function identityOf(e: Pick<ListedEntry, 'type' | 'location' | 'subLocation'>): string {
  return `${e.type} in ${e.location}${e.subLocation ? `/${e.subLocation}` : ''}`;
}

function fixedDiskGiB(it: InstanceType): number | undefined {
  if (it.supportedStorage.length === 0 || it.supportedStorage.some((s) => s.isElastic)) return undefined;
  return it.supportedStorage.reduce((sum, s) => sum + s.count * byteCountIn(s.size, 'GiB'), 0);
}

function listedEntry(it: InstanceType, loc: Location | undefined): ListedEntry {
  const gpu = it.supportedGpus[0];
  const diskGiB = fixedDiskGiB(it);
  const onDemand = it.basePrice && it.supportedUsageClasses.includes('on-demand') ? it.basePrice : undefined;
  const spot = it.spotPrice && it.supportedUsageClasses.includes('spot') ? it.spotPrice : undefined;
  return {
    id: it.id,
    type: it.type,
    location: it.location,
    subLocation: it.subLocation,
    country: loc?.country ?? '',
    locationPriority: loc?.priority ?? 0,
    ...(gpu ? { gpu } : {}),
    vcpu: it.vcpu,
    memoryGiB: byteCountIn(it.memory, 'GiB'),
    ...(diskGiB !== undefined ? { diskGiB } : {}),
    ...(onDemand ? { onDemandPrice: onDemand } : {}),
    ...(spot ? { spotPrice: spot } : {}),
    available: it.isAvailable && (loc?.available ?? false),
  };
}

/** A JSON.stringify replacer that sorts object keys at every level (undefined members dropped, as JSON does). */
function sortedKeys(_key: string, v: unknown): unknown {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return v;
  const o = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k];
  return out;
}

/** JSON with object keys sorted at every level: equal values give equal texts. */
export function stableJson(v: unknown): string {
  return JSON.stringify(v, sortedKeys);
}

/** A stable text of everything an entry says (but its ID), to compare two listings of one ID. */
export function contentKey(e: ListedEntry | CatalogEntry): string {
  const { id: _id, unusable: _u, firstSeenAt: _f, removedAt: _r, ...rest } = e as CatalogEntry;
  return stableJson(rest);
}

/**
 * The provider's listing, normalized: one entry per ID. An ID listed more than once is reported;
 * when its copies differ it is kept but marked unusable (which copy is true is unknown), never merged.
 * A type in a location the provider does not list has no country: reported and never routed.
 */
export function normalizeListing(types: readonly InstanceType[], locations: readonly Location[]): Listing {
  const byName = new Map(locations.map((l) => [l.name, l]));
  const byId = new Map<string, ListedEntry[]>();
  for (const it of types) {
    const copies = byId.get(it.id);
    const e = listedEntry(it, byName.get(it.location));
    if (copies) copies.push(e);
    else byId.set(it.id, [e]);
  }
  const entries: ListedEntry[] = [];
  const issues: IntegrityIssue[] = [];
  for (const id of [...byId.keys()].sort()) {
    const copies = byId.get(id)!;
    const first = { ...copies[0]! };
    if (copies.length > 1) {
      const distinct = new Set(copies.map(contentKey)).size;
      const identities = [...new Set(copies.map(identityOf))].join(', ');
      if (distinct > 1) first.unusable = `listed ${copies.length} times with different contents`;
      issues.push({
        kind: 'duplicate-id',
        id,
        message: `instance-type ID ${id} is listed ${copies.length} times (${identities})${distinct > 1 ? `, with ${distinct} different contents: not routed until the provider lists it once` : ', identical copies'}`,
      });
    }
    if (!byName.has(first.location)) {
      first.unusable ??= `location ${first.location} is not listed by the provider (no country)`;
      issues.push({ kind: 'unknown-location', id, message: `instance type ${id} is in location ${first.location}, which the provider does not list: it has no country and is not routed` });
    }
    entries.push(first);
  }
  return { entries, issues };
}

/** Whether routing may use the entry at all (listed now, placed in a country, not ambiguous). */
export function isRoutable(e: CatalogEntry): boolean {
  return !e.removedAt && !e.unusable && e.country !== '';
}

/** Routing offers of a synced catalog: one per market of every routable entry, seen at the sync time. */
export function offersFromSnapshot(s: CatalogSnapshot): Offer[] {
  const offers: Offer[] = [];
  for (const e of s.entries) {
    if (!isRoutable(e)) continue;
    const base = {
      connection: s.connection,
      provider: s.provider,
      instanceTypeId: e.id,
      type: e.type,
      location: e.location,
      subLocation: e.subLocation,
      country: e.country,
      locationPriority: e.locationPriority,
      ...(e.gpu ? { gpu: e.gpu } : {}),
      vcpu: e.vcpu,
      memoryGiB: e.memoryGiB,
      ...(e.diskGiB !== undefined ? { diskGiB: e.diskGiB } : {}),
      available: e.available,
      seenAt: s.syncedAt,
    };
    if (e.onDemandPrice) offers.push({ ...base, spot: false, pricePerHour: e.onDemandPrice });
    if (e.spotPrice) offers.push({ ...base, spot: true, pricePerHour: e.spotPrice });
  }
  return offers;
}

/** How old a snapshot may be before routing stops trusting it. */
export function snapshotMaxAgeMs(s: Pick<CatalogSnapshot, 'pollMs'>, multiple: number): number {
  return s.pollMs * multiple;
}

export function isSnapshotStale(s: Pick<CatalogSnapshot, 'pollMs' | 'syncedAt'>, now: number, multiple: number): boolean {
  return !(now - Date.parse(s.syncedAt) <= snapshotMaxAgeMs(s, multiple));
}
