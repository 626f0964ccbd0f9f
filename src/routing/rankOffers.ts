/**
 * Offers in, ranked candidates out: cheapest effective hourly price first, deterministic
 * tie-breaks, and for every offer not chosen the first constraint it failed, in words.
 * Pure: no Temporal, no I/O.
 *
 * Ranking order (all exact, no floats):
 *  1. price per hour of the instance (its market: spot or on-demand), as an integer in 10^-9 units;
 *  2. provider preference (earlier in `providersPrefer` first, unlisted last);
 *  3. location priority (higher first);
 *  4. freshness (most recently seen first);
 *  5. connection, instance type ID and market, by code unit order, so ties never depend on input order.
 *
 * Speed: what an offer needs for matching (price key, normalized GPU, times) is derived once per
 * offer object and cached; {@link indexOffers} also groups a catalog by GPU (model, form factor,
 * memory, count), so a decision checks GPU constraints once per group and looks at the offers of
 * matching groups only. Constraints are compiled once per decision, per-location answers are
 * memoized, `limit` keeps a bounded top-k instead of sorting everything, and the rejected list is
 * built (and worded) only when read. Offers are values: what is derived from an offer object is
 * cached, so an offer must not be mutated once ranked (make a new object instead).
 */
import ms from 'ms';
import type { MoneyJSON } from '../money/money.js';
import { expandCountryPins } from './countries.js';
import { formatGpuCount, gpuCountRange, type BlockedScope, type OfferConstraints } from './constraints.js';
import { gpuMemoryGiB, gpuModelKey, interconnectLabel, interconnectMatches, parseGpuClass, type GpuClassPattern } from './gpuClass.js';
import type { Offer } from './offer.js';
import { NO_CAPACITY_REASON } from './reasons.js';

/** Which constraint an offer failed, in the order they are checked. */
export type RejectionKind =
  | 'provider'
  | 'gpu'
  | 'interconnect'
  | 'gpu-count'
  | 'gpu-memory'
  | 'vcpu'
  | 'memory'
  | 'disk'
  | 'market'
  | 'region'
  | 'country'
  | 'price'
  | 'price-per-gpu'
  | 'capacity'
  | 'stale'
  | 'blocked';

export interface RejectedOffer {
  offer: Offer;
  /** The first constraint the offer failed, in words: "country FRA not in [DEU, FIN]". */
  reason: string;
  kind: RejectionKind;
}

export interface Ranking {
  /** Offers that satisfy every constraint, best first, at most `limit`. */
  candidates: Offer[];
  /** How many offers satisfied every constraint (before `limit`). */
  matched: number;
  /**
   * Every other offer with the first constraint it failed (empty with `explain: false`). Built on
   * first read, so a decision that only needs candidates does not pay for 100,000 explanations.
   */
  rejected: RejectedOffer[];
}

/**
 * How old an offer may be before it is never chosen: one age for all, ages by connection or
 * provider name ("*" for the rest), or a function of the connection. Usually a multiple of the
 * provider's instance-type poll time: see {@link staleAfterPolls}.
 */
export type MaxAge = number | Readonly<Record<string, number>> | ((connection: string, provider: string) => number | undefined);

export interface RankOptions {
  now?: Date;
  /** Offers older than this are never chosen. */
  maxAgeMs?: MaxAge;
  blocked?: BlockedScope[];
  /** Bound on candidates returned (dstack tries 25 per pass). */
  limit?: number | undefined;
  /** Collect rejected offers with reasons (default true). */
  explain?: boolean;
}

/** An offer is stale after this many of its provider's poll periods without being seen. */
export const DEFAULT_STALE_POLL_MULTIPLE = 3;

/** Max ages from each connection's instance-type poll time: `multiple` × poll time. */
export function staleAfterPolls(pollMsByConnection: Readonly<Record<string, number>>, multiple = DEFAULT_STALE_POLL_MULTIPLE): Record<string, number> {
  return Object.fromEntries(Object.entries(pollMsByConnection).map(([k, v]) => [k, v * multiple]));
}

