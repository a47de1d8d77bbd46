// What a partner reads in the Zap editor and the Zap history, checked against the rules that can be
// checked: plain words without developer terms, a link in every help text, descriptions without the
// app's name, nouns that name what a trigger returns, "ID" not "id", labels an installer understands,
// lead fields first, and a guide whose links land on real headings.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import nock from 'nock';
import { fieldsOf } from '../src/core/catalog';
import { ECOLOGIC_LINKS, guideLink, type PartnerGuideAnchor } from '../src/core/links';
import { ACTIVITIES, PARTNER_MESSAGES } from '../src/zapier/messages';
import { CRM_MAPPINGS } from '../scripts/partner-guide';
import { API, app, definitions, deliveryBundle, expectMe, fixtureBody, newTester, run, SECRET, TARGET_URL, useNock, type HookName, type PartialBundle } from './helpers';
import { developerWords, shownMessage, UNPLAIN_WORDS } from './support/partner-text';

useNock();

type Field = { key: string; label?: string; helpText?: string; placeholder?: string; list?: boolean };
type Trigger = { key: string; noun: string; display: { label: string; description: string; hidden?: boolean }; operation: { inputFields?: Field[]; outputFields?: Field[] } };

const triggers = Object.values(app.triggers ?? {}) as unknown as Trigger[];
const visible = triggers.filter((trigger) => !trigger.display.hidden);
const inputFields = [
  ...((app.authentication?.fields ?? []) as Field[]).map((field) => ['connection', field] as const),
  ...triggers.flatMap((trigger) => (trigger.operation.inputFields ?? []).map((field) => [trigger.key, field] as const)),
];

const ACTIVITY_TEXTS = [
  ACTIVITIES.connecting,
  ACTIVITIES.turningOn,
  ACTIVITIES.turningOff,
  ACTIVITIES.loadingProducts,
  ACTIVITIES.loadingLabels,
  ...definitions.map((definition) => ACTIVITIES.loadingSamples(definition.noun)),
  ...definitions.map((definition) => ACTIVITIES.receiving(definition.noun)),
];

