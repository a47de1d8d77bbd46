// Regression tests for "Every event exactly once, and only what was signed": each case was seen
// losing events, passing on unsigned values or rejecting a plausible platform shape.
import nock from 'nock';
import { Webhook } from 'standardwebhooks';
import type { Bundle, ZObject } from 'zapier-platform-core';
import type { ZapItem } from '../src/core/normalise';
import { SIGNATURE_WINDOW } from '../src/core/signature';
import { PRODUCTION_SCHEDULE } from '../src/sandbox/sender';
import { DEDUPE_TTL_SECONDS } from '../src/zapier/dedupe';
import { API, expectMe, API_KEY, app, deliveryBundle, fixtureBody, hook, newTester, run, SECRET, TARGET_URL, useNock, type PartialBundle } from './helpers';

useNock({ everyRequestMocked: true });

const QUOTE = 'quote_request_created';
const LABEL = 'quote_request_label_applied';
const AUDIT = 'audit_created';
const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error as Error & { code?: string });

describe('lost events: a resource id is never the event identity', () => {
  const labelBody = { id: 'qr_5Lm3Dw', quote_request_id: 'qr_5Lm3Dw', label: 'Site visit booked', first_name: 'Jack' };

  test('two label deliveries about one quote request, each with its own webhook-id, give two items', async () => {
    const tester = newTester();
    const first = await run(tester, LABEL, 'perform', deliveryBundle(labelBody, { secret: SECRET, webhookId: 'msg_1' }));
    const second = await run(tester, LABEL, 'perform', deliveryBundle({ ...labelBody, label: 'Quote sent' }, { secret: SECRET, webhookId: 'msg_2' }));
    expect([...first, ...second].map((item) => [item.id, item.record_id])).toEqual([
      ['msg_1', 'qr_5Lm3Dw'],
      ['msg_2', 'qr_5Lm3Dw'],
    ]);
  });

  test('envelopes whose data.id is the resource give one item each', async () => {
    const tester = newTester();
    const envelope = (label: string) => ({ type: 'RequestQuote:Label:Apply', data: { ...labelBody, label } });
    const items = [
      ...(await run(tester, LABEL, 'perform', deliveryBundle(envelope('Site visit booked'), { secret: SECRET, webhookId: 'msg_1' }))),
      ...(await run(tester, LABEL, 'perform', deliveryBundle(envelope('Quote sent'), { secret: SECRET, webhookId: 'msg_2' }))),
    ];
    expect(items.map((item) => item.label)).toEqual(['Site visit booked', 'Quote sent']);
  });

  test('a signed array of three records without ids gives three items, and its retry none', async () => {
    const tester = newTester();
    const batch = [{ first_name: 'Ann' }, { first_name: 'Ben' }, { first_name: 'Cat' }];
    const items = await run(tester, QUOTE, 'perform', deliveryBundle(batch, { secret: SECRET, webhookId: 'msg_batch' }));
    expect(items.map((item) => [item.id, item.first_name])).toEqual([
      ['msg_batch#1', 'Ann'],
      ['msg_batch#2', 'Ben'],
      ['msg_batch#3', 'Cat'],
    ]);
    expect(await run(tester, QUOTE, 'perform', deliveryBundle(batch, { secret: SECRET, webhookId: 'msg_batch' }))).toEqual([]);
  });

  test('every record of a retried array is de-duplicated, not only the first', async () => {
    const tester = newTester();
    const batch = [{ event_id: 'evt_1' }, { event_id: 'evt_2' }, { event_id: 'evt_3' }];
    expect(await run(tester, QUOTE, 'perform', deliveryBundle(batch, { secret: SECRET, webhookId: 'msg_a' }))).toHaveLength(3);
    // The same events again, in another delivery and another order, with one new event.
    const again = [{ event_id: 'evt_3' }, { event_id: 'evt_4' }, { event_id: 'evt_1' }, { event_id: 'evt_2' }];
    const items = await run(tester, QUOTE, 'perform', deliveryBundle(again, { secret: SECRET, webhookId: 'msg_b' }));
    expect(items.map((item) => item.id)).toEqual(['evt_4']);
  });

  test('numeric event ids are de-duplicated like string ones', async () => {
    const tester = newTester();
    expect((await run(tester, QUOTE, 'perform', deliveryBundle({ event_id: 42, first_name: 'Jack' }, { headers: {} })))[0]!.id).toBe('42');
    expect(await run(tester, QUOTE, 'perform', deliveryBundle({ event_id: 42, first_name: 'Jack' }, { headers: {} }))).toEqual([]);
  });
});

