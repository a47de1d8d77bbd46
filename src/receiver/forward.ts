/**
 * Forwarding one handed-off item to the partner's own webhook URL (a CRM, an automation tool): one
 * POST of exactly the item a Zap would receive, classified as delivered, worth retrying, or
 * rejected. Pure of storage: the local forwarder (local/forwarder.ts) and the AWS consumer both use it.
 *
 * Nothing here puts a payload value or the target's path or query string into a reason: a CRM
 * webhook URL often embeds its token (`https://crm.example/hooks/catch/123/abc?token=...`), and
 * reasons end up in logs.
 */
import { isHttpsOrLoopback, retryAfterMs } from '../core/net';
import type { HandOffItem } from './hand-off';

export interface ForwardSchedule {
  /** The first retry's ceiling; each later attempt doubles it (full jitter picks below it). */
  readonly baseDelayMs: number;
  /** No wait exceeds this, also when the target asks for more with Retry-After. */
  readonly capDelayMs: number;
  /** Attempts in all, the first included; then the item becomes a dead letter for an operator. */
  readonly maxAttempts: number;
  /** One POST, connection to last byte of the answer. */
  readonly timeoutMs: number;
}

/**
 * Why these numbers:
 * - 8 attempts with 2 s doubling give retry ceilings 2, 4, 8 ... 128 s: about 4 minutes of backoff
 *   (half that on average, with jitter) ride out a restart or a deploy of the target, while a
 *   target that is down for longer does not keep every item cycling for hours. Nothing is lost
 *   then: the item is a dead letter an operator replays (`replay` command) once the target is back.
 * - The 15-minute cap only bites when the target sends a long Retry-After: we honour it up to
 *   there, so a throttling CRM is respected without one header parking an item for a day.
 * - 10 s per POST: webhook endpoints answer in well under a second; a slower one is treated as
 *   down (and retried) rather than holding one of the forwarder's few slots.
 * Frozen: tests and callers pass their own (partial) schedule instead of editing the shared one.
 */
export const FORWARD_SCHEDULE: ForwardSchedule = Object.freeze({
  baseDelayMs: 2_000,
  capDelayMs: 15 * 60_000,
  maxAttempts: 8,
  timeoutMs: 10_000,
});

export type ForwardOutcome =
  | { readonly kind: 'delivered'; readonly status: number }
  | { readonly kind: 'retry'; readonly reason: string; readonly retryAfterMs?: number }
  | { readonly kind: 'rejected'; readonly reason: string };

const USER_AGENT = 'Ecologic-Receiver/1.0';

/**
 * The forward URL, checked once at start-up: https, or http to a loopback host (a CRM stub or a
 * tunnel on this machine). The errors name the rule and never echo the URL (it may hold a token).
 */
export function forwardTarget(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    throw new Error('The forward URL is not a valid absolute URL (expected https://host/path).');
  }
  if (!isHttpsOrLoopback(parsed)) {
    throw new Error(
      parsed.protocol === 'http:'
        ? 'The forward URL must use https; plain http is only allowed to a loopback host (localhost, 127.0.0.1, ::1).'
        : 'The forward URL must use https (or http to a loopback host).',
    );
  }
  // fetch refuses URLs with credentials, which would make every attempt fail: say so up front.
  if (parsed.username !== '' || parsed.password !== '') {
    throw new Error('The forward URL must not contain a user name or password; put a token in the path or query instead.');
  }
  return parsed;
}

// A header value must be printable ASCII for fetch (it throws otherwise, which would read as a
// network error and be retried in vain). Event ids normally are; anything else is percent-encoded.
const headerValue = (value: string): string => (/^[\x20-\x7e]*$/.test(value) ? value : encodeURIComponent(value));

/** The failure's kind only: error messages can quote hosts, addresses or (from some stacks) URLs. */
const networkReason = (error: unknown): string => {
  // Duck-typed: a DOMException (the timeout) or an error from another realm is not `instanceof Error`.
  const field = (value: unknown, key: 'name' | 'code' | 'cause'): unknown =>
    value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  const cause = field(error, 'cause');
  const isTimeout = (value: unknown) => field(value, 'name') === 'TimeoutError' || field(value, 'name') === 'AbortError';
  if (isTimeout(error) || isTimeout(cause)) return 'timeout';
  const code = field(cause, 'code') ?? field(error, 'code');
  if (typeof code === 'string' && /^[A-Z0-9_]{2,40}$/.test(code)) return `network error (${code})`;
  const name = field(cause, 'name') ?? field(error, 'name');
  return `network error (${typeof name === 'string' && /^\w{1,40}$/.test(name) ? name : 'unknown'})`;
};

/**
 * How much of a target's answer is read: enough for any webhook endpoint's acknowledgement. The rest
 * of a larger answer is not read at all (a misbehaving endpoint could send gigabytes).
 */
export const MAX_ANSWER_BYTES = 8 * 1024;

