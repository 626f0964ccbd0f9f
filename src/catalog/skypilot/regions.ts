/**
 * Region → country for SkyPilot catalog rows. Country codes and names are read through
 * i18n-iso-countries; a small table of region prefixes per provider is used only for region names
 * that carry neither ("us-east-1", "eu-north1", "nyc1", "default").
 *
 * Order, first answer wins:
 *  1. The provider's documented code position, checked with the library:
 *     vast "Texas, US, NA" (2nd comma field, alpha-2), cudo "se-stockholm-1" (1st dash field,
 *     alpha-2), verda "FIN-01" (1st dash field, alpha-3), runpod "US" (whole string, alpha-2).
 *  2. The whole region is a country code (alpha-2 or alpha-3) or a country name ("FINLAND").
 *  3. A comma field or a word of 4+ letters is a country name ("australia-east-1" → AUS). Codes
 *     are not guessed from words: "me-west-1" is the Middle East, not Montenegro (ME), and vast's
 *     "NA" is North America, not Namibia.
 *  4. The provider's prefix table below (longest matching prefix).
 */
import countries from 'i18n-iso-countries';
import { toAlpha3 } from '../../providers/sdk/country.js';

type CodePosition = { split: string; index: number; kind: 'alpha2' | 'alpha3' } | { whole: true; kind: 'alpha2' };

const CODE_POSITIONS: Readonly<Record<string, CodePosition>> = {
  vast: { split: ',', index: 1, kind: 'alpha2' },
  cudo: { split: '-', index: 0, kind: 'alpha2' },
  verda: { split: '-', index: 0, kind: 'alpha3' },
  runpod: { whole: true, kind: 'alpha2' },
};

/**
 * Region-name prefixes that carry no country, per provider, with the country of the data center.
 * Sources: the providers' region lists (Lambda as in the Brev cloud SDK's Lambda location table,
 * Nebius, DigitalOcean and Paperspace documentation). Hyperbolic publishes a single "default"
 * region; its capacity is in the United States.
 */
export const REGION_PREFIX_COUNTRY: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  lambda: {
    'us-': 'USA',
    'europe-central-': 'DEU',
    'europe-south-': 'ITA',
    'asia-northeast-': 'JPN',
    'asia-south-': 'IND',
    'me-west-': 'ISR',
  },
  nebius: {
    'eu-north1': 'FIN',
    'eu-north2': 'ISL',
    'eu-west1': 'FRA',
    'us-central1': 'USA',
    'me-west1': 'ISR',
  },
  do: {
    nyc: 'USA',
    sfo: 'USA',
    atl: 'USA',
    tor: 'CAN',
    ams: 'NLD',
    lon: 'GBR',
    fra: 'DEU',
    sgp: 'SGP',
    blr: 'IND',
    syd: 'AUS',
  },
  paperspace: {
    'East Coast': 'USA',
    'West Coast': 'USA',
    'Europe (AMS': 'NLD',
  },
  hyperbolic: {
    default: 'USA',
  },
  verda: {
    // DataCrunch/Verda's Iceland region is "ICE-01": ICE is not an ISO code.
    'ICE-': 'ISL',
  },
};

function fromCode(code: string, kind: 'alpha2' | 'alpha3'): string | undefined {
  const c = code.trim();
  if (kind === 'alpha2' ? c.length !== 2 : c.length !== 3) return undefined;
  return toAlpha3(c);
}

function fromName(name: string): string | undefined {
  const n = name.trim();
  if (n.length < 4) return undefined;
  return countries.getAlpha3Code(n, 'en') ?? undefined;
}

export type CountrySource = 'code' | 'name' | 'table';

/** The alpha-3 country of a provider's region, and how it was found; undefined if unknown. */
export function regionCountry(provider: string, region: string): { country: string; source: CountrySource } | undefined {
  const r = region.trim();
  if (!r) return undefined;
  const pos = CODE_POSITIONS[provider];
  if (pos) {
    const field = 'whole' in pos ? r : r.split(pos.split)[pos.index];
    const c = field !== undefined ? fromCode(field, pos.kind) : undefined;
    if (c) return { country: c, source: 'code' };
  }
  if (r.length === 2 || r.length === 3) {
    const c = toAlpha3(r);
    if (c) return { country: c, source: 'code' };
  }
  const whole = fromName(r);
  if (whole) return { country: whole, source: 'name' };
  for (const part of [...r.split(','), ...r.split(/[\s,\-_()/]+/)]) {
    if (!/^[\p{L} .'-]+$/u.test(part.trim())) continue;
    const c = fromName(part);
    if (c) return { country: c, source: 'name' };
  }
  const table = REGION_PREFIX_COUNTRY[provider];
  if (table) {
    let best: string | undefined;
    for (const prefix of Object.keys(table)) {
      if (r.startsWith(prefix) && (best === undefined || prefix.length > best.length)) best = prefix;
    }
    if (best !== undefined) return { country: table[best]!, source: 'table' };
  }
  return undefined;
}
