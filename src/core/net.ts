// Small HTTP facts that the app and the sandbox (the platform's side) both need.
import { usableId } from './identity';

/** 127.0.0.0/8, localhost or ::1 (with or without the brackets URL.hostname keeps for IPv6). */
export const isLoopbackHost = (hostname: string): boolean => {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
};

/**
 * https, or plain http to a loopback host (a local sandbox): the only addresses an API key, a
 * subscription or a customer's data may be sent to.
 */
export const isHttpsOrLoopback = (url: URL): boolean =>
  url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));

/**
 * `Retry-After` as milliseconds from `nowMs`: delta-seconds (`120`) or an HTTP date. Unparseable or
 * absent values give undefined (negative or fractional seconds are not valid); past dates give 0.
 */
export const retryAfterMs = (value: string | string[] | null | undefined, nowMs: number = Date.now()): number | undefined => {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined || raw === null) return undefined;
  const text = raw.trim();
  if (text === '') return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (/^[+-]?\d*\.?\d+$/.test(text)) return undefined;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
};

/**
 * An id as one URL-encoded path segment, or null when it cannot be one: empty, `.` and `..` would
 * name the collection or its parent (`DELETE /notifications/` or `DELETE /`) instead of the resource.
 */
export const pathSegment = (value: unknown): string | null => {
  const text = usableId(value);
  return text === null || text === '.' || text === '..' ? null : encodeURIComponent(text);
};
