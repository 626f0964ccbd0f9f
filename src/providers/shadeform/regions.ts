/**
 * Countries of Shadeform regions. Shadeform resells many clouds, so region names are each cloud's
 * own ("us-central-1", "helsinki-finland-5", "canada-1") and there is no country field; what the
 * API does give is a display name per region ("US, Wichita, KS"). The country is read from the
 * display name's comma-separated parts, then from the region name's words, through the ISO 3166
 * names and aliases of i18n-iso-countries ("US", "USA", "United States", "Finland"...). A region
 * naming no country is left out of the catalog rather than guessed.
 */
import { createRequire } from 'node:module';
import countries from 'i18n-iso-countries';

const require = createRequire(import.meta.url);
let registered = false;
function ensureEnglishNames(): void {
  if (registered) return;
  countries.registerLocale(require('i18n-iso-countries/langs/en.json') as countries.LocaleData);
  registered = true;
}

function byName(s: string): string | undefined {
  const t = s.trim();
  if (t.length < 2) return undefined;
  return countries.getAlpha3Code(t, 'en') ?? undefined;
}

/** ISO 3166-1 alpha-3 of a Shadeform region, or undefined when neither name says. */
export function shadeformRegionCountry(region: string, displayName: string): string | undefined {
  ensureEnglishNames();
  for (const part of displayName.split(',')) {
    const c = byName(part);
    if (c) return c;
  }
  const words = region.toLowerCase().split(/[-_\s]+/).filter((w) => w && !/^\d+$/.test(w));
  if (words[0] === 'us') return 'USA';
  for (const w of words) {
    if (w.length < 3) continue; // two-letter words are too ambiguous ("ca", "in", "de")
    const c = byName(w);
    if (c) return c;
  }
  return undefined;
}
