/**
 * The sandbox's generated events conform to the contract (docs/ecologic-api.md section 4) as the app
 * understands it: every non-derived field the app documents is present, and the app's own
 * normalisation and Zap item schema accept every body. Also the small pure helpers of the sandbox.
 * No sockets here (this runs in the unit project).
 */
import { fieldsOf } from '../../src/core/catalog';
import { KNOWN_ACTIONS } from '../../src/core/derive/codes';
import { eventDefinition, schemaFor } from '../../src/core/event-registry';
import { normaliseDelivery } from '../../src/core/normalise';
import { parseArgs } from '../../src/sandbox/cli';
import { EVENT_NAMES, SANDBOX_EVENTS } from '../../src/sandbox/events';
import {
  ACTIONS,
  auditUrl,
  createRng,
  findAction,
  findLabel,
  formatAud,
  generateEventBody,
  LABELS,
  newEventId,
  newWebhookSecret,
  quoteRequestUrl,
} from '../../src/sandbox/fixtures';
import { maskEmail, maskPhone } from '../../src/sandbox/format';
import { zapierHeaderName } from '../../src/sandbox/intake';
import { ApiError, matchesFilters, validateFilters } from '../../src/sandbox/server';

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
    const { event_id: idA, quote_request_id: qa, quote_request_url: _ua, occurred_at: _ta, ...restA } = a;
    const { event_id: idB, quote_request_id: qb, quote_request_url: _ub, occurred_at: _tb, ...restB } = b;
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

  test('the RequestQuote:Create field set is exactly the published one plus suburb, quote_request_id and quote_request_url', () => {
    const body = generateEventBody('RequestQuote:Create');
    expect(Object.keys(body).sort()).toEqual(
      [
        'event_id', 'event', 'occurred_at', 'action', 'supplier_name', 'offer_title', 'offer_description', 'offer_price',
        'first_name', 'last_name', 'street', 'suburb', 'postcode', 'state', 'country', 'reply_email', 'reply_phone', 'comments',
        'quote_request_id', 'quote_request_url',
      ].sort(),
    );
  });
});

