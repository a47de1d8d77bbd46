/**
 * The Ecologic Notification API sandbox: docs/ecologic-api.md section 2 on 127.0.0.1, with the
 * webhook delivery of section 3 (see ./sender). State is in memory only.
 *
 *   GET    {base}/me
 *   POST   {base}/notifications          GET {base}/notifications
 *   DELETE {base}/notifications/{id}
 *   GET    {base}/notifications/samples?event=&limit=&action=&label=   (action=a,b or label=a&label=b: any of several)
 *   GET    {base}/actions                GET {base}/labels?type=audit|quote_request
 *   POST   /sandbox/events    {event, data?, count?}   fire events (sandbox control, the API key)
 *   GET    /sandbox/stats                               delivery statistics
 *          (both also under {base}: {base}/sandbox/events, {base}/sandbox/stats)
 *   GET    /docs                                        the rendered API reference (npm run docs)
 *   GET    /docs/openapi.yaml                           the OpenAPI document
 *   GET    /console                                     the console: fire, watch deliveries live, redeliver,
 *                                                       a catch endpoint that verifies (see ./console/routes)
 *
 * {base} is `/v1`, so the app's ECOLOGIC_API_BASE_URL is `http://127.0.0.1:PORT/v1`.
 *
 * It stays up whatever a client sends: unparseable requests get a 4xx (see answerClientError and
 * parseRequestTarget), bodies, subscriptions, fires and the delivery queue are capped.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { Duplex } from 'node:stream';
import type { z } from 'zod';

import {
  MAX_ACTION_FILTER_CODES,
  MAX_LABEL_FILTER_VALUES,
  MAX_SUBSCRIPTION_URI_LENGTH,
  PLATFORM_BODY_SCHEMAS,
  SUBSCRIPTION_URI_PATTERN,
} from '../contract/schemas';
import { isHttpsOrLoopback } from '../core/net';
import { isPlainObject } from '../core/normalise';
import { findRepoRoot, openApiPath, referenceHtmlPath } from '../contract/paths';
import { jsonDeeperThan } from '../core/json-depth';
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
import { type ConsoleReply, SandboxConsole } from './console/routes';
import { listenOnLoopback } from './loopback';
import { type AttemptReport, type DeliverySchedule, type DeliveryStats, type SentRequest, WebhookSender } from './sender';

export interface Organisation {
  organisation_id: string;
  organisation_name: string;
  email?: string;
  /** The organisation's IANA time zone (contract 2.3). */
  time_zone?: string;
}

export const DEMO_ORGANISATION: Readonly<Organisation> = Object.freeze({
  organisation_id: 'org_7Qm2Lx',
  organisation_name: 'Sunrise Solar Pty Ltd',
  email: 'integrations@sunrise-solar.example',
  time_zone: 'Australia/Melbourne',
});

export const DEMO_API_KEY = 'eco_test_sandbox_key';
/** A key of the same organisation without permission to manage notifications (403 on writes). */
export const DEMO_READONLY_API_KEY = 'eco_test_sandbox_readonly';

export interface SandboxLimits {
  maxBodyBytes: number;
  maxSubscriptions: number;
  maxEventsPerFire: number;
  maxPendingDeliveries: number;
  maxEventBytes: number;
}

/** The defaults of the caps in SandboxOptions. */
export const SANDBOX_LIMITS: Readonly<SandboxLimits> = Object.freeze({
  maxBodyBytes: 1024 * 1024,
  maxSubscriptions: 100,
  maxEventsPerFire: 1000,
  maxPendingDeliveries: 10_000,
  maxEventBytes: 64 * 1024,
});

/** A request target (path and query) longer than this is a 414. */
export const MAX_TARGET_LENGTH = 8 * 1024;

/** One HTTP response of the sandbox server, as sent (see SandboxOptions.onExchange). */
export interface Exchange {
  /** '' when the request could not be parsed as HTTP at all. */
  method: string;
  /** The raw request target (req.url); '' when the request could not be parsed as HTTP. */
  target: string;
  /**
   * The pathname with trailing slashes stripped (`/` for the root); '' when the request is malformed
   * at the HTTP level: an unparseable or too long target, or an HTTP/1.1 request without Host.
   */
  path: string;
  status: number;
  /** The response headers the sandbox set, lower-case names (node adds Date, Connection, Keep-Alive). */
  headers: Record<string, string | string[] | number | undefined>;
  /** The response body exactly as sent; undefined when there is none (204). */
  body: string | undefined;
}