// ---------------------------------------------------------------------------------------------
// Per-offer derived values, computed once per offer object.

const PRICE_SCALE = 9;

interface Derived {
  /** Price per hour in 10^-9 units of its currency. */
  price: number;
  currency: string;
  /** Canonical model key ("H100"); "" without a GPU. */
  gpuModel: string;
  gpuCount: number;
  gpuMemGiB: number;
  /** Memo key of everything GPU matching looks at. */
  gpuSig: string;
  seenAtMs: number;
  tie: string;
  /** Small integer for (connection, provider): per-connection answers (max age) live in an array slot. */
  connId: number;
  // Copies of the offer's fields the hot loop reads: one object shape for every offer keeps those
  // reads monomorphic (offers themselves come in many shapes: with or without gpu, diskGiB...).
  connection: string;
  provider: string;
  location: string;
  country: string;
  vcpu: number;
  memoryGiB: number;
  /** -1: not stated. */
  diskGiB: number;
  spot: boolean;
  available: boolean;
}

const derivedCache = new WeakMap<Offer, Derived>();
const connectionIds = new Map<string, number>();

function connectionId(connection: string, provider: string): number {
  const key = `${connection}\u0000${provider}`;
  let id = connectionIds.get(key);
  if (id === undefined) connectionIds.set(key, (id = connectionIds.size));
  return id;
}
const modelKeyCache = new Map<string, string>();

/** Exact integer amount of `m` in 10^-9 units (half-even beyond 9 decimals). */
export function priceKey(m: MoneyJSON): number {
  if (m.scale <= PRICE_SCALE) return m.amount * 10 ** (PRICE_SCALE - m.scale);
  const d = 10n ** BigInt(m.scale - PRICE_SCALE);
  const a = BigInt(m.amount);
  let q = a / d;
  const r2 = (a % d) * 2n * (a < 0n ? -1n : 1n);
  if (r2 > d || (r2 === d && q % 2n !== 0n)) q += a < 0n ? -1n : 1n;
  return Number(q);
}

function modelKey(name: string): string {
  let k = modelKeyCache.get(name);
  if (k === undefined) {
    k = gpuModelKey(name);
    modelKeyCache.set(name, k);
  }
  return k;
}

function derive(o: Offer): Derived {
  let d = derivedCache.get(o);
  if (d) return d;
  const gpu = o.gpu;
  const gpuModel = gpu ? modelKey(gpu.name) : '';
  const gpuMemGiB = gpu ? gpuMemoryGiB(gpu.memory) : 0;
  d = {
    price: priceKey(o.pricePerHour),
    currency: o.pricePerHour.currency,
    gpuModel,
    gpuCount: gpu ? gpu.count : 0,
    gpuMemGiB,
    gpuSig: gpu ? `${gpuModel}\u0000${gpu.networkDetails}\u0000${gpuMemGiB}\u0000${gpu.count}` : '',
    seenAtMs: Date.parse(o.seenAt),
    tie: `${o.connection}\u0000${o.instanceTypeId}\u0000${o.spot ? 1 : 0}`,
    connId: connectionId(o.connection, o.provider),
    connection: o.connection,
    provider: o.provider,
    location: o.location,
    country: o.country,
    vcpu: o.vcpu,
    memoryGiB: o.memoryGiB,
    diskGiB: o.diskGiB ?? -1,
    spot: o.spot,
    available: o.available,
  };
  derivedCache.set(o, d);
  return d;
}

// ---------------------------------------------------------------------------------------------
// Constraints compiled once per decision.

enum Fail {
  None = 0,
  ProviderNotAllowed,
  ProviderDenied,
  NoGpu,
  GpuClass,
  Interconnect,
  GpuCount,
  GpuMemory,
  Vcpu,
  Memory,
  Disk,
  SpotNotAllowed,
  OnDemandNotAllowed,
  Region,
  Country,
  Currency,
  Price,
  PricePerGpu,
  Capacity,
  Stale,
  Blocked,
}

