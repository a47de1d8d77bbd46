import { fieldsOf } from '../src/core/catalog';
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
      offer_price_currency: 'AUD',
      reply_phone_e164: '+61423456789',
      action_name: 'Solar PV',
      quote_request_url: 'https://app.getecologic.com/quote-requests/qr_4Tn6Bv',
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

describe('keys the platform sends that the app may fill in', () => {
  const audit = eventDefinition('Audit:Create');
  const auditItem = (body: unknown) => normaliseDelivery(audit, body, meta).items[0]!;

  test('the record\'s own id fills quote_request_id and audit_id, as text; record_id stays as sent', () => {
    expect(itemsOf({ id: 'qr_1', event_id: 'evt_1' })[0]).toMatchObject({ quote_request_id: 'qr_1', record_id: 'qr_1' });
    expect(itemsOf({ id: 42, event_id: 'evt_1' })[0]).toMatchObject({ quote_request_id: '42', record_id: 42 });
    expect(itemsOf({ id: ' qr_1 ', event_id: 'evt_1' })[0]).toMatchObject({ quote_request_id: 'qr_1', record_id: ' qr_1 ' });
    expect(auditItem({ id: 'aud_1', event_id: 'evt_1' })).toMatchObject({ audit_id: 'aud_1', record_id: 'aud_1' });
    // In an envelope, data.id is the record's; the envelope's own id is the event's.
    expect(itemsOf({ id: 'evt_env', type: 'RequestQuote:Create', data: { id: 'qr_inner' } })[0]).toMatchObject({ id: 'evt_env', quote_request_id: 'qr_inner' });
    const label = eventDefinition('RequestQuote:Label:Apply');
    expect(normaliseDelivery(label, { id: 'qr_2', label: 'Quote sent' }, meta).items[0]).toMatchObject({ quote_request_id: 'qr_2' });
  });

  test('a value sent under quote_request_id or audit_id is never replaced; a blank one is filled', () => {
    expect(itemsOf({ id: 'qr_1', quote_request_id: 'qr_own', event_id: 'evt_1' })[0]!.quote_request_id).toBe('qr_own');
    expect(itemsOf({ id: 'qr_1', quote_request_id: 7, event_id: 'evt_1' })[0]!.quote_request_id).toBe(7);
    expect(itemsOf({ id: 'qr_1', quote_request_id: '   ', event_id: 'evt_1' })[0]!.quote_request_id).toBe('qr_1');
    expect(auditItem({ id: 'aud_1', audit_id: 'aud_own' }).audit_id).toBe('aud_own');
  });

  test('no usable record id leaves them null', () => {
    expect(itemsOf({ event_id: 'evt_1' })[0]!.quote_request_id).toBeNull();
    expect(itemsOf({ id: '  ', event_id: 'evt_1' })[0]!.quote_request_id).toBeNull();
    expect(itemsOf({ id: { crm: 7 }, event_id: 'evt_1' })[0]!.quote_request_id).toBeNull();
  });

  test('a suburb sent is kept as sent (trimmed); one left out or blank is read from the street line', () => {
    expect(itemsOf({ street: '27 Banksia Street, Brunswick', suburb: ' Brunswick East ' })[0]!.suburb).toBe('Brunswick East');
    expect(itemsOf({ street: '27 Banksia Street, Brunswick' })[0]!.suburb).toBe('Brunswick');
    expect(itemsOf({ street: '27 Banksia Street, Brunswick', suburb: '  ' })[0]!.suburb).toBe('Brunswick');
    expect(auditItem({ street: '12 Smith St North Sydney NSW 2060' }).suburb).toBe('North Sydney');
    expect(itemsOf({ street: '12 Smith Street' })[0]!.suburb).toBeNull();
    expect(itemsOf({ street: '12 Smith Street, Brunswick', suburb: 3056 })[0]!.suburb).toBe(3056);
  });

  test('the one-line address names the suburb once', () => {
    const line = (body: Record<string, unknown>) => itemsOf({ state: 'VIC', postcode: '3056', country: 'Australia', ...body })[0]!.address;
    expect(line({ street: '27 Banksia Street, Brunswick' })).toBe('27 Banksia Street, Brunswick, VIC 3056, Australia');
    expect(line({ street: '27 Banksia Street, Brunswick', suburb: 'brunswick' })).toBe('27 Banksia Street, Brunswick, VIC 3056, Australia');
    expect(line({ street: '27 Banksia Street', suburb: 'Brunswick' })).toBe('27 Banksia Street, Brunswick, VIC 3056, Australia');
    expect(line({ street: '27 Banksia Street' })).toBe('27 Banksia Street, VIC 3056, Australia');
    expect(line({ suburb: 'Brunswick' })).toBe('Brunswick, VIC 3056, Australia');
  });

  test('the quote request label event has no address, so no suburb', () => {
    const label = eventDefinition('RequestQuote:Label:Apply');
    expect(normaliseDelivery(label, { street: '27 Banksia Street, Brunswick' }, meta).items[0]).not.toHaveProperty('suburb');
  });

  test('a derivation fills only the keys it names, and only while they are null', () => {
    const definition = {
      ...quote,
      derivations: [{ outputs: [], fills: ['comments'], derive: () => ({ comments: 'filled', first_name: 'Not Jack', supplier_name: 'filled' }) }],
    };
    const [item] = normaliseDelivery(definition, { first_name: 'Jack', comments: ' ' }, meta).items;
    expect(item).toMatchObject({ comments: 'filled', first_name: 'Jack', supplier_name: null });
    expect(normaliseDelivery(definition, { comments: 'Call after 5pm' }, meta).items[0]!.comments).toBe('Call after 5pm');
  });
});

