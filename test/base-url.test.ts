/**
 * `apiBaseUrl` (src/zapier/base-url.ts): the cases test/auth.test.ts ('base URL') does not already
 * cover. There: the production default, staging over https with one trailing slash, http on
 * 127.0.0.1 / localhost / [::1], refusal of http off loopback, ftp, garbage and user:password.
 * Here: queries, fragments, either half of the credentials, look-alike loopback hosts, repeated
 * trailing slashes, blank values, the environment variable as the default, and what the error says.
 */
import { apiBaseUrl, DEFAULT_API_BASE_URL } from '../src/zapier/base-url';

const refusal = (configured: string): Error => {
  try {
    apiBaseUrl(configured);
  } catch (error) {
    return error as Error;
  }
  throw new Error('the base URL was accepted');
};

describe('accepted', () => {
  test.each([
    ['https://api.example.com', 'https://api.example.com'],
    ['https://api.example.com/', 'https://api.example.com'],
    ['https://staging.getecologic.com:8443/v1', 'https://staging.getecologic.com:8443/v1'],
    ['https://staging.getecologic.com/v1//', 'https://staging.getecologic.com/v1'],
    ['  https://staging.getecologic.com/v1/  ', 'https://staging.getecologic.com/v1'],
    ['https://127.0.0.1:8443/v1/', 'https://127.0.0.1:8443/v1'],
    ['http://127.0.0.5:4010/v1/', 'http://127.0.0.5:4010/v1'],
    ['http://LOCALHOST:4010/v1', 'http://localhost:4010/v1'],
  ])('%p as %p', (configured, expected) => {
    expect(apiBaseUrl(configured)).toBe(expected);
  });

  test('a blank value means production', () => {
    expect(apiBaseUrl('')).toBe(DEFAULT_API_BASE_URL);
    expect(apiBaseUrl('   ')).toBe(DEFAULT_API_BASE_URL);
  });

  describe('from ECOLOGIC_API_BASE_URL when no value is passed', () => {
    const original = process.env.ECOLOGIC_API_BASE_URL;
    afterEach(() => {
      if (original === undefined) delete process.env.ECOLOGIC_API_BASE_URL;
      else process.env.ECOLOGIC_API_BASE_URL = original;
    });

    test('set', () => {
      process.env.ECOLOGIC_API_BASE_URL = 'https://staging.getecologic.com/v1/';
      expect(apiBaseUrl()).toBe('https://staging.getecologic.com/v1');
    });
    test('unset', () => {
      delete process.env.ECOLOGIC_API_BASE_URL;
      expect(apiBaseUrl()).toBe(DEFAULT_API_BASE_URL);
    });
    test('refused', () => {
      process.env.ECOLOGIC_API_BASE_URL = 'https://staging.getecologic.com/v1?x=1';
      expect(() => apiBaseUrl()).toThrow(/query/);
    });
  });
});

describe('refused', () => {
  test.each([
    ['a query', 'https://staging.getecologic.com/v1?api_key=abc'],
    ['a query on loopback', 'http://127.0.0.1:4010/v1?debug=1'],
    ['a query after a trailing slash', 'https://staging.getecologic.com/v1/?x=1'],
    ['a fragment', 'https://staging.getecologic.com/v1#section'],
    ['an empty query, which URL drops but would be kept in every request URL', 'https://staging.getecologic.com/v1?'],
    ['an empty fragment', 'https://staging.getecologic.com/v1#'],
    ['a fragment on loopback', 'http://localhost:4010/v1#x'],
    ['a user name alone', 'https://integration@staging.getecologic.com/v1'],
    ['a password alone', 'https://:hunter22x@staging.getecologic.com/v1'],
    ['credentials on loopback', 'http://admin:hunter22x@127.0.0.1:4010/v1'],
  ])('%s', (_what, configured) => {
    expect(refusal(configured).message).toMatch(/must not contain credentials, a query or a fragment/);
  });

  test.each([
    ['a host that only starts like loopback', 'http://127.0.0.1.nip.io/v1'],
    ['a subdomain named localhost', 'http://localhost.attacker.example/v1'],
    ['the unspecified address', 'http://0.0.0.0:4010/v1'],
    ['a private address', 'http://192.168.1.10/v1'],
    ['plain ws', 'ws://127.0.0.1:4010/v1'],
  ])('plain http (or not http) off loopback: %s', (_what, configured) => {
    expect(refusal(configured).message).toMatch(/must use https:\/\//);
  });

  test('the error is the app\'s own, safe to show, and does not echo the value (it may hold a secret)', () => {
    for (const configured of [
      'https://admin:hunter22x@staging.getecologic.com/v1',
      'https://staging.getecologic.com/v1?api_key=eco_live_hunter22x',
      'http://hunter22x.example/v1',
      'hunter22x',
    ]) {
      const error = refusal(configured) as Error & { doNotContextify?: boolean };
      expect(error.doNotContextify).toBe(true);
      // zapier-platform-core's errors.Error carries { message, code } as JSON.
      expect(JSON.parse(error.message)).toEqual({ message: expect.stringMatching(/^ECOLOGIC_API_BASE_URL /), code: 'InvalidBaseUrl' });
      expect(error.message).not.toContain('hunter22x');
    }
  });
});
