/**
 * What the sandbox console shows that the API does not give: the events fired, each delivery with
 * its attempts (status, latency, next retry, how it ended), the request headers each attempt sent,
 * and what the console's catch endpoint made of them. Fed by the sender's own callbacks (onSend,
 * onAttempt), never invented; bounded, so a long-running sandbox keeps a fixed amount of it.
 */
import type { AttemptReport, DeliveryResult, SentRequest } from '../sender';

/** Deliveries kept by default (with their attempts); older ones are forgotten first. */
export const MAX_CONSOLE_DELIVERIES = 500;
/** Fired events kept in the timeline by default. */
export const MAX_CONSOLE_EVENTS = 200;
/** Requests the catch endpoint received, kept by default. */
export const MAX_CAUGHT = 100;

/** What the catch endpoint made of one request: verified with the subscription's secret, or why not. */
export interface Verification {
  ok: boolean;
  /** Why it was rejected (or why it could not be checked); never a value of the body or a secret. */
  reason?: string;
}

export interface ConsoleAttempt {
  attempt: number;
  /** When the request was sent (ISO time); absent for an attempt that was never sent (blocked). */
  sentAt?: string;
  /** Exactly the request headers sent, lower-case names (shortened for the page by `shortenHeaders`). */
  headers?: Record<string, string>;
  status?: number;
  outcome?: AttemptReport['outcome'];
  /** From the request being sent to the sender's report of its answer. */
  latencyMs?: number;
  /** When the next attempt is due (ISO time), when one is scheduled. */
  retryAt?: string;
  /** How the delivery ended, when this attempt ended it. */
  result?: DeliveryResult;
  /** Set when the request reached the console's catch endpoint. */
  verification?: Verification;
}

export type DeliveryState = 'sending' | 'retrying' | DeliveryResult;

export interface ConsoleDelivery {
  id: string;
  eventId: string;
  /** The event type, as fired (`RequestQuote:Create`), or '' when the event is no longer stored. */
  event: string;
  subscriptionId: string;
  uri: string;
  /** The delivery this one redelivers (same event and subscription), when it is a redelivery. */
  redeliveryOf?: string;
  state: DeliveryState;
  attempts: ConsoleAttempt[];
}

export interface ConsoleEvent {
  eventId: string;
  event: string;
  firedAt: string;
  /** The deliveries the fire queued (one per matching subscription), then its redeliveries. */
  deliveries: string[];
}

export interface CaughtRequest {
  at: string;
  webhookId: string;
  /** The delivery and attempt the request was, when it was one the sender sent. */
  deliveryId?: string;
  attempt?: number;
  verification: Verification;
}

export type HistoryChange =
  | { kind: 'event'; event: ConsoleEvent }
  | { kind: 'delivery'; delivery: ConsoleDelivery }
  | { kind: 'caught'; caught: CaughtRequest };

export interface HistoryOptions {
  maxDeliveries?: number;
  maxEvents?: number;
  maxCaught?: number;
  /** The event type of a stored event id, for deliveries first seen by the sender. */
  eventName: (eventId: string) => string | undefined;
  /** A subscription's URI, looked up when a delivery is first seen. */
  uriOf: (subscriptionId: string) => string | undefined;
  now?: () => number;
}

/** `v1,AbCdEfGh…`: enough to tell two signatures apart on a page, not enough to reuse one. */
export function shortenSignature(header: string): string {
  return header
    .split(' ')
    .filter((entry) => entry !== '')
    .map((entry) => {
      const comma = entry.indexOf(',');
      const version = comma >= 0 ? entry.slice(0, comma + 1) : '';
      const value = comma >= 0 ? entry.slice(comma + 1) : entry;
      return `${version}${value.slice(0, 8)}…`;
    })
    .join(' ');
}

