/**
 * The receiver: one handler for every door (a Lambda Function URL, API Gateway, `npm run receiver`).
 * It knows nothing of AWS or HTTP servers: a request is headers and the raw body; the store and the
 * hand-off are interfaces. Order matters: the signature is checked first, items are built only from
 * the bytes that verified, each event is claimed before its item is handed off, and the answer tells
 * the platform whether to retry (contract section 3.4):
 *   200  accepted, or every event already handed off (a duplicate)
 *   401  missing or bad signature            400  not events (or never takeable: id, nesting)
 *   413  body, record count or an item over the limits of contract section 3.6
 *   429  another delivery of the event is being handed off right now (Retry-After)
 *   503  the store or the hand-off is unavailable, or time ran out (Retry-After): what was taken is
 *        handed off, nothing was lost, the retry does the rest
 * Every answer is given by the request's deadline (the platform's 15 s, or a Lambda's remaining time).
 */
import { createHash } from 'node:crypto';
import { webhookHeaders } from '../core/headers';
import { jsonDeeperThan } from '../core/json-depth';
import { normaliseEvents, PayloadError, type EventItem } from '../core/normalise';
import { headerRejection, verifyDelivery, type Verification } from '../core/signature';
import { DELIVERY_LIMITS } from '../contract/limits';
import { PRODUCTION_SCHEDULE } from '../contract/schedule';
import type { HandOff, HandOffItem, HandOffJournal, HandOffResult, JournalResult } from './hand-off';
import type { ReceiverLog } from './log';
import { mapBounded } from './map-bounded';
import { type DedupeStore, type EventRef, eventKey } from './store';

/** Bodies above this are refused before any work (contract section 3.6). */
export const MAX_BODY_BYTES = DELIVERY_LIMITS.maxBodyBytes;

/**
 * An event's id may be this long at most, in UTF-8 bytes: every store must take it as (part of) a
 * key (DynamoDB's partition key holds 2,048 bytes).
 */
export const MAX_EVENT_ID_BYTES = DELIVERY_LIMITS.maxEventIdBytes;

/** Objects and arrays nest this deep at most: a body nested thousands deep overflows the stack when serialised. */
export const MAX_NESTING_DEPTH = DELIVERY_LIMITS.maxNestingDepth;

/**
 * The receiver checks signatures as deliveries arrive (unlike a Zap, which may run minutes later),
 * so the Standard Webhooks default of five minutes either way applies; a retry is signed afresh.
 */
export const RECEIVER_SIGNATURE_WINDOW = { pastSeconds: 5 * 60, futureSeconds: 5 * 60 } as const;

/** What the platform is told to wait when the store or hand-off is down: long enough to recover. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 10;

/**
 * Records one delivery may hold: what a receiver claims, hands off and records well inside one
 * answer. More is refused (413): no retry could ever fit it.
 */
export const MAX_RECORDS_PER_DELIVERY = DELIVERY_LIMITS.maxRecords;

/** The platform's wait for an answer (contract section 3.4): the deadline when none is given. */
export const ANSWER_WITHIN_MS = PRODUCTION_SCHEDULE.timeoutMs;

/** The answer is sent at least this long before the deadline: it must still reach the platform. */
const ANSWER_MARGIN_MS = 1_000;

/**
 * What claims leave for the hand-off and the completions: no claim starts later than this (or half
 * the time there is) before the answer is due. A delivery whose claims did not all fit hands off
 * those made, and the platform's retry (503) finds them handed off and claims the rest.
 */
const HAND_OFF_AND_COMPLETION_RESERVE_MS = 5_000;

/** The hand-off must be done this long (or a quarter of the time there is) before the answer is due, leaving time to record it. */
const COMPLETION_RESERVE_MS = 2_000;

/**
 * Less time than this at arrival (a Lambda close to its timeout, a server far behind) and no work
 * starts: 503 at once, rather than claims the delivery cannot finish.
 */
const MIN_WORKING_MS = 1_000;

/** Store calls made at once for a batch delivery (claims, completions, releases). */
const CONCURRENT_STORE_CALLS = 16;

