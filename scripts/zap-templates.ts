import { fieldsOf } from '../src/core/catalog';
import { EVENT_REGISTRY, type RegisteredEvent } from '../src/core/event-registry';

// Suggested Zap templates for the Ecologic app, kept as data so that they cannot drift from the app:
// test/zap-templates.test.ts checks every trigger key, output-field key and trigger option against the
// app's definition, and the titles and descriptions against Zapier's Zap template guidelines
// ("Zap templates", platform.zapier.com/publish/zap-templates; read from its Markdown source in
// github.com/zapier/visual-builder, docs/_publish/launch-process/zap-templates.md). `npm run docs`
// renders them as docs/zap-templates.md, from which they are built in Zapier's editor once the app is
// public: Zapier accepts templates only for public (or beta) integrations.
//
// What the guidelines ask of the steps, and how the data follows them:
// - map trigger fields into as many of the action's fields as possible;
// - no plain text in a field unless every user wants it, and no hard-coded emails, phone numbers or
//   IDs: those come from the trigger or an earlier step, or are left for the user (`choose`);
// - dropdowns of the user's own data (pipelines, stages, channels, owners) are left blank;
// - no Code, Webhooks, Looping or custom Formatter steps, and no Paths;
// - trigger options (filters) are usually left for the user.
// The other apps' step and field names are those of their Zapier apps as far as we could check; the
// Zap editor has the final word, and a renamed field is fixed here, not in the Markdown.

/** A piece of a mapped value: text as written, a field of the trigger's item, or a field of an earlier step. */
export type Part = string | { readonly trigger: string } | { readonly step: number; readonly field: string };

/** What goes into a field of an action step: mapped parts, or left for the person setting up the Zap. */
export type FieldValue = { readonly map: readonly Part[] } | { readonly choose: string };

export interface TemplateField {
  /** The field's label in the other app's Zapier step. */
  readonly field: string;
  readonly value: FieldValue;
}

export interface TemplateStep {
  readonly app: string;
  /** The step's event in that app, as Zapier names it, e.g. "Create Deal". */
  readonly action: string;
  readonly fields: readonly TemplateField[];
}

export interface TriggerOption {
  /** The trigger's input-field key. */
  readonly input: string;
  /** What the person setting up the Zap chooses; templates leave filters to them. */
  readonly choose: string;
}

export interface ZapTemplate {
  readonly slug: string;
  /** Sentence case, "<Verb> <app> <items> for new Ecologic <items>". */
  readonly title: string;
  /** One paragraph of two to four sentences, no Zapier terms, no links. */
  readonly description: string;
  /** An optional closing tip, shown in italics as "Note: …". */
  readonly note?: string;
  readonly trigger: { readonly key: string; readonly options?: readonly TriggerOption[] };
  /** The action steps; the trigger is step 1, so the first of these is step 2. */
  readonly steps: readonly TemplateStep[];
}

const field = (key: string): Part => ({ trigger: key });
const map = (...parts: Part[]): FieldValue => ({ map: parts });
const choose = (what: string): FieldValue => ({ choose: what });