/** One delivery attempt as sent (see SandboxOptions.onDelivery). */
export type DeliveryRequest = SentRequest;

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
  /** Request bodies larger than this are a 413 payload_too_large (default 1 MiB). */
  maxBodyBytes?: number;
  /** Subscriptions of the organisation at most; one more is a 422 subscription_limit_reached (default 100). */
  maxSubscriptions?: number;
  /** Events one fire may create, `count` from 1 to this; more is a 400 (default 1000). */
  maxEventsPerFire?: number;
  /**
   * Deliveries the sender may hold (queued, in flight or waiting for a retry). A fire that would
   * go over it is refused as a whole: 429 queue_full with Retry-After (default 10,000).
   */
  maxPendingDeliveries?: number;
  /** One fired event's serialised body at most; larger is a 413 payload_too_large (default 64 KiB). */
  maxEventBytes?: number;
  /**
   * The files `GET /docs` and `GET /docs/openapi.yaml` serve. Defaults, from the repository root (the
   * folder holding docs/ecologic-api.md above this file): dist/docs/reference.html and
   * docs/openapi.yaml. null: no reference is served.
   */
  docs?: { html?: string; openapi?: string } | null;
  /** One line per API request, subscription change and delivery attempt; ids and names only. */
  log?: (line: string) => void;
  onAttempt?: (report: AttemptReport) => void;
  /** Called for every HTTP response the server sends; what it throws is ignored. */
  onExchange?: (exchange: Exchange) => void;
  /** Called for every delivery attempt, with exactly the headers and body sent; what it throws is ignored. */
  onDelivery?: (delivery: DeliveryRequest) => void;
}

export interface Subscription {
  id: string;
  type: 'webhook';
  event: EventName;
  uri: string;
  /**
   * As sent (contract 2.4): `action` is one code, or a list of 1 to 20 codes that any may match;
   * `label` is one label id or name, or a list of 1 to 20 that any may match.
   */
  filters: { action?: string | string[]; label?: string | string[] };
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

/** What a route answers: a JSON body, or a text body of its own content type (the console's routes answer the same way). */
type Reply = ConsoleReply;

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

/** JSON nested deeper than this is refused before parsing: serialising it again would overflow the stack. */
const MAX_JSON_DEPTH = 64;

function isoNow(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const ignore = (): void => undefined;

function sizeText(bytes: number): string {
  return bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0
    ? `${bytes / (1024 * 1024)} MB`
    : bytes >= 1024 && bytes % 1024 === 0
      ? `${bytes / 1024} KB`
      : `${bytes} bytes`;
}

// ---------------------------------------------------------------------------------------------
// Parsing what a client sent, defensively: shared with the intake stand-in.

export interface RequestTarget {
  /**
   * The pathname, still percent-encoded (so an encoded `/` cannot split a segment). Dot segments
   * are resolved (`/v1/../v1/me` is `/v1/me`), except a last one: `/v1/notifications/%2E` stays as
   * sent, since that segment is an id and `.` or `..` names no resource (contract 2.5).
   */
  pathname: string;
  /** `?…` or ''. */
  search: string;
  query: URLSearchParams;
}

/**
 * Parses a request target (origin form `/path?query`, or absolute form `http://host/path`). Throws
 * ApiError 414 when it is too long, 400 invalid_request when it is not a URL. Never throws anything
 * else. The path's percent-encoding is checked by assertPathDecodes.
 */
export function parseRequestTarget(target: string): RequestTarget {
  if (target.length > MAX_TARGET_LENGTH) {
    throw new ApiError(414, 'uri_too_long', `the request target is longer than ${MAX_TARGET_LENGTH} characters`);
  }
  let url: URL;
  try {
    // Origin form is a path: prefixing the origin keeps `//x` a path instead of a host.
    if (target.startsWith('/')) url = new URL(`http://sandbox.invalid${target}`);
    else if (/^https?:\/\//i.test(target)) url = new URL(target);
    else throw new TypeError('not a request target');
  } catch {
    throw new ApiError(400, 'invalid_request', 'the request target is not a valid path or URL');
  }
  const raw = (target.startsWith('/') ? target : target.replace(/^https?:\/\/[^/?#]*/i, '')).split(/[?#]/, 1)[0] || '/';
  const last = raw.replace(/\/+$/, '').split('/').pop() ?? '';
  let lastIsDot = false;
  try {
    lastIsDot = ['.', '..'].includes(decodeURIComponent(last));
  } catch {
    // A malformed encoding is assertPathDecodes' to refuse.
  }
  return { pathname: lastIsDot ? raw : url.pathname, search: url.search, query: url.searchParams };
}

/** A path whose percent-encoding is malformed (`%E0%A4%A`) is a 400, whatever route it was meant for. */
export function assertPathDecodes(pathname: string): void {
  decodeSegment(pathname);
}

/** One percent-encoded path segment, decoded; a malformed encoding is a 400. */
export function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ApiError(400, 'invalid_request', 'the request path has a malformed percent-encoding');
  }
}

/**
 * The http server's `clientError` handler: a request node could not parse (bad request line,
 * header, chunk size, headers too large, or too slow) gets a 4xx with `Connection: close` when the
 * socket can still take it, without corrupting a response already under way; otherwise the socket
 * is destroyed. Returns what was sent (status and body), or undefined.
 */
export function answerClientError(
  err: NodeJS.ErrnoException,
  socket: Duplex,
  body: (status: number, code: string) => string,
): { status: number; headers: Record<string, string>; body: string } | undefined {
  socket.on('error', ignore);
  // A response already started on this socket must not be followed by raw bytes.
  const inProgress = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || inProgress?.headersSent) {
    socket.destroy();
    return undefined;
  }
  const [status, reason, code] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'headers_too_large']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'request_timeout']
        : [400, 'Bad Request', 'invalid_request'];
  const text = body(status, code);
  const headers = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    connection: 'close',
  };
  const head = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  socket.end(`HTTP/1.1 ${status} ${reason}\r\n${head}\r\n${text}`);
  // end() only half-closes; a client that never closes its side must not keep the socket.
  socket.once('finish', () => socket.destroy());
  return { status, headers, body: text };
}

