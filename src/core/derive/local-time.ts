import { australianStateCode } from './state';
import { readableText } from './text';
import { utcMillis } from './time';

// Each state's and territory's zone, and the two places whose clocks differ from the rest of
// their state, by postcode: Broken Hill and the far west of New South Wales keep South
// Australia's time; Lord Howe Island keeps its own, half an hour of daylight saving.
const STATE_ZONES: Readonly<Record<string, string>> = {
  NSW: 'Australia/Sydney',
  ACT: 'Australia/Sydney',
  VIC: 'Australia/Melbourne',
  QLD: 'Australia/Brisbane',
  SA: 'Australia/Adelaide',
  WA: 'Australia/Perth',
  TAS: 'Australia/Hobart',
  NT: 'Australia/Darwin',
};

const POSTCODE_ZONES: Readonly<Record<string, string>> = {
  '2880': 'Australia/Broken_Hill',
  '2898': 'Australia/Lord_Howe',
};

/**
 * The IANA zone of an address in Australia (country Australia or not given) that names a state
 * or territory; null when it names none or is elsewhere.
 */
export const australianTimeZone = (state: unknown, postcode: unknown, country: unknown): string | null => {
  const code = australianStateCode(state, country);
  if (code === null) return null;
  const exception = code === 'NSW' ? POSTCODE_ZONES[readableText(postcode) ?? ''] : undefined;
  return exception ?? STATE_ZONES[code]!;
};

// One formatter per zone, made on first use (a formatter costs far more than a format). Zones come
// from the table above and the organisations' accounts, a handful in all; the bound only keeps
// odd input from growing the cache.
// Each entry keeps the zone's canonical name beside its formatter: the organisation's zone is
// checked for every record of a delivery, and reading it back from the formatter allocates.
interface ZoneEntry {
  readonly formatter: Intl.DateTimeFormat;
  readonly canonical: string;
  /** The zone's offsets around the present, made on the first local time asked of it. */
  offsets?: OffsetTable;
}
const formatters = new Map<string, ZoneEntry | null>();
const MAX_FORMATTERS = 64;

const zoneEntry = (zone: string): ZoneEntry | null => {
  let entry = formatters.get(zone);
  if (entry !== undefined) return entry;
  try {
    const formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    entry = { formatter, canonical: formatter.resolvedOptions().timeZone };
  } catch {
    entry = null;
  }
  if (formatters.size >= MAX_FORMATTERS) formatters.clear();
  formatters.set(zone, entry);
  return entry;
};

// An IANA name ("Australia/Melbourne", "UTC", "Etc/GMT-10"); not an offset such as "+10:00",
// which some versions of Intl also accept.
const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/;

/**
 * The zone in its canonical spelling (`australia/sydney` gives `Australia/Sydney`) when Intl knows
 * it as an IANA time zone; otherwise null, never an error.
 */
export const validTimeZone = (zone: unknown): string | null => {
  if (typeof zone !== 'string') return null;
  const name = zone.trim();
  if (name.length === 0 || name.length > 64 || !ZONE_NAME.test(name)) return null;
  return zoneEntry(name)?.canonical ?? null;
};

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

// What the zone's en-US formatter writes: "11/27/2026, 13:08:33". Reading the string back is a
// fraction of the cost of `formatToParts`, which builds an object per part; a shape other than
// this one (another ICU) is read from the parts instead.
const WALL_CLOCK = /^(\d+)\/(\d+)\/(\d+), (\d+):(\d+):(\d+)$/;

/** The wall-clock time in the formatter's zone at `instant`, as if that time were UTC. */
const wallClock = (formatter: Intl.DateTimeFormat, instant: number): number => {
  const shown = WALL_CLOCK.exec(formatter.format(instant));
  if (shown) return Date.UTC(Number(shown[3]), Number(shown[1]) - 1, Number(shown[2]), Number(shown[4]), Number(shown[5]), Number(shown[6]));
  const part: Record<string, number> = {};
  for (const { type, value } of formatter.formatToParts(instant)) if (type !== 'literal') part[type] = Number(value);
  return Date.UTC(part.year!, part.month! - 1, part.day!, part.hour!, part.minute!, part.second!);
};

