/**
 * The sandbox's input guards as pure functions: request targets, percent-encoding, JSON nesting,
 * the wording of invalid fired data, and fire()'s all-or-nothing checks in process. No sockets
 * here (this runs in the unit project); test/e2e/malformed-input.test.ts drives them over TCP.
 */
import { PLATFORM_BODY_SCHEMAS } from '../../src/contract/schemas';
import { jsonDeeperThan } from '../../src/core/json-depth';
import { parseArgs } from '../../src/sandbox/cli';
import { generateEventBody } from '../../src/sandbox/fixtures';
import {
  ApiError,
  assertPathDecodes,
  decodeSegment,
  describeEventDataIssues,
  MAX_TARGET_LENGTH,
  parseRequestTarget,
  SANDBOX_LIMITS,
  SandboxServer,
} from '../../src/sandbox/server';

function errorOf(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('no ApiError thrown');
}

describe('parseRequestTarget', () => {
  test.each([
    ['/v1/me', '/v1/me', ''],
    ['/v1/notifications/samples?event=Audit:Create&limit=2', '/v1/notifications/samples', '?event=Audit:Create&limit=2'],
    // Origin form is a path, even when it starts with two slashes.
    ['//[', '//[', ''],
    ['//a:99999', '//a:99999', ''],
    ['//v1/me', '//v1/me', ''],
    ['/v1/../v1/me', '/v1/me', ''],
    ['http://127.0.0.1:8080/v1/me?x=1', '/v1/me', '?x=1'],
  ])('%s is the path %s', (target, pathname, search) => {
    expect(parseRequestTarget(target)).toMatchObject({ pathname, search });
  });

  test.each([
    ['/v1/notifications/%2E', '/v1/notifications/%2E'],
    ['/v1/notifications/%2e%2E?x=1', '/v1/notifications/%2e%2E'],
    ['/v1/notifications/..', '/v1/notifications/..'],
    ['/v1/notifications/./', '/v1/notifications/./'],
    ['http://127.0.0.1:8080/v1/notifications/%2E', '/v1/notifications/%2E'],
    ['/v1/./notifications/ntf_1', '/v1/notifications/ntf_1'],
  ])('a last dot segment is an id, kept as sent: %s is the path %s', (target, pathname) => {
    expect(parseRequestTarget(target).pathname).toBe(pathname);
  });

  test.each(['http://[', 'http://a:99999/', 'mailto:x', '*', 'v1/me', '', 'ftp://127.0.0.1/'])('%s is a 400 invalid_request', (target) => {
    expect(errorOf(() => parseRequestTarget(target))).toMatchObject({ status: 400, code: 'invalid_request' });
  });

  test(`a target over ${MAX_TARGET_LENGTH} characters is a 414; one of exactly that many is fine`, () => {
    expect(parseRequestTarget(`/${'a'.repeat(MAX_TARGET_LENGTH - 1)}`).pathname).toHaveLength(MAX_TARGET_LENGTH);
    expect(errorOf(() => parseRequestTarget(`/${'a'.repeat(MAX_TARGET_LENGTH)}`))).toMatchObject({ status: 414, code: 'uri_too_long' });
  });

  test('the query is parsed leniently', () => {
    expect(parseRequestTarget('/x?label=%E0%A4%A&a=1').query.get('a')).toBe('1');
  });
});

describe('percent-encoding', () => {
  test.each(['/v1/notifications/%E0%A4%A', '/hooks/%/', '/%zz', '/%C3'])('%s is a 400', (path) => {
    const error = errorOf(() => assertPathDecodes(path));
    expect(error).toMatchObject({ status: 400, code: 'invalid_request' });
    expect(error.message).not.toContain('%');
  });

  test('well-formed encodings decode', () => {
    expect(() => assertPathDecodes('/v1/notifications/ntf_%C3%A9%20x')).not.toThrow();
    expect(decodeSegment('ntf_%2F%20%C3%A9')).toBe('ntf_/ é');
  });
});