/**
 * Reads a request body of at most `maxBytes`: a declared Content-Length above it is refused before
 * reading (413), a body that grows past it is refused as soon as it does. A client that goes away
 * mid-body is a 400 (nobody reads it).
 */
export function readBodyBytes(req: http.IncomingMessage, maxBytes: number): Promise<Buffer> {
  const tooLarge = new ApiError(413, 'payload_too_large', `the body is larger than ${sizeText(maxBytes)}`);
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) return Promise.reject(tooLarge);
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (fn: () => void): void => {
      if (done) return;
      done = true;
      req.off('data', onData);
      fn();
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) finish(() => reject(tooLarge));
      else chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => finish(() => resolve(Buffer.concat(chunks))));
    req.on('error', () => finish(() => reject(new ApiError(400, 'invalid_request', 'the body could not be read'))));
    req.on('close', () => finish(() => reject(new ApiError(400, 'invalid_request', 'the body was cut short'))));
  });
}

/** The same, as UTF-8 text. */
export const readBody = (req: http.IncomingMessage, maxBytes: number): Promise<string> =>
  readBodyBytes(req, maxBytes).then((bytes) => bytes.toString('utf8'));

/** `Content-Type: application/json`, with any parameters; otherwise 415. */
function requireJson(req: http.IncomingMessage): void {
  const type = req.headers['content-type'];
  const media = typeof type === 'string' ? (type.split(';')[0] ?? '').trim().toLowerCase() : '';
  if (media !== 'application/json') {
    throw new ApiError(415, 'unsupported_media_type', 'send the body as JSON with Content-Type: application/json');
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * Validates `filters` (or the filter query of samples) for an event; returns the normalised filters:
 * `action` and `label` stay a string when sent as one and an array when sent as one (contract 2.4),
 * each value as sent. Messages name the field and what was expected, never the value.
 */
export function validateFilters(event: EventName, filters: unknown, where = 'filters'): Subscription['filters'] {
  if (!isPlainObject(filters)) throw new ApiError(400, 'invalid_filter', `${where} must be an object`);
  const kind = filterKindFor(event);
  const out: Subscription['filters'] = {};
  for (const [key, value] of Object.entries(filters)) {
    if (key !== kind) {
      throw new ApiError(400, 'invalid_filter', `${where}.${key} does not apply to ${event}`);
    }
    if (key === 'action') {
      out.action = validateActionFilter(value, `${where}.action`);
      continue;
    }
    out.label = validateLabelFilter(labelTypeFor(event) as 'audit' | 'quote_request', value, `${where}.label`);
  }
  return out;
}

/** One entry per code or label: one known value, or an array of 1 to 20 of them (contract 2.4). */
function validateOneOrList(
  value: unknown,
  where: string,
  [what, whats]: readonly [string, string],
  max: number,
  known: (value: string) => boolean,
): string | string[] {
  const expected = `${where} must be ${what.startsWith('a') ? 'an' : 'a'} ${what} or an array of 1 to ${max} ${whats}`;
  const checked = (entry: unknown, at: string): string => {
    if (typeof entry !== 'string' || entry.trim() === '') throw new ApiError(400, 'invalid_filter', `${at} must be a non-empty string`);
    if (!known(entry)) throw new ApiError(400, 'invalid_filter', `${at} is not a known ${what}`);
    return entry;
  };
  if (typeof value === 'string') return checked(value, where);
  if (!Array.isArray(value)) throw new ApiError(400, 'invalid_filter', expected);
  if (value.length === 0 || value.length > max) {
    throw new ApiError(400, 'invalid_filter', `${expected} (it has ${value.length})`);
  }
  return value.map((entry, i) => checked(entry, `${where}[${i}]`));
}

/** `filters.action`: one known action code, or an array of 1 to 20 of them (contract 2.4). */
function validateActionFilter(value: unknown, where: string): string | string[] {
  return validateOneOrList(value, where, ['action code', 'action codes'], MAX_ACTION_FILTER_CODES, (code) => findAction(code) !== undefined);
}

/** `filters.label`: one known label id or name of the event's type, or an array of 1 to 20 of them. */
function validateLabelFilter(type: 'audit' | 'quote_request', value: unknown, where: string): string | string[] {
  return validateOneOrList(value, where, [`${type} label id or name`, 'label ids or names'], MAX_LABEL_FILTER_VALUES, (label) => findLabel(type, label) !== undefined);
}

/**
 * A subscription's `uri` (contract 2.4): the document's `pattern` (SUBSCRIPTION_URI_PATTERN) and its
 * length, then, as a second guard, a URL that parses to https or loopback http without credentials.
 * The pattern decides; the parse refuses only what no pattern can see (an invalid `xn--` label).
 */
export function isSubscriptionUri(uri: unknown): uri is string {
  if (typeof uri !== 'string' || uri.length > MAX_SUBSCRIPTION_URI_LENGTH || !SUBSCRIPTION_URI_PATTERN.test(uri)) return false;
  try {
    const parsed = new URL(uri);
    return isHttpsOrLoopback(parsed) && parsed.username === '' && parsed.password === '';
  } catch {
    return false;
  }
}

/** Validates a `POST /notifications` body (contract 2.4). */
export function validateSubscribeRequest(body: unknown): Pick<Subscription, 'event' | 'uri' | 'filters'> {
  if (!isPlainObject(body)) throw new ApiError(400, 'invalid_request', 'the body must be a JSON object');
  if (body['type'] !== 'webhook') throw new ApiError(400, 'invalid_request', 'type must be "webhook"');
  const event = body['event'];
  if (!isEventName(event)) {
    throw new ApiError(400, 'invalid_event', `event must be one of ${EVENT_NAMES.join(', ')}`);
  }
  if (!isSubscriptionUri(body['uri'])) {
    throw new ApiError(400, 'invalid_uri', 'uri must be an absolute https URL (http only on a loopback host)');
  }
  const uri = body['uri'];
  if (!('filters' in body)) throw new ApiError(400, 'invalid_filter', 'filters is required (it may be empty)');
  return { event, uri, filters: validateFilters(event, body['filters']) };
}

/**
 * Whether an event body passes a subscription's filters (contract 2.4): the action code (any of them,
 * when the filter is a list), and the label by id or name, compared without regard to case or
 * surrounding spaces.
 */
export function matchesFilters(filters: Subscription['filters'], body: Record<string, unknown>): boolean {
  if (filters.action !== undefined) {
    const action = typeof body['action'] === 'string' ? body['action'].trim().toLowerCase() : undefined;
    const wanted = typeof filters.action === 'string' ? [filters.action] : filters.action;
    if (action === undefined || !wanted.some((code) => code.trim().toLowerCase() === action)) return false;
  }
  if (filters.label !== undefined) {
    const wanted = (typeof filters.label === 'string' ? [filters.label] : filters.label).map((label) => label.trim().toLowerCase());
    const id = typeof body['label_id'] === 'string' ? body['label_id'].toLowerCase() : undefined;
    const name = typeof body['label'] === 'string' ? body['label'].trim().toLowerCase() : undefined;
    if (!wanted.some((label) => label === id || label === name)) return false;
  }
  return true;
}

/** A copy of filters that shares nothing with the original (action and label lists included). */
function copyFilters(filters: Subscription['filters']): Subscription['filters'] {
  const copy = (value: string | string[]) => (typeof value === 'string' ? value : [...value]);
  const { action, label } = filters;
  return { ...(action !== undefined ? { action: copy(action) } : {}), ...(label !== undefined ? { label: copy(label) } : {}) };
}

/** What is wrong with one field of fired data, without its value. */
function issueText(issue: z.core.$ZodIssue): string {
  const last = issue.path[issue.path.length - 1];
  if (last === 'occurred_at' || (issue.code === 'invalid_format' && issue.format === 'datetime')) {
    return 'expected an ISO-8601 UTC time';
  }
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected}`;
    case 'invalid_union':
      return 'has the wrong type';
    case 'invalid_format':
      return `is not a valid ${issue.format}`;
    case 'too_small':
      return 'is too small or too short';
    case 'too_big':
      return 'is too large or too long';
    case 'invalid_value':
      return 'is not an allowed value';
    default:
      return 'is invalid';
  }
}

/** `data.occurred_at: expected an ISO-8601 UTC time; …`: field paths and what was expected, never values. */
export function describeEventDataIssues(issues: readonly z.core.$ZodIssue[]): string {
  const shown = issues.slice(0, 5).map((issue) => {
    const path = issue.path.map(String).join('.').slice(0, 80);
    return `data${path ? `.${path}` : ''}: ${issueText(issue)}`;
  });
  const more = issues.length > shown.length ? `; and ${issues.length - shown.length} more` : '';
  return `the event would not be valid: ${shown.join('; ')}${more}`;
}

export class SandboxServer {
  readonly organisation: Organisation;
  readonly apiKey: string;
  readonly readOnlyApiKey: string | null;
  readonly basePath: string;
  readonly signing: boolean;
  readonly sender: WebhookSender;
  readonly limits: Readonly<SandboxLimits>;
  /** The console at /console: its history of deliveries, its token and its catch endpoint. */
  readonly console: SandboxConsole;
  private readonly opts: SandboxOptions;
  private readonly rng: Rng;
  private readonly server: http.Server;
  private readonly subs = new Map<string, Subscription>();
  private readonly deletedIds = new Set<string>();
  private readonly events: StoredEvent[] = [];
  private readonly eventsById = new Map<string, StoredEvent>();
  private readonly docFiles: { html?: string; openapi?: string } | null;
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
    this.limits = Object.freeze({
      maxBodyBytes: options.maxBodyBytes ?? SANDBOX_LIMITS.maxBodyBytes,
      maxSubscriptions: options.maxSubscriptions ?? SANDBOX_LIMITS.maxSubscriptions,
      maxEventsPerFire: options.maxEventsPerFire ?? SANDBOX_LIMITS.maxEventsPerFire,
      maxPendingDeliveries: options.maxPendingDeliveries ?? SANDBOX_LIMITS.maxPendingDeliveries,
      maxEventBytes: options.maxEventBytes ?? SANDBOX_LIMITS.maxEventBytes,
    });
    this.docFiles = this.resolveDocFiles(options.docs);
    this.console = new SandboxConsole(this);
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
        this.console.onAttempt(r);
        options.onAttempt?.(r);
      },
      onSend: (sent) => {
        this.console.onSend(sent);
        try {
          options.onDelivery?.(sent);
        } catch {
          // An observer's failure must not change the delivery.
        }
      },
    });
    // requireHostHeader: node would answer a missing Host itself, unseen by onExchange and not in
    // the error shape; handle() refuses it instead.
    const serverOptions = { headersTimeout: 20_000, requestTimeout: 60_000, requireHostHeader: false };
    this.server = http.createServer(serverOptions, (req, res) => {
      // handle() answers every error itself; this is the last guard against an unhandled rejection.
      this.handle(req, res).catch((err: unknown) => {
        this.log(`internal error: ${err instanceof Error ? err.name : typeof err}`);
        res.destroy();
      });
    });
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
      const sent = answerClientError(err, socket, (_status, code) =>
        JSON.stringify({ error: { code, message: 'the request could not be parsed as HTTP' } }),
      );
      this.log(`client error ${typeof err.code === 'string' ? err.code : 'unknown'}${sent ? ` -> ${sent.status}` : ''}`);
      if (sent) this.notifyExchange({ method: '', target: '', path: '', ...sent });
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
    this.console.close();
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
    return [...this.subs.values()].map((s) => ({ ...s, filters: copyFilters(s.filters) }));
  }

  /** One active subscription (with its secret), or undefined. */
  subscription(id: string): Subscription | undefined {
    const sub = this.subs.get(id);
    return sub ? { ...sub, filters: copyFilters(sub.filters) } : undefined;
  }

  /** The type of a stored event (`RequestQuote:Create`), or undefined when it is not stored. */
  eventName(eventId: string): EventName | undefined {
    return this.eventsById.get(eventId)?.body.event as EventName | undefined;
  }

  /**
   * Fires `count` events of one type (contract section 4 bodies) and queues their deliveries. All
   * or nothing: every body is generated, validated against the contract's schema and counted
   * before any is stored or queued. Throws ApiError: 400 (count, or `data` that makes an invalid
   * event: invalid_event_data), 409 duplicate_event_id, 413 (an event too large), 429 queue_full.
   */
  fire(event: EventName, options: { data?: Record<string, unknown>; count?: number; occurredAt?: Date } = {}): FireResult {
    if (!isEventName(event)) throw new ApiError(400, 'invalid_event', `event must be one of ${EVENT_NAMES.join(', ')}`);
    const { maxEventsPerFire, maxPendingDeliveries, maxEventBytes } = this.limits;
    const count = options.count ?? 1;
    if (!Number.isInteger(count) || count < 1 || count > maxEventsPerFire) {
      throw new ApiError(400, 'invalid_request', `count must be an integer from 1 to ${maxEventsPerFire}`);
    }
    const data = options.data;
    if (data !== undefined && !isPlainObject(data)) throw new ApiError(400, 'invalid_request', 'data must be an object');
    if (data?.['event_id'] !== undefined && count > 1) {
      throw new ApiError(409, 'duplicate_event_id', 'data.event_id names one event: fire it with count 1, or leave event_id out');
    }
    const subs = [...this.subs.values()].filter((s) => s.event === event);
    // Unfiltered subscriptions take every event: when they alone overfill the queue, refuse before
    // generating anything, so a refused fire costs next to nothing.
    const unfiltered = subs.filter((s) => Object.keys(s.filters).length === 0).length;
    if (this.sender.pending + unfiltered * count > maxPendingDeliveries) throw this.queueFull();

    const planned: Array<{ body: EventBody; raw: string; targets: string[] }> = [];
    let deliveries = 0;
    const schema = PLATFORM_BODY_SCHEMAS[event];
    for (let i = 0; i < count; i++) {
      const body = generateEventBody(event, {
        rng: this.rng,
        ...(data !== undefined ? { data } : {}),
        ...(options.occurredAt !== undefined ? { occurredAt: options.occurredAt } : {}),
      });
      const checked = schema.safeParse(body);
      if (!checked.success) throw new ApiError(400, 'invalid_event_data', describeEventDataIssues(checked.error.issues));
      if (this.eventsById.has(body.event_id)) {
        throw new ApiError(409, 'duplicate_event_id', 'an event with this event_id was already fired: event ids are unique per event');
      }
      const raw = JSON.stringify(body);
      if (Buffer.byteLength(raw) > maxEventBytes) {
        throw new ApiError(413, 'payload_too_large', `an event may be at most ${sizeText(maxEventBytes)}: send less data`);
      }
      const targets: string[] = [];
      for (const sub of subs) if (matchesFilters(sub.filters, body)) targets.push(sub.id);
      deliveries += targets.length;
      planned.push({ body, raw, targets });
    }
    if (this.sender.pending + deliveries > maxPendingDeliveries) throw this.queueFull();

    for (const { body, raw, targets } of planned) {
      this.store(body, raw);
      this.console.history.recordFire(body.event_id, event);
      for (const id of targets) this.console.history.recordQueued(this.sender.enqueue(id, body.event_id, raw), id, body.event_id);
    }
    return { event_ids: planned.map((p) => p.body.event_id), deliveries };
  }

  /**
   * Delivers a stored event to a subscription again, as the platform does when it did not see an
   * answer: same body, same `webhook-id`, fresh timestamp and signature. Returns false when the
   * event or the subscription is unknown, or the delivery queue is full.
   */
  redeliver(subscriptionId: string, eventId: string): boolean {
    return this.redeliverDelivery(subscriptionId, eventId).ok;
  }

  /**
   * redeliver, saying why not and naming the new delivery; `of` is the delivery it repeats (for the
   * console's history). The send goes through the sender's one code path, like every attempt.
   */
  redeliverDelivery(
    subscriptionId: string,
    eventId: string,
    of?: string,
  ): { ok: true; deliveryId: string } | { ok: false; status: number; code: string; message: string } {
    const stored = this.eventsById.get(eventId);
    if (!stored) return { ok: false, status: 404, code: 'not_found', message: 'the event is no longer stored: the sandbox keeps the latest ones' };
    if (!this.subs.has(subscriptionId)) return { ok: false, status: 410, code: 'gone', message: 'the subscription was deleted' };
    if (this.sender.pending >= this.limits.maxPendingDeliveries) {
      const full = this.queueFull();
      return { ok: false, status: full.status, code: full.code, message: full.message };
    }
    const deliveryId = this.sender.enqueue(subscriptionId, eventId, stored.raw);
    this.console.history.recordQueued(deliveryId, subscriptionId, eventId, of);
    return { ok: true, deliveryId };
  }

  /** The stored body of a fired event, exactly as delivered. */
  rawEvent(eventId: string): string | undefined {
    return this.eventsById.get(eventId)?.raw;
  }

  // ------------------------------------------------------------------------------------------

  private queueFull(): ApiError {
    // Long enough for the attempts in flight to end, at least.
    const seconds = Math.max(1, Math.ceil(this.sender.schedule.timeoutMs / 1000));
    return new ApiError(
      429,
      'queue_full',
      `the delivery queue holds ${this.sender.pending} deliveries (at most ${this.limits.maxPendingDeliveries}): fire fewer events, or retry once deliveries have drained`,
      { 'Retry-After': String(seconds) },
    );
  }

  private resolveDocFiles(docs: SandboxOptions['docs']): { html?: string; openapi?: string } | null {
    if (docs === null) return null;
    const root = findRepoRoot();
    const html = docs?.html ?? (root !== undefined ? referenceHtmlPath() : undefined);
    const openapi = docs?.openapi ?? (root !== undefined ? openApiPath() : undefined);
    return { ...(html !== undefined ? { html } : {}), ...(openapi !== undefined ? { openapi } : {}) };
  }

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
    for (const body of seeds) this.store(body, JSON.stringify(body));
  }

  private store(body: EventBody, raw: string): StoredEvent {
    const stored: StoredEvent = { seq: ++this.seq, body, raw };
    this.events.push(stored);
    this.eventsById.set(body.event_id, stored);
    const max = this.opts.maxStoredEvents ?? 1000;
    if (this.events.length > max) {
      for (const old of this.events.splice(0, this.events.length - max)) {
        if (this.eventsById.get(old.body.event_id) === old) this.eventsById.delete(old.body.event_id);
      }
    }
    return stored;
  }

  private removeSubscription(id: string): boolean {
    const existed = this.subs.delete(id);
    if (existed) {
      this.deletedIds.add(id);
      this.sender.cancelSubscription(id);
      this.console.subscriptionsChanged();
    }
    return existed;
  }

  private publicSubscription(sub: Subscription, withSecret: boolean): Record<string, unknown> {
    const { secret, ...rest } = sub;
    return withSecret && secret !== undefined ? { ...rest, secret } : { ...rest };
  }

  private notifyExchange(exchange: Exchange): void {
    try {
      this.opts.onExchange?.(exchange);
    } catch {
      // An observer's failure must not change the server.
    }
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    // A client that goes away mid-request must not become an uncaught 'error'.
    req.on('error', ignore);
    res.on('error', ignore);
    const method = req.method ?? 'GET';
    const target = req.url ?? '/';
    let path = '';
    let reply: Reply;
    try {
      // Malformed HTTP, like what the parser refuses: checked before the path is known (path '').
      if (req.httpVersion === '1.1' && req.headers.host === undefined) {
        throw new ApiError(400, 'invalid_request', 'an HTTP/1.1 request needs a Host header');
      }
      const { pathname, query } = parseRequestTarget(target);
      path = pathname.replace(/\/+$/, '') || '/';
      assertPathDecodes(pathname);
      if (path === '/console' || path.startsWith('/console/')) {
        const answered = await this.console.handle(method, path, req, res);
        if (answered === null) {
          // A live stream, or an action refused as cross-site: answered by the console itself.
          this.log(`${method} ${path.startsWith('/console/catch/') ? '/console/catch/…' : path} -> ${res.statusCode}`);
          return;
        }
        reply = answered;
      } else reply = await this.route(method, path, query, req);
    } catch (err) {
      if (!(err instanceof ApiError)) this.log(`internal error: ${err instanceof Error ? err.name : typeof err}`);
      const e =
        err instanceof ApiError ? err : new ApiError(500, 'internal_error', 'the sandbox failed to handle this request');
      reply = { status: e.status, body: { error: { code: e.code, message: e.message } }, headers: e.headers, note: e.code };
    }
    this.send(req, res, { method, target, path }, reply);
    // Paths are ids and names; an unknown one is shortened so a log line stays a line.
    const shown = path === '' ? '(malformed request)' : path.length > 100 ? `${path.slice(0, 100)}...` : path;
    this.log(`${method} ${shown} -> ${reply.status}${reply.note ? ` (${reply.note})` : ''}`);
  }

  private send(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    request: Pick<Exchange, 'method' | 'target' | 'path'>,
    reply: Reply,
  ): void {
    // The client went away, or the parser already answered on this socket (clientError).
    if (res.headersSent || res.writableEnded || res.destroyed || req.socket?.writable !== true) return;
    let text: string | undefined;
    let contentType: string | undefined;
    if (reply.text !== undefined) {
      text = reply.text;
      contentType = reply.contentType ?? 'text/plain; charset=utf-8';
    } else if (reply.status !== 204 && reply.body !== undefined) {
      text = JSON.stringify(reply.body);
      contentType = 'application/json; charset=utf-8';
    }
    if (text !== undefined && contentType !== undefined) {
      res.setHeader('Content-Type', contentType);
      res.setHeader('Content-Length', String(Buffer.byteLength(text)));
    }
    for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
    // The body was not read (too large, or the target was refused): do not wait for the rest of it.
    if (reply.status === 413 || reply.status === 414) res.setHeader('Connection', 'close');
    res.writeHead(reply.status);
    res.end(text);
    this.notifyExchange({ ...request, status: reply.status, headers: res.getHeaders(), body: text });
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

  /** A JSON request body: the content type, the size cap, the nesting cap, then JSON.parse. */
  private async readJson(req: http.IncomingMessage): Promise<unknown> {
    requireJson(req);
    const text = await readBody(req, this.limits.maxBodyBytes);
    if (text.trim() === '') throw new ApiError(400, 'invalid_json', 'the body must be JSON');
    if (jsonDeeperThan(text, MAX_JSON_DEPTH)) {
      throw new ApiError(400, 'invalid_json', `the body nests deeper than ${MAX_JSON_DEPTH} levels`);
    }
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new ApiError(400, 'invalid_json', 'the body is not valid JSON');
    }
  }

  private async route(method: string, path: string, query: URLSearchParams, req: http.IncomingMessage): Promise<Reply> {
    const base = this.basePath;
    // Sandbox control plane (not part of the contract), also under the base URL for tools that
    // were only given that.
    if (path === '/sandbox/events' || path === `${base}/sandbox/events`) {
      allow(method, ['POST']);
      this.authorise(req, true);
      return this.fireFromRequest(await this.readJson(req));
    }
    if (path === '/sandbox/stats' || path === `${base}/sandbox/stats`) {
      allow(method, ['GET']);
      return { status: 200, body: this.stats() };
    }
    // Browsers ask every origin for one; the sandbox has none, and says so without an error.
    if (path === '/favicon.ico') return { status: 204, note: 'no icon' };
    if (path === '/docs') return this.serveDoc(method, 'html');
    if (path === '/docs/openapi.yaml') return this.serveDoc(method, 'openapi');
    // The index is a sandbox page, at the root only: the API base itself is not a resource (404).
    if (path === '/') {
      allow(method, ['GET']);
      return {
        status: 200,
        body: { name: 'Ecologic Notification API sandbox', base_url: this.apiBaseUrl, state: 'in memory' },
      };
    }

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
      const input = validateSubscribeRequest(await this.readJson(req));
      for (const existing of this.subs.values()) {
        if (existing.event === input.event && existing.uri === input.uri) {
          return { status: 200, body: this.publicSubscription(existing, true), note: `${existing.id} already exists` };
        }
      }
      if (this.subs.size >= this.limits.maxSubscriptions) {
        throw new ApiError(
          422,
          'subscription_limit_reached',
          `this organisation has ${this.subs.size} subscriptions, the most it may have: delete one first`,
        );
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
      this.console.subscriptionsChanged();
      const filterNote = Object.keys(sub.filters).length ? ` filtered by ${Object.keys(sub.filters).join(', ')}` : '';
      return { status: 201, body: this.publicSubscription(sub, true), note: `${sub.id} ${sub.event}${filterNote}` };
    }
    const m = /^\/notifications\/([^/]+)$/.exec(rest);
    if (m) {
      allow(method, ['DELETE']);
      this.authorise(req, true);
      const id = decodeSegment(m[1] as string);
      if (this.removeSubscription(id)) return { status: 204, note: `${id} deleted` };
      if (this.deletedIds.has(id)) throw new ApiError(410, 'gone', 'the notification was already deleted');
      throw new ApiError(404, 'not_found', 'no such notification');
    }
    throw new ApiError(404, 'not_found', 'no such endpoint');
  }

  /** The two fixed files of the reference; read on every request, so `npm run docs` shows at once. */
  private async serveDoc(method: string, which: 'html' | 'openapi'): Promise<Reply> {
    allow(method, ['GET']);
    if (this.docFiles === null) throw new ApiError(404, 'not_found', 'this sandbox does not serve the API reference');
    const file = this.docFiles[which];
    const missing = new ApiError(
      404,
      'not_found',
      which === 'html' ? 'the API reference is not built: run npm run docs' : 'the OpenAPI document is missing: run npm run docs',
    );
    if (file === undefined) throw missing;
    let text: string;
    try {
      text = await fs.promises.readFile(file, 'utf8');
    } catch {
      throw missing;
    }
    return {
      status: 200,
      text,
      contentType: which === 'html' ? 'text/html; charset=utf-8' : 'application/yaml',
      note: which === 'html' ? 'reference' : 'openapi document',
    };
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
    // `action=solar_pv,battery`, or `action=` repeated: several codes, any of which may match.
    const filterQuery: Record<string, string | string[]> = {};
    const actions = query.getAll('action').flatMap((v) => v.split(','));
    if (actions.length > 0) filterQuery['action'] = actions.length === 1 ? (actions[0] as string) : actions;
    // `label=a&label=b`: several labels, any of which may match. Never split on commas: a label's
    // name may hold one.
    const labels = query.getAll('label');
    if (labels.length > 0) filterQuery['label'] = labels.length === 1 ? (labels[0] as string) : labels;
    const filters = validateFilters(event, filterQuery, 'query');
    // Fired events are validated, but sorting must not depend on it: a non-string time sorts oldest.
    const time = (e: StoredEvent): string => (typeof e.body.occurred_at === 'string' ? e.body.occurred_at : '');
    return this.events
      .filter((e) => e.body.event === event && matchesFilters(filters, e.body))
      .sort((a, b) => time(b).localeCompare(time(a)) || b.seq - a.seq)
      .slice(0, limit)
      .map((e) => JSON.parse(e.raw) as Record<string, unknown>);
  }

  private fireFromRequest(body: unknown): Reply {
    if (!isPlainObject(body)) throw new ApiError(400, 'invalid_request', 'the body must be a JSON object');
    const event = body['event'];
    if (!isEventName(event)) throw new ApiError(400, 'invalid_event', `event must be one of ${EVENT_NAMES.join(', ')}`);
    const data = body['data'];
    if (data !== undefined && !isPlainObject(data)) throw new ApiError(400, 'invalid_request', 'data must be an object');
    const count = body['count'] ?? 1;
    if (typeof count !== 'number') {
      throw new ApiError(400, 'invalid_request', `count must be an integer from 1 to ${this.limits.maxEventsPerFire}`);
    }
    const result = this.fire(event, { count, ...(data !== undefined ? { data } : {}) });
    const ids = result.event_ids;
    const shown = ids.length > 3 ? `${ids.slice(0, 3).join(', ')} and ${ids.length - 3} more` : ids.join(', ');
    return { status: 202, body: result, note: `${event} x${count}: ${shown}; ${result.deliveries} deliveries queued` };
  }
}

function allow(method: string, methods: string[]): void {
  if (!methods.includes(method)) {
    throw new ApiError(405, 'method_not_allowed', `use ${methods.join(' or ')}`, { Allow: methods.join(', ') });
  }
}

/** Starts a sandbox; the caller closes it. */
export async function startSandbox(options: SandboxOptions = {}): Promise<SandboxServer> {
  return new SandboxServer(options).start();
}
