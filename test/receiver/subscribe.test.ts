/**
 * `npm run subscribe`: the same `POST /notifications` the Zapier app makes (contract 2.4), one per
 * event, and plain words for every answer the platform may give. HTTP goes through nock.
 */
import nock from 'nock';
import { PLATFORM_EVENTS } from '../../src/core/events';
import { main, report, subscribe, SubscribeError } from '../../src/receiver/subscribe';

const API = 'https://api.getecologic.com/v1';
const RECEIVER = 'https://abcdefghij.lambda-url.ap-southeast-2.on.aws/';
const KEY = 'eco_live_7c1e9a';
const ORIGIN = 'https://api.getecologic.com';

afterEach(() => nock.cleanAll());

describe('subscribe', () => {
  it('posts one webhook subscription per event with the key as a bearer token, and keeps each id and secret', async () => {
    const bodies: unknown[] = [];
    const scope = nock(ORIGIN, { reqheaders: { authorization: `Bearer ${KEY}` } })
      .post('/v1/notifications', (body: unknown) => {
        bodies.push(body);
        return true;
      })
      .times(2)
      // nock 15 hands a reply function a Fetch Request; the body matcher above already kept the body.
      .reply(201, () => {
        const event = (bodies.at(-1) as { event: string }).event;
        return { id: `ntf_${event.length}`, type: 'webhook', event, uri: RECEIVER, filters: {}, created_at: '2026-11-28T01:00:00Z', secret: `whsec_${Buffer.from(event).toString('base64')}` };
      });
    const subscriptions = await subscribe({ apiBaseUrl: API, apiKey: KEY, receiverUrl: RECEIVER, events: ['RequestQuote:Create', 'Audit:Create'], actions: ['solar_pv', 'battery'] });
    scope.done();
    expect(bodies).toEqual([
      { type: 'webhook', event: 'RequestQuote:Create', uri: RECEIVER, filters: { action: ['solar_pv', 'battery'] } },
      { type: 'webhook', event: 'Audit:Create', uri: RECEIVER, filters: {} },
    ]);
    expect(subscriptions.map((s) => [s.event, s.id, s.existing])).toEqual([
      ['RequestQuote:Create', 'ntf_19', false],
      ['Audit:Create', 'ntf_12', false],
    ]);
    expect(subscriptions[0]!.secret).toBe(`whsec_${Buffer.from('RequestQuote:Create').toString('base64')}`);
  });

  it('reads a subscription under `data`, a numeric id, and a 200 for one that already existed', async () => {
    nock(ORIGIN).post('/v1/notifications').reply(200, { data: { id: 42, event: 'Audit:Assign', secret: null } });
    const [subscription] = await subscribe({ apiBaseUrl: API, apiKey: KEY, receiverUrl: RECEIVER, events: ['Audit:Assign'] });
    expect(subscription).toEqual({ event: 'Audit:Assign', id: '42', secret: null, existing: true });
  });

  it.each([
    [401, { error: { code: 'unauthorized', message: 'Invalid API key' } }, /refused the API key.*settings\/partner-api.*Invalid API key/],
    [403, {}, /administrator/],
    [422, { error: { code: 'invalid_uri', message: 'uri must be https' } }, /did not accept the subscription to Audit:Create.*uri must be https/],
    [429, {}, /wait a minute/],
    [503, {}, /answered 503.*try again in a few minutes/],
  ])('answers %i in plain words, with what the platform said', async (status, body, message) => {
    nock(ORIGIN).post('/v1/notifications').reply(status, body);
    await expect(subscribe({ apiBaseUrl: API, apiKey: KEY, receiverUrl: RECEIVER, events: ['Audit:Create'] })).rejects.toThrow(message);
  });

  it('never sends the key over plain http to anything but a loopback sandbox, nor subscribes an http receiver', async () => {
    await expect(subscribe({ apiBaseUrl: 'http://api.getecologic.com/v1', apiKey: KEY, receiverUrl: RECEIVER, events: ['Audit:Create'] })).rejects.toThrow(SubscribeError);
    await expect(subscribe({ apiBaseUrl: API, apiKey: KEY, receiverUrl: 'http://receiver.example.com/', events: ['Audit:Create'] })).rejects.toThrow(/must use https/);
  });

  it('refuses an answer without a usable id (that subscription could never be removed)', async () => {
    nock(ORIGIN).post('/v1/notifications').reply(201, { event: 'Audit:Create', secret: 'whsec_abc' });
    await expect(subscribe({ apiBaseUrl: API, apiKey: KEY, receiverUrl: RECEIVER, events: ['Audit:Create'] })).rejects.toThrow(/has no id/);
  });
});

describe('the report', () => {
  it('says where each kind of receiver reads the secrets, all of them in one space-separated value', () => {
    const text = report(
      [
        { event: 'RequestQuote:Create', id: 'ntf_1', secret: 'whsec_AAA', existing: false },
        { event: 'Audit:Create', id: 'ntf_2', secret: 'whsec_BBB', existing: true },
      ],
      RECEIVER,
    );
    expect(text).toContain("ECOLOGIC_WEBHOOK_SECRETS='whsec_AAA whsec_BBB' npm run receiver");
    expect(text).toContain("aws secretsmanager put-secret-value --secret-id <SecretArn> --secret-string 'whsec_AAA whsec_BBB'");
    expect(text).toMatch(/ntf_2 \(already subscribed\)/);
  });

  it('says plainly when the platform returned no secret', () => {
    expect(report([{ event: 'Audit:Create', id: 'ntf_1', secret: null, existing: false }], RECEIVER)).toMatch(/no signing secret.*refuses unsigned/s);
  });
});

describe('the command', () => {
  const capture = () => {
    const out: string[] = [];
    const err: string[] = [];
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => (out.push(String(chunk)), true));
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => (err.push(String(chunk)), true));
    return { out, err };
  };
  afterEach(() => jest.restoreAllMocks());

  it('subscribes to all six events by default and prints the report', async () => {
    const events: string[] = [];
    nock(ORIGIN)
      .post('/v1/notifications', (body: { event: string }) => events.push(body.event) > 0)
      .times(6)
      .reply(201, () => ({ id: `ntf_${events.length}`, secret: 'whsec_AAA' }));
    const { out } = capture();
    expect(await main(['--url', RECEIVER], { ECOLOGIC_API_KEY: KEY })).toBe(0);
    expect(events).toEqual([...PLATFORM_EVENTS]);
    for (const event of PLATFORM_EVENTS) expect(out.join('')).toContain(event);
  });

  it('exits 2 with usage for an unknown event or a missing key, before any request', async () => {
    const { err } = capture();
    expect(await main(['--url', RECEIVER, '--event', 'Audit:Delete'], { ECOLOGIC_API_KEY: KEY })).toBe(2);
    expect(await main(['--url', RECEIVER], {})).toBe(2);
    expect(err.join('')).toMatch(/not one of the six events[\s\S]*ECOLOGIC_API_KEY is not set/);
  });
});
