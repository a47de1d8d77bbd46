import { countryCode } from './country';
import { readableText } from './text';

type PhoneLib = typeof import('libphonenumber-js/max');

// Loaded on first use, like the country tables. The `max` metadata is used because the smaller
// sets only check a number's length, and a CRM should not get "+611234" as a valid phone.
let phoneLib: PhoneLib | undefined;
const loadPhoneLib = (): PhoneLib => (phoneLib ??= require('libphonenumber-js/max') as PhoneLib);

/** Region used when neither the number nor the country says otherwise: the platform is Australian. */
export const DEFAULT_PHONE_REGION = 'AU';

/**
 * E.164 form ("+61412345678") of a phone as typed, local or international, with the country as the
 * default region. Null when blank or not a valid number.
 */
export const phoneE164 = (phone: unknown, country: unknown): string | null => {
  const typed = readableText(phone);
  if (typed === null || typed.length > 40) return null;
  const region = countryCode(country) ?? DEFAULT_PHONE_REGION;
  try {
    const parsed = loadPhoneLib().parsePhoneNumberFromString(typed, {
      defaultCountry: region as import('libphonenumber-js').CountryCode,
    });
    return parsed && parsed.isValid() ? parsed.number : null;
  } catch {
    // The library throws on some malformed input; a phone we cannot read is simply not E.164.
    return null;
  }
};
