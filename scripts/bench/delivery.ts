import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { passThroughApp, passThroughPerform } from './pass-through-app';
import { sameDefinitionApp } from './same-definition-app';
import zapier, { createAppTester, type Bundle, type ZObject } from 'zapier-platform-core';
import { EVENT_REGISTRY } from '../../src/core/event-registry';
import { normaliseDelivery } from '../../src/core/normalise';
import { BenchError, median, msSince, quantile, ratioOfRounds, round, type RoundedRatio } from './stats';

export const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
export const SUBSCRIPTION_ID = 'ntf_bench_2b7Hc9';
export const QUOTE_TRIGGER = 'quote_request_created';

type Perform = (z: ZObject, bundle: Bundle) => unknown;
type Tester = (perform: Perform, bundle: object) => Promise<unknown>;
interface AppLike {
  triggers?: Record<string, { operation?: { perform?: unknown } }>;
}

export const fixtureBody = (root: string, triggerKey: string): Record<string, unknown> =>
  JSON.parse(readFileSync(join(root, 'test', 'fixtures', `${triggerKey}.json`), 'utf8')) as Record<string, unknown>;

/**
 * A delivery as Zapier hands it to `perform`: the parsed body, the raw content and the
 * Standard Webhooks headers renamed to Http-Camel-Case, signed now, with a fresh event id so the
 * app's de-duplication never drops it.
 */
export const signedBundle = (template: Record<string, unknown>, n: number) => {
  const eventId = `evt_bench_${n}_${randomBytes(6).toString('hex')}`;
  const webhookId = `msg_bench_${n}_${randomBytes(6).toString('hex')}`;
  const body = { ...template, event_id: eventId };
  const content = JSON.stringify(body);
  const signedAt = new Date();
  return {
    eventId,
    bundle: {
      cleanedRequest: JSON.parse(content) as Record<string, unknown>,
      rawRequest: {
        method: 'POST',
        querystring: '',
        content,
        headers: {
          'Http-Content-Type': 'application/json',
          'Http-Webhook-Id': webhookId,
          'Http-Webhook-Timestamp': String(Math.floor(signedAt.getTime() / 1000)),
          'Http-Webhook-Signature': new Webhook(SECRET).sign(webhookId, signedAt, content),
        },
      },
      subscribeData: { id: SUBSCRIPTION_ID, secret: SECRET },
      inputData: {},
      authData: { api_key: 'x' },
    },
  };
};

/** The floor: a hook trigger that passes the delivery through untouched. */
export const passThrough = () => ({ app: passThroughApp(zapier.version), perform: passThroughPerform });

const performOf = (app: AppLike, triggerKey: string): Perform => {
  const perform = app.triggers?.[triggerKey]?.operation?.perform;
  if (typeof perform !== 'function') throw new BenchError(`the app has no trigger ${triggerKey} with a perform`);
  return perform as Perform;
};

export interface DeliveryResult {
  readonly iterations: number;
  readonly warmup: number;
  readonly appMs: Summary;
  readonly passThroughMs: Summary;
  readonly ratio: number;
  /** The app's exact definition with every hook trigger's perform a pass-through: the fairer floor. */
  readonly sameDefinitionMs: Summary;
  readonly sameDefinitionRatio: number;
  /** Diagnostic: the same perform hosted in an app holding only its trigger. */
  readonly oneTriggerAppMs: Summary;
  /** The platform compiles and freezes the app definition on every invocation (twice); ms per call. */
  readonly prepareAppMs: { readonly app: number; readonly oneTriggerApp: number; readonly passThrough: number; readonly sameDefinition: number };
}

interface Summary {
  readonly median: number;
  readonly p10: number;
  readonly p90: number;
}

const summary = (samples: readonly number[]): Summary => ({
  median: round(median(samples), 4),
  p10: round(quantile(samples, 0.1), 4),
  p90: round(quantile(samples, 0.9), 4),
});

