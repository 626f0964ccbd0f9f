/**
 * Countries of RunPod data centers. RunPod names data centers `<area>-<code>-<n>`: in the US the
 * middle part is a state (`US-TX-3`, `US-KS-2`), in Canada a city (`CA-MTL-1`), elsewhere an
 * ISO 3166-1 alpha-2 country under a continent prefix (`EU-RO-1`, `EU-SE-1`, `EUR-IS-1`,
 * `AP-JP-1`, `OC-AU-1`). The data center's `location` text is the fallback (through the ISO names
 * of i18n-iso-countries). A data center naming no country is left out, not guessed.
 */
import { createRequire } from 'node:module';
import countries from 'i18n-iso-countries';
import { toAlpha3 } from '../sdk/country.js';

const require = createRequire(import.meta.url);
let registered = false;
function ensureEnglishNames(): void {
  if (registered) return;
  countries.registerLocale(require('i18n-iso-countries/langs/en.json') as countries.LocaleData);
  registered = true;
}

/** Prefixes that are the country themselves; the middle part is then a state or city. */
const COUNTRY_PREFIXES: Record<string, string> = { US: 'USA', CA: 'CAN' };

/** ISO 3166-1 alpha-3 of a RunPod data center, or undefined when neither its ID nor its location says. */
export function runpodDataCenterCountry(id: string, location?: string | null): string | undefined {
  const m = /^([A-Z]{2,3})-([A-Z]{2,4})-\d+$/i.exec(id.trim());
  if (m) {
    const prefix = m[1]!.toUpperCase();
    if (COUNTRY_PREFIXES[prefix]) return COUNTRY_PREFIXES[prefix];
    if (m[2]!.length === 2) {
      const c = toAlpha3(m[2]!);
      if (c) return c;
    }
  }
  if (location) {
    ensureEnglishNames();
    for (const part of location.split(',')) {
      const t = part.trim();
      if (t.length < 2) continue;
      const c = (t.length <= 3 ? toAlpha3(t) : undefined) ?? countries.getAlpha3Code(t, 'en');
      if (c) return c;
    }
  }
  return undefined;
}
