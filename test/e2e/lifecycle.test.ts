/**
 * The whole REST-hook lifecycle of all six triggers over real loopback HTTP: connect, subscribe,
 * "Test trigger", signed delivery, Zap item, redelivery, unsubscribe, nothing afterwards.
 */
import { createAppTester } from 'zapier-platform-core';

import { type EventName, SANDBOX_EVENTS } from '../../src/sandbox/events';
import type { ZapState } from '../../src/sandbox/intake';
import { DEMO_API_KEY } from '../../src/sandbox/server';
import { hookApp, itemIds, type Loop, startLoop, zapFor } from './loop';

type AuthApp = { authentication: { test: (z: never, bundle: never) => unknown } };

describe('lifecycle of every trigger against the sandbox', () => {
  let loop: Loop;

  // Each test has a sandbox and an intake of its own and builds the lifecycle up to the step it is
  // about, so that it passes alone and in any order.
  beforeEach(async () => {
    loop = await startLoop();
  });

  afterEach(async () => {
    await loop.close();
  });

  /** One Zap per trigger, turned on (the app's performSubscribe against the sandbox). */
  async function zapPerTrigger(): Promise<Map<EventName, ZapState>> {
    const zaps = new Map<EventName, ZapState>();
    for (const def of SANDBOX_EVENTS) zaps.set(def.event, await zapFor(loop, def.event));
    return zaps;
  }

  /** Fires one event of each type (one delivery each) and waits until they have run. */
  async function fireOneOfEach(): Promise<Map<EventName, string>> {
    const fired = new Map<EventName, string>();
    for (const def of SANDBOX_EVENTS) {
      const result = loop.sandbox.fire(def.event);
      expect(result.deliveries).toBe(1);
      fired.set(def.event, result.event_ids[0]!);
    }
    await loop.settle();
    return fired;
  }

  test('the connection test reaches GET /me with the demo key and rejects an unknown key', async () => {
    const tester = createAppTester(hookApp);
    const test = (hookApp as unknown as AuthApp).authentication.test;
    const me = (await tester(test as never, { authData: { api_key: DEMO_API_KEY } } as never)) as Record<string, unknown>;
    expect(me['organisation_name']).toBe('Sunrise Solar Pty Ltd');
    expect(me['organisation_id']).toBe(loop.sandbox.organisation.organisation_id);
    await expect(tester(test as never, { authData: { api_key: 'eco_test_not_a_key' } } as never)).rejects.toMatchObject({
      name: 'ExpiredAuthError',
    });
  });

  test('turning on a Zap per trigger subscribes it with a signing secret', async () => {
    expect(loop.sandbox.subscriptions()).toHaveLength(0);
    const zaps = await zapPerTrigger();
    const subs = loop.sandbox.subscriptions();
    expect(subs).toHaveLength(6);
    for (const def of SANDBOX_EVENTS) {
      const zap = zaps.get(def.event)!;
      const sub = subs.find((s) => s.id === zap.subscribeData?.['id']);
      expect(sub).toMatchObject({ event: def.event, uri: zap.targetUrl, type: 'webhook' });
      expect(zap.subscribeData?.['secret']).toBe(sub?.secret);
      expect(String(zap.subscribeData?.['secret'])).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    }
  });

  test('subscribing the same hook URL again returns the same subscription', async () => {
    const zaps = await zapPerTrigger();
    const zap = zaps.get('Audit:Create')!;
    const again = await loop.intake.turnOn(zap.id);
    expect(again['id']).toBe(zap.subscribeData?.['id']);
    expect(again['secret']).toBe(zap.subscribeData?.['secret']);
    expect(loop.sandbox.subscriptions()).toHaveLength(6);
  });

  test('"Test trigger" (performList) returns the seeded samples of each event, newest first', async () => {
    const zaps = await zapPerTrigger();
    for (const def of SANDBOX_EVENTS) {
      const items = await loop.intake.loadSamples(zaps.get(def.event)!.id);
      expect(items.length).toBeGreaterThan(0);
      for (const item of items) {
        expect(item['event']).toBe(def.event);
        expect(String(item['id'])).toMatch(/^evt_/);
      }
      const times = items.map((i) => String(i['occurred_at']));
      expect([...times].sort().reverse()).toEqual(times);
    }
  });

  test('an event of each type becomes exactly one Zap item in its own Zap', async () => {
    const zaps = await zapPerTrigger();
    const fired = await fireOneOfEach();
    for (const def of SANDBOX_EVENTS) {
      const zap = zaps.get(def.event)!;
      expect(itemIds(zap)).toEqual([fired.get(def.event)]);
      expect(zap.items[0]?.['event']).toBe(def.event);
      expect(zap.runs.map((r) => r.outcome)).toEqual(['items']);
      // The delivery carried the Standard Webhooks headers, webhook-id being the event id.
      const [delivery] = loop.intake.deliveries(zap.id);
      expect(delivery?.headers['webhook-id']).toBe(fired.get(def.event));
      expect(delivery?.headers['webhook-signature']).toMatch(/^v1,/);
      expect(delivery?.headers['user-agent']).toBe('Ecologic-Webhooks/1.0');
      expect(JSON.parse(delivery!.body)).toMatchObject({ event_id: fired.get(def.event), event: def.event });
    }
    const quote = zaps.get('RequestQuote:Create')!.items[0]!;
    expect(quote['full_name']).toEqual(expect.any(String));
    expect(quote['reply_phone_e164']).toMatch(/^\+61\d{9}$/);
  });

  test('a redelivery of the same event (same webhook-id, new signature) produces no second item', async () => {
    const zaps = await zapPerTrigger();
    const fired = await fireOneOfEach();
    for (const def of SANDBOX_EVENTS) {
      const zap = zaps.get(def.event)!;
      expect(loop.sandbox.redeliver(String(zap.subscribeData?.['id']), fired.get(def.event)!)).toBe(true);
    }
    await loop.settle();
    for (const def of SANDBOX_EVENTS) {
      const zap = zaps.get(def.event)!;
      expect(itemIds(zap)).toEqual([fired.get(def.event)]);
      expect(zap.runs.map((r) => r.outcome)).toEqual(['items', 'empty']);
      const [first, second] = loop.intake.deliveries(zap.id);
      expect(second?.headers['webhook-id']).toBe(first?.headers['webhook-id']);
      expect(second?.body).toBe(first?.body);
    }
  });

  test('turning the Zaps off deletes the subscriptions; later events are not sent', async () => {
    const zaps = await zapPerTrigger();
    await fireOneOfEach();
    expect(loop.sandbox.subscriptions()).toHaveLength(6);
    for (const zap of zaps.values()) await loop.intake.turnOff(zap.id);
    expect(loop.sandbox.subscriptions()).toHaveLength(0);
    const received = loop.intake.stats().received;
    const before = loop.sandbox.stats().enqueued;
    for (const def of SANDBOX_EVENTS) expect(loop.sandbox.fire(def.event).deliveries).toBe(0);
    await loop.settle();
    expect(loop.sandbox.stats().enqueued).toBe(before);
    expect(loop.intake.stats().received).toBe(received);
    for (const zap of zaps.values()) expect(itemIds(zap)).toHaveLength(1);
  });

  test('unsubscribing a subscription that is already gone succeeds (410 from the sandbox)', async () => {
    const zap = await zapFor(loop, 'Audit:Assign');
    await expect(loop.intake.turnOff(zap.id)).resolves.toMatchObject({ alreadyGone: false });
    expect(loop.sandbox.subscriptions()).toHaveLength(0);
    await expect(loop.intake.turnOff(zap.id)).resolves.toMatchObject({ alreadyGone: true });
  });
});
