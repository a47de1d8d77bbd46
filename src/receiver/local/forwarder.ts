/**
 * The local receiver's forwarder: posts the outbox's pending items to the partner's URL (a CRM),
 * with retries on a full-jitter backoff, and leaves what cannot be delivered as dead letters for
 * an operator (replay.ts puts them back).
 *
 * At least once: a row is marked only after its POST's outcome, so a crash mid-post posts it again
 * after the claim's lease (the Idempotency-Key header lets the target drop the repeat). The log
 * carries event ids, attempt numbers, outcomes and reasons: never an item's values, and of the
 * target only its origin (its path or query may hold a token).
 */
import { FORWARD_SCHEDULE, forwardDelayMs, forwardItem, type ForwardOutcome, type ForwardSchedule } from '../forward';
import type { ReceiverLog } from '../log';
import { sqliteReason } from '../sqlite-errors';
import type { DueItem, SqliteOutbox } from './outbox';

export interface LocalForwarderOptions {
  readonly target: URL;
  readonly log: ReceiverLog;
  readonly schedule?: Partial<ForwardSchedule>;
  /** How often the outbox is polled when nothing wakes the forwarder (default 1000 ms). */
  readonly pollMs?: number;
  /** POSTs in flight at once (default 4). */
  readonly concurrency?: number;
  /** For the backoff's jitter (tests pass a fixed one). */
  readonly random?: () => number;
}

export interface LocalForwarder {
  /** Stops polling and waits for the POSTs in flight (their outcomes are still recorded). */
  stop(): Promise<void>;
  /** Resolves once nothing is due and nothing is in flight (retries scheduled later do not count). */
  idle(): Promise<void>;
}

type Forwardable = Pick<SqliteOutbox, 'due' | 'markDelivered' | 'markRetry' | 'markDead' | 'onPending'>;

export function startLocalForwarder(outbox: Forwardable, options: LocalForwarderOptions): LocalForwarder {
  const schedule: ForwardSchedule = { ...FORWARD_SCHEDULE, ...options.schedule };
  const { target, log } = options;
  const pollMs = options.pollMs ?? 1_000;
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 4));
  const random = options.random ?? Math.random;
  // A claimed row is skipped by other polls until this passes: longer than any one POST can take,
  // so only a forwarder that died mid-post gives its rows back.
  const leaseMs = schedule.timeoutMs + 30_000;
  const origin = target.origin;

  const inFlight = new Map<string, Promise<void>>();
  let idleWaiters: Array<() => void> = [];
  let stopped = false;
  let wakeTimer: NodeJS.Timeout | undefined;

  const settleIdle = () => {
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const resolve of waiters) resolve();
  };

  const record = (item: DueItem, attempt: number, outcome: ForwardOutcome) => {
    const fields = { event_id: item.eventId, event: item.event, attempt, target: origin };
    if (outcome.kind === 'delivered') {
      outbox.markDelivered(item);
      log.info('forwarded', { ...fields, outcome: 'delivered', status: outcome.status });
      return;
    }
    if (outcome.kind === 'retry' && attempt < schedule.maxAttempts) {
      const delayMs = forwardDelayMs(attempt, random, outcome.retryAfterMs, schedule);
      outbox.markRetry(item, new Date(Date.now() + delayMs), outcome.reason);
      log.warn('forward failed, will retry', { ...fields, outcome: 'retry', reason: outcome.reason, retry_in_ms: delayMs });
      wakeIn(delayMs);
      return;
    }
    // Rejected (retrying cannot help) or out of attempts: a dead letter for an operator.
    outbox.markDead(item, outcome.kind === 'rejected' ? `rejected: ${outcome.reason}` : `gave up after ${attempt} attempts: ${outcome.reason}`);
    log.error('forward failed, dead letter', {
      ...fields,
      outcome: 'dead',
      cause: outcome.kind,
      reason: outcome.reason,
      replay: `npm run replay -- ${item.eventId}`,
    });
  };

  const forward = async (item: DueItem) => {
    const attempt = item.attempts + 1;
    try {
      const outcome = await forwardItem(target, item, { timeoutMs: schedule.timeoutMs });
      record(item, attempt, outcome);
    } catch (error) {
      // The outbox could not record the outcome (locked, full, closed): the row stays pending and
      // comes back after its lease, to be posted again.
      log.error('forward outcome not recorded, will post again', { event_id: item.eventId, attempt, reason: sqliteReason(error) });
    }
  };

  const tick = () => {
    if (stopped) return;
    const room = concurrency - inFlight.size;
    let started = 0;
    if (room > 0) {
      let rows: DueItem[] = [];
      try {
        rows = outbox.due(new Date(), room, leaseMs);
      } catch (error) {
        log.error('outbox not readable, will poll again', { reason: sqliteReason(error) });
      }
      for (const row of rows) {
        if (inFlight.has(row.eventId)) continue;
        started += 1;
        const done = forward(row).finally(() => {
          inFlight.delete(row.eventId);
          tick();
        });
        inFlight.set(row.eventId, done);
      }
    }
    if (started === 0 && inFlight.size === 0) settleIdle();
    // A full batch: there may be more due, taken as soon as a slot frees (finally → tick).
  };

  /** Polls sooner than the interval, for a retry due before the next poll. */
  let wakeAt = Number.POSITIVE_INFINITY;
  const wakeIn = (delayMs: number) => {
    const at = Date.now() + delayMs;
    if (stopped || delayMs >= pollMs || at >= wakeAt) return;
    if (wakeTimer !== undefined) clearTimeout(wakeTimer);
    wakeAt = at;
    wakeTimer = setTimeout(() => {
      wakeTimer = undefined;
      wakeAt = Number.POSITIVE_INFINITY;
      tick();
    }, delayMs);
  };

  // New rows in this process: poll now (next turn, so a burst of sends makes one poll).
  let wakeQueued = false;
  const unsubscribe = outbox.onPending(() => {
    if (wakeQueued) return;
    wakeQueued = true;
    setImmediate(() => {
      wakeQueued = false;
      tick();
    });
  });
  const poller = setInterval(tick, pollMs);
  // The receiver's server keeps the process alive; the forwarder alone must not.
  poller.unref();
  log.info('forwarder started', { target: origin, concurrency, max_attempts: schedule.maxAttempts, poll_ms: pollMs });
  setImmediate(tick);

  return {
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(poller);
      if (wakeTimer !== undefined) clearTimeout(wakeTimer);
      unsubscribe();
      await Promise.all(inFlight.values());
      settleIdle();
      log.info('forwarder stopped', { target: origin });
    },
    idle() {
      if (stopped) return Promise.resolve();
      return new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        // Check now rather than at the next poll.
        setImmediate(tick);
      });
    },
  };
}
