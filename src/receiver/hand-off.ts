/**
 * Where new items go once claimed: an SQS queue on AWS, a durable SQLite outbox (and standard
 * output) on one machine. A hand-off answers per item, so a partly failed batch releases exactly
 * the claims of the items that did not go.
 */
import type { PlatformEvent } from '../core/events';
import type { ZapItem } from '../core/normalise';

export interface HandOffItem {
  /** The item's `id`: the event's identity (contract section 3.5). */
  readonly eventId: string;
  readonly event: PlatformEvent;
  /** Exactly the item a Zap would receive for this event. */
  readonly item: ZapItem;
}

/**
 * `permanent`: no retry can carry this item (it is larger than the hand-off takes), so the delivery
 * is refused (413) instead of answered 503 and retried for a day in vain.
 */
export type HandOffResult = { readonly ok: true } | { readonly ok: false; readonly reason: string; readonly permanent?: boolean };

export interface HandOffOptions {
  /** Epoch ms by which the receiver must answer the delivery. */
  readonly deadline?: number;
}

export interface HandOff {
  /** For logs and the start-up banner, e.g. `sqs:ecologic-items`. */
  readonly description: string;
  /**
   * One result per item, in order; `ok` only once the item is durably stored downstream. An item
   * not stored by `deadline` (epoch ms, when given) fails, so the receiver can still answer in time.
   */
  send(items: readonly HandOffItem[], options?: HandOffOptions): Promise<HandOffResult[]>;
  close?(): Promise<void>;
}

/**
 * What became of one item given to a journal:
 *   taken        claimed, stored downstream and remembered as handed off, all in one commit
 *   duplicate    already handed off;   in_progress  another delivery holds a live claim on it
 *   failed       not kept (nothing claimed, or the claim undone): the platform's retry takes it
 *   late         not started: its turn came after `startBy`; nothing was done
 */
export type JournalResult =
  | { readonly kind: 'taken' }
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'in_progress'; readonly retryAfterMs: number }
  | { readonly kind: 'failed'; readonly reason: string; readonly permanent?: boolean }
  | { readonly kind: 'late' };

export interface JournalOptions {
  /** Epoch ms: work not started by then is not started at all (`late`). */
  readonly startBy: number;
}

/**
 * An optional capability, for a store and a hand-off that live in one database (the local
 * receiver's SQLite file): the claim, the item and the completion of each event in ONE transaction,
 * shared with other deliveries taken at the same moment, instead of the handler's three steps
 * (claim, send, complete). The answer is the same: an item is `taken` only once it is durable
 * downstream and its event remembered as handed off.
 */
export interface HandOffJournal {
  /** For logs, e.g. `journal:/data/receiver.db`. */
  readonly description: string;
  /**
   * One result per item, in order. Rejects (StoreUnavailableError) when the database cannot take
   * the delivery (locked past the busy timeout, closed, failing): then nothing of it was kept.
   */
  take(items: readonly HandOffItem[], now: Date, options: JournalOptions): Promise<JournalResult[]>;
}
