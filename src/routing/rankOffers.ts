/**
 * Offers in, ranked candidates out: cheapest effective hourly price first, deterministic
 * tie-breaks, and for every offer not chosen the first constraint it failed, in words.
 * Pure: no Temporal, no I/O.
 */
import { fromJSON, toDecimalString } from '../money/money.js';
import { transformScale, toSnapshot, halfEven } from 'dinero.js';
import type { BlockedScope, OfferConstraints } from './constraints.js';
import type { Offer } from './offer.js';

export interface RejectedOffer {
  offer: Offer;
  reason: string;
}

export interface Ranking {
  candidates: Offer[];
  rejected: RejectedOffer[];
}

export interface RankOptions {
  now?: Date;
  /** Offers older than this are never chosen. */
  maxAgeMs?: number;
  blocked?: BlockedScope[];
  /** Bound on candidates returned (dstack tries 25 per pass). */
  limit?: number;
}

const SORT_SCALE = 9;
/** Exact integer price key in units of 10^-9, for fast comparison of many offers. */
function priceKey(offer: Offer): number {
  return toSnapshot(transformScale(fromJSON(offer.pricePerHour), SORT_SCALE, halfEven)).amount;
}

function normalizeGpuClass(s: string): string {
  return s.toUpperCase().replace(/^NVIDIA\s+/, '').replace(/[\s_-]+/g, '');
}

function gpuMatches(offer: Offer, wanted: string[]): boolean {
  if (!offer.gpu) return false;
  const name = normalizeGpuClass(offer.gpu.name);
  const net = normalizeGpuClass(offer.gpu.networkDetails);
  return wanted.some((w) => {
    const [model, variant] = normalizeGpuClass(w).split('.');
    if (model !== name) return false;
    return !variant || net.startsWith(variant);
  });
}

function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
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

/** The first constraint the offer fails, or undefined if it satisfies all of them. */
export function explainRejection(offer: Offer, c: OfferConstraints, opts: RankOptions = {}): string | undefined {
  const now = (opts.now ?? new Date()).getTime();
  if (c.providersAllow && !c.providersAllow.includes(offer.connection) && !c.providersAllow.includes(offer.provider)) {
    return `provider ${offer.connection} not in [${c.providersAllow.join(', ')}]`;
  }
  if (c.providersDeny && (c.providersDeny.includes(offer.connection) || c.providersDeny.includes(offer.provider))) {
    return `provider ${offer.connection} is denied`;
  }
  if (!gpuMatches(offer, c.gpuClasses)) {
    return `GPU ${offer.gpu ? offer.gpu.type : 'none'} not in [${c.gpuClasses.join(', ')}]`;
  }
  if (offer.gpu!.count !== c.gpuCount) return `GPU count ${offer.gpu!.count} is not ${c.gpuCount}`;
  if (c.minGpuMemoryGiB !== undefined) {
    const gib = offer.gpu!.memory.unit === 'GiB' ? offer.gpu!.memory.value : Number(BigInt(offer.gpu!.memory.value) * 10n ** 9n / 2n ** 30n);
    if (gib < c.minGpuMemoryGiB) return `GPU memory ${gib} GiB under minimum ${c.minGpuMemoryGiB} GiB`;
  }
  if (c.spot === 'never' && offer.spot) return 'spot not allowed';
  if (c.spot === 'only' && !offer.spot) return 'on-demand not allowed (spot only)';
  if (c.regions && !c.regions.some((r) => globToRegExp(r).test(offer.location))) {
    return `region ${offer.location} not in [${c.regions.join(', ')}]`;
  }
  if (c.countries && !c.countries.includes(offer.country)) return `country ${offer.country} not in [${c.countries.join(', ')}]`;
  if (c.maxPricePerHour && priceKey(offer) > priceKey({ ...offer, pricePerHour: c.maxPricePerHour })) {
    return `price ${toDecimalString(offer.pricePerHour)}/h over max ${toDecimalString(c.maxPricePerHour)}/h`;
  }
  if (!offer.available) return 'no capacity reported by the provider';
  if (opts.maxAgeMs !== undefined && now - Date.parse(offer.seenAt) > opts.maxAgeMs) {
    return `offer is stale (last seen ${offer.seenAt})`;
  }
  const b = opts.blocked ? blockedBy(offer, opts.blocked) : undefined;
  if (b) return `blocked after an earlier failure (${b.scope}: ${b.reason})`;
  return undefined;
}

export function rankOffers(offers: Offer[], c: OfferConstraints, opts: RankOptions = {}): Ranking {
  const rejected: RejectedOffer[] = [];
  const ok: { offer: Offer; key: number }[] = [];
  for (const offer of offers) {
    const reason = explainRejection(offer, c, opts);
    if (reason) rejected.push({ offer, reason });
    else ok.push({ offer, key: priceKey(offer) });
  }
  const prefer = c.providersPrefer ?? [];
  const prefRank = (o: Offer) => {
    const i = Math.min(...[prefer.indexOf(o.connection), prefer.indexOf(o.provider)].map((x) => (x < 0 ? Infinity : x)));
    return i;
  };
  ok.sort(
    (a, b) =>
      a.key - b.key ||
      prefRank(a.offer) - prefRank(b.offer) ||
      b.offer.locationPriority - a.offer.locationPriority ||
      Date.parse(b.offer.seenAt) - Date.parse(a.offer.seenAt) ||
      (a.offer.connection + a.offer.instanceTypeId + a.offer.spot).localeCompare(b.offer.connection + b.offer.instanceTypeId + b.offer.spot),
  );
  const candidates = ok.map((x) => x.offer);
  return { candidates: opts.limit ? candidates.slice(0, opts.limit) : candidates, rejected };
}
