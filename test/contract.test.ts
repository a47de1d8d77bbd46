import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { parse } from 'yaml';

import { EVENT_REGISTRY } from '../src/core/event-registry';
import { PLATFORM_EVENTS } from '../src/core/events';
import { contractSection } from '../src/contract/openapi';
import { filtersSchema, MAX_ACTION_FILTER_CODES, MAX_LABEL_FILTER_VALUES, ORIGIN_KEY, PLATFORM_BODY_SCHEMAS, subscribeRequestSchema } from '../src/contract/schemas';
import { ContractValidator } from '../src/contract/validator';
import { parseConformanceArgs, UsageError } from '../src/conformance/cli';
import { signatureProblems } from '../src/conformance/webhooks';
import { catalogFor } from '../scripts/generated-files';

type Json = Record<string, any>;

const document = parse(readFileSync(join(__dirname, '..', 'docs', 'openapi.yaml'), 'utf8')) as Json;
const validator = new ContractValidator(document);
const fixture = (triggerKey: string): Json =>
  JSON.parse(readFileSync(join(__dirname, 'fixtures', `${triggerKey}.json`), 'utf8')) as Json;

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };
const response = (method: string, path: string, status: number, body?: unknown, headers: Json = JSON_HEADERS) => ({
  method,
  path,
  status,
  headers,
  body: body === undefined ? undefined : JSON.stringify(body),
});

describe('docs/openapi.yaml', () => {
  const operations = [
    ...Object.entries(document.paths as Json).flatMap(([path, item]) =>
      Object.entries(item as Json)
        .filter(([method]) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
        .map(([method, op]) => [`${method.toUpperCase()} ${path}`, op] as const),
    ),
    ...Object.entries(document.webhooks as Json).map(([event, item]) => [`webhook ${event}`, (item as Json).post] as const),
  ];

  test('is OpenAPI 3.1 with a webhook per platform event', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.webhooks).sort()).toEqual([...PLATFORM_EVENTS].sort());
  });

  test.each(operations)('%s says whether it is published or assumed', (_name, op) => {
    expect(['published', 'assumed']).toContain(op[ORIGIN_KEY]);
    expect(op.description).toMatch(new RegExp(`^\\[${op[ORIGIN_KEY]}\\] `));
  });

  test.each(PLATFORM_EVENTS)('%s: every body field is marked, and exactly the published ones are published', (event) => {
    const properties = document.components.schemas[`${event.replace(/:/g, '')}Body`].properties as Json;
    for (const [key, schema] of Object.entries(properties)) {
      expect([key, ['published', 'assumed'].includes((schema as Json)[ORIGIN_KEY])]).toEqual([key, true]);
    }
    const published = Object.entries(properties)
      .filter(([key, schema]) => key !== 'event' && (schema as Json)[ORIGIN_KEY] === 'published')
      .map(([key]) => key);
    const fromItems = catalogFor(event)
      .filter((f) => f.origin === 'published')
      .map((f) => f.key);
    expect(published.sort()).toEqual(fromItems.sort());
    // The body is what the platform sends: no field the app derives.
    const derived = catalogFor(event).filter((f) => f.origin === 'derived' && !['event', 'occurred_at'].includes(f.key));
    for (const field of derived) expect(Object.keys(properties)).not.toContain(field.key);
    expect(document.components.schemas[`${event.replace(/:/g, '')}Body`].additionalProperties).not.toBe(false);
  });

  test('the webhooks carry the signing, retry and de-duplication rules for tools', () => {
    const op = document.webhooks['RequestQuote:Create'].post;
    expect(op['x-ecologic-signing']).toMatchObject({ scheme: 'standard-webhooks', timestamp_tolerance_past_seconds: 3600 });
    expect(op['x-ecologic-retries']).toMatchObject({ remove_subscription_on: 410, max_attempts: 12, receiver_timeout_seconds: 15 });
    expect(op['x-ecologic-deduplication'].receiver_retention_hours).toBe(48);
    expect(op.parameters.map((p: Json) => p.name)).toEqual(['webhook-id', 'webhook-timestamp', 'webhook-signature']);
  });

  test('quotes the contract prose it relies on, so the two cannot disagree', () => {
    const markdown = readFileSync(join(__dirname, '..', 'docs', 'ecologic-api.md'), 'utf8');
    for (const section of ['2.10', '3.3', '3.4', '3.5']) expect(document.info.description).toContain(contractSection(markdown, section));
    expect(() => contractSection(markdown, '9.9')).toThrow(/no section 9.9/);
  });

  test.each(EVENT_REGISTRY.map((e) => [e.event, e.triggerKey] as const))('the %s fixture is a valid delivery body', (event, triggerKey) => {
    const body = JSON.stringify(fixture(triggerKey));
    const headers = { 'content-type': 'application/json', 'webhook-id': 'msg_1', 'webhook-timestamp': '1764213300' };
    expect(validator.checkDelivery({ headers, body }, { signed: false, event })).toEqual([]);
    expect(PLATFORM_BODY_SCHEMAS[event].safeParse(JSON.parse(body)).success).toBe(true);
  });
});

