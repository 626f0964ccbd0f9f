/** ISO 3166-1 country codes through i18n-iso-countries (a maintained list, not a hand-made one). */
import countries from 'i18n-iso-countries';

export function isAlpha3(code: string): boolean {
  return countries.isValid(code) && code.length === 3 && code === code.toUpperCase();
}

/** Accepts alpha-2 or alpha-3 in any case and returns alpha-3, or undefined if it is no country. */
export function toAlpha3(code: string): string | undefined {
  const c = code.trim().toUpperCase();
  if (c.length === 2) return countries.alpha2ToAlpha3(c) ?? undefined;
  if (c.length === 3 && countries.isValid(c)) return c;
  return undefined;
}
