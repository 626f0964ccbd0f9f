/**
 * Which provider to suggest to a new user (`gpuflow init`): the one whose catalog shows the most
 * spot offers in the user's country, then the most offers there at all, then the most offers
 * anywhere. Catalogs are SkyPilot's (see ./skypilot/reader.ts); a catalog cloud counts for the
 * gpuflow provider kind it is.
 */
import type { Offer } from '../routing/offer.js';

/** SkyPilot cloud directory → gpuflow connection kind, for the clouds gpuflow has an adapter for. */
export const CATALOG_CLOUD_KIND: Readonly<Record<string, string>> = { lambda: 'lambda', fluidstack: 'fluidstack', vast: 'vastai', runpod: 'runpod', aws: 'aws' };

export interface ProviderSuggestion {
  kind: string;
  spotInCountry: number;
  inCountry: number;
  total: number;
  /** One line for the prompt: why this rank. */
  why: string;
}

/** Every kind in `kinds`, best first; kinds without a catalog come last, in the order given. */
export function rankProviders(offers: readonly Offer[], country: string | undefined, kinds: readonly string[]): ProviderSuggestion[] {
  const counts = new Map(kinds.map((k) => [k, { spotInCountry: 0, inCountry: 0, total: 0 }]));
  for (const o of offers) {
    const kind = CATALOG_CLOUD_KIND[o.provider] ?? o.provider;
    const c = counts.get(kind);
    if (!c) continue;
    c.total++;
    if (country && o.country === country) {
      c.inCountry++;
      if (o.spot) c.spotInCountry++;
    }
  }
  const order = new Map(kinds.map((k, i) => [k, i]));
  return [...counts.entries()]
    .map(([kind, c]) => ({
      kind,
      ...c,
      why: c.total === 0 ? 'no catalog' : `${c.spotInCountry} spot and ${c.inCountry} offers in ${country ?? 'your country'}, ${c.total} in all`,
    }))
    .sort((a, b) => b.spotInCountry - a.spotInCountry || b.inCountry - a.inCountry || b.total - a.total || order.get(a.kind)! - order.get(b.kind)!);
}