describe('only signed bytes', () => {
  const body = fixtureBody(QUOTE);

  test('values in the parsed body that are not in the signed content are not passed on', async () => {
    const bundle = deliveryBundle(body, { secret: SECRET }) as Bundle;
    bundle.cleanedRequest = { ...body, reply_email: 'attacker@evil.example', utm_source: 'query-string' };
    const [item] = await run(newTester(), QUOTE, 'perform', bundle as PartialBundle);
    expect(item!.reply_email).toBe(body.reply_email);
    expect(item).not.toHaveProperty('utm_source');
  });

  test('a replay of a signed delivery with altered parsed values gives nothing, under any id', async () => {
    const tester = newTester();
    const captured = deliveryBundle(body, { secret: SECRET }) as Bundle;
    expect(await run(tester, QUOTE, 'perform', captured as PartialBundle)).toHaveLength(1);
    const replay = { ...captured, cleanedRequest: { ...body, event_id: 'evt_fresh', reply_email: 'attacker@evil.example' } };
    expect(await run(tester, QUOTE, 'perform', replay as PartialBundle)).toEqual([]);
  });

  test('a signed body with a field named "headers" is accepted, and the field is only a field', async () => {
    const signed = { ...body, headers: { 'webhook-id': 'x', 'webhook-signature': 'v1,AAAA' } };
    const [item] = await run(newTester(), QUOTE, 'perform', deliveryBundle(signed, { secret: SECRET, webhookId: 'msg_h' }));
    expect(item).toMatchObject({ id: body.event_id, delivery_id: 'msg_h', headers: signed.headers });
  });

  test('an unsigned body\'s "headers" field never sets the item id', async () => {
    const unsigned = { first_name: 'Jack', headers: { 'webhook-id': 'chosen-by-sender' } };
    const [item] = await run(newTester(), QUOTE, 'perform', deliveryBundle(unsigned, { headers: {} }));
    expect(item!.id).not.toBe('chosen-by-sender');
    expect(item!.delivery_id).toBeNull();
  });

  test('an unsigned delivery with no raw request at all is read from the parsed body', async () => {
    const bundle = { ...deliveryBundle({ event_id: 'evt_bare', first_name: 'Jack' }), rawRequest: undefined, subscribeData: undefined };
    const tester = newTester();
    const [item] = await run(tester, QUOTE, 'perform', bundle as PartialBundle);
    expect(item).toMatchObject({ id: 'evt_bare', first_name: 'Jack', delivery_id: null });
    // Without a subscription id, the Zap's hook URL keys de-duplication.
    expect(await run(tester, QUOTE, 'perform', bundle as PartialBundle)).toEqual([]);
  });

  test('Svix-named headers are equivalent to the webhook-* ones', async () => {
    const at = new Date();
    const content = JSON.stringify(body);
    const headers = {
      'Http-Svix-Id': 'msg_svix',
      'Http-Svix-Timestamp': String(Math.floor(at.getTime() / 1000)),
      'Http-Svix-Signature': new Webhook(SECRET).sign('msg_svix', at, content),
    };
    const [item] = await run(newTester(), QUOTE, 'perform', deliveryBundle(body, { secret: SECRET, headers }));
    expect(item!.delivery_id).toBe('msg_svix');
    const forged = { ...headers, 'Http-Svix-Signature': new Webhook('whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD').sign('msg_svix', at, content) };
    expect((await failure(run(newTester(), QUOTE, 'perform', deliveryBundle(body, { secret: SECRET, headers: forged }))))?.name).toBe('HaltedError');
  });

  test('event names compare trimmed and case-insensitively: requestquote:create is no audit', async () => {
    const misspelt = { event: ' requestquote:create ', event_id: 'evt_case', first_name: 'Jack' };
    expect(await run(newTester(), AUDIT, 'perform', deliveryBundle(misspelt, { secret: SECRET }))).toEqual([]);
    const [item] = await run(newTester(), QUOTE, 'perform', deliveryBundle(misspelt, { secret: SECRET }));
    expect(item!.event).toBe('RequestQuote:Create');
  });
});

