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
  outputFields?: Array<{ key: string; label?: string; type?: string }>;
};
type TriggerDefinition = { key: string; noun: string; display: { label: string; description: string; hidden?: boolean }; operation: Operation };

const triggers = Object.values(app.triggers ?? {}) as unknown as TriggerDefinition[];
const visible = triggers.filter((trigger) => !trigger.display.hidden);
const hooks = triggers.filter((trigger) => trigger.operation.type === 'hook');

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
