/**
 * The Ecologic Notification API sandbox: docs/ecologic-api.md section 2 on 127.0.0.1, with the
 * webhook delivery of section 3 (see ./sender). State is in memory only.
 *
 *   GET    {base}/me
 *   POST   {base}/notifications          GET {base}/notifications
 *   DELETE {base}/notifications/{id}
 *   GET    {base}/notifications/samples?event=&limit=&action=&label=
 *   GET    {base}/actions                GET {base}/labels?type=audit|quote_request
 *   POST   /sandbox/events    {event, data?, count?}   fire events (sandbox control, no key needed)
 *   GET    /sandbox/stats                               delivery statistics
 *
 * {base} is `/v1`, so the app's ECOLOGIC_API_BASE_URL is `http://127.0.0.1:PORT/v1`.
 */
import * as http from 'node:http';

import { type EventName, EVENT_NAMES, filterKindFor, isEventName, labelTypeFor } from './events';
import {
  ACTIONS,
  createRng,
  type EventBody,
  findAction,
  findLabel,
  generateEventBody,
  LABELS,
  newWebhookSecret,
  prefixedId,
  type Rng,
} from './fixtures';
import { isLoopbackHost } from '../core/net';
import { type AttemptReport, type DeliverySchedule, type DeliveryStats, WebhookSender } from './sender';
import { listenOnLoopback } from './loopback';

export interface Organisation {
  organisation_id: string;
  organisation_name: string;
  email?: string;
}

export const DEMO_ORGANISATION: Readonly<Organisation> = Object.freeze({
  organisation_id: 'org_7Qm2Lx',
  organisation_name: 'Sunrise Solar Pty Ltd',
  email: 'integrations@sunrisesolar.com.au',
});

export const DEMO_API_KEY = 'eco_test_sandbox_key';
/** A key of the same organisation without permission to manage notifications (403 on writes). */
export const DEMO_READONLY_API_KEY = 'eco_test_sandbox_readonly';

export interface SandboxOptions {
  /** Default 0: the OS picks a free port. */
  port?: number;
  /** Default `/v1`. */
  basePath?: string;
  apiKey?: string;
  /** null disables the read-only key. */
  readOnlyApiKey?: string | null;
  organisation?: Organisation;
  /** Default true. false: subscriptions get no `secret` and deliveries are unsigned. */
  sign?: boolean;
  /** Delivery schedule; production defaults (contract 3.4) unless given. */
  delivery?: Partial<DeliverySchedule>;
  deliveryConcurrency?: number;
  /** Events of each type created at start-up so "Test trigger" has samples (default 3). */
  seedSamplesPerEvent?: number;
  /** Seed for the demo data generator (ids and secrets stay cryptographically random). */
  seed?: number;
  /** How many fired events are kept for samples and redelivery (default 1000). */
  maxStoredEvents?: number;
  /** One line per API request, subscription change and delivery attempt; ids and names only. */
  log?: (line: string) => void;
  onAttempt?: (report: AttemptReport) => void;
}

export interface Subscription {
  id: string;
  type: 'webhook';
  event: EventName;
  uri: string;
  filters: { action?: string; label?: string };
  created_at: string;
  secret?: string;
}

export interface FireResult {
  event_ids: string[];
  /** Deliveries queued (one per event per matching subscription). */
  deliveries: number;
}

