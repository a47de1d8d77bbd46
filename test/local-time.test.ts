import fc from 'fast-check';
import { australianTimeZone, localIso, offsetTableOf, validTimeZone } from '../src/core/derive/local-time';
import { propertyRuns } from './helpers';

describe("the customer's time zone from an Australian address", () => {
  test.each([
    ['NSW', '2000', 'Australia', 'Australia/Sydney'],
    ['New South Wales', '2150', undefined, 'Australia/Sydney'],
    ['ACT', '2600', 'AU', 'Australia/Sydney'],
    ['Victoria', '3056', 'australia', 'Australia/Melbourne'],
    ['QLD', '4000', '', 'Australia/Brisbane'],
    ['South Australia', '5000', null, 'Australia/Adelaide'],
    ['WA', '6000', 'Australia', 'Australia/Perth'],
    ['Tasmania', '7000', 'Australia', 'Australia/Hobart'],
    ['NT', '0800', 'Australia', 'Australia/Darwin'],
    ['NSW', '2880', 'Australia', 'Australia/Broken_Hill'],
    ['NSW', ' 2880 ', 'Australia', 'Australia/Broken_Hill'],
    ['NSW', 2880, 'Australia', 'Australia/Broken_Hill'],
    ['NSW', '2898', 'Australia', 'Australia/Lord_Howe'],
    // A postcode does not override the state named.
    ['VIC', '2880', 'Australia', 'Australia/Melbourne'],
    // No state, or not in Australia: not known from the address.
    [null, '2880', 'Australia', null],
    ['', '3056', 'Australia', null],
    ['Victoria', '3056', 'Canada', null],
    ['WA', '98101', 'United States', null],
    ['Ontario', null, null, null],
  ])('%p %p %p -> %p', (state, postcode, country, zone) => {
    expect(australianTimeZone(state, postcode, country)).toBe(zone);
  });
});

describe('an organisation time zone is used only when Intl knows it', () => {
  test.each([
    ['Australia/Melbourne', 'Australia/Melbourne'],
    [' Australia/Perth ', 'Australia/Perth'],
    ['Pacific/Auckland', 'Pacific/Auckland'],
    ['UTC', 'UTC'],
    ['Etc/GMT-10', 'Etc/GMT-10'],
    ['Australia/Atlantis', null],
    ['Melbourne', null],
    ['+10:00', null],
    ['', null],
    [null, null],
    [undefined, null],
    [10, null],
    ['Australia/'.repeat(10), null],
  ])('%p -> %p', (zone, valid) => {
    expect(validTimeZone(zone)).toBe(valid);
  });
});

describe('the same instant on the local clock', () => {
  test.each([
    // Melbourne: daylight saving in November, standard time in June.
    ['2026-11-23T00:18:52.000Z', 'Australia/Melbourne', '2026-11-23T11:18:52+11:00'],
    ['2026-06-23T00:18:52.000Z', 'Australia/Melbourne', '2026-06-23T10:18:52+10:00'],
    // Brisbane: no daylight saving.
    ['2026-11-23T00:18:52Z', 'Australia/Brisbane', '2026-11-23T10:18:52+10:00'],
    ['2026-06-23T00:18:52Z', 'Australia/Brisbane', '2026-06-23T10:18:52+10:00'],
    // Half hours, and Lord Howe's half-hour daylight saving.
    ['2026-06-23T00:18:52Z', 'Australia/Adelaide', '2026-06-23T09:48:52+09:30'],
    ['2026-11-23T00:18:52Z', 'Australia/Adelaide', '2026-11-23T10:48:52+10:30'],
    ['2026-06-23T00:00:00Z', 'Australia/Darwin', '2026-06-23T09:30:00+09:30'],
    ['2026-11-23T00:00:00Z', 'Australia/Lord_Howe', '2026-11-23T11:00:00+11:00'],
    ['2026-06-23T00:00:00Z', 'Australia/Lord_Howe', '2026-06-23T10:30:00+10:30'],
    ['2026-11-23T00:00:00Z', 'Australia/Perth', '2026-11-23T08:00:00+08:00'],
    // The date changes with the clock; negative offsets; UTC itself.
    ['2026-11-23T20:00:00Z', 'Australia/Sydney', '2026-11-24T07:00:00+11:00'],
    ['2026-06-23T02:00:00Z', 'America/St_Johns', '2026-06-22T23:30:00-02:30'],
    ['2026-06-23T02:00:00Z', 'UTC', '2026-06-23T02:00:00+00:00'],
    // Around the change to daylight saving in Melbourne (2am on the first Sunday of October).
    ['2026-10-03T15:59:59Z', 'Australia/Melbourne', '2026-10-04T01:59:59+10:00'],
    ['2026-10-03T16:00:00Z', 'Australia/Melbourne', '2026-10-04T03:00:00+11:00'],
    // Anything isoUtc reads; milliseconds dropped, never rounded up.
    ['2026-11-23T11:18:52.999+11:00', 'Australia/Melbourne', '2026-11-23T11:18:52+11:00'],
    [1796008500, 'Australia/Melbourne', '2026-11-30T14:15:00+11:00'],
    ['1796008500000', 'Australia/Melbourne', '2026-11-30T14:15:00+11:00'],
    // Not readable, not a zone, or before standard time: null.
    ['last week', 'Australia/Melbourne', null],
    ['', 'Australia/Melbourne', null],
    [null, 'Australia/Melbourne', null],
    ['2026-11-23T00:18:52Z', 'Mars/Olympus_Mons', null],
    ['1880-01-01T00:00:00Z', 'Australia/Melbourne', null],
  ])('%p in %p -> %p', (time, zone, local) => {
    expect(localIso(time, zone)).toBe(local);
  });

  test('the local time is the same instant as the UTC one', () => {
    for (const zone of ['Australia/Sydney', 'Australia/Broken_Hill', 'Australia/Eucla', 'Asia/Kathmandu', 'America/New_York']) {
      for (let day = 0; day < 365; day += 7) {
        const utc = new Date(Date.UTC(2026, 0, 1 + day, 13, 37, 5)).toISOString();
        const local = localIso(utc, zone);
        expect(local).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/);
        expect(new Date(local!).toISOString()).toBe(utc);
      }
    }
  });
});

