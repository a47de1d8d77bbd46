/**
 * Rules of the contract that docs/openapi.yaml must express as schema or as readable text, not only
 * in prose: the subscription `uri`, which filter goes with which event, the listed subscription's
 * missing secret, the sandbox's own server, the origin marks of the prose's headings, the delivery
 * rules in words, the tags' order, contact and licence.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

import { PLATFORM_EVENTS, type PlatformEvent } from '../src/core/events';
import { DELIVERY_LIMITS } from '../src/contract/limits';
import { RENDERED_EXTENSIONS, SANDBOX_SUGGESTED_PORT } from '../src/contract/openapi';
import { EVENT_MEMORY_SECONDS, PRODUCTION_SCHEDULE } from '../src/contract/schedule';
import { FILTER_KEY_FOR_EVENT, ORIGIN_KEY, SUBSCRIPTION_URI_PATTERN, subscribeRequestSchema } from '../src/contract/schemas';
import { ContractValidator, documentPointer } from '../src/contract/validator';
import { isSubscriptionUri } from '../src/sandbox/server';

type Json = Record<string, any>;

const root = join(__dirname, '..');
const document = parse(readFileSync(join(root, 'docs', 'openapi.yaml'), 'utf8')) as Json;
const markdown = readFileSync(join(root, 'docs', 'ecologic-api.md'), 'utf8');
const validator = new ContractValidator(document);
const subscribeBody = documentPointer('components', 'schemas', 'SubscribeRequest');
const schemaAccepts = (value: unknown) => validator.validateAt(subscribeBody, value, 'body').length === 0;

describe('a subscription uri (contract 2.4)', () => {
  const uriSchema = document.components.schemas.SubscribeAuditCreate.properties.uri as Json;
  const patternAccepts = (uri: string) => new RegExp(uriSchema.pattern as string, 'u').test(uri) && uri.length <= uriSchema.maxLength;

  const ACCEPTED = [
    'https://hooks.zapier.com/hooks/standard/123/abc/',
    'https://hooks.zapier.com',
    'https://example.com:8443/a?b=c#d',
    'https://xn--80ak6aa92e.com/hook',
    'https://203.0.113.5/hook',
    'https://localhost/x',
    'https://[::1]:8443/x',
    'http://127.0.0.1:9/hooks/1/',
    'http://127.255.0.1/x',
    'http://localhost:3000/hook',
    'http://[::1]/hook',
    'https://example.com:65535/',
    `https://example.com/${'a'.repeat(2048 - 'https://example.com/'.length)}`,
  ];
  const REFUSED = [
    'ftp://127.0.0.1/1',
    'ftp://hooks.example.com/1',
    'http://hooks.example.com/1',
    'http://10.0.0.1/1',
    'http://128.0.0.1/1',
    'http://127.0.0.1.example.com/1',
    'http://localhost.example.com/1',
    'https://u:p@hooks.example.com/1',
    'https://u@hooks.example.com/1',
    'http://user@127.0.0.1/1',
    '/hooks/1',
    'hooks.example.com/1',
    'https://',
    'https:x',
    'HTTPS://hooks.example.com/1',
    'https://hooks.example.com/a b',
    ' https://hooks.example.com/1',
    'https://999.1.1.1/',
    'https://1.2.3.4.5/',
    'https://a..b/',
    'https://-a.example.com/',
    'https://exa_mple.com/',
    'https://example.com:65536/',
    'https://example.com:99999/',
    'javascript:alert(1)',
    '',
    `https://example.com/${'a'.repeat(2049 - 'https://example.com/'.length)}`,
  ];

  test.each(ACCEPTED.map((u) => [u.slice(0, 60), u]))('%s: accepted by the schema and the sandbox', (_shown, uri) => {
    expect([patternAccepts(uri), isSubscriptionUri(uri), schemaAccepts({ type: 'webhook', event: 'Audit:Create', uri, filters: {} })]).toEqual([true, true, true]);
  });

  test.each(REFUSED.map((u) => [u.slice(0, 60), u]))('%s: refused by the schema and the sandbox', (_shown, uri) => {
    expect([patternAccepts(uri), isSubscriptionUri(uri), schemaAccepts({ type: 'webhook', event: 'Audit:Create', uri, filters: {} })]).toEqual([false, false, false]);
  });

  test('the document carries the pattern as written (no `\\/`), the same as the sandbox applies', () => {
    expect(uriSchema.pattern).toBe(SUBSCRIPTION_URI_PATTERN.source.replace(/\\\//g, '/'));
    expect(uriSchema.pattern).not.toContain('\\/');
    expect(uriSchema.description).toMatch(/`http` only to a loopback host/);
  });

  test('the one thing no pattern sees: an invalid punycode label matches, and the sandbox still refuses it', () => {
    expect(patternAccepts('https://xn--a.example/')).toBe(true);
    expect(isSubscriptionUri('https://xn--a.example/')).toBe(false);
  });
});

describe('which filter goes with which event (contract 2.4)', () => {
  const ACTION = ['solar_pv', ['solar_pv', 'battery'], Array.from({ length: 20 }, () => 'battery')];
  const LABEL = ['lbl_4kd8', 'Awaiting documents, phase 2', ['lbl_4kd8', 'Quote sent'], Array.from({ length: 20 }, () => 'Won')];
  const request = (event: PlatformEvent, filters: unknown) => ({ type: 'webhook', event, uri: 'https://hooks.zapier.com/hooks/standard/1/a/', filters });

  test('Audit:Create with an action filter is refused by the schema, as by the platform', () => {
    expect(schemaAccepts({ event: 'Audit:Create', type: 'webhook', uri: 'https://hooks.zapier.com/x', filters: { action: 'solar_pv' } })).toBe(false);
    expect(subscribeRequestSchema.safeParse(request('Audit:Create', { action: 'solar_pv' })).success).toBe(false);
  });

  test.each(PLATFORM_EVENTS)('%s: every valid combination is accepted, every other filter refused', (event) => {
    const key = FILTER_KEY_FOR_EVENT[event];
    const valid: unknown[] = [{}, ...(key === 'action' ? ACTION.map((action) => ({ action })) : key === 'label' ? LABEL.map((label) => ({ label })) : [])];
    const invalid: unknown[] = [
      ...(key !== 'action' ? ACTION.map((action) => ({ action })) : []),
      ...(key !== 'label' ? LABEL.map((label) => ({ label })) : []),
      { state: 'NSW' },
      ...(key ? [{ [key]: [] }, { [key]: '' }, { [key]: Array.from({ length: 21 }, () => 'x') }, { [key]: [7] }] : []),
      'solar_pv',
      null,
    ];
    for (const filters of valid) {
      expect([filters, schemaAccepts(request(event, filters)), subscribeRequestSchema.safeParse(request(event, filters)).success]).toEqual([filters, true, true]);
    }
    for (const filters of invalid) {
      expect([filters, schemaAccepts(request(event, filters)), subscribeRequestSchema.safeParse(request(event, filters)).success]).toEqual([filters, false, false]);
    }
  });

  test('the filter keys follow the event registry the sandbox uses', () => {
    const { filterKindFor } = jest.requireActual('../src/sandbox/events') as typeof import('../src/sandbox/events');
    for (const event of PLATFORM_EVENTS) expect([event, FILTER_KEY_FOR_EVENT[event]]).toEqual([event, filterKindFor(event)]);
  });
});

describe('a listed subscription never has a secret (contract 2.6)', () => {
  const listed = document.components.schemas.ListedSubscription as Json;
  const sub = { id: 'ntf_1', type: 'webhook', event: 'Audit:Create', uri: 'https://hooks.example.com/1', filters: {}, created_at: '2026-11-27T03:15:00Z' };

  test('no secret property for generators to type; the name itself is refused; other unknown keys are fine', () => {
    expect(Object.keys(listed.properties)).not.toContain('secret');
    expect(listed.propertyNames).toEqual({ not: { const: 'secret' } });
    const at = documentPointer('components', 'schemas', 'ListedSubscription');
    expect(validator.validateAt(at, { ...sub, secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }, 'body')).toEqual(['body must not have the property "secret"']);
    expect(validator.validateAt(at, { ...sub, secret: null }, 'body')).toEqual(['body must not have the property "secret"']);
    expect(validator.validateAt(at, { ...sub, paused: false }, 'body')).toEqual([]);
  });
});

describe('servers', () => {
  test('only the sandbox-only paths carry their own server: the local sandbox, port variable with a default', () => {
    const withServers = Object.entries(document.paths as Json).filter(([, item]) => 'servers' in (item as Json)).map(([path]) => path);
    expect(withServers.sort()).toEqual(['/sandbox/events', '/sandbox/stats']);
    for (const path of withServers) {
      expect(document.paths[path].servers).toEqual([
        expect.objectContaining({ url: 'http://127.0.0.1:{port}/v1', variables: { port: expect.objectContaining({ default: String(SANDBOX_SUGGESTED_PORT), description: expect.any(String) }) } }),
      ]);
      for (const op of Object.values(document.paths[path] as Json)) if ((op as Json).operationId) expect((op as Json)['x-sandbox-only']).toBe(true);
    }
    expect(document.servers[0].url).toBe('https://api.getecologic.com/v1');
  });

  test('the suggested port is the one the sandbox README shows, and not the receiver\'s', () => {
    const readme = readFileSync(join(root, 'src', 'sandbox', 'README.md'), 'utf8');
    expect(readme).toContain(`npm run sandbox -- --port ${SANDBOX_SUGGESTED_PORT}`);
    expect(SANDBOX_SUGGESTED_PORT).not.toBe(8787);
  });
});

describe('origin marks follow the headings of the contract prose', () => {
  /** `### 2.4 \`POST /notifications\` — subscribe — [published in principle, shape assumed]` → path, method, mark. */
  const headings = [...markdown.matchAll(/^### (2\.\d+) `(GET|POST|DELETE) ([^`?]+)[^`]*` .*— \[([^\]]+)\]$/gm)].map((m) => ({
    section: m[1]!,
    method: m[2]!.toLowerCase(),
    path: m[3]!,
    mark: m[4]!,
  }));
  /** A mixed mark ("published in principle, shape assumed") is assumed as a whole. */
  const origin = (mark: string) => (/assumed/.test(mark) ? 'assumed' : /^published/.test(mark) ? 'published' : 'unmarked');

  test('the prose marks every REST section the document has', () => {
    expect(headings.map((h) => `${h.method} ${h.path}`).sort()).toEqual(
      Object.entries(document.paths as Json)
        .filter(([path]) => !path.startsWith('/sandbox/'))
        .flatMap(([path, item]) => Object.keys(item as Json).filter((k) => k !== 'servers').map((m) => `${m} ${path}`))
        .sort(),
    );
  });

  test.each(markdown.match(/^### 2\.\d+ `.*$/gm)!.map((h) => [h]))('%s', (heading) => {
    const h = headings.find((x) => heading.startsWith(`### ${x.section} `))!;
    const op = document.paths[h.path][h.method] as Json;
    expect(op[ORIGIN_KEY]).toBe(origin(h.mark));
    expect(op.description).toMatch(new RegExp(`^\\[${origin(h.mark)}\\] `));
  });

  test('POST /notifications is assumed as a whole, its published fields marked published (the 2.4 table)', () => {
    const table = markdown.slice(markdown.indexOf('### 2.4 '), markdown.indexOf('### 2.5 '));
    const rows = [...table.matchAll(/^\| `(\w+)` \| (.*) \|$/gm)].map((m) => [m[1]!, /\*\*\[published/.test(m[2]!) ? 'published' : 'assumed'] as const);
    expect(rows.map(([key]) => key)).toEqual(['type', 'event', 'uri', 'filters']);
    for (const event of PLATFORM_EVENTS) {
      const branch = document.components.schemas[`Subscribe${event.replace(/:/g, '')}`] as Json;
      for (const [key, mark] of rows) {
        const field = branch.properties[key] as Json;
        const ref = field.$ref as string | undefined;
        const resolved = ref ? document.components.schemas[ref.split('/').pop()!] : field;
        expect([event, key, resolved[ORIGIN_KEY]]).toEqual([event, key, mark]);
      }
    }
  });

  test('every webhook is assumed as a whole (contract 3.1 and 3.2 are mixed marks); published fields keep their mark', () => {
    expect(markdown).toMatch(/^### 3\.1 Request — \[published: JSON to the URI; details assumed\]$/m);
    expect(markdown).toMatch(/^### 3\.2 Body — \[assumed, except the RequestQuote:Create fields\]$/m);
    for (const event of PLATFORM_EVENTS) expect([event, document.webhooks[event].post[ORIGIN_KEY]]).toEqual([event, 'assumed']);
    const body = document.components.schemas.RequestQuoteCreateBody.properties as Json;
    expect(body.offer_title[ORIGIN_KEY]).toBe('published');
    expect(body.event_id[ORIGIN_KEY]).toBe('assumed');
  });
});

describe('the delivery rules read as text in each webhook', () => {
  const s = PRODUCTION_SCHEDULE;
  test.each(PLATFORM_EVENTS)('%s: the description has the signing, retry, de-duplication and limit numbers', (event) => {
    const op = document.webhooks[event].post as Json;
    const text = op.description as string;
    for (const expected of [
      '`{webhook-id}.{webhook-timestamp}.{raw body}`',
      'HMAC-SHA256',
      'up to 60 min in the past, 5 min in the future',
      '`svix-id`, `svix-timestamp`, `svix-signature`',
      `within ${s.timeoutMs / 1000} s`,
      `min(${s.capDelayMs / 3_600_000} h, ${s.baseDelayMs / 1000} s · 2^(n-1))`,
      `At most ${s.maxAttempts} attempts within ${s.horizonMs / 3_600_000} hours`,
      `remembers it for ${EVENT_MEMORY_SECONDS / 3600} hours`,
      `| body: 1 MiB (${DELIVERY_LIMITS.maxBodyBytes.toLocaleString('en-AU')} bytes) | \`413\` |`,
      `| events in one delivery: ${DELIVERY_LIMITS.maxRecords.toLocaleString('en-AU')} | \`413\` |`,
      `| nesting: ${DELIVERY_LIMITS.maxNestingDepth} deep | \`400\` |`,
      `| an event id: ${DELIVERY_LIMITS.maxEventIdBytes.toLocaleString('en-AU')} bytes of UTF-8 | \`400\` |`,
    ]) {
      expect([expected, text.includes(expected)]).toEqual([expected, true]);
    }
    // The extensions stay for tools, with the same numbers.
    expect(op['x-ecologic-retries']).toMatchObject({ max_attempts: s.maxAttempts, base_delay_seconds: s.baseDelayMs / 1000 });
    expect(op['x-ecologic-limits']).toMatchObject({ max_body_bytes: DELIVERY_LIMITS.maxBodyBytes, max_events_per_delivery: DELIVERY_LIMITS.maxRecords });
  });

  test('the rendered reference shows only the origin marks and the sandbox flag, not the rules as raw JSON', () => {
    const config = parse(readFileSync(join(root, 'redocly.yaml'), 'utf8')) as Json;
    expect(config.openapi.showExtensions).toEqual([...RENDERED_EXTENSIONS]);
    for (const hidden of ['x-ecologic-signing', 'x-ecologic-retries', 'x-ecologic-deduplication', 'x-ecologic-limits']) {
      expect(config.openapi.showExtensions).not.toContain(hidden);
    }
  });
});

describe('style', () => {
  test('tags: each used tag listed once, in reading order (production paths as they come, webhooks, sandbox last)', () => {
    const listed = (document.tags as Json[]).map((t) => t.name as string);
    expect(new Set(listed).size).toBe(listed.length);
    const firstSeen: string[] = [];
    const see = (op: Json) => {
      for (const tag of (op.tags ?? []) as string[]) if (!firstSeen.includes(tag)) firstSeen.push(tag);
    };
    const paths = Object.entries(document.paths as Json);
    for (const [path, item] of paths) if (!path.startsWith('/sandbox/')) Object.values(item as Json).forEach((op) => see(op as Json));
    for (const item of Object.values(document.webhooks as Json)) see((item as Json).post);
    for (const [path, item] of paths) if (path.startsWith('/sandbox/')) Object.values(item as Json).forEach((op) => see(op as Json));
    expect(listed).toEqual(firstSeen);
    expect(listed).toEqual(['Account', 'Notifications', 'Reference data', 'Webhooks', 'Sandbox']);
  });

  test('contact email and a licence URL (not both url and identifier)', () => {
    expect(document.info.contact).toMatchObject({ email: 'partners@getecologic.com', url: 'https://www.getecologic.com' });
    expect(document.info.license).toEqual({ name: 'Proprietary', url: expect.stringMatching(/^https:\/\/www\.getecologic\.com\//) });
    expect(markdown).toMatch(/\*\*\[assumed\]\*\* Contact for partner integrations: `partners@getecologic\.com`/);
  });

  test('GET /labels describes its type parameter', () => {
    const type = (document.paths['/labels'].get.parameters as Json[]).find((p) => p.name === 'type')!;
    expect(type).toMatchObject({ in: 'query', required: true, schema: { enum: ['audit', 'quote_request'] } });
    expect(type.description).toMatch(/`audit`.*`quote_request`/);
  });
});
