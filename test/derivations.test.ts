import fc from 'fast-check';
import { countryCode } from '../src/core/derive/country';
import { isoUtc } from '../src/core/derive/time';
import { phoneE164 } from '../src/core/derive/phone';
import { parsePrice } from '../src/core/derive/price';
import { actionName, auditTypeName, NO_CONTEXT, priceParts } from '../src/core/derivations';
import { KNOWN_ACTIONS, readableCode } from '../src/core/derive/codes';
import { australianStateCode } from '../src/core/derive/state';
import { propertyRuns } from './helpers';

describe('country_code', () => {
  test.each([
    ['Australia', 'AU'],
    ['australia', 'AU'],
    [' AUSTRALIA ', 'AU'],
    ['AU', 'AU'],
    ['au', 'AU'],
    ['AUS', 'AU'],
    ['aus', 'AU'],
    ['New Zealand', 'NZ'],
    ['NZL', 'NZ'],
    ['United Kingdom', 'GB'],
    ['U.S.A.', 'US'],
    ['Atlantis', null],
    ['ZZ', null],
    ['', null],
    [null, null],
    [61, null],
  ])('%p -> %p', (typed, expected) => {
    expect(countryCode(typed)).toBe(expected);
  });
});

describe('state_code', () => {
  test.each([
    ['New South Wales', 'Australia', 'NSW'],
    ['new south wales', undefined, 'NSW'],
    ['N.S.W.', 'AU', 'NSW'],
    ['nsw', 'AUS', 'NSW'],
    ['Vic', 'Australia', 'VIC'],
    ['Victoria', '', 'VIC'],
    ['Queensland', null, 'QLD'],
    ['QLD', 'Australia', 'QLD'],
    ['South Australia', 'Australia', 'SA'],
    ['WA', 'Australia', 'WA'],
    ['Western  Australia', 'Australia', 'WA'],
    ['Tasmania', 'Australia', 'TAS'],
    ['Northern Territory', 'Australia', 'NT'],
    ['Australian Capital Territory', 'Australia', 'ACT'],
    ['AU-ACT', 'Australia', 'ACT'],
    ['Victoria', 'Canada', null],
    ['WA', 'United States', null],
    ['Ontario', 'Australia', null],
    ['Sydney', undefined, null],
    ['', 'Australia', null],
  ])('%p in %p -> %p', (state, country, expected) => {
    expect(australianStateCode(state, country)).toBe(expected);
  });
});

describe('offer_price_amount and offer_price_currency', () => {
  test.each([
    ['$4,990.00', 4990, null],
    ['4990', 4990, null],
    [4990, 4990, null],
    [4990.5, 4990.5, null],
    ['AUD 4,990.50', 4990.5, 'AUD'],
    ['aud 4990', 4990, 'AUD'],
    ['A$4,990', 4990, 'AUD'],
    ['AU$ 12,500.00', 12500, 'AUD'],
    ['4,990.00 AUD', 4990, 'AUD'],
    ['$4,990.00 inc GST', 4990, null],
    ['$4,990 (incl. GST)', 4990, null],
    ['NZ$3,200', 3200, 'NZD'],
    ['US$ 99.99', 99.99, 'USD'],
    ['£1,200', 1200, 'GBP'],
    ['€ 950', 950, 'EUR'],
    ['POA', null, null],
    ['', null, null],
    ['   ', null, null],
    ['Call for price', null, null],
    ['$4,990 - $5,500', null, null],
    ['$5k', null, null],
    ['4,99,0', null, null],
    ['AUD', null, 'AUD'],
    [null, null, null],
    [Number.NaN, null, null],
  ])('%p -> %p %p', (typed, amount, currency) => {
    expect(parsePrice(typed)).toMatchObject({ amount, currency });
  });

  test.each([
    ['$4,990.00', true],
    [' $ 4,990 ', true],
    ['$4,990.00 inc GST', true],
    ['A$4,990', false],
    ['$4,990 AUD', false],
    ['NZ$3,200', false],
    ['4990', false],
    [4990, false],
    ['$POA', false],
  ])('%p says a plain dollar: %p', (typed, plainDollar) => {
    expect(parsePrice(typed).plainDollar).toBe(plainDollar);
  });

  test('a plain amount is read as the full steps read it: the same amount followed by a tax note', () => {
    // "$4,990.00" is read in one step; "$4,990.00 inc GST" takes every step, and must agree.
    const amounts = fc.tuple(fc.boolean(), fc.nat({ max: 99_999_999 }), fc.boolean(), fc.option(fc.nat({ max: 999 }), { nil: undefined }));
    fc.assert(
      fc.property(amounts, ([dollar, whole, commas, cents]) => {
        const digits = commas ? whole.toLocaleString('en-AU') : String(whole);
        const typed = `${dollar ? '$' : ''}${digits}${cents === undefined ? '' : `.${cents}`}`;
        expect(parsePrice(typed)).toEqual(parsePrice(`${typed} inc GST`));
        expect(parsePrice(typed).amount).toBe(Number(typed.replace(/[$,]/g, '')));
      }),
      propertyRuns(2000),
    );
  });
});

