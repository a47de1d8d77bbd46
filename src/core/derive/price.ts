// Prices arrive as people type them: "$4,990.00", "AUD 4,990.50", "POA"... We read the ones that
// state one amount unambiguously and say null for the rest rather than guess.

export interface Price {
  amount: number | null;
  currency: string | null;
  /** The price was written with a plain "$" and no currency: which dollar depends on where it is. */
  plainDollar: boolean;
}

// Symbols that name one currency. A bare "$" does not: it is AUD here, but USD or NZD elsewhere.
const SYMBOLS: ReadonlyArray<readonly [RegExp, string]> = [
  [/^(?:A|AU|AUD)\s?\$/i, 'AUD'],
  [/^NZ\s?\$/i, 'NZD'],
  [/^US\s?\$/i, 'USD'],
  [/^(?:C|CA)\s?\$/i, 'CAD'],
  [/^£/, 'GBP'],
  [/^€/, 'EUR'],
];

let isoCurrencies: Set<string> | undefined;
const isoCurrency = (letters: string | undefined): string | null => {
  const code = letters?.toUpperCase();
  isoCurrencies ??= new Set(Intl.supportedValuesOf('currency'));
  return code !== undefined && isoCurrencies.has(code) ? code : null;
};

const LEADING_CODE = /^([A-Za-z]{3})(?![A-Za-z])\s*/;
const TRAILING_CODE = /\s*(?<![A-Za-z])([A-Za-z]{3})$/;
const TAX_NOTE = /\s*\(?\s*(?:inc|incl|including|ex|excl|excluding)\.?\s+gst\s*\)?$/i;
const AMOUNT = /^(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$/;

const NOTHING: Price = { amount: null, currency: null, plainDollar: false };

// The usual form, "$4,990.00" or "4990": no symbol, code or tax note to look for, so the steps below
// would come to the same answer through a dozen patterns.
const PLAIN_AMOUNT = /^(\$?)((?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)$/;

export const parsePrice = (value: unknown): Price => {
  if (typeof value === 'number') return Number.isFinite(value) ? { amount: value, currency: null, plainDollar: false } : NOTHING;
  if (typeof value !== 'string') return NOTHING;
  let rest = value.trim();
  if (rest === '' || rest.length > 64) return NOTHING;
  const plain = PLAIN_AMOUNT.exec(rest);
  if (plain) return { amount: Number(plain[2]!.replace(/,/g, '')), currency: null, plainDollar: plain[1] === '$' };

  let currency: string | null = null;
  const symbol = SYMBOLS.find(([pattern]) => pattern.test(rest));
  const leading = LEADING_CODE.exec(rest);
  if (symbol) {
    currency = symbol[1];
    rest = rest.replace(symbol[0], '');
  } else if (leading && isoCurrency(leading[1])) {
    currency = isoCurrency(leading[1]);
    rest = rest.slice(leading[0].length);
  }
  rest = rest.replace(TAX_NOTE, '').trim();
  const trailing = TRAILING_CODE.exec(rest);
  if (currency === null && trailing && isoCurrency(trailing[1])) {
    currency = isoCurrency(trailing[1]);
    rest = rest.slice(0, trailing.index);
  }
  const plainDollar = currency === null && rest.startsWith('$');
  rest = rest.replace(/^\$/, '').replace(/\s+/g, '');
  if (!AMOUNT.test(rest)) return { amount: null, currency, plainDollar: false };
  return { amount: Number(rest.replace(/,/g, '')), currency, plainDollar };
};
