import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fieldsOf } from '../src/core/catalog';
import { app, definitions } from './helpers';

// Zapier's publishing checks run only in the online `zapier-platform validate`. These mirror the
// ones that matter to this app so a change that would fail publishing fails here first.

type Operation = {
  type?: string;
  perform?: unknown;
  performList?: unknown;
  performSubscribe?: unknown;
  performUnsubscribe?: unknown;
  sample?: Record<string, unknown>;
  outputFields?: OutputField[];
};
type TriggerDefinition = { key: string; noun: string; display: { label: string; description: string; hidden?: boolean }; operation: Operation };

const triggers = Object.values(app.triggers ?? {}) as unknown as TriggerDefinition[];
const visible = triggers.filter((trigger) => !trigger.display.hidden);
const hooks = triggers.filter((trigger) => trigger.operation.type === 'hook');

type OutputField = { key: string; label?: string; type?: string };

// Domains a sample may show: the ones reserved for examples (RFC 2606 and RFC 6761) and Ecologic's own.
const ALLOWED_DOMAIN = /(^|\.)(example\.(com|net|org)|[a-z0-9-]+\.example|example|getecologic\.com)$/i;
const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** The domains of the email addresses and web addresses in a value. */
const domainsIn = (value: string): string[] => [
  ...[...value.matchAll(/[\w.+-]+@([a-z0-9.-]+[a-z0-9])/gi)].map((match) => match[1]!),
  ...[...value.matchAll(/\b[a-z][a-z0-9+.-]*:\/\/(?:[^@/\s]*@)?([a-z0-9.-]+)/gi)].map((match) => match[1]!),
];

/**
 * What Zapier's D024 finds wrong in a static sample, by key: a value that does not match its output
 * field's type (text, a number, an ISO 8601 date and time with Z or an offset, true or false), a
 * null, or an email or web address on a domain that could be someone's business.
 */
const sampleProblems = (sample: Record<string, unknown>, fields: readonly OutputField[]): string[] => {
  const problems: string[] = [];
  for (const { key, type = 'string' } of fields) {
    const value = sample[key];
    if (value === null || value === undefined) {
      problems.push(`${key}: no value`);
      continue;
    }
    const fits =
      type === 'number' ? typeof value === 'number' && Number.isFinite(value)
      : type === 'boolean' ? typeof value === 'boolean'
      : type === 'datetime' ? typeof value === 'string' && ISO_DATETIME.test(value) && !Number.isNaN(Date.parse(value))
      : typeof value === 'string';
    if (!fits) problems.push(`${key}: not a ${type}`);
  }
  for (const [key, value] of Object.entries(sample)) {
    for (const domain of domainsIn(JSON.stringify(value) ?? '')) {
      if (!ALLOWED_DOMAIN.test(domain)) problems.push(`${key}: ${domain} is not a domain reserved for examples`);
    }
  }
  return problems;
};

