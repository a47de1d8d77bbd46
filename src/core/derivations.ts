import { KNOWN_ACTIONS, KNOWN_AUDIT_TYPES, readableCode } from './derive/codes';
import { countryCode } from './derive/country';
import { phoneE164 } from './derive/phone';
import { parsePrice } from './derive/price';
import { australianStateCode } from './derive/state';
import { joinReadable, readableText } from './derive/text';

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

/**
 * Known to be in Australia: the country says so, or no country was given and the state is an
 * Australian one. Anything else (another country, or nothing to go on) is not known.
 */
const inAustralia = (item: Fields): boolean =>
  readableText(item.country) === null ? australianStateCode(item.state, null) !== null : countryCode(item.country) === 'AU';

/**
 * `<field>_amount` and `<field>_currency`. A plain "$" names no currency by itself; it is AUD when
 * the record's address is in Australia, and stays null when that is not known.
 */
export const priceParts = <F extends string>(field: F): Derivation => ({
  outputs: [`${field}_amount`, `${field}_currency`],
  derive: (item) => {
    const { amount, currency, plainDollar } = parsePrice(item[field]);
    const resolved = currency ?? (plainDollar && inAustralia(item) ? 'AUD' : null);
    return { [`${field}_amount`]: amount, [`${field}_currency`]: resolved };
  },
});

/** A readable companion for a code field: `<field>_name`. */
export const codeName = <F extends string>(field: F, known: Readonly<Record<string, string>>): Derivation => ({
  outputs: [`${field}_name`],
  derive: (item) => ({ [`${field}_name`]: readableCode(item[field], known) }),
});

/** "Solar PV" beside `solar_pv`. */
export const actionName = codeName('action', KNOWN_ACTIONS);

/** "Home Energy Audit" beside `home_energy`. */
export const auditTypeName = codeName('audit_type', KNOWN_AUDIT_TYPES);

/** Name, one-line address, country and state codes: for any event about a person at an address. */
export const personAtAddress: readonly Derivation[] = [fullName, addressLine, countryCodes, stateCodes];