const KIND: Record<Fail, RejectionKind> = {
  [Fail.None]: 'provider',
  [Fail.ProviderNotAllowed]: 'provider',
  [Fail.ProviderDenied]: 'provider',
  [Fail.NoGpu]: 'gpu',
  [Fail.GpuClass]: 'gpu',
  [Fail.Interconnect]: 'interconnect',
  [Fail.GpuCount]: 'gpu-count',
  [Fail.GpuMemory]: 'gpu-memory',
  [Fail.Vcpu]: 'vcpu',
  [Fail.Memory]: 'memory',
  [Fail.Disk]: 'disk',
  [Fail.SpotNotAllowed]: 'market',
  [Fail.OnDemandNotAllowed]: 'market',
  [Fail.Region]: 'region',
  [Fail.Country]: 'country',
  [Fail.Currency]: 'price',
  [Fail.Price]: 'price',
  [Fail.PricePerGpu]: 'price-per-gpu',
  [Fail.Capacity]: 'capacity',
  [Fail.Stale]: 'stale',
  [Fail.Blocked]: 'blocked',
};

interface Compiled {
  c: OfferConstraints;
  allow?: ReadonlySet<string>;
  deny?: ReadonlySet<string>;
  classes: GpuClassPattern[];
  anyGpu: boolean;
  interconnects?: string[];
  countMin: number;
  countMax: number;
  spotNever: boolean;
  spotOnly: boolean;
  regionRes?: RegExp[];
  countries?: ReadonlySet<string>;
  maxPrice?: number;
  maxGpuPrice?: number;
  priceCurrency?: string;
  now: number;
  maxAge?: MaxAge;
  blocked: BlockedScope[];
  prefer: ReadonlyMap<string, number>;
  // memos for this decision
  gpuMemo: Map<string, Fail>;
  regionMemo: Map<string, boolean>;
  /** Max age by connection id; Infinity: none. */
  ageByConnection: number[];
}

function globToRegExp(glob: string): RegExp {
  const body = glob
    .split('')
    .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, 'i');
}

function compile(c: OfferConstraints, opts: RankOptions): Compiled {
  const classes = c.gpuClasses.map(parseGpuClass);
  const range = gpuCountRange(c.gpuCount);
  const currency = c.maxPricePerHour?.currency ?? c.maxPricePerGpuHour?.currency;
  const prefer = new Map<string, number>();
  (c.providersPrefer ?? []).forEach((p, i) => {
    if (!prefer.has(p)) prefer.set(p, i);
  });
  return {
    c,
    ...(c.providersAllow ? { allow: new Set(c.providersAllow) } : {}),
    ...(c.providersDeny ? { deny: new Set(c.providersDeny) } : {}),
    classes,
    anyGpu: classes.length === 0 || classes.some((k) => k.model === ''),
    ...(c.gpuInterconnect?.length ? { interconnects: c.gpuInterconnect } : {}),
    countMin: range.min,
    countMax: range.max,
    spotNever: c.spot === 'never',
    spotOnly: c.spot === 'only',
    ...(c.regions?.length ? { regionRes: c.regions.map(globToRegExp) } : {}),
    ...(c.countries?.length ? { countries: expandCountryPins(c.countries) } : {}),
    ...(c.maxPricePerHour ? { maxPrice: priceKey(c.maxPricePerHour) } : {}),
    ...(c.maxPricePerGpuHour ? { maxGpuPrice: priceKey(c.maxPricePerGpuHour) } : {}),
    ...(currency ? { priceCurrency: currency } : {}),
    now: (opts.now ?? new Date()).getTime(),
    ...(opts.maxAgeMs !== undefined ? { maxAge: opts.maxAgeMs } : {}),
    blocked: opts.blocked ?? [],
    prefer,
    gpuMemo: new Map(),
    regionMemo: new Map(),
    ageByConnection: [],
  };
}

