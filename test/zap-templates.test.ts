import app from '../index';
import { ZAP_TEMPLATES, zapTemplatesMarkdown, type FieldValue, type Part, type ZapTemplate } from '../scripts/zap-templates';
import { developerWords } from './support/partner-text';

// The suggested Zap templates (scripts/zap-templates.ts) against the app they start from and against
// Zapier's Zap template guidelines ("Zap templates", platform.zapier.com/publish/zap-templates, read
// from its Markdown source in github.com/zapier/visual-builder,
// docs/_publish/launch-process/zap-templates.md). Zapier gives no character limit for titles or
// descriptions: "clearly and briefly" for a title and "1 paragraph, 2-4 sentences" for a description.
// The title limit below is this project's reading of "briefly".

type Field = { key: string };
type Trigger = { key: string; noun: string; display: { hidden?: boolean }; operation: { inputFields?: Field[]; outputFields?: Field[] } };
const triggers = app.triggers as unknown as Record<string, Trigger>;

const TITLE_MAX = 80;
/** "Start with an appropriate verb", from the guidelines' list. */
const TITLE_VERBS = ['Create', 'Add', 'Make', 'Insert', 'Update', 'Subscribe', 'Get', 'Send', 'Post', 'Log', 'Archive', 'Save'];
/** "Only use Send with messages, including emails and text messages"; "Only use Post with social network or chat apps". */
const MESSAGE_APPS = ['Gmail', 'Outlook', 'Email by Zapier', 'Slack', 'Microsoft Teams', 'SMS by Zapier', 'Twilio'];
const CHAT_APPS = ['Slack', 'Microsoft Teams', 'Discord', 'Google Chat'];
/** Capitalised words a sentence-case title may hold: app names, as each app writes its own. */
const PROPER_NOUNS = new Set(['Ecologic', 'HubSpot', 'Pipedrive', 'Salesforce', 'Gmail', 'Slack', 'Outlook', 'Microsoft', 'Teams']);
/** "Code, custom webhook, Looping and custom Formatter steps are not allowed in Zap Templates." */
const FORBIDDEN_APPS = /\b(Code by Zapier|Webhooks by Zapier|Looping by Zapier|Formatter by Zapier|Paths)\b/i;
/** "Don't use Zapier-specific terminology including Zap, Zap template, trigger, action … sync". */
const ZAPIER_TERMS = /\b(zaps?|zap templates?|triggers?|actions?|sync\w*)\b/i;
/** Hard-coded values the review rejects: emails, phone numbers, IDs. */
const HARD_CODED = /[\w.+-]+@[\w-]+\.[\w.]+|\+?\d[\d\s]{7,}|\b[a-z]{2,4}_[A-Za-z0-9]{4,}\b/;

const sentencesOf = (text: string): string[] => text.split(/(?<=[.!?])\s+/).filter((sentence) => sentence.trim().length > 0);

const plural = (noun: string): string => `${noun.toLowerCase()}s`;

/** What is wrong with a template's title under the guidelines; empty when nothing is. */
const titleProblems = (template: Pick<ZapTemplate, 'title' | 'steps'>, triggerNoun: string): string[] => {
  const { title } = template;
  const problems: string[] = [];
  const [verb = '', ...rest] = title.split(' ');
  if (!TITLE_VERBS.includes(verb)) problems.push(`does not start with one of ${TITLE_VERBS.join(', ')}`);
  const apps = template.steps.map((step) => step.app);
  if (verb === 'Send' && !apps.some((app) => MESSAGE_APPS.includes(app))) problems.push('uses "Send" for something other than a message');
  if (verb === 'Post' && !apps.some((app) => CHAT_APPS.includes(app))) problems.push('uses "Post" outside a chat app');
  const capitalised = rest.filter((word) => /^[A-Z]/.test(word) && !PROPER_NOUNS.has(word.replace(/[^\w]/g, '')));
  if (capitalised.length > 0) problems.push(`is not in sentence case (${capitalised.join(', ')})`);
  if (!title.includes(`new Ecologic ${plural(triggerNoun)}`)) problems.push(`does not say "new Ecologic ${plural(triggerNoun)}"`);
  for (const app of new Set(apps)) if (!title.includes(app)) problems.push(`does not name ${app}`);
  if (/\b(sync\w*|automatic\w*)\b/i.test(title)) problems.push('says sync or automatic');
  if (/\b(you|your|we|our|I|my)\b/i.test(title)) problems.push('uses a personal pronoun');
  if (title.length > TITLE_MAX) problems.push(`is longer than ${TITLE_MAX} characters`);
  if (/[.!?]$/.test(title)) problems.push('ends with punctuation');
  return problems;
};

