/**
 * At-least-once delivery through a flaky intake: about a fifth of the deliveries fail at Zapier's
 * side (5xx, 429, 3xx, a dropped connection, an answer lost on the way back, and a few holds past
 * the sender's timeout) and are retried. Every event must end as exactly one Zap item in every
 * matching Zap: none lost, none duplicated.
 */
import { EVENT_NAMES, type EventName } from '../../src/sandbox/events';
import type { ZapState } from '../../src/sandbox/intake';
import { matchesFilters } from '../../src/sandbox/server';
import { FAST_SCHEDULE, itemIds, type Loop, startLoop, zapFor } from './loop';

const EVENTS_PER_TYPE = 90; // 540 events in all
// The sender's timeout must be far above what the intake takes to answer (see loop.ts), here with
// 16 deliveries in flight and the runs in the same process: half a second as a rule on a machine
// with twice as many busy processes as cores, 3 to 4 s at worst. A late answer only makes a
// duplicate, which the app suppresses; a timeout near the usual answer time would make them all late
// (the cliff). Shorter than production's 15 s because this run waits for it: the holds below.
const DELIVERY = { ...FAST_SCHEDULE, timeoutMs: 10_000 };
// Holds past the sender's timeout cost the whole timeout each, so there are few: injected at the
// start, they are waited for while the rest of the run goes on. Each is held until the sender gives
// up (at most twice its timeout), so each is a timeout however slow the machine.
const TIMEOUT_FAULTS = 2;
const HOLD_MS = 2 * DELIVERY.timeoutMs;
// The run lasts the sender's timeout at least (the holds); the rest of it takes seconds on a quiet
// machine and has taken 20 to 40 s on a busy one.
const RUN_BOUND_MS = 90_000;

describe('fault run: ~20% of deliveries fail at the intake', () => {
  let loop: Loop;
  const zaps: Array<{ event: EventName; filters: { action?: string; label?: string }; zap: ZapState }> = [];
  const fired: Array<{ id: string; body: Record<string, unknown> }> = [];

  // The run itself is the shared set-up of this block; its tests only read what it left, so they
  // hold alone and in any order. Tests that change the loop have loops of their own (below).
  beforeAll(async () => {
    loop = await startLoop({
      sandbox: { delivery: DELIVERY, seed: 7 },
      faults: {
        rate: 0.2,
        modes: { server_error: 3, drop: 3, rate_limited: 1, redirect: 1, ack_lost: 1 },
        holdMs: HOLD_MS,
        retryAfter: '1',
        seed: 20261127,
      },
      concurrency: 4,
    });
    const plan: Array<[EventName, Record<string, string>]> = [
      ['Audit:Create', {}],
      ['Audit:Simulate', {}],
      ['Audit:Assign', {}],
      ['Audit:Label:Apply', {}],
      ['Audit:Label:Apply', { label: 'lbl_b8e3' }],
      ['RequestQuote:Create', {}],
      ['RequestQuote:Create', { action: 'solar_pv' }],
      ['RequestQuote:Label:Apply', { label: 'quote sent' }],
    ];
    for (const [event, filters] of plan) zaps.push({ event, filters, zap: await zapFor(loop, event, filters) });
    loop.intake.injectNext('timeout', TIMEOUT_FAULTS);
    for (let i = 0; i < EVENTS_PER_TYPE; i++) {
      for (const event of EVENT_NAMES) {
        const { event_ids } = loop.sandbox.fire(event);
        const id = event_ids[0]!;
        fired.push({ id, body: JSON.parse(loop.sandbox.rawEvent(id)!) as Record<string, unknown> });
      }
    }
    await loop.settle(RUN_BOUND_MS);
  }, RUN_BOUND_MS + 30_000);

  afterAll(async () => {
    await loop.close();
  });

  test('540 events end as exactly one item per event per matching Zap', () => {
    expect(fired.length).toBeGreaterThanOrEqual(500);
    for (const { event, filters, zap } of zaps) {
      const expected = fired.filter((f) => f.body['event'] === event && matchesFilters(filters, f.body)).map((f) => f.id);
      const got = itemIds(zap);
      expect(new Set(got).size).toBe(got.length); // none duplicated
      expect([...got].sort()).toEqual([...expected].sort()); // none lost, none foreign
      expect(expected.length).toBeGreaterThan(0);
    }

    const intake = loop.intake.stats();
    const sender = loop.sandbox.stats();
    const faulted = Object.values(intake.faulted).reduce((a, b) => a + b, 0);
    // The faults really happened, at about the rate asked for, of every kind.
    expect(faulted / intake.received).toBeGreaterThan(0.12);
    expect(faulted / intake.received).toBeLessThan(0.28);
    for (const n of Object.values(intake.faulted)) expect(n).toBeGreaterThan(0);
    expect(intake.faulted.timeout).toBe(TIMEOUT_FAULTS);
    // Every hold was a timeout to the sender, not a dropped connection.
    expect(sender.outcomes.timeout).toBeGreaterThanOrEqual(intake.faulted.timeout);
    expect(sender.outcomes.network).toBeGreaterThan(0);
    // 3xx and 429 answers were seen as such (unless the sender's timeout fired first on a busy loop).
    expect(sender.outcomes.redirect).toBeGreaterThan(0);
    expect(sender.outcomes.redirect).toBeLessThanOrEqual(intake.faulted.redirect);
    expect(sender.outcomes.rate_limited).toBeGreaterThan(0);
    expect(sender.outcomes.rate_limited).toBeLessThanOrEqual(intake.faulted.rate_limited);
    // Every delivery got through in the end. Each produced its item once; every extra acceptance
    // (an answer lost on the way back, or an answer later than the sender's timeout) was a
    // duplicate that the app suppressed. Faults other than ack_lost were never run.
    expect(sender.gaveUp).toBe(0);
    expect(sender.delivered).toBe(sender.enqueued);
    expect(intake.runs.items).toBe(sender.enqueued);
    expect(intake.runs.items + intake.runs.empty).toBe(intake.accepted);
    expect(intake.runs.empty).toBeGreaterThanOrEqual(intake.faulted.ack_lost);
    expect(intake.runs.halted + intake.runs.error).toBe(0);
    // Redirects were not followed.
    expect(intake.notFound).toBe(0);
  });

  test('every attempt of an event carried the same webhook-id, equal to the body\'s event_id', () => {
    const deliveries = zaps.map(({ zap }) => loop.intake.deliveries(zap.id)); // the last ones kept per Zap
    for (const kept of deliveries) expect(kept.length).toBeGreaterThan(0);
    for (const d of deliveries.flat()) {
      expect(d.headers['webhook-id']).toBe((JSON.parse(d.body) as { event_id: string }).event_id);
    }
  });
});