describe('the event time in the customer\'s local time', () => {
  const at = { occurred_at: '2026-11-23T00:18:52Z' };
  const local = (body: Record<string, unknown>, timeZone?: string | null) => {
    const item = normaliseDelivery(quote, { ...at, ...body }, { ...meta, timeZone }).items[0]!;
    return [item.occurred_at_local, item.time_zone];
  };

  test('from the state of the customer\'s Australian address, daylight saving included', () => {
    expect(local({ state: 'Victoria', country: 'Australia' })).toEqual(['2026-11-23T11:18:52+11:00', 'Australia/Melbourne']);
    expect(local({ state: 'VIC', occurred_at: '2026-06-23T00:18:52Z' })).toEqual(['2026-06-23T10:18:52+10:00', 'Australia/Melbourne']);
    expect(local({ state: 'qld' })).toEqual(['2026-11-23T10:18:52+10:00', 'Australia/Brisbane']);
    expect(local({ state: 'NSW', postcode: '2880' })).toEqual(['2026-11-23T10:48:52+10:30', 'Australia/Broken_Hill']);
    // The customer's own state wins over the organisation's zone.
    expect(local({ state: 'WA' }, 'Australia/Sydney')).toEqual(['2026-11-23T08:18:52+08:00', 'Australia/Perth']);
  });

  test('else the organisation\'s time zone, when it is a real one', () => {
    expect(local({}, 'Australia/Adelaide')).toEqual(['2026-11-23T10:48:52+10:30', 'Australia/Adelaide']);
    expect(local({ state: 'Victoria', country: 'New Zealand' }, 'Pacific/Auckland')).toEqual(['2026-11-23T13:18:52+13:00', 'Pacific/Auckland']);
    expect(local({ state: 'Ontario' }, ' Australia/Perth ')).toEqual(['2026-11-23T08:18:52+08:00', 'Australia/Perth']);
  });

  test('else neither: an unknown or invalid zone is ignored, never an error', () => {
    expect(local({})).toEqual([null, null]);
    expect(local({}, null)).toEqual([null, null]);
    expect(local({}, 'Mars/Olympus_Mons')).toEqual([null, null]);
    expect(local({}, '+10:00')).toEqual([null, null]);
    expect(local({}, '')).toEqual([null, null]);
  });

  test('occurred_at stays in UTC; an unreadable one has no local time, the zone is still told', () => {
    const [item] = normaliseDelivery(quote, { state: 'VIC', created_at: '2026-11-23T11:18:52+11:00' }, meta).items;
    expect(item).toMatchObject({ occurred_at: '2026-11-23T00:18:52.000Z', occurred_at_local: '2026-11-23T11:18:52+11:00' });
    expect(local({ state: 'VIC', occurred_at: 'last week' })).toEqual([null, 'Australia/Melbourne']);
  });

  test('a body\'s own occurred_at_local or time_zone is kept as sent', () => {
    expect(local({ state: 'VIC', occurred_at_local: 'mine', time_zone: 'Europe/Paris' })).toEqual(['mine', 'Europe/Paris']);
  });
});

