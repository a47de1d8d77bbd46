import { documentedKeys, fieldsOf } from '../src/core/catalog';
import { EVENT_REGISTRY, SAMPLE_ORGANISATION_TIME_ZONE, schemaFor } from '../src/core/event-registry';
import { normaliseDelivery } from '../src/core/normalise';
import { fixtureBody } from './helpers';

describe.each(EVENT_REGISTRY.map((d) => [d.triggerKey, d] as const))('%s', (triggerKey, definition) => {
  const schema = schemaFor(definition.event);

  test('the static sample is a valid item of its schema, with no extra keys', () => {
    const result = schema.strict().safeParse(definition.sample);
    expect(result.success ? [] : result.error.issues).toEqual([]);
  });

  test('the fixture delivery normalises into a valid item of the schema', () => {
    const [item] = normaliseDelivery(definition, fixtureBody(triggerKey), { receivedAt: new Date() }).items;
    const result = schema.safeParse({ ...item, occurred_at: new Date(String(item!.occurred_at)).toISOString() });
    expect(result.success ? [] : result.error.issues).toEqual([]);
  });

  test('the derivations produce exactly the fields the schema marks as derived', () => {
    const derivedInSchema = fieldsOf(definition.event)
      .filter((f) => f.origin === 'derived' && !['id', 'event', 'occurred_at', 'record_id', 'delivery_id'].includes(f.key))
      .map((f) => f.key)
      .sort();
    expect(definition.derivations.flatMap((d) => d.outputs).sort()).toEqual(derivedInSchema);
  });

  test('a derivation fills in only keys the platform sends, each key by one derivation', () => {
    const fills = definition.derivations.flatMap((d) => d.fills ?? []);
    expect(fills.filter((key) => !documentedKeys(definition.event).has(key))).toEqual([]);
    expect(new Set(fills).size).toBe(fills.length);
  });

  test('the sample\'s derived fields are what the normaliser derives from its sent fields', () => {
    const sent = Object.fromEntries(
      fieldsOf(definition.event)
        .filter((f) => f.origin !== 'derived')
        .map((f) => [f.key, (definition.sample as Record<string, unknown>)[f.key]]),
    );
    const meta = {
      webhookId: definition.sample.delivery_id,
      receivedAt: new Date(definition.sample.occurred_at),
      timeZone: SAMPLE_ORGANISATION_TIME_ZONE,
    };
    const body = { ...sent, id: definition.sample.record_id, event_id: definition.sample.id };
    const [item] = normaliseDelivery(definition, body, meta).items;
    expect(item).toEqual({ ...definition.sample, event_id: definition.sample.id });
  });

  test('the sample\'s suburb and record ID are what the app would fill in when the platform sends neither', () => {
    const sample = definition.sample as Record<string, unknown>;
    const idKey = 'quote_request_id' in sample ? 'quote_request_id' : 'audit_id';
    const sent = Object.fromEntries(
      fieldsOf(definition.event)
        .filter((f) => f.origin !== 'derived' && f.key !== 'suburb' && f.key !== idKey)
        .map((f) => [f.key, sample[f.key]]),
    );
    const meta = { receivedAt: new Date(definition.sample.occurred_at), timeZone: SAMPLE_ORGANISATION_TIME_ZONE };
    const [item] = normaliseDelivery(definition, { ...sent, id: definition.sample.record_id }, meta).items;
    expect(item![idKey]).toBe(sample[idKey]);
    if ('suburb' in sample) expect(item!.suburb).toBe(sample.suburb);
    else expect(item).not.toHaveProperty('suburb');
  });
});

test('only RequestQuote:Create fields are marked as published, exactly the published field set', () => {
  const published = EVENT_REGISTRY.flatMap((d) => fieldsOf(d.event).filter((f) => f.origin === 'published').map((f) => `${d.event}.${f.key}`));
  expect(published.sort()).toEqual(
    [
      'action', 'supplier_name', 'offer_title', 'offer_description', 'offer_price', 'first_name', 'last_name',
      'street', 'postcode', 'state', 'country', 'reply_email', 'reply_phone', 'comments',
    ].map((k) => `RequestQuote:Create.${k}`).sort(),
  );
});
