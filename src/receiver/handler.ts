/**
 * The receiver: one handler for every door (a Lambda Function URL, API Gateway, `npm run receiver`).
 * It knows nothing of AWS or HTTP servers: a request is headers and the raw body; the store and the
 * hand-off are interfaces. Order matters: the signature is checked first, items are built only from
 * the bytes that verified, each event is claimed before its item is handed off, and the answer tells
 * the platform whether to retry (contract section 3.4):
 *   200  accepted, or every event already handed off (a duplicate)
 *   401  missing or bad signature            400  not events        413  body too large
 *   429  another delivery of the event is being handed off right now (Retry-After)
 *   503  the store or the hand-off is unavailable (Retry-After): nothing was lost, the retry will do it
 */
import { createHash } from 'node:crypto';
import { webhookHeaders } from '../core/headers';
import { jsonDeeperThan } from '../core/json-depth';
import { normaliseEvents, PayloadError, type EventItem } from '../core/normalise';
import { headerRejection, verifyDelivery, type Verification } from '../core/signature';
import type { HandOff, HandOffItem, HandOffResult } from './hand-off';
import type { ReceiverLog } from './log';
import type { DedupeStore } from './store';

/** Bodies above this are refused before any work: real deliveries are a few KiB. */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * An event's id may be this long at most, in UTF-8 bytes: real ids are tens of characters, and
 * every store must take it as (part of) a key (DynamoDB's partition key holds 2,048 bytes).
 */
export const MAX_EVENT_ID_BYTES = 1024;

/**
 * Objects and arrays nest this deep at most: real events nest three or four levels, and a body
 * nested thousands deep overflows the stack when it is serialised for the hand-off.
 */
export const MAX_NESTING_DEPTH = 64;

/**
 * The receiver checks signatures as deliveries arrive (unlike a Zap, which may run minutes later),
 * so the Standard Webhooks default of five minutes either way applies; a retry is signed afresh.
 */
export const RECEIVER_SIGNATURE_WINDOW = { pastSeconds: 5 * 60, futureSeconds: 5 * 60 } as const;

/** What the platform is told to wait when the store or hand-off is down: long enough to recover. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 10;

/** Claims made at once for a batch delivery. */
const CONCURRENT_CLAIMS = 8;

/**
 * Waits before retrying a completion or a release the store did not take: a blip of the store must
 * not leave a handed-off event looking unfinished (once its lease lapsed, a retry would hand it off
 * again) nor block a released one for the whole lease. 1.3 s at most, well inside the 15 s answer.
 */
const STORE_RETRY_DELAYS_MS = [100, 300, 900];

const withRetries = async <T>(attempt: () => Promise<T>): Promise<T> => {
  for (const delay of STORE_RETRY_DELAYS_MS) {
    try {
      return await attempt();
    } catch {
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
  return attempt();
};

export interface ReceiverRequest {
  readonly method: string;
  /** Header names in any case (payload v2 and node both give lower case). */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string | Buffer;
}

export interface ReceiverResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export interface ReceiverDeps {
  /** The `whsec_` secrets that may have signed a delivery: one per subscription, two during a rotation. */
  readonly secrets: () => readonly string[] | Promise<readonly string[]>;
  readonly store: DedupeStore;
  readonly handOff: HandOff;
  readonly log: ReceiverLog;
  readonly now?: () => Date;
}

export type ReceiverHandler = ((request: ReceiverRequest) => Promise<ReceiverResponse>) & {
  /**
   * The answer the method and headers alone decide (405, or 401 for headers that can never verify),
   * else undefined: a server asks before it reads a body, so unsigned uploads cost no memory.
   */
  readonly refuseEarly?: (request: Omit<ReceiverRequest, 'body'>) => ReceiverResponse | undefined;
};

const json = (status: number, body: Record<string, unknown>, headers: Record<string, string> = {}): ReceiverResponse => ({
  status,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

const bodyText = (body: string | Buffer): string => (typeof body === 'string' ? body : body.toString('utf8'));
const byteLength = (body: string | Buffer): number => (typeof body === 'string' ? Buffer.byteLength(body) : body.length);

/** The first secret that verifies, else the reason the last one gave (the same for every secret but a mismatch). */
const verifyWithAny = (
  secrets: readonly string[],
  headers: ReturnType<typeof webhookHeaders>,
  raw: string | Buffer,
  now: Date,
): Verification<string | Buffer> => {
  let verdict: Verification<string | Buffer> = { ok: false, reason: 'no signing secret is configured' };
  for (const secret of secrets) {
    verdict = verifyDelivery(secret, { ...headers, bodies: [raw] }, now, RECEIVER_SIGNATURE_WINDOW);
    if (verdict.ok) return verdict;
  }
  return verdict;
};

/**
 * What the log may say of a `webhook-id` header: an id-like value as it is; anything else (an
 * unauthenticated request may send kilobytes, or personal data) only as its length and a hash.
 */
export const loggableWebhookId = (id: string | null | undefined): string | null => {
  if (id === null || id === undefined) return null;
  if (/^[\w.:-]{1,100}$/.test(id)) return id;
  return `(${id.length} characters, sha256 ${createHash('sha256').update(id).digest('hex').slice(0, 16)})`;
};

/** What the log may say about a name a record gave itself: a short code-like name, else its kind. */
const loggableName = (name: string): string => (/^[A-Za-z][\w:.-]{0,63}$/.test(name) || name === '(none)' ? name : '(unreadable name)');

type Claimed = { readonly entry: EventItem; readonly token: string };

interface ClaimRound {
  claimed: Claimed[];
  duplicates: number;
  busyMs: number[];
  failure?: string;
}

export const createReceiver = (deps: ReceiverDeps): ReceiverHandler => {
  const now = deps.now ?? (() => new Date());
  const { store, handOff, log } = deps;

  /** Claims every item, a few at a time; on a store failure the claims already made are released. */
  const claimAll = async (entries: readonly EventItem[], at: Date): Promise<ClaimRound> => {
    const round: ClaimRound = { claimed: [], duplicates: 0, busyMs: [] };
    const pending = [...entries];
    const worker = async () => {
      for (let entry = pending.shift(); entry !== undefined && round.failure === undefined; entry = pending.shift()) {
        try {
          const outcome = await store.claim(entry.item.id, entry.event, at);
          if (outcome.kind === 'claimed') round.claimed.push({ entry, token: outcome.token });
          else if (outcome.kind === 'duplicate') round.duplicates += 1;
          else round.busyMs.push(outcome.retryAfterMs);
        } catch (error) {
          round.failure = error instanceof Error ? error.message : 'the store failed';
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENT_CLAIMS, entries.length) }, worker));
    return round;
  };

  const releaseAll = async (claims: readonly Claimed[]) => {
    await Promise.all(
      claims.map(({ entry, token }) =>
        withRetries(() => store.release(entry.item.id, token)).catch((error: unknown) =>
          // The claim lapses after its lease anyway; the retry waits at most that long.
          log.warn('claim not released', { event_id: entry.item.id, reason: error instanceof Error ? error.message : 'unknown' }),
        ),
      ),
    );
  };

  const unavailable = (reason: string, fields: Record<string, string | number>) => {
    log.error('delivery not taken: try again later', { outcome: 'unavailable', reason, ...fields });
    return json(
      503,
      { error: 'unavailable', message: 'The receiver could not store this delivery right now; nothing was kept. Retry later.' },
      { 'retry-after': String(UNAVAILABLE_RETRY_AFTER_SECONDS) },
    );
  };

  const rejected = (reason: string, webhookId: string | undefined) => {
    log.warn('delivery rejected', { outcome: 'rejected_signature', reason, webhook_id: loggableWebhookId(webhookId) });
    return json(401, { error: 'invalid_signature', message: `Delivery rejected: ${reason}.` });
  };

  const refuseEarly = (request: Omit<ReceiverRequest, 'body'>): ReceiverResponse | undefined => {
    if (request.method.toUpperCase() !== 'POST') {
      return json(405, { error: 'method_not_allowed', message: 'Deliveries are POSTed.' }, { allow: 'POST' });
    }
    const headers = webhookHeaders(request.headers);
    const reason = headerRejection(headers, now(), RECEIVER_SIGNATURE_WINDOW);
    return reason === undefined ? undefined : rejected(reason, headers.webhookId);
  };

  const handle = async (request: ReceiverRequest): Promise<ReceiverResponse> => {
    const started = Date.now();
    const early = refuseEarly(request);
    if (early) return early;
    if (byteLength(request.body) > MAX_BODY_BYTES) {
      log.warn('delivery refused', { outcome: 'too_large', bytes: byteLength(request.body) });
      return json(413, { error: 'too_large', message: `A delivery body may be at most ${MAX_BODY_BYTES} bytes.` });
    }

    const headers = webhookHeaders(request.headers);
    const at = now();
    let secrets: readonly string[];
    try {
      secrets = await deps.secrets();
    } catch (error) {
      return unavailable(`the signing secrets could not be read: ${error instanceof Error ? error.message : 'unknown'}`, {});
    }
    // The signature is over the bytes as received.
    const verdict = verifyWithAny(secrets, headers, request.body, at);
    if (!verdict.ok) return rejected(verdict.reason, headers.webhookId);

    let events: ReturnType<typeof normaliseEvents>;
    try {
      let body: unknown;
      const text = bodyText(verdict.body);
      // Refused, not retried: a body no retry can make acceptable is a 400, never a 503.
      if (jsonDeeperThan(text, MAX_NESTING_DEPTH)) throw new PayloadError(`the delivery nests objects or arrays more than ${MAX_NESTING_DEPTH} deep`);
      try {
        body = JSON.parse(text);
      } catch {
        throw new PayloadError('the delivery body is not valid JSON');
      }
      events = normaliseEvents(body, { webhookId: headers.webhookId, webhookTimestamp: headers.webhookTimestamp, receivedAt: at });
      if (events.items.some((entry) => Buffer.byteLength(entry.item.id) > MAX_EVENT_ID_BYTES)) {
        throw new PayloadError(`an event id is longer than ${MAX_EVENT_ID_BYTES} bytes`);
      }
      if (events.items.length === 0) {
        throw new PayloadError(
          events.unrecognised.length === 0
            ? 'the delivery holds no records'
            : 'no record names one of the six events in `event` (or an envelope `type`)',
        );
      }
    } catch (error) {
      if (!(error instanceof PayloadError)) throw error;
      log.warn('delivery refused', { outcome: 'not_events', reason: error.message, webhook_id: loggableWebhookId(headers.webhookId) });
      return json(400, { error: 'not_events', message: `Not an Ecologic event delivery: ${error.message}.` });
    }
    for (const name of new Set(events.unrecognised)) {
      log.warn('record skipped: not one of the six events', { named: loggableName(name), webhook_id: loggableWebhookId(headers.webhookId) });
    }

    const round = await claimAll(events.items, at);
    if (round.failure !== undefined) {
      await releaseAll(round.claimed);
      return unavailable(round.failure, { webhook_id: loggableWebhookId(headers.webhookId) ?? '', stage: 'claim' });
    }

    let handedOff = 0;
    let failedHandOffs: string[] = [];
    /** Items no retry can hand off (too large for the queue): refused, never retried in vain. */
    const tooLargeHandOffs: string[] = [];
    if (round.claimed.length > 0) {
      const batch: HandOffItem[] = round.claimed.map(({ entry }) => ({ eventId: entry.item.id, event: entry.event, item: entry.item }));
      const results = await handOff.send(batch).catch((error: unknown) =>
        batch.map(() => ({ ok: false as const, reason: error instanceof Error ? error.message : 'the hand-off failed' })),
      );
      const failed: Claimed[] = [];
      await Promise.all(
        round.claimed.map(async (claim, index) => {
          const result: HandOffResult = results[index] ?? { ok: false, reason: 'the hand-off gave no result' };
          if (!result.ok) {
            failed.push(claim);
            (result.permanent ? tooLargeHandOffs : failedHandOffs).push(result.reason);
            return;
          }
          handedOff += 1;
          try {
            if (!(await withRetries(() => store.complete(claim.entry.item.id, claim.token, now())))) {
              log.warn('claim lapsed before completion', { event_id: claim.entry.item.id });
            }
          } catch (error) {
            // The item is safe downstream; an unrecorded completion costs at most a duplicate after the lease.
            log.error('hand-off not recorded', { event_id: claim.entry.item.id, reason: error instanceof Error ? error.message : 'unknown' });
          }
        }),
      );
      await releaseAll(failed);
    }

    const counts = {
      webhook_id: loggableWebhookId(headers.webhookId) ?? '',
      events: events.items.length,
      accepted: handedOff,
      duplicates: round.duplicates,
      ms: Date.now() - started,
    };
    if (failedHandOffs.length > 0) {
      return unavailable(`${failedHandOffs.length} item(s) not handed off: ${[...new Set(failedHandOffs)].join('; ')}`, { ...counts, stage: 'hand-off' });
    }
    if (tooLargeHandOffs.length > 0) {
      // The others of the delivery are handed off; a retry could only fail these again.
      log.warn('delivery refused', { outcome: 'too_large', reason: [...new Set(tooLargeHandOffs)].join('; '), ...counts, stage: 'hand-off' });
      return json(413, {
        error: 'item_too_large',
        message: `${tooLargeHandOffs.length} event(s) of this delivery are too large to hand off; the others were taken.`,
        accepted: handedOff,
        duplicates: round.duplicates,
      });
    }
    if (round.busyMs.length > 0) {
      const seconds = Math.max(1, Math.ceil(Math.max(...round.busyMs) / 1000));
      log.info('delivery deferred: the event is being handed off by another delivery', { outcome: 'in_progress', ...counts });
      return json(
        429,
        { error: 'in_progress', message: 'Another delivery of this event is being handled; retry after the given time.', ...counts },
        { 'retry-after': String(seconds) },
      );
    }
    const outcome = handedOff > 0 ? 'accepted' : 'duplicate';
    log.info('delivery taken', { outcome, ...counts });
    return json(200, { outcome, accepted: handedOff, duplicates: round.duplicates, skipped: events.unrecognised.length + events.repeated });
  };
  return Object.assign(handle, { refuseEarly });
};