/** What is wrong with a template's description under the guidelines; empty when nothing is. */
const descriptionProblems = (template: Pick<ZapTemplate, 'title' | 'description' | 'note'>): string[] => {
  const problems: string[] = [];
  const { description } = template;
  const count = sentencesOf(description).length;
  if (count < 2 || count > 4) problems.push(`has ${count} sentences, not 2 to 4`);
  if (/\n/.test(description)) problems.push('is more than one paragraph');
  for (const text of [description, template.note ?? '']) {
    if (ZAPIER_TERMS.test(text)) problems.push(`uses a Zapier term (${ZAPIER_TERMS.exec(text)![0]})`);
    if (/https?:|www\.|\]\(/i.test(text)) problems.push('has a link');
    if (developerWords(text).length > 0) problems.push(`uses developer words (${developerWords(text).join(', ')})`);
  }
  if (description.includes(template.title)) problems.push('repeats the title');
  if (template.note !== undefined && (sentencesOf(template.note).length !== 1 || !template.note.endsWith('.'))) problems.push('the note is not one sentence');
  return problems;
};

const partsOf = (value: FieldValue): readonly Part[] => ('map' in value ? value.map : []);

describe('the checkers themselves', () => {
  const steps = [{ app: 'Slack', action: 'Send Channel Message', fields: [] }];
  test('titles: the guidelines\' wrong examples fail, their shape passes', () => {
    expect(titleProblems({ title: 'Post new Ecologic audits to Slack channels', steps }, 'Audit')).toEqual([]);
    expect(titleProblems({ title: 'Post New Ecologic Audits To Slack Channels', steps }, 'Audit')).toEqual([
      'is not in sentence case (New, Audits, To, Channels)',
      'does not say "new Ecologic audits"',
    ]);
    expect(titleProblems({ title: 'Slack will notify you when a new Ecologic audit is created', steps }, 'Audit')).toEqual([
      'does not start with one of Create, Add, Make, Insert, Update, Subscribe, Get, Send, Post, Log, Archive, Save',
      'does not say "new Ecologic audits"',
      'uses a personal pronoun',
    ]);
    expect(titleProblems({ title: 'Post new Ecologic audits to HubSpot automatically', steps: [{ ...steps[0]!, app: 'HubSpot' }] }, 'Audit')).toEqual([
      'uses "Post" outside a chat app',
      'says sync or automatic',
    ]);
  });
  test('descriptions: length, Zapier terms, links and repeats', () => {
    const title = 'Post new Ecologic audits to Slack channels';
    expect(descriptionProblems({ title, description: 'One sentence only.' })).toEqual(['has 1 sentences, not 2 to 4']);
    expect(descriptionProblems({ title, description: 'This Zap syncs audits. See https://getecologic.com.' })).toEqual([
      'uses a Zapier term (Zap)',
      'has a link',
    ]);
    expect(descriptionProblems({ title, description: `${title}. It posts audits.` })).toEqual(['repeats the title']);
    expect(descriptionProblems({ title, description: 'Audits matter. This integration posts them.', note: 'Pick a channel. Then another.' })).toEqual([
      'the note is not one sentence',
    ]);
  });
  test('hard-coded values are found', () => {
    for (const text of ['sales@sunrisesolar.com.au', '+61 491 570 159', 'qr_5Lm3Dw']) expect(text).toMatch(HARD_CODED);
    for (const text of ['New quote request: ', ' – ', ' saves about ']) expect(text).not.toMatch(HARD_CODED);
  });
});

