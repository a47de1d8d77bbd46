/**
 * The de-duplication store: one contract, several backends (SQLite for one machine, DynamoDB on
 * AWS), each passing the same suite (test/e2e/receiver-store.test.ts).
 *
 * An event is claimed before its item is handed off and marked handed off after, so concurrent
 * deliveries of one event, from any number of processes, hand off exactly one item:
 *   claim → 'claimed' (this delivery hands it off) | 'duplicate' (already handed off) |
 *           'in_progress' (another delivery holds a live claim: answer 429 and let the platform retry)
 *   complete(token) after a successful hand-off: remembered as handed off for the retention
 *   release(token) after a failed hand-off: forgotten, so the platform's retry can claim it again
 * A claim that is never completed nor released (a crashed process) lapses after its lease, so the
 * event is not locked for longer than one platform retry step.
 */
import { EVENT_MEMORY_SECONDS } from '../contract/schedule';

/** Longer than any one delivery's handling (the platform gives up on an answer after 15 s). */
export const CLAIM_LEASE_MS = 30_000;

export interface StoreOptions {
  /** How long a handed-off event is remembered (default: EVENT_MEMORY_SECONDS, 48 h). */
  readonly retentionSeconds?: number;
  /** How long an uncompleted claim blocks others (default CLAIM_LEASE_MS). */
  readonly leaseMs?: number;
}

export const DEFAULT_STORE_OPTIONS = { retentionSeconds: EVENT_MEMORY_SECONDS, leaseMs: CLAIM_LEASE_MS } as const;

export type ClaimOutcome =
  | { readonly kind: 'claimed'; readonly token: string }
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'in_progress'; readonly retryAfterMs: number };

/** What a store holds for one event, as an operator reads it (replay, support). */
export interface StoredEvent {
  /** The event's id: the item's `id`, readable as sent (e.g. `evt_01JD…`). */
  readonly eventId: string;
  readonly event: string;
  readonly state: 'in_progress' | 'handed_off';
  /** ISO-8601: when the claim was made, or when the item was handed off. */
  readonly since: string;
  /** ISO-8601: when the store forgets the event (a lapsed lease, or the end of the retention). */
  readonly until: string;
}

/**
 * An event's identity: its name and its id together. Ids are often numbered per event type
 * (`Audit:Create` 42 and `RequestQuote:Create` 42 are two events), so neither alone will do.
 */
export interface EventRef {
  readonly event: string;
  /** The item's `id`, as sent. */
  readonly eventId: string;
}

/** The readable key a store files an event under, e.g. `RequestQuote:Create/42` (event names hold no `/`). */
export const eventKey = (ref: EventRef): string => `${ref.event}/${ref.eventId}`;

export interface DedupeStore {
  /** For logs and the start-up banner, e.g. `sqlite:/data/receiver.db`. */
  readonly description: string;
  claim(ref: EventRef, now: Date): Promise<ClaimOutcome>;
  /** Marks a claimed event handed off; false when the claim had lapsed and another took it over. */
  complete(ref: EventRef, token: string, now: Date): Promise<boolean>;
  /** Forgets a claim that this delivery still holds (a no-op when it lapsed and was taken over). */
  release(ref: EventRef, token: string): Promise<void>;
  /** The live record for an event, if any (an expired one reads as absent). */
  lookup(ref: EventRef, now: Date): Promise<StoredEvent | undefined>;
  /**
   * Which of these events are handed off (live), as their `eventKey`s: a few reads for a whole
   * batch, so a retried batch skips what an earlier attempt took instead of claiming it again.
   * Both stores have it; without it (a test double) every event of a batch is claimed.
   */
  handedOff?(refs: readonly EventRef[], now: Date): Promise<ReadonlySet<string>>;
  close(): Promise<void>;
}

/**
 * The store could not answer (unreachable, throttled, timed out, locked). The receiver answers 503
 * with Retry-After, so the platform retries and nothing is lost. The message names the backend and
 * the failure, never an event's content.
 */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
}
