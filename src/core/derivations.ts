import { countryCode } from './derive/country';
import { phoneE164 } from './derive/phone';
import { parsePrice } from './derive/price';
import { australianStateCode } from './derive/state';
import { joinReadable } from './derive/text';

type Fields = Readonly<Record<string, unknown>>;

/** Adds CRM-ready fields computed from the fields the platform sent. */
export interface Derivation {
  /** The keys this derivation adds. */
  readonly outputs: readonly string[];
  derive(item: Fields): Record<string, unknown>;
}

export const fullName: Derivation = {
  outputs: ['full_name'],
  derive: (item) => ({ full_name: joinReadable([item.first_name, item.last_name], ' ') }),
};

/** "12 Smith St, Parramatta, NSW 2150, Australia": street, then state and postcode, then country. */
export const addressLine: Derivation = {
  outputs: ['address'],
  derive: (item) => ({
    address: joinReadable([item.street, joinReadable([item.state, item.postcode], ' '), item.country], ', '),
  }),
};

export const countryCodes: Derivation = {
  outputs: ['country_code'],
  derive: (item) => ({ country_code: countryCode(item.country) }),
};

export const stateCodes: Derivation = {
  outputs: ['state_code'],
  derive: (item) => ({ state_code: australianStateCode(item.state, item.country) }),
};

export const phoneInE164 = <F extends string>(field: F): Derivation => ({
  outputs: [`${field}_e164`],
  derive: (item) => ({ [`${field}_e164`]: phoneE164(item[field], item.country) }),
});

export const priceParts = <F extends string>(field: F): Derivation => ({
  outputs: [`${field}_amount`, `${field}_currency`],
  derive: (item) => {
    const { amount, currency } = parsePrice(item[field]);
    return { [`${field}_amount`]: amount, [`${field}_currency`]: currency };
  },
});

/** Name, one-line address, country and state codes: for any event about a person at an address. */
export const personAtAddress: readonly Derivation[] = [fullName, addressLine, countryCodes, stateCodes];