/**
 * Signed `RequestQuote:Create` deliveries through createAppTester and the app's `perform`, against
 * two floors: the one-trigger pass-through app, and the app's own definition with every hook
 * trigger's perform a pass-through (same samples, output fields, dropdowns, auth, beforeRequest).
 * All runners are interleaved (order rotated) in this process on the same template; every run must
 * return exactly one item (carrying the delivery's event id). A fourth runner, the app's perform in
 * a one-trigger app, shows how much of the difference is the definition's size.
 */
export const measureDelivery = async (root: string, iterations: number, warmup: number): Promise<DeliveryResult> => {
  const app = require(join(root, 'index.js')) as AppLike & { version?: string; platformVersion?: string };
  const appPerform = performOf(app, QUOTE_TRIGGER);
  const oneTriggerApp = { version: app.version, platformVersion: app.platformVersion, triggers: { [QUOTE_TRIGGER]: app.triggers![QUOTE_TRIGGER] } };
  const floor = passThrough();
  const sameDefinition = sameDefinitionApp(app);
  const template = fixtureBody(root, QUOTE_TRIGGER);
  if (template.event !== 'RequestQuote:Create') throw new BenchError(`fixture ${QUOTE_TRIGGER}.json is not a RequestQuote:Create event`);

  // Outside tests, core logs a memory line on every invocation; it would flood the report.
  const log = console.log;
  console.log = (...args: unknown[]) => {
    if (args[0] !== 'ZID:') log(...args);
  };

  let n = 0;
  const runner = (name: string, definition: object, perform: Perform, idOf: (item: Record<string, unknown>) => unknown) => {
    const tester = createAppTester(definition) as unknown as Tester;
    return async (): Promise<number> => {
      const { bundle, eventId } = signedBundle(template, (n += 1));
      const start = process.hrtime.bigint();
      const items = await tester(perform, bundle);
      const ms = msSince(start);
      if (!Array.isArray(items) || items.length !== 1 || idOf(items[0] as Record<string, unknown>) !== eventId) {
        throw new BenchError(`${name} returned ${JSON.stringify(items)?.slice(0, 300)} for event ${eventId}; expected exactly 1 item for it`);
      }
      return ms;
    };
  };
  const runners = [
    runner("the app's perform", app, appPerform, (item) => item.id),
    runner('the pass-through trigger', floor.app, floor.perform, (item) => item.event_id),
    runner("the app's perform in a one-trigger app", oneTriggerApp, appPerform, (item) => item.id),
    runner('the same-definition pass-through', sameDefinition.app, sameDefinition.performOf(QUOTE_TRIGGER), (item) => item.event_id),
  ];
  const samples: number[][] = runners.map(() => []);
  try {
    for (let i = 0; i < warmup + iterations; i += 1) {
      for (let k = 0; k < runners.length; k += 1) {
        const which = (i + k) % runners.length;
        const ms = await runners[which]!();
        if (i >= warmup) samples[which]!.push(ms);
      }
    }
  } finally {
    console.log = log;
  }

  // Diagnostic: the cost of compiling each definition, which core repeats on every invocation.
  const { prepareApp } = require('zapier-platform-core/src/tools/schema') as { prepareApp: (app: object) => unknown };
  const prepareMs = (definition: object) => {
    const times: number[] = [];
    for (let i = 0; i < 250; i += 1) {
      const start = process.hrtime.bigint();
      prepareApp(definition);
      times.push(msSince(start));
    }
    return round(median(times.slice(50)), 4);
  };

  const appMs = summary(samples[0]!);
  const passThroughMs = summary(samples[1]!);
  const sameDefinitionMs = summary(samples[3]!);
  return {
    iterations,
    warmup,
    appMs,
    passThroughMs,
    ratio: round(appMs.median / passThroughMs.median),
    sameDefinitionMs,
    sameDefinitionRatio: round(appMs.median / sameDefinitionMs.median),
    oneTriggerAppMs: summary(samples[2]!),
    prepareAppMs: {
      app: prepareMs(app),
      oneTriggerApp: prepareMs(oneTriggerApp),
      passThrough: prepareMs(floor.app),
      sameDefinition: prepareMs(sameDefinition.app),
    },
  };
};