const MARKDOWN_LINK = /\[[^\]]+\]\((https:\/\/[^)\s]+)\)/g;
const WHAT_TO_DO = /\b(try again|reconnect|turn (it|the Zap) (on|off)|contact Ecologic support|choose|ask|wait)\b/i;
const AMERICAN = /\b(organization|organize|color|center|license|analyze|favorite|canceled|catalog)\b/i;
/** A standalone lowercase "id", outside `code`: it should read "ID". */
const lowercaseId = (text: string) => /(^|[^\w`])id\b(?![`_])/.test(text.replace(/`[^`]*`/g, ''));

describe('the rule itself', () => {
  test.each([
    ['Ecologic answered POST /notifications with 500', ['an HTTP method', 'a path', 'a status number']],
    ['data.0 is missing in the JSON object', ['a schema or developer word']],
    ['Ecologic is unavailable; Zapier will retry.', ['a promise that Zapier retries by itself']],
    ['Contact support at https://getecologic.com/support/v1/notifications.', []],
    ['Turn the Zap off and on to renew its signing secret.', ['a word an installer does not use']],
    ['Every trigger is instant.', ['a word an installer does not use']],
    ['The run is halted.', ['a word an installer does not use']],
    ['State Code (with state picklists)', ['a word an installer does not use']],
    ['Deal: Currency (multi-currency portals)', ['a word an installer does not use']],
    ['Turn the Zap off and on again to renew its security code; it starts the moment something happens.', []],
  ])('%p breaks %p', (text, broken) => {
    expect(developerWords(text)).toEqual(broken);
  });
  test('"id" and "ID"', () => {
    expect(lowercaseId("The audit's id.")).toBe(true);
    expect(lowercaseId("The audit's ID, or `event_id`.")).toBe(false);
  });
});

describe('every partner message says what happened and what to do, in plain words', () => {
  const texts = Object.entries(PARTNER_MESSAGES).flatMap(([name, message]) =>
    ACTIVITY_TEXTS.map((activity) => [`${name} (${activity})`, message.text(activity)] as const),
  );
  test.each(texts)('%s', (_name, text) => {
    expect(developerWords(text)).toEqual([]);
    expect(text).toMatch(WHAT_TO_DO);
    expect(text).not.toMatch(AMERICAN);
    expect(lowercaseId(text)).toBe(false);
  });
  test('problems on Ecologic\'s side or in the network say the step can be retried', () => {
    for (const name of ['ecologicUnavailable', 'unreachable'] as const) {
      expect(PARTNER_MESSAGES[name].text('turning on this Zap')).toMatch(/This step can be retried/);
    }
  });
  test('every message that sends the partner to support gives the address', () => {
    for (const message of Object.values(PARTNER_MESSAGES)) {
      const text = message.text('turning on this Zap');
      if (/support/.test(text)) expect(text).toContain(ECOLOGIC_LINKS.support);
    }
  });
  test('each message has its own error code', () => {
    const codes = Object.values(PARTNER_MESSAGES).map((message) => message.code);
    expect(new Set(codes).size).toBe(codes.length);
  });
});

describe('what a partner actually sees when each operation fails', () => {
  const quote = fixtureBody('quote_request_created');
  type Case = readonly [string, string, HookName | 'test', () => void, PartialBundle];
  type Operation = readonly [string, string, HookName | 'test', string, PartialBundle];
  /** The operation's request to Ecologic gets this answer. */
  const everyRequest = (...reply: Parameters<nock.Interceptor['reply']>) => (method: string) => {
    nock(API).intercept(/.*/, method).reply(...reply);
  };
  const failures: Array<readonly [string, (method: string) => void]> = [
    ['401', everyRequest(401)],
    ['403', everyRequest(403, { error: { code: 'forbidden', message: 'GET /me needs scope' } })],
    ['422', everyRequest(422, { error: { code: 'invalid_filter', message: 'filters.action must be a string' } })],
    ['429', everyRequest(429, {}, { 'Retry-After': '30' })],
    ['503', everyRequest(503, '<html>down</html>')],
    ['an unreadable answer', everyRequest(200, 'not json')],
    ['no answer', () => undefined],
  ];
  const operations: Operation[] = [
    ['connecting', 'connection', 'test', 'GET', {}],
    ['turning on', 'quote_request_created', 'performSubscribe', 'POST', { targetUrl: TARGET_URL, inputData: { action: ['solar_pv', 'battery'] } }],
    ['turning off', 'audit_created', 'performUnsubscribe', 'DELETE', { subscribeData: { id: 'ntf_1' } }],
    ['testing the trigger', 'audit_simulated', 'performList', 'GET', {}],
    ['loading products', 'list_actions', 'perform', 'GET', {}],
    ['loading labels', 'list_audit_labels', 'perform', 'GET', {}],
  ];
  const cases: Case[] = operations.flatMap(([what, key, hook, method, bundle]) =>
    failures
      // Removing a subscription reads no answer: any success is success.
      .filter(([failure]) => !(method === 'DELETE' && failure === 'an unreadable answer'))
      .map(([failure, reply]) => [`${what} after ${failure}`, key, hook, () => reply(method), bundle] as const),
  );

  test.each(cases)('%s', async (name, key, hook, reply, bundle) => {
    // Turning on and "Test trigger" also read the organisation's time zone: answered first, so the
    // failure under test meets the operation's own request.
    if (/^(turning on|testing the trigger) /.test(name) && !name.endsWith('no answer')) expectMe();
    reply();
    type ZapFunction = Parameters<ReturnType<typeof newTester>>[0];
    const fn = (hook === 'test' ? app.authentication!.test : (app.triggers![key]!.operation as unknown as Record<string, unknown>)[hook]) as ZapFunction;
    const error = await newTester()(fn, { authData: { api_key: 'eco_test_key' }, ...bundle }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    const shown = shownMessage(error);
    expect(developerWords(shown)).toEqual([]);
    expect(shown).toMatch(WHAT_TO_DO);
  });

  test('a rejected delivery and an unreadable one', async () => {
    const forged = deliveryBundle(quote, { secret: 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD' });
    const rejected = await run(newTester(), 'quote_request_created', 'perform', { ...forged, subscribeData: { id: 'ntf_1', secret: SECRET } as never }).catch(shownMessage);
    expect(rejected).toMatch(/^Delivery rejected/);
    expect(developerWords(String(rejected))).toEqual([]);
    expect(rejected).toContain(guideLink('when-a-run-says-delivery-rejected'));
    const unreadable = await run(newTester(), 'quote_request_created', 'perform', deliveryBundle([1, 2])).catch(shownMessage);
    expect(unreadable).toMatch(/^Ecologic sent this quote request in a form the app cannot read/);
    expect(developerWords(String(unreadable))).toEqual([]);
  });
});

describe('words an installer does not use', () => {
  test('appear nowhere in the app: labels, descriptions, help texts, samples', () => {
    const definitionText = JSON.stringify(app);
    expect(definitionText.match(new RegExp(UNPLAIN_WORDS.source, 'gi')) ?? []).toEqual([]);
  });
  test.each(Object.entries(PARTNER_MESSAGES))('nor in the message %s, or in when it is met', (_name, message) => {
    for (const activity of ACTIVITY_TEXTS) expect(message.text(activity)).not.toMatch(UNPLAIN_WORDS);
    expect(message.when).not.toMatch(UNPLAIN_WORDS);
  });
  test('the message about an unusable security code', () => {
    expect(PARTNER_MESSAGES.unusableSecret.text('')).toBe(
      `Ecologic returned a security code that cannot be used, so this Zap was not turned on. Turn it on again; if it keeps happening, contact Ecologic support at ${ECOLOGIC_LINKS.support}.`,
    );
    expect(PARTNER_MESSAGES.deliveryRejected.text('')).toMatch(/turn the Zap off and on again to renew its security code\./);
  });
});

describe('the connection form and the trigger options', () => {
  test.each(inputFields.map(([owner, field]) => [`${owner}.${field.key}`, field] as const))('%s: help text with a link, in plain words', (_name, field) => {
    expect(field.helpText).toBeDefined();
    const links = [...field.helpText!.matchAll(MARKDOWN_LINK)].map((match) => match[1]!);
    expect(links.length).toBeGreaterThan(0);
    for (const link of links) expect(Object.values(ECOLOGIC_LINKS).some((base) => link.startsWith(base))).toBe(true);
    expect(developerWords(field.helpText!)).toEqual([]);
    expect(field.helpText).not.toMatch(AMERICAN);
    expect(field.helpText!.length).toBeLessThanOrEqual(1000);
  });

  test('the API key field shows what a key looks like, where it is made and who may make one', () => {
    const [apiKey] = (app.authentication?.fields ?? []) as Field[];
    expect(apiKey).toMatchObject({ key: 'api_key', placeholder: expect.stringMatching(/^eco_/) });
    expect(apiKey!.helpText).toContain(`(${ECOLOGIC_LINKS.apiKeys})`);
    expect(apiKey!.helpText).toMatch(/Only an administrator of your Ecologic organisation can create keys/);
  });

  test('the label triggers are filtered by status label, several at once, under the key live Zaps use', () => {
    for (const key of ['audit_label_applied', 'quote_request_label_applied']) {
      const [filter] = app.triggers![key]!.operation.inputFields as Field[];
      expect(filter).toMatchObject({ key: 'label', label: 'Status Label', list: true });
      expect(filter!.helpText).toMatch(/^Only these status labels start the Zap, .*Choose one or more, or leave empty for every label\./);
    }
  });

  test('hidden dropdown triggers are described without a doubled word', () => {
    for (const trigger of triggers.filter((t) => t.display.hidden)) {
      expect(trigger.display.description).toMatch(/^Triggers when Zapier fills a dropdown with the .+\.$/);
      expect(trigger.display.description).not.toMatch(/\b(\w+) \1\b/i);
    }
    expect(app.triggers!.list_actions!.display.description).toBe('Triggers when Zapier fills a dropdown with the products and services a quote request can be for.');
  });

  test('New Quote Request is filtered by product or service, several at once, under the key live Zaps use', () => {
    const [filter] = app.triggers!.quote_request_created!.operation.inputFields as Field[];
    expect(filter).toMatchObject({ key: 'action', label: 'Product or Service', list: true });
    expect(filter!.helpText).not.toMatch(/action|code/i);
  });
});

describe('triggers and their fields', () => {
  test.each(triggers.map((trigger) => [trigger.key, trigger] as const))('%s: the description does not name the app', (_key, trigger) => {
    expect(trigger.display.description).not.toMatch(/Ecologic/);
  });

  test.each(visible.map((trigger) => [trigger.key, trigger] as const))('%s: the noun is what the trigger returns', (_key, trigger) => {
    expect(trigger.noun).not.toMatch(/Label/);
    expect(trigger.display.label).toContain(trigger.noun.split(' ')[0]);
  });

  test.each(definitions.map((definition) => [definition.triggerKey, definition] as const))('%s: labels an installer reads', (_key, definition) => {
    const fields = fieldsOf(definition.event);
    const labels = fields.map((field) => field.label);
    expect(new Set(labels).size).toBe(labels.length);
    for (const field of fields) {
      expect(lowercaseId(field.label)).toBe(false);
      expect(lowercaseId(field.description)).toBe(false);
      expect(`${field.label} ${field.description}`).not.toMatch(AMERICAN);
      expect(field.label).not.toMatch(/\b(Reply|E\.164)\b/);
    }
  });

  test.each(definitions.map((definition) => [definition.triggerKey, definition] as const))('%s: the lead first, the bookkeeping last', (_key, definition) => {
    const keys = fieldsOf(definition.event).map((field) => field.key);
    expect(keys.slice(-7)).toEqual(['event', 'occurred_at', 'occurred_at_local', 'time_zone', 'id', 'record_id', 'delivery_id']);
    expect(['first_name', 'label']).toContain(keys[0]);
  });

  test.each(definitions.map((definition) => [definition.triggerKey, definition] as const))('%s: a link back to the record, and words beside codes', (_key, definition) => {
    const keys = new Set(fieldsOf(definition.event).map((field) => field.key));
    const link = fieldsOf(definition.event).find((field) => field.key === 'quote_request_url' || field.key === 'audit_url');
    expect(link?.label).toMatch(/^Link to (Quote Request|Audit) in Ecologic$/);
    expect(link?.origin).toBe('assumed');
    expect((definition.sample as Record<string, unknown>)[link!.key]).toMatch(/^https:\/\/app\.getecologic\.com\//);
    for (const code of ['action', 'audit_type']) if (keys.has(code)) expect(keys.has(`${code}_name`)).toBe(true);
  });

  test('samples are realistic: no placeholder names, phones from the range reserved for fiction, AUD for Australian "$" prices', () => {
    for (const definition of definitions) {
      const sample = definition.sample as Record<string, unknown>;
      expect(JSON.stringify(sample)).not.toMatch(/ACME|Example Co|lorem|foo|John Doe/i);
      for (const [key, value] of Object.entries(sample)) {
        if (/phone$/.test(key)) expect(value).toMatch(/^0491 57\d \d{3}$/);
        if (/_currency$/.test(key)) expect(value).toBe('AUD');
      }
    }
  });
});

describe('docs/partner-guide.md', () => {
  const guide = readFileSync(join(__dirname, '..', 'docs', 'partner-guide.md'), 'utf8');
  const slug = (heading: string) =>
    heading
      .toLowerCase()
      .replace(/[^\w\s-]/g, '')
      .trim()
      .replace(/\s/g, '-');
  const anchors = new Set([...guide.matchAll(/^#{2,3} (.+)$/gm)].map((match) => slug(match[1]!)));

  test('every link into the guide lands on a heading', () => {
    const used: PartnerGuideAnchor[] = [
      'connect-your-ecologic-account',
      'choose-a-trigger',
      'map-a-quote-request-into-your-crm',
      'when-a-run-says-delivery-rejected',
      'what-each-message-means',
    ];
    for (const anchor of used) expect(anchors).toContain(anchor);
    const linked = JSON.stringify(app).match(/help\/zapier#[\w-]+/g) ?? [];
    expect(linked.length).toBeGreaterThan(0);
    for (const link of linked) expect(anchors).toContain(link.split('#')[1]);
  });

  test('a mapping table for each CRM, every source field one New Quote Request has', () => {
    expect(CRM_MAPPINGS.map((mapping) => mapping.crm)).toEqual(['HubSpot', 'Pipedrive', 'Salesforce']);
    const keys = new Set(fieldsOf('RequestQuote:Create').map((field) => field.key));
    for (const mapping of CRM_MAPPINGS) {
      expect(guide).toContain(`### ${mapping.crm}`);
      for (const row of mapping.rows) if ('fields' in row.source) for (const key of row.source.fields) expect(keys).toContain(key);
      // The customer's email and phone always land somewhere.
      const mapped = mapping.rows.flatMap((row) => ('fields' in row.source ? row.source.fields : []));
      expect(mapped).toEqual(expect.arrayContaining(['reply_email', 'reply_phone_e164', 'quote_request_url']));
    }
  });

  test('every partner message is explained', () => {
    for (const message of Object.values(PARTNER_MESSAGES)) expect(guide).toContain(message.when.replace(/\|/g, '\\|'));
  });

  test('plain Australian English', () => {
    expect(guide.replace(/https?:\/\/\S+/g, '')).not.toMatch(AMERICAN);
  });
});
