/**
 * Webhook delivery as the platform does it (docs/ecologic-api.md section 3): one JSON event per
 * POST, Standard Webhooks headers signed by the `standardwebhooks` package (a fresh timestamp and
 * signature on every attempt, the same `webhook-id`), exponential backoff with full jitter, 429
 * honouring Retry-After, 3xx/4xx/5xx/timeouts/dropped connections retried, 410 removing the
 * subscription, and nothing sent to a subscription once it is deleted.
 *
 * It only ever connects to loopback addresses: this is a sandbox.
 */
import * as http from 'node:http';
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { isLoopbackHost, retryAfterMs } from '../core/net';
import { PRODUCTION_SCHEDULE, type DeliverySchedule } from '../contract/schedule';

// The schedule lives with the contract; re-exported for the sandbox's callers.
export { PRODUCTION_SCHEDULE, type DeliverySchedule };

/** The upper bound of the wait before retry `n` (n >= 1), i.e. after the n-th failed attempt. */
export function backoffCeilingMs(n: number, schedule: Pick<DeliverySchedule, 'baseDelayMs' | 'capDelayMs'>): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError('retry number must be an integer >= 1');
  // 2^(n-1) overflows to Infinity for large n, which min() turns into the cap.
  return Math.min(schedule.capDelayMs, schedule.baseDelayMs * 2 ** (n - 1));
}

/**
 * The wait before retry `n`: full jitter, a uniform random time in [0, ceiling(n)]. With a
 * Retry-After that is longer than that, the Retry-After is honoured, capped at ceiling(n+1)
 * ("the step after", contract 3.4).
 */
export function retryDelayMs(
  n: number,
  schedule: Pick<DeliverySchedule, 'baseDelayMs' | 'capDelayMs'>,
  random: () => number,
  retryAfterMs?: number,
): number {
  const jittered = Math.floor(random() * backoffCeilingMs(n, schedule));
  if (retryAfterMs !== undefined && retryAfterMs > jittered) {
    return Math.max(jittered, Math.min(retryAfterMs, backoffCeilingMs(n + 1, schedule)));
  }
  return jittered;
}

/** The subscription data the sender needs, looked up again before every attempt. */
export interface DeliveryTarget {
  id: string;
  uri: string;
  secret?: string | undefined;
}

export type AttemptOutcome =
  | 'success'
  | 'gone'
  | 'redirect'
  | 'client_error'
  | 'rate_limited'
  | 'server_error'
  | 'timeout'
  | 'network'
  | 'blocked';

export type DeliveryResult = 'delivered' | 'gone' | 'gave_up' | 'cancelled' | 'blocked';

export interface AttemptReport {
  deliveryId: string;
  eventId: string;
  subscriptionId: string;
  attempt: number;
  outcome: AttemptOutcome;
  status?: number;
  /** Set when another attempt is scheduled. */
  retryInMs?: number;
  /** Set when this attempt ended the delivery. */
  result?: DeliveryResult;
}

export interface DeliveryStats {
  /** Deliveries handed to the sender (one per event per matching subscription, plus redeliveries). */
  enqueued: number;
  attempts: number;
  delivered: number;
  failedAttempts: number;
  gaveUp: number;
  /** Deliveries that ended with a 410 (the subscription was removed). */
  gone: number;
  /** Deliveries dropped because their subscription was deleted. */
  cancelled: number;
  /** Deliveries to a destination the sandbox refuses (not loopback http). */
  blocked: number;
  outcomes: Record<AttemptOutcome, number>;
  pending: number;
}

/** One request as the sender put it on the wire (for observers such as contract tests). */
export interface SentRequest {
  /** The sender's id of the delivery this attempt belongs to (a redelivery is a delivery of its own). */
  deliveryId: string;
  subscriptionId: string;
  eventId: string;
  /** 1 for the first attempt. */
  attempt: number;
  url: string;
  /** Exactly the request headers sent, lower-case names. */
  headers: Record<string, string>;
  /** Exactly the bytes sent. */
  body: string;
}

