// The organisation's time zone: read from GET /me when a Zap is turned on (kept in the Zap's
// subscription) and for "Test trigger", best effort, and handed to the mapping of every item, where
// a customer with no state gets their local time in it.
import nock from 'nock';
import * as normalise from '../src/core/normalise';
import { requestSettings } from '../src/zapier/api';
import { timeZoneSettings } from '../src/zapier/authentication';
import { validTimeZone } from '../src/core/derive/local-time';
import { shownMessage } from './support/partner-text';
import { API, deliveryBundle, expectMe, fixtureBody, newTester, ORGANISATION_TIME_ZONE, run, SECRET, TARGET_URL, useNock } from './helpers';

useNock({ everyRequestMocked: true });

/** Every line the developers' log got while `fn` ran. */
const logOf = async <T>(fn: () => Promise<T>): Promise<{ result: T; log: string[] }> => {
  const log: string[] = [];
  const spies = (['log', 'warn', 'error'] as const).map((level) =>
    jest.spyOn(console, level).mockImplementation((...args: unknown[]) => void log.push(args.map(String).join(' ').trim())),
  );
  try {
    return { result: await fn(), log };
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
};

const MISSED = "could not read the organisation's time zone";
const QUOTE = 'quote_request_created';
const LABEL = 'quote_request_label_applied';
const subscribe = (key = QUOTE) => run<Record<string, unknown>>(newTester(), key, 'performSubscribe', { targetUrl: TARGET_URL });

afterEach(() => jest.restoreAllMocks());

describe('turning a Zap on keeps the organisation time zone with the subscription', () => {
  test.each([
    ['time_zone', { time_zone: 'Australia/Perth' }, 'Australia/Perth'],
    ['timezone', { timezone: 'Australia/Brisbane' }, 'Australia/Brisbane'],
    ['under data, in the organisation', { data: { organisation: { time_zone: 'Australia/Adelaide' } } }, 'Australia/Adelaide'],
    ['American spelling', { organization: { timezone: 'Australia/Darwin' } }, 'Australia/Darwin'],
    ['any case and spaces, written canonically', { time_zone: ' australia/hobart ' }, 'Australia/Hobart'],
    ['a bad zone before a good one', { time_zone: 'Mars/Olympus', timezone: 'Australia/Sydney' }, 'Australia/Sydney'],
  ])('%s', async (_what, me, zone) => {
    expectMe(me);
    nock(API).post('/notifications').reply(201, { id: 'ntf_1', secret: SECRET });
    const { result, log } = await logOf(() => subscribe());
    expect(result).toEqual({ id: 'ntf_1', secret: SECRET, time_zone: zone });
    expect(log).toEqual([]);
  });

  test.each([
    ['no zone', {}],
    ['a zone this runtime does not know', { time_zone: 'Australia/Gondwana' }],
    ['an offset, not a zone', { time_zone: '+10:00' }],
    ['not text', { time_zone: 10 }],
  ])('%s: the Zap turns on without one, and nothing is logged', async (_what, me) => {
    expectMe(me);
    nock(API).post('/notifications').reply(201, { id: 'ntf_1', secret: SECRET });
    const { result, log } = await logOf(() => subscribe());
    expect(result).toEqual({ id: 'ntf_1', secret: SECRET });
    expect(log).toEqual([]);
  });

  test.each([
    ['a rejected key', () => expectMe(401)],
    ['a problem on Ecologic side', () => nock(API).get('/me').reply(503, { error: { code: 'down', message: 'Sunrise Solar Pty Ltd org_7Qm2Lx' } })],
    ['an answer that is not an object', () => nock(API).get('/me').reply(200, ['Australia/Melbourne'])],
    ['a redirect', () => nock(API).get('/me').reply(302, '', { Location: 'https://elsewhere.example/me' })],
    ['no connection', () => nock(API).get('/me').replyWithError('reset by integrations@sunrisesolar.com.au')],
  ])('after %s the Zap still turns on; the log says only what was missed', async (_what, me) => {
    me();
    nock(API).post('/notifications').reply(201, { id: 'ntf_1', secret: SECRET });
    const { result, log } = await logOf(() => subscribe());
    expect(result).toEqual({ id: 'ntf_1', secret: SECRET });
    expect(log).toEqual([MISSED]);
  });

  test('a slow answer is given up after the short time-zone timeout, not the usual one', async () => {
    const [short, usual] = [timeZoneSettings.timeoutMs, requestSettings.timeoutMs];
    timeZoneSettings.timeoutMs = 100;
    try {
      nock(API).get('/me').delay(3_000).reply(200, { time_zone: ORGANISATION_TIME_ZONE });
      nock(API).post('/notifications').reply(201, { id: 'ntf_1' });
      const started = Date.now();
      const { result, log } = await logOf(() => subscribe());
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(result).toEqual({ id: 'ntf_1' });
      expect(log).toEqual([MISSED]);
    } finally {
      timeZoneSettings.timeoutMs = short;
      requestSettings.timeoutMs = usual;
    }
  });

  test('the time-zone timeout is short: never more than 5 seconds', () => {
    expect(timeZoneSettings.timeoutMs).toBeLessThanOrEqual(5_000);
  });

  test('when the subscription fails, the partner sees that failure, not anything about the time zone', async () => {
    expectMe();
    nock(API).post('/notifications').reply(401);
    await expect(subscribe()).rejects.toThrow(/^Ecologic did not accept your API key while turning on this Zap/);
  });

  test('an unusable secret still keeps the Zap off, with the time zone read', async () => {
    expectMe();
    nock(API).post('/notifications').reply(201, { id: 'ntf_bad', secret: 'not-a-secret' });
    nock(API).delete('/notifications/ntf_bad').reply(204);
    await expect(logOf(() => subscribe())).rejects.toThrow(/security code that cannot be used, so this Zap was not turned on/);
  });
});

describe('each delivery is mapped in the time zone kept with the subscription', () => {
  const label = fixtureBody(LABEL); // a quote request label: no state in it

  test('the mapping gets the zone; a customer with no state gets their local time in it', async () => {
    const spy = jest.spyOn(normalise, 'normaliseDelivery');
    const [item] = await run(newTester(), LABEL, 'perform', deliveryBundle(label, { secret: SECRET, timeZone: 'Australia/Perth' }));
    expect(spy).toHaveBeenCalledWith(expect.anything(), expect.anything(), expect.objectContaining({ timeZone: 'Australia/Perth' }), expect.anything());
    expect(item).toMatchObject({ time_zone: 'Australia/Perth', occurred_at_local: expect.stringMatching(/\+08:00$/) });
  });

  test.each([
    ['a Zap turned on before the zone was kept', undefined],
    ['a stored zone that is not one', 'Not/AZone'],
  ])('%s: no zone, and no local time for a customer without a state', async (_what, zone) => {
    const spy = jest.spyOn(normalise, 'normaliseDelivery');
    const bundle = deliveryBundle(label, { secret: SECRET, ...(zone ? { timeZone: zone } : {}) });
    const [item] = await run(newTester(), LABEL, 'perform', bundle);
    expect(spy).toHaveBeenCalledWith(expect.anything(), expect.anything(), expect.objectContaining({ timeZone: null }), expect.anything());
    expect(item).toMatchObject({ time_zone: null, occurred_at_local: null });
  });

  test('a customer with a state keeps the zone of that state, whatever the organisation says', async () => {
    const quote = fixtureBody(QUOTE); // state: Victoria
    const [item] = await run(newTester(), QUOTE, 'perform', deliveryBundle(quote, { secret: SECRET, timeZone: 'Australia/Perth' }));
    expect(item).toMatchObject({ time_zone: 'Australia/Melbourne' });
  });
});

describe('"Test trigger" maps samples in the organisation time zone', () => {
  const label = fixtureBody(LABEL);
  const list = () => run(newTester(), LABEL, 'performList', { meta: { isLoadingSample: true } });

  test('read alongside the samples and handed to the mapping', async () => {
    const spy = jest.spyOn(normalise, 'normaliseDelivery');
    expectMe({ time_zone: 'Australia/Brisbane' });
    nock(API).get('/notifications/samples').query({ event: 'RequestQuote:Label:Apply', limit: '3' }).reply(200, { data: [label] });
    const [item] = await list();
    expect(spy).toHaveBeenCalledWith(expect.anything(), expect.anything(), expect.objectContaining({ timeZone: 'Australia/Brisbane' }), expect.anything());
    expect(item).toMatchObject({ time_zone: 'Australia/Brisbane', occurred_at_local: expect.stringMatching(/\+10:00$/) });
  });

  test('without it the samples still load, and the log says only what was missed', async () => {
    expectMe(500);
    nock(API).get('/notifications/samples').query(true).reply(200, { data: [label] });
    const { result, log } = await logOf(list);
    expect(result).toHaveLength(1);
    expect(result[0]).toMatchObject({ time_zone: null });
    expect(log).toEqual([MISSED]);
  });

  test('a samples failure is shown as before', async () => {
    expectMe();
    nock(API).get('/notifications/samples').query(true).reply(503);
    const shown = await list().then(() => 'no failure', shownMessage);
    expect(shown).toMatch(/^Ecologic had a problem on its side while loading recent quote requests to test this trigger/);
  });
});

test.each([
  ['Australia/Melbourne', 'Australia/Melbourne'],
  ['UTC', 'UTC'],
  ['australia/sydney', 'Australia/Sydney'],
  ['Australia/Melbourne ', 'Australia/Melbourne'],
  ['', null],
  ['+10:00', null],
  ['AEST+10', null],
  ['Australia/../etc', null],
  ['Nowhere/Special', null],
  [null, null],
  [{ zone: 'UTC' }, null],
])('an IANA zone: %p is %p', (value, zone) => {
  expect(validTimeZone(value)).toBe(zone);
});
