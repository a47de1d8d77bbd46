import { readableText } from './text';

type Countries = typeof import('i18n-iso-countries');

// Loaded on first use: the country tables are only needed while normalising a delivery,
// and loading them with the app would slow every cold start. `index` rather than the package's
// node entry, which registers all ~80 languages (15 ms, 190 KB in the bundle) when we need English.
let countries: Countries | undefined;
const loadCountries = (): Countries => {
  if (!countries) {
    countries = require('i18n-iso-countries/index') as Countries;
    countries.registerLocale(require('i18n-iso-countries/langs/en.json'));
  }
  return countries;
};

// Every item looks its country up three times (code, state, phone region) and a feed repeats a
// handful of spellings, so answers are remembered; the bound keeps odd input from growing it.
const remembered = new Map<string, string | null>();
const MAX_REMEMBERED = 512;

/**
 * ISO 3166-1 alpha-2 code from a country as typed: "Australia", "AU", "AUS", any case.
 * Null when blank or not recognised.
 */
export const countryCode = (value: unknown): string | null => {
  const typed = readableText(value);
  if (typed === null || typed.length > 80) return null;
  const known = remembered.get(typed);
  if (known !== undefined) return known;
  const code = lookUp(typed);
  if (remembered.size >= MAX_REMEMBERED) remembered.clear();
  remembered.set(typed, code);
  return code;
};

const lookUp = (typed: string): string | null => {
  const lib = loadCountries();
  const letters = typed.replace(/\./g, '').trim();
  const upper = letters.toUpperCase();
  if (/^[A-Z]{2}$/.test(upper) && lib.isValid(upper)) return upper;
  if (/^[A-Z]{3}$/.test(upper) && lib.isValid(upper)) return lib.alpha3ToAlpha2(upper) ?? null;
  return lib.getAlpha2Code(letters, 'en') ?? null;
};
