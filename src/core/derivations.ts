import { KNOWN_ACTIONS, KNOWN_AUDIT_TYPES, readableCode } from './derive/codes';
import { countryCode } from './derive/country';
import { australianTimeZone, localIso } from './derive/local-time';
import { phoneE164 } from './derive/phone';
import { parsePrice } from './derive/price';
import { australianStateCode } from './derive/state';
import { streetNamesSuburb, suburbFromStreet } from './derive/suburb';
import { joinReadable, readableText } from './derive/text';

type Fields = Readonly<Record<string, unknown>>;

/** What a derivation may know beyond the item itself. */
export interface DerivationContext {
  /** The organisation's IANA time zone, already checked (`validTimeZone`); null when not known. */
  readonly timeZone: string | null;
  /** The record's own `id` (a flat body's `id`, an envelope's `data.id`) as a string; null when it sent none. */
  readonly recordId: string | null;
}

export const NO_CONTEXT: DerivationContext = { timeZone: null, recordId: null };

/** Adds CRM-ready fields computed from the fields the platform sent. */
export interface Derivation {
  /** The keys this derivation adds. */
  readonly outputs: readonly string[];
  /**
   * Documented keys this derivation may fill in when the platform left them out or sent them blank
   * (null in the item). A value the platform sent under them is never replaced.
   */
  readonly fills?: readonly string[];
  derive(item: Fields, context: DerivationContext): Record<string, unknown>;
}

export const fullName: Derivation = {
  outputs: ['full_name'],
  derive: (item) => ({ full_name: joinReadable([item.first_name, item.last_name], ' ') }),
};

/**
 * The suburb the platform left out, read from the street line when it can be told for sure
 * ("27 Banksia Street, Brunswick" gives "Brunswick"); a suburb it sent is kept as sent.
 */
export const suburbFromStreetLine: Derivation = {
  outputs: [],
  fills: ['suburb'],
  derive: (item) => ({ suburb: suburbFromStreet(item.street) }),
};

/**
 * "12 Smith St, Parramatta, NSW 2150, Australia": street, then state and postcode, then country.
 * The street line usually holds the suburb already; a suburb sent on its own that the street line
 * does not name follows the street.
 */
export const addressLine: Derivation = {
  outputs: ['address'],
  derive: (item) => ({
    address: joinReadable(
      [
        item.street,
        streetNamesSuburb(item.street, item.suburb) ? null : item.suburb,
        joinReadable([item.state, item.postcode], ' '),
        item.country,
      ],
      ', ',
    ),
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

/**
 * The record's own ID under the event's ID key (`quote_request_id`, `audit_id`) when the platform
 * sent the record's `id` but not that key; a value it sent under the key is kept.
 */
export const recordIdAs = <F extends string>(field: F): Derivation => ({
  outputs: [],
  fills: [field],
  derive: (_item, context) => ({ [field]: context.recordId }),
});

/**
 * `occurred_at` in the customer's local time, and the zone used: the zone of the customer's
 * Australian state (`australianTimeZone`), else the organisation's, else neither.
 */
export const localEventTime: Derivation = {
  outputs: ['occurred_at_local', 'time_zone'],
  derive: (item, context) => {
    const zone = australianTimeZone(item.state, item.postcode, item.country) ?? context.timeZone;
    return { occurred_at_local: zone === null ? null : localIso(item.occurred_at, zone), time_zone: zone };
  },
};

/**
 * Name, suburb, one-line address, country and state codes: for any event about a person at an
 * address. The suburb comes before the address line, which reads it.
 */
export const personAtAddress: readonly Derivation[] = [fullName, suburbFromStreetLine, addressLine, countryCodes, stateCodes];