export interface SenderOptions {
  schedule?: Partial<DeliverySchedule>;
  /** Looks the subscription up before each attempt; undefined means deleted. */
  lookup: (subscriptionId: string) => DeliveryTarget | undefined;
  /** Called once when a receiver answers 410 (the owner deletes the subscription). */
  onGone?: (subscriptionId: string) => void;
  onAttempt?: (report: AttemptReport) => void;
  /** Called with every request the sender makes, just before it is sent; what it throws is ignored. */
  onSend?: (sent: SentRequest) => void;
  /** In-flight requests at most (default 16). */
  concurrency?: number;
  random?: () => number;
  /** Clock used to sign attempts (default Date.now). */
  now?: () => number;
  userAgent?: string;
}

interface Delivery {
  id: string;
  subscriptionId: string;
  eventId: string;
  body: string;
  attempt: number;
  firstAttemptAt?: number;
  timer?: NodeJS.Timeout;
  request?: http.ClientRequest;
  state: 'waiting' | 'ready' | 'in_flight';
}

const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * A first-in first-out queue with O(1) push and shift (Array#shift is O(n) on large arrays, and
 * a fire may queue tens of thousands of deliveries).
 */
class Fifo<T> {
  private items: Array<T | undefined> = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    // Drop the consumed front now and then, so the array does not grow for ever.
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}

export class WebhookSender {
  readonly schedule: DeliverySchedule;
  private readonly opts: SenderOptions;
  private readonly random: () => number;
  private readonly agent: http.Agent;
  private readonly concurrency: number;
  private readonly deliveries = new Map<string, Delivery>();
  /** Pending deliveries by subscription, so cancelling one subscription does not scan them all. */
  private readonly bySubscription = new Map<string, Set<Delivery>>();
  /** Deliveries due for an attempt. Finished ones are not removed here; pump() skips them. */
  private readonly ready = new Fifo<Delivery>();
  private inFlight = 0;
  private seq = 0;
  private closed = false;
  private waiters: Array<() => void> = [];
  private readonly counters: Omit<DeliveryStats, 'pending' | 'outcomes'> = {
    enqueued: 0,
    attempts: 0,
    delivered: 0,
    failedAttempts: 0,
    gaveUp: 0,
    gone: 0,
    cancelled: 0,
    blocked: 0,
  };
  private readonly outcomes: Record<AttemptOutcome, number> = {
    success: 0,
    gone: 0,
    redirect: 0,
    client_error: 0,
    rate_limited: 0,
    server_error: 0,
    timeout: 0,
    network: 0,
    blocked: 0,
  };

