import nock from 'nock';
import { accountOf, authentication } from '../src/zapier/authentication';
import { apiBaseUrl } from '../src/zapier/base-url';
import { ECOLOGIC_LINKS } from '../src/core/links';
import { ACTIVITIES, PARTNER_MESSAGES } from '../src/zapier/messages';
import { API, API_KEY, app, newTester, useNock } from './helpers';
import { shownMessage } from './support/partner-text';

useNock({ everyRequestMocked: true });

const testAuth = (authData: Record<string, string> = { api_key: API_KEY }) =>
  newTester()(app.authentication!.test as Parameters<ReturnType<typeof newTester>>[0], { authData });

describe('connection', () => {
  test('one required password field for the API key, explained for a partner', () => {
    expect(authentication.type).toBe('custom');
    expect(authentication.fields).toEqual([
      expect.objectContaining({ key: 'api_key', type: 'password', required: true, label: 'API Key' }),
    ]);
    expect(authentication.fields[0]!.helpText).toMatch(/Settings → Partner API/);
  });

  test('the test call is GET /me with the key as a Bearer token', async () => {
    nock(API)
      .matchHeader('authorization', `Bearer ${API_KEY}`)
      .get('/me')
      .reply(200, { organisation_id: 'org_7Qm2Lx', organisation_name: 'Sunrise Solar Pty Ltd', email: 'it@sunrise.example' });
    expect(await testAuth()).toEqual({
      organisation_id: 'org_7Qm2Lx',
      organisation_name: 'Sunrise Solar Pty Ltd',
      email: 'it@sunrise.example',
      time_zone: null,
      connection_label: 'Sunrise Solar Pty Ltd',
    });
  });

  test('a key rejected while connecting: it may have been pasted incompletely, so copy the whole key; else make a new one', async () => {
    nock(API).get('/me').reply(401, { error: { code: 'invalid_api_key' } });
    const error = await testAuth().catch((e: unknown) => e as Error);
    expect(error).toMatchObject({ name: 'ExpiredAuthError' });
    expect(shownMessage(error)).toBe(
      'Ecologic did not accept your API key while checking your Ecologic connection. The key may have been pasted incompletely: copy the whole key from Ecologic (it starts with "eco_" and has no spaces), paste it and try again. If it is still not accepted, the key may have been deleted or replaced: create a new key in Ecologic (Settings → Partner API: ' +
        `${ECOLOGIC_LINKS.apiKeys}) and use that one.`,
    );
  });

  test('a key rejected later (turning a Zap on) still asks the partner to reconnect, without the pasting advice', () => {
    const text = PARTNER_MESSAGES.keyRejected.text(ACTIVITIES.turningOn);
    expect(text).toMatch(/^Ecologic did not accept your API key while turning on this Zap\. The key may have been deleted, replaced or mistyped\..*reconnect your Ecologic account in Zapier\.$/);
    expect(text).not.toMatch(/pasted|eco_/);
  });

  test('the organisation time zone is read from /me, in any of its accepted places', async () => {
    nock(API).get('/me').reply(200, { organisation_name: 'Sunrise Solar Pty Ltd', time_zone: 'Australia/Melbourne' });
    await expect(testAuth()).resolves.toMatchObject({ time_zone: 'Australia/Melbourne' });
    expect(accountOf({ timezone: 'Australia/Perth' }).time_zone).toBe('Australia/Perth');
    expect(accountOf({ data: { organisation: { time_zone: 'Australia/Darwin' } } }).time_zone).toBe('Australia/Darwin');
    expect(accountOf({ organization: { timezone: 'Australia/Hobart' } }).time_zone).toBe('Australia/Hobart');
    expect(accountOf({ time_zone: 'Melbourne' }).time_zone).toBeNull();
    expect(accountOf({ time_zone: '+10:00' }).time_zone).toBeNull();
    expect(accountOf({}).time_zone).toBeNull();
  });

  test.each([
    ['an organisation id only', { organisation_name: 'Sunrise Solar Pty Ltd' }, 'Sunrise Solar Pty Ltd'],
    ['American spelling', { organization_id: 7, organization_name: 'Sunrise Solar' }, 'Sunrise Solar'],
    ['a nested organisation', { organisation: { id: 'org_1', name: 'Nested Solar' }, email: 'it@sunrise.example' }, 'Nested Solar'],
    ['under data', { data: { id: 'usr_1', name: 'Priya Sharma' } }, 'Priya Sharma'],
    ['a name, no organisation', { name: 'Priya Sharma', email: 'priya@sunrise.example' }, 'Priya Sharma'],
    ['an email only', { email: 'it@sunrise.example' }, 'it@sunrise.example'],
    ['a numeric id only', { id: 42 }, '42'],
  ])('GET /me is read from any JSON object: %s', async (_what, me, label) => {
    nock(API).get('/me').reply(200, me);
    await expect(testAuth()).resolves.toMatchObject({ connection_label: label });
  });

  test('a /me that is not a JSON object is an unexpected response', async () => {
    nock(API).get('/me').reply(200, ['org_1']);
    await expect(testAuth()).rejects.toThrow(/Ecologic sent an answer the app could not read while checking your Ecologic connection/);
  });

  test('the connection label is the organisation name, else a name, else the email, else the id; never the key', async () => {
    expect(authentication.connectionLabel).toBe('{{bundle.inputData.connection_label}}');
    const labelFor = (me: Record<string, unknown>) => accountOf(me).connection_label;
    expect(labelFor({ organisation_id: 'org_1', organisation_name: ' Sunrise Solar Pty Ltd ', email: 'it@sunrise.example' })).toBe(
      'Sunrise Solar Pty Ltd',
    );
    expect(labelFor({ organisation_id: 'org_1', organisation_name: '', email: 'it@sunrise.example' })).toBe('it@sunrise.example');
    expect(labelFor({ organisation_id: 'org_1', organisation_name: null, email: null })).toBe('org_1');
    nock(API).get('/me').reply(200, { organisation_id: 'org_1', email: 'it@sunrise.example' });
    await expect(testAuth()).resolves.toMatchObject({ connection_label: 'it@sunrise.example' });
  });

  describe('a /me that names nobody still gives a label: the kind of key and the day it was connected', () => {
    const connectedAt = new Date('2026-12-04T22:30:00Z'); // 5 Dec in Sydney, 4 Dec in UTC
    const LIVE_KEY = 'eco_live_9f8e7d6c5b4a3921';
    test.each([
      ['{}', {}],
      ['{data: {}}', { data: {} }],
      ['blanks', { organisation_name: ' ', name: '', email: null, organisation_id: '  ', id: '' }],
      ['an api_key echoed back', { api_key: LIVE_KEY }],
      ['an empty organisation', { organisation: {}, data: { organization: { name: '' } } }],
    ])('%s', (_what, me) => {
      const label = accountOf(me, { apiKey: LIVE_KEY, connectedAt }).connection_label;
      expect(label).toBe('Live key, connected 5 Dec 2026');
      expect(label).not.toContain(LIVE_KEY.slice('eco_live_'.length, 'eco_live_'.length + 3));
    });
    test.each([
      ['eco_live_9f8e7d6c5b4a3921', 'Live key, connected 5 Dec 2026'],
      ['  eco_test_8d1f2a9c4b7e6d5f ', 'Test key, connected 5 Dec 2026'],
      ['eco_9f8e7d6c5b4a3921', 'API key, connected 5 Dec 2026'],
      ['ECO_LIVE_abc', 'API key, connected 5 Dec 2026'],
      ['', 'API key, connected 5 Dec 2026'],
      [undefined, 'API key, connected 5 Dec 2026'],
    ])('key %p reads %p: no character after the prefix, and not the app name', (apiKey, expected) => {
      const label = accountOf({}, { apiKey, connectedAt }).connection_label;
      expect(label).toBe(expected);
      expect(label).not.toMatch(/Ecologic/);
    });
    test("the day is the organisation's when /me gives its zone", () => {
      expect(accountOf({ time_zone: 'UTC' }, { apiKey: LIVE_KEY, connectedAt }).connection_label).toBe('Live key, connected 4 Dec 2026');
      expect(accountOf({ time_zone: 'Australia/Perth' }, { apiKey: LIVE_KEY, connectedAt: new Date('2026-09-05T01:00:00Z') }).connection_label).toBe(
        'Live key, connected 5 Sep 2026',
      );
    });
    test('through the connection test, with the key the partner typed', async () => {
      nock(API).get('/me').reply(200, {});
      const account = (await testAuth({ api_key: API_KEY })) as { connection_label: string };
      expect(account.connection_label).toMatch(/^Test key, connected \d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4}$/);
      expect(JSON.stringify(account)).not.toContain(API_KEY.slice('eco_test_'.length));
    });
  });
});

