/**
 * Country pins: ISO 3166-1 codes (alpha-2 or alpha-3, through i18n-iso-countries) and named groups
 * of countries. The library knows countries, not political unions, so the groups are listed here;
 * none of their names is an ISO 3166-1 code, so a group can never shadow a country.
 * Pure: no I/O.
 */
import { toAlpha3 } from '../providers/sdk/country.js';

/** The 27 member states of the European Union (since 2020-02-01), alpha-3. */
const EU = [
  'AUT', 'BEL', 'BGR', 'HRV', 'CYP', 'CZE', 'DNK', 'EST', 'FIN', 'FRA', 'DEU', 'GRC', 'HUN', 'IRL',
  'ITA', 'LVA', 'LTU', 'LUX', 'MLT', 'NLD', 'POL', 'PRT', 'ROU', 'SVK', 'SVN', 'ESP', 'SWE',
] as const;

/** Named country groups, keyed by their upper-case name. */
export const COUNTRY_GROUPS: Readonly<Record<string, readonly string[]>> = {
  /** European Union. */
  EU,
  /** European Economic Area: the EU plus Iceland, Liechtenstein and Norway (GDPR applies). */
  EEA: [...EU, 'ISL', 'LIE', 'NOR'],
  /** European Free Trade Association. */
  EFTA: ['ISL', 'LIE', 'NOR', 'CHE'],
};

/**
 * A country pin as written by a user, normalized: a group name ("EU") in upper case, or the
 * alpha-3 code of an alpha-2/alpha-3 code. Undefined when it is neither.
 */
export function normalizeCountryPin(pin: string): string | undefined {
  const p = pin.trim().toUpperCase();
  if (Object.hasOwn(COUNTRY_GROUPS, p)) return p;
  return toAlpha3(p);
}

/** The alpha-3 codes a list of pins stands for (groups expanded); throws on an unknown pin. */
export function expandCountryPins(pins: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const pin of pins) {
    const p = normalizeCountryPin(pin);
    if (!p) {
      throw new RangeError(
        `"${pin}" is not an ISO 3166-1 country code or a country group: use alpha-2 (DE), alpha-3 (DEU) or one of ${Object.keys(COUNTRY_GROUPS).join(', ')}`,
      );
    }
    const group = COUNTRY_GROUPS[p];
    if (group) for (const c of group) out.add(c);
    else out.add(p);
  }
  return out;
}
