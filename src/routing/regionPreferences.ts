/**
 * A connection's region preferences (connections.yaml `regionPreferences`): an ordered list of
 * region globs. They never exclude an offer and never beat a lower price: among offers of equal
 * price, an offer in a preferred region ranks first, earlier globs before later ones, and the
 * provider's own location priority only orders offers within the same preference rank.
 *
 * Implemented as a tie-break the ranker already has: the offer's `locationPriority` (compared right
 * after price and `placement.providers.prefer`) is raised by a step per preference rank that
 * dominates any provider priority. Pure; returns new offer objects (ranked offers are values).
 */
import type { Offer } from './offer.js';

/** Larger than any provider's own location priority, so a preference rank always dominates it. */
const PREFERENCE_STEP = 1_000_000;
const MAX_PROVIDER_PRIORITY = PREFERENCE_STEP / 2 - 1;

/** "us-*", "eu-?orth*": case-insensitive, like `placement.regions`. */
export function regionGlob(glob: string): RegExp {
  const body = [...glob].map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\-]/g, '\\$&'))).join('');
  return new RegExp(`^${body}$`, 'i');
}

/** The index of the first glob matching `region`, or undefined. */
export function preferenceRank(region: string, globs: readonly RegExp[]): number | undefined {
  const i = globs.findIndex((g) => g.test(region));
  return i < 0 ? undefined : i;
}

/** The offers with preferred regions' `locationPriority` raised by their preference rank; others unchanged. */
export function applyRegionPreferences(offers: Offer[], preferences: readonly string[] | undefined): Offer[] {
  if (!preferences?.length) return offers;
  const globs = preferences.map(regionGlob);
  const rankOf = new Map<string, number | undefined>();
  return offers.map((o) => {
    if (!rankOf.has(o.location)) rankOf.set(o.location, preferenceRank(o.location, globs));
    const rank = rankOf.get(o.location);
    if (rank === undefined) return o;
    const own = Math.max(-MAX_PROVIDER_PRIORITY, Math.min(MAX_PROVIDER_PRIORITY, o.locationPriority));
    return { ...o, locationPriority: (globs.length - rank) * PREFERENCE_STEP + own };
  });
}