describe('de-duplication cost and lifetime', () => {
  /** Runs perform with z.cache counted (and, when `nx` is honoured, atomic like Zapier's). */
  const counted = async (bundle: PartialBundle, store = new Map<string, unknown>(), honourNx = true) => {
    const calls = { get: 0, set: 0 };
    const items = (await newTester()(
      async (z: ZObject, b: Bundle) => {
        z.cache.get = async (key: string) => {
          calls.get += 1;
          return store.has(key) ? store.get(key) : null;
        };
        z.cache.set = async (key: string, value: unknown, _ttl?: number, _scope?: string[], nx?: boolean) => {
          calls.set += 1;
          if (honourNx && nx && store.has(key)) return false;
          store.set(key, value);
          return true;
        };
        return hook(QUOTE, 'perform')(z, b);
      },
      bundle,
    )) as ZapItem[];
    return { items, calls, store };
  };

  test('the claim outlives the platform\'s retry horizon plus the signature window', () => {
    expect(DEDUPE_TTL_SECONDS).toBeGreaterThanOrEqual(PRODUCTION_SCHEDULE.horizonMs / 1000 + SIGNATURE_WINDOW.pastSeconds);
  });

  test('a batch of N events costs at most two cache calls per event, a retry one', async () => {
    const batch = Array.from({ length: 40 }, (_, n) => ({ event_id: `evt_${n}`, first_name: 'Jack' }));
    const first = await counted(deliveryBundle(batch, { secret: SECRET, webhookId: 'msg_n' }));
    expect(first.items).toHaveLength(40);
    expect(first.calls.get + first.calls.set).toBeLessThanOrEqual(80);
    const retry = await counted(deliveryBundle(batch, { secret: SECRET, webhookId: 'msg_n' }), first.store);
    expect(retry.items).toEqual([]);
    expect(retry.calls).toEqual({ get: 40, set: 0 });
  });

  test('a batch without event ids shares one claim on its delivery', async () => {
    const batch = Array.from({ length: 50 }, (_, n) => ({ first_name: `P${n}` }));
    const { items, calls } = await counted(deliveryBundle(batch, { secret: SECRET, webhookId: 'msg_p' }));
    expect(items).toHaveLength(50);
    expect(calls).toEqual({ get: 1, set: 1 });
  });

  test('concurrent duplicates under an atomic nx cache give exactly one item', async () => {
    const store = new Map<string, unknown>();
    const body = fixtureBody(QUOTE);
    const runs = await Promise.all(Array.from({ length: 5 }, () => counted(deliveryBundle(body, { secret: SECRET, webhookId: 'msg_c' }), store)));
    expect(runs.flatMap((r) => r.items)).toHaveLength(1);
  });

  test('a cache that does not say whether nx stored is settled by reading our token back', async () => {
    const store = new Map<string, unknown>();
    const body = fixtureBody(QUOTE);
    const readBack = async () =>
      (await newTester()(
        async (z: ZObject, b: Bundle) => {
          z.cache.get = async (key: string) => (store.has(key) ? store.get(key) : null);
          z.cache.set = async (key: string, value: unknown) => {
            if (!store.has(key)) store.set(key, value);
            return null;
          };
          return hook(QUOTE, 'perform')(z, b);
        },
        deliveryBundle(body, { secret: SECRET, webhookId: 'msg_r' }),
      )) as ZapItem[];
    expect(await readBack()).toHaveLength(1);
    expect(await readBack()).toEqual([]);
  });
});

