import { readableText } from './text';

// Australian street types, as written out and as commonly abbreviated. Enough to find where the
// street ends in a one-line address; a word missing here only means no suburb is read, never a
// wrong one.
const STREET_TYPES = new Set(
  [
    'street', 'st', 'road', 'rd', 'avenue', 'ave', 'av', 'drive', 'dr', 'drv', 'court', 'ct', 'crt',
    'place', 'pl', 'crescent', 'cres', 'cr', 'parade', 'pde', 'lane', 'ln', 'grove', 'gr', 'gve',
    'terrace', 'tce', 'highway', 'hwy', 'way', 'close', 'cl', 'boulevard', 'boulevarde', 'blvd', 'bvd',
    'circuit', 'cct', 'esplanade', 'esp', 'square', 'sq', 'parkway', 'pkwy', 'rise', 'mews', 'loop',
  ],
);

// What may close the line after the suburb: a state or territory (name or abbreviation), a
// postcode, the country. Longest names first, so "Western Australia" goes before "Australia".
const TRAILING = new RegExp(
  `(?:^|[\\s,]+)(?:${[
    'new south wales', 'australian capital territory', 'northern territory', 'western australia', 'south australia',
    'victoria', 'queensland', 'tasmania', 'australia', 'n\\.?s\\.?w\\.?', 'a\\.?c\\.?t\\.?', 'n\\.?t\\.?', 'vic\\.?',
    'qld\\.?', 's\\.?a\\.?', 'w\\.?a\\.?', 'tas\\.?', '\\d{4}',
  ].join('|')})[\\s,]*$`,
  'i',
);

// A suburb's name: words of letters, with the hyphens, apostrophes and full stops names have
// ("Wagga Wagga", "O'Connor", "St. Kilda"); at most six words, no digits.
const SUBURB_NAME = /^[\p{L}][\p{L}'’.-]*(?: [\p{L}][\p{L}'’.-]*){0,5}$/u;

const wordsOf = (text: string): string[] => text.split(/\s+/).filter((word) => word !== '');
const isStreetType = (word: string | undefined): boolean => word !== undefined && STREET_TYPES.has(word.toLowerCase().replace(/\.$/, ''));
const isSaint = (word: string): boolean => /^st\.?$/i.test(word);

/** The line without the state, postcode and country that may close it. */
const withoutTrailingRegion = (line: string): string => {
  let rest = line;
  for (let stripped = rest.replace(TRAILING, ''); stripped !== rest && stripped !== ''; stripped = rest.replace(TRAILING, '')) {
    rest = stripped;
  }
  return rest.trim();
};

const asSuburb = (words: readonly string[]): string | null => {
  const name = words.join(' ');
  return name.length <= 60 && SUBURB_NAME.test(name) ? name : null;
};

/**
 * "12 Smith St North Sydney": the words after the street type ("North Sydney"). The last street
 * type that has a name before it and words after it, so "12 Lane Cove Road Ryde" gives "Ryde";
 * except that an "St" right after another street type is "Saint" ("12 Pacific Hwy St Leonards").
 */
const afterStreetType = (line: string): string | null => {
  const words = wordsOf(line);
  for (let i = words.length - 2; i >= 1; i -= 1) {
    const word = words[i]!;
    if (!isStreetType(word)) continue;
    if (isSaint(word) && isStreetType(words[i - 1])) continue;
    return asSuburb(words.slice(i + 1));
  }
  return null;
};

/**
 * The suburb in a street line as typed, best effort, or null when it cannot be told for sure:
 * - "27 Banksia Street, Brunswick" and "27 Banksia Street, Brunswick VIC 3056": the part after the
 *   last comma, once a closing state, postcode and country are taken off ("Brunswick");
 * - "12 Smith St North Sydney" (no comma): the words after the street type ("North Sydney");
 * - "12 Smith Street", "Brunswick", "Unit 4, Smith Street": null. Nothing is ever guessed.
 */
export const suburbFromStreet = (street: unknown): string | null => {
  const typed = readableText(street);
  if (typed === null || typed.length > 200) return null;
  const line = withoutTrailingRegion(typed.replace(/\s+/g, ' '));
  const comma = line.lastIndexOf(',');
  if (comma < 0) return afterStreetType(line);
  const last = line.slice(comma + 1).trim();
  const before = line.slice(0, comma);
  // "Unit 4, 12 Smith St North Sydney": the last part is itself a street line.
  if (/\d/.test(last)) return afterStreetType(last);
  // "Lot 5, Smith Road" names a street, not a suburb; "12 Smith St, Wattle Grove" a suburb whose
  // name ends like a street, since the street came before it.
  if (isStreetType(wordsOf(last).at(-1)) && !wordsOf(before).some((word) => isStreetType(word))) return null;
  return asSuburb(wordsOf(last));
};

const comparable = (text: string): string => ` ${text.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim()} `;

/** The street line already names this suburb (as whole words, case and punctuation aside). */
export const streetNamesSuburb = (street: unknown, suburb: unknown): boolean => {
  const line = readableText(street);
  const name = readableText(suburb);
  if (line === null || name === null) return false;
  const wanted = comparable(name);
  return wanted.trim() !== '' && comparable(line).includes(wanted);
};