describe('jsonDeeperThan', () => {
  test.each([
    ['{}', 1, false],
    ['{}', 0, true],
    ['[[1]]', 2, false],
    ['[[1]]', 1, true],
    ['{"a":{"b":[1,{"c":2}]}}', 4, false],
    ['{"a":{"b":[1,{"c":2}]}}', 3, true],
    // Brackets inside strings, escaped quotes included, do not count.
    ['["[[[[", "\\"[[[["]', 1, false],
    ['[1],[2],[3]', 1, false],
  ])('%s deeper than %d: %s', (text, max, expected) => {
    expect(jsonDeeperThan(text, max)).toBe(expected);
  });

  test('100k unclosed brackets are caught without parsing', () => {
    expect(jsonDeeperThan('['.repeat(100_000), 64)).toBe(true);
  });
});

describe('describeEventDataIssues', () => {
  test('names the fields and what was expected, never the values', () => {
    const body = { ...generateEventBody('RequestQuote:Create'), occurred_at: 5, first_name: { secret: 'Olivia' }, offer_price: ['x'] };
    const result = PLATFORM_BODY_SCHEMAS['RequestQuote:Create'].safeParse(body);
    expect(result.success).toBe(false);
    const message = describeEventDataIssues(result.error!.issues);
    expect(message).toContain('data.occurred_at: expected an ISO-8601 UTC time');
    expect(message).toContain('data.first_name: expected string');
    expect(message).toContain('data.offer_price: has the wrong type');
    expect(message).not.toMatch(/Olivia|secret|"x"/);
  });

  test('a time without Z is named the same way', () => {
    const body = { ...generateEventBody('Audit:Create'), occurred_at: '2024-05-01 10:00' };
    const result = PLATFORM_BODY_SCHEMAS['Audit:Create'].safeParse(body);
    expect(describeEventDataIssues(result.error!.issues)).toBe('the event would not be valid: data.occurred_at: expected an ISO-8601 UTC time');
  });
});

describe('fire() in process (no socket)', () => {
  let sandbox: SandboxServer;
  beforeEach(() => {
    sandbox = new SandboxServer({ seed: 3, maxEventsPerFire: 5, maxEventBytes: 4096 });
  });
  afterEach(async () => {
    await sandbox.close();
  });

  test('the caps default as documented', () => {
    expect(SANDBOX_LIMITS).toEqual({
      maxBodyBytes: 1024 * 1024,
      maxSubscriptions: 100,
      maxEventsPerFire: 1000,
      maxPendingDeliveries: 10_000,
      maxEventBytes: 64 * 1024,
    });
    expect(sandbox.limits).toMatchObject({ maxEventsPerFire: 5, maxEventBytes: 4096, maxSubscriptions: 100 });
  });

  test.each([
    ['count 0', { count: 0 }, 400, 'invalid_request'],
    ['count over maxEventsPerFire', { count: 6 }, 400, 'invalid_request'],
    ['count 1.5', { count: 1.5 }, 400, 'invalid_request'],
    ['occurred_at 5', { data: { occurred_at: 5 } }, 400, 'invalid_event_data'],
    ['event_id with count 2', { data: { event_id: 'evt_x' }, count: 2 }, 409, 'duplicate_event_id'],
    ['an event over maxEventBytes', { data: { comments: 'x'.repeat(5000) } }, 413, 'payload_too_large'],
  ] as const)('%s is refused and nothing is stored', (_name, options, status, code) => {
    const before = sandbox.stats().storedEvents;
    expect(errorOf(() => sandbox.fire('RequestQuote:Create', options as never))).toMatchObject({ status, code });
    expect(sandbox.stats().storedEvents).toBe(before);
  });

  test('an event id fired once is a 409 the second time', () => {
    expect(sandbox.fire('Audit:Create', { data: { event_id: 'evt_once' } }).event_ids).toEqual(['evt_once']);
    expect(sandbox.rawEvent('evt_once')).toContain('"event_id":"evt_once"');
    expect(errorOf(() => sandbox.fire('Audit:Assign', { data: { event_id: 'evt_once' } }))).toMatchObject({ status: 409 });
  });
});

describe('cli fire flags', () => {
  test('--api-key takes a value for fire', () => {
    expect(parseArgs(['fire', 'Audit:Create', '--url', 'http://127.0.0.1:1', '--api-key', 'eco_other'])).toEqual({
      command: 'fire',
      event: 'Audit:Create',
      flags: { url: 'http://127.0.0.1:1', 'api-key': 'eco_other' },
    });
  });
});