describe('fail early: subscribe, unsubscribe and redirects', () => {
  test.each(['whsec_', 'whsec_!!!!', 'not-a-whsec-secret', 12345])('a secret that can never verify (%p) keeps the Zap off and removes the subscription', async (secret) => {
    expectMe();
    nock(API).post('/notifications').reply(201, { id: 'ntf_bad', secret });
    nock(API).delete('/notifications/ntf_bad').reply(204);
    const error = await failure(run(newTester(), QUOTE, 'performSubscribe', { targetUrl: TARGET_URL }));
    expect(error?.message).toMatch(/cannot be used, so this Zap was not turned on/);
    expect(error?.message).not.toContain(String(secret).slice(6) || 'whsec_');
  });

  test('no secret at all (a platform that does not sign) is accepted, and null counts as none', async () => {
    expectMe();
    nock(API).post('/notifications').reply(201, { id: 'ntf_1', secret: null });
    expect(await run(newTester(), QUOTE, 'performSubscribe', { targetUrl: TARGET_URL })).toEqual({ id: 'ntf_1', time_zone: 'Australia/Melbourne' });
  });

  test('a numeric subscription id, or one under data, is stored as a string', async () => {
    expectMe();
    nock(API).post('/notifications').reply(201, { id: 42, secret: SECRET });
    expect(await run(newTester(), QUOTE, 'performSubscribe', { targetUrl: TARGET_URL })).toMatchObject({ id: '42', secret: SECRET });
    expectMe();
    nock(API).post('/notifications').reply(201, { data: { id: 'ntf_d', secret: SECRET } });
    expect(await run(newTester(), QUOTE, 'performSubscribe', { targetUrl: TARGET_URL })).toMatchObject({ id: 'ntf_d', secret: SECRET });
  });

  test.each(['.', '..', ' ', ''])('a subscribe answer with id %p is an error: that Zap could never be turned off', async (id) => {
    expectMe();
    nock(API).post('/notifications').reply(201, { id, secret: SECRET });
    await expect(run(newTester(), QUOTE, 'performSubscribe', { targetUrl: TARGET_URL })).rejects.toThrow(/Ecologic sent an answer the app could not read while turning on this Zap/);
  });

  test.each(['.', '..', '', '  ', null, { id: 1 }])('unsubscribing a stored id of %p sends nothing', async (id) => {
    // useNock fails the test on any request: none is set up.
    expect(await run(newTester(), QUOTE, 'performUnsubscribe', { subscribeData: { id } as never })).toEqual({ removed: false, reason: 'no usable subscription id' });
  });

  test('an unsubscribe id is one URL-encoded path segment', async () => {
    nock(API).delete('/notifications/ntf%2F..%2Fme%3Fx%3D1').reply(204);
    expect(await run(newTester(), QUOTE, 'performUnsubscribe', { subscribeData: { id: 'ntf/../me?x=1' } })).toEqual({ removed: true, alreadyGone: false });
    nock(API).delete('/notifications/7').reply(204);
    expect(await run(newTester(), QUOTE, 'performUnsubscribe', { subscribeData: { id: 7 } as never })).toEqual({ removed: true, alreadyGone: false });
  });

  test.each([301, 302, 307, 308])('a %i is an error saying so in plain words, never followed', async (status) => {
    // Following would need an interceptor for the other host; none exists, and the net is closed.
    expectMe();
    nock(API).post('/notifications').reply(status, '', { Location: 'https://elsewhere.example/collect' });
    const error = await failure(run(newTester(), QUOTE, 'performSubscribe', { targetUrl: TARGET_URL }));
    expect(error?.message).toMatch(/Ecologic sent the request to another address while turning on this Zap\. To keep your API key safe, the app does not follow it/);
  });

  test('a redirect to the same host on another port, which would carry the API key, is not followed either', async () => {
    nock(API).get('/me').reply(307, '', { Location: 'https://api.getecologic.com:8443/v1/me' });
    const error = await failure(newTester()(app.authentication!.test as never, { authData: { api_key: API_KEY } }));
    expect(error?.message).toMatch(/Ecologic sent the request to another address while checking your Ecologic connection/);
  });
});

describe('a tolerant reader', () => {
  const body = fixtureBody(QUOTE);

  test.each([
    ['a bare array', [body]],
    ['under data', { data: [body] }],
    ['under items', { items: [body] }],
    ['under results', { results: [body] }],
  ])('samples as %s', async (_what, reply) => {
    expectMe();
    nock(API).get('/notifications/samples').query(true).reply(200, reply as object);
    expect(await run(newTester(), QUOTE, 'performList')).toHaveLength(1);
  });

  test('performList cuts to the limit and never reads beyond it', async () => {
    const many = Array.from({ length: 30 }, (_, n) => ({ ...body, event_id: `evt_${n}` }));
    many[5] = 'not an object' as never;
    expectMe();
    nock(API).get('/notifications/samples').query({ event: 'RequestQuote:Create', limit: '3' }).reply(200, many);
    const items = await run(newTester(), QUOTE, 'performList', { meta: { isLoadingSample: true } });
    expect(items.map((item) => item.id)).toEqual(['evt_0', 'evt_1', 'evt_2']);
  });

  test('dropdown lists as bare arrays, with numeric ids and names left out', async () => {
    nock(API).get('/actions').reply(200, [{ code: 'solar_pv', name: 'Solar PV' }, { code: 7 }]);
    expect(await run(newTester(), 'list_actions', 'perform')).toEqual([
      { id: 'solar_pv', name: 'Solar PV' },
      { id: '7', name: '7' },
    ]);
    nock(API).get('/labels').query({ type: 'audit' }).reply(200, { results: [{ id: 12, name: 'Report sent' }, { id: 'lbl_x' }] });
    expect(await run(newTester(), 'list_audit_labels', 'perform')).toEqual([
      { id: '12', name: 'Report sent' },
      { id: 'lbl_x', name: 'lbl_x' },
    ]);
  });
});