describe('event identity (the item id)', () => {
  const label = eventDefinition('RequestQuote:Label:Apply');
  const labelled = (body: unknown, webhookId?: string) => normaliseDelivery(label, body, { ...meta, webhookId }).items;

  test('the event_id first; a flat body\'s id is the record\'s, kept as record_id', () => {
    expect(itemsOf({ id: 'qr_a', event_id: 'evt_b' }, { webhookId: 'msg_c' })[0]).toMatchObject({ id: 'evt_b', record_id: 'qr_a', delivery_id: 'msg_c' });
    expect(itemsOf({ event_id: 42 })[0]!.id).toBe('42');
    expect(itemsOf({ event_id: ' evt_b ' })[0]!.id).toBe('evt_b');
  });

  test('then the webhook-id header, never the record\'s own id', () => {
    expect(itemsOf({ id: 'qr_a', first_name: 'Jack' }, { webhookId: 'msg_c' })[0]).toMatchObject({ id: 'msg_c', record_id: 'qr_a' });
  });

  test('two label events about one quote request are two events, whatever id they share', () => {
    const body = { id: 'qr_5Lm3Dw', quote_request_id: 'qr_5Lm3Dw', label: 'Site visit booked' };
    const [first] = labelled(body, 'msg_1');
    const [second] = labelled({ ...body, label: 'Quote sent' }, 'msg_2');
    expect(first!.id).not.toBe(second!.id);
    expect([first!.record_id, second!.record_id]).toEqual(['qr_5Lm3Dw', 'qr_5Lm3Dw']);
    // Without any header either: the content tells them apart, the shared id alone never decides.
    expect(labelled(body)[0]!.id).not.toBe(labelled({ ...body, label: 'Quote sent' })[0]!.id);
  });

  test('an envelope: its event_id, else its id; data.id is the record\'s', () => {
    const envelope = { id: 'evt_env', type: 'RequestQuote:Create', data: { id: 'qr_inner', first_name: 'Jack' } };
    const [item] = itemsOf(envelope, { webhookId: 'msg_c' });
    expect(item).toMatchObject({ id: 'evt_env', record_id: 'qr_inner', first_name: 'Jack' });
    expect(item).not.toHaveProperty('envelope_id');
    expect(itemsOf({ ...envelope, event_id: 'evt_x' })[0]).toMatchObject({ id: 'evt_x', envelope_id: 'evt_env', record_id: 'qr_inner' });
    // Envelopes whose data.id is the same resource are still different events.
    const [a] = itemsOf({ type: 'RequestQuote:Create', data: { id: 'qr_1', a: 1 } }, { webhookId: 'msg_1' });
    const [b] = itemsOf({ type: 'RequestQuote:Create', data: { id: 'qr_1', a: 1 } }, { webhookId: 'msg_2' });
    expect(a!.id).not.toBe(b!.id);
  });

  test('each record of a batch is its own event: the header id with its position, one claim for them all', () => {
    const result = normaliseDelivery(quote, [{ first_name: 'A' }, { first_name: 'B' }, { first_name: 'A' }], { ...meta, webhookId: 'msg_b' });
    expect(result.items.map((i) => i.id)).toEqual(['msg_b#1', 'msg_b#2', 'msg_b#3']);
    expect(result.claims).toEqual(['msg_b', 'msg_b', 'msg_b']);
    const unsigned = itemsOf([{ first_name: 'A' }, { first_name: 'A' }]).map((i) => i.id);
    expect(new Set(unsigned).size).toBe(2);
    // A record with its own event_id claims that id, wherever it travels.
    expect(normaliseDelivery(quote, [{ event_id: 'evt_1' }, { a: 1 }], { ...meta, webhookId: 'msg_b' }).claims).toEqual(['evt_1', 'msg_b']);
  });

  test('a repeat of one event inside a delivery gives one item', () => {
    const result = normaliseDelivery(quote, [{ event_id: 'evt_1', a: 1 }, { event_id: 'evt_1', a: 1 }], meta);
    expect(result.items).toHaveLength(1);
    expect(result.skipped.repeated).toBe(1);
  });

  test('otherwise a hash of the event and body: the same delivery always gets the same id', () => {
    const body = { first_name: 'Jack', nested: { b: 1, a: 2 } };
    const first = itemsOf(body)[0]!.id;
    expect(first).toMatch(/^evt_sha256_[0-9a-f]{32}$/);
    expect(itemsOf({ nested: { a: 2, b: 1 }, first_name: 'Jack' })[0]!.id).toBe(first);
    expect(itemsOf({ ...body, first_name: 'Jill' })[0]!.id).not.toBe(first);
    expect(contentId('Audit:Create', body)).not.toBe(first);
  });

  test('ids that are not strings or numbers are kept as sent under record_id; a body\'s own record_id is kept', () => {
    expect(itemsOf({ id: { crm: 7 }, event_id: 'evt_b' })[0]).toMatchObject({ id: 'evt_b', record_id: { crm: 7 } });
    expect(itemsOf({ id: 'qr_1', record_id: 'mine', event_id: 'evt_b' })[0]).toMatchObject({ id: 'evt_b', record_id: 'mine', record_id_2: 'qr_1' });
    expect(itemsOf({ event_id: 'evt_b' })[0]).toMatchObject({ record_id: null, delivery_id: null });
  });
});

