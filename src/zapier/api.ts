import type { Bundle, HttpRequestOptions, HttpResponse, ZObject } from 'zapier-platform-core';
import type { z as zod } from 'zod';
import { retryAfterMs } from '../core/net';
import { apiBaseUrl } from './base-url';
import { partnerError } from './errors';
import type { Activity } from './messages';
import type { ResponseShapes } from './responses';

/** One call to Ecologic's REST API. */
export interface Endpoint<T> {
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly path: string;
  /** A list is sent as the parameter repeated (`label=a&label=b`), never joined with commas. */
  readonly params?: Record<string, string | number | readonly string[]>;
  readonly json?: unknown;
  /** The expected response shape; a response that does not match is an error. */
  readonly expect: (shapes: ResponseShapes) => zod.ZodType<T>;
  /** What the partner was doing, in their words: errors say it, never the method or path. */
  readonly activity: Activity;
  /** How long it may take, when shorter than `requestSettings.timeoutMs`. */
  readonly timeoutMs?: number;
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

/** The platform's own error code and message (the contract keeps them free of personal data). */
const platformError = (response: HttpResponse): { code?: string; message?: string } => {
  const parsed = shapes().errorResponse.safeParse(response.data);
  return parsed.success ? parsed.data.error : {};
};

const nameOf = (endpoint: Pick<Endpoint<unknown>, 'method' | 'path'>) => `${endpoint.method} ${endpoint.path}`;

/** A single line for the developers' log: no newlines, bounded. */
const logSafe = (text: string | undefined): string => (text ?? '').replace(/\s+/g, ' ').slice(0, 200);

/**
 * A failed answer as the partner's message for what they were doing. The developers' log gets the
 * endpoint, the status and the platform's own code and message, never the request or its data.
 */
const errorFor = (z: ZObject, response: HttpResponse, endpoint: Omit<Endpoint<unknown>, 'expect'>): Error => {
  const { status } = response;
  const platform = platformError(response);
  z.console.warn(
    `Ecologic answered ${nameOf(endpoint)} with ${status}${platform.code ? ` ${logSafe(platform.code)}` : ''}${platform.message ? `: ${logSafe(platform.message)}` : ''}`,
  );
  const { activity } = endpoint;
  if (status >= 300 && status < 400) return partnerError('redirected', activity);
  if (status === 401) return partnerError('keyRejected', activity);
  if (status === 403) return partnerError('keyNotAllowed', activity);
  if (status === 429) return partnerError('rateLimited', activity, retryAfterSeconds(response.getHeader('retry-after')));
  if (status >= 500) return partnerError('ecologicUnavailable', activity);
  if (platform.code === 'invalid_filter') return partnerError('optionNoLongerValid', activity);
  return partnerError('notAccepted', activity);
};

/**
 * Sends the request; a network failure or timeout becomes the partner's "could not reach Ecologic".
 * `quiet`: the caller logs what it could not do, so nothing is logged here.
 */
const send = async (z: ZObject, endpoint: Omit<Endpoint<unknown>, 'expect'>, quiet = false): Promise<HttpResponse> => {
  try {
    return await z.request({
      url: `${apiBaseUrl()}${endpoint.path}`,
      method: endpoint.method,
      params: endpoint.params,
      json: endpoint.json,
      headers: { Accept: 'application/json' },
      timeout: Math.min(endpoint.timeoutMs ?? Infinity, requestSettings.timeoutMs),
      skipThrowForStatus: true,
      // A 3xx is answered as it is: following it would re-send the key and body to another address.
      redirect: 'manual',
      // We turn 429 into a throttled error ourselves, with the partner's words and HTTP-date support.
      throwForThrottlingEarly: false,
    } as HttpRequestOptions & { url: string; throwForThrottlingEarly: boolean });
  } catch (error) {
    if ((error as { doNotContextify?: boolean }).doNotContextify || quiet) throw error;
    const code = (error as { code?: unknown; type?: unknown }).code ?? (error as { type?: unknown }).type;
    const detail = typeof code === 'string' && /^[\w-]{1,40}$/.test(code) ? ` (${code})` : '';
    z.console.warn(`${nameOf(endpoint)} failed or timed out${detail}`);
    throw partnerError('unreachable', endpoint.activity);
  }
};

/**
 * Calls Ecologic and returns the response body checked against its expected shape. Every failure
 * becomes a message a partner can act on; the developers' log names the endpoint and what was wrong.
 */
export const callEcologic = async <T>(z: ZObject, endpoint: Endpoint<T>): Promise<T> => {
  const response = await send(z, endpoint);
  if (response.status < 200 || response.status >= 300) throw errorFor(z, response, endpoint);
  const parsed = endpoint.expect(shapes()).safeParse(response.data);
  if (!parsed.success) {
    const where = parsed.error.issues[0]?.path.join('.') || 'body';
    z.console.warn(`unexpected response from ${nameOf(endpoint)}: ${logSafe(where)} is missing or has the wrong type`);
    throw partnerError('unreadableAnswer', endpoint.activity);
  }
  return parsed.data;
};

/**
 * Best effort: the response body checked against its shape, or undefined when the call failed in
 * any way (network, timeout, status, shape). Logs nothing: the caller says what it went without.
 */
export const tryEcologic = async <T>(z: ZObject, endpoint: Endpoint<T>): Promise<T | undefined> => {
  try {
    const response = await send(z, endpoint, true);
    if (response.status < 200 || response.status >= 300) return undefined;
    const parsed = endpoint.expect(shapes()).safeParse(response.data);
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
};

/** Deletes a resource; 404 and 410 mean it is already gone, which is what the caller wanted. */
export const deleteOnEcologic = async (z: ZObject, path: string, activity: Activity): Promise<'removed' | 'already gone'> => {
  const endpoint = { method: 'DELETE', path, activity } as const;
  const response = await send(z, endpoint);
  if (response.status === 404 || response.status === 410) return 'already gone';
  if (response.status < 200 || response.status >= 300) throw errorFor(z, response, endpoint);
  return 'removed';
};