function gpuFailure(o: Offer, d: Derived, k: Compiled): Fail {
  const gpu = o.gpu;
  if (!gpu) return Fail.NoGpu;
  let f = k.gpuMemo.get(d.gpuSig);
  if (f !== undefined) return f;
  f = Fail.None;
  if (!k.anyGpu) {
    const ok = k.classes.some(
      (p) =>
        p.model === d.gpuModel &&
        (p.interconnect === undefined || interconnectMatches(p.interconnect, gpu.networkDetails)) &&
        (p.memoryGiB === undefined || d.gpuMemGiB >= p.memoryGiB),
    );
    if (!ok) f = Fail.GpuClass;
  }
  if (f === Fail.None && k.interconnects && !k.interconnects.some((w) => interconnectMatches(w, gpu.networkDetails))) f = Fail.Interconnect;
  k.gpuMemo.set(d.gpuSig, f);
  return f;
}

function maxAgeFor(d: Derived, k: Compiled): number | undefined {
  const m = k.maxAge;
  if (m === undefined || typeof m === 'number') return m;
  let age = k.ageByConnection[d.connId];
  if (age === undefined) {
    age = (typeof m === 'function' ? m(d.connection, d.provider) : (m[d.connection] ?? m[d.provider] ?? m['*'])) ?? Infinity;
    k.ageByConnection[d.connId] = age;
  }
  return age === Infinity ? undefined : age;
}

function blockedBy(offer: Offer, blocked: BlockedScope[]): BlockedScope | undefined {
  return blocked.find((b) => {
    if (b.connection !== offer.connection) return false;
    switch (b.scope) {
      case 'provider':
        return true;
      case 'region':
        return b.location === offer.location;
      case 'zone':
        return b.location === offer.location && (b.subLocation ?? '') === offer.subLocation && (b.type === undefined || b.type === offer.type) && (b.spot === undefined || b.spot === offer.spot);
      case 'offer':
        return b.instanceTypeId === offer.instanceTypeId && (b.spot === undefined || b.spot === offer.spot);
    }
  });
}

/** GPU constraints, the same for every offer of a GPU group: model, form factor, count, memory. */
function gpuGroupFailure(o: Offer, d: Derived, k: Compiled): Fail {
  const g = gpuFailure(o, d, k);
  if (g !== Fail.None) return g;
  if (d.gpuCount < k.countMin || d.gpuCount > k.countMax) return Fail.GpuCount;
  if (k.c.minGpuMemoryGiB !== undefined && d.gpuMemGiB < k.c.minGpuMemoryGiB) return Fail.GpuMemory;
  return Fail.None;
}

/** Everything but the provider and GPU constraints, in the documented order. */
function restFailure(o: Offer, d: Derived, k: Compiled): Fail {
  const c = k.c;
  if (c.minVcpu !== undefined && d.vcpu < c.minVcpu) return Fail.Vcpu;
  if (c.minMemoryGiB !== undefined && d.memoryGiB < c.minMemoryGiB) return Fail.Memory;
  if (c.minDiskGiB !== undefined && d.diskGiB >= 0 && d.diskGiB < c.minDiskGiB) return Fail.Disk;
  if (d.spot ? k.spotNever : k.spotOnly) return d.spot ? Fail.SpotNotAllowed : Fail.OnDemandNotAllowed;
  if (k.regionRes) {
    let ok = k.regionMemo.get(d.location);
    if (ok === undefined) {
      ok = k.regionRes.some((re) => re.test(d.location));
      k.regionMemo.set(d.location, ok);
    }
    if (!ok) return Fail.Region;
  }
  if (k.countries && !k.countries.has(d.country)) return Fail.Country;
  if (k.priceCurrency !== undefined && d.currency !== k.priceCurrency) return Fail.Currency;
  if (k.maxPrice !== undefined && d.price > k.maxPrice) return Fail.Price;
  if (k.maxGpuPrice !== undefined && d.price > k.maxGpuPrice * d.gpuCount) return Fail.PricePerGpu;
  if (!d.available) return Fail.Capacity;
  if (k.maxAge !== undefined) {
    const age = maxAgeFor(d, k);
    if (age !== undefined && !(k.now - d.seenAtMs <= age)) return Fail.Stale;
  }
  if (k.blocked.length > 0 && blockedBy(o, k.blocked)) return Fail.Blocked;
  return Fail.None;
}

