// The identity rule end to end through Zapier's runtime: for any set of distinct events, delivered
// in any order, with retries, replays and batches mixed in, each Zap ends with exactly one item per
// event, never two and never none.
import fc from 'fast-check';
import type { ZapItem } from '../src/core/normalise';
import { deliveryBundle, newTester, propertyRuns, run, SECRET, type PartialBundle } from './helpers';

const TRIGGER = 'quote_request_created';
const ZAPS = ['ntf_zap_a', 'ntf_zap_b'];

interface EventSpec {
  /** How the event names itself: an event_id, an envelope id, or nothing but its delivery. */
  readonly ownId: 'event_id' | 'numeric_event_id' | 'envelope_id' | 'none';
  readonly envelope: boolean;
  /** Every event carries the same resource id: it must never merge events. */
  readonly sharesResourceId: boolean;
}

const eventSpec = fc.record<EventSpec>({
  ownId: fc.constantFrom('event_id', 'numeric_event_id', 'envelope_id', 'none'),
  envelope: fc.boolean(),
  sharesResourceId: fc.boolean(),
});

const recordOf = (spec: EventSpec, n: number): Record<string, unknown> => {
  const fields: Record<string, unknown> = { first_name: `Person ${n}`, probe: n };
  if (spec.sharesResourceId) fields.id = 'qr_shared';
  if (spec.ownId === 'event_id') fields.event_id = `evt_${n}`;
  if (spec.ownId === 'numeric_event_id') fields.event_id = 1000 + n;
  if (spec.ownId === 'envelope_id') return { id: `evt_env_${n}`, type: 'RequestQuote:Create', data: fields };
  return spec.envelope ? { type: 'RequestQuote:Create', data: fields } : fields;
};

/**
 * Deliveries: events are split into consecutive groups (a group of one is a single delivery, more
 * is a batch); events that carry their own id may also travel again inside another delivery.
 * Each delivery is sent 1-3 times (retries, freshly signed) and may be replayed byte for byte.
 */
const scenario = fc
  .array(eventSpec, { minLength: 1, maxLength: 10 })
  .chain((specs) =>
    fc.record({
      specs: fc.constant(specs),
      groupSizes: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: specs.length, maxLength: specs.length }),
      resends: fc.array(fc.subarray(specs.map((_, n) => n)), { maxLength: 2 }),
      attempts: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 20, maxLength: 20 }),
      replays: fc.array(fc.boolean(), { minLength: 20, maxLength: 20 }),
      signed: fc.boolean(),
      order: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 80, maxLength: 80 }),
    }),
  );

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

const sendsOf = ({ specs, groupSizes, resends, attempts, replays, signed }: Scenario, zap: string): PartialBundle[] => {
  const groups: number[][] = [];
  for (let n = 0, g = 0; n < specs.length; g += 1) {
    groups.push(specs.map((_, i) => i).slice(n, n + groupSizes[g]!));
    n += groupSizes[g]!;
  }
  // Only events with an id of their own can be recognised in another delivery.
  for (const resend of resends) {
    const again = resend.filter((n) => specs[n]!.ownId !== 'none');
    if (again.length > 0) groups.push(again);
  }
  const sends: PartialBundle[] = [];
  groups.forEach((group, d) => {
    const records = group.map((n) => recordOf(specs[n]!, n));
    const body = records.length === 1 ? records[0] : records;
    const options = signed ? { secret: SECRET, webhookId: `msg_${d}`, subscriptionId: zap } : { headers: {}, subscriptionId: zap };
    for (let attempt = 0; attempt < attempts[d % 20]!; attempt += 1) {
      const bundle = deliveryBundle(body, options);
      sends.push(bundle);
      if (replays[d % 20]) sends.push(bundle);
    }
  });
  return sends;
};

test('each Zap ends with exactly one item per event', async () => {
  await fc.assert(
    fc.asyncProperty(scenario, async (s) => {
      const tester = newTester();
      for (const zap of ZAPS) {
        const sends = sendsOf(s, zap)
          .map((bundle, i) => ({ bundle, key: s.order[i % 80]! + i * 1e-9 }))
          .sort((a, b) => a.key - b.key);
        const items: ZapItem[] = [];
        for (const { bundle } of sends) items.push(...(await run(tester, TRIGGER, 'perform', bundle)));
        const probes = items.map((item) => item.probe as number).sort((a, b) => a - b);
        expect(probes).toEqual(s.specs.map((_, n) => n));
        expect(new Set(items.map((item) => item.id)).size).toBe(items.length);
      }
    }),
    propertyRuns(60),
  );
});
