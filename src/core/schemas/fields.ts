import { z } from 'zod';

/**
 * Where a field of a Zap item comes from:
 * - `published`: in Ecologic's public field set (RequestQuote:Create only);
 * - `assumed`: sent by the platform under our contract (docs/ecologic-api.md), not yet published;
 * - `derived`: computed by the app from other fields, never overwriting a field the body sent.
 */
export type FieldOrigin = 'published' | 'assumed' | 'derived';

declare module 'zod' {
  interface GlobalMeta {
    origin?: FieldOrigin;
  }
}

// Field builders. Every documented field is nullable: a value the platform left out, or sent
// blank, arrives as null so a partner's field mapping never points at a missing key.
const describe = <T extends z.ZodType>(schema: T, title: string, description: string, origin: FieldOrigin) =>
  schema.meta({ title, description, origin });

/** Text as typed by a person: trimmed, blank becomes null. */
export const text = (title: string, description: string, origin: FieldOrigin = 'assumed') =>
  describe(z.string().nullable(), title, description, origin);

/** A number the platform sends as a JSON number. */
export const num = (title: string, description: string, origin: FieldOrigin = 'assumed') =>
  describe(z.number().nullable(), title, description, origin);

/** A value shown to people that may arrive as text ("$4,990.00", "POA") or as a number. */
export const textOrNumber = (title: string, description: string, origin: FieldOrigin = 'assumed') =>
  describe(z.union([z.string(), z.number()]).nullable(), title, description, origin);

export const derivedText = (title: string, description: string) =>
  describe(z.string().nullable(), title, description, 'derived');

export const derivedNumber = (title: string, description: string) =>
  describe(z.number().nullable(), title, description, 'derived');

/**
 * The event's bookkeeping, which every Zap item has whatever the event. It comes last in an item,
 * after the customer and the request: a partner reads a lead, not an envelope.
 */
export const bookkeepingFields = {
  event: describe(z.string(), 'Event Type', 'The platform event name, e.g. `RequestQuote:Create`.', 'derived'),
  occurred_at: describe(
    z.iso.datetime(),
    'Event Date and Time (UTC)',
    'When the event happened, ISO 8601 in UTC: from the body (`occurred_at`, `created_at` or `timestamp`), else the delivery timestamp, else the time Zapier received it.',
    'derived',
  ),
  occurred_at_local: describe(
    z.iso.datetime({ offset: true }).nullable(),
    "Event Date and Time (Customer's Local Time)",
    "The same moment as `occurred_at` on the customer's clock, daylight saving included, to the second with the offset from UTC, e.g. `2026-11-23T11:18:52+11:00`. In the time zone of `time_zone`; null when that is not known.",
    'derived',
  ),
  time_zone: derivedText(
    "Customer's Time Zone",
    "The time zone of `occurred_at_local`, e.g. `Australia/Melbourne`: from the state or territory of the customer's Australian address (Broken Hill and Lord Howe Island by postcode), else your organisation's time zone in Ecologic; null when neither is known.",
  ),
  id: describe(
    z.union([z.string(), z.number()]),
    'Event ID',
    "The event's identity, the same on every retry of it and different for every other event: the `event_id` (in an envelope, its `event_id` or `id`), else the `webhook-id` header (with `#` and the position for each record of a batch), else a hash of the event and everything it sent. Never a quote request's or audit's own ID.",
    'derived',
  ),
  /** The other IDs the platform sent, kept beside the event's identity so that no value is lost. */
  record_id: describe(
    z.unknown(),
    'Record ID (as Sent)',
    "The `id` the record itself carried (a flat body's `id`, or `data.id` in an envelope), exactly as sent: usually the quote request's or audit's ID; null when it sent none.",
    'derived',
  ),
  delivery_id: derivedText(
    'Delivery ID',
    "The delivery's `webhook-id` header, the same on every retry; null for deliveries without one and for the recent events loaded by Test trigger.",
  ),
} as const;

/** Where the person is: the fields quote requests and audits share, as typed. */
export const addressFields = {
  street: text('Street Address and Suburb', 'Street address and usually the suburb in one line, as typed, e.g. "27 Banksia Street, Brunswick".'),
  suburb: text(
    'Suburb or Town',
    'The suburb or town, e.g. "Brunswick" (CRMs call it City). As sent when Ecologic sends one; otherwise read from the street line when it can be told for sure ("27 Banksia Street, Brunswick" or "12 Smith St North Sydney"), else null.',
  ),
  state: text('State (as Sent)', 'State or territory, as typed (e.g. `NSW` or `New South Wales`).'),
  postcode: text('Postcode', 'Postcode, as typed.'),
  country: text('Country', 'Country, as typed (e.g. `Australia` or `AU`).'),
} as const;

export const addressDerivedFields = {
  state_code: derivedText(
    'State Abbreviation (NSW, VIC…)',
    'Australian state or territory abbreviation (`NSW`, `VIC`, `QLD`, `SA`, `WA`, `TAS`, `NT`, `ACT`) when the country is Australia or not given; otherwise null.',
  ),
  country_code: derivedText('Country Code (2 Letters)', 'ISO 3166-1 alpha-2 code of the country (e.g. `AU`); null when not recognised.'),
  address: derivedText(
    'Full Address (One Line)',
    'Street and suburb, state, postcode and country on one line, ready for a CRM address field. A suburb sent on its own follows the street unless the street line already names it.',
  ),
} as const;

/** The person's name, as sent and joined. */
export const nameFields = (who: string) => ({
  first_name: text(`${who} First Name`, `${who}'s first name.`),
  last_name: text(`${who} Last Name`, `${who}'s last name.`),
  full_name: derivedText(`${who} Full Name`, 'First and last name joined with a space.'),
});

/** The phone as typed and the same number in international form. */
export const phoneDerived = (key: string, who: string) =>
  derivedText(
    `${who} Phone (International Format)`,
    `The phone in \`${key}\` in international E.164 form (e.g. \`+61412345678\`), using the country as the default region; null when it is not a valid number. Best for CRMs and SMS tools.`,
  );

/** The record's web address in Ecologic, so a CRM note can link back to it. */
export const recordLink = (noun: string) =>
  text(`Link to ${noun} in Ecologic`, `The ${noun.toLowerCase()}'s web address in Ecologic, to open it from your CRM; null when Ecologic did not send one.`);

type DerivedNumber = ReturnType<typeof derivedNumber>;
type DerivedText = ReturnType<typeof derivedText>;

/** `<field>_amount` and `<field>_currency` for a price-like field. */
export const priceDerivedFields = <F extends string>(field: F, title: string) =>
  ({
    [`${field}_amount`]: derivedNumber(
      `${title} Amount`,
      `The amount in \`${field}\` as a number (e.g. 4990.5); null for "POA", blank or unreadable text.`,
    ),
    [`${field}_currency`]: derivedText(
      `${title} Currency`,
      `ISO 4217 currency code of \`${field}\`: the one it states ("AUD 4,990", "A$4,990", "NZ$…"), or \`AUD\` for a plain "$" when the address is in Australia; null when that is not known.`,
    ),
  }) as { [K in `${F}_amount`]: DerivedNumber } & { [K in `${F}_currency`]: DerivedText };