describe('occurred_at and event', () => {
  test('from occurred_at, created_at or timestamp; else the delivery timestamp; else receipt', () => {
    expect(itemsOf({ created_at: '2026-11-27T14:15:00+11:00' })[0]!.occurred_at).toBe('2026-11-27T03:15:00.000Z');
    expect(itemsOf({ timestamp: 1796008500 })[0]!.occurred_at).toBe('2026-11-30T03:15:00.000Z');
    expect(itemsOf({ a: 1 }, { webhookTimestamp: '1796008500' })[0]!.occurred_at).toBe('2026-11-30T03:15:00.000Z');
    expect(itemsOf({ a: 1 })[0]!.occurred_at).toBe(receivedAt.toISOString());
    // The body's own time wins over the delivery's: a retry is signed later than the event happened.
    expect(itemsOf({ created_at: '2026-11-27T14:15:00+11:00' }, { webhookTimestamp: '1796008500' })[0]!.occurred_at).toBe('2026-11-27T03:15:00.000Z');
    expect(itemsOf({ timestamp: 1796008500 }, { webhookTimestamp: '1796000000' })[0]!.occurred_at).toBe('2026-11-30T03:15:00.000Z');
  });
  test('event is the platform event name', () => {
    expect(itemsOf({ a: 1 })[0]!.event).toBe('RequestQuote:Create');
  });
  test('event names compare trimmed and without regard to case', () => {
    expect(itemsOf({ event: ' requestquote:create ' })[0]!.event).toBe('RequestQuote:Create');
    expect(normaliseDelivery(eventDefinition('Audit:Create'), { event: 'requestquote:create' }, meta).skipped.otherEvent).toBe(1);
    expect(normaliseDelivery(eventDefinition('Audit:Create'), { type: 'REQUESTQUOTE:CREATE', data: { a: 1 } }, meta).items).toEqual([]);
    // A name that is no platform event stays as sent.
    expect(itemsOf({ event: 'quote.created' })[0]!.event).toBe('quote.created');
  });
});

describe('body shapes', () => {
  test('an envelope is unwrapped, its own keys kept beside the data', () => {
    const [item] = itemsOf({
      id: 'evt_env',
      type: 'RequestQuote:Create',
      created_at: '2026-11-27T03:15:00Z',
      data: { first_name: 'Jack', id: 'qr_inner', created_at: 'earlier' },
    });
    expect(item).toMatchObject({ id: 'evt_env', record_id: 'qr_inner', type: 'RequestQuote:Create', first_name: 'Jack', created_at: 'earlier', envelope_created_at: '2026-11-27T03:15:00Z' });
    expect(item).not.toHaveProperty('data');
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

test('toZapItem lays an item out as a lead: the customer first, then anything else sent, then the bookkeeping', () => {
  const record = { fields: { referral: 'council', event_id: 'x', id: 'qr_1', reply_email: 'a@example.com', first_name: 'Jack', offer_title: 'Solar' }, position: 1, count: 1 };
  const keys = Object.keys(toZapItem(quote, record, { id: 'x', source: 'event_id', claim: 'x' }, { ...meta, webhookId: 'msg_1' }));
  expect(keys.slice(0, 3)).toEqual(['first_name', 'last_name', 'full_name']);
  expect(keys.indexOf('reply_email')).toBeLessThan(keys.indexOf('offer_title'));
  expect(keys.slice(-9)).toEqual(['referral', 'event', 'occurred_at', 'occurred_at_local', 'time_zone', 'id', 'event_id', 'record_id', 'delivery_id']);
  // Outside the bookkeeping, the order is the output fields' order in the Zap editor.
  const catalogKeys = fieldsOf(quote.event).map((field) => field.key);
  expect(keys.filter((key) => catalogKeys.includes(key))).toEqual(catalogKeys);
});

test('an item missing some of the lead keys keeps the same order without them', () => {
  // Every registered event derives all its lead keys; without its derivations, an item lacks some
  // and is laid out key by key rather than from the lead's shape.
  const record = { fields: { referral: 'council', event_id: 'x', first_name: 'Jack', offer_title: 'Solar' }, position: 1, count: 1 };
  const identity = { id: 'x', source: 'event_id', claim: 'x' } as const;
  const full = Object.keys(toZapItem(quote, record, identity, meta));
  const bare = Object.keys(toZapItem({ ...quote, derivations: [] }, record, identity, meta));
  expect(bare).not.toContain('full_name');
  expect(bare).toEqual(full.filter((key) => bare.includes(key)));
  expect(bare.slice(0, 2)).toEqual(['first_name', 'last_name']);
});

test('a "__proto__" key in the body is kept as a field, not turned into a prototype', () => {
  const body = JSON.parse('{"__proto__": {"polluted": true}, "event_id": "evt_p"}') as Record<string, unknown>;
  const [item] = itemsOf(body);
  expect(Object.getOwnPropertyDescriptor(item, '__proto__')?.value).toEqual({ polluted: true });
  expect(Object.getPrototypeOf(item)).toBe(Object.prototype);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(JSON.parse(JSON.stringify(item)).__proto__).toEqual({ polluted: true });
});
