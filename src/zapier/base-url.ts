import { ECOLOGIC_API_BASE_URL } from '../core/links';
import { isHttpsOrLoopback } from '../core/net';
import { appError } from './errors';

export const DEFAULT_API_BASE_URL = ECOLOGIC_API_BASE_URL;

/**
 * Ecologic's API base URL: production unless `ECOLOGIC_API_BASE_URL` points at staging or a local
 * sandbox. Plain http is refused unless the host is loopback, so an API key never crosses a
 * network in clear text.
 */
export const apiBaseUrl = (configured: string | undefined = process.env.ECOLOGIC_API_BASE_URL): string => {
  const value = configured?.trim() || DEFAULT_API_BASE_URL;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw appError('ECOLOGIC_API_BASE_URL is not a valid URL.', 'InvalidBaseUrl');
  }
  if (!isHttpsOrLoopback(url)) {
    throw appError(
      'ECOLOGIC_API_BASE_URL must use https:// (plain http:// is allowed only for a loopback sandbox such as 127.0.0.1).',
      'InvalidBaseUrl',
    );
  }
  // An empty `?` or `#` leaves url.search and url.hash empty, yet stays in the returned string.
  if (url.username || url.password || url.search || url.hash || /[?#]/.test(value)) {
    throw appError('ECOLOGIC_API_BASE_URL must not contain credentials, a query or a fragment.', 'InvalidBaseUrl');
  }
  return url.toString().replace(/\/+$/, '');
};
