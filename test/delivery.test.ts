import { Webhook } from 'standardwebhooks';
import type { Bundle, ZObject } from 'zapier-platform-core';
import type { ZapItem } from '../src/core/normalise';
import { DEDUPE_TTL_SECONDS } from '../src/zapier/dedupe';
import { deliveryBundle, fixtureBody, hook, newTester, run, SECRET, type PartialBundle } from './helpers';
import { failureAndLog } from './support/failure-log';
import { developerWords, shownMessage } from './support/partner-text';

const KEY = 'quote_request_created';
const body = fixtureBody(KEY);

/** The run's error, with what the developers' log got meanwhile as its `log`. */
const rejected = async (bundle: PartialBundle) => {
  const { error, log } = await failureAndLog(() => run(newTester(), KEY, 'perform', bundle));
  return Object.assign(error, { log });
};

describe('signed deliveries', () => {
  test('a valid signature produces the item', async () => {
    expect(await run(newTester(), KEY, 'perform', deliveryBundle(body, { secret: SECRET }))).toHaveLength(1);
  });

  test('headers in plain lowercase are accepted as well as Zapier\'s Http-Camel-Case', async () => {
    const at = new Date();
    const content = JSON.stringify(body);
    const headers = {
      'webhook-id': 'msg_1',
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': new Webhook(SECRET).sign('msg_1', at, content),
    };
    expect(await run(newTester(), KEY, 'perform', deliveryBundle(body, { secret: SECRET, headers }))).toHaveLength(1);
  });

  test('verification uses the raw content exactly as received', async () => {
    const rawContent = `{ "event_id" : "evt_raw", "first_name": "Jack" }`;
    const items = await run<ZapItem[]>(newTester(), KEY, 'perform', deliveryBundle(JSON.parse(rawContent), { secret: SECRET, rawContent }));
    expect(items.map((i) => i.id)).toEqual(['evt_raw']);
  });

  test('without raw content, the re-serialised cleanedRequest is verified', async () => {
    const bundle = deliveryBundle(body, { secret: SECRET }) as Bundle;
    delete (bundle.rawRequest as { content?: string }).content;
    expect(await run(newTester(), KEY, 'perform', bundle)).toHaveLength(1);
  });

  test.each([
    ['a tampered body', () => ({ ...deliveryBundle(body, { secret: SECRET }), cleanedRequest: { ...body, reply_email: 'x@evil.example' }, rawRequest: { ...(deliveryBundle(body, { secret: SECRET }) as Bundle).rawRequest, content: JSON.stringify({ ...body, reply_email: 'x@evil.example' }) } }), /signature did not match/],
    ['a forged signature', () => deliveryBundle(body, { secret: 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD', subscriptionSecret: SECRET }), /signature did not match/],
    ['a stale timestamp', () => deliveryBundle(body, { secret: SECRET, signedAt: new Date(Date.now() - 2 * 3600_000) }), /outside the 3600 s window/],
    ['a future timestamp', () => deliveryBundle(body, { secret: SECRET, signedAt: new Date(Date.now() + 3600_000) }), /in the future/],
    ['missing headers', () => deliveryBundle(body, { secret: SECRET, headers: { 'Http-Content-Type': 'application/json' } }), /webhook-id header is missing/],
  ])('%s is rejected as a halted run: plain words for the partner, the reason in the log, no payload', async (_what, makeBundle, reason) => {
    const error = await rejected(makeBundle() as PartialBundle);
    expect(error.name).toBe('HaltedError');
    expect(error.doNotContextify).toBe(true);
    expect(error.message).toMatch(/^Delivery rejected: this run's data could not be proven to come from Ecologic.*turn the Zap off and on again/);
    expect(developerWords(error.message)).toEqual([]);
    expect(error.log).toMatch(reason);
    expect(`${error.message}\n${error.log}`).not.toMatch(/Jack|Thompson|example\.com|0423|Banksia|whsec_|v1,/);
  });

  test('a delivery without a secret in subscribeData is accepted unverified', async () => {
    const bundle = deliveryBundle(body, { headers: {} });
    expect(await run(newTester(), KEY, 'perform', bundle)).toHaveLength(1);
  });
});

describe('duplicates and replays', () => {
  test('a retried delivery of the same event to the same Zap yields no second item', async () => {
    const tester = newTester();
    expect(await run(tester, KEY, 'perform', deliveryBundle(body, { secret: SECRET, webhookId: 'msg_a' }))).toHaveLength(1);
    expect(await run(tester, KEY, 'perform', deliveryBundle(body, { secret: SECRET, webhookId: 'msg_a' }))).toEqual([]);
  });

  test('a replay of a captured signed delivery inside the window yields nothing', async () => {
    const tester = newTester();
    const captured = deliveryBundle(body, { secret: SECRET, signedAt: new Date(Date.now() - 10 * 60_000) });
    expect(await run(tester, KEY, 'perform', captured)).toHaveLength(1);
    expect(await run(tester, KEY, 'perform', captured)).toEqual([]);
  });

  test('two Zaps receiving the same event each get it once', async () => {
    const tester = newTester();
    const zapA = deliveryBundle(body, { secret: SECRET, subscriptionId: 'ntf_a' });
    const zapB = deliveryBundle(body, { secret: SECRET, subscriptionId: 'ntf_b' });
    expect(await run(tester, KEY, 'perform', zapA)).toHaveLength(1);
    expect(await run(tester, KEY, 'perform', zapB)).toHaveLength(1);
    expect(await run(tester, KEY, 'perform', zapA)).toEqual([]);
    expect(await run(tester, KEY, 'perform', zapB)).toEqual([]);
  });

  test('different events to one Zap are all delivered', async () => {
    const tester = newTester();
    for (const id of ['evt_1', 'evt_2', 'evt_3']) {
      expect(await run(tester, KEY, 'perform', deliveryBundle({ ...body, event_id: id }))).toHaveLength(1);
    }
  });

  test('sequential duplicates under the app tester cache (which ignores nx) are caught by the first read', async () => {
    // Concurrent duplicates need Zapier's atomic nx: test/platform-variants.test.ts covers those.
    const tester = newTester();
    const results = [];
    for (let n = 0; n < 3; n += 1) results.push(await run(tester, KEY, 'perform', deliveryBundle(body, { secret: SECRET })));
    expect(results.flat()).toHaveLength(1);
  });

  test('the claim is stored with a TTL at least as long as the signature window, using nx', async () => {
    const calls: unknown[][] = [];
    await newTester()(
      async (z: ZObject, bundle: Bundle) => {
        const set = z.cache.set.bind(z.cache);
        z.cache.set = (...args: Parameters<ZObject['cache']['set']>) => {
          calls.push(args);
          return set(...args);
        };
        return hook(KEY, 'perform')(z, bundle);
      },
      deliveryBundle(body, { secret: SECRET }),
    );
    expect(calls).toHaveLength(1);
    expect(calls[0]![2]).toBe(DEDUPE_TTL_SECONDS);
    expect(DEDUPE_TTL_SECONDS).toBeGreaterThanOrEqual(3600);
    expect(calls[0]![4]).toBe(true);
  });

  test('the claim is kept under the same cache key as before: claims already stored keep catching repeats', async () => {
    const keys: unknown[] = [];
    await newTester()(
      async (z: ZObject, bundle: Bundle) => {
        const get = z.cache.get.bind(z.cache);
        z.cache.get = (...args: Parameters<ZObject['cache']['get']>) => {
          keys.push(args[0]);
          return get(...args);
        };
        return hook(KEY, 'perform')(z, bundle);
      },
      deliveryBundle(body, { secret: SECRET, subscriptionId: 'ntf_2b7Hc9' }),
    );
    // sha256 of the subscription id, a newline and the event id, in hex.
    expect(body.event_id).toBe('evt_01JDX2E7V9X1Z3B5D7F9H1K3QC');
    expect(keys).toEqual(['ecologic:delivered:21a9cbe83688e7713c79489e31eb028b4a695e5bc8279adc43383259ff3e398b']);
  });

  test('when the cache fails, the item is delivered rather than dropped, with a warning', async () => {
    const warnings: string[] = [];
    const items = (await newTester()(
      async (z: ZObject, bundle: Bundle) => {
        z.cache.get = () => Promise.reject(new Error('cache down'));
        z.console.warn = (message: string) => void warnings.push(message);
        return hook(KEY, 'perform')(z, bundle);
      },
      deliveryBundle(body, { secret: SECRET }),
    )) as ZapItem[];
    expect(items).toHaveLength(1);
    expect(warnings).toEqual([expect.stringMatching(/de-duplication cache unavailable/)]);
  });
});

describe('bodies', () => {
  test('when cleanedRequest is empty but the raw content is JSON, that is parsed', async () => {
    const bundle = { ...deliveryBundle(body), cleanedRequest: {} };
    expect(await run(newTester(), KEY, 'perform', bundle)).toHaveLength(1);
  });
  test('an array delivery yields one item per element', async () => {
    const items = await run(newTester(), KEY, 'perform', deliveryBundle([body, { ...body, event_id: 'evt_2' }]));
    expect(items.map((i) => i.id)).toEqual([body.event_id, 'evt_2']);
  });
  test('a body for another event yields no item', async () => {
    expect(await run(newTester(), KEY, 'perform', deliveryBundle({ ...body, event: 'Audit:Create' }))).toEqual([]);
  });
  test('a body that is not JSON objects is a clear error for the partner, the detail in the log, without the payload', async () => {
    const error = await rejected({ ...deliveryBundle(body), cleanedRequest: {}, rawRequest: { content: 'first_name=Jack&phone=0423456789', headers: {} } });
    expect(shownMessage(error)).toMatch(/^Ecologic sent this quote request in a form the app cannot read, so nothing was passed on/);
    expect(developerWords(shownMessage(error))).toEqual([]);
    expect(error.log).toMatch(/quote_request_created: unreadable delivery, the delivery body is not valid JSON/);
    expect(`${error.message}\n${error.log}`).not.toMatch(/Jack|0423/);
    expect(error.doNotContextify).toBe(true);
  });
});
