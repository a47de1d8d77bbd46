import { fieldsOf } from '../src/core/catalog';
import { EVENT_REGISTRY, schemaFor } from '../src/core/event-registry';
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

  test('the sample\'s derived fields are what the normaliser derives from its sent fields', () => {
    const sent = Object.fromEntries(
      fieldsOf(definition.event)
        .filter((f) => f.origin !== 'derived')
        .map((f) => [f.key, (definition.sample as Record<string, unknown>)[f.key]]),
    );
    const meta = { webhookId: definition.sample.delivery_id, receivedAt: new Date(definition.sample.occurred_at) };
    const [item] = normaliseDelivery(definition, { ...sent, event_id: definition.sample.id }, meta).items;
    expect(item).toEqual({ ...definition.sample, event_id: definition.sample.id });
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