describe('ContractValidator: responses', () => {
  const me = { organisation_id: 'org_1', organisation_name: 'Sunrise Solar Pty Ltd', email: 'ops@example.com.au' };

  test('a response that matches passes', () => {
    expect(validator.checkResponse(response('GET', '/me', 200, me))).toEqual([]);
    expect(validator.checkResponse(response('DELETE', '/notifications/ntf_1', 204, undefined, {}))).toEqual([]);
  });

  test('a wrong type is named by its location, never its value', () => {
    const problems = validator.checkResponse(response('GET', '/me', 200, { ...me, organisation_id: 4242 }));
    expect(problems).toEqual(['body/organisation_id must be string,null']);
    const secret = 'olivia.nguyen@example.com.au';
    const samples = { data: [{ ...fixture('quote_request_created'), occurred_at: secret }] };
    const sampleProblems = validator.checkResponse(response('GET', '/notifications/samples', 200, samples));
    expect(sampleProblems.join(' ')).toMatch(/body\/data\/0\/occurred_at/);
    expect(sampleProblems.join(' ')).not.toContain(secret);
  });

  test('a status the contract does not list is a problem', () => {
    expect(validator.checkResponse(response('DELETE', '/notifications/ntf_1', 200, {}))).toEqual([
      expect.stringMatching(/^DELETE \/notifications\/\{id\} answered 200, which the contract does not list/),
    ]);
  });

  test('errors must have the error shape, 429 a Retry-After, 204 no body, JSON a JSON content type', () => {
    expect(validator.checkResponse(response('GET', '/me', 401, { message: 'no' }))).toEqual(["body must have required property 'error'"]);
    const limited = { error: { code: 'rate_limited', message: 'slow down' } };
    expect(validator.checkResponse(response('GET', '/me', 429, limited))).toEqual(['the Retry-After header is missing']);
    expect(validator.checkResponse(response('GET', '/me', 429, limited, { ...JSON_HEADERS, 'retry-after': '3' }))).toEqual([]);
    expect(validator.checkResponse(response('DELETE', '/notifications/ntf_1', 204, {}))).toEqual([
      'DELETE /notifications/{id} 204 must have no body',
    ]);
    expect(validator.checkResponse(response('GET', '/me', 200, me, { 'content-type': 'text/plain' }))).toEqual([
      'Content-Type must be application/json',
    ]);
  });

  test('exact paths win over templated ones, and unknown paths and methods must be 404 and 405', () => {
    expect(validator.operationFor('GET', '/notifications/samples?event=Audit%3ACreate')?.key).toBe('GET /notifications/samples');
    expect(validator.operationFor('DELETE', '/notifications/ntf_9')?.key).toBe('DELETE /notifications/{id}');
    const error = { error: { code: 'not_found', message: 'no such endpoint' } };
    expect(validator.checkResponse(response('GET', '/nothing', 404, error))).toEqual([]);
    expect(validator.checkResponse(response('GET', '/nothing', 200, {}))).toHaveLength(1);
    expect(validator.checkResponse(response('PUT', '/me', 405, error))).toEqual([]);
    expect(validator.checkResponse(response('PUT', '/me', 200, me))).toHaveLength(1);
  });

  test('a subscription secret must look like a Standard Webhooks secret, and a listed one is a leak', () => {
    const sub = {
      id: 'ntf_1',
      type: 'webhook',
      event: 'Audit:Create',
      uri: 'https://hooks.example.com/1',
      filters: {},
      created_at: '2026-11-27T03:15:00Z',
    };
    expect(validator.checkResponse(response('POST', '/notifications', 201, { ...sub, secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }))).toEqual([]);
    expect(validator.checkResponse(response('POST', '/notifications', 201, { ...sub, secret: 'hunter2' }))).toEqual([
      expect.stringMatching(/^body\/secret must match pattern/),
    ]);
    expect(validator.checkResponse(response('POST', '/notifications', 201, { ...sub, id: '..' }))).toEqual([
      expect.stringMatching(/^body\/id must match pattern/),
    ]);
    expect(validator.checkResponse(response('GET', '/notifications', 200, { data: [{ ...sub, secret: 'whsec_x' }] }))).toEqual([
      'body/data/0 must not have the property "secret"',
    ]);
  });
});