/** The headers with the signature shortened: what the page may show. */
export function shortenHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) out[name] = name === 'webhook-signature' ? shortenSignature(value) : value;
  return out;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export class ConsoleHistory {
  private readonly deliveries = new Map<string, ConsoleDelivery>();
  private readonly events = new Map<string, ConsoleEvent>();
  private readonly caughtList: CaughtRequest[] = [];
  /** When each attempt in flight was sent, by `deliveryId#attempt`, for its latency. */
  private readonly sentAt = new Map<string, number>();
  private readonly listeners = new Set<(change: HistoryChange) => void>();
  private readonly maxDeliveries: number;
  private readonly maxEvents: number;
  private readonly maxCaught: number;
  private readonly now: () => number;

  constructor(private readonly opts: HistoryOptions) {
    this.maxDeliveries = opts.maxDeliveries ?? MAX_CONSOLE_DELIVERIES;
    this.maxEvents = opts.maxEvents ?? MAX_CONSOLE_EVENTS;
    this.maxCaught = opts.maxCaught ?? MAX_CAUGHT;
    this.now = opts.now ?? Date.now;
  }

  /** Called with every change; returns the function that stops it. */
  subscribe(listener: (change: HistoryChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** An event was fired (before its deliveries are queued). */
  recordFire(eventId: string, event: string): void {
    const entry: ConsoleEvent = { eventId, event, firedAt: iso(this.now()), deliveries: [] };
    this.events.delete(eventId);
    this.events.set(eventId, entry);
    while (this.events.size > this.maxEvents) {
      const oldest = this.events.keys().next().value as string;
      this.events.delete(oldest);
    }
    this.emit({ kind: 'event', event: entry });
  }

  /** The sender queued a delivery (a fire's, or a redelivery of `redeliveryOf`). */
  recordQueued(deliveryId: string, subscriptionId: string, eventId: string, redeliveryOf?: string): void {
    const delivery = this.ensure(deliveryId, subscriptionId, eventId);
    if (redeliveryOf !== undefined) delivery.redeliveryOf = redeliveryOf;
    this.emit({ kind: 'delivery', delivery });
  }

  /** The sender is about to put an attempt on the wire. */
  recordSend(sent: SentRequest): void {
    const delivery = this.ensure(sent.deliveryId, sent.subscriptionId, sent.eventId);
    const now = this.now();
    this.sentAt.set(`${sent.deliveryId}#${sent.attempt}`, now);
    const attempt = this.attemptOf(delivery, sent.attempt);
    attempt.sentAt = iso(now);
    attempt.headers = { ...sent.headers };
    delivery.state = 'sending';
    this.emit({ kind: 'delivery', delivery });
  }

  /** The sender's report of an attempt's answer (or of a destination it refused). */
  recordAttempt(report: AttemptReport): void {
    const delivery = this.ensure(report.deliveryId, report.subscriptionId, report.eventId);
    const now = this.now();
    const key = `${report.deliveryId}#${report.attempt}`;
    const sentAt = this.sentAt.get(key);
    this.sentAt.delete(key);
    const attempt = this.attemptOf(delivery, report.attempt);
    attempt.outcome = report.outcome;
    if (report.status !== undefined) attempt.status = report.status;
    if (sentAt !== undefined) attempt.latencyMs = now - sentAt;
    if (report.retryInMs !== undefined) attempt.retryAt = iso(now + report.retryInMs);
    if (report.result !== undefined) attempt.result = report.result;
    delivery.state = report.result ?? 'retrying';
    this.emit({ kind: 'delivery', delivery });
  }

  /**
   * What the catch endpoint made of a request. It is matched to the attempt that sent exactly these
   * `webhook-id`, `webhook-timestamp` and `webhook-signature` headers, when there is one.
   */
  recordCaught(headers: { id: string; timestamp: string; signature: string }, verification: Verification): CaughtRequest {
    const caught: CaughtRequest = { at: iso(this.now()), webhookId: headers.id, verification };
    const match = this.findAttempt(headers);
    if (match) {
      match.attempt.verification = verification;
      caught.deliveryId = match.delivery.id;
      caught.attempt = match.attempt.attempt;
    }
    this.caughtList.push(caught);
    if (this.caughtList.length > this.maxCaught) this.caughtList.splice(0, this.caughtList.length - this.maxCaught);
    if (match) this.emit({ kind: 'delivery', delivery: match.delivery });
    this.emit({ kind: 'caught', caught });
    return caught;
  }

  delivery(id: string): ConsoleDelivery | undefined {
    return this.deliveries.get(id);
  }

  /** Every delivery of one event to one subscription, the first first (a fire's, then redeliveries). */
  deliveriesOf(eventId: string, subscriptionId: string): ConsoleDelivery[] {
    return [...this.deliveries.values()].filter((d) => d.eventId === eventId && d.subscriptionId === subscriptionId);
  }

  allDeliveries(): ConsoleDelivery[] {
    return [...this.deliveries.values()];
  }

  allEvents(): ConsoleEvent[] {
    return [...this.events.values()];
  }

  caught(): CaughtRequest[] {
    return [...this.caughtList];
  }

  get size(): { deliveries: number; events: number; caught: number; inFlight: number } {
    return { deliveries: this.deliveries.size, events: this.events.size, caught: this.caughtList.length, inFlight: this.sentAt.size };
  }

  // ------------------------------------------------------------------------------------------

  private emit(change: HistoryChange): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(change);
      } catch {
        // A watcher's failure must not change the history.
      }
    }
  }

  private ensure(deliveryId: string, subscriptionId: string, eventId: string): ConsoleDelivery {
    let delivery = this.deliveries.get(deliveryId);
    if (delivery) return delivery;
    delivery = {
      id: deliveryId,
      eventId,
      event: this.opts.eventName(eventId) ?? '',
      subscriptionId,
      uri: this.opts.uriOf(subscriptionId) ?? '',
      state: 'sending',
      attempts: [],
    };
    this.deliveries.set(deliveryId, delivery);
    const event = this.events.get(eventId);
    if (event && !event.deliveries.includes(deliveryId)) event.deliveries.push(deliveryId);
    while (this.deliveries.size > this.maxDeliveries) {
      const oldest = this.deliveries.values().next().value as ConsoleDelivery;
      this.deliveries.delete(oldest.id);
      for (const a of oldest.attempts) this.sentAt.delete(`${oldest.id}#${a.attempt}`);
      const of = this.events.get(oldest.eventId);
      if (of) of.deliveries = of.deliveries.filter((id) => id !== oldest.id);
    }
    return delivery;
  }

  private attemptOf(delivery: ConsoleDelivery, n: number): ConsoleAttempt {
    let attempt = delivery.attempts.find((a) => a.attempt === n);
    if (!attempt) {
      attempt = { attempt: n };
      delivery.attempts.push(attempt);
    }
    return attempt;
  }

  private findAttempt(headers: { id: string; timestamp: string; signature: string }): { delivery: ConsoleDelivery; attempt: ConsoleAttempt } | undefined {
    // Two sends of one event in the same second carry the same signature: the first not yet caught wins.
    let seen: { delivery: ConsoleDelivery; attempt: ConsoleAttempt } | undefined;
    for (const delivery of this.deliveries.values()) {
      if (delivery.eventId !== headers.id) continue;
      for (const attempt of delivery.attempts) {
        const h = attempt.headers;
        if (!h || h['webhook-timestamp'] !== headers.timestamp || (h['webhook-signature'] ?? '') !== headers.signature) continue;
        if (attempt.verification === undefined) return { delivery, attempt };
        seen ??= { delivery, attempt };
      }
    }
    return seen;
  }
}