describe("the record's web address", () => {
  const RECORD = {
    'RequestQuote:Create': ['quote_request_id', 'quote_request_url', /^qr_/, 'https://app.getecologic.com/quote-requests/'],
    'RequestQuote:Label:Apply': ['quote_request_id', 'quote_request_url', /^qr_/, 'https://app.getecologic.com/quote-requests/'],
    'Audit:Create': ['audit_id', 'audit_url', /^aud_/, 'https://app.getecologic.com/audits/'],
    'Audit:Simulate': ['audit_id', 'audit_url', /^aud_/, 'https://app.getecologic.com/audits/'],
    'Audit:Assign': ['audit_id', 'audit_url', /^aud_/, 'https://app.getecologic.com/audits/'],
    'Audit:Label:Apply': ['audit_id', 'audit_url', /^aud_/, 'https://app.getecologic.com/audits/'],
  } as const;

  test('every event type is covered', () => {
    expect(Object.keys(RECORD).sort()).toEqual([...EVENT_NAMES].sort());
  });

  test.each(EVENT_NAMES.map((e) => [e]))('%s carries the absolute https address of its record, built from its id', (event) => {
    const [idKey, urlKey, idPattern, prefix] = RECORD[event];
    const other = idKey === 'audit_id' ? 'quote_request_url' : 'audit_url';
    const rng = createRng(7);
    const urls = new Set<unknown>();
    for (let i = 0; i < 50; i++) {
      const body = generateEventBody(event, { rng, messy: 0.5 });
      const id = body[idKey];
      expect(id).toMatch(idPattern);
      expect(body[urlKey]).toBe(`${prefix}${id as string}`);
      const url = new URL(body[urlKey] as string);
      expect([url.protocol, url.host, url.search, url.hash]).toEqual(['https:', 'app.getecologic.com', '', '']);
      expect(body).not.toHaveProperty(other);
      urls.add(body[urlKey]);
    }
    expect(urls.size).toBe(50); // one record each
  });

  test('the address helpers follow the documented pattern', () => {
    expect(quoteRequestUrl('qr_5Lm3Dw')).toBe('https://app.getecologic.com/quote-requests/qr_5Lm3Dw');
    expect(auditUrl('aud_8Hq2Xk')).toBe('https://app.getecologic.com/audits/aud_8Hq2Xk');
    expect(auditUrl('aud/../x y')).toBe('https://app.getecologic.com/audits/aud%2F..%2Fx%20y');
  });

  test('a label event about a known quote request or audit carries that record\'s address', () => {
    const created = generateEventBody('RequestQuote:Create');
    const labelled = generateEventBody('RequestQuote:Label:Apply', { data: { quote_request_id: created.quote_request_id } });
    expect(labelled['quote_request_id']).toBe(created['quote_request_id']);
    expect(labelled['quote_request_url']).toBe(created['quote_request_url']);
    const audit = generateEventBody('Audit:Create');
    for (const event of ['Audit:Simulate', 'Audit:Assign', 'Audit:Label:Apply'] as const) {
      expect(generateEventBody(event, { data: { audit_id: audit.audit_id } })['audit_url']).toBe(audit['audit_url']);
    }
    // An address set in data wins; a record without an id has no address.
    const own = generateEventBody('Audit:Create', { data: { audit_id: 'aud_1', audit_url: 'https://app.getecologic.com/a/1' } });
    expect(own['audit_url']).toBe('https://app.getecologic.com/a/1');
    expect(generateEventBody('Audit:Create', { data: { audit_id: null } })['audit_url']).toBeNull();
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

  test('the action list of GET /actions is the app\'s KNOWN_ACTIONS, in its order', () => {
    expect(ACTIONS).toEqual(Object.entries(KNOWN_ACTIONS).map(([code, name]) => ({ code, name })));
    expect(ACTIONS.map((a) => a.code)).toEqual(['solar_pv', 'battery', 'solar_battery', 'heat_pump_hot_water', 'ev_charger', 'reverse_cycle_ac']);
  });

  test('matchesFilters with an action list: any of the codes, in any case', () => {
    expect(matchesFilters({ action: ['battery', ' SOLAR_PV '] }, { action: 'solar_pv' })).toBe(true);
    expect(matchesFilters({ action: ['battery', 'solar_pv'] }, { action: ' Battery ' })).toBe(true);
    expect(matchesFilters({ action: ['battery', 'solar_pv'] }, { action: 'ev_charger' })).toBe(false);
    expect(matchesFilters({ action: ['solar_pv'] }, {})).toBe(false);
    expect(matchesFilters({ action: ['solar_pv'] }, { action: 7 })).toBe(false);
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

  test('validateFilters: an action code or a list of 1 to 20, echoed as sent', () => {
    expect(validateFilters('RequestQuote:Create', { action: 'SOLAR_PV' })).toEqual({ action: 'SOLAR_PV' });
    expect(validateFilters('RequestQuote:Create', { action: ['solar_pv', ' Battery '] })).toEqual({ action: ['solar_pv', ' Battery '] });
    expect(validateFilters('RequestQuote:Create', { action: ['ev_charger'] })).toEqual({ action: ['ev_charger'] });
    const twenty = Array.from({ length: 20 }, (_, i) => ACTIONS[i % ACTIONS.length]!.code);
    expect(validateFilters('RequestQuote:Create', { action: twenty })).toEqual({ action: twenty });
    // The result does not share the array sent.
    const sent = ['solar_pv'];
    const kept = validateFilters('RequestQuote:Create', { action: sent });
    sent.push('battery');
    expect(kept).toEqual({ action: ['solar_pv'] });
  });

  const filterError = (filters: unknown, event: Parameters<typeof validateFilters>[0] = 'RequestQuote:Create'): ApiError => {
    try {
      validateFilters(event, filters);
    } catch (err) {
      if (err instanceof ApiError) return err;
      throw err;
    }
    throw new Error('accepted');
  };

  test.each<[string, unknown, RegExp]>([
    ['an empty list', { action: [] }, /filters\.action must be an action code or an array of 1 to 20 action codes/],
    ['21 codes', { action: Array.from({ length: 21 }, () => 'solar_pv') }, /1 to 20 action codes \(it has 21\)/],
    ['an unknown code in the list', { action: ['solar_pv', 'nuclear_fusion'] }, /^filters\.action\[1\] is not a known action code$/],
    ['a number in the list', { action: ['solar_pv', 42] }, /^filters\.action\[1\] must be a non-empty string$/],
    ['null in the list', { action: [null] }, /^filters\.action\[0\] must be a non-empty string$/],
    ['an empty string in the list', { action: ['solar_pv', '  '] }, /^filters\.action\[1\] must be a non-empty string$/],
    ['a nested list', { action: [['solar_pv']] }, /^filters\.action\[0\] must be a non-empty string$/],
    ['an object', { action: { code: 'solar_pv' } }, /^filters\.action must be an action code or an array/],
    ['a number', { action: 7 }, /^filters\.action must be an action code or an array/],
    ['an unknown code', { action: 'wind' }, /^filters\.action is not a known action code$/],
  ])('validateFilters refuses %s with 400 invalid_filter, without repeating the value', (_name, filters, message) => {
    const error = filterError(filters);
    expect({ status: error.status, code: error.code }).toEqual({ status: 400, code: 'invalid_filter' });
    expect(error.message).toMatch(message);
    expect(error.message).not.toMatch(/nuclear|wind|42/);
  });

  test('a label filter is one label id or name, or a list of 1 to 20; an action list does not apply to other events', () => {
    expect(validateFilters('RequestQuote:Label:Apply', { label: 'Site visit booked' })).toEqual({ label: 'Site visit booked' });
    expect(validateFilters('RequestQuote:Label:Apply', { label: ['lbl_4kd8'] })).toEqual({ label: ['lbl_4kd8'] });
    expect(validateFilters('RequestQuote:Label:Apply', { label: ['lbl_4kd8', 'quote SENT '] })).toEqual({ label: ['lbl_4kd8', 'quote SENT '] });
    expect(filterError({ label: ['Paid in full'] }, 'RequestQuote:Label:Apply')).toMatchObject({ status: 400, code: 'invalid_filter', message: 'filters.label[0] is not a known quote_request label id or name' });
    expect(filterError({ label: [] }, 'RequestQuote:Label:Apply').message).toBe('filters.label must be a quote_request label id or name or an array of 1 to 20 label ids or names (it has 0)');
    expect(filterError({ label: Array.from({ length: 21 }, () => 'lbl_4kd8') }, 'RequestQuote:Label:Apply').message).toMatch(/\(it has 21\)$/);
    expect(filterError({ label: ['lbl_4kd8', 7] }, 'RequestQuote:Label:Apply').message).toBe('filters.label[1] must be a non-empty string');
    expect(filterError({ label: 'lbl_c5f7' }, 'RequestQuote:Label:Apply').message).toBe('filters.label is not a known quote_request label id or name');
    expect(filterError({ label: { id: 'lbl_4kd8' } }, 'Audit:Label:Apply').message).toMatch(/^filters\.label must be an audit label id or name or an array/);
    expect(filterError({ action: ['solar_pv'] }, 'Audit:Create').message).toBe('filters.action does not apply to Audit:Create');
  });

  test('an event matches a label list when its label ID or name is any of them', () => {
    const body = { label_id: 'lbl_4kd8', label: 'Site visit booked' };
    expect(matchesFilters({ label: ['Quote sent', 'LBL_4KD8'] }, body)).toBe(true);
    expect(matchesFilters({ label: ['Quote sent', ' site visit booked '] }, body)).toBe(true);
    expect(matchesFilters({ label: ['Quote sent', 'Lost'] }, body)).toBe(false);
    expect(matchesFilters({ label: 'site visit booked' }, body)).toBe(true);
    expect(matchesFilters({ label: 'Quote sent, Site visit booked' }, body)).toBe(false);
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