function providerFailure(d: Derived, k: Compiled): Fail {
  if (k.allow && !k.allow.has(d.connection) && !k.allow.has(d.provider)) return Fail.ProviderNotAllowed;
  if (k.deny && (k.deny.has(d.connection) || k.deny.has(d.provider))) return Fail.ProviderDenied;
  return Fail.None;
}

/** The first constraint `o` fails, in the documented order, or Fail.None. */
function check(o: Offer, d: Derived, k: Compiled): Fail {
  let f = providerFailure(d, k);
  if (f === Fail.None) f = gpuGroupFailure(o, d, k);
  if (f === Fail.None) f = restFailure(o, d, k);
  return f;
}

// ---------------------------------------------------------------------------------------------
// Wording.

/** A price for people: at least 2 decimals, no trailing zeros beyond ("3.20", "0.3698"). */
export function priceText(m: MoneyJSON): string {
  const neg = m.amount < 0;
  let digits = String(Math.abs(m.amount)).padStart(m.scale + 1, '0');
  let scale = m.scale;
  while (scale > 2 && digits.endsWith('0')) {
    digits = digits.slice(0, -1);
    scale--;
  }
  let int = scale > 0 ? digits.slice(0, digits.length - scale) : digits;
  let frac = scale > 0 ? digits.slice(digits.length - scale) : '';
  if (frac.length < 2) frac = frac.padEnd(2, '0');
  if (int === '') int = '0';
  return `${neg ? '-' : ''}${int}.${frac}${m.currency === 'USD' ? '' : ` ${m.currency}`}`;
}

/** A key in 10^-9 units as a price text, rounded to 4 decimals (for per-GPU prices). */
function keyText(key: number, currency: string): string {
  const amount = Math.round(key / 1e5);
  return priceText({ amount, currency, scale: 4 });
}

function list(xs: readonly string[]): string {
  return `[${xs.join(', ')}]`;
}

function providerLabel(o: Offer): string {
  return o.connection === o.provider || o.connection.endsWith(`:${o.provider}`) ? o.provider : `${o.provider} (connection ${o.connection})`;
}

function gpuLabel(o: Offer, d: Derived): string {
  return o.gpu ? `${o.gpu.type} ${d.gpuMemGiB} GiB` : 'none';
}