describe('a plain "$" is AUD where the address is Australian, and unknown elsewhere', () => {
  const offer = priceParts('offer_price');
  test.each([
    [{ offer_price: '$7,490.00', country: 'Australia' }, 'AUD'],
    [{ offer_price: '$7,490.00', country: 'au' }, 'AUD'],
    [{ offer_price: '$7,490.00', state: 'Victoria' }, 'AUD'],
    [{ offer_price: '$7,490.00', state: 'vic', country: '  ' }, 'AUD'],
    [{ offer_price: '$7,490.00', country: 'New Zealand' }, null],
    [{ offer_price: '$7,490.00', country: 'United States', state: 'NSW' }, null],
    [{ offer_price: '$7,490.00' }, null],
    [{ offer_price: '$7,490.00', state: 'Ontario' }, null],
    [{ offer_price: 'NZ$7,490', country: 'Australia' }, 'NZD'],
    [{ offer_price: 7490, country: 'Australia' }, null],
    [{ offer_price: 'POA', country: 'Australia' }, null],
  ])('%p -> %p', (item, currency) => {
    expect(offer.derive(item, NO_CONTEXT).offer_price_currency).toBe(currency);
  });
});

describe('readable names beside codes', () => {
  test.each([
    ['solar_pv', 'Solar PV'],
    [' SOLAR_PV ', 'Solar PV'],
    ['battery', 'Home Battery'],
    ['heat_pump_pool', 'Heat Pump Pool'],
    ['ev-charger-3phase', 'EV Charger 3phase'],
    ['', null],
    [null, null],
    [42, '42'],
  ])('action %p -> %p', (code, name) => {
    expect(actionName.derive({ action: code }, NO_CONTEXT).action_name).toBe(name);
  });
  test.each([
    ['home_energy', 'Home Energy Audit'],
    ['business_energy', 'Business Energy Audit'],
    ['nabers_office', 'NABERS Office'],
    [undefined, null],
  ])('audit type %p -> %p', (code, name) => {
    expect(auditTypeName.derive({ audit_type: code }, NO_CONTEXT).audit_type_name).toBe(name);
  });
  test('every product the sandbox offers has a name of its own, not a spelt-out code', () => {
    for (const [code, name] of Object.entries(KNOWN_ACTIONS)) expect(readableCode(code, KNOWN_ACTIONS)).toBe(name);
  });
});

describe('reply_phone_e164', () => {
  test.each([
    ['0412 345 678', 'Australia', '+61412345678'],
    ['0412345678', undefined, '+61412345678'],
    ['(02) 9374 4000', 'AU', '+61293744000'],
    ['+61 412 345 678', 'Australia', '+61412345678'],
    ['0011 61 412 345 678', 'Australia', '+61412345678'],
    ['07 3210 5555', null, '+61732105555'],
    ['021 123 4567', 'New Zealand', '+64211234567'],
    ['+44 20 7946 0958', 'Australia', '+442079460958'],
    ['12', 'Australia', null],
    ['0412 345', 'Australia', null],
    ['not a phone', 'Australia', null],
    ['', 'Australia', null],
    [412345678, 'Australia', '+61412345678'],
  ])('%p in %p -> %p', (typed, country, expected) => {
    expect(phoneE164(typed, country)).toBe(expected);
  });
});

describe('occurred_at', () => {
  test.each([
    ['2026-11-27T03:15:00Z', '2026-11-27T03:15:00.000Z'],
    ['2026-11-27T14:15:00+11:00', '2026-11-27T03:15:00.000Z'],
    [1796008500, '2026-11-30T03:15:00.000Z'],
    ['1796008500', '2026-11-30T03:15:00.000Z'],
    [1796008500000, '2026-11-30T03:15:00.000Z'],
    ['yesterday', null],
    ['', null],
    [null, null],
    [{}, null],
  ])('%p -> %p', (value, expected) => {
    expect(isoUtc(value)).toBe(expected);
  });
});
