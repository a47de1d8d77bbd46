import nock from 'nock';
import { requestSettings, retryAfterSeconds } from '../src/zapier/api';
import { guarded, haltedError } from '../src/zapier/errors';
import { API, newTester, run, TARGET_URL, useNock } from './helpers';

useNock();

const subscribe = () => run(newTester(), 'quote_request_created', 'performSubscribe', { targetUrl: TARGET_URL });

describe('every API failure becomes an error a partner can act on', () => {
  test('401: expired-auth error, so Zapier asks to reconnect', async () => {
    nock(API).post('/notifications').reply(401);
    await expect(subscribe()).rejects.toMatchObject({ name: 'ExpiredAuthError', message: expect.stringMatching(/API key \(401\) on POST \/notifications/) });
  });

  test('403: the key is not allowed, with the platform reason', async () => {
    nock(API).post('/notifications').reply(403, { error: { code: 'missing_scope', message: 'notifications:write required' } });
    await expect(subscribe()).rejects.toThrow(/refused this API key access to POST \/notifications \(403\).*missing_scope: notifications:write required/);
  });

  test.each([
    ['120', 120],
    [new Date(Date.now() + 90_000).toUTCString(), 90],
  ])('429 with Retry-After %p: throttled, retried after the given delay', async (retryAfter, seconds) => {
    nock(API).post('/notifications').reply(429, {}, { 'Retry-After': retryAfter });
    const error = await subscribe().catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'ThrottledError' });
    const { message, delay } = JSON.parse((error as Error).message) as { message: string; delay: number };
    expect(message).toMatch(/rate limiting requests to POST \/notifications \(429\)/);
    expect(delay).toBeGreaterThanOrEqual(seconds - 2);
    expect(delay).toBeLessThanOrEqual(seconds);
  });

  test.each([500, 502, 503])('%i: unavailable, naming the endpoint', async (status) => {
    nock(API).post('/notifications').reply(status, 'upstream exploded');
    await expect(subscribe()).rejects.toThrow(new RegExp(`Ecologic is unavailable \\(${status}\\) for POST /notifications`));
  });

  test('422: the platform rejected the request, with its code and message', async () => {
    nock(API).post('/notifications').reply(422, { error: { code: 'invalid_filter', message: 'filters.action is not a known action code' } });
    await expect(subscribe()).rejects.toThrow(/did not accept POST \/notifications \(422\). Ecologic said: invalid_filter: filters.action is not a known action code/);
  });

  test('network errors name the endpoint', async () => {
    // No interceptor: nock refuses the connection as the network would.
    await expect(subscribe()).rejects.toThrow(/Could not reach Ecologic for POST \/notifications \(ENETUNREACH\)/);
  });

  test('timeouts name the endpoint', async () => {
    const original = requestSettings.timeoutMs;
    requestSettings.timeoutMs = 100;
    try {
      nock(API).post('/notifications').delay(1_000).reply(201, { id: 'late' });
      await expect(subscribe()).rejects.toThrow(/Could not reach Ecologic for POST \/notifications.*timed out/);
    } finally {
      requestSettings.timeoutMs = original;
    }
  });

  test('a non-JSON success body is an unexpected response', async () => {
    nock(API).post('/notifications').reply(200, '<html>maintenance</html>');
    await expect(subscribe()).rejects.toThrow(/Unexpected response from Ecologic for POST \/notifications/);
  });

  test('errors carry doNotContextify, so core never appends the bundle', async () => {
    nock(API).post('/notifications').reply(500);
    await expect(subscribe()).rejects.toMatchObject({ doNotContextify: true });
  });
});

describe('Retry-After', () => {
  const now = new Date('2026-11-27T00:00:00Z');
  test.each([
    ['30', 30],
    [' 7 ', 7],
    ['Fri, 27 Nov 2026 00:01:00 GMT', 60],
    ['Thu, 26 Nov 2026 23:00:00 GMT', 0],
    ['soon', undefined],
    ['1.5', undefined],
    [null, undefined],
  ])('%p -> %p seconds', (header, expected) => {
    expect(retryAfterSeconds(header, now)).toBe(expected);
  });
});

describe('errors the app did not make', () => {
  test('a library error whose message quotes the payload is replaced by a safe one', async () => {
    const leaky = guarded('New Quote Request', async () => {
      throw new SyntaxError('Unexpected token J in "Jack Thompson 0423 456 789"');
    });
    const error = (await leaky().catch((e: unknown) => e)) as Error & { doNotContextify?: boolean };
    expect(error.message).toMatch(/New Quote Request failed unexpectedly \(SyntaxError\)/);
    expect(error.message).not.toMatch(/Jack|0423/);
    expect(error.doNotContextify).toBe(true);
  });
  test('the app\'s own errors pass through unchanged', async () => {
    const halted = haltedError('Ecologic delivery rejected: the signature did not match.');
    await expect(guarded('x', async () => Promise.reject(halted))()).rejects.toBe(halted);
  });
});
