/**
 * What the conformance kit says about one exchange: the request, the status received and the
 * status(es) expected, the server's error.code, and for an error without one a short summary of the
 * body that never shows a value.
 */
import { type ApiResponse, bodySummary, errorCodeOf, exchangeProblems } from '../src/conformance/client';
import { shownId, subscriptionIdOf } from '../src/conformance/cleanup';

const answer = (status: number, text: string, extra: Partial<ApiResponse> = {}): ApiResponse => {
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { method: 'POST', path: '/notifications', status, headers: { 'content-type': 'application/json' }, text, json, contractProblems: [], ...extra };
};

describe('exchangeProblems', () => {
  test('the right status and code: no problem', () => {
    expect(exchangeProblems(answer(400, '{"error":{"code":"invalid_event","message":"m"}}'), [400], 'invalid_event')).toEqual([]);
    expect(exchangeProblems(answer(201, '{"id":"ntf_1"}'), [201])).toEqual([]);
  });

  test('a wrong status names the request, both statuses and the code sent', () => {
    expect(exchangeProblems(answer(200, '{"id":"ntf_1"}'), [201])).toEqual(['POST /notifications answered 200, expected 201']);
    expect(exchangeProblems(answer(201, '{"id":"ntf_1"}'), [400], 'invalid_event')).toEqual([
      'POST /notifications answered 201, expected 400 with error.code invalid_event',
    ]);
    expect(exchangeProblems(answer(422, '{"error":{"code":"subscription_limit_reached","message":"m"}}'), [404, 410])).toEqual([
      'POST /notifications answered 422 with error.code subscription_limit_reached, expected 404 or 410',
    ]);
  });

  test('the right status with another code, or none', () => {
    expect(exchangeProblems(answer(400, '{"error":{"code":"invalid_request","message":"m"}}'), [400], 'invalid_filter')).toEqual([
      'POST /notifications answered 400 with error.code invalid_request, expected 400 with error.code invalid_filter',
    ]);
    expect(exchangeProblems(answer(400, '{"error":{"message":"m"}}'), [400], 'invalid_filter')).toEqual([
      'POST /notifications answered 400 (a JSON object with error), expected 400 with error.code invalid_filter',
    ]);
  });

  test('an error without a code is summarised without its values; an odd code is not shown', () => {
    const html = answer(502, '<html>Bad gateway for jane@example.com</html>', { headers: { 'content-type': 'text/html; charset=utf-8' } });
    expect(exchangeProblems(html, [204])).toEqual(['POST /notifications answered 502 (45 bytes of text/html), expected 204']);
    const odd = answer(500, '{"error":{"code":"failed for jane@example.com","message":"m"}}');
    expect(exchangeProblems(odd, [204])).toEqual(['POST /notifications answered 500 with an error.code that is not a plain code, expected 204']);
    expect(errorCodeOf(odd)).toBe('odd');
    expect(bodySummary(answer(500, ''))).toBe('an empty body');
    expect(bodySummary(answer(500, '[1,2]'))).toBe('a JSON array of 2 entries');
    expect(bodySummary(answer(500, '{"a":1,"b c":2,"d":3,"e":4,"f":5,"g":6,"h":7}'))).toBe('a JSON object with a, d, e, f, g, h and 1 more');
  });

  test("the document's complaints follow, naming the request; a status it does not list is not said twice", () => {
    const res = answer(200, '{}', { contractProblems: ['POST /notifications answered 200, which the contract does not list (201)', 'body must have required property \'id\''] });
    expect(exchangeProblems(res, [201])).toEqual([
      'POST /notifications answered 200, expected 201',
      "POST /notifications answered 200: body must have required property 'id'",
    ]);
  });
});

describe('subscription ids', () => {
  test('read from the top level or under data, strings or numbers', () => {
    expect(subscriptionIdOf({ id: 'ntf_1' })).toBe('ntf_1');
    expect(subscriptionIdOf({ data: { id: 7 } })).toBe('7');
    expect(subscriptionIdOf({ id: '' })).toBeUndefined();
    expect(subscriptionIdOf({ error: { code: 'x' } })).toBeUndefined();
  });

  test('shown as they are when they look like ids, otherwise by length only', () => {
    expect(shownId('ntf_2b7Hc9')).toBe('ntf_2b7Hc9');
    expect(shownId('jane@example.com')).toBe('(an id of 16 characters)');
  });
});
