import { inspect } from 'node:util';
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

useNock({ everyRequestMocked: true });

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

/** A log line as it would be written: strings as they are, anything else inspected in full. */
const render = (args: unknown[]): string =>
  args.map((arg) => (typeof arg === 'string' ? arg : inspect(arg, { depth: Infinity, breakLength: Infinity }))).join(' ');

/** The names (never the values) of the sensitive values that occur in `text`. */
const leaks = (text: string, sensitive: ReadonlyArray<readonly [string, string]>): string[] =>
  sensitive.filter(([, value]) => text.includes(value)).map(([name]) => name);

const CONSOLE_LEVELS = ['log', 'info', 'warn', 'error', 'debug', 'trace', 'dir'] as const;
const PROBE = 'privacy-watch-probe';

/**
 * Watches everything that reaches the process, whatever the route: the global console (shared by
 * the app's modules and by zapier-platform-core, whose z.console forwards there) and direct writes
 * to process.stdout / process.stderr. Nothing watched is passed on.
 */
const watchProcessOutput = (): { lines: string[]; stop: () => void } => {
  const lines: string[] = [];
  const spies: Array<{ mockRestore: () => void }> = [];
  for (const level of CONSOLE_LEVELS) {
    spies.push(jest.spyOn(console, level).mockImplementation((...args: unknown[]) => void lines.push(render(args))));
  }
  for (const stream of [process.stdout, process.stderr]) {
    const write = ((chunk: unknown, ...rest: unknown[]) => {
      lines.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      rest.find((arg): arg is () => void => typeof arg === 'function')?.();
      return true;
    }) as typeof stream.write;
    spies.push(jest.spyOn(stream, 'write').mockImplementation(write));
  }
  // The watch is live on every route before anything runs under it.
  console.log(PROBE);
  console.error(PROBE);
  process.stdout.write(`${PROBE}\n`);
  process.stderr.write(`${PROBE}\n`);
  expect(lines.filter((line) => line.includes(PROBE))).toHaveLength(4);
  lines.length = 0;
  return { lines, stop: () => spies.forEach((spy) => spy.mockRestore()) };
};

/** Every test of this file runs under the watch; each asserts on what it saw. */
let processOutput: ReturnType<typeof watchProcessOutput>;
beforeEach(() => {
  processOutput = watchProcessOutput();
});
afterEach(() => processOutput.stop());

// zapier-platform-core prints every HTTP exchange, bodies included, when a developer opts in with
// these variables; that is not the app's behaviour, so they are off while this file runs.
const STDOUT_LOGGING = ['LOG_TO_STDOUT', 'DETAILED_LOG_TO_STDOUT'] as const;
const savedLogging = STDOUT_LOGGING.map((name) => [name, process.env[name]] as const);
beforeAll(() => STDOUT_LOGGING.forEach((name) => delete process.env[name]));
afterAll(() => savedLogging.forEach(([name, value]) => (value === undefined ? delete process.env[name] : (process.env[name] = value))));

/** Runs a trigger function and captures everything written through z.console and any error. */
const capture = async (triggerKey: string, name: HookName, bundle: PartialBundle, into: Captured) => {
  try {
    await newTester()(
      async (z: ZObject, b: Bundle) => {
        for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
          z.console[level] = (...args: unknown[]) => void into.logs.push(render(args));
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
  const secrets = [
    ['the API key', API_KEY],
    ['the webhook secret', SECRET],
    ['the webhook secret without its prefix', SECRET.slice('whsec_'.length)],
  ] as const;
  // [field name, value]: a leak is reported by its field name, never by its value.
  const personal = Object.entries(body).flatMap(([key, value]) => personalValues({ [key]: value }).map((v) => [key, v] as const));

  test('no personal data, key, secret or signature in logs or errors, or anywhere in the process output, across every path', async () => {
    const captured: Captured = { logs: [], errors: [] };
    const valid = deliveryBundle(body, { secret: SECRET }) as Bundle;
    const signature = valid.rawRequest!.headers!['Http-Webhook-Signature']!;
    const sensitive = [...personal, ...secrets, ['the signature', signature], ['the signature without v1,', signature.slice(3)]] as const;

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
          z.console.warn = (...args: unknown[]) => void captured.logs.push(render(args));
          return cache(z, b);
        },
        deliveryBundle({ ...body, event_id: 'evt_cache' }),
      ).finally(resolve);
    });

    // The organisation's time zone is read from GET /me alongside: its failures, which may echo the
    // organisation's or the key owner's details, are never logged in detail.
    const values = personal.map(([, value]) => value);
    const meFails = () => nock(API).get('/me').reply(500, { error: { code: 'boom', message: `no zone for ${values.join(' ')}` }, echo: body });
    const meOdd = () => nock(API).get('/me').reply(200, { organisation_name: values[0], email: values[1], time_zone: `Australia/${values[0]}` });
    meFails();
    nock(API).get('/notifications/samples').query(true).reply(200, { data: [body] });
    await capture(triggerKey, 'performList', {}, captured);
    meOdd();
    nock(API).get('/notifications/samples').query(true).reply(200, { data: [body, 'text'] });
    await capture(triggerKey, 'performList', {}, captured);
    meFails();
    nock(API).get('/notifications/samples').query(true).reply(500, body);
    await capture(triggerKey, 'performList', {}, captured);
    meOdd();
    nock(API).post('/notifications').reply(400, { error: { code: 'invalid_uri' }, echo: body });
    await capture(triggerKey, 'performSubscribe', { targetUrl: TARGET_URL }, captured);
    meFails();
    nock(API).post('/notifications').reply(201, { no_id: true, secret: SECRET });
    await capture(triggerKey, 'performSubscribe', { targetUrl: TARGET_URL }, captured);
    nock(API).get('/me').reply(200, `{"email": "${values[1]}"`); // not JSON
    nock(API).post('/notifications').reply(201, { id: 'ntf_1', secret: SECRET });
    await capture(triggerKey, 'performSubscribe', { targetUrl: TARGET_URL }, captured);

    expect(captured.errors.length).toBeGreaterThanOrEqual(8);
    expect(captured.logs.length).toBeGreaterThanOrEqual(3);
    expect(personal.length).toBeGreaterThan(0);
    expect(leaks([...captured.logs, ...captured.errors].join('\n'), sensitive)).toEqual([]);
    // The process-wide console and stdout/stderr, whoever wrote there (the app, a library, Zapier).
    expect(leaks(processOutput.lines.join('\n'), sensitive)).toEqual([]);
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
    expect(leaks(processOutput.lines.join('\n'), [...personal, ...secrets])).toEqual([]);
  });
});
