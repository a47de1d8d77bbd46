import type { Bundle, HttpRequestOptions, HttpResponse, ZObject } from 'zapier-platform-core';
import type { z as zod } from 'zod';
import { retryAfterMs } from '../core/net';
import { apiBaseUrl } from './base-url';
import { appError, expiredAuthError, throttledError } from './errors';
import type { ResponseShapes } from './responses';

/** One call to Ecologic's REST API. */
export interface Endpoint<T> {
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly path: string;
  readonly params?: Record<string, string | number>;
  readonly json?: unknown;
  /** The expected response shape; a response that does not match is an error naming the endpoint. */
  readonly expect: (shapes: ResponseShapes) => zod.ZodType<T>;
}

/** How long a call may take before it counts as failed (tests shorten it). */
export const requestSettings = { timeoutMs: 30_000 };

// zod and the response shapes load on the first API call, keeping them off the delivery path.
const shapes = (): ResponseShapes => require('./responses') as ResponseShapes;

/** Adds the API key to every request to Ecologic; Zapier scrubs authData values from its logs. */
export const addApiKey = (request: HttpRequestOptions & { url: string }, _z: ZObject, bundle: Bundle) => {
  const apiKey = bundle.authData?.api_key?.trim();
  if (apiKey) request.headers = { ...request.headers, Authorization: `Bearer ${apiKey}` };
  return request;
};

/** Seconds to wait from a Retry-After header: delta-seconds or an HTTP date. */
export const retryAfterSeconds = (header: string | null | undefined, now: Date = new Date()): number | undefined => {
  const ms = retryAfterMs(header, now.getTime());
  return ms === undefined ? undefined : Math.ceil(ms / 1000);
};

/** The platform's own error code and message, which the contract keeps free of personal data. */
const platformReason = (response: HttpResponse): string => {
  const parsed = shapes().errorResponse.safeParse(response.data);
  if (!parsed.success) return '';
  const { code, message } = parsed.data.error;
  const text = [code, message?.slice(0, 300)].filter(Boolean).join(': ');
  return text ? ` Ecologic said: ${text}.` : '';
};

const errorFor = (response: HttpResponse, name: string): Error => {
  const { status } = response;
  if (status >= 300 && status < 400) {
    return appError(
      `Ecologic answered ${name} with a redirect (${status}). The app never follows redirects, so your API key and data go nowhere else; check ECOLOGIC_API_BASE_URL, or contact Ecologic support if this repeats.`,
      'Redirect',
    );
  }
  if (status === 401) {
    return expiredAuthError(
      `Ecologic rejected the API key (401) on ${name}. Reconnect your Ecologic account with a current API key from Ecologic's partner settings.`,
    );
  }
  if (status === 403) {
    return appError(
      `Ecologic refused this API key access to ${name} (403). Ask your Ecologic administrator for a key with notification access.${platformReason(response)}`,
      'Forbidden',
    );
  }
  if (status === 429) {
    const delay = retryAfterSeconds(response.getHeader('retry-after'));
    return throttledError(`Ecologic is rate limiting requests to ${name} (429); Zapier will retry.`, delay);
  }
  if (status >= 500) {
    return appError(`Ecologic is unavailable (${status}) for ${name}. Zapier will retry; if this persists, contact Ecologic support.`, 'Unavailable');
  }
  return appError(`Ecologic did not accept ${name} (${status}).${platformReason(response)}`, `Http${status}`);
};

const nameOf = (endpoint: Pick<Endpoint<unknown>, 'method' | 'path'>) => `${endpoint.method} ${endpoint.path}`;

/** Sends the request; a network failure or timeout becomes an error naming the endpoint. */
const send = async (z: ZObject, endpoint: Omit<Endpoint<unknown>, 'expect'>): Promise<HttpResponse> => {
  try {
    return await z.request({
      url: `${apiBaseUrl()}${endpoint.path}`,
      method: endpoint.method,
      params: endpoint.params,
      json: endpoint.json,
      headers: { Accept: 'application/json' },
      timeout: requestSettings.timeoutMs,
      skipThrowForStatus: true,
      // A 3xx is answered as it is: following it would re-send the key and body to another address.
      redirect: 'manual',
      // We turn 429 into a throttled error ourselves, with the endpoint's name and HTTP-date support.
      throwForThrottlingEarly: false,
    } as HttpRequestOptions & { url: string; throwForThrottlingEarly: boolean });
  } catch (error) {
    if ((error as { doNotContextify?: boolean }).doNotContextify) throw error;
    const code = (error as { code?: unknown; type?: unknown }).code ?? (error as { type?: unknown }).type;
    const detail = typeof code === 'string' && /^[\w-]{1,40}$/.test(code) ? ` (${code})` : '';
    throw appError(
      `Could not reach Ecologic for ${nameOf(endpoint)}${detail}: the request failed or timed out. Zapier will retry.`,
      'NetworkError',
    );
  }
};

/**
 * Calls Ecologic and returns the response body checked against its expected shape. Every failure
 * becomes an error a partner can act on, naming the endpoint and never the payload.
 */
export const callEcologic = async <T>(z: ZObject, endpoint: Endpoint<T>): Promise<T> => {
  const response = await send(z, endpoint);
  if (response.status < 200 || response.status >= 300) throw errorFor(response, nameOf(endpoint));
  const parsed = endpoint.expect(shapes()).safeParse(response.data);
  if (!parsed.success) {
    const where = parsed.error.issues[0]?.path.join('.') || 'body';
    throw appError(
      `Unexpected response from Ecologic for ${nameOf(endpoint)}: ${where} is missing or has the wrong type.`,
      'UnexpectedResponse',
    );
  }
  return parsed.data;
};

/** Deletes a resource; 404 and 410 mean it is already gone, which is what the caller wanted. */
export const deleteOnEcologic = async (z: ZObject, path: string): Promise<'removed' | 'already gone'> => {
  const response = await send(z, { method: 'DELETE', path });
  if (response.status === 404 || response.status === 410) return 'already gone';
  if (response.status < 200 || response.status >= 300) throw errorFor(response, nameOf({ method: 'DELETE', path }));
  return 'removed';
};
