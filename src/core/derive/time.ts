/**
 * The instant as milliseconds since 1970 (whole milliseconds), read from an ISO string or from
 * Unix time in seconds or milliseconds (number or digits); null when the value is not a readable
 * point in time. `isoUtc` writes it out; `localIso` uses it without writing and reading it again.
 */
export const utcMillis = (value: unknown): number | null => {
  let millis: number;
  if (typeof value === 'number' || (typeof value === 'string' && /^\s*\d{1,16}(\.\d+)?\s*$/.test(value))) {
    const n = Number(value);
    // Seconds until the year 33658; anything larger is milliseconds.
    millis = n < 1e12 ? n * 1000 : n;
  } else if (typeof value === 'string' && value.trim().length > 0 && value.length <= 64) {
    millis = Date.parse(value.trim());
  } else {
    return null;
  }
  if (!Number.isFinite(millis)) return null;
  const time = new Date(millis).getTime();
  return Number.isNaN(time) ? null : time;
};

/**
 * ISO-8601 UTC ("2026-11-27T03:15:00.000Z") from an ISO string, or from Unix time in seconds or
 * milliseconds (number or digits). Null when the value is not a readable point in time.
 */
export const isoUtc = (value: unknown): string | null => {
  const millis = utcMillis(value);
  return millis === null ? null : new Date(millis).toISOString();
};