describe('action filters: one code or a list (contract 2.4, 2.7)', () => {
  const codes = (n: number) => Array.from({ length: n }, (_, i) => ['solar_pv', 'battery', 'ev_charger'][i % 3]);
  const sub = (action: unknown) => ({
    id: 'ntf_1',
    type: 'webhook',
    event: 'RequestQuote:Create',
    uri: 'https://hooks.example.com/1',
    filters: { action },
    created_at: '2026-11-27T03:15:00Z',
    secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  });

  test('the schema takes a code, or 1 to 20 non-empty codes', () => {
    expect(MAX_ACTION_FILTER_CODES).toBe(20);
    for (const action of ['solar_pv', ['solar_pv'], ['solar_pv', 'battery'], codes(20)]) {
      expect([action, filtersSchema.safeParse({ action }).success]).toEqual([action, true]);
      const request = { type: 'webhook', event: 'RequestQuote:Create', uri: 'https://hooks.example.com/1', filters: { action } };
      expect(subscribeRequestSchema.safeParse(request).success).toBe(true);
    }
    for (const action of ['', [], codes(21), [42], ['solar_pv', ''], [null], [['solar_pv']], { code: 'solar_pv' }]) {
      expect([action, filtersSchema.safeParse({ action }).success]).toEqual([action, false]);
    }
  });

  test('the document describes both forms, and the subscription echo of a list is valid', () => {
    const action = document.components.schemas.Filters.properties.action as Json;
    expect(action.description).toMatch(/array of 1 to 20/);
    expect(action.anyOf).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'string', minLength: 1 }),
        expect.objectContaining({ type: 'array', minItems: 1, maxItems: 20, items: expect.objectContaining({ type: 'string', minLength: 1 }) }),
      ]),
    );
    expect(validator.checkResponse(response('POST', '/notifications', 201, sub(['solar_pv', 'battery'])))).toEqual([]);
    expect(validator.checkResponse(response('POST', '/notifications', 201, sub('solar_pv')))).toEqual([]);
    expect(validator.checkResponse(response('GET', '/notifications', 200, { data: [{ ...sub(codes(20)), secret: undefined }] }))).toEqual([]);
    for (const action of [[], codes(21), ['solar_pv', 7]]) {
      const problems = validator.checkResponse(response('POST', '/notifications', 201, sub(action)));
      expect([action, problems.some((p) => p.startsWith('body/filters/action'))]).toEqual([action, true]);
    }
  });

  test('samples take several codes separated by commas', () => {
    const parameter = (document.paths['/notifications/samples'].get.parameters as Json[]).find((p) => p.name === 'action');
    expect(parameter).toMatchObject({ in: 'query', schema: { type: 'string', example: 'solar_pv,battery' } });
    expect(parameter!.description).toMatch(/separated by commas/);
  });
});