export const ZAP_TEMPLATES: readonly ZapTemplate[] = [
  {
    slug: 'hubspot-contact-and-deal',
    title: 'Create HubSpot contacts and deals for new Ecologic quote requests',
    description:
      'Every quote request in Ecologic is a household waiting for a call, and retyping it into a CRM slows the reply. ' +
      'This integration adds the customer to HubSpot as a contact, or updates them when HubSpot already knows their email, as soon as a new quote request arrives. ' +
      'It then creates a deal for the request with the offer, its price and a link back to Ecologic, associated with that contact.',
    note: 'Choose the pipeline and the deal stage that new quote requests should start in.',
    trigger: {
      key: 'quote_request_created',
      options: [{ input: 'action', choose: 'the products or services you quote for, or leave empty for every quote request' }],
    },
    steps: [
      {
        app: 'HubSpot',
        action: 'Create or Update Contact',
        fields: [
          { field: 'Email', value: map(field('reply_email')) },
          { field: 'First Name', value: map(field('first_name')) },
          { field: 'Last Name', value: map(field('last_name')) },
          { field: 'Phone Number', value: map(field('reply_phone_e164')) },
          { field: 'Street Address', value: map(field('street')) },
          { field: 'City', value: map(field('suburb')) },
          { field: 'State/Region', value: map(field('state_code')) },
          { field: 'Postal Code', value: map(field('postcode')) },
          { field: 'Country/Region', value: map(field('country')) },
        ],
      },
      {
        app: 'HubSpot',
        action: 'Create Deal',
        fields: [
          { field: 'Deal Name', value: map(field('action_name'), ' – ', field('full_name')) },
          { field: 'Pipeline', value: choose('your sales pipeline') },
          { field: 'Deal Stage', value: choose('its first stage, for example "Appointment scheduled"') },
          { field: 'Amount', value: map(field('offer_price_amount')) },
          { field: 'Deal Description', value: map(field('offer_title'), '\n', field('comments'), '\n', field('quote_request_url')) },
          { field: 'Associated contact', value: map({ step: 2, field: 'ID' }) },
        ],
      },
    ],
  },
  {
    slug: 'pipedrive-person-and-lead',
    title: 'Create Pipedrive people and leads for new Ecologic quote requests',
    description:
      'Installers who live in Pipedrive want new enquiries in the Leads Inbox, not in another tab. ' +
      'When a household requests a quote in Ecologic, this integration creates a Pipedrive person with their name, email and phone, then a lead for that person with the product or service and the offer price. ' +
      'A note on the person keeps the customer\'s comments and a link back to the request in Ecologic.',
    trigger: { key: 'quote_request_created', options: [{ input: 'action', choose: 'the products or services you quote for, or leave empty' }] },
    steps: [
      {
        app: 'Pipedrive',
        action: 'Create Person',
        fields: [
          { field: 'Name', value: map(field('full_name')) },
          { field: 'Email', value: map(field('reply_email')) },
          { field: 'Phone', value: map(field('reply_phone_e164')) },
        ],
      },
      {
        app: 'Pipedrive',
        action: 'Create Lead',
        fields: [
          { field: 'Title', value: map(field('action_name'), ' – ', field('full_name')) },
          { field: 'Person', value: map({ step: 2, field: 'ID' }) },
          { field: 'Value', value: map(field('offer_price_amount')) },
          { field: 'Currency', value: map(field('offer_price_currency')) },
        ],
      },
      {
        app: 'Pipedrive',
        action: 'Create Note',
        fields: [
          { field: 'Content', value: map(field('offer_title'), '\n', field('comments'), '\n', field('quote_request_url')) },
          { field: 'Person', value: map({ step: 2, field: 'ID' }) },
        ],
      },
    ],
  },
  {
    slug: 'gmail-sales-alert',
    title: 'Send Gmail emails to the sales team for new Ecologic quote requests',
    description:
      'When a household asks for a quote, the installer who calls first often wins the job. ' +
      'This integration sends an email from Gmail to the sales team as soon as a new quote request arrives in Ecologic, with the customer\'s name, phone number, suburb, what they asked for and a link to the request. ' +
      'Nobody has to keep Ecologic open to know that a new lead is waiting.',
    note: 'Enter the sales team\'s email address in the To field.',
    trigger: { key: 'quote_request_created', options: [{ input: 'action', choose: 'the products or services this team quotes for, or leave empty' }] },
    steps: [
      {
        app: 'Gmail',
        action: 'Send Email',
        fields: [
          { field: 'To', value: choose('your sales team\'s email address') },
          { field: 'Subject', value: map('New quote request: ', field('action_name'), ' for ', field('full_name')) },
          {
            field: 'Body',
            value: map(
              field('full_name'), '\n',
              field('reply_phone_e164'), '\n',
              field('reply_email'), '\n',
              field('suburb'), ' ', field('state_code'), '\n\n',
              field('action_name'), ': ', field('offer_title'), ' ', field('offer_price'), '\n',
              field('comments'), '\n\n',
              field('quote_request_url'),
            ),
          },
        ],
      },
    ],
  },
  {
    slug: 'slack-savings-estimate',
    title: 'Post new Ecologic audit simulations to Slack channels',
    description:
      'A fresh savings estimate is the best moment to follow up with a household. ' +
      'This integration posts a message to a Slack channel whenever Ecologic finishes simulating an audit, with the owner\'s name and phone, the upgrade simulated, the estimated yearly savings and a link to the audit. ' +
      'The team sees who to call next without opening Ecologic.',
    note: 'Choose the channel your sales team reads.',
    trigger: { key: 'audit_simulated' },
    steps: [
      {
        app: 'Slack',
        action: 'Send Channel Message',
        fields: [
          { field: 'Channel', value: choose('the channel your sales team reads') },
          {
            field: 'Message Text',
            value: map(
              'Savings estimate ready for ', field('full_name'), ' (', field('phone_e164'), '): ',
              field('scenario'), ' saves about ', field('estimated_annual_savings'), ' a year. ',
              field('audit_url'),
            ),
          },
        ],
      },
    ],
  },
];

