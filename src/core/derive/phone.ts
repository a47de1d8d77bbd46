import type { CountryCode } from 'libphonenumber-js';
import { countryCode } from './country';
import { readableText } from './text';

type PhoneLib = typeof import('libphonenumber-js/max');

// Loaded on first use, like the country tables. The `max` metadata is used because the smaller
// sets only check a number's length, and a CRM should not get "+611234" as a valid phone.
let phoneLib: PhoneLib | undefined;
const loadPhoneLib = (): PhoneLib => (phoneLib ??= require('libphonenumber-js/max') as PhoneLib);

/** Region used when neither the number nor the country says otherwise: the platform is Australian. */
export const DEFAULT_PHONE_REGION = 'AU';

/** E.164 of a phone as typed, by libphonenumber-js alone: the reference the fast path must agree with. */
export const phoneE164ByLibrary = (typed: string, region: string): string | null => {
  try {
    const parsed = loadPhoneLib().parsePhoneNumberFromString(typed, { defaultCountry: region as CountryCode });
    return parsed && parsed.isValid() ? parsed.number : null;
  } catch {
    // The library throws on some malformed input; a phone we cannot read is simply not E.164.
    return null;
  }
};

// The parts of the library's numbering plans the validity check reads. They are not in its typed
// API, so this interface names them; test/phone.test.ts compares the outcome with the library's
// own over many numbers, which catches a library update that changes them.
interface PlanType {
  pattern(): string;
  possibleLengths(): number[] | undefined;
}
interface Plan {
  nationalNumberPattern(): string;
  type(name: string): PlanType | undefined;
}

// The types the library tries in `getNumberType`: a number is valid when it matches one of them.
const NUMBER_TYPES = ['FIXED_LINE', 'MOBILE', 'PREMIUM_RATE', 'TOLL_FREE', 'SHARED_COST', 'VOIP', 'PERSONAL_NUMBER', 'PAGER', 'UAN', 'VOICEMAIL'];

/**
 * Whether a national number is valid in Australia, with the library's own patterns compiled once:
 * the library builds a RegExp from each pattern on every check, most of the time an E.164
 * derivation took. The same test as its `getNumberType`: the whole-plan pattern, then any type
 * whose lengths admit the number and whose pattern matches it.
 */
let australianNumber: ((national: string) => boolean) | undefined;
const compileAustralianCheck = (): ((national: string) => boolean) => {
  try {
    const lib = loadPhoneLib();
    // The metadata `max` parses with, as its numbers carry it: no second path to the library's
    // files (the Lambda bundles keep the library in a file of their own, reached through `max`
    // and `core`).
    const json = (lib.parsePhoneNumberFromString('+61491570156') as unknown as { getMetadata(): unknown }).getMetadata();
    const { Metadata } = require('libphonenumber-js/core') as { Metadata: new (json: unknown) => { selectNumberingPlan(country: string): void; numberingPlan: Plan } };
    const metadata = new Metadata(json);
    metadata.selectNumberingPlan('AU');
    const plan = metadata.numberingPlan;
    const whole = (pattern: string) => new RegExp(`^(?:${pattern})$`);
    const general = whole(plan.nationalNumberPattern());
    const types = NUMBER_TYPES.flatMap((name) => {
      const type = plan.type(name);
      const pattern = type?.pattern();
      return pattern ? [{ pattern: whole(pattern), lengths: type!.possibleLengths() }] : [];
    });
    if (types.length === 0) return () => false;
    return (national) =>
      general.test(national) && types.some(({ pattern, lengths }) => (!lengths || lengths.includes(national.length)) && pattern.test(national));
  } catch {
    // A library whose internals have changed: it decides every number, as it did before.
    return () => false;
  }
};

// Separators a typed number commonly holds; any other character leaves the number to the library.
const isSeparator = (code: number): boolean => code === 32 || code === 45 || code === 46 || code === 40 || code === 41; // space - . ( )

/**
 * The E.164 form of an Australian number typed in one of its plain forms, when it is certainly
 * valid; undefined when the library must decide. The forms: `+61` then nine digits, or (the region
 * being Australia) `0` then nine digits, or the nine digits alone, the first of them 2, 3, 4, 7 or
 * 8 (geographic and mobile numbers), with spaces, hyphens, full stops and brackets between digits.
 * For these the library's answer is `+61` and the nine digits when they are valid in Australia
 * (with a `+`, whatever the region): no international or trunk prefix, carrier code or extension
 * can be read from them. A number not
 * valid in Australia may still be one of its islands' (Christmas, Cocos), so the library decides.
 */
export const australianFastPath = (typed: string, region: string): string | null | undefined => {
  let digits = '';
  const plus = typed.charCodeAt(0) === 43;
  for (let i = plus ? 1 : 0; i < typed.length; i += 1) {
    const code = typed.charCodeAt(i);
    if (code >= 48 && code <= 57) digits += typed[i];
    else if (!isSeparator(code)) return undefined;
  }
  let national: string;
  if (plus) national = digits.length === 11 && digits.startsWith('61') ? digits.slice(2) : '';
  else if (region !== 'AU') return undefined;
  else national = digits.length === 10 && digits.charCodeAt(0) === 48 ? digits.slice(1) : digits;
  if (national.length !== 9 || !'23478'.includes(national[0]!)) return undefined;
  australianNumber ??= compileAustralianCheck();
  return australianNumber(national) ? `+61${national}` : undefined;
};

/**
 * E.164 form ("+61412345678") of a phone as typed, local or international, with the country as the
 * default region. Null when blank or not a valid number.
 */
export const phoneE164 = (phone: unknown, country: unknown): string | null => {
  const typed = readableText(phone);
  if (typed === null || typed.length > 40) return null;
  const region = countryCode(country) ?? DEFAULT_PHONE_REGION;
  const fast = australianFastPath(typed, region);
  return fast !== undefined ? fast : phoneE164ByLibrary(typed, region);
};