function describe(f: Fail, o: Offer, d: Derived, k: Compiled): string {
  const c = k.c;
  switch (f) {
    case Fail.None:
      return '';
    case Fail.ProviderNotAllowed:
      return `provider ${providerLabel(o)} not in ${list(c.providersAllow ?? [])}`;
    case Fail.ProviderDenied:
      return `provider ${providerLabel(o)} is denied`;
    case Fail.NoGpu:
      return `no GPU (want ${c.gpuClasses.length ? list(c.gpuClasses) : 'any GPU'})`;
    case Fail.GpuClass:
      return `GPU ${gpuLabel(o, d)} not in ${list(c.gpuClasses)}`;
    case Fail.Interconnect:
      return `interconnect ${o.gpu?.networkDetails || 'unknown'} not in ${list((c.gpuInterconnect ?? []).map((i) => interconnectLabel(i.toUpperCase())))}`;
    case Fail.GpuCount:
      return k.countMin === k.countMax ? `GPU count ${d.gpuCount} is not ${k.countMin}` : `GPU count ${d.gpuCount} not in ${formatGpuCount(c.gpuCount)}`;
    case Fail.GpuMemory:
      return d.gpuMemGiB === 0
        ? `GPU memory unknown, minimum ${c.minGpuMemoryGiB} GiB`
        : `GPU memory ${d.gpuMemGiB} GiB under minimum ${c.minGpuMemoryGiB} GiB`;
    case Fail.Vcpu:
      return `vCPU ${o.vcpu} under minimum ${c.minVcpu}`;
    case Fail.Memory:
      return `RAM ${o.memoryGiB} GiB under minimum ${c.minMemoryGiB} GiB`;
    case Fail.Disk:
      return `disk ${o.diskGiB} GiB under minimum ${c.minDiskGiB} GiB`;
    case Fail.SpotNotAllowed:
      return 'spot not allowed';
    case Fail.OnDemandNotAllowed:
      return 'on-demand not allowed (spot only)';
    case Fail.Region:
      return `region ${o.location} not in ${list(c.regions ?? [])}`;
    case Fail.Country:
      return `country ${o.country} not in ${list(c.countries ?? [])}`;
    case Fail.Currency:
      return `price in ${d.currency}, max price in ${k.priceCurrency}`;
    case Fail.Price:
      return `price ${priceText(o.pricePerHour)}/h over max ${priceText(c.maxPricePerHour!)}/h`;
    case Fail.PricePerGpu:
      return `price per GPU ${keyText(d.price / d.gpuCount, d.currency)}/h over max ${priceText(c.maxPricePerGpuHour!)}/h`;
    case Fail.Capacity:
      return NO_CAPACITY_REASON;
    case Fail.Stale: {
      const age = maxAgeFor(d, k) ?? 0;
      const ago = k.now - d.seenAtMs;
      return Number.isFinite(ago)
        ? `offer is stale: last seen ${ms(Math.max(0, ago))} ago, max age ${ms(age)}`
        : `offer is stale: last seen time "${o.seenAt}" is not a time`;
    }
    case Fail.Blocked: {
      const b = blockedBy(o, k.blocked)!;
      return `blocked after an earlier failure (${b.scope}: ${b.reason})`;
    }
  }
}

/** A rejection whose words are built only when read (ranking 100,000 offers must not format 100,000 strings). */
class Rejection implements RejectedOffer {
  readonly #fail: Fail;
  readonly #derived: Derived;
  readonly #compiled: Compiled;
  #reason: string | undefined;

  constructor(
    readonly offer: Offer,
    fail: Fail,
    derived: Derived,
    compiled: Compiled,
  ) {
    this.#fail = fail;
    this.#derived = derived;
    this.#compiled = compiled;
  }

