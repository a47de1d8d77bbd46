import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import nock from 'nock';
import { Webhook } from 'standardwebhooks';
import { createAppTester, type Bundle, type ZObject } from 'zapier-platform-core';
import app from '../index';
import { EVENT_REGISTRY, type RegisteredEvent } from '../src/core/event-registry';
import type { ZapItem } from '../src/core/normalise';

export { app };
export const API = 'https://api.getecologic.com/v1';
export const API_KEY = 'eco_test_8d1f2a9c4b7e6d5f';
export const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
export const TARGET_URL = 'https://hooks.zapier.com/hooks/standard/1234/abcd/';

export type HookName = 'perform' | 'performList' | 'performSubscribe' | 'performUnsubscribe';
type ZapFunction = (z: ZObject, bundle: Bundle) => Promise<unknown>;
export type PartialBundle = Parameters<ReturnType<typeof createAppTester>>[1];

/** A trigger operation's function, exactly as registered in the app definition. */
export const hook = (triggerKey: string, name: HookName): ZapFunction => {
  const operation = app.triggers?.[triggerKey]?.operation as Record<string, unknown> | undefined;
  const fn = operation?.[name];
  if (typeof fn !== 'function') throw new Error(`trigger ${triggerKey} has no ${name}`);
  return fn as ZapFunction;
};

/** Runs a trigger function through Zapier's app tester (middleware, z.request, z.cache mock). */
export const run = <T = ZapItem[]>(
  tester: ReturnType<typeof createAppTester>,
  triggerKey: string,
  name: HookName,
  bundle: PartialBundle = {},
): Promise<T> => tester(hook(triggerKey, name), { authData: { api_key: API_KEY }, ...bundle }) as Promise<T>;

export const newTester = () => createAppTester(app);

export const fixtureBody = (triggerKey: string): Record<string, unknown> =>
  JSON.parse(readFileSync(join(__dirname, 'fixtures', `${triggerKey}.json`), 'utf8'));

export const definitions: readonly RegisteredEvent[] = EVENT_REGISTRY;

export interface DeliveryOptions {
  secret?: string | undefined;
  /** The secret the subscription holds, when it differs from the one that signed (a forgery). */
  subscriptionSecret?: string;
  webhookId?: string;
  signedAt?: Date;
  /** Headers exactly as given, replacing the signed ones. */
  headers?: Record<string, string>;
  subscriptionId?: string;
  inputData?: Record<string, unknown>;
  rawContent?: string;
  /** The organisation's time zone, as turning the Zap on stored it in the subscription. */
  timeZone?: string;
}

/**
 * A hook bundle as Zapier builds it for a delivery: parsed `cleanedRequest`, the raw content, and
 * headers renamed to Http-Camel-Case. Signed with the standardwebhooks package when a secret is given.
 */
export const deliveryBundle = (body: unknown, options: DeliveryOptions = {}): PartialBundle => {
  const content = options.rawContent ?? JSON.stringify(body);
  const webhookId = options.webhookId ?? `msg_${Math.random().toString(36).slice(2)}`;
  const signedAt = options.signedAt ?? new Date();
  const headers: Record<string, string> = options.headers ?? {
    'Http-Content-Type': 'application/json',
    'Http-Webhook-Id': webhookId,
    'Http-Webhook-Timestamp': String(Math.floor(signedAt.getTime() / 1000)),
    ...(options.secret ? { 'Http-Webhook-Signature': new Webhook(options.secret).sign(webhookId, signedAt, content) } : {}),
  };
  return {
    authData: { api_key: API_KEY },
    inputData: options.inputData ?? {},
    cleanedRequest: body as Record<string, unknown>,
    rawRequest: { method: 'POST', querystring: '', headers, content },
    subscribeData: {
      id: options.subscriptionId ?? 'ntf_2b7Hc9',
      ...(options.subscriptionSecret ?? options.secret ? { secret: options.subscriptionSecret ?? options.secret } : {}),
      ...(options.timeZone ? { time_zone: options.timeZone } : {}),
    },
    targetUrl: TARGET_URL,
  } as PartialBundle;
};

/**
 * fast-check options for a property: `numRuns` as written under npm test. `npm run mutation` sets
 * PROPERTY_RUNS_SCALE (0.1) because every mutant re-runs each property that covers it.
 */
export const propertyRuns = (numRuns: number): { numRuns: number } => {
  const scale = Number(process.env.PROPERTY_RUNS_SCALE);
  return { numRuns: scale > 0 ? Math.max(10, Math.round(numRuns * scale)) : numRuns };
};

export const ORGANISATION_TIME_ZONE = 'Australia/Melbourne';

/**
 * The `GET /me` that turning a Zap on and "Test trigger" make, best effort, for the organisation's
 * time zone: answered with the zone by default, or with any other body or a status.
 */
export const expectMe = (reply: Record<string, unknown> | number = { organisation_id: 'org_7Qm2Lx', time_zone: ORGANISATION_TIME_ZONE }) =>
  typeof reply === 'number' ? nock(API).get('/me').reply(reply) : nock(API).get('/me').reply(200, reply);

/**
 * Every interceptor a test sets up must be used: an unused one means a request never happened.
 * `everyRequestMocked`: also every request made must have had an interceptor, so a call the code
 * makes without the test knowing (and which would fail quietly, as a best-effort call does) fails
 * the test instead.
 */
export const useNock = ({ everyRequestMocked = false }: { everyRequestMocked?: boolean } = {}) => {
  const unmatched: string[] = [];
  const record = (request: { method?: string; url?: string; path?: string }) => {
    unmatched.push(`${request.method ?? '?'} ${request.url ?? request.path ?? '?'}`);
  };
  if (everyRequestMocked) {
    beforeEach(() => {
      unmatched.length = 0;
      nock.emitter.on('no match', record);
    });
  }
  afterEach(() => {
    const pending = nock.pendingMocks();
    nock.cleanAll();
    if (everyRequestMocked) nock.emitter.removeListener('no match', record);
    expect(pending).toEqual([]);
    if (everyRequestMocked) expect(unmatched).toEqual([]);
  });
};
