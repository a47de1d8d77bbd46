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

/** Fields every Zap item has, whatever the event. */
export const commonFields = {
  id: describe(
    z.union([z.string(), z.number()]),
    'Event ID',
    "The event's identity, the same on every retry of it and different for every other event: the `event_id` (in an envelope, its `event_id` or `id`), else the `webhook-id` header (with `#` and the position for each record of a batch), else a hash of the event and everything it sent. Never a quote request's or audit's own id.",
    'derived',
  ),
  event: describe(z.string(), 'Event', 'The platform event name, e.g. `RequestQuote:Create`.', 'derived'),
  occurred_at: describe(
    z.iso.datetime(),
    'Occurred At',
    'When the event happened, ISO-8601 UTC: from the body (`occurred_at`, `created_at` or `timestamp`), else the delivery timestamp, else the time Zapier received it.',
    'derived',
  ),
} as const;

/** The other ids the platform sent, kept beside the event's identity so that no value is lost. */
export const sentIdFields = {
  record_id: describe(
    z.unknown(),
    'Record ID (as Sent)',
    'The `id` the record itself carried (a flat body\'s `id`, or `data.id` in an envelope), usually the quote request\'s or audit\'s id; null when it sent none.',
    'derived',
  ),
  delivery_id: derivedText(
    'Delivery ID',
    'The delivery\'s `webhook-id` header, the same on every retry; null for samples and for deliveries without one.',
  ),
} as const;

/** The person and place fields that quote requests and audits share. */
export const addressFields = {
  street: text('Street', 'Street address, one combined string, as typed.'),
  postcode: text('Postcode', 'Postcode, as typed.'),
  state: text('State', 'State, as typed (e.g. `NSW` or `New South Wales`).'),
  country: text('Country', 'Country, as typed (e.g. `Australia` or `AU`).'),
} as const;

export const addressDerivedFields = {
  full_name: derivedText('Full Name', 'First and last name joined with a space.'),
  address: derivedText('Address (One Line)', 'Street, state, postcode and country on one line.'),
  country_code: derivedText('Country Code', 'ISO 3166-1 alpha-2 code of the country (e.g. `AU`), null when not recognised.'),
  state_code: derivedText(
    'State Code',
    'Australian state or territory code (`NSW`, `VIC`, `QLD`, `SA`, `WA`, `TAS`, `NT`, `ACT`) when the country is Australia or not given; otherwise null.',
  ),
} as const;

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
      `ISO 4217 currency code when \`${field}\` states one (e.g. \`AUD\` for "AUD" or "A$"), else null.`,
    ),
  }) as { [K in `${F}_amount`]: DerivedNumber } & { [K in `${F}_currency`]: DerivedText };
