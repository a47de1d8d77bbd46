/**
 * ISO-8601 UTC ("2026-11-27T03:15:00.000Z") from an ISO string, or from Unix time in seconds or
 * milliseconds (number or digits). Null when the value is not a readable point in time.
 */
export const isoUtc = (value: unknown): string | null => {
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
  const date = new Date(millis);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
};
