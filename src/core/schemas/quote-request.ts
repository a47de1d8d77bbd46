import { z } from 'zod';
import { addressDerivedFields, addressFields, commonFields, sentIdFields, derivedText, priceDerivedFields, text, textOrNumber } from './fields';

// The published field set of RequestQuote:Create (shared/reference), plus the quote request id we assume.
const published = <T extends z.ZodType>(schema: T) => schema.meta({ ...schema.meta(), origin: 'published' as const });

export const quoteRequestCreatedSchema = z.object({
  ...commonFields,
  quote_request_id: text('Quote Request ID', "The quote request's id."),
  action: published(text('Action', 'Action code of the requested product or service, e.g. `solar_pv`.')),
  supplier_name: published(text('Supplier Name', "The supplier's name.")),
  offer_title: published(text('Offer Title', 'The offer, e.g. "3 kW Standard Solar Package".')),
  offer_description: published(text('Offer Description', 'Description of the offer.')),
  offer_price: published(textOrNumber('Offer Price', 'The listed price as sent, e.g. "$4,990.00", "POA" or 4990.')),
  first_name: published(text('First Name', "Customer's first name.")),
  last_name: published(text('Last Name', "Customer's last name.")),
  street: published(addressFields.street),
  postcode: published(addressFields.postcode),
  state: published(addressFields.state),
  country: published(addressFields.country),
  reply_email: published(text('Reply Email', 'The reply email address the customer gave.')),
  reply_phone: published(text('Reply Phone', 'The reply phone number the customer gave, as typed.')),
  comments: published(text('Comments', "The customer's comments.")),
  ...addressDerivedFields,
  ...priceDerivedFields('offer_price', 'Offer Price'),
  reply_phone_e164: derivedText(
    'Reply Phone (E.164)',
    'The reply phone in international E.164 form (e.g. `+61412345678`), using the country as the default region; null when not a valid number.',
  ),
  ...sentIdFields,
});

export const quoteRequestLabelAppliedSchema = z.object({
  ...commonFields,
  quote_request_id: text('Quote Request ID', "The quote request's id."),
  label_id: text('Label ID', "The applied label's id."),
  label: text('Label', "The applied label's name, e.g. \"Site visit booked\"."),
  applied_by_email: text('Applied By Email', 'Email of the staff member who applied the label.'),
  action: text('Action', 'Action code of the quote request, e.g. `solar_pv`.'),
  offer_title: text('Offer Title', 'The offer the quote request is for.'),
  first_name: text('First Name', "Customer's first name."),
  last_name: text('Last Name', "Customer's last name."),
  reply_email: text('Reply Email', 'The reply email address the customer gave.'),
  reply_phone: text('Reply Phone', 'The reply phone number the customer gave, as typed.'),
  country: addressFields.country,
  full_name: addressDerivedFields.full_name,
  country_code: addressDerivedFields.country_code,
  reply_phone_e164: derivedText('Reply Phone (E.164)', 'The reply phone in E.164 form; null when not a valid number.'),
  ...sentIdFields,
});

export type QuoteRequestCreatedItem = z.output<typeof quoteRequestCreatedSchema>;
export type QuoteRequestLabelAppliedItem = z.output<typeof quoteRequestLabelAppliedSchema>;
