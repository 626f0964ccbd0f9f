/**
 * Countries of Vast.ai machines. Vast has no regions: each offer carries a free-text `geolocation`,
 * "<region>, <country code>" ("Texas, US", the spec's "Atlantis, AT"), sometimes with a continent
 * after it ("Texas, US, NA", as SkyPilot's catalog records it) or a country name ("California,
 * United States"), and its search filters `geolocation` by two-letter country code. So the contract
 * location is that country code (Vast's own granularity), and the country is read from the string
 * through i18n-iso-countries. A geolocation naming no country is left out, not guessed.
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

/** Continent codes that may trail a geolocation; "NA" is also Namibia, so only as a third part. */
const CONTINENTS = new Set(['NA', 'SA', 'EU', 'AS', 'AF', 'OC', 'AN']);

export interface VastGeolocation {
  /** ISO alpha-2, upper case: the contract location, as Vast's `geolocation` filter takes it. */
  alpha2: string;
  alpha3: string;
  /** What precedes the country ("Texas"), or "". */
  region: string;
}

function countryOf(part: string): { alpha2: string; alpha3: string } | undefined {
  const t = part.trim();
  if (/^[A-Za-z]{2}$/.test(t)) {
    const a3 = countries.alpha2ToAlpha3(t.toUpperCase());
    return a3 ? { alpha2: t.toUpperCase(), alpha3: a3 } : undefined;
  }
  if (t.length < 3) return undefined;
  const a3 = countries.getAlpha3Code(t, 'en');
  const a2 = a3 ? countries.alpha3ToAlpha2(a3) : undefined;
  return a3 && a2 ? { alpha2: a2, alpha3: a3 } : undefined;
}

/** Reads a Vast geolocation string; `countryCode` (instances' `country_code`) wins when given. */
export function parseVastGeolocation(geolocation: string | null | undefined, countryCode?: string | null): VastGeolocation | undefined {
  ensureEnglishNames();
  const parts = (geolocation ?? '').split(',').map((p) => p.trim());
  if (parts.length >= 3 && CONTINENTS.has(parts[parts.length - 1]!.toUpperCase())) parts.pop();
  const region = parts.length > 1 ? parts.slice(0, -1).filter(Boolean).join(', ') : '';
  const fromCode = countryCode ? countryOf(countryCode) : undefined;
  if (fromCode) return { ...fromCode, region };
  const last = parts[parts.length - 1];
  const c = last ? countryOf(last) : undefined;
  return c ? { ...c, region } : undefined;
}
