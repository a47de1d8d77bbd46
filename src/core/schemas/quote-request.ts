import { z } from 'zod';
import {
  addressDerivedFields,
  addressFields,
  bookkeepingFields,
  derivedText,
  nameFields,
  phoneDerived,
  priceDerivedFields,
  recordLink,
  text,
  textOrNumber,
} from './fields';

// The published field set of RequestQuote:Create (shared/reference), plus the suburb and the quote
// request's ID and web address, which we assume. Fields are in the order an installer reads a lead: who, how to
// reach them, where, what they asked for; the event's bookkeeping last.
const published = <T extends z.ZodType>(schema: T) => schema.meta({ ...schema.meta(), origin: 'published' as const });

const customer = nameFields('Customer');

const quoteRequestId = text(
  'Quote Request ID',
  "The quote request's ID in Ecologic: as sent under `quote_request_id`, else the record's own ID (the same as `record_id`, as text) when Ecologic sent only that.",
);

const customerEmail = text('Customer Email', 'The email address the customer asked to be replied to.');
const customerPhone = text('Customer Phone', 'The phone number the customer asked to be called on, as typed.');

const product = {
  action_name: derivedText(
    'Product or Service',
    'What the customer asked about, in words, e.g. "Solar PV" for `solar_pv`; a code the app does not know is spelt out from its parts.',
  ),
  action: text('Product or Service Code', "Ecologic's code for what the customer asked about, e.g. `solar_pv`."),
};

export const quoteRequestCreatedSchema = z.object({
  first_name: published(customer.first_name),
  last_name: published(customer.last_name),
  full_name: customer.full_name,
  reply_email: published(customerEmail),
  reply_phone: published(customerPhone),
  reply_phone_e164: phoneDerived('reply_phone', 'Customer'),
  street: published(addressFields.street),
  suburb: addressFields.suburb,
  state: published(addressFields.state),
  postcode: published(addressFields.postcode),
  country: published(addressFields.country),
  ...addressDerivedFields,
  action_name: product.action_name,
  action: published(product.action),
  comments: published(text('Customer Comments', 'What the customer wrote with the request.')),
  offer_title: published(text('Offer', 'The offer the customer chose, e.g. "6.6 kW Solar Package".')),
  offer_description: published(text('Offer Details', "The offer's description.")),
  offer_price: published(textOrNumber('Price (as Listed)', 'The price listed against the offer, as sent: e.g. "$7,490.00", "POA" or 7490.')),
  ...priceDerivedFields('offer_price', 'Price'),
  supplier_name: published(text('Supplier', 'The supplier whose offer it is.')),
  quote_request_url: recordLink('Quote Request'),
  quote_request_id: quoteRequestId,
  ...bookkeepingFields,
});

export const quoteRequestLabelAppliedSchema = z.object({
  label: text('Status Label', 'The label now on the quote request, e.g. "Site visit booked".'),
  ...customer,
  reply_email: customerEmail,
  reply_phone: customerPhone,
  reply_phone_e164: phoneDerived('reply_phone', 'Customer'),
  country: addressFields.country,
  country_code: addressDerivedFields.country_code,
  ...product,
  offer_title: text('Offer', 'The offer the quote request is for.'),
  applied_by_email: text('Label Applied By (Email)', 'Email address of the staff member who applied the label.'),
  label_id: text('Status Label ID', "The label's ID in Ecologic."),
  quote_request_url: recordLink('Quote Request'),
  quote_request_id: quoteRequestId,
  ...bookkeepingFields,
});

export type QuoteRequestCreatedItem = z.output<typeof quoteRequestCreatedSchema>;
export type QuoteRequestLabelAppliedItem = z.output<typeof quoteRequestLabelAppliedSchema>;
