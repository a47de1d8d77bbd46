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