/**
 * localIso as it was first written, from the formatter's parts: the wall clock is now read from the
 * formatted string, which must give the same answer for every instant and zone.
 */
const referenceFormatters = new Map<string, Intl.DateTimeFormat>();
const referenceFormatter = (zone: string): Intl.DateTimeFormat => {
  let formatter = referenceFormatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    referenceFormatters.set(zone, formatter);
  }
  return formatter;
};

const fromParts = (iso: string, zone: string): string | null => {
  const instant = Math.floor(Date.parse(iso) / 1000) * 1000;
  const year = new Date(instant).getUTCFullYear();
  if (year < 1000 || year > 9999) return null;
  const formatter = referenceFormatter(zone);
  const part: Record<string, number> = {};
  for (const { type, value } of formatter.formatToParts(instant)) if (type !== 'literal') part[type] = Number(value);
  const wall = Date.UTC(part.year!, part.month! - 1, part.day!, part.hour!, part.minute!, part.second!);
  const offset = (wall - instant) / 60_000;
  if (!Number.isInteger(offset) || Math.abs(offset) > 18 * 60) return null;
  const abs = Math.abs(offset);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${new Date(wall).toISOString().slice(0, 19)}${offset < 0 ? '-' : '+'}${two(Math.floor(abs / 60))}:${two(abs % 60)}`;
};

test('the local time read from the formatted clock is the one its parts give, any instant, any zone', () => {
  const zones = Intl.supportedValuesOf('timeZone');
  const instants = fc.oneof(
    fc.date({ min: new Date('1000-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }),
    fc.date({ min: new Date('1850-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }),
  );
  fc.assert(
    fc.property(instants, fc.constantFrom(...zones), (date, zone) => {
      const iso = date.toISOString();
      expect(localIso(iso, zone)).toBe(fromParts(iso, zone));
    }),
    propertyRuns(1500),
  );
});

describe('local times near the present come from each zone’s table of offsets', () => {
  const zones = Intl.supportedValuesOf('timeZone');
  const iso = (instant: number) => new Date(instant).toISOString();

  test('every zone: at each change of offset, the seconds around it, and throughout the window', () => {
    let changes = 0;
    const differ: string[] = [];
    for (const zone of zones) {
      const table = offsetTableOf(zone)!;
      expect(table.to - table.from).toBeGreaterThan(300 * 86_400_000);
      expect(table.from).toBeLessThan(Date.now() - 100 * 86_400_000);
      const instants = [table.from, table.to];
      for (const start of table.starts.slice(1)) {
        changes += 1;
        instants.push(start - 3_600_000, start - 1000, start, start + 1000, start + 3_600_000);
      }
      // Every 97 hours and 13 minutes through the window: each hour of the day, over the weeks.
      for (let at = table.from; at <= table.to; at += 97 * 3_600_000 + 13 * 60_000) instants.push(at);
      for (const instant of instants) if (localIso(iso(instant), zone) !== fromParts(iso(instant), zone)) differ.push(`${zone} ${iso(instant)}`);
      // Each start is a change: consecutive offsets differ.
      table.offsets.slice(1).forEach((offset, i) => expect(offset).not.toBe(table.offsets[i]));
    }
    expect(differ).toEqual([]);
    // Daylight saving somewhere in the world: the tables found its changes.
    expect(changes).toBeGreaterThan(50);
  });

  test('the Australian zones, every hour of the window', () => {
    const differ: string[] = [];
    for (const zone of ['Australia/Sydney', 'Australia/Melbourne', 'Australia/Adelaide', 'Australia/Broken_Hill', 'Australia/Lord_Howe', 'Australia/Hobart', 'Australia/Brisbane', 'Australia/Perth', 'Australia/Darwin']) {
      const table = offsetTableOf(zone)!;
      for (let at = table.from; at <= table.to; at += 3_600_000) if (localIso(iso(at), zone) !== fromParts(iso(at), zone)) differ.push(`${zone} ${iso(at)}`);
    }
    expect(differ).toEqual([]);
  });
});