  get kind(): RejectionKind {
    return KIND[this.#fail];
  }

  get reason(): string {
    return (this.#reason ??= describe(this.#fail, this.offer, this.#derived, this.#compiled));
  }

  toJSON(): RejectedOffer {
    return { offer: this.offer, reason: this.reason, kind: this.kind };
  }
}

// ---------------------------------------------------------------------------------------------
// Public API.

/** The first constraint the offer fails, in words, or undefined if it satisfies all of them. */
export function explainRejection(offer: Offer, c: OfferConstraints, opts: RankOptions = {}): string | undefined {
  const k = compile(c, opts);
  const d = derive(offer);
  const f = check(offer, d, k);
  return f === Fail.None ? undefined : describe(f, offer, d, k);
}

interface Entry {
  offer: Offer;
  d: Derived;
  pref: number;
}

function compareEntries(a: Entry, b: Entry): number {
  return (
    a.d.price - b.d.price ||
    a.pref - b.pref ||
    b.offer.locationPriority - a.offer.locationPriority ||
    b.d.seenAtMs - a.d.seenAtMs ||
    (a.d.tie < b.d.tie ? -1 : a.d.tie > b.d.tie ? 1 : 0)
  );
}

const UNPREFERRED = 1_000_000;

function preferenceRank(o: Offer, prefer: ReadonlyMap<string, number>): number {
  if (prefer.size === 0) return 0;
  const a = prefer.get(o.connection) ?? UNPREFERRED;
  const b = prefer.get(o.provider) ?? UNPREFERRED;
  return Math.min(a, b);
}

/**
 * A catalog prepared for many decisions: offers with their derived keys, grouped by GPU (model,
 * form factor, memory, count). Build it once per catalog refresh; pass it to {@link rankOffers}
 * instead of the array.
 */
export interface OfferIndex {
  readonly offers: readonly Offer[];
  readonly [INDEX]: IndexData;
}

const INDEX = Symbol('gpuflow.offerIndex');

interface IndexData {
  derived: Derived[];
  /** Offer positions per GPU group, with one offer of the group to check GPU constraints on. */
  groups: { rep: number; members: number[] }[];
}

export function indexOffers(offers: readonly Offer[]): OfferIndex {
  const derived = new Array<Derived>(offers.length);
  const bySig = new Map<string, { rep: number; members: number[] }>();
  for (let i = 0; i < offers.length; i++) {
    const d = derive(offers[i]!);
    derived[i] = d;
    let g = bySig.get(d.gpuSig);
    if (!g) bySig.set(d.gpuSig, (g = { rep: i, members: [] }));
    g.members.push(i);
  }
  return { offers, [INDEX]: { derived, groups: [...bySig.values()] } };
}

function isIndex(x: readonly Offer[] | OfferIndex): x is OfferIndex {
  return INDEX in x;
}

export function rankOffers(catalog: readonly Offer[] | OfferIndex, c: OfferConstraints, opts: RankOptions = {}): Ranking {
  const index = isIndex(catalog) ? catalog : indexOffers(catalog);
  const { offers } = index;
  const { derived, groups } = index[INDEX];
  const k = compile(c, opts);
  const limit = opts.limit !== undefined && opts.limit > 0 ? opts.limit : undefined;
  const kept: Entry[] = [];
  let matched = 0;
  for (const g of groups) {
    if (gpuGroupFailure(offers[g.rep]!, derived[g.rep]!, k) !== Fail.None) continue;
    for (const i of g.members) {
      const offer = offers[i]!;
      const d = derived[i]!;
      if (providerFailure(d, k) !== Fail.None || restFailure(offer, d, k) !== Fail.None) continue;
      matched++;
      if (limit === undefined) {
        kept.push({ offer, d, pref: preferenceRank(offer, k.prefer) });
        continue;
      }
      // Bounded top-k: `kept` stays sorted and holds at most `limit` entries.
      if (kept.length === limit && d.price > kept[limit - 1]!.d.price) continue;
      const e: Entry = { offer, d, pref: preferenceRank(offer, k.prefer) };
      if (kept.length === limit && compareEntries(e, kept[limit - 1]!) >= 0) continue;
      let lo = 0;
      let hi = kept.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (compareEntries(kept[mid]!, e) <= 0) lo = mid + 1;
        else hi = mid;
      }
      kept.splice(lo, 0, e);
      if (kept.length > limit) kept.pop();
    }
  }
  if (limit === undefined) kept.sort(compareEntries);
  const ranking = { candidates: kept.map((e) => e.offer), matched } as Ranking;
  if (opts.explain === false) {
    ranking.rejected = [];
    return ranking;
  }
  let rejected: RejectedOffer[] | undefined;
  Object.defineProperty(ranking, 'rejected', {
    enumerable: true,
    get(): RejectedOffer[] {
      if (!rejected) {
        rejected = [];
        for (let i = 0; i < offers.length; i++) {
          const f = check(offers[i]!, derived[i]!, k);
          if (f !== Fail.None) rejected.push(new Rejection(offers[i]!, f, derived[i]!, k));
        }
      }
      return rejected;
    },
  });
  return ranking;
}