describe('faults one at a time', () => {
  let loop: Loop;
  // One delivery at a time, to an intake with nothing else to do: its answers take milliseconds even
  // on a busy machine, so a timeout far shorter than production's is still far above them, and the
  // deliberate timeout below costs 3 s. The hold lasts until the sender gives up.
  const ONE_AT_A_TIME = { ...DELIVERY, timeoutMs: 3_000 };

  // A loop of its own for every test, without random faults.
  beforeEach(async () => {
    loop = await startLoop({
      sandbox: { delivery: ONE_AT_A_TIME, seed: 7 },
      faults: { rate: 0, holdMs: 2 * ONE_AT_A_TIME.timeoutMs },
      concurrency: 4,
    });
  });

  afterEach(async () => {
    await loop.close();
  });

  test('explicit faults: the next deliveries to a Zap fail one way each, then it gets through once', async () => {
    const zap = await zapFor(loop, 'Audit:Simulate');
    const before = { items: zap.items.length, faulted: zap.requests.faulted, accepted: zap.requests.accepted };
    for (const mode of ['server_error', 'drop', 'redirect', 'rate_limited', 'timeout'] as const) loop.intake.injectNext(mode, 1, zap.id);
    const attempts = loop.sandbox.stats().attempts;
    const [id] = loop.sandbox.fire('Audit:Simulate').event_ids;
    await loop.settle();
    expect(loop.sandbox.stats().attempts - attempts).toBe(6);
    expect(zap.requests.faulted - before.faulted).toBe(5);
    expect(zap.requests.accepted - before.accepted).toBe(1);
    expect(itemIds(zap).slice(before.items)).toEqual([id]);
    expect(loop.sandbox.stats().outcomes.timeout).toBe(1);
  });

  test('a Zap turned off without unsubscribing answers 410; the platform then removes it and sends nothing more', async () => {
    const zap = await zapFor(loop, 'Audit:Assign');
    const [delivered] = loop.sandbox.fire('Audit:Assign').event_ids;
    await loop.settle();
    expect(itemIds(zap)).toEqual([delivered]);
    const subId = String(zap.subscribeData?.['id']);
    await loop.intake.turnOff(zap.id, { unsubscribe: false });
    expect(loop.sandbox.fire('Audit:Assign', { count: 3 }).deliveries).toBe(3);
    await loop.settle();
    expect(loop.sandbox.subscriptions().some((s) => s.id === subId)).toBe(false);
    // The first 410 ended that delivery and cancelled the others that had not been sent yet.
    expect(zap.requests.gone).toBeGreaterThanOrEqual(1);
    expect(zap.requests.gone).toBeLessThanOrEqual(3);
    const gone = zap.requests.gone;
    expect(loop.sandbox.fire('Audit:Assign').deliveries).toBe(0);
    await loop.settle();
    expect(zap.requests.gone).toBe(gone);
    expect(itemIds(zap)).toEqual([delivered]);
  });
});