/** Reads up to MAX_ANSWER_BYTES of the answer and keeps none of it. */
const readAnswer = async (response: Response): Promise<void> => {
  const reader = response.body?.getReader();
  if (reader === undefined) return;
  let read = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    read += value.byteLength;
    if (read > MAX_ANSWER_BYTES) {
      // The status has arrived and the answer went on past anything an acknowledgement needs.
      await reader.cancel().catch(() => undefined);
      return;
    }
  }
};

/** Reads and drops the answer (up to MAX_ANSWER_BYTES); undefined when that went well, else why not. */
const drain = async (response: Response, signal: AbortSignal): Promise<string | undefined> => {
  if (signal.aborted) return 'timeout';
  let onAbort: () => void = () => undefined;
  // Raced against the signal as well: not every fetch (nock's, for one) ties the body to it.
  const aborted = new Promise<string>((resolve) => {
    onAbort = () => resolve('timeout');
    signal.addEventListener('abort', onAbort, { once: true });
  });
  const read = readAnswer(response).then(
    () => undefined,
    (error: unknown) => (signal.aborted ? 'timeout' : `${networkReason(error)} while reading the answer`),
  );
  try {
    const result = await Promise.race([read, aborted]);
    if (result !== undefined) await response.body?.cancel().catch(() => undefined);
    return result;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
};

/** 408 Request Timeout, 425 Too Early, 429 Too Many Requests and 5xx are worth another try. */
const retryable = (status: number): boolean => status === 408 || status === 425 || status === 429 || status >= 500;

/**
 * One POST of the item. Never throws: every failure is an outcome. Redirects are not followed (a
 * redirected POST may turn into a GET or re-send to a host the operator never configured), so a
 * 3xx is rejected and shows up as a dead letter pointing at a URL to fix.
 */
export async function forwardItem(target: URL, item: HandOffItem, options: { timeoutMs?: number } = {}): Promise<ForwardOutcome> {
  const timeoutMs = options.timeoutMs ?? FORWARD_SCHEDULE.timeoutMs;
  const signal = AbortSignal.timeout(timeoutMs);
  let response: Response;
  try {
    response = await fetch(target, {
      method: 'POST',
      redirect: 'manual',
      signal,
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': USER_AGENT,
        // The same key on every attempt of one event, so a target that de-duplicates can; the
        // event's name is part of it, as ids are often numbered per event type.
        'Idempotency-Key': `${item.event}/${headerValue(item.eventId)}`,
        'X-Ecologic-Event': headerValue(item.event),
      },
      body: JSON.stringify(item.item),
    });
  } catch (error) {
    const reason = networkReason(error);
    return { kind: 'retry', reason: reason === 'timeout' ? `timeout after ${timeoutMs} ms` : reason };
  }
  // Read the answer (to its end, or its first MAX_ANSWER_BYTES) and ignore it: it is the target's
  // business, and may echo the payload. The timeout covers the whole exchange: an answer that stalls
  // or breaks off is retried (the Idempotency-Key lets the target drop a repeat) rather than taken
  // for a delivery that may not have happened.
  const incomplete = await drain(response, signal);
  if (incomplete !== undefined) return { kind: 'retry', reason: incomplete === 'timeout' ? `timeout after ${timeoutMs} ms` : incomplete };
  const { status } = response;
  if (status >= 200 && status < 300) return { kind: 'delivered', status };
  if (retryable(status)) {
    const after = retryAfterMs(response.headers.get('retry-after'));
    return after === undefined ? { kind: 'retry', reason: `HTTP ${status}` } : { kind: 'retry', reason: `HTTP ${status}`, retryAfterMs: after };
  }
  // status 0 is what a fetch that filters redirects ("opaqueredirect") reports for a 3xx.
  if (status === 0 || (status >= 300 && status < 400)) {
    return { kind: 'rejected', reason: `HTTP ${status || '3xx'}: the forward URL redirects, and redirects are not followed` };
  }
  return { kind: 'rejected', reason: `HTTP ${status}` };
}

/**
 * How long to wait after failed attempt number `attempt` (1 = the first POST): "full jitter"
 * exponential backoff, a uniform pick in [0, min(cap, base * 2^(attempt-1))), so many items failing
 * together do not return together. A longer Retry-After from the target wins, up to the cap.
 */
export function forwardDelayMs(
  attempt: number,
  random: () => number = Math.random,
  retryAfterMs?: number,
  schedule: Pick<ForwardSchedule, 'baseDelayMs' | 'capDelayMs'> = FORWARD_SCHEDULE,
): number {
  if (!Number.isInteger(attempt) || attempt < 1) throw new RangeError(`attempt must be an integer >= 1, got ${attempt}`);
  const ceiling = Math.min(schedule.capDelayMs, schedule.baseDelayMs * 2 ** (attempt - 1));
  const drawn = random();
  const pick = Number.isFinite(drawn) ? Math.min(Math.max(drawn, 0), 1) : 0;
  const jittered = Math.floor(pick * ceiling);
  if (retryAfterMs === undefined || !Number.isFinite(retryAfterMs) || retryAfterMs <= jittered) return jittered;
  return Math.min(Math.ceil(retryAfterMs), schedule.capDelayMs);
}
