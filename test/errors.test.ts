import nock from 'nock';
import { ECOLOGIC_LINKS } from '../src/core/links';
import { requestSettings, retryAfterSeconds } from '../src/zapier/api';
import { guarded, haltedError } from '../src/zapier/errors';
import { API, expectMe, newTester, run, TARGET_URL, useNock } from './helpers';
import { failureAndLog } from './support/failure-log';
import { developerWords, shownMessage } from './support/partner-text';

useNock();

/**
 * Turning a Zap on, with the organisation's time zone read alongside (it never changes the outcome);
 * without `network`, no request is answered at all.
 */
const subscribe = (network = true) => {
  if (network) expectMe();
  return run(newTester(), 'quote_request_created', 'performSubscribe', { targetUrl: TARGET_URL });
};

/** The subscribe failure, what the partner is shown, and what the developers' log got. */
const failedSubscribe = async (network = true) => {
  const { error, log } = await failureAndLog(() => subscribe(network));
  return { error, shown: shownMessage(error), log };
};

describe('every API failure becomes a message a partner can act on, and detail for developers in the logs', () => {
  test('401: expired-auth error, so Zapier asks to reconnect, and says where to get a new key', async () => {
    nock(API).post('/notifications').reply(401);
    const { error, shown, log } = await failedSubscribe();
    expect(error.name).toBe('ExpiredAuthError');
    expect(shown).toMatch(/^Ecologic did not accept your API key while turning on this Zap\..*reconnect your Ecologic account/);
    expect(shown).toContain(ECOLOGIC_LINKS.apiKeys);
    expect(log).toMatch(/POST \/notifications with 401/);
  });

  test('403: the key is not allowed; the partner is sent to their administrator, the platform reason goes to the log', async () => {
    nock(API).post('/notifications').reply(403, { error: { code: 'missing_scope', message: 'notifications:write required' } });
    const { shown, log } = await failedSubscribe();
    expect(shown).toMatch(/not allowed to do this \(turning on this Zap\)\. Ask your Ecologic organisation administrator/);
    expect(shown).not.toMatch(/missing_scope|notifications:write/);
    expect(log).toMatch(/POST \/notifications with 403 missing_scope: notifications:write required/);
  });

  test.each([
    ['120', 120],
    [new Date(Date.now() + 90_000).toUTCString(), 90],
  ])('429 with Retry-After %p: throttled with the given delay', async (retryAfter, seconds) => {
    nock(API).post('/notifications').reply(429, {}, { 'Retry-After': retryAfter });
    const { error, log } = await failedSubscribe();
    expect(error).toMatchObject({ name: 'ThrottledError' });
    const { message, delay } = JSON.parse(error.message) as { message: string; delay: number };
    expect(message).toMatch(/too many requests from your organisation, so it paused turning on this Zap\. Wait a minute/);
    expect(delay).toBeGreaterThanOrEqual(seconds - 2);
    expect(delay).toBeLessThanOrEqual(seconds);
    expect(log).toMatch(/POST \/notifications with 429/);
  });

  test.each([500, 502, 503])('%i: a problem on Ecologic\'s side, and the step can be retried', async (status) => {
    nock(API).post('/notifications').reply(status, 'upstream exploded');
    const { shown, log } = await failedSubscribe();
    expect(shown).toMatch(/^Ecologic had a problem on its side while turning on this Zap\. This step can be retried/);
    expect(shown).toContain(ECOLOGIC_LINKS.support);
    expect(log).toContain(`POST /notifications with ${status}`);
  });

  test('422 invalid_filter: the partner is told to choose the trigger options again', async () => {
    nock(API).post('/notifications').reply(422, { error: { code: 'invalid_filter', message: 'filters.action is not a known action code' } });
    const { shown, log } = await failedSubscribe();
    expect(shown).toMatch(/did not accept one of this trigger's options while turning on this Zap.*Choose the options again/);
    expect(log).toMatch(/POST \/notifications with 422 invalid_filter: filters\.action is not a known action code/);
  });

  test('another refusal: check the options, then support', async () => {
    nock(API).post('/notifications').reply(400, { error: { code: 'invalid_uri', message: 'uri must be https' } });
    const { shown, log } = await failedSubscribe();
    expect(shown).toMatch(/did not accept the request while turning on this Zap\. Check this step's options/);
    expect(log).toMatch(/with 400 invalid_uri: uri must be https/);
  });

  test('network errors: could not reach Ecologic, the step can be retried; the log has the code', async () => {
    // No interceptor at all: nock refuses every connection as the network would.
    const { shown, log } = await failedSubscribe(false);
    expect(shown).toMatch(/^Zapier could not reach Ecologic while turning on this Zap.*This step can be retried/);
    expect(log).toMatch(/POST \/notifications failed or timed out \(ENETUNREACH\)/);
  });

  test('timeouts read like network errors', async () => {
    const original = requestSettings.timeoutMs;
    requestSettings.timeoutMs = 100;
    try {
      nock(API).post('/notifications').delay(1_000).reply(201, { id: 'late' });
      const { shown, log } = await failedSubscribe();
      expect(shown).toMatch(/could not reach Ecologic while turning on this Zap: the connection failed or Ecologic took too long/);
      expect(log).toMatch(/POST \/notifications failed or timed out/);
    } finally {
      requestSettings.timeoutMs = original;
    }
  });

  test('a non-JSON success body: an answer the app could not read; the log says where', async () => {
    nock(API).post('/notifications').reply(200, '<html>maintenance</html>');
    const { shown, log } = await failedSubscribe();
    expect(shown).toMatch(/^Ecologic sent an answer the app could not read while turning on this Zap/);
    expect(log).toMatch(/unexpected response from POST \/notifications: body is missing or has the wrong type/);
  });

  test.each([
    ['401', () => nock(API).post('/notifications').reply(401)],
    ['403', () => nock(API).post('/notifications').reply(403, { error: { code: 'forbidden', message: 'POST /notifications needs scope' } })],
    ['422', () => nock(API).post('/notifications').reply(422, { error: { code: 'invalid_filter', message: 'filters.action must be a string' } })],
    ['429', () => nock(API).post('/notifications').reply(429)],
    ['500', () => nock(API).post('/notifications').reply(500)],
    ['302', () => nock(API).post('/notifications').reply(302, '', { Location: 'https://elsewhere.example/x' })],
    ['an unreadable answer', () => nock(API).post('/notifications').reply(201, { data: [] })],
    ['no answer', () => undefined],
  ])('after %s the partner sees no developer words, and the error carries no bundle', async (what, reply) => {
    reply();
    const { error, shown } = await failedSubscribe(what !== 'no answer');
    expect(developerWords(shown)).toEqual([]);
    expect(error.doNotContextify).toBe(true);
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
    const errors: string[] = [];
    const leaky = guarded('receiving this quote request', async (_z: unknown) => {
      throw new SyntaxError('Unexpected token J in "Jack Thompson 0423 456 789"');
    });
    const fakeZ = { console: { error: (line: string) => void errors.push(line) } };
    const error = (await leaky(fakeZ).catch((e: unknown) => e)) as Error & { doNotContextify?: boolean };
    expect(shownMessage(error)).toMatch(/^Something went wrong in the Ecologic app while receiving this quote request\. Try again/);
    expect(error.message).not.toMatch(/Jack|0423/);
    expect(error.doNotContextify).toBe(true);
    expect(errors).toEqual(['unexpected SyntaxError while receiving this quote request']);
  });
  test('the app\'s own errors pass through unchanged', async () => {
    const halted = haltedError('Delivery rejected.');
    await expect(guarded('x', async () => Promise.reject(halted))()).rejects.toBe(halted);
  });
});
