import nock from 'nock';
import type { Bundle, ZObject } from 'zapier-platform-core';
import {
  API,
  API_KEY,
  definitions,
  deliveryBundle,
  fixtureBody,
  hook,
  newTester,
  SECRET,
  TARGET_URL,
  useNock,
  type HookName,
  type PartialBundle,
} from './helpers';

useNock();

// Personal data of the fixtures, the key and the secret must never reach a log line or an error.
const personalValues = (body: Record<string, unknown>): string[] => {
  const personal = /name|email|phone|street|postcode|comments|address/;
  return Object.entries(body)
    .filter(([key, value]) => personal.test(key) && typeof value === 'string' && value.trim().length >= 4)
    .map(([, value]) => (value as string).trim());
};

interface Captured {
  logs: string[];
  errors: string[];
}

/** Runs a trigger function and captures everything written through z.console and any error. */
const capture = async (triggerKey: string, name: HookName, bundle: PartialBundle, into: Captured) => {
  try {
    await newTester()(
      async (z: ZObject, b: Bundle) => {
        for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
          z.console[level] = (...args: unknown[]) => void into.logs.push(args.map(String).join(' '));
        }
        return hook(triggerKey, name)(z, b);
      },
      { authData: { api_key: API_KEY }, ...bundle },
    );
  } catch (error) {
    into.errors.push(`${(error as Error).name}: ${(error as Error).message}`);
  }
};

describe.each(definitions.map((d) => [d.triggerKey] as const))('%s', (triggerKey) => {
  const body = fixtureBody(triggerKey);
  const secrets = [API_KEY, SECRET, SECRET.slice('whsec_'.length)];

  test('no personal data, key, secret or signature in logs or errors, across every path', async () => {
    const captured: Captured = { logs: [], errors: [] };
    const valid = deliveryBundle(body, { secret: SECRET }) as Bundle;
    const signature = valid.rawRequest!.headers!['Http-Webhook-Signature']!;

    await capture(triggerKey, 'perform', valid, captured);
    await capture(triggerKey, 'perform', valid, captured); // duplicate
    await capture(triggerKey, 'perform', { ...valid, cleanedRequest: { ...body, x: 1 }, rawRequest: { ...valid.rawRequest, content: JSON.stringify({ ...body, x: 1 }) } }, captured); // tampered
    await capture(triggerKey, 'perform', deliveryBundle(body, { secret: SECRET, signedAt: new Date(Date.now() - 86_400_000) }), captured); // stale
    await capture(triggerKey, 'perform', { ...deliveryBundle(body), cleanedRequest: {}, rawRequest: { content: `not json ${JSON.stringify(body)}`, headers: {} } }, captured);
    await capture(
      triggerKey,
      'perform',
      {
        ...deliveryBundle(body),
        rawRequest: { content: '', headers: {} },
        cleanedRequest: Object.values(body).filter((v) => typeof v === 'string'),
      },
      captured,
    );
    await new Promise<void>((resolve) => {
      const cache = (z: ZObject, b: Bundle) => {
        z.cache.get = () => Promise.reject(new Error(`cache down for ${JSON.stringify(b.cleanedRequest)}`));
        return hook(triggerKey, 'perform')(z, b);
      };
      void newTester()(
        async (z: ZObject, b: Bundle) => {
          z.console.warn = (...args: unknown[]) => void captured.logs.push(args.map(String).join(' '));
          return cache(z, b);
        },
        deliveryBundle({ ...body, event_id: 'evt_cache' }),
      ).finally(resolve);
    });

    nock(API).get('/notifications/samples').query(true).reply(200, { data: [body] });
    await capture(triggerKey, 'performList', {}, captured);
    nock(API).get('/notifications/samples').query(true).reply(200, { data: [body, 'text'] });
    await capture(triggerKey, 'performList', {}, captured);
    nock(API).get('/notifications/samples').query(true).reply(500, body);
    await capture(triggerKey, 'performList', {}, captured);
    nock(API).post('/notifications').reply(400, { error: { code: 'invalid_uri' }, echo: body });
    await capture(triggerKey, 'performSubscribe', { targetUrl: TARGET_URL }, captured);
    nock(API).post('/notifications').reply(201, { no_id: true, secret: SECRET });
    await capture(triggerKey, 'performSubscribe', { targetUrl: TARGET_URL }, captured);

    expect(captured.errors.length).toBeGreaterThanOrEqual(8);
    expect(captured.logs.length).toBeGreaterThanOrEqual(3);
    const everything = [...captured.logs, ...captured.errors].join('\n');
    for (const value of [...personalValues(body), ...secrets, signature, signature.slice(3)]) {
      expect(everything).not.toContain(value);
    }
  });

  test('perform makes no HTTP request, whatever URLs the payload contains (no SSRF)', async () => {
    const attempted: string[] = [];
    const record = (req: Request) => void attempted.push(req.url);
    nock.emitter.on('no match', record);
    try {
      const withUrls = { ...body, uri: 'http://169.254.169.254/latest/meta-data', callback_url: 'https://evil.example/steal', avatar: { url: 'http://127.0.0.1:9/x' } };
      const items = await newTester()(hook(triggerKey, 'perform'), deliveryBundle(withUrls, { secret: SECRET }));
      expect(items).toHaveLength(1);
    } finally {
      nock.emitter.removeListener('no match', record);
    }
    expect(attempted).toEqual([]);
  });
});
