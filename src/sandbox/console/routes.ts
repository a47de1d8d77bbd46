/**
 * The sandbox console at `/console`, served by the sandbox itself on its own origin:
 *
 *   GET  /console                          the page (./app.js, Preact and htm from /console/assets/)
 *   GET  /console/stream                   live updates, Server-Sent Events: `snapshot`, then `event`,
 *                                          `delivery`, `caught` and `subscriptions` as they happen
 *   GET  /console/api/state                the same snapshot as JSON
 *   GET  /console/api/deliveries/{id}      one delivery: every send of its event to its subscription
 *                                          (redeliveries included) with the headers sent, and the body
 *   POST /console/api/fire                 {event, count?, data?: "JSON text"} -> the API's POST /sandbox/events;
 *                                          answers 200 {api_status, api_body}: the API's own answer
 *   POST /console/api/redeliver            {delivery_id} -> a redelivery (same webhook-id, re-signed)
 *   POST /console/api/catch                subscribes the catch endpoint to the six events (POST /v1/notifications)
 *   POST /console/catch/{id}               the catch endpoint: verifies each delivery with its subscription's secret
 *
 * The three actions refuse requests from another site (src/console/guard.ts); they call the
 * sandbox's real API over HTTP with its own key, so the console sees exactly what a client sees.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import { consolePage, consoleResource, CONSOLE_SECURITY_HEADERS } from '../../console/page';
import { newConsoleToken, openEventStream, refuseCrossSite, type EventStream } from '../../console/guard';
import { verifyDelivery } from '../../core/signature';
import { EVENT_NAMES } from '../events';
import type { AttemptReport, SentRequest } from '../sender';
import { readBodyBytes, type SandboxServer, type Subscription } from '../server';
import { ConsoleHistory, type ConsoleDelivery, type HistoryChange, shortenHeaders, type Verification } from './history';

/** What a console route answers, sent by the sandbox like its other replies. */
export interface ConsoleReply {
  status: number;
  body?: unknown;
  text?: string;
  contentType?: string;
  headers?: Record<string, string>;
  note?: string;
}

const FOLDER = ['src', 'sandbox', 'console'] as const;
/** Console action bodies are small; a catch endpoint request is at most the largest event and its headers. */
const MAX_ACTION_BYTES = 256 * 1024;

const error = (status: number, code: string, message: string): ConsoleReply => ({ status, body: { error: { code, message } }, note: code });

