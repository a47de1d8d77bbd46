import fc from 'fast-check';
import { countryCode } from '../src/core/derive/country';
import { australianFastPath, DEFAULT_PHONE_REGION, phoneE164, phoneE164ByLibrary } from '../src/core/derive/phone';
import { readableText } from '../src/core/derive/text';
import { propertyRuns } from './helpers';

// phoneE164 answers plain Australian numbers without the library (see australianFastPath). Its
// answer must be the library's, always: these tests compare the two over many generated numbers.

/** What phoneE164 gave before the fast path: the library on every number. */
const byLibrary = (phone: unknown, country: unknown): string | null => {
  const typed = readableText(phone);
  if (typed === null || typed.length > 40) return null;
  return phoneE164ByLibrary(typed, countryCode(country) ?? DEFAULT_PHONE_REGION);
};

const COUNTRIES = ['Australia', 'australia', 'AU', 'AUS', null, '', 'New Zealand', 'Christmas Island', 'Cocos (Keeling) Islands', 'United States', 'United Kingdom', 'Antarctica', 'Narnia'];

test('plain Australian numbers take the fast path and get the library’s answer', () => {
  const cases: [string, unknown][] = [
    ['0423 456 789', 'Australia'],
    ['0423456789', null],
    ['(03) 9374 4000', 'AU'],
    ['02-9374-4000', 'australia'],
    ['04.23.45.67.89', 'AU'],
    ['+61 423 456 789', 'Australia'],
    ['+61 423 456 789', 'New Zealand'],
    ['+61 423 456 789', 'Narnia'],
    ['+ 61 (4) 2345-6789', 'United States'],
    ['423 456 789', 'Australia'],
    ['0491 570 159', 'Australia'],
    ['08 9123 4567', 'AU'],
    ['07 3210 5555', null],
  ];
  for (const [typed, country] of cases) {
    const expected = byLibrary(typed, country);
    expect(expected).toMatch(/^\+61\d{9}$/);
    expect(australianFastPath(typed, countryCode(country) ?? DEFAULT_PHONE_REGION)).toBe(expected);
    expect(phoneE164(typed, country)).toBe(expected);
  }
});

test('numbers outside the plain forms are left to the library', () => {
  const left: [string, string][] = [
    ['0011 61 423 456 789', 'AU'], // international prefix
    ['61 423 456 789', 'AU'], // country code without +
    ['+61 (0) 423 456 789', 'AU'], // trunk 0 after the country code
    ['0423 456 789', 'NZ'], // national form, region not Australia
    ['0423 456 789 ext 12', 'AU'], // extension
    ['0423\t456\t789', 'AU'], // other white space
    ['1300 123 456', 'AU'], // first digit 1
    ['0891 621 234', 'AU'], // Christmas Island: valid there, not in Australia
    ['+61 891 621 234', 'AU'],
    ['0441 000 000', 'AU'], // not a valid number: the library says so
  ];
  for (const [typed, region] of left) expect(australianFastPath(typed, region)).toBeUndefined();
  expect(phoneE164('0891 621 234', 'Australia')).toBe('+61891621234');
  expect(phoneE164('0441 000 000', 'Australia')).toBeNull();
});

test('every four-digit start of an Australian geographic or mobile number gets the library’s answer', () => {
  let fast = 0;
  let rest = 12345;
  for (const first of '23478') {
    for (let next = 0; next < 1000; next += 1) {
      // A different tail for each start (a simple LCG keeps the test deterministic).
      rest = (rest * 1103515245 + 12345) % 2147483648;
      const national = `${first}${String(next).padStart(3, '0')}${String(rest % 100000).padStart(5, '0')}`;
      for (const typed of [`0${national}`, `+61 ${national.slice(0, 3)} ${national.slice(3, 6)} ${national.slice(6)}`]) {
        const expected = byLibrary(typed, 'Australia');
        expect([typed, phoneE164(typed, 'Australia')]).toEqual([typed, expected]);
        if (australianFastPath(typed, 'AU') !== undefined) fast += 1;
      }
    }
  }
  // Most of these are valid Australian numbers, so the fast path answered them.
  expect(fast).toBeGreaterThan(2000);
});

test('generated numbers, plain or not, get the library’s answer', () => {
  const digits = (min: number, max: number) => fc.array(fc.constantFrom(...'0123456789'), { minLength: min, maxLength: max }).map((d) => d.join(''));
  const national = fc.oneof(
    fc.tuple(fc.constantFrom(...'23478'), digits(8, 8)).map(([a, b]) => a + b),
    fc.tuple(fc.constantFrom('4', '49', '483', '8', '891', '8916', '851', '2', '3', '7'), digits(5, 9)).map(([a, b]) => (a + b).slice(0, 9)),
    digits(0, 13),
  );
  const prefix = fc.constantFrom('', '0', '+61', '61', '+', '00', '0011', '+610', '(0', '+1', '+64', '+44', '+6', '0061', '1831');
  const separator = fc.constantFrom('', '', '', ' ', '-', '.', '(', ')', '  ', '/', '\t', 'x', '#', ',', ' ext ', '+', '\u00a0');
  const typed = fc
    .tuple(prefix, national, fc.array(fc.tuple(fc.nat(12), separator), { maxLength: 4 }), fc.constantFrom('', ' ', ')', '.', ' x'))
    .map(([p, n, seps, end]) => {
      let text = p + n;
      for (const [at, sep] of seps) text = text.slice(0, at) + sep + text.slice(at);
      return text + end;
    });
  let fast = 0;
  fc.assert(
    fc.property(typed, fc.constantFrom(...COUNTRIES), (phone, country) => {
      expect(phoneE164(phone, country)).toBe(byLibrary(phone, country));
      if (australianFastPath(phone, countryCode(country) ?? DEFAULT_PHONE_REGION) !== undefined) fast += 1;
    }),
    propertyRuns(10000),
  );
  // The generator reaches the fast path, not only the library.
  expect(fast).toBeGreaterThan(propertyRuns(10000).numRuns / 50);
});
