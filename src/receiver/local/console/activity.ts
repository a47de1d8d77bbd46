/**
 * What the console remembers of deliveries, in memory only: the last few hundred (webhook id,
 * events, outcome, time taken, when) and the outcomes counted per minute for the last hour. Fed by
 * the server's answer observer; nothing of an item's values is kept, only its event names.
 */
import { normaliseEvents } from '../../../core/normalise';
import { loggableWebhookId } from '../../handler';
import type { DeliveryAnswer } from '../server';

export const OUTCOMES = ['accepted', 'duplicate', 'rejected', 'unavailable'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export interface DeliveryRecord {
  /** Increasing, for the page to key rows by. */
  readonly seq: number;
  /** ISO-8601: when it was answered. */
  readonly at: string;
  readonly webhookId: string | null;
  /** The event names of a delivery that verified (e.g. `RequestQuote:Create`); empty otherwise. */
  readonly events: readonly string[];
  readonly outcome: Outcome;
  /** The answer's status and its error code (`invalid_signature`, `busy`…) when it is not a 200. */
  readonly status: number;
  readonly detail: string | null;
  readonly ms: number;
}

export type MinuteCounts = { readonly minute: string } & Readonly<Record<Outcome, number>>;

/** Deliveries remembered at most. */
export const RECENT_DELIVERIES = 500;
/** Minutes of outcome counts kept and shown. */
export const OUTCOME_MINUTES = 60;

const MINUTE_MS = 60_000;

const outcomeOf = (status: number, answer: Record<string, unknown>): Outcome => {
  if (status === 200) return answer.outcome === 'duplicate' ? 'duplicate' : 'accepted';
  // Retried by the platform: nothing was lost, the receiver could not take it now.
  if (status === 429 || status >= 500) return 'unavailable';
  return 'rejected';
};

const parseAnswer = (text: string): Record<string, unknown> => {
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
};

/** The event names of a body the receiver verified (its answer says so); never its values. */
const eventNames = (answer: DeliveryAnswer, parsed: Record<string, unknown>): string[] => {
  const verified = answer.status === 200 || answer.status === 429 || typeof parsed.accepted === 'number';
  if (!verified || answer.body === undefined) return [];
  try {
    const { items } = normaliseEvents(JSON.parse(answer.body.toString('utf8')), {
      webhookId: answer.webhookId,
      webhookTimestamp: answer.webhookTimestamp,
      receivedAt: new Date(),
    });
    return items.map((entry) => entry.event);
  } catch {
    return [];
  }
};

export interface DeliveryActivity {
  /** Records one answer (the server's observer). */
  record(answer: DeliveryAnswer): DeliveryRecord;
  /** Newest first. */
  recent(): DeliveryRecord[];
  /** One entry per minute, oldest first, the current minute last, zeros included. */
  outcomes(now?: Date): MinuteCounts[];
  /** Called with each new record; returns the unsubscribe. */
  subscribe(listener: (record: DeliveryRecord) => void): () => void;
}

export const deliveryActivity = (options: { limit?: number; now?: () => Date } = {}): DeliveryActivity => {
  const limit = options.limit ?? RECENT_DELIVERIES;
  const now = options.now ?? (() => new Date());
  const recent: DeliveryRecord[] = [];
  /** Minute start (epoch ms) → counts. */
  const minutes = new Map<number, Record<Outcome, number>>();
  const listeners = new Set<(record: DeliveryRecord) => void>();
  let seq = 0;

  const forget = (at: number) => {
    const oldest = Math.floor(at / MINUTE_MS) * MINUTE_MS - (OUTCOME_MINUTES - 1) * MINUTE_MS;
    for (const minute of minutes.keys()) if (minute < oldest) minutes.delete(minute);
  };

  return {
    record(answer) {
      const parsed = parseAnswer(answer.answer);
      const at = now();
      const outcome = outcomeOf(answer.status, parsed);
      seq += 1;
      const record: DeliveryRecord = {
        seq,
        at: at.toISOString(),
        webhookId: loggableWebhookId(answer.webhookId),
        events: eventNames(answer, parsed),
        outcome,
        status: answer.status,
        // An error code of the receiver's own (`invalid_signature`), never its message.
        detail: typeof parsed.error === 'string' && /^[a-z_]{1,40}$/.test(parsed.error) ? parsed.error : null,
        ms: answer.ms,
      };
      recent.unshift(record);
      if (recent.length > limit) recent.length = limit;
      const minute = Math.floor(at.getTime() / MINUTE_MS) * MINUTE_MS;
      const counts = minutes.get(minute) ?? { accepted: 0, duplicate: 0, rejected: 0, unavailable: 0 };
      counts[outcome] += 1;
      minutes.set(minute, counts);
      forget(at.getTime());
      for (const listener of listeners) {
        try {
          listener(record);
        } catch {
          // A listener's failure is its own.
        }
      }
      return record;
    },
    recent: () => [...recent],
    outcomes(at = now()) {
      forget(at.getTime());
      const current = Math.floor(at.getTime() / MINUTE_MS) * MINUTE_MS;
      return Array.from({ length: OUTCOME_MINUTES }, (_, index) => {
        const minute = current - (OUTCOME_MINUTES - 1 - index) * MINUTE_MS;
        const counts = minutes.get(minute) ?? { accepted: 0, duplicate: 0, rejected: 0, unavailable: 0 };
        return { minute: new Date(minute).toISOString(), ...counts };
      });
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
  };
};