/**
 * Waits before retrying a completion or a release the store did not take: a blip of the store must
 * not leave a handed-off event looking unfinished (once its lease lapsed, a retry would hand it off
 * again) nor block a released one for the whole lease. 1.3 s at most, and never past `until`.
 */
const STORE_RETRY_DELAYS_MS = [100, 300, 900];

class OutOfTime extends Error {
  override readonly name = 'OutOfTime';
}

/** The promise's value, or OutOfTime at `until` (epoch ms); the work itself goes on unobserved. */
const by = <T>(until: number, work: Promise<T>): Promise<T> => {
  // A rejection after the wait ended is nobody's to handle.
  work.catch(() => undefined);
  const left = until - Date.now();
  if (left <= 0) return Promise.reject(new OutOfTime('out of time'));
  let timer: NodeJS.Timeout | undefined;
  const expiry = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new OutOfTime('out of time')), left);
  });
  return Promise.race([work, expiry]).finally(() => clearTimeout(timer));
};

/** `attempt` until it succeeds, with the retry delays, each attempt and wait ending by `until`. */
const withRetries = async <T>(until: number, attempt: () => Promise<T>): Promise<T> => {
  for (const delay of STORE_RETRY_DELAYS_MS) {
    try {
      return await by(until, attempt());
    } catch (error) {
      if (error instanceof OutOfTime || Date.now() + delay >= until) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
  return by(until, attempt());
};

const reasonOf = (error: unknown, fallback: string): string => (error instanceof Error ? error.message : fallback);

/** An error's name and system code, e.g. `ResourceNotFoundException` or `Error ENOENT`: never its message. */
const secretsFailureName = (error: unknown): string => {
  if (error instanceof OutOfTime) return 'out of time';
  const { name, code } = (error ?? {}) as { name?: unknown; code?: unknown };
  const safe = (value: unknown) => (typeof value === 'string' && /^[\w.-]{1,64}$/.test(value) ? value : undefined);
  return [safe(name) ?? 'unknown error', safe(code)].filter(Boolean).join(' ');
};

export interface ReceiverRequest {
  readonly method: string;
  /** Header names in any case (payload v2 and node both give lower case). */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string | Buffer;
  /**
   * Epoch ms by which the answer must be sent: a Lambda's remaining time, or the platform's 15 s
   * from arrival (the default). Work that cannot finish by then is not started.
   */
  readonly deadline?: number;
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
  /**
   * Optional: the store and the hand-off as one database (the local receiver's SQLite file). Used
   * instead of the three steps (claim, hand off, complete) when given; the answers are the same.
   */
  readonly journal?: HandOffJournal;
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

const refOf = (entry: EventItem): EventRef => ({ event: entry.event, eventId: entry.item.id });

/** What became of a delivery's events, however they were taken. */
interface Taking {
  handedOff: number;
  duplicates: number;
  busyMs: number[];
  /** Events not taken in time: the platform's retry takes them. */
  unclaimed: number;
  failedHandOffs: string[];
  /** Items no retry can hand off (too large for the queue): refused, never retried in vain. */
  tooLargeHandOffs: string[];
  /** The store failed: nothing (more) was taken. */
  failure?: string;
}

const handOffItemOf = (entry: EventItem): HandOffItem => ({ eventId: entry.item.id, event: entry.event, item: entry.item });

interface ClaimRound {
  claimed: Claimed[];
  duplicates: number;
  busyMs: number[];
  /** Items no claim was made for in time: the platform's retry claims them. */
  unclaimed: number;
  failure?: string;
}

export const createReceiver = (deps: ReceiverDeps): ReceiverHandler => {
  const now = deps.now ?? (() => new Date());
  const { store, handOff, log } = deps;

  /**
   * Claims the items, a few at a time, none started after `stopAt`; a claim that has not answered by
   * `until` counts as not made (if the store made it after all, it lapses after its lease). On a
   * store failure no further claim starts.
   */
  const claimAll = async (entries: readonly EventItem[], at: Date, stopAt: number, until: number): Promise<ClaimRound> => {
    const round: ClaimRound = { claimed: [], duplicates: 0, busyMs: [], unclaimed: 0 };
    let answered = 0;
    // In random order: when a slow store lets only part of a batch be claimed in time, the retry
    // then reaches events the earlier attempts did not, instead of re-reading the same duplicates.
    const order = entries.map((entry, index) => ({ entry, index, key: Math.random() })).sort((a, b) => a.key - b.key);
    const positions = new Map(order.map(({ entry, index }) => [entry, index]));
    const claimOne = async (entry: EventItem): Promise<void> => {
      if (round.failure !== undefined) return;
      const claiming = store.claim(refOf(entry), at);
      try {
        const outcome = await by(until, claiming);
        if (outcome.kind === 'claimed') round.claimed.push({ entry, token: outcome.token });
        else if (outcome.kind === 'duplicate') round.duplicates += 1;
        else round.busyMs.push(outcome.retryAfterMs);
        answered += 1;
      } catch (error) {
        if (!(error instanceof OutOfTime)) round.failure = reasonOf(error, 'the store failed');
        // Counted as not made, but the store may still take it: then it is given back as soon as it
        // lands, so the platform's retry can claim the event instead of waiting out the lease.
        else void claiming.then((late) => (late.kind === 'claimed' ? store.release(refOf(entry), late.token) : undefined)).catch(() => undefined);
      }
    };
    await mapBounded(order.map(({ entry }) => entry), CONCURRENT_STORE_CALLS, claimOne, stopAt);
    round.unclaimed = entries.length - answered;
    // Handed off in the delivery's order.
    round.claimed.sort((a, b) => (positions.get(a.entry) ?? 0) - (positions.get(b.entry) ?? 0));
    return round;
  };

  const releaseAll = async (claims: readonly Claimed[], until: number) => {
    let released = 0;
    let reason = 'out of time';
    const releaseOne = ({ entry, token }: Claimed) =>
      withRetries(until, () => store.release(refOf(entry), token)).then(
        () => void (released += 1),
        (error: unknown) => void (reason = reasonOf(error, 'unknown')),
      );
    await mapBounded(claims, CONCURRENT_STORE_CALLS, releaseOne, until);
    const unreleased = claims.length - released;
    // The claims lapse after their lease anyway; the platform's retry waits at most that long.
    if (unreleased > 0) log.warn('claims not released', { count: unreleased, reason });
  };

  /**
   * The general protocol, three steps: claim each event, hand the claimed items off, record them as
   * handed off (or release the claims of those that did not go).
   */
  const takeInSteps = async (toClaim: readonly EventItem[], at: Date, claimStopAt: number, handOffBy: number, answerBy: number, webhookId: string): Promise<Taking> => {
    // A claim still unanswered halfway to the hand-off's deadline counts as not made, so a store
    // that hangs on one event cannot take the time the others need to be handed off.
    const round = await claimAll(toClaim, at, claimStopAt, claimStopAt + (handOffBy - claimStopAt) / 2);
    const taking: Taking = { handedOff: 0, duplicates: round.duplicates, busyMs: round.busyMs, unclaimed: round.unclaimed, failedHandOffs: [], tooLargeHandOffs: [] };
    if (round.failure !== undefined) {
      await releaseAll(round.claimed, answerBy);
      return { ...taking, failure: round.failure };
    }
    const { failedHandOffs, tooLargeHandOffs } = taking;
    /** Handed off, but not recorded as such by the time the answer was due. */
    const unrecorded: Claimed[] = [];
    let unrecordedReason = '';
    if (round.claimed.length > 0) {
      const batch: HandOffItem[] = round.claimed.map(({ entry }) => handOffItemOf(entry));
      const results = await by(handOffBy, handOff.send(batch, { deadline: handOffBy })).catch((error: unknown) =>
        batch.map((): HandOffResult => ({ ok: false, reason: reasonOf(error, 'the hand-off failed') })),
      );
      const failed: Claimed[] = [];
      const sent: Claimed[] = [];
      round.claimed.forEach((claim, index) => {
        const result: HandOffResult = results[index] ?? { ok: false, reason: 'the hand-off gave no result' };
        if (result.ok) sent.push(claim);
        else {
          failed.push(claim);
          (result.permanent ? tooLargeHandOffs : failedHandOffs).push(result.reason);
        }
      });
      taking.handedOff = sent.length;
      const recorded = new Set<Claimed>();
      let lapsed = 0;
      const completeOne = async (claim: Claimed): Promise<void> => {
        try {
          if (!(await withRetries(answerBy, () => store.complete(refOf(claim.entry), claim.token, now())))) lapsed += 1;
          recorded.add(claim);
        } catch (error) {
          unrecordedReason = reasonOf(error, 'unknown');
        }
      };
      await mapBounded(sent, CONCURRENT_STORE_CALLS, completeOne, answerBy);
      unrecorded.push(...sent.filter((claim) => !recorded.has(claim)));
      // Another delivery took the event over after the lease: it hands it off again (at least once).
      if (lapsed > 0) log.warn('claims lapsed before completion', { count: lapsed, webhook_id: webhookId });
      await releaseAll(failed, answerBy);
    }
    if (unrecorded.length > 0) {
      // The items are safe downstream; only their memory is missing. Answering 200 keeps the
      // platform from retrying, and on AWS the queue drops a copy sent again within 5 minutes.
      log.error('hand-off not recorded', {
        outcome: 'handoff_unrecorded',
        count: unrecorded.length,
        reason: unrecordedReason || 'out of time',
        events: unrecorded.slice(0, 20).map(({ entry }) => `${entry.event}/${entry.item.id}`).join(' '),
        webhook_id: webhookId,
      });
    }
    return taking;
  };

  /**
   * With a journal (store and hand-off in one database): each event claimed, its item stored and
   * the event recorded as handed off in one transaction, none started after `startBy`. An answer
   * not back by `until` counts as not taken; if it was taken after all, the retry finds a duplicate.
   */
  const takeThroughJournal = async (journal: HandOffJournal, toClaim: readonly EventItem[], at: Date, startBy: number, until: number): Promise<Taking> => {
    const taking: Taking = { handedOff: 0, duplicates: 0, busyMs: [], unclaimed: 0, failedHandOffs: [], tooLargeHandOffs: [] };
    if (toClaim.length === 0) return taking;
    let results: readonly JournalResult[];
    try {
      results = await by(until, journal.take(toClaim.map(handOffItemOf), at, { startBy }));
    } catch (error) {
      if (error instanceof OutOfTime) return { ...taking, unclaimed: toClaim.length };
      return { ...taking, failure: reasonOf(error, 'the store failed') };
    }
    toClaim.forEach((_, index) => {
      const result: JournalResult = results[index] ?? { kind: 'failed', reason: 'the journal gave no result' };
      if (result.kind === 'taken') taking.handedOff += 1;
      else if (result.kind === 'duplicate') taking.duplicates += 1;
      else if (result.kind === 'in_progress') taking.busyMs.push(result.retryAfterMs);
      else if (result.kind === 'late') taking.unclaimed += 1;
      else (result.permanent ? taking.tooLargeHandOffs : taking.failedHandOffs).push(result.reason);
    });
    return taking;
  };

  const unavailable = (reason: string, fields: Record<string, string | number>, retryAfterSeconds = UNAVAILABLE_RETRY_AFTER_SECONDS) => {
    log.error('delivery not taken: try again later', { outcome: 'unavailable', reason, ...fields });
    const taken = typeof fields.accepted === 'number' && fields.accepted > 0;
    return json(
      503,
      {
        error: 'unavailable',
        ...(typeof fields.accepted === 'number' ? { accepted: fields.accepted, duplicates: fields.duplicates } : {}),
        message: taken
          ? `The receiver took ${fields.accepted} event(s) of this delivery, not all of them. Retry: the events taken are recognised as duplicates.`
          : 'The receiver could not store this delivery right now; nothing was kept. Retry later.',
      },
      { 'retry-after': String(retryAfterSeconds) },
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
    // Everything below ends by `answerBy`, so the answer reaches the platform before it gives up.
    const answerBy = Math.min(request.deadline ?? Number.POSITIVE_INFINITY, started + ANSWER_WITHIN_MS) - ANSWER_MARGIN_MS;
    const early = refuseEarly(request);
    if (early) return early;
    if (byteLength(request.body) > MAX_BODY_BYTES) {
      log.warn('delivery refused', { outcome: 'too_large', bytes: byteLength(request.body) });
      return json(413, { error: 'too_large', message: `A delivery body may be at most ${MAX_BODY_BYTES} bytes.` });
    }
    if (answerBy - started < MIN_WORKING_MS) {
      return unavailable('too little time left to take the delivery', { stage: 'arrival', ms_left: answerBy + ANSWER_MARGIN_MS - started });
    }

    const headers = webhookHeaders(request.headers);
    const at = now();
    let secrets: readonly string[];
    try {
      secrets = await by(answerBy, Promise.resolve(deps.secrets()));
    } catch (error) {
      // By its kind only: the error of a secrets source may quote what it read.
      return unavailable(`the signing secrets could not be read (${secretsFailureName(error)})`, {});
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
    if (events.items.length > MAX_RECORDS_PER_DELIVERY) {
      log.warn('delivery refused', { outcome: 'too_many_records', events: events.items.length, webhook_id: loggableWebhookId(headers.webhookId) });
      return json(413, {
        error: 'too_many_records',
        message: `A delivery may hold at most ${MAX_RECORDS_PER_DELIVERY} events; this one holds ${events.items.length}. Send them in smaller deliveries.`,
      });
    }
    for (const name of new Set(events.unrecognised)) {
      log.warn('record skipped: not one of the six events', { named: loggableName(name), webhook_id: loggableWebhookId(headers.webhookId) });
    }

    // With less time than usual (a Lambda near its timeout), each stage keeps its share of what is left.
    const window = answerBy - Date.now();
    const completionReserve = Math.min(COMPLETION_RESERVE_MS, window / 4);
    const handOffBy = answerBy - completionReserve;
    const claimStopAt = answerBy - Math.min(HAND_OFF_AND_COMPLETION_RESERVE_MS, window / 2);
    // A batch first asks which of its events are handed off already (a few reads for all of them):
    // the retry of a batch taken in part then spends its time on the rest, not on duplicates.
    let toClaim: readonly EventItem[] = events.items;
    if (toClaim.length > 1 && store.handedOff) {
      try {
        // A quarter of the claims' time at most: a store slow to read must not leave none for claims.
        const done = await by(Date.now() + (claimStopAt - Date.now()) / 4, store.handedOff(toClaim.map(refOf), at));
        toClaim = toClaim.filter((entry) => !done.has(eventKey(refOf(entry))));
      } catch (error) {
        // Nothing lost: the claims find the duplicates one by one. Said, so a denied or failing read is seen.
        log.warn('batch read failed: every event is claimed', { reason: reasonOf(error, 'unknown'), events: toClaim.length });
      }
    }
    const webhookId = loggableWebhookId(headers.webhookId) ?? '';
    const taking = deps.journal
      ? await takeThroughJournal(deps.journal, toClaim, at, claimStopAt, answerBy)
      : await takeInSteps(toClaim, at, claimStopAt, handOffBy, answerBy, webhookId);
    if (taking.failure !== undefined) return unavailable(taking.failure, { webhook_id: webhookId, stage: 'claim' });
    const { handedOff, failedHandOffs, tooLargeHandOffs } = taking;
    const round = { duplicates: taking.duplicates + events.items.length - toClaim.length, unclaimed: taking.unclaimed, busyMs: taking.busyMs };

    const counts = {
      webhook_id: webhookId,
      events: events.items.length,
      accepted: handedOff,
      duplicates: round.duplicates,
      ms: Date.now() - started,
    };
    if (failedHandOffs.length > 0) {
      return unavailable(`${failedHandOffs.length} item(s) not handed off: ${[...new Set(failedHandOffs)].join('; ')}`, { ...counts, stage: 'hand-off' });
    }
    if (round.unclaimed > 0) {
      // Those claimed are handed off; the platform's retry finds them done and claims the rest.
      return unavailable(`out of time: ${round.unclaimed} event(s) left for the platform's retry`, { ...counts, stage: 'deadline' }, 1);
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
