/**
 * Google Cloud regions → country. Compute's `regions.list` names a region and its zones, not where
 * it is, so the country comes from this table. Source: Google's "Regions and zones" page of the
 * Compute Engine documentation (cloud.google.com/compute/docs/regions-zones: region, location),
 * read 2026-12. Codes are ISO 3166-1 alpha-2, checked and turned into alpha-3 through
 * i18n-iso-countries (src/providers/sdk/country.ts); a region not in the table is left out of the
 * catalog (not guessed).
 */
import { toAlpha3 } from '../sdk/country.js';

export interface GcpRegionInfo {
  /** ISO 3166-1 alpha-2. */
  country: string;
  /** Google's location for it, e.g. "Council Bluffs, Iowa, North America". */
  location: string;
}

export const GCP_REGIONS: Readonly<Record<string, GcpRegionInfo>> = {
  'us-central1': { country: 'US', location: 'Council Bluffs, Iowa' },
  'us-east1': { country: 'US', location: 'Moncks Corner, South Carolina' },
  'us-east4': { country: 'US', location: 'Ashburn, Virginia' },
  'us-east5': { country: 'US', location: 'Columbus, Ohio' },
  'us-south1': { country: 'US', location: 'Dallas, Texas' },
  'us-west1': { country: 'US', location: 'The Dalles, Oregon' },
  'us-west2': { country: 'US', location: 'Los Angeles, California' },
  'us-west3': { country: 'US', location: 'Salt Lake City, Utah' },
  'us-west4': { country: 'US', location: 'Las Vegas, Nevada' },
  'northamerica-northeast1': { country: 'CA', location: 'Montréal, Québec' },
  'northamerica-northeast2': { country: 'CA', location: 'Toronto, Ontario' },
  'northamerica-south1': { country: 'MX', location: 'Querétaro' },
  'southamerica-east1': { country: 'BR', location: 'Osasco, São Paulo' },
  'southamerica-west1': { country: 'CL', location: 'Santiago' },
  'europe-west1': { country: 'BE', location: 'St. Ghislain' },
  'europe-west2': { country: 'GB', location: 'London, England' },
  'europe-west3': { country: 'DE', location: 'Frankfurt' },
  'europe-west4': { country: 'NL', location: 'Eemshaven' },
  'europe-west6': { country: 'CH', location: 'Zurich' },
  'europe-west8': { country: 'IT', location: 'Milan' },
  'europe-west9': { country: 'FR', location: 'Paris' },
  'europe-west10': { country: 'DE', location: 'Berlin' },
  'europe-west12': { country: 'IT', location: 'Turin' },
  'europe-central2': { country: 'PL', location: 'Warsaw' },
  'europe-north1': { country: 'FI', location: 'Hamina' },
  'europe-north2': { country: 'SE', location: 'Stockholm' },
  'europe-southwest1': { country: 'ES', location: 'Madrid' },
  'me-central1': { country: 'QA', location: 'Doha' },
  'me-central2': { country: 'SA', location: 'Dammam' },
  'me-west1': { country: 'IL', location: 'Tel Aviv' },
  'africa-south1': { country: 'ZA', location: 'Johannesburg' },
  'asia-east1': { country: 'TW', location: 'Changhua County' },
  'asia-east2': { country: 'HK', location: 'Hong Kong' },
  'asia-northeast1': { country: 'JP', location: 'Tokyo' },
  'asia-northeast2': { country: 'JP', location: 'Osaka' },
  'asia-northeast3': { country: 'KR', location: 'Seoul' },
  'asia-south1': { country: 'IN', location: 'Mumbai' },
  'asia-south2': { country: 'IN', location: 'Delhi' },
  'asia-southeast1': { country: 'SG', location: 'Jurong West' },
  'asia-southeast2': { country: 'ID', location: 'Jakarta' },
  'australia-southeast1': { country: 'AU', location: 'Sydney' },
  'australia-southeast2': { country: 'AU', location: 'Melbourne' },
};

/** The region's alpha-3 country, or undefined when the table does not know the region. */
export function gcpRegionCountry(region: string): string | undefined {
  const r = GCP_REGIONS[region];
  return r ? toAlpha3(r.country) : undefined;
}

/** Region of a zone name: "us-central1-a" → "us-central1" (zones are `<region>-<letter>`). */
export function regionOfZone(zone: string): string {
  const i = zone.lastIndexOf('-');
  return i > 0 ? zone.slice(0, i) : zone;
}