const entryOf = (triggerKey: string): RegisteredEvent => {
  const entry = EVENT_REGISTRY.find((candidate) => candidate.triggerKey === triggerKey);
  if (!entry) throw new Error(`a Zap template starts with ${triggerKey}, which the app does not have`);
  return entry;
};

const labelOf = (triggerKey: string, key: string): string => {
  const found = fieldsOf(entryOf(triggerKey).event).find((candidate) => candidate.key === key);
  if (!found) throw new Error(`a Zap template maps ${key}, which ${triggerKey} does not have`);
  return found.label;
};

const partText = (template: ZapTemplate, part: Part): string => {
  if (typeof part === 'string') return part.replace(/\n/g, '↵');
  if ('trigger' in part) return `**${labelOf(template.trigger.key, part.trigger)}**`;
  const step = template.steps[part.step - 2];
  return `**${part.field}** from step ${part.step} (${step?.app} ${step?.action})`;
};

const valueText = (template: ZapTemplate, value: FieldValue): string => {
  if ('choose' in value) return `choose ${value.choose}`;
  return value.map
    .map((part) => partText(template, part))
    .join('')
    .replace(/\|/g, '\\|');
};

const templateSection = (template: ZapTemplate): string => {
  const entry = entryOf(template.trigger.key);
  const options = (template.trigger.options ?? []).map((option) => {
    const label = option.input === 'action' ? 'Product or Service' : option.input === 'label' ? 'Status Label' : option.input;
    return `   - ${label}: ${option.choose}.`;
  });
  const steps = template.steps.map((step, index) => {
    const rows = step.fields.map((row) => `| ${row.field} | ${valueText(template, row.value)} |`).join('\n');
    return `${index + 2}. **${step.app}** → ${step.action}

   | ${step.app} field | value |
   |---|---|
${rows.replace(/^/gm, '   ')}`;
  });
  return `## ${template.title}

${template.description}${template.note ? ` *Note: ${template.note}*` : ''}

1. **Ecologic** → ${entry.label}${options.length > 0 ? `\n${options.join('\n')}` : ''}
${steps.join('\n')}
`;
};

export const zapTemplatesMarkdown = (): string => `<!-- Generated by \`npm run docs\` from scripts/zap-templates.ts. Do not edit by hand. -->
# Suggested Zap templates

Ready-made Zaps for Ecologic's partners, written to Zapier's Zap template guidelines. Zapier accepts
templates only for a beta or public integration, so they are built in Zapier and submitted for
review once the app is listed (docs/publishing.md, release step 11); until then, partners can build
the same Zaps by hand from these steps. Field names in other apps are those of their Zapier steps; "choose"
is left for the person setting up the Zap. "↵" is a new line.

${ZAP_TEMPLATES.map(templateSection).join('\n')}`;

/** The templates' titles, for the partner guide. */
export const zapTemplateTitles = (): readonly string[] => ZAP_TEMPLATES.map((template) => template.title);