const offsetAt = (formatter: Intl.DateTimeFormat, instant: number): number => wallClock(formatter, instant) - instant;

/**
 * A zone's UTC offset over a window of days around the present: `offsets[i]` (ms) from `starts[i]`
 * until the next start, the last one until `to`. Every delivery's time is near the present, so
 * a local time is a look-up here rather than a formatting of the date; times outside the window
 * are formatted as before. Made from the zone's formatter: sampled once a day, each change of
 * offset then found to the second (several in one day each in turn). Zones change their clocks
 * months apart, never and back within a day, which a daily sample would miss; the tests compare
 * the table with the formatter for every zone Intl knows.
 */
interface OffsetTable {
  readonly from: number;
  readonly to: number;
  readonly starts: readonly number[];
  readonly offsets: readonly number[];
}

const DAY_MS = 86_400_000;
const WINDOW_DAYS = 200;
// A table is made again around the new present this long before the window ends.
const RENEW_BEFORE_MS = 30 * DAY_MS;

const offsetTable = (formatter: Intl.DateTimeFormat, now: number): OffsetTable => {
  const from = Math.floor(now / DAY_MS) * DAY_MS - WINDOW_DAYS * DAY_MS;
  const to = from + 2 * WINDOW_DAYS * DAY_MS;
  const starts = [from];
  const offsets = [offsetAt(formatter, from)];
  for (let at = from + DAY_MS; at <= to; at += DAY_MS) {
    const sampled = offsetAt(formatter, at);
    while (sampled !== offsets.at(-1)) {
      // The offset at `lo` is the current one and at `hi` it is not: halve to the second.
      const current = offsets.at(-1)!;
      let lo = Math.max(starts.at(-1)!, at - DAY_MS);
      let hi = at;
      while (hi - lo > 1000) {
        const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
        if (offsetAt(formatter, mid) === current) lo = mid;
        else hi = mid;
      }
      starts.push(hi);
      offsets.push(offsetAt(formatter, hi));
    }
  }
  return { from, to, starts, offsets };
};

/** The wall clock at `instant` (whole seconds) in the entry's zone, as if that time were UTC. */
const wallClockIn = (entry: ZoneEntry, instant: number): number => {
  const now = Date.now();
  if (entry.offsets === undefined || now > entry.offsets.to - RENEW_BEFORE_MS) entry.offsets = offsetTable(entry.formatter, now);
  const { from, to, starts, offsets } = entry.offsets;
  if (instant < from || instant > to) return wallClock(entry.formatter, instant);
  let i = starts.length - 1;
  while (starts[i]! > instant) i -= 1;
  return instant + offsets[i]!;
};

/**
 * The same instant (anything `isoUtc` reads) as wall-clock time in `zone`, to the second, with its numeric offset:
 * "2026-11-23T11:18:52+11:00" (always `±hh:mm`, never `Z`, never milliseconds). Null when the
 * instant is unreadable, outside the years 1000 to 9999, or the zone is not one Intl knows.
 */
export const localIso = (time: unknown, zone: string): string | null => {
  const millis = utcMillis(time);
  if (millis === null) return null;
  const instant = Math.floor(millis / 1000) * 1000;
  const year = new Date(instant).getUTCFullYear();
  if (year < 1000 || year > 9999) return null;
  const entry = zoneEntry(zone);
  if (entry === null) return null;
  const wall = wallClockIn(entry, instant);
  const offsetMinutes = (wall - instant) / 60_000;
  // Before standard time (the 1890s), zones kept local mean time, offsets in odd seconds that
  // ISO 8601 cannot write.
  if (!Number.isInteger(offsetMinutes) || Math.abs(offsetMinutes) > 18 * 60) return null;
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${new Date(wall).toISOString().slice(0, 19)}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
};

/** For tests: the offset table of a zone as localIso now uses it. */
export const offsetTableOf = (zone: string): OffsetTable | null => {
  const entry = zoneEntry(zone);
  if (entry === null) return null;
  wallClockIn(entry, Date.now() - (Date.now() % 1000));
  return entry.offsets!;
};