  constructor(options: SenderOptions) {
    this.opts = options;
    this.schedule = { ...PRODUCTION_SCHEDULE, ...options.schedule };
    const s = this.schedule;
    if (!(s.baseDelayMs >= 0 && s.capDelayMs >= s.baseDelayMs && s.maxAttempts >= 1 && s.timeoutMs > 0 && s.horizonMs >= 0)) {
      throw new RangeError('invalid delivery schedule');
    }
    this.random = options.random ?? (() => randomBytes(4).readUInt32BE(0) / 0x1_0000_0000);
    this.concurrency = Math.max(1, options.concurrency ?? 16);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: this.concurrency });
  }

  /**
   * Queue one event for one subscription. `body` is sent byte for byte on every attempt. O(1): a
   * fire may enqueue many thousands at once.
   */
  enqueue(subscriptionId: string, eventId: string, body: string): string {
    if (this.closed) throw new Error('sender is closed');
    const delivery: Delivery = {
      id: `dlv_${++this.seq}`,
      subscriptionId,
      eventId,
      body,
      attempt: 0,
      state: 'ready',
    };
    this.counters.enqueued++;
    this.deliveries.set(delivery.id, delivery);
    let ofSubscription = this.bySubscription.get(subscriptionId);
    if (!ofSubscription) this.bySubscription.set(subscriptionId, (ofSubscription = new Set()));
    ofSubscription.add(delivery);
    this.ready.push(delivery);
    this.pump();
    return delivery.id;
  }

  /** Drop every pending delivery (and retry) of a deleted subscription. */
  cancelSubscription(subscriptionId: string): number {
    let n = 0;
    for (const d of [...(this.bySubscription.get(subscriptionId) ?? [])]) {
      if (d.state === 'in_flight') continue;
      // An in-flight attempt finishes, but it is not retried: lookup() fails after it.
      this.finish(d, 'cancelled');
      n++;
    }
    return n;
  }

  stats(): DeliveryStats {
    return { ...this.counters, outcomes: { ...this.outcomes }, pending: this.deliveries.size };
  }

  get pending(): number {
    return this.deliveries.size;
  }

  /** Resolves when nothing is queued, waiting for a retry, or in flight. */
  settled(timeoutMs?: number): Promise<void> {
    if (this.deliveries.size === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        if (timer) clearTimeout(timer);
        resolve();
      };
      this.waiters.push(done);
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== done);
          reject(new Error(`deliveries not settled after ${timeoutMs} ms (${this.deliveries.size} pending)`));
        }, timeoutMs);
      }
    });
  }

  /** Stop: pending deliveries are dropped (counted as cancelled), in-flight requests aborted. */
  close(): void {
    this.closed = true;
    for (const d of [...this.deliveries.values()]) {
      d.request?.destroy();
      this.finish(d, 'cancelled');
    }
    this.ready.clear();
    this.agent.destroy();
  }

  // ------------------------------------------------------------------------------------------

  private pump(): void {
    while (!this.closed && this.inFlight < this.concurrency && this.ready.length > 0) {
      const d = this.ready.shift() as Delivery;
      if (!this.deliveries.has(d.id) || d.state !== 'ready') continue;
      void this.attempt(d);
    }
  }

  private finish(d: Delivery, result: DeliveryResult): void {
    if (!this.deliveries.delete(d.id)) return;
    if (d.timer) clearTimeout(d.timer);
    const ofSubscription = this.bySubscription.get(d.subscriptionId);
    ofSubscription?.delete(d);
    if (ofSubscription?.size === 0) this.bySubscription.delete(d.subscriptionId);
    if (result === 'delivered') this.counters.delivered++;
    else if (result === 'gone') this.counters.gone++;
    else if (result === 'gave_up') this.counters.gaveUp++;
    else if (result === 'cancelled') this.counters.cancelled++;
    else this.counters.blocked++;
    if (this.deliveries.size === 0) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w();
    }
  }

  private async attempt(d: Delivery): Promise<void> {
    const target = this.opts.lookup(d.subscriptionId);
    if (!target) {
      this.finish(d, 'cancelled');
      return;
    }
    let url: URL;
    try {
      url = new URL(target.uri);
    } catch {
      url = new URL('invalid:');
    }
    d.attempt++;
    d.firstAttemptAt ??= Date.now();
    this.counters.attempts++;
    if (url.protocol !== 'http:' || !isLoopbackHost(url.hostname)) {
      // The sandbox never sends events off this machine.
      this.outcomes.blocked++;
      this.report(d, { outcome: 'blocked', result: 'blocked' });
      this.finish(d, 'blocked');
      return;
    }

    this.inFlight++;
    d.state = 'in_flight';
    let outcome: AttemptOutcome;
    let status: number | undefined;
    let retryAfter: number | undefined;
    try {
      const res = await this.post(d, url, target.secret);
      status = res.status;
      outcome = classify(res.status);
      if (outcome === 'rate_limited') retryAfter = retryAfterMs(res.retryAfter);
    } catch (err) {
      outcome = (err as Error).message === 'timeout' ? 'timeout' : 'network';
    } finally {
      d.request = undefined;
      this.inFlight--;
    }
    this.outcomes[outcome]++;

    if (!this.deliveries.has(d.id)) {
      // Cancelled or closed while in flight.
      this.pump();
      return;
    }
    if (outcome === 'success') {
      this.report(d, { outcome, status, result: 'delivered' });
      this.finish(d, 'delivered');
    } else if (outcome === 'gone') {
      this.report(d, { outcome, status, result: 'gone' });
      this.finish(d, 'gone');
      this.opts.onGone?.(d.subscriptionId);
      this.cancelSubscription(d.subscriptionId);
    } else {
      this.counters.failedAttempts++;
      const delay = retryDelayMs(d.attempt, this.schedule, this.random, retryAfter);
      const elapsed = Date.now() - (d.firstAttemptAt ?? Date.now());
      if (!this.opts.lookup(d.subscriptionId)) {
        this.report(d, { outcome, status, result: 'cancelled' });
        this.finish(d, 'cancelled');
      } else if (d.attempt >= this.schedule.maxAttempts || elapsed + delay > this.schedule.horizonMs) {
        this.report(d, { outcome, status, result: 'gave_up' });
        this.finish(d, 'gave_up');
      } else {
        this.report(d, { outcome, status, retryInMs: delay });
        d.state = 'waiting';
        d.timer = setTimeout(() => {
          d.timer = undefined;
          if (!this.deliveries.has(d.id)) return;
          d.state = 'ready';
          this.ready.push(d);
          this.pump();
        }, delay);
      }
    }
    this.pump();
  }

  private report(d: Delivery, r: Omit<AttemptReport, 'deliveryId' | 'eventId' | 'subscriptionId' | 'attempt'>): void {
    this.opts.onAttempt?.({
      deliveryId: d.id,
      eventId: d.eventId,
      subscriptionId: d.subscriptionId,
      attempt: d.attempt,
      ...r,
    });
  }

  private post(d: Delivery, url: URL, secret: string | undefined): Promise<{ status: number; retryAfter?: string }> {
    const now = new Date(this.opts.now ? this.opts.now() : Date.now());
    // Host and Connection are the values node would add itself; set here so that `headers` is
    // exactly what goes on the wire (onSend reports it).
    const headers: Record<string, string> = {
      Host: url.host,
      Connection: 'keep-alive',
      'Content-Type': 'application/json',
      'Content-Length': String(Buffer.byteLength(d.body)),
      'User-Agent': this.opts.userAgent ?? 'Ecologic-Webhooks/1.0',
      'webhook-id': d.eventId,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
    };
    if (secret) headers['webhook-signature'] = new Webhook(secret).sign(d.eventId, now, d.body);
    if (this.opts.onSend) {
      const sent: Record<string, string> = {};
      for (const [name, value] of Object.entries(headers)) sent[name.toLowerCase()] = value;
      try {
        this.opts.onSend({ deliveryId: d.id, subscriptionId: d.subscriptionId, eventId: d.eventId, attempt: d.attempt, url: url.href, headers: sent, body: d.body });
      } catch {
        // An observer's failure must not change the delivery.
      }
    }
    return sendRequest(url, headers, d.body, this.schedule.timeoutMs, this.agent, (req) => {
      d.request = req;
    });
  }
}