export interface DeliveryRounds {
  /** Each round's own result, in the order they ran. */
  readonly rounds: readonly DeliveryResult[];
  /** Per round: app median / one-trigger pass-through median. */
  readonly ratio: RoundedRatio;
  /** Per round: app median / same-definition pass-through median. */
  readonly sameDefinitionRatio: RoundedRatio;
  /** Medians over the rounds of each runner's per-round median, ms. */
  readonly appMs: number;
  readonly passThroughMs: number;
  readonly sameDefinitionMs: number;
  readonly oneTriggerAppMs: number;
  readonly prepareAppMs: DeliveryResult['prepareAppMs'];
}

/**
 * measureDelivery in `rounds` fresh processes, one after another (the runners interleaved within
 * each): each ratio is the median of the rounds' ratios, with their spread. `script` is the built
 * delivery-round.js.
 */
export const measureDeliveryRounds = (root: string, script: string, rounds: number, iterations: number, warmup: number): DeliveryRounds => {
  const results: DeliveryResult[] = [];
  for (let r = 0; r < rounds; r += 1) {
    const run = spawnSync(process.execPath, [script, root, String(iterations), String(warmup)], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    if (run.status !== 0) throw new BenchError(`per-delivery round ${r + 1} failed (exit ${run.status ?? run.signal}): ${run.stderr || run.error}`);
    results.push(JSON.parse(run.stdout.trim().split('\n').pop()!) as DeliveryResult);
  }
  const mid = (pick: (result: DeliveryResult) => number) => round(median(results.map(pick)), 4);
  return {
    rounds: results,
    ratio: ratioOfRounds(results.map((result) => result.ratio)),
    sameDefinitionRatio: ratioOfRounds(results.map((result) => result.sameDefinitionRatio)),
    appMs: mid((result) => result.appMs.median),
    passThroughMs: mid((result) => result.passThroughMs.median),
    sameDefinitionMs: mid((result) => result.sameDefinitionMs.median),
    oneTriggerAppMs: mid((result) => result.oneTriggerAppMs.median),
    prepareAppMs: {
      app: mid((result) => result.prepareAppMs.app),
      oneTriggerApp: mid((result) => result.prepareAppMs.oneTriggerApp),
      passThrough: mid((result) => result.prepareAppMs.passThrough),
      sameDefinition: mid((result) => result.prepareAppMs.sameDefinition),
    },
  };
};

export interface NormaliserResult {
  readonly triggerKey: string;
  readonly event: string;
  readonly eventsPerSec: number;
  readonly iterations: number;
  readonly microsPerEvent: number;
}

/** `normaliseDelivery` alone on each event's fixture: events per second over `ms` after a warm-up. */
export const measureNormaliser = (root: string, ms: number): NormaliserResult[] =>
  EVENT_REGISTRY.map((definition) => {
    const body = fixtureBody(root, definition.triggerKey);
    const meta = { webhookId: 'msg_bench', webhookTimestamp: String(Math.floor(Date.now() / 1000)), receivedAt: new Date() };
    const once = () => normaliseDelivery(definition, body, meta);
    const check = once();
    if (check.items.length !== 1) {
      throw new BenchError(`normaliseDelivery gave ${check.items.length} items for test/fixtures/${definition.triggerKey}.json; expected 1`);
    }
    const warmupEnd = process.hrtime.bigint() + BigInt(Math.round((ms / 4) * 1e6));
    while (process.hrtime.bigint() < warmupEnd) once();
    let iterations = 0;
    const start = process.hrtime.bigint();
    let elapsed = 0;
    while (elapsed < ms) {
      for (let i = 0; i < 100; i += 1) once();
      iterations += 100;
      elapsed = msSince(start);
    }
    return {
      triggerKey: definition.triggerKey,
      event: definition.event,
      eventsPerSec: Math.round((iterations / elapsed) * 1000),
      iterations,
      microsPerEvent: round((elapsed * 1000) / iterations, 2),
    };
  });