/** The body as sent, or undefined when it is too large or cut short (the sandbox's own reader). */
const readBounded = (req: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> => readBodyBytes(req, maxBytes).catch(() => undefined);

async function readJsonObject(req: IncomingMessage): Promise<{ value: Record<string, unknown> } | { refused: ConsoleReply }> {
  const raw = await readBounded(req, MAX_ACTION_BYTES);
  if (raw === undefined) return { refused: error(413, 'payload_too_large', 'the request is too large or was cut short') };
  try {
    const parsed = JSON.parse(raw.toString('utf8')) as unknown;
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return { value: parsed as Record<string, unknown> };
  } catch {
    // answered below
  }
  return { refused: error(400, 'invalid_json', 'the request must be a JSON object') };
}

const header = (req: IncomingMessage, name: string): string => {
  const value = req.headers[name];
  return (Array.isArray(value) ? value[0] : value) ?? '';
};

/** A subscription as the page shows it: never its secret. */
function publicSubscription(sub: Subscription, catchUrl: string): Record<string, unknown> {
  return { id: sub.id, event: sub.event, uri: sub.uri, filters: sub.filters, created_at: sub.created_at, catch: sub.uri === catchUrl };
}

/** A delivery as the page's timeline shows it: no headers (the detail route has them, shortened). */
function timelineDelivery(d: ConsoleDelivery): Record<string, unknown> {
  return { ...d, attempts: d.attempts.map(({ headers: _headers, ...rest }) => rest) };
}

export class SandboxConsole {
  readonly token = newConsoleToken();
  /** The path of the catch endpoint: random per sandbox, so a URL of one sandbox means nothing to another. */
  readonly catchPath = `/console/catch/${newConsoleToken().slice(0, 12).replace(/[^A-Za-z0-9]/g, 'x')}`;
  readonly history: ConsoleHistory;
  private readonly streams = new Set<EventStream>();

  constructor(
    private readonly sandbox: SandboxServer,
    options: { maxDeliveries?: number; maxEvents?: number } = {},
  ) {
    this.history = new ConsoleHistory({
      ...options,
      eventName: (id) => sandbox.eventName(id),
      uriOf: (id) => sandbox.subscription(id)?.uri,
    });
    this.history.subscribe((change) => this.broadcast(change));
  }

  /** The catch endpoint's URL, for subscriptions. */
  get catchUrl(): string {
    return `${this.sandbox.url}${this.catchPath}`;
  }

  // The sandbox's hooks.
  onSend(sent: SentRequest): void {
    this.history.recordSend(sent);
  }

  onAttempt(report: AttemptReport): void {
    this.history.recordAttempt(report);
  }

  subscriptionsChanged(): void {
    if (this.streams.size === 0) return;
    const subscriptions = this.subscriptions();
    for (const stream of this.streams) stream.send('subscriptions', subscriptions);
  }

  /** Ends the live streams (the sandbox is closing). */
  close(): void {
    this.streams.clear();
  }

  /** The page's whole state: subscriptions, the timeline, what the catch endpoint received. */
  snapshot(): Record<string, unknown> {
    return {
      catch_url: this.catchUrl,
      events: EVENT_NAMES,
      signing: this.sandbox.signing,
      subscriptions: this.subscriptions(),
      timeline: this.history.allEvents(),
      deliveries: this.history.allDeliveries().map(timelineDelivery),
      caught: this.history.caught(),
    };
  }

  /** Answers a `/console` path: a reply to send, or null when it answered itself (a stream, a refusal). */
  async handle(method: string, path: string, req: IncomingMessage, res: ServerResponse): Promise<ConsoleReply | null> {
    if (path === '/console') {
      if (method !== 'GET' && method !== 'HEAD') return this.notAllowed('GET');
      return {
        status: 200,
        text: consolePage({ title: 'Ecologic sandbox console', script: '/console/app.js', data: { token: this.token } }),
        contentType: 'text/html; charset=utf-8',
        headers: { ...CONSOLE_SECURITY_HEADERS },
        note: 'console',
      };
    }
    if (path === this.catchPath) {
      if (method !== 'POST') return this.notAllowed('POST');
      return this.catchDelivery(req);
    }
    if (path === '/console/stream') {
      if (method !== 'GET') return this.notAllowed('GET');
      const stream = openEventStream(req, res, () => this.streams.delete(stream));
      this.streams.add(stream);
      stream.send('snapshot', this.snapshot());
      return null;
    }
    if (path === '/console/api/state') {
      if (method !== 'GET') return this.notAllowed('GET');
      return { status: 200, body: this.snapshot(), headers: { 'cache-control': 'no-store' } };
    }
    const detail = /^\/console\/api\/deliveries\/([\w-]+)$/.exec(path);
    if (detail) {
      if (method !== 'GET') return this.notAllowed('GET');
      return this.deliveryDetail(detail[1] as string);
    }
    if (path === '/console/api/fire' || path === '/console/api/redeliver' || path === '/console/api/catch') {
      if (method !== 'POST') return this.notAllowed('POST');
      if (refuseCrossSite(req, res, this.token)) return null;
      if (path === '/console/api/fire') return this.fire(req);
      if (path === '/console/api/redeliver') return this.redeliver(req);
      return this.subscribeCatch();
    }
    if (method === 'GET') {
      const asset = consoleResource(FOLDER, path);
      if (asset) {
        return { status: 200, text: asset.body.toString('utf8'), contentType: asset.contentType, headers: { ...CONSOLE_SECURITY_HEADERS }, note: 'console file' };
      }
    }
    return error(404, 'not_found', 'no such console page');
  }

  // ------------------------------------------------------------------------------------------

  private notAllowed(methods: string): ConsoleReply {
    return { ...error(405, 'method_not_allowed', `use ${methods}`), headers: { Allow: methods } };
  }

  private subscriptions(): Record<string, unknown>[] {
    const catchUrl = this.catchUrl;
    return this.sandbox.subscriptions().map((s) => publicSubscription(s, catchUrl));
  }

  private broadcast(change: HistoryChange): void {
    if (this.streams.size === 0) return;
    const data = change.kind === 'event' ? change.event : change.kind === 'delivery' ? timelineDelivery(change.delivery) : change.caught;
    for (const stream of this.streams) stream.send(change.kind, data);
  }

  private deliveryDetail(id: string): ConsoleReply {
    const delivery = this.history.delivery(id);
    if (!delivery) return error(404, 'not_found', 'no such delivery in the console history (it keeps the latest ones)');
    const sends = this.history.deliveriesOf(delivery.eventId, delivery.subscriptionId).flatMap((d) =>
      d.attempts.map((a) => ({
        delivery_id: d.id,
        redelivery: d.redeliveryOf !== undefined,
        ...a,
        ...(a.headers ? { headers: shortenHeaders(a.headers) } : {}),
      })),
    );
    const body = this.sandbox.rawEvent(delivery.eventId);
    return { status: 200, body: { delivery: timelineDelivery(delivery), sends, body: body ?? null }, headers: { 'cache-control': 'no-store' } };
  }

  /** One call to the sandbox's own API over HTTP, with its own key: exactly what a client gets. */
  private async callApi(path: string, body: string): Promise<{ status: number; json: unknown }> {
    const res = await fetch(`${this.sandbox.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.sandbox.apiKey}`, 'content-type': 'application/json' },
      body,
    });
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text === '' ? null : (JSON.parse(text) as unknown);
    } catch {
      json = null;
    }
    return { status: res.status, json };
  }

  private async fire(req: IncomingMessage): Promise<ConsoleReply> {
    const read = await readJsonObject(req);
    if ('refused' in read) return read.refused;
    const input = read.value;
    const body: Record<string, unknown> = { event: input['event'] };
    if (input['count'] !== undefined && input['count'] !== '') body['count'] = input['count'];
    const dataText = input['data'];
    if (typeof dataText === 'string' && dataText.trim() !== '') {
      try {
        body['data'] = JSON.parse(dataText) as unknown;
      } catch {
        return error(400, 'invalid_json', 'the data is not valid JSON');
      }
    }
    // The API validates everything else, exactly as it does for any client. Its answer, refusals
    // included, is what this route reports: the route itself did its job (200).
    const answer = await this.callApi('/sandbox/events', JSON.stringify(body));
    return { status: 200, body: { api_status: answer.status, api_body: answer.json }, note: `fire: the API answered ${answer.status}` };
  }

  private async redeliver(req: IncomingMessage): Promise<ConsoleReply> {
    const read = await readJsonObject(req);
    if ('refused' in read) return read.refused;
    const id = read.value['delivery_id'];
    const delivery = typeof id === 'string' ? this.history.delivery(id) : undefined;
    if (!delivery) return error(404, 'not_found', 'no such delivery in the console history');
    const queued = this.sandbox.redeliverDelivery(delivery.subscriptionId, delivery.eventId, delivery.redeliveryOf ?? delivery.id);
    if (!queued.ok) return error(queued.status, queued.code, queued.message);
    return { status: 202, body: { delivery_id: queued.deliveryId, redelivery_of: delivery.id }, note: `redelivery ${queued.deliveryId}` };
  }

  private async subscribeCatch(): Promise<ConsoleReply> {
    const subscribed: string[] = [];
    for (const event of EVENT_NAMES) {
      const answer = await this.callApi('/v1/notifications', JSON.stringify({ type: 'webhook', event, uri: this.catchUrl, filters: {} }));
      if (answer.status !== 200 && answer.status !== 201) {
        const e = (answer.json as { error?: { code?: string; message?: string } } | null)?.error;
        return { status: answer.status, body: { error: { code: e?.code ?? 'subscribe_failed', message: e?.message ?? 'the subscribe API refused it' }, subscribed }, note: 'catch subscribe refused' };
      }
      subscribed.push(String((answer.json as { id?: unknown }).id));
    }
    return { status: 200, body: { uri: this.catchUrl, subscriptions: subscribed }, note: 'catch endpoint subscribed' };
  }

  /**
   * The catch endpoint: finds the subscription of this URL for the delivered event, verifies the
   * signature with its secret (src/core/signature.ts, as the app and the receiver do) and records
   * the result beside the attempt that sent it. 204 when verified, 400 with the reason otherwise.
   */
  private async catchDelivery(req: IncomingMessage): Promise<ConsoleReply> {
    const raw = await readBounded(req, this.sandbox.limits.maxEventBytes + 16 * 1024);
    const headers = { id: header(req, 'webhook-id'), timestamp: header(req, 'webhook-timestamp'), signature: header(req, 'webhook-signature') };
    let verification: Verification;
    if (raw === undefined) verification = { ok: false, reason: 'the body is too large or was cut short' };
    else {
      const event = headers.id === '' ? undefined : this.sandbox.eventName(headers.id);
      const sub = event === undefined ? undefined : this.sandbox.subscriptions().find((s) => s.uri === this.catchUrl && s.event === event);
      if (headers.id === '') verification = { ok: false, reason: 'the webhook-id header is missing' };
      else if (event === undefined) verification = { ok: false, reason: 'the webhook-id names no event this sandbox fired' };
      else if (!sub) verification = { ok: false, reason: `the catch endpoint has no subscription for ${event}` };
      else if (sub.secret === undefined) verification = { ok: false, reason: 'not signed: the sandbox runs unsigned, so there is no secret to verify with' };
      else {
        const result = verifyDelivery(
          sub.secret,
          { webhookId: headers.id, webhookTimestamp: headers.timestamp, webhookSignature: headers.signature, bodies: [new Uint8Array(raw)] },
          new Date(),
        );
        verification = result.ok ? { ok: true } : { ok: false, reason: result.reason };
      }
    }
    this.history.recordCaught(headers, verification);
    if (verification.ok || (!this.sandbox.signing && verification.reason?.startsWith('not signed'))) {
      return { status: 204, note: verification.ok ? 'caught, verified' : 'caught, unsigned' };
    }
    return { ...error(400, 'signature_rejected', verification.reason ?? 'rejected'), note: 'caught, rejected' };
  }
}
