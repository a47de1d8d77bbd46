import { fieldsOf, type CatalogField } from '../src/core/catalog';
import { EVENT_REGISTRY, eventDefinition } from '../src/core/event-registry';
import { ECOLOGIC_LINKS } from '../src/core/links';
import { PARTNER_MESSAGES } from '../src/zapier/messages';

// docs/partner-guide.md, generated from the registry, the field catalog and the partner messages,
// so the guide cannot name a field, a label or a message the app no longer has. `npm run docs`
// writes it; test/generated-files.test.ts fails when the committed copy differs.

/** Where a CRM field's value comes from: New Quote Request fields (joined by spaces), or fixed text. */
export type MappingSource = { readonly fields: readonly string[] } | { readonly fixed: string };

export interface CrmMappingRow {
  readonly crmField: string;
  readonly source: MappingSource;
  readonly note?: string;
}

export interface CrmMapping {
  readonly crm: string;
  /** The Zap step to add after the trigger. */
  readonly step: string;
  readonly intro: string;
  readonly rows: readonly CrmMappingRow[];
  readonly after?: string;
}

const from = (...fields: string[]): MappingSource => ({ fields });

/** Recommended mappings of New Quote Request into the CRMs installers use most. */
export const CRM_MAPPINGS: readonly CrmMapping[] = [
  {
    crm: 'HubSpot',
    step: 'HubSpot → **Create or Update Contact**, then HubSpot → **Create Deal** (associate it with the contact from the first step)',
    intro: 'One contact per customer (HubSpot matches on email, so a returning customer is updated, not duplicated) and one deal per quote request.',
    rows: [
      { crmField: 'Contact: Email', source: from('reply_email'), note: 'HubSpot finds an existing contact by it.' },
      { crmField: 'Contact: First Name', source: from('first_name') },
      { crmField: 'Contact: Last Name', source: from('last_name') },
      { crmField: 'Contact: Phone Number', source: from('reply_phone_e164'), note: 'International format, so click-to-call and SMS work.' },
      { crmField: 'Contact: Street Address', source: from('street'), note: 'Holds the suburb too; Ecologic sends them as one line.' },
      { crmField: 'Contact: State/Region', source: from('state_code') },
      { crmField: 'Contact: Postal Code', source: from('postcode') },
      { crmField: 'Contact: Country/Region', source: from('country') },
      { crmField: 'Contact: Lead Source (or your own source property)', source: { fixed: 'Ecologic' } },
      { crmField: 'Deal: Deal Name', source: from('action_name', 'full_name') },
      { crmField: 'Deal: Amount', source: from('offer_price_amount'), note: 'A number; empty when the price is "POA".' },
      { crmField: 'Deal: Currency (multi-currency portals)', source: from('offer_price_currency') },
      { crmField: 'Deal: Description', source: from('offer_title', 'comments') },
      { crmField: 'Deal: your "Ecologic link" property (single-line text)', source: from('quote_request_url') },
      { crmField: 'Deal: your "Ecologic ID" property', source: from('quote_request_id'), note: 'Lets a later Zap find this deal again.' },
    ],
  },
  {
    crm: 'Pipedrive',
    step: 'Pipedrive → **Create Person**, then Pipedrive → **Create Lead** (or **Create Deal**) with that person',
    intro: 'Pipedrive keeps people and leads apart: the person holds the contact details, the lead holds what they asked for.',
    rows: [
      { crmField: 'Person: Name', source: from('full_name') },
      { crmField: 'Person: Email', source: from('reply_email') },
      { crmField: 'Person: Phone', source: from('reply_phone_e164') },
      { crmField: 'Person: your "Address" field (address type)', source: from('address'), note: 'Pipedrive reads a one-line address into its parts.' },
      { crmField: 'Lead: Title', source: from('action_name', 'full_name') },
      { crmField: 'Lead: Value', source: from('offer_price_amount') },
      { crmField: 'Lead: Currency', source: from('offer_price_currency'), note: 'Empty when unknown; Pipedrive then uses your default currency.' },
      { crmField: 'Lead: Note (or a Create Note step)', source: from('offer_title', 'comments', 'quote_request_url') },
      { crmField: 'Lead: your "Ecologic ID" field', source: from('quote_request_id') },
    ],
  },
  {
    crm: 'Salesforce',
    step: 'Salesforce → **Create Record**, object **Lead** (or **Find or Create Record** to match on email)',
    intro: 'One lead per quote request. Salesforce requires Last Name and Company on a lead; households have no company, so use the customer\'s name.',
    rows: [
      { crmField: 'First Name', source: from('first_name') },
      { crmField: 'Last Name (required)', source: from('last_name') },
      { crmField: 'Company (required)', source: from('full_name'), note: 'The usual practice for a household lead.' },
      { crmField: 'Email', source: from('reply_email') },
      { crmField: 'Phone or Mobile', source: from('reply_phone_e164') },
      { crmField: 'Street', source: from('street') },
      { crmField: 'State/Province (or State Code with state picklists)', source: from('state_code') },
      { crmField: 'Zip/Postal Code', source: from('postcode') },
      { crmField: 'Country (or Country Code with country picklists)', source: from('country_code') },
      { crmField: 'Lead Source', source: { fixed: 'Ecologic' } },
      { crmField: 'Description', source: from('comments') },
      { crmField: 'Lead Currency (multi-currency orgs)', source: from('offer_price_currency') },
      { crmField: 'your "Product or Service" field', source: from('action_name') },
      { crmField: 'your "Offer Price" field (currency)', source: from('offer_price_amount') },
      { crmField: 'your "Ecologic Link" field (URL)', source: from('quote_request_url') },
      { crmField: 'your "Ecologic ID" field (text, unique)', source: from('quote_request_id'), note: 'Stops a replayed Zap run from making a second lead.' },
    ],
  },
];

