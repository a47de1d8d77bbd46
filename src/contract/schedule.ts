/**
 * The platform's delivery schedule (contract section 3.4) and what it implies for a receiver's
 * memory of events. Plain numbers with no imports: the Zapier app, the receiver, the sandbox and
 * the OpenAPI document all read them, and the Zapier bundle must not pull anything in with them.
 */

export interface DeliverySchedule {
  /** Backoff base: retry n waits a random time up to min(cap, base * 2^(n-1)). */
  baseDelayMs: number;
  capDelayMs: number;
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** An attempt that has not had a complete answer by then is a failure. */
  timeoutMs: number;
  /** No attempt is started later than this after the first one. */
  horizonMs: number;
}

/** Contract section 3.4. */
export const PRODUCTION_SCHEDULE: Readonly<DeliverySchedule> = Object.freeze({
  baseDelayMs: 5_000,
  capDelayMs: 2 * 60 * 60 * 1000,
  maxAttempts: 12,
  timeoutMs: 15_000,
  horizonMs: 24 * 60 * 60 * 1000,
});

/**
 * How long a receiver remembers a delivered event: the platform retries for up to 24 hours and a
 * signed delivery may be replayed within its signature window (one hour for the Zapier app), so two
 * days covers every retry and every replay with a day to spare.
 */
export const EVENT_MEMORY_SECONDS = 48 * 60 * 60;
