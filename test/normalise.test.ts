import { contentId } from '../src/core/derive/ids';
import { eventDefinition } from '../src/core/event-registry';
import { normaliseDelivery, PayloadError, toZapItem } from '../src/core/normalise';
import { fixtureBody } from './helpers';

const quote = eventDefinition('RequestQuote:Create');
const receivedAt = new Date('2026-11-27T05:00:00.000Z');
const meta = { receivedAt };
const itemsOf = (body: unknown, extra: Partial<typeof meta & { webhookId: string; webhookTimestamp: string }> = {}) =>
  normaliseDelivery(quote, body, { ...meta, ...extra }).items;

describe('documented fields', () => {
  test('arrive under their names: strings trimmed, blank strings null, numbers kept, missing ones null', () => {
    const [item] = itemsOf({ first_name: '  Jack ', comments: '   ', offer_price: 4990, event_id: 'evt_1' });
    expect(item).toMatchObject({ first_name: 'Jack', comments: null, offer_price: 4990, last_name: null, reply_phone: null });
  });

  test('a documented field sent with an unexpected type is kept as sent', () => {
    const [item] = itemsOf({ postcode: 3056, first_name: ['J'], event_id: 'evt_1' });
    expect(item).toMatchObject({ postcode: 3056, first_name: ['J'] });
  });

  test('undocumented fields pass through unchanged, nested objects and untrimmed strings too', () => {
    const referral = { source: ' page ', tags: ['a', { b: null }] };
    const [item] = itemsOf({ referral, crm_note: '  keep me  ', event_id: 'evt_1' });
    expect(item!.referral).toEqual(referral);
    expect(item!.crm_note).toBe('  keep me  ');
  });
});

describe('derived fields', () => {
  test('the quote request fixture gets every CRM-ready field', () => {
    const [item] = itemsOf(fixtureBody('quote_request_created'));
    expect(item).toMatchObject({
      full_name: 'Jack Thompson',
      address: '27 Banksia Street, Brunswick, Victoria 3056, australia',
      country_code: 'AU',
      state_code: 'VIC',
      offer_price_amount: 4990,
      offer_price_currency: null,
      reply_phone_e164: '+61423456789',
    });
  });

  test('never overwrite a value the body sent under the same name', () => {
    const body = { first_name: 'Jack', last_name: 'T', full_name: 'Mr J. Thompson', state: 'vic', state_code: 'V', event: 'RequestQuote:Create', occurred_at: 'last week' };
    const [item] = itemsOf(body);
    expect(item).toMatchObject({ full_name: 'Mr J. Thompson', state_code: 'V', occurred_at: 'last week' });
  });

  test('audit events get the same derivations where the fields exist', () => {
    const simulate = eventDefinition('Audit:Simulate');
    const [item] = normaliseDelivery(simulate, fixtureBody('audit_simulated'), meta).items;
    expect(item).toMatchObject({
      full_name: 'Mei Chen',
      country_code: 'AU',
      state_code: 'NSW',
      phone_e164: '+61293744000',
      current_annual_cost_amount: 2940,
      estimated_annual_savings_amount: 1385.5,
      estimated_annual_savings_currency: 'AUD',
    });
  });
});

describe('id', () => {
  test('from the body id, then event_id, then the webhook-id header', () => {
    expect(itemsOf({ id: 'evt_a', event_id: 'evt_b' })[0]!.id).toBe('evt_a');
    expect(itemsOf({ id: 42 })[0]!.id).toBe(42);
    expect(itemsOf({ event_id: 'evt_b' }, { webhookId: 'msg_c' })[0]!.id).toBe('evt_b');
    expect(itemsOf({ first_name: 'Jack' }, { webhookId: 'msg_c' })[0]!.id).toBe('msg_c');
  });

  test('otherwise a hash of the event and body: the same delivery always gets the same id', () => {
    const body = { first_name: 'Jack', nested: { b: 1, a: 2 } };
    const first = itemsOf(body)[0]!.id;
    expect(first).toMatch(/^evt_sha256_[0-9a-f]{32}$/);
    expect(itemsOf({ nested: { a: 2, b: 1 }, first_name: 'Jack' })[0]!.id).toBe(first);
    expect(itemsOf({ ...body, first_name: 'Jill' })[0]!.id).not.toBe(first);
    expect(contentId('Audit:Create', body)).not.toBe(first);
  });

  test('a body id that is not a string or number is kept as body_id and id is derived', () => {
    const [item] = itemsOf({ id: { crm: 7 }, event_id: 'evt_b' });
    expect(item).toMatchObject({ id: 'evt_b', body_id: { crm: 7 } });
    const [clash] = itemsOf({ id: null, body_id: 'mine', event_id: 'evt_b' });
    expect(clash).toMatchObject({ id: 'evt_b', body_id: 'mine', body_id_2: null });
  });
});