describe('label filters: one label or a list (contract 2.4, 2.7)', () => {
  const labels = (n: number) => Array.from({ length: n }, (_, i) => `Label ${i}, with a comma`);

  test('the schema takes a label, or 1 to 20 non-empty labels; a string is one label even with a comma', () => {
    expect(MAX_LABEL_FILTER_VALUES).toBe(20);
    for (const label of ['lbl_4kd8', 'Awaiting documents, phase 2', ['lbl_4kd8'], ['lbl_4kd8', 'Quote sent'], labels(20)]) {
      expect([label, filtersSchema.safeParse({ label }).success]).toEqual([label, true]);
      const request = { type: 'webhook', event: 'RequestQuote:Label:Apply', uri: 'https://hooks.example.com/1', filters: { label } };
      expect(subscribeRequestSchema.safeParse(request).success).toBe(true);
    }
    for (const label of ['', [], labels(21), [42], ['lbl_4kd8', ''], [null], [['lbl_4kd8']], { id: 'lbl_4kd8' }]) {
      expect([label, filtersSchema.safeParse({ label }).success]).toEqual([label, false]);
    }
  });

  test('the document describes both forms in the subscription, and samples take the parameter repeated, never commas', () => {
    const label = document.components.schemas.Filters.properties.label as Json;
    expect(label.description).toMatch(/array of 1 to 20/);
    expect(label.description).toMatch(/a string is always one label/);
    expect(label.anyOf).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'string', minLength: 1 }),
        expect.objectContaining({ type: 'array', minItems: 1, maxItems: 20, items: expect.objectContaining({ type: 'string', minLength: 1 }) }),
      ]),
    );
    const parameter = (document.paths['/notifications/samples'].get.parameters as Json[]).find((p) => p.name === 'label') as Json & { schema: Json };
    expect(parameter).toMatchObject({ in: 'query' });
    // OpenAPI's default for a query list: style form, exploded, i.e. `label=a&label=b`.
    expect(parameter.style ?? 'form').toBe('form');
    expect(parameter.explode ?? true).toBe(true);
    expect(parameter.schema.anyOf).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'array', maxItems: 20 })]));
    expect(parameter.description).toMatch(/parameter repeated/);
    expect(parameter.description).toMatch(/never separated by commas/);
  });
});

describe("the organisation's time zone (contract 2.3)", () => {
  test('GET /me documents an optional time_zone, and answers with or without one are valid', () => {
    const me = document.components.schemas.Me as Json & { properties: Record<string, Json> };
    expect(me.properties.time_zone).toMatchObject({ description: expect.stringMatching(/IANA time zone/) });
    expect(me.required ?? []).not.toContain('time_zone');
    const base = { organisation_id: 'org_1', organisation_name: 'Sunrise Solar Pty Ltd', email: null };
    expect(validator.checkResponse(response('GET', '/me', 200, { ...base, time_zone: 'Australia/Melbourne' }))).toEqual([]);
    expect(validator.checkResponse(response('GET', '/me', 200, { ...base, time_zone: null }))).toEqual([]);
    expect(validator.checkResponse(response('GET', '/me', 200, base))).toEqual([]);
    expect(validator.checkResponse(response('GET', '/me', 200, { ...base, time_zone: 10 }))).toEqual([expect.stringMatching(/^body\/time_zone must be/)]);
  });
});