function classify(status: number): AttemptOutcome {
  if (status >= 200 && status < 300) return 'success';
  if (status === 410) return 'gone';
  if (status === 429) return 'rate_limited';
  if (status >= 300 && status < 400) return 'redirect';
  if (status >= 400 && status < 500) return 'client_error';
  return 'server_error';
}

/**
 * One POST, never following redirects; rejects with Error('timeout') when no complete answer
 * arrived within `timeoutMs`, or with the network error. Uses the two-argument form of
 * http.request so it keeps working when zapier-platform-core has patched `http.request`.
 */
export function sendRequest(
  url: URL,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
  agent?: http.Agent,
  onRequest?: (req: http.ClientRequest) => void,
): Promise<{ status: number; retryAfter?: string; body: string }> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const req = http.request({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port,
      path: `${url.pathname}${url.search}`,
      headers,
      agent: agent ?? false,
    });
    const timer = setTimeout(() => {
      settle(() => reject(new Error('timeout')));
      req.destroy();
    }, timeoutMs);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_RESPONSE_BYTES) chunks.push(chunk);
      });
      res.on('end', () => {
        const retryAfter = res.headers['retry-after'];
        settle(() =>
          resolve({
            status: res.statusCode ?? 0,
            ...(retryAfter !== undefined ? { retryAfter } : {}),
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      });
      res.on('error', (err) => settle(() => reject(err)));
      res.on('close', () => {
        if (!res.complete) settle(() => reject(new Error('connection closed mid-response')));
      });
    });
    req.on('error', (err) => settle(() => reject(err)));
    onRequest?.(req);
    req.end(body);
  });
}