const QUOTE_EVENT = 'RequestQuote:Create';

const fieldByKey = (key: string): CatalogField => {
  const field = fieldsOf(QUOTE_EVENT).find((candidate) => candidate.key === key);
  if (!field) throw new Error(`the CRM mapping names ${key}, which New Quote Request does not have`);
  return field;
};

const sourceText = (source: MappingSource): string =>
  'fixed' in source ? `the text "${source.fixed}"` : source.fields.map((key) => `**${fieldByKey(key).label}**`).join(' + ');

const exampleText = (source: MappingSource): string => {
  if ('fixed' in source) return source.fixed;
  const sample = eventDefinition(QUOTE_EVENT).sample as Record<string, unknown>;
  return source.fields
    .map((key) => sample[key])
    .filter((value) => value !== null && value !== undefined)
    .join(' ');
};

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

const mappingSection = (mapping: CrmMapping): string => {
  const rows = mapping.rows
    .map((row) => `| ${cell(row.crmField)} | ${cell(sourceText(row.source))} | ${cell(exampleText(row.source))} | ${cell(row.note ?? '')} |`)
    .join('\n');
  return `### ${mapping.crm}

Add ${mapping.step}. ${mapping.intro}

| ${mapping.crm} field | New Quote Request field | example | note |
|---|---|---|---|
${rows}
`;
};

const triggerTable = (): string =>
  EVENT_REGISTRY.map((entry) => {
    const filter = !entry.filter ? '—' : entry.filter.key === 'action' ? 'Product or Service (one or more)' : 'Status Label';
    return `| **${entry.label}** | ${entry.description.replace(/^Triggers when /, '').replace(/\.$/, '')} | ${filter} |`;
  }).join('\n');

const quoteFieldTable = (): string => {
  const sample = eventDefinition(QUOTE_EVENT).sample as Record<string, unknown>;
  return fieldsOf(QUOTE_EVENT)
    .map((field) => {
      const value = sample[field.key];
      const example = value === null || value === undefined ? '(empty)' : String(value);
      return `| ${field.label} | ${cell(example)} |`;
    })
    .join('\n');
};

const WHAT_YOU_WERE_DOING = '[what you were doing]';

const messageTable = (): string =>
  Object.values(PARTNER_MESSAGES)
    .map((message) => `| ${cell(message.text(WHAT_YOU_WERE_DOING))} | ${cell(message.when)} |`)
    .join('\n');