describe('base URL', () => {
  const original = process.env.ECOLOGIC_API_BASE_URL;
  afterEach(() => {
    if (original === undefined) delete process.env.ECOLOGIC_API_BASE_URL;
    else process.env.ECOLOGIC_API_BASE_URL = original;
  });

  test('defaults to production', () => {
    expect(apiBaseUrl(undefined)).toBe('https://api.getecologic.com/v1');
  });
  test.each([
    ['https://staging.getecologic.com/v1/', 'https://staging.getecologic.com/v1'],
    ['http://127.0.0.1:4010/v1', 'http://127.0.0.1:4010/v1'],
    ['http://localhost:4010/v1', 'http://localhost:4010/v1'],
    ['http://[::1]:4010/v1', 'http://[::1]:4010/v1'],
  ])('accepts %s', (configured, expected) => {
    expect(apiBaseUrl(configured)).toBe(expected);
  });
  test.each(['http://api.getecologic.com/v1', 'http://10.0.0.5/v1', 'ftp://127.0.0.1/v1', 'not a url', 'https://user:pw@x.example/v1'])(
    'refuses %s',
    (configured) => {
      expect(() => apiBaseUrl(configured)).toThrow(/ECOLOGIC_API_BASE_URL/);
    },
  );

  test('ECOLOGIC_API_BASE_URL redirects every call, e.g. to a sandbox', async () => {
    process.env.ECOLOGIC_API_BASE_URL = 'http://127.0.0.1:4010/v1';
    nock('http://127.0.0.1:4010').get('/v1/me').reply(200, { organisation_id: 'org_1', organisation_name: 'Sandbox Org' });
    await expect(testAuth()).resolves.toMatchObject({ organisation_name: 'Sandbox Org', email: null });
  });

  test('a refused base URL fails the call without sending the key anywhere', async () => {
    process.env.ECOLOGIC_API_BASE_URL = 'http://api.getecologic.com/v1';
    await expect(testAuth()).rejects.toThrow(/must use https/);
  });
});
