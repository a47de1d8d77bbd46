import nock from 'nock';
import { accountOf, authentication } from '../src/zapier/authentication';
import { apiBaseUrl } from '../src/zapier/base-url';
import { API, API_KEY, app, newTester, useNock } from './helpers';

useNock();

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
      connection_label: 'Sunrise Solar Pty Ltd',
    });
  });

  test('a rejected key asks the partner to reconnect', async () => {
    nock(API).get('/me').reply(401, { error: { code: 'invalid_api_key' } });
    await expect(testAuth()).rejects.toMatchObject({
      name: 'ExpiredAuthError',
      message: expect.stringMatching(/Ecologic did not accept your API key while checking your Ecologic connection\..*reconnect your Ecologic account/),
    });
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
    expect(labelFor({ api_key: API_KEY })).toBeNull();
    nock(API).get('/me').reply(200, { organisation_id: 'org_1', email: 'it@sunrise.example' });
    await expect(testAuth()).resolves.toMatchObject({ connection_label: 'it@sunrise.example' });
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
