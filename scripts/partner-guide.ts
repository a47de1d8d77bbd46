import { fieldsOf, type CatalogField } from '../src/core/catalog';
import { EVENT_REGISTRY, eventDefinition } from '../src/core/event-registry';
import { ECOLOGIC_LINKS } from '../src/core/links';
import { PARTNER_MESSAGES, type PartnerMessageName } from '../src/zapier/messages';
import { ZAP_TEMPLATES } from './zap-templates';

// docs/partner-guide.md, generated from the registry, the field catalog and the partner messages,
// so the guide cannot name a field, a label or a message the app no longer has. `npm run docs`
// writes it; test/generated-files.test.ts fails when the committed copy differs.

/**
 * Where a CRM field's value comes from: New Quote Request fields (joined by spaces), fixed text, a
 * fixed choice the installer picks from the CRM's own list, or a field of an earlier step of the Zap.
 */
export type MappingSource =
  | { readonly fields: readonly string[] }
  | { readonly fixed: string }
  | { readonly choice: string }
  | { readonly step: string; readonly field: string };

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
const choice = (what: string): MappingSource => ({ choice: what });
const earlierStep = (step: string, field: string): MappingSource => ({ step, field });

/** Recommended mappings of New Quote Request into the CRMs installers use most. */
export const CRM_MAPPINGS: readonly CrmMapping[] = [
  {
    crm: 'HubSpot',
    step: 'HubSpot → **Create or Update Contact**, then HubSpot → **Create Deal**',
    intro:
      'One contact per customer (HubSpot matches on email, so a returning customer is updated, not duplicated) and one deal per quote request. ' +
      'The deal is tied to the customer in the **Create Deal** step: in its field for associated contacts, choose the contact\'s **ID** from the **Create or Update Contact** step ' +
      '(HubSpot\'s Zapier step may word that field slightly differently; it is the one that asks which contact the deal belongs to).',
    rows: [
      { crmField: 'Contact: Email', source: from('reply_email'), note: 'HubSpot finds an existing contact by it.' },
      { crmField: 'Contact: First Name', source: from('first_name') },
      { crmField: 'Contact: Last Name', source: from('last_name') },
      { crmField: 'Contact: Phone Number', source: from('reply_phone_e164'), note: 'International format, so click-to-call and SMS work.' },
      { crmField: 'Contact: Street Address', source: from('street'), note: 'The street line as Ecologic sends it, which usually ends with the suburb.' },
      { crmField: 'Contact: City', source: from('suburb') },
      { crmField: 'Contact: State/Region', source: from('state_code') },
      { crmField: 'Contact: Postal Code', source: from('postcode') },
      { crmField: 'Contact: Country/Region', source: from('country') },
      { crmField: 'Contact: Lead Source (or your own source property)', source: { fixed: 'Ecologic' } },
      { crmField: 'Deal: Deal Name', source: from('action_name', 'full_name') },
      { crmField: 'Deal: Pipeline', source: choice('your sales pipeline') },
      { crmField: 'Deal: Deal Stage', source: choice('its first stage, for example "Appointment scheduled"'), note: 'Where every new quote request starts.' },
      { crmField: 'Deal: Amount', source: from('offer_price_amount'), note: 'A number; empty when the price is "POA".' },
      { crmField: 'Deal: Currency (only if your HubSpot account uses several currencies)', source: from('offer_price_currency') },
      { crmField: 'Deal: Description', source: from('offer_title', 'comments') },
      { crmField: 'Deal: your "Ecologic link" property (single-line text)', source: from('quote_request_url') },
      { crmField: 'Deal: your "Ecologic ID" property', source: from('quote_request_id'), note: 'Lets a later Zap find this deal again.' },
      { crmField: 'Deal: associated contact', source: earlierStep('Create or Update Contact', 'ID'), note: 'Ties the deal to the customer.' },
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
      { crmField: 'Person: your "Address" field (address type)', source: from('address'), note: 'Pipedrive reads a one-line address into its parts, the suburb as its city.' },
      { crmField: 'Person: your "City" field (text), if you keep one', source: from('suburb'), note: 'Only for a separate city field; the address above already holds it.' },
      { crmField: 'Lead: Title', source: from('action_name', 'full_name') },
      { crmField: 'Lead: Person', source: earlierStep('Create Person', 'ID'), note: 'Ties the lead to the customer.' },
      { crmField: 'Lead: Value', source: from('offer_price_amount') },
      { crmField: 'Lead: Currency', source: from('offer_price_currency'), note: 'Empty when unknown; Pipedrive then uses your default currency.' },
      { crmField: 'Lead: Note (or a Create Note step)', source: from('offer_title', 'comments', 'quote_request_url') },
      { crmField: 'Lead: your "Ecologic ID" field', source: from('quote_request_id') },
    ],
  },
  {
    crm: 'Salesforce',
    step: 'Salesforce → **Create Record** with **Lead** as the kind of record (or **Find or Create Record** to match on email)',
    intro: 'One lead per quote request. Salesforce requires Last Name and Company on a lead; households have no company, so use the customer\'s name.',
    rows: [
      { crmField: 'First Name', source: from('first_name') },
      { crmField: 'Last Name (required)', source: from('last_name') },
      { crmField: 'Company (required)', source: from('full_name'), note: 'The usual practice for a household lead.' },
      { crmField: 'Email', source: from('reply_email') },
      { crmField: 'Phone or Mobile', source: from('reply_phone_e164') },
      { crmField: 'Street', source: from('street'), note: 'The street line as Ecologic sends it, which usually ends with the suburb.' },
      { crmField: 'City', source: from('suburb') },
      { crmField: 'State/Province (or State Code, if your Salesforce uses dropdown lists for states)', source: from('state_code') },
      { crmField: 'Zip/Postal Code', source: from('postcode') },
      { crmField: 'Country (or Country Code, if your Salesforce uses dropdown lists for countries)', source: from('country_code') },
      { crmField: 'Lead Source', source: { fixed: 'Ecologic' } },
      { crmField: 'Description', source: from('comments') },
      { crmField: 'Lead Currency (only if your Salesforce uses several currencies)', source: from('offer_price_currency') },
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

const sourceText = (source: MappingSource): string => {
  if ('fixed' in source) return `the text "${source.fixed}"`;
  if ('choice' in source) return `choose ${source.choice}`;
  if ('step' in source) return `**${source.field}** from the **${source.step}** step`;
  return source.fields.map((key) => `**${fieldByKey(key).label}**`).join(' + ');
};

const exampleText = (source: MappingSource): string => {
  if ('fixed' in source) return source.fixed;
  if ('choice' in source || 'step' in source) return '';
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

| ${mapping.crm} field | from | example | note |
|---|---|---|---|
${rows}
`;
};

/** The filter's label in the Zap editor, and how many values it takes. */
const filterText = (filter: NonNullable<(typeof EVENT_REGISTRY)[number]['filter']>): string =>
  `${filter.key === 'action' ? 'Product or Service' : 'Status Label'}${filter.several ? ' (one or more)' : ' (one)'}`;

const triggerTable = (): string =>
  EVENT_REGISTRY.map((entry) => {
    const filter = entry.filter ? filterText(entry.filter) : '—';
    return `| **${entry.label}** | ${entry.description.replace(/^Triggers when /, '').replace(/\.$/, '')} | ${filter} |`;
  }).join('\n');

/** How the Status Label filter of the label triggers is used, from whether it takes several labels. */
const labelFilterText = (): string => {
  const several = EVENT_REGISTRY.some((entry) => entry.filter?.key === 'label' && entry.filter.several);
  return several
    ? 'choose one or more labels, for example "Site visit booked". Any of them starts the Zap. Leave it empty for every label.'
    : 'choose one label, for example "Site visit booked". Leave it empty for every label.';
};

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

/**
 * The order of the guide's message table. The three an installer meets most often come first:
 * - keyRejected: every Zap of an organisation shows it at once when an administrator deletes or
 *   replaces the API key, which organisations do when staff leave;
 * - deliveryRejected: the only message that appears in the Zap history on its own, without the
 *   installer doing anything, and the one the guide's own section explains;
 * - optionNoLongerValid: a product, service or status label renamed or removed in Ecologic stops a
 *   Zap from turning on or testing, and labels are edited often.
 * The rest follow in the order of the steps an installer takes (connect, turn on, test, run).
 * `messageOrder()` checks that the list names every message exactly once.
 */
export const MESSAGE_ORDER: readonly PartnerMessageName[] = [
  'keyRejected',
  'deliveryRejected',
  'optionNoLongerValid',
  'keyNotAllowed',
  'notAccepted',
  'rateLimited',
  'ecologicUnavailable',
  'unreachable',
  'redirected',
  'unreadableAnswer',
  'unusableSecret',
  'noHookAddress',
  'unreadableDelivery',
  'somethingWentWrong',
];

/** MESSAGE_ORDER, once it is checked to name every partner message exactly once. */
export const messageOrder = (order: readonly string[] = MESSAGE_ORDER): PartnerMessageName[] => {
  const names = Object.keys(PARTNER_MESSAGES);
  const repeated = order.filter((name, index) => order.indexOf(name) !== index);
  const unknown = order.filter((name) => !names.includes(name));
  const missing = names.filter((name) => !order.includes(name));
  if (repeated.length + unknown.length + missing.length > 0) {
    throw new Error(
      `the guide's message order must name every message once: repeated [${repeated.join(', ')}], unknown [${unknown.join(', ')}], missing [${missing.join(', ')}]`,
    );
  }
  return order as PartnerMessageName[];
};

const messageTable = (): string =>
  messageOrder()
    .map((name) => PARTNER_MESSAGES[name])
    .map((message) => `| ${cell(message.text(WHAT_YOU_WERE_DOING))} | ${cell(message.when)} |`)
    .join('\n');

const templateList = (): string =>
  ZAP_TEMPLATES.map((template) => {
    const entry = EVENT_REGISTRY.find((candidate) => candidate.triggerKey === template.trigger.key)!;
    const steps = [`Ecologic **${entry.label}**`, ...template.steps.map((step) => `${step.app} **${step.action}**`)].join(' → ');
    return `- **${template.title}**: ${steps}.`;
  }).join('\n');

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

Every trigger starts your Zap the moment something happens in Ecologic: Ecologic tells Zapier
straight away, and Zapier does not have to check for news. When you turn a Zap on, Zapier registers
it with Ecologic; when you turn it off, it is removed again.

- **Product or Service** (New Quote Request): choose one or more, for example Solar PV and Home
  Battery. Only quote requests for those start the Zap. Leave it empty for every quote request.
- **Status Label** (the two label triggers): ${labelFilterText()}

**Test trigger** loads your organisation's recent real events, newest first, so the fields you map
are the fields your Zap will get. Most installers cannot create a quote request themselves, so at
first there may be none to load. When **Test trigger** finds none, choose **Skip test**: Zapier then
uses the app's sample (one made-up customer with realistic values in every field) for mapping, and
your first real quote request flows through once the Zap is on. If you can create one in Ecologic
(for example a test quote request), you can do that instead and test again.

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
- **${fieldByKey('quote_request_id').label}** is the same in every later event about that quote
  request (for example Quote Request Label Applied): store it to find the record again in a later Zap.
- **${fieldByKey('occurred_at_local').label}** is the time in the customer's own time zone: use it when
  you call them back. **${fieldByKey('occurred_at').label}** is for a CRM's date-and-time fields, which
  convert times to your own time zone themselves.
- **${fieldByKey('suburb').label}** holds the suburb or town on its own, for a CRM's City field.

The tables below are a starting point. Field names are those of each CRM's standard Zapier steps;
"your … field" means a custom field you create first.

${CRM_MAPPINGS.map(mappingSection).join('\n')}
## Start from a suggested Zap

These Zaps are ready to copy. Each step, with every field mapped, is in
[the suggested Zap templates](zap-templates.md); once Ecologic is listed on Zapier they are also
offered there as ready-made templates.

${templateList()}

## When a run says "delivery rejected"

Every Zap gets its own security code from Ecologic when it is turned on, and Ecologic signs every
delivery with it. When a delivery cannot be proven to come from Ecologic (the signature does not
match, it is more than an hour old, or it was not signed at all), the app stops that run. You see it in your Zap
history as a stopped run, with the message "Delivery rejected". Nothing from that delivery was passed
on, and a run stopped this way does not count towards Zapier turning your Zap off.

- **Once in a while:** nothing to do. Usually someone sent something to your Zap's address that did
  not come from Ecologic, and it was kept out of your CRM.
- **Every run:** the Zap's security code is out of step with Ecologic. Turn the Zap off and on
  again: it gets a new one. If runs are still rejected, contact [Ecologic support](${ECOLOGIC_LINKS.support}).

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