const SMALL_WORDS = new Set(['a', 'an', 'and', 'as', 'at', 'by', 'for', 'in', 'of', 'on', 'or', 'the', 'to', 'with']);
const isTitleCase = (label: string) =>
  label.split(' ').every((word, index) => (index > 0 && SMALL_WORDS.has(word)) || /^[A-Z0-9(]/.test(word));

test('six visible instant triggers', () => {
  expect(visible.map((t) => t.key).sort()).toEqual(definitions.map((d) => d.triggerKey).sort());
  expect(visible.every((t) => t.operation.type === 'hook')).toBe(true);
});

describe.each(hooks.map((t) => [t.key, t] as const))('%s', (_key, trigger) => {
  test('D006: a hook trigger has performList, so "Test trigger" loads real events', () => {
    expect(trigger.operation.performList).toEqual(expect.any(Function));
  });
  test('D016/D017: performSubscribe and performUnsubscribe are present', () => {
    expect(trigger.operation.performSubscribe).toEqual(expect.any(Function));
    expect(trigger.operation.performUnsubscribe).toEqual(expect.any(Function));
  });
  test('D024: sample keys and output field keys are the same set', () => {
    expect(Object.keys(trigger.operation.sample ?? {}).sort()).toEqual((trigger.operation.outputFields ?? []).map((f) => f.key).sort());
  });
  test('D023: datetime fields of the sample are ISO-8601', () => {
    const datetimeKeys = (trigger.operation.outputFields ?? []).filter((f) => f.type === 'datetime').map((f) => f.key);
    expect(datetimeKeys.length).toBeGreaterThan(0);
    for (const key of datetimeKeys) {
      expect(trigger.operation.sample?.[key]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
    }
  });
  test('D024: every sample value has the type of its output field, none is null, every domain is an example one', () => {
    expect(sampleProblems(trigger.operation.sample ?? {}, trigger.operation.outputFields ?? [])).toEqual([]);
  });
  test('every output field has a human label', () => {
    for (const field of trigger.operation.outputFields ?? []) {
      expect(field.label).toMatch(/^[A-Z]/);
      expect(field.label).not.toContain('_');
    }
  });
});

describe.each(triggers.map((t) => [t.key, t] as const))('%s display', (_key, trigger) => {
  test('D012: a static sample', () => {
    expect(Object.keys(trigger.operation.sample ?? {}).length).toBeGreaterThan(0);
  });
  test('D018: the label is title case', () => {
    expect(isTitleCase(trigger.display.label)).toBe(true);
  });
  test('D021: the description reads "Triggers when … ."', () => {
    expect(trigger.display.description).toMatch(/^Triggers when .+\.$/);
  });
});

test('the D024 check itself catches wrong types, nulls and business domains', () => {
  const fields: OutputField[] = [
    { key: 'name' },
    { key: 'amount', type: 'number' },
    { key: 'at', type: 'datetime' },
    { key: 'local', type: 'datetime' },
    { key: 'done', type: 'boolean' },
    { key: 'email' },
    { key: 'url' },
  ];
  const good = {
    name: 'Jack',
    amount: 7490,
    at: '2026-11-23T00:18:52.000Z',
    local: '2026-11-23T11:18:52+11:00',
    done: false,
    email: 'jack@example.com',
    url: 'https://app.getecologic.com/quote-requests/qr_1',
  };
  expect(sampleProblems(good, fields)).toEqual([]);
  expect(sampleProblems({ ...good, email: 'ops@sunrise-solar.example', url: 'https://www.example.org/x' }, fields)).toEqual([]);
  expect(
    sampleProblems(
      {
        ...good,
        name: null,
        amount: '7490',
        at: '23/11/2026',
        local: '2026-11-23T11:18:52',
        done: 'yes',
        email: 'assessor@sunrisesolar.com.au',
        url: 'https://crm.example.com.au/leads/1',
        note: 'Copy to priya@gmail.com',
      },
      fields,
    ),
  ).toEqual([
    'name: no value',
    'amount: not a number',
    'at: not a datetime',
    'local: not a datetime',
    'done: not a boolean',
    'email: sunrisesolar.com.au is not a domain reserved for examples',
    'url: crm.example.com.au is not a domain reserved for examples',
    'note: gmail.com is not a domain reserved for examples',
  ]);
});

test('the title-case check itself catches sentence case', () => {
  expect(isTitleCase('New quote request')).toBe(false);
  expect(isTitleCase('Quote Request Label Applied')).toBe(true);
});

test('D007: every URL in the app definition is https', () => {
  const definitionText = JSON.stringify(app, (_k, value: unknown) => (typeof value === 'function' ? String(value) : value));
  const urls = definitionText.match(/\bhttps?:\/\/[^\s"'`)]+/g) ?? [];
  expect(urls.filter((url) => url.startsWith('http://'))).toEqual([]);
});

test('D003: the connection label is built from the /me result only, never from authData', () => {
  const label = app.authentication?.connectionLabel;
  expect(typeof label).toBe('string');
  expect(label).toMatch(/^\{\{bundle\.inputData\.\w+\}\}$/);
  expect(String(label)).not.toMatch(/authData|api_key/);
});

test('each output field type is one Zapier understands', () => {
  for (const definition of definitions) {
    for (const field of fieldsOf(definition.event)) expect(['string', 'number', 'datetime', 'boolean']).toContain(field.type);
  }
});

describe('compatibility guard: live Zaps refer to trigger keys and output-field keys', () => {
  const manifest = JSON.parse(readFileSync(join(__dirname, 'compat-manifest.json'), 'utf8')) as {
    authenticationFields: string[];
    triggers: Record<string, { event?: string; outputFields: string[]; inputFields?: string[] }>;
  };
  test.each(Object.entries(manifest.triggers))('%s still exists with every output field it had', (key, entry) => {
    const trigger = triggers.find((t) => t.key === key);
    expect(trigger).toBeDefined();
    const keys = new Set((trigger!.operation.outputFields ?? []).map((f) => f.key));
    expect(entry.outputFields.filter((field) => !keys.has(field))).toEqual([]);
    if (entry.event) expect(definitions.find((d) => d.triggerKey === key)?.event).toBe(entry.event);
    const inputKeys = ((trigger!.operation as { inputFields?: Array<{ key: string }> }).inputFields ?? []).map((f) => f.key);
    expect((entry.inputFields ?? []).filter((field) => !inputKeys.includes(field))).toEqual([]);
  });
  test('the connection still asks for every field a stored connection has', () => {
    const keys = (app.authentication?.fields ?? []).map((field) => (field as { key: string }).key);
    expect(manifest.authenticationFields.filter((field) => !keys.includes(field))).toEqual([]);
  });
});
