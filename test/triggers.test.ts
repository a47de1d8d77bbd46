import nock from 'nock';
import type { ZapItem } from '../src/core/normalise';
import { API, API_KEY, definitions, deliveryBundle, expectMe, fixtureBody, newTester, ORGANISATION_TIME_ZONE, run, SECRET, TARGET_URL, useNock } from './helpers';

useNock({ everyRequestMocked: true });

const TRIGGER_TABLE = [
  ['Audit:Create', 'audit_created', 'New Audit'],
  ['Audit:Simulate', 'audit_simulated', 'Audit Simulated'],
  ['Audit:Assign', 'audit_assigned', 'Audit Assigned'],
  ['Audit:Label:Apply', 'audit_label_applied', 'Audit Label Applied'],
  ['RequestQuote:Create', 'quote_request_created', 'New Quote Request'],
  ['RequestQuote:Label:Apply', 'quote_request_label_applied', 'Quote Request Label Applied'],
] as const;

test('the registry has exactly the six platform events with their fixed keys and labels', () => {
  expect(definitions.map((d) => [d.event, d.triggerKey, d.label])).toEqual(TRIGGER_TABLE);
});

describe.each(definitions.map((d) => [d.triggerKey, d] as const))('%s', (triggerKey, definition) => {
  test('performSubscribe posts the event and the Zap URL and returns the subscription, with the time zone, as subscribeData', async () => {
    expectMe();
    let sent: unknown;
    nock(API)
      .matchHeader('authorization', `Bearer ${API_KEY}`)
      .post('/notifications', (body) => {
        sent = body;
        return true;
      })
      .reply(201, { id: 'ntf_2b7Hc9', type: 'webhook', event: definition.event, uri: TARGET_URL, filters: {}, secret: SECRET });
    const subscribeData = await run(newTester(), triggerKey, 'performSubscribe', { targetUrl: TARGET_URL });
    expect(sent).toEqual({ type: 'webhook', event: definition.event, uri: TARGET_URL, filters: {} });
    expect(subscribeData).toMatchObject({ id: 'ntf_2b7Hc9', secret: SECRET, time_zone: ORGANISATION_TIME_ZONE });
  });

  test('performSubscribe rejects a response without an id: the Zap stays off, saying so in plain words', async () => {
    expectMe();
    nock(API).post('/notifications').reply(201, { type: 'webhook' });
    await expect(run(newTester(), triggerKey, 'performSubscribe', { targetUrl: TARGET_URL })).rejects.toThrow(
      /Ecologic sent an answer the app could not read while turning on this Zap/,
    );
  });

  test.each([204, 404, 410])('performUnsubscribe deletes the subscription (%i counts as removed)', async (status) => {
    nock(API).delete('/notifications/ntf_2b7Hc9').reply(status);
    const result = await run(newTester(), triggerKey, 'performUnsubscribe', { subscribeData: { id: 'ntf_2b7Hc9' } });
    expect(result).toEqual({ removed: true, alreadyGone: status !== 204 });
  });

  test('performUnsubscribe reports a platform failure instead of pretending it worked', async () => {
    nock(API).delete('/notifications/ntf_2b7Hc9').reply(500, { error: { code: 'internal' } });
    await expect(
      run(newTester(), triggerKey, 'performUnsubscribe', { subscribeData: { id: 'ntf_2b7Hc9' } }),
    ).rejects.toThrow(/Ecologic had a problem on its side while turning off this Zap\. This step can be retried/);
  });

  test('perform turns the fixture delivery into one item with every sent key and the derived fields', async () => {
    const body = fixtureBody(triggerKey);
    const items = await run(newTester(), triggerKey, 'perform', deliveryBundle(body, { secret: SECRET }));
    expect(items).toHaveLength(1);
    const [item] = items as [ZapItem];
    expect(item.id).toBe(body.event_id);
    expect(item.event).toBe(definition.event);
    for (const [key, value] of Object.entries(body)) {
      expect(item[key]).toEqual(typeof value === 'string' ? value.trim() || null : value);
    }
    for (const key of Object.keys(definition.sample)) expect(item).toHaveProperty(key);
    expect(item.full_name).toEqual(expect.any(String));
  });

  test('performList loads 3 recent events when loading samples, mapped exactly like perform', async () => {
    const body = fixtureBody(triggerKey);
    expectMe();
    let query: Record<string, string> = {};
    nock(API)
      .get('/notifications/samples')
      .query((q) => {
        query = q as Record<string, string>;
        return true;
      })
      .reply(200, { data: [body, { ...body, event_id: 'evt_second' }] });
    const listed = await run(newTester(), triggerKey, 'performList', { meta: { isLoadingSample: true } });
    expect(query).toEqual({ event: definition.event, limit: '3' });
    // The Zap's subscription holds the organisation's time zone, as "Test trigger" read it.
    const [live] = await run(newTester(), triggerKey, 'perform', deliveryBundle(body, { timeZone: ORGANISATION_TIME_ZONE }));
    expect(listed).toHaveLength(2);
    expect(Object.keys(listed[0]!)).toEqual(Object.keys(live!));
    // A sample has no delivery behind it, hence no delivery id; everything else is the same.
    expect(listed[0]!.delivery_id).toBeNull();
    expect({ ...listed[0], occurred_at: null, delivery_id: null }).toEqual({ ...live, occurred_at: null, delivery_id: null });
  });

  test('performList asks for the Zap editor limit outside sample loading', async () => {
    expectMe();
    nock(API).get('/notifications/samples').query({ event: definition.event, limit: '25' }).reply(200, { data: [] });
    expect(await run(newTester(), triggerKey, 'performList', { meta: { isLoadingSample: false, limit: 25 } })).toEqual([]);
  });

  test('performList reports an unexpected response shape instead of returning an empty list', async () => {
    expectMe();
    nock(API).get('/notifications/samples').query(true).reply(200, { events: [] });
    await expect(run(newTester(), triggerKey, 'performList')).rejects.toThrow(
      new RegExp(`could not read while loading recent ${definition.noun.toLowerCase()}s to test this trigger`),
    );
  });
});