describe('occurred_at and event', () => {
  test('from occurred_at, created_at or timestamp; else the delivery timestamp; else receipt', () => {
    expect(itemsOf({ created_at: '2026-11-27T14:15:00+11:00' })[0]!.occurred_at).toBe('2026-11-27T03:15:00.000Z');
    expect(itemsOf({ timestamp: 1796008500 })[0]!.occurred_at).toBe('2026-11-30T03:15:00.000Z');
    expect(itemsOf({ a: 1 }, { webhookTimestamp: '1796008500' })[0]!.occurred_at).toBe('2026-11-30T03:15:00.000Z');
    expect(itemsOf({ a: 1 })[0]!.occurred_at).toBe(receivedAt.toISOString());
  });
  test('event is the platform event name', () => {
    expect(itemsOf({ a: 1 })[0]!.event).toBe('RequestQuote:Create');
  });
});

describe('body shapes', () => {
  test('an envelope is unwrapped, its own keys kept beside the data', () => {
    const [item] = itemsOf({
      id: 'evt_env',
      type: 'RequestQuote:Create',
      created_at: '2026-11-27T03:15:00Z',
      data: { first_name: 'Jack', id: 'qr_inner' },
    });
    expect(item).toMatchObject({ id: 'qr_inner', envelope_id: 'evt_env', type: 'RequestQuote:Create', first_name: 'Jack', occurred_at: '2026-11-27T03:15:00.000Z' });
  });

  test('a flat body with a data field is not mistaken for an envelope', () => {
    const [item] = itemsOf({ first_name: 'Jack', data: { a: 1 } });
    expect(item).toMatchObject({ first_name: 'Jack', data: { a: 1 } });
  });

  test('an array yields one item per element', () => {
    expect(itemsOf([{ event_id: 'a' }, { event_id: 'b' }, { data: { event_id: 'c' } }]).map((i) => i.id)).toEqual(['a', 'b', 'c']);
    expect(itemsOf([])).toEqual([]);
  });

  test('a body naming a different event yields no item', () => {
    const result = normaliseDelivery(quote, [{ event: 'Audit:Create' }, { type: 'RequestQuote:Label:Apply' }, { event: 'RequestQuote:Create' }], meta);
    expect(result.items).toHaveLength(1);
    expect(result.skipped.otherEvent).toBe(2);
  });

  test('a type that is not a platform event name is just a field', () => {
    expect(itemsOf({ type: 'residential' })[0]).toMatchObject({ type: 'residential', event: 'RequestQuote:Create' });
  });

  test.each([
    ['a string', 'Jack Thompson', /the delivery body is text; expected a JSON object or an array of objects/],
    ['a number', 4990, /the delivery body is a number/],
    ['null', null, /the delivery body is null/],
    ['missing', undefined, /the delivery body is missing; expected a JSON object/],
    ['an empty object', {}, /the delivery body is an empty object/],
    ['an array with a string', [{ a: 1 }, 'jack@example.com'], /element 1 of the delivery is text, not a JSON object/],
    ['an array of arrays', [[1]], /element 0 of the delivery is an array/],
  ])('%s is a PayloadError that names the problem without echoing the body', (_what, body, message) => {
    let error: unknown;
    try {
      itemsOf(body);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PayloadError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toMatch(/Jack|jack@|4990/);
  });
});

test('toZapItem puts the event identity first', () => {
  expect(Object.keys(toZapItem(quote, { a: 1, event_id: 'x' }, meta)).slice(0, 3)).toEqual(['id', 'event', 'occurred_at']);
});

test('a "__proto__" key in the body is kept as a field, not turned into a prototype', () => {
  const body = JSON.parse('{"__proto__": {"polluted": true}, "event_id": "evt_p"}') as Record<string, unknown>;
  const [item] = itemsOf(body);
  expect(Object.getOwnPropertyDescriptor(item, '__proto__')?.value).toEqual({ polluted: true });
  expect(Object.getPrototypeOf(item)).toBe(Object.prototype);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(JSON.parse(JSON.stringify(item)).__proto__).toEqual({ polluted: true });
});
