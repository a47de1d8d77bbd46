import { countryCode } from './country';
import { readableText } from './text';

// Australia's eight states and territories. A table this small and this stable is clearer
// inline than a subdivision library with the whole world's data.
const AUSTRALIAN_STATES: Readonly<Record<string, readonly string[]>> = {
  NSW: ['NEW SOUTH WALES', 'NSW'],
  VIC: ['VICTORIA', 'VIC'],
  QLD: ['QUEENSLAND', 'QLD'],
  SA: ['SOUTH AUSTRALIA', 'SA'],
  WA: ['WESTERN AUSTRALIA', 'WA'],
  TAS: ['TASMANIA', 'TAS'],
  NT: ['NORTHERN TERRITORY', 'NT'],
  ACT: ['AUSTRALIAN CAPITAL TERRITORY', 'ACT'],
};

const LOOKUP = new Map<string, string>();
for (const [code, names] of Object.entries(AUSTRALIAN_STATES)) {
  for (const name of names) {
    LOOKUP.set(name, code);
    LOOKUP.set(`AU-${name}`, code);
  }
}

/**
 * Australian state or territory code from a state as typed ("New South Wales", "nsw", "N.S.W.",
 * "AU-NSW"), when the country is Australia or not given. Null otherwise.
 */
export const australianStateCode = (state: unknown, country: unknown): string | null => {
  const typed = readableText(state);
  if (typed === null || typed.length > 60) return null;
  if (readableText(country) !== null && countryCode(country) !== 'AU') return null;
  const key = typed
    .toUpperCase()
    .replace(/\./g, '')
    .replace(/[^A-Z-]+/g, ' ')
    .trim();
  return LOOKUP.get(key) ?? null;
};
