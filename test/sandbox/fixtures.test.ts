/**
 * The sandbox's generated events conform to the contract (docs/ecologic-api.md section 4) as the app
 * understands it: every non-derived field the app documents is present, and the app's own
 * normalisation and Zap item schema accept every body. Also the small pure helpers of the sandbox.
 * No sockets here (this runs in the unit project).
 */
import { fieldsOf } from '../../src/core/catalog';
import { eventDefinition, schemaFor } from '../../src/core/event-registry';
import { normaliseDelivery } from '../../src/core/normalise';
import { parseArgs } from '../../src/sandbox/cli';
import { EVENT_NAMES, SANDBOX_EVENTS } from '../../src/sandbox/events';
import {
  createRng,
  findAction,
  findLabel,
  formatAud,
  generateEventBody,
  LABELS,
  newEventId,
  newWebhookSecret,
} from '../../src/sandbox/fixtures';
import { maskEmail, maskPhone } from '../../src/sandbox/format';
import { zapierHeaderName } from '../../src/sandbox/intake';
import { matchesFilters } from '../../src/sandbox/server';

describe('generated event bodies', () => {
  test.each(EVENT_NAMES.map((e) => [e]))('%s: 200 bodies carry every contract field and pass the app unchanged', (event) => {
    const rng = createRng(1234);
    const definition = eventDefinition(event);
    const contractKeys = fieldsOf(event)
      .filter((f) => f.origin !== 'derived')
      .map((f) => f.key);
    for (let i = 0; i < 200; i++) {
      const body = generateEventBody(event, { rng, messy: 0.5 });
      expect(body).toMatchObject({ event, event_id: expect.stringMatching(/^evt_[0-9A-HJKMNP-TV-Z]{26}$/) });
      expect(body.occurred_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      for (const key of contractKeys) expect(Object.keys(body)).toContain(key);
      const { items } = normaliseDelivery(definition, JSON.parse(JSON.stringify(body)), { receivedAt: new Date() });
      expect(items).toHaveLength(1);
      expect(items[0]?.id).toBe(body.event_id);
      schemaFor(event).parse(items[0]);
      // The phones are valid Australian numbers, whichever way they were typed.
      const phone = items[0]?.['phone_e164'] ?? items[0]?.['reply_phone_e164'];
      if (phone !== undefined) expect(phone).toMatch(/^\+61\d{9}$/);
      // The state is one the app recognises, however it was spelt.
      if ('state' in body) expect(items[0]?.['state_code']).toMatch(/^(NSW|VIC|QLD)$/);
    }
  });

  test('the same seed gives the same data (ids stay random)', () => {
    const a = generateEventBody('RequestQuote:Create', { rng: createRng(5) });
    const b = generateEventBody('RequestQuote:Create', { rng: createRng(5) });
    const { event_id: idA, quote_request_id: qa, occurred_at: _ta, ...restA } = a;
    const { event_id: idB, quote_request_id: qb, occurred_at: _tb, ...restB } = b;
    expect(restA).toEqual(restB);
    expect(idA).not.toBe(idB);
    expect(qa).not.toBe(qb);
  });

  test('data overrides fields; action and label hints resolve to consistent values', () => {
    const quote = generateEventBody('RequestQuote:Create', { data: { action: 'battery', postcode: '2000' } });
    expect(quote).toMatchObject({ action: 'battery', postcode: '2000' });
    expect(String(quote['offer_title'])).toMatch(/Battery/);
    const label = generateEventBody('Audit:Label:Apply', { data: { label: 'report SENT' } });
    expect(label).toMatchObject({ label_id: 'lbl_c5f7', label: 'Report sent' });
    expect(generateEventBody('Audit:Create', { data: { event: 'RequestQuote:Create' } }).event).toBe('Audit:Create');
  });

  test('the RequestQuote:Create field set is exactly the published one plus quote_request_id', () => {
    const body = generateEventBody('RequestQuote:Create');
    expect(Object.keys(body).sort()).toEqual(
      [
        'event_id', 'event', 'occurred_at', 'action', 'supplier_name', 'offer_title', 'offer_description', 'offer_price',
        'first_name', 'last_name', 'street', 'postcode', 'state', 'country', 'reply_email', 'reply_phone', 'comments',
        'quote_request_id',
      ].sort(),
    );
  });
});

describe('ids, secrets and formats', () => {
  test('event ids are unique and roughly time-ordered', () => {
    const ids = new Set(Array.from({ length: 5000 }, () => newEventId()));
    expect(ids.size).toBe(5000);
    expect(newEventId(1_000) < newEventId(2_000_000_000_000)).toBe(true);
  });

  test('secrets are whsec_ + base64 of 24 random bytes', () => {
    const s = newWebhookSecret();
    expect(s).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(Buffer.from(s.slice(6), 'base64')).toHaveLength(24);
    expect(newWebhookSecret()).not.toBe(s);
  });

  test('prices look like the platform shows them', () => {
    expect(formatAud(4990)).toBe('$4,990.00');
    expect(formatAud(15490.5)).toBe('$15,490.50');
  });

  test('Zapier-style header names', () => {
    expect(zapierHeaderName('webhook-id')).toBe('Http-Webhook-Id');
    expect(zapierHeaderName('webhook-signature')).toBe('Http-Webhook-Signature');
    expect(zapierHeaderName('content-type')).toBe('Http-Content-Type');
    expect(zapierHeaderName('user-agent')).toBe('Http-User-Agent');
  });

  test('demo masking keeps a value recognisable but not usable', () => {
    expect(maskEmail('olivia.nguyen@example.com.au')).toBe('o***@example.com.au');
    expect(maskEmail(' Wei.chen@example.net')).toBe('W***@example.net');
    expect(maskEmail('nope')).toBe('***');
    expect(maskPhone('+61491570156')).toBe('+6149****156');
    expect(maskPhone('0491 570 156')).toBe('0491 *** 156');
  });
});

describe('filters and lookups', () => {
  test('actions by code in any case; labels by id or name in any case, within their type', () => {
    expect(findAction(' SOLAR_PV ')?.code).toBe('solar_pv');
    expect(findAction('Solar PV')).toBeUndefined();
    expect(findLabel('quote_request', 'site visit booked')?.id).toBe('lbl_4kd8');
    expect(findLabel('audit', 'site visit booked')?.id).toBe('lbl_b8e3');
    expect(findLabel('audit', 'LBL_C5F7')?.name).toBe('Report sent');
    expect(findLabel('audit', 'Quote sent')).toBeUndefined();
    expect(LABELS.filter((l) => l.type === 'audit')).toHaveLength(4);
  });

  test('matchesFilters', () => {
    const body = { action: 'solar_pv', label_id: 'lbl_4kd8', label: 'Site visit booked' };
    expect(matchesFilters({}, body)).toBe(true);
    expect(matchesFilters({ action: 'SOLAR_PV' }, body)).toBe(true);
    expect(matchesFilters({ action: 'battery' }, body)).toBe(false);
    expect(matchesFilters({ label: 'lbl_4kd8' }, body)).toBe(true);
    expect(matchesFilters({ label: ' site VISIT booked ' }, body)).toBe(true);
    expect(matchesFilters({ label: 'Won' }, body)).toBe(false);
    expect(matchesFilters({ action: 'solar_pv' }, {})).toBe(false);
  });

  test('the sandbox takes its events and filters from the app\'s registry', () => {
    expect(SANDBOX_EVENTS.map((e) => e.event)).toEqual([...EVENT_NAMES]);
    expect(Object.fromEntries(SANDBOX_EVENTS.filter((e) => e.filter).map((e) => [e.triggerKey, e.filter]))).toEqual({
      audit_label_applied: 'label',
      quote_request_created: 'action',
      quote_request_label_applied: 'label',
    });
  });
});

describe('cli arguments', () => {
  test('serve is the default; flags take values', () => {
    expect(parseArgs([])).toEqual({ command: 'serve', flags: {} });
    expect(parseArgs(['--port', '8080', '--unsigned'])).toEqual({ command: 'serve', flags: { port: '8080', unsigned: true } });
    expect(parseArgs(['fire', 'Audit:Create', '--url=http://127.0.0.1:1', '--count', '3'])).toEqual({
      command: 'fire',
      event: 'Audit:Create',
      flags: { url: 'http://127.0.0.1:1', count: '3' },
    });
    expect(parseArgs(['--help']).command).toBe('help');
    expect(parseArgs(['bogus']).command).toBe('help');
  });
});
