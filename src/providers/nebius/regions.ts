/**
 * Nebius regions → country. The Compute API names a region only through the project (each project
 * lives in one region), so where it is comes from this table: eu-north1 Finland, eu-west1 France,
 * us-central1 USA, as Nebius's regions documentation (docs.nebius.com/overview/regions) names them;
 * the city names were not re-read there. Other regions (e.g. eu-north2, me-west1, uk-south1) are
 * left out until checked. A region not here is refused at configuration (not guessed).
 */
import { toAlpha3 } from '../sdk/country.js';

export const NEBIUS_REGIONS: Readonly<Record<string, { country: string; location: string }>> = {
  'eu-north1': { country: 'FI', location: 'Finland' },
  'eu-west1': { country: 'FR', location: 'France' },
  'us-central1': { country: 'US', location: 'USA' },
};

/** The region's ISO 3166-1 alpha-3 country, or undefined for a region the table does not know. */
export function nebiusRegionCountry(region: string): string | undefined {
  const r = NEBIUS_REGIONS[region];
  return r ? toAlpha3(r.country) : undefined;
}