export const partnerGuideMarkdown = (): string => `<!-- Generated by \`npm run docs\` from the event registry, the output fields and src/zapier/messages.ts. Do not edit by hand. -->
# Ecologic in Zapier: a guide for partners

Ecologic sends you new quote requests, audits and status changes the moment they happen. With
Zapier you can pass them into your CRM, your email or your team chat without writing any code.
This guide takes you from connecting your account to a working Zap, and explains every message the
Ecologic app can show you.

## Connect your Ecologic account

1. Ask an administrator of your Ecologic organisation to create an API key: in Ecologic, open
   [Settings → Partner API](${ECOLOGIC_LINKS.apiKeys}) and choose **Create key**. Only
   administrators see that page. The key starts with \`eco_\`.
2. In Zapier, create a Zap, choose **Ecologic** as the trigger app and click **Sign in**.
3. Paste the key and continue. Zapier names the connection after your organisation.

Keep the key private: anyone who has it can read your leads. If a key is deleted or replaced in
Ecologic, Zapier asks you to reconnect; repeat these steps with the new key.

## Choose a trigger

| trigger | starts your Zap when | you can narrow it to |
|---|---|---|
${triggerTable()}

Every trigger is instant: Ecologic tells Zapier the moment something happens. When you turn a Zap
on, Zapier registers it with Ecologic; when you turn it off, it is removed again.

- **Product or Service** (New Quote Request): choose one or more, for example Solar PV and Home
  Battery. Only quote requests for those start the Zap. Leave it empty for every quote request.
- **Status Label** (the two label triggers): choose one label, for example "Site visit booked".
  Leave it empty for every label.

**Test trigger** loads your organisation's recent real events, so the fields you map are the fields
your Zap will get. If there are none yet, create one in Ecologic (for example a test quote request),
then test again.

Each event reaches each Zap once, even when Ecologic has to send it again.

## Map a quote request into your CRM

New Quote Request gives you these fields, customer first:

| field | example |
|---|---|
${quoteFieldTable()}

A few tips:

- Use **Customer Phone (International Format)** rather than the phone as typed: CRMs, diallers and
  SMS tools read it without guessing the country.
- **Price Amount** is a plain number and **Price Currency** the currency code (AUD for a "$" price in
  Australia). Both are empty when the price is "POA".
- **Link to Quote Request in Ecologic** opens the quote request in Ecologic; put it in a note or a
  link field so your team can get back to it from the CRM.
- **Quote Request ID** is the same in every later event about that quote request (for example
  Quote Request Label Applied): store it to find the record again in a later Zap.

The tables below are a starting point. Field names are those of each CRM's standard Zapier steps;
"your … field" means a custom field you create first.

${CRM_MAPPINGS.map(mappingSection).join('\n')}
## When a run says "delivery rejected"

Every Zap gets its own secret when it is turned on, and every delivery from Ecologic is signed with
it. When a delivery cannot be proven to come from Ecologic (the signature does not match, it is more
than an hour old, or it was not signed at all), the app stops that run. You see it in your Zap
history as **halted**, with the message "Delivery rejected". Nothing from that delivery was passed
on, and a halted run does not count towards Zapier turning your Zap off.

- **Once in a while:** nothing to do. Usually someone sent something to your Zap's address that did
  not come from Ecologic, and it was kept out of your CRM.
- **Every run:** the Zap's secret is out of step with Ecologic. Turn the Zap off and on again: it
  gets a new secret. If runs are still rejected, contact [Ecologic support](${ECOLOGIC_LINKS.support}).

## What each message means

Every message says what you were doing (shown here as "${WHAT_YOU_WERE_DOING}": for example "turning on this
Zap" or "loading recent quote requests to test this trigger") and what to do next.

| message | when it appears |
|---|---|
${messageTable()}

"This step can be retried" means nothing is wrong with your Zap: wait a few minutes and try the
same thing again (test the trigger again, or turn the Zap on again). For anything else, contact
[Ecologic support](${ECOLOGIC_LINKS.support}) and say when it happened; Ecologic can find the details
from the time.
`;