test.each([
  [{ isLoadingSample: false, limit: -1 }, '100'],
  [{ isLoadingSample: false, limit: 500 }, '100'],
  [{ isLoadingSample: false, limit: 0 }, '10'],
  [{}, '10'],
])('performList turns Zapier limit %p into limit=%s', async (meta, limit) => {
  expectMe();
  nock(API).get('/notifications/samples').query({ event: 'Audit:Create', limit }).reply(200, { data: [] });
  expect(await run(newTester(), 'audit_created', 'performList', { meta })).toEqual([]);
});

test('performUnsubscribe without a subscription id makes no request and says why', async () => {
  // useNock fails the test on any request, since no interceptor is set up.
  expect(await run(newTester(), 'audit_created', 'performUnsubscribe', { subscribeData: undefined })).toEqual({
    removed: false,
    reason: 'no usable subscription id',
  });
});

describe('"Test trigger" shows the newest event first, whatever order the platform sends', () => {
  const body = fixtureBody('audit_created');
  const at = (id: string, occurred_at: unknown) => ({ ...body, event_id: id, occurred_at });
  const listed = async (samples: unknown[], meta: Record<string, unknown> = { isLoadingSample: false, limit: 10 }) => {
    expectMe();
    nock(API).get('/notifications/samples').query({ event: 'Audit:Create', limit: String(meta.isLoadingSample ? 3 : meta.limit) }).reply(200, { data: samples });
    return (await run(newTester(), 'audit_created', 'performList', { meta })).map((item) => item.id);
  };

  test('samples sent oldest first come back newest first', async () => {
    const ids = await listed([at('evt_1', '2026-12-01T00:00:00Z'), at('evt_2', '2026-12-02T00:00:00Z'), at('evt_3', '2026-12-03T00:00:00Z')]);
    expect(ids).toEqual(['evt_3', 'evt_2', 'evt_1']);
  });

  test('mixed order, times with offsets compared as moments, and ties keep the platform order', async () => {
    const ids = await listed([
      at('evt_b', '2026-12-02T00:00:00Z'),
      at('evt_late', '2026-12-03T09:30:00+10:00'), // 2026-12-02T23:30Z
      at('evt_a', '2026-12-02T00:00:00Z'),
      at('evt_newest', '2026-12-03T00:00:00Z'),
      at('evt_c', '2026-12-02T00:00:00.000Z'),
    ]);
    expect(ids).toEqual(['evt_newest', 'evt_late', 'evt_b', 'evt_a', 'evt_c']);
  });

  test('a time that cannot be read goes last, in the platform order', async () => {
    const ids = await listed([at('evt_x', 'yesterday'), at('evt_old', '2026-01-01T00:00:00Z'), at('evt_y', 12345), at('evt_new', '2026-12-01T00:00:00Z')]);
    expect(ids).toEqual(['evt_new', 'evt_old', 'evt_x', 'evt_y']);
  });

  test('only what was asked for is sorted: the limit is asked of the platform, and extra samples are never looked at', async () => {
    const ids = await listed(
      [at('evt_1', '2026-12-01T00:00:00Z'), at('evt_2', '2026-12-02T00:00:00Z'), at('evt_3', '2026-12-03T00:00:00Z'), at('evt_4', '2026-12-09T00:00:00Z')],
      { isLoadingSample: true },
    );
    expect(ids).toEqual(['evt_3', 'evt_2', 'evt_1']);
  });
});
