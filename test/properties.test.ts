import fc from 'fast-check';
import nock from 'nock';
import { documentedKeys } from '../src/core/catalog';
import { countryCode } from '../src/core/derive/country';
import { australianTimeZone, localIso, validTimeZone } from '../src/core/derive/local-time';
import { phoneE164 } from '../src/core/derive/phone';
import { parsePrice } from '../src/core/derive/price';
import { australianStateCode } from '../src/core/derive/state';
import { suburbFromStreet } from '../src/core/derive/suburb';
import { readableText } from '../src/core/derive/text';
import { isoUtc } from '../src/core/derive/time';
import { EVENT_REGISTRY } from '../src/core/event-registry';
import { platformEventNamed } from '../src/core/events';
import { normaliseDelivery, PayloadError } from '../src/core/normalise';
import { API, expectMe, deliveryBundle, newTester, propertyRuns, run, useNock } from './helpers';

useNock({ everyRequestMocked: true });

// Arbitrary JSON objects, biased toward the keys the platform documents so that trimming and
// derivation paths are exercised, not only unknown keys.
const documentedNames = [...new Set(EVENT_REGISTRY.flatMap((d) => [...documentedKeys(d.event)]))];
const key = fc.oneof(fc.constantFrom(...documentedNames, 'id', 'event_id', 'event', 'type', 'created_at', 'timestamp', 'record_id', 'delivery_id'), fc.string());
const jsonObject = fc.dictionary(key, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 25 });

const isEnvelope = (body: Record<string, unknown>) => 'data' in body;

describe.each(EVENT_REGISTRY.map((d) => [d.triggerKey, d] as const))('%s', (_key, definition) => {
  const documented = documentedKeys(definition.event);
  const fillable = new Set(definition.derivations.flatMap((d) => d.fills ?? []));

  test('normalising never throws anything but PayloadError, and every input key survives with its value', () => {
    fc.assert(
      fc.property(jsonObject, (body) => {
        fc.pre(!isEnvelope(body));
        let result;
        try {
          result = normaliseDelivery(definition, body, { receivedAt: new Date() });
        } catch (error) {
          expect(error).toBeInstanceOf(PayloadError);
          expect(Object.keys(body)).toHaveLength(0);
          return;
        }
        const namesOther = ['event', 'type'].some((k) => {
          const named = platformEventNamed(body[k]);
          return named !== undefined && named !== definition.event;
        });
        expect(result.items.length + result.skipped.otherEvent).toBe(1);
        if (namesOther) return;
        const [item] = result.items;
        for (const [k, value] of Object.entries(body)) {
          if (k === 'id') {
            // The record's own id moves aside to record_id (record_id_2… if the body has one), never away.
            const aside = Object.entries(item!).filter(([other]) => /^record_id(_\d+)?$/.test(other));
            expect(aside.some(([, v]) => JSON.stringify(v) === JSON.stringify(value))).toBe(true);
            continue;
          }
          if (k === 'event' && platformEventNamed(value) === definition.event) {
            expect(item!.event).toBe(definition.event);
            continue;
          }
          const expected = documented.has(k) && typeof value === 'string' ? value.trim() || null : value;
          // A key the app may fill in (suburb, the record's ID) is filled only where the platform sent
          // nothing usable: a value it did send always survives.
          if (fillable.has(k) && expected === null) expect([null, 'string']).toContain(item![k] === null ? null : typeof item![k]);
          else expect(item![k]).toEqual(expected);
        }
        expect(typeof item!.id).toBe('string');
        expect(item!.id).not.toBe('');
      }),
      propertyRuns(300),
    );
  });

  test('an array of objects yields one item per element (or a skip for another event)', () => {
    fc.assert(
      fc.property(fc.array(jsonObject.filter((o) => Object.keys(o).length > 0 && !isEnvelope(o)), { maxLength: 5 }), (bodies) => {
        const result = normaliseDelivery(definition, bodies, { receivedAt: new Date() });
        expect(result.items.length + result.skipped.otherEvent).toBe(bodies.length);
      }),
      propertyRuns(100),
    );
  });

  test('performList and perform give the same keys for the same payload', async () => {
    await fc.assert(
      fc.asyncProperty(jsonObject.filter((o) => Object.keys(o).length > 0 && !isEnvelope(o) && !('event' in o) && !('type' in o)), async (body) => {
        expectMe();
        nock(API).get('/notifications/samples').query(true).reply(200, { data: [body] });
        const listed = await run(newTester(), definition.triggerKey, 'performList');
        const live = await run(newTester(), definition.triggerKey, 'perform', deliveryBundle(body, { headers: {} }));
        expect(listed).toHaveLength(1);
        expect(live).toHaveLength(1);
        expect(Object.keys(listed[0]!).sort()).toEqual(Object.keys(live[0]!).sort());
      }),
      propertyRuns(15),
    );
  });
});

test('bodies that are not objects or arrays of objects are PayloadErrors, never anything else', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.oneof(fc.string(), fc.integer()), { minLength: 1 })), (body) => {
      expect(() => normaliseDelivery(EVENT_REGISTRY[0], body, { receivedAt: new Date() })).toThrow(PayloadError);
    }),
    propertyRuns(100),
  );
});

test('the derivation helpers never throw for arbitrary strings or JSON values', () => {
  const anything = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.jsonValue({ maxDepth: 2 }));
  fc.assert(
    fc.property(anything, anything, (a, b) => {
      expect(() => {
        countryCode(a);
        australianStateCode(a, b);
        phoneE164(a, b);
        parsePrice(a);
        isoUtc(a);
        readableText(a);
        suburbFromStreet(a);
        australianTimeZone(a, b, a);
        validTimeZone(a);
        localIso(a, 'Australia/Melbourne');
      }).not.toThrow();
      const suburb = suburbFromStreet(a);
      if (suburb !== null) expect(String(a).replace(/\s+/g, ' ')).toContain(suburb);
      const local = localIso(a, 'Australia/Melbourne');
      if (local !== null) expect(new Date(local).getTime()).toBe(Math.floor(new Date(isoUtc(a)!).getTime() / 1000) * 1000);
      const price = parsePrice(a);
      if (price.amount !== null) expect(Number.isFinite(price.amount)).toBe(true);
      const phone = phoneE164(a, b);
      if (phone !== null) expect(phone).toMatch(/^\+[1-9]\d{6,14}$/);
      const time = isoUtc(a);
      if (time !== null) expect(new Date(time).toISOString()).toBe(time);
    }),
    propertyRuns(2000),
  );
});