describe('the suggested Zap templates', () => {
  test('three to ten, each with its own slug, title and description', () => {
    expect(ZAP_TEMPLATES.length).toBeGreaterThanOrEqual(3);
    expect(ZAP_TEMPLATES.length).toBeLessThanOrEqual(10);
    for (const key of ['slug', 'title', 'description'] as const) {
      const values = ZAP_TEMPLATES.map((template) => template[key]);
      expect(new Set(values).size).toBe(values.length);
    }
    for (const template of ZAP_TEMPLATES) expect(template.slug).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
  });

  describe.each(ZAP_TEMPLATES.map((template) => [template.slug, template] as const))('%s', (_slug, template) => {
    const trigger = triggers[template.trigger.key];

    test('starts with a visible trigger of the app, with options that trigger has', () => {
      expect(trigger).toBeDefined();
      expect(trigger!.display.hidden).not.toBe(true);
      const inputKeys = (trigger!.operation.inputFields ?? []).map((field) => field.key);
      for (const option of template.trigger.options ?? []) expect(inputKeys).toContain(option.input);
    });

    test('maps only output fields of that trigger, and earlier steps only', () => {
      const outputKeys = new Set((trigger!.operation.outputFields ?? []).map((field) => field.key));
      template.steps.forEach((step, index) => {
        const stepNumber = index + 2;
        for (const { value } of step.fields) {
          for (const part of partsOf(value)) {
            if (typeof part === 'string') continue;
            if ('trigger' in part) {
              expect([step.action, part.trigger, outputKeys.has(part.trigger)]).toEqual([step.action, part.trigger, true]);
            } else {
              expect(part.step).toBeGreaterThanOrEqual(2);
              expect(part.step).toBeLessThan(stepNumber);
            }
          }
        }
      });
    });

    test('fills fields from data, never with hard-coded contact details or IDs, and leaves the user\'s own choices blank', () => {
      const fields = template.steps.flatMap((step) => step.fields);
      expect(fields.length).toBeGreaterThan(0);
      for (const { field, value } of fields) {
        for (const part of partsOf(value)) if (typeof part === 'string') expect([field, part]).toEqual([field, expect.not.stringMatching(HARD_CODED)]);
        // A mapped value has at least one piece of data; fixed text alone is for nobody's Zap but one.
        if ('map' in value) expect([field, value.map.some((part) => typeof part !== 'string')]).toEqual([field, true]);
      }
      // Every step maps something from the trigger or an earlier step.
      for (const step of template.steps) expect(step.fields.some(({ value }) => 'map' in value)).toBe(true);
    });

    test('uses no step Zapier does not allow in templates', () => {
      for (const step of template.steps) expect(`${step.app} ${step.action}`).not.toMatch(FORBIDDEN_APPS);
    });

    test('title follows the guidelines', () => {
      expect(titleProblems(template, trigger!.noun)).toEqual([]);
    });

    test('description follows the guidelines', () => {
      expect(descriptionProblems(template)).toEqual([]);
      expect(template.description).toContain('Ecologic');
    });
  });

  test('the rendered Markdown names every template, step and mapped field by its label', () => {
    const markdown = zapTemplatesMarkdown();
    for (const template of ZAP_TEMPLATES) {
      expect(markdown).toContain(`## ${template.title}`);
      for (const step of template.steps) expect(markdown).toContain(`**${step.app}** → ${step.action}`);
    }
    // Labels, not keys: an installer reads "Customer Email", not reply_email.
    expect(markdown).toContain('**Customer Email**');
    expect(markdown).not.toMatch(/\*\*reply_email\*\*/);
  });
});
