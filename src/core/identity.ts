import { contentId } from './derive/ids';
import type { PlatformEvent } from './events';

/**
 * One record of a delivery body: the event's fields (a flat body, or an envelope's `data`) and,
 * when it came in an envelope, the envelope's own keys.
 */
export interface DeliveredRecord {
  readonly fields: Readonly<Record<string, unknown>>;
  readonly envelope?: Readonly<Record<string, unknown>>;
  /** 1-based position in the delivery, and how many records the delivery holds. */
  readonly position: number;
  readonly count: number;
}

/** Where an event's identity came from, most trusted first. */
export type IdentitySource = 'event_id' | 'envelope_id' | 'delivery_id' | 'content';

export interface EventIdentity {
  /** The event's id: the Zap item's `id`. */
  readonly id: string;
  readonly source: IdentitySource;
  /**
   * What de-duplication claims. The event's own id, except for records that have none beyond the
   * delivery's: those share one claim on the delivery, since a retry re-sends them all together.
   */
  readonly claim: string;
}

/** A string with something in it, or a finite number, as the string it reads as; else null. */
export const usableId = (value: unknown): string | null => {
  if (typeof value === 'string') return value.trim() === '' ? null : value.trim();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
};

/**
 * The identity rule (docs/ecologic-api.md section 3.5). Two records are the same event exactly
 * when they have the same identity, taken from the first of:
 * 1. the envelope's `event_id`, then the envelope's `id` (the id beside `data` names the event);
 * 2. the record's own `event_id`;
 * 3. the delivery's `webhook-id` (or `svix-id`), the same on every retry; with `#<position>` when
 *    the delivery holds several records, so each record of a batch is its own event;
 * 4. a hash of the event name and everything the record sent (and its position in a batch).
 * A resource's id (a flat body's `id`, an envelope's `data.id`) is never the identity: two label
 * events about one quote request carry the same `id`. It only counts as part of the content hash.
 */
export const eventIdentity = (event: PlatformEvent, record: DeliveredRecord, deliveryId: string | null): EventIdentity => {
  const own = (id: string | null, source: IdentitySource): EventIdentity | null => (id === null ? null : { id, source, claim: id });
  const batched = record.count > 1;
  const found =
    own(usableId(record.envelope?.event_id), 'event_id') ??
    own(usableId(record.envelope?.id), 'envelope_id') ??
    own(usableId(record.fields.event_id), 'event_id');
  if (found) return found;
  if (deliveryId !== null) {
    return { id: batched ? `${deliveryId}#${record.position}` : deliveryId, source: 'delivery_id', claim: deliveryId };
  }
  const content = record.envelope ? { ...record.envelope, data: record.fields } : record.fields;
  return own(contentId(event, batched ? { position: record.position, content } : content), 'content')!;
};