interface StoredEvent {
  seq: number;
  body: EventBody;
  raw: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const MAX_BODY_BYTES = 1024 * 1024;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isoNow(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Validates `filters` (or the filter query of samples) for an event; returns the normalised filters. */
export function validateFilters(event: EventName, filters: unknown, where = 'filters'): Subscription['filters'] {
  if (!isPlainObject(filters)) throw new ApiError(400, 'invalid_filter', `${where} must be an object`);
  const kind = filterKindFor(event);
  const out: Subscription['filters'] = {};
  for (const [key, value] of Object.entries(filters)) {
    if (key !== kind) {
      throw new ApiError(400, 'invalid_filter', `${where}.${key} does not apply to ${event}`);
    }
    if (typeof value !== 'string' || value.trim() === '') {
      throw new ApiError(400, 'invalid_filter', `${where}.${key} must be a non-empty string`);
    }
    if (key === 'action') {
      if (!findAction(value)) throw new ApiError(400, 'invalid_filter', `${where}.action is not a known action code`);
      out.action = value;
    } else {
      const type = labelTypeFor(event) as 'audit' | 'quote_request';
      if (!findLabel(type, value)) {
        throw new ApiError(400, 'invalid_filter', `${where}.label is not a known ${type} label id or name`);
      }
      out.label = value;
    }
  }
  return out;
}

/** Validates a `POST /notifications` body (contract 2.4). */
export function validateSubscribeRequest(body: unknown): Pick<Subscription, 'event' | 'uri' | 'filters'> {
  if (!isPlainObject(body)) throw new ApiError(400, 'invalid_request', 'the body must be a JSON object');
  if (body['type'] !== 'webhook') throw new ApiError(400, 'invalid_request', 'type must be "webhook"');
  const event = body['event'];
  if (!isEventName(event)) {
    throw new ApiError(400, 'invalid_event', `event must be one of ${EVENT_NAMES.join(', ')}`);
  }
  const uri = body['uri'];
  if (typeof uri !== 'string' || uri.length > 2048) {
    throw new ApiError(400, 'invalid_uri', 'uri must be an absolute https URL');
  }
  let parsed: URL;
  try {
    parsed = new URL(uri);
  } catch {
    throw new ApiError(400, 'invalid_uri', 'uri must be an absolute https URL');
  }
  const okScheme = parsed.protocol === 'https:' || (parsed.protocol === 'http:' && isLoopbackHost(parsed.hostname));
  if (!okScheme || parsed.username !== '' || parsed.password !== '') {
    throw new ApiError(400, 'invalid_uri', 'uri must be an absolute https URL (http only on a loopback host)');
  }
  if (!('filters' in body)) throw new ApiError(400, 'invalid_filter', 'filters is required (it may be empty)');
  return { event, uri, filters: validateFilters(event, body['filters']) };
}

/**
 * Whether an event body passes a subscription's filters (contract 2.4): the action code, and the
 * label by id or name, compared without regard to case or surrounding spaces.
 */
export function matchesFilters(filters: Subscription['filters'], body: Record<string, unknown>): boolean {
  if (filters.action !== undefined) {
    const action = typeof body['action'] === 'string' ? body['action'].trim().toLowerCase() : undefined;
    if (action !== filters.action.trim().toLowerCase()) return false;
  }
  if (filters.label !== undefined) {
    const wanted = filters.label.trim().toLowerCase();
    const id = typeof body['label_id'] === 'string' ? body['label_id'].toLowerCase() : undefined;
    const name = typeof body['label'] === 'string' ? body['label'].trim().toLowerCase() : undefined;
    if (id !== wanted && name !== wanted) return false;
  }
  return true;
}

export class SandboxServer {
  readonly organisation: Organisation;
  readonly apiKey: string;
  readonly readOnlyApiKey: string | null;
  readonly basePath: string;
  readonly signing: boolean;
  readonly sender: WebhookSender;
  private readonly opts: SandboxOptions;
  private readonly rng: Rng;
  private readonly server: http.Server;
  private readonly subs = new Map<string, Subscription>();
  private readonly deletedIds = new Set<string>();
  private readonly events: StoredEvent[] = [];
  private seq = 0;
  private port = 0;
  private readonly log: (line: string) => void;

  constructor(options: SandboxOptions = {}) {
    this.opts = options;
    this.organisation = { ...(options.organisation ?? DEMO_ORGANISATION) };
    this.apiKey = options.apiKey ?? DEMO_API_KEY;
    this.readOnlyApiKey = options.readOnlyApiKey === undefined ? DEMO_READONLY_API_KEY : options.readOnlyApiKey;
    this.basePath = (options.basePath ?? '/v1').replace(/\/+$/, '');
    this.signing = options.sign ?? true;
    this.rng = createRng(options.seed);
    this.log = options.log ?? (() => undefined);
    this.sender = new WebhookSender({
      schedule: options.delivery ?? {},
      concurrency: options.deliveryConcurrency ?? 16,
      lookup: (id) => this.subs.get(id),
      onGone: (id) => {
        if (this.removeSubscription(id)) this.log(`subscription ${id} removed: the receiver answered 410`);
      },
      onAttempt: (r) => {
        const what = r.status !== undefined ? `${r.status}` : r.outcome;
        const next =
          r.result !== undefined ? r.result.replace('_', ' ') : `retry in ${r.retryInMs ?? 0} ms`;
        this.log(`deliver ${r.eventId} -> ${r.subscriptionId} attempt ${r.attempt}: ${what}, ${next}`);
        options.onAttempt?.(r);
      },
    });
    this.server = http.createServer((req, res) => {
      void this.handle(req, res);
    });
    this.server.keepAliveTimeout = 2000;
    this.seedSamples(options.seedSamplesPerEvent ?? 3);
  }

  /** Listens on 127.0.0.1 (port 0 unless configured). */
  async start(): Promise<this> {
    this.port = await listenOnLoopback(this.server, this.opts.port ?? 0);
    return this;
  }

  /** `http://127.0.0.1:PORT` */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** `http://127.0.0.1:PORT/v1`: the app's ECOLOGIC_API_BASE_URL. */
  get apiBaseUrl(): string {
    return `${this.url}${this.basePath}`;
  }

  async close(): Promise<void> {
    this.sender.close();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  /** Waits until every delivery (with its retries) has ended. */
  settled(timeoutMs?: number): Promise<void> {
    return this.sender.settled(timeoutMs);
  }

  stats(): DeliveryStats & { subscriptions: number; storedEvents: number } {
    return { ...this.sender.stats(), subscriptions: this.subs.size, storedEvents: this.events.length };
  }

  /** Active subscriptions (with their secrets: this is the platform's own view). */
  subscriptions(): Subscription[] {
    return [...this.subs.values()].map((s) => ({ ...s, filters: { ...s.filters } }));
  }

  /** Fires `count` events of one type (contract section 4 bodies) and queues their deliveries. */
  fire(event: EventName, options: { data?: Record<string, unknown>; count?: number; occurredAt?: Date } = {}): FireResult {
    const count = options.count ?? 1;
    const result: FireResult = { event_ids: [], deliveries: 0 };
    for (let i = 0; i < count; i++) {
      const body = generateEventBody(event, {
        rng: this.rng,
        ...(options.data !== undefined ? { data: options.data } : {}),
        ...(options.occurredAt !== undefined ? { occurredAt: options.occurredAt } : {}),
      });
      const stored = this.store(body);
      result.event_ids.push(body.event_id);
      for (const sub of this.subs.values()) {
        if (sub.event === event && matchesFilters(sub.filters, body)) {
          this.sender.enqueue(sub.id, body.event_id, stored.raw);
          result.deliveries++;
        }
      }
    }
    return result;
  }

  /**
   * Delivers a stored event to a subscription again, as the platform does when it did not see an
   * answer: same body, same `webhook-id`, fresh timestamp and signature. Returns false when the
   * event or the subscription is unknown.
   */
  redeliver(subscriptionId: string, eventId: string): boolean {
    const stored = this.events.find((e) => e.body.event_id === eventId);
    if (!stored || !this.subs.has(subscriptionId)) return false;
    this.sender.enqueue(subscriptionId, eventId, stored.raw);
    return true;
  }

  /** The stored body of a fired event, exactly as delivered. */
  rawEvent(eventId: string): string | undefined {
    return this.events.find((e) => e.body.event_id === eventId)?.raw;
  }

  // ------------------------------------------------------------------------------------------

  private seedSamples(perEvent: number): void {
    const now = Date.now();
    const seeds: EventBody[] = [];
    for (const event of EVENT_NAMES) {
      for (let i = 0; i < perEvent; i++) {
        const data: Record<string, unknown> = {};
        // Spread the seeds over the filter values, so a filtered "Test trigger" usually finds one.
        if (event === 'RequestQuote:Create') data['action'] = ACTIONS[i % ACTIONS.length]?.code;
        const type = labelTypeFor(event);
        if (type) data['label_id'] = LABELS.filter((l) => l.type === type)[i % 4]?.id;
        const occurredAt = new Date(now - (i + 1) * 3_600_000 - Math.floor(this.rng() * 3_000_000));
        seeds.push(generateEventBody(event, { rng: this.rng, data, occurredAt }));
      }
    }
    seeds.sort((a, b) => a.occurred_at.localeCompare(b.occurred_at));
    for (const body of seeds) this.store(body);
  }

  private store(body: EventBody): StoredEvent {
    const stored: StoredEvent = { seq: ++this.seq, body, raw: JSON.stringify(body) };
    this.events.push(stored);
    const max = this.opts.maxStoredEvents ?? 1000;
    if (this.events.length > max) this.events.splice(0, this.events.length - max);
    return stored;
  }

  private removeSubscription(id: string): boolean {
    const existed = this.subs.delete(id);
    if (existed) {
      this.deletedIds.add(id);
      this.sender.cancelSubscription(id);
    }
    return existed;
  }

  private publicSubscription(sub: Subscription, withSecret: boolean): Record<string, unknown> {
    const { secret, ...rest } = sub;
    return withSecret && secret !== undefined ? { ...rest, secret } : { ...rest };
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://sandbox.invalid');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    let status = 500;
    let note = '';
    try {
      const out = await this.route(method, path, url.searchParams, req);
      status = out.status;
      note = out.note ?? '';
      send(res, out.status, out.body);
    } catch (err) {
      const e =
        err instanceof ApiError ? err : new ApiError(500, 'internal_error', 'the sandbox failed to handle this request');
      status = e.status;
      note = e.code;
      send(res, e.status, { error: { code: e.code, message: e.message } }, e.headers);
      if (!(err instanceof ApiError)) this.log(`internal error: ${(err as Error).name}`);
    }
    this.log(`${method} ${path} -> ${status}${note ? ` (${note})` : ''}`);
  }

  private authorise(req: http.IncomingMessage, write: boolean): void {
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) throw new ApiError(401, 'unauthorized', 'missing API key: send Authorization: Bearer <api key>');
    const key = match[1];
    if (key === this.apiKey) return;
    if (this.readOnlyApiKey !== null && key === this.readOnlyApiKey) {
      if (write) throw new ApiError(403, 'forbidden', 'this API key lacks the notifications:write permission');
      return;
    }
    throw new ApiError(401, 'unauthorized', 'unknown or revoked API key');
  }

  private async route(
    method: string,
    path: string,
    query: URLSearchParams,
    req: http.IncomingMessage,
  ): Promise<{ status: number; body?: unknown; note?: string }> {
    // Sandbox control plane (not part of the contract).
    if (path === '/sandbox/events') {
      allow(method, ['POST']);
      return this.fireFromRequest(await readJson(req));
    }
    if (path === '/sandbox/stats') {
      allow(method, ['GET']);
      return { status: 200, body: this.stats() };
    }
    if (path === '/' || path === this.basePath) {
      allow(method, ['GET']);
      return {
        status: 200,
        body: { name: 'Ecologic Notification API sandbox', base_url: this.apiBaseUrl, state: 'in memory' },
      };
    }

    const base = this.basePath;
    if (!path.startsWith(`${base}/`)) throw new ApiError(404, 'not_found', 'no such endpoint');
    const rest = path.slice(base.length);

    if (rest === '/me') {
      allow(method, ['GET']);
      this.authorise(req, false);
      return { status: 200, body: this.organisation };
    }
    if (rest === '/actions') {
      allow(method, ['GET']);
      this.authorise(req, false);
      return { status: 200, body: { data: ACTIONS.map((a) => ({ ...a })) } };
    }
    if (rest === '/labels') {
      allow(method, ['GET']);
      this.authorise(req, false);
      const type = query.get('type');
      if (type !== 'audit' && type !== 'quote_request') {
        throw new ApiError(400, 'invalid_request', 'type is required: audit or quote_request');
      }
      return { status: 200, body: { data: LABELS.filter((l) => l.type === type).map((l) => ({ ...l })) } };
    }
    if (rest === '/notifications/samples') {
      allow(method, ['GET']);
      this.authorise(req, false);
      return { status: 200, body: { data: this.samples(query) } };
    }
    if (rest === '/notifications') {
      allow(method, ['GET', 'POST']);
      if (method === 'GET') {
        this.authorise(req, false);
        return { status: 200, body: { data: [...this.subs.values()].map((s) => this.publicSubscription(s, false)) } };
      }
      this.authorise(req, true);
      const input = validateSubscribeRequest(await readJson(req));
      for (const existing of this.subs.values()) {
        if (existing.event === input.event && existing.uri === input.uri) {
          return { status: 200, body: this.publicSubscription(existing, true), note: `${existing.id} already exists` };
        }
      }
      const sub: Subscription = {
        id: prefixedId('ntf', 10),
        type: 'webhook',
        event: input.event,
        uri: input.uri,
        filters: input.filters,
        created_at: isoNow(),
        ...(this.signing ? { secret: newWebhookSecret() } : {}),
      };
      this.subs.set(sub.id, sub);
      const filterNote = Object.keys(sub.filters).length ? ` filtered by ${Object.keys(sub.filters).join(', ')}` : '';
      return { status: 201, body: this.publicSubscription(sub, true), note: `${sub.id} ${sub.event}${filterNote}` };
    }
    const m = /^\/notifications\/([^/]+)$/.exec(rest);
    if (m) {
      allow(method, ['DELETE']);
      this.authorise(req, true);
      const id = decodeURIComponent(m[1] as string);
      if (this.removeSubscription(id)) return { status: 204, note: `${id} deleted` };
      if (this.deletedIds.has(id)) throw new ApiError(410, 'gone', 'the notification was already deleted');
      throw new ApiError(404, 'not_found', 'no such notification');
    }
    throw new ApiError(404, 'not_found', 'no such endpoint');
  }

  private samples(query: URLSearchParams): Record<string, unknown>[] {
    const event = query.get('event');
    if (!isEventName(event)) {
      throw new ApiError(400, 'invalid_event', `event is required, one of ${EVENT_NAMES.join(', ')}`);
    }
    const limitText = query.get('limit');
    let limit = 10;
    if (limitText !== null) {
      if (!/^\d+$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > 100) {
        throw new ApiError(400, 'invalid_request', 'limit must be an integer from 1 to 100');
      }
      limit = Number(limitText);
    }
    const filterQuery: Record<string, string> = {};
    for (const key of ['action', 'label']) {
      const v = query.get(key);
      if (v !== null) filterQuery[key] = v;
    }
    const filters = validateFilters(event, filterQuery, 'query');
    return this.events
      .filter((e) => e.body.event === event && matchesFilters(filters, e.body))
      .sort((a, b) => b.body.occurred_at.localeCompare(a.body.occurred_at) || b.seq - a.seq)
      .slice(0, limit)
      .map((e) => JSON.parse(e.raw) as Record<string, unknown>);
  }

  private fireFromRequest(body: unknown): { status: number; body: unknown; note: string } {
    if (!isPlainObject(body)) throw new ApiError(400, 'invalid_request', 'the body must be a JSON object');
    const event = body['event'];
    if (!isEventName(event)) throw new ApiError(400, 'invalid_event', `event must be one of ${EVENT_NAMES.join(', ')}`);
    const data = body['data'];
    if (data !== undefined && !isPlainObject(data)) throw new ApiError(400, 'invalid_request', 'data must be an object');
    const count = body['count'] ?? 1;
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > 1000) {
      throw new ApiError(400, 'invalid_request', 'count must be an integer from 1 to 1000');
    }
    const result = this.fire(event, { count, ...(data !== undefined ? { data } : {}) });
    return {
      status: 202,
      body: result,
      note: `${event} x${count}: ${result.event_ids.join(', ')}; ${result.deliveries} deliveries queued`,
    };
  }
}

function allow(method: string, methods: string[]): void {
  if (!methods.includes(method)) {
    throw new ApiError(405, 'method_not_allowed', `use ${methods.join(' or ')}`, { Allow: methods.join(', ') });
  }
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (status === 204 || body === undefined) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new ApiError(413, 'payload_too_large', 'the body is larger than 1 MB');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new ApiError(400, 'invalid_json', 'the body must be JSON');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ApiError(400, 'invalid_json', 'the body is not valid JSON');
  }
}

/** Starts a sandbox; the caller closes it. */
export async function startSandbox(options: SandboxOptions = {}): Promise<SandboxServer> {
  return new SandboxServer(options).start();
}
