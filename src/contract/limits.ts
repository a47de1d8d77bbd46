/**
 * The limits of one webhook delivery (contract section 3.6): what a receiver takes, and what it
 * refuses for good. One source for the contract's prose and OpenAPI, the receiver's checks and
 * its hand-off's size, so they cannot drift apart. Plain numbers with no imports.
 */
export const DELIVERY_LIMITS = Object.freeze({
  /** Bytes of one request body (413 `too_large`): real deliveries are a few KiB. */
  maxBodyBytes: 1024 * 1024,
  /** Records (events) in one delivery (413 `too_many_records`): what a receiver takes within one answer. */
  maxRecords: 1_000,
  /**
   * Bytes of one event's item once normalised (413 `item_too_large`, the other records taken): an
   * SQS message holds 1 MiB, the item's attributes included.
   */
  maxItemBytes: 1024 * 1024,
  /** UTF-8 bytes of an event id (400): real ids are tens of characters; every store keys on it. */
  maxEventIdBytes: 1024,
  /** Nesting of objects and arrays (400): real events nest three or four levels. */
  maxNestingDepth: 64,
});