describe('ContractValidator: deliveries', () => {
  const body = JSON.stringify(fixture('audit_created'));
  const headers = { 'content-type': 'application/json', 'webhook-id': 'msg_1', 'webhook-timestamp': '1764213300' };

  test('unknown fields are allowed; a missing header, a wrong event or a wrong type are not', () => {
    expect(validator.checkDelivery({ headers, body: JSON.stringify({ ...JSON.parse(body), added_later: 1 }) }, { signed: false })).toEqual([]);
    expect(validator.checkDelivery({ headers, body }, { signed: true })).toEqual(['the webhook-signature header is missing']);
    const { 'webhook-id': _dropped, ...noId } = headers;
    expect(validator.checkDelivery({ headers: noId, body }, { signed: false })).toEqual(['the webhook-id header is missing']);
    expect(validator.checkDelivery({ headers, body }, { signed: false, event: 'Audit:Assign' })).toEqual(['body/event must be Audit:Assign']);
    expect(validator.checkDelivery({ headers, body: JSON.stringify({ ...JSON.parse(body), audit_id: 7 }) }, { signed: false })).toEqual([
      'body/audit_id must be string,null',
    ]);
    expect(validator.checkDelivery({ headers, body: '[]' }, { signed: false })).toEqual(['body/event must be one of the six event names']);
    expect(validator.checkDelivery({ headers: { ...headers, 'webhook-timestamp': 'soon' }, body }, { signed: false })).toEqual([
      expect.stringMatching(/^header webhook-timestamp must match pattern/),
    ]);
  });
});

describe('conformance kit', () => {
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const signed = (body: string, at: Date) => {
    const signature = new Webhook(secret).sign('msg_1', at, body);
    return { 'webhook-id': 'msg_1', 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': `v1,bogus ${signature}` };
  };

  test('a signature made with the secret verifies; another body, secret or an old timestamp does not', () => {
    const now = new Date();
    const body = '{"event":"Audit:Create"}';
    const d = { arrivedAt: now.getTime(), headers: signed(body, now), body };
    expect(signatureProblems(d, secret)).toEqual([]);
    expect(signatureProblems({ ...d, body: '{"event":"Audit:Assign"}' }, secret)).toEqual(['no v1 signature matches the secret']);
    expect(signatureProblems(d, 'whsec_c2Vjb25kIHNlY3JldCBvZiBlbm91Z2ggbGVuZ3Ro')).toEqual(['no v1 signature matches the secret']);
    const old = new Date(now.getTime() - 2 * 3_600_000);
    expect(signatureProblems({ ...d, headers: signed(body, old) }, secret)).toEqual(['webhook-timestamp is outside the accepted window']);
  });

  test('arguments: required flags, the key from the environment, clear usage errors', () => {
    expect(() => parseConformanceArgs([], {})).toThrow(new UsageError('--base-url is required'));
    expect(() => parseConformanceArgs(['--base-url', 'http://127.0.0.1:1/v1'], {})).toThrow(/--api-key/);
    expect(() => parseConformanceArgs(['--base-url', 'ftp://x/v1', '--api-key', 'k'], {})).toThrow(/http\(s\)/);
    expect(() => parseConformanceArgs(['--base-url', 'http://x/v1', '--api-key', 'k', '--event', 'Audit'], {})).toThrow(/--event/);
    expect(() => parseConformanceArgs(['--base-url', 'http://x/v1', '--api-key', 'k', '--frobnicate'], {})).toThrow(/unknown option/);
    const options = parseConformanceArgs(['--base-url=http://x/v1', '--webhooks', '--listen', '0.0.0.0:8099', '--wait', '5'], {
      ECOLOGIC_API_KEY: 'from-env',
    });
    expect(options).toMatchObject({ apiKey: 'from-env', webhooks: true, listenHost: '0.0.0.0', listenPort: 8099, waitMs: 5000 });
    expect(parseConformanceArgs(['--help'], {})).toBe('help');
  });
});
