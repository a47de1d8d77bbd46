/**
 * A stand-in for Zapier's hook intake. It receives deliveries on `POST /hooks/<zapId>`, answers as
 * soon as it has accepted one (Zapier answers before it runs the trigger), and then hands it to the
 * app's trigger exactly as Zapier does:
 *
 *   bundle.cleanedRequest  the parsed JSON body
 *   bundle.rawRequest      { method, querystring, content: raw body, headers: { 'Http-Webhook-Id', … } }
 *   bundle.subscribeData   what performSubscribe returned
 *   bundle.inputData       the Zap's trigger fields (filters), bundle.targetUrl, bundle.authData
 *
 * `perform` runs through zapier-platform-core's createAppTester, one tester per intake, so its
 * z.cache mock is shared by every delivery (which is what the app's de-duplication relies on).
 * A Zap that was turned off answers 410. Faults can be injected (5xx, 429, 3xx, a hold past the
 * sender's timeout, a dropped connection); a faulted request is never accepted nor processed.
 * Malformed or oversized requests get a 4xx and never end the process (the sandbox's guards).
 */
import * as http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { createAppTester } from 'zapier-platform-core';

import { createRng, type Rng } from './fixtures';
import { listenOnLoopback } from './loopback';
import { answerClientError, ApiError, assertPathDecodes, decodeSegment, parseRequestTarget, readBody } from './server';

type Operation = (z: never, bundle: never) => unknown;

/** The part of a Zapier app definition the intake drives. */
export interface HookApp {
  triggers: Record<
    string,
    {
      operation: {
        perform: Operation;
        performSubscribe?: Operation;
        performUnsubscribe?: Operation;
        performList?: Operation;
      };
    }
  >;
}

/**
 * server_error 503, rate_limited 429 with Retry-After, redirect 307, timeout (held past the sender's
 * timeout, then dropped) and drop (connection closed, no answer) are never accepted nor processed.
 * ack_lost is the other half of at-least-once: the delivery IS accepted and processed, but the
 * connection drops before the answer, so the platform sends it again.
 */
export type FaultMode = 'server_error' | 'rate_limited' | 'redirect' | 'timeout' | 'drop' | 'ack_lost';

export interface FaultOptions {
  /** Probability that a delivery is faulted (0–1). */
  rate: number;
  /** Which faults, with weights (default: server_error, timeout and drop equally). */
  modes?: Partial<Record<FaultMode, number>>;
  /**
   * A `timeout` fault holds the request, unanswered, until the sender gives up and closes the
   * connection; `holdMs` is the longest it holds before dropping it (default: no limit but the
   * intake's close). Keep it well above the sender's timeout (derive it from that timeout), or the
   * fault is a late dropped connection rather than a timeout.
   */
  holdMs?: number;
  /** Retry-After sent with `rate_limited` (default "0"). */
  retryAfter?: string;
  seed?: number;
}

export type RunOutcome = 'items' | 'empty' | 'halted' | 'error';

export interface RunRecord {
  zapId: string;
  webhookId: string | undefined;
  outcome: RunOutcome;
  items: number;
  /** Error name (and, for halts, the app's reason): never payload data. */
  reason?: string;
}

export interface ZapItem extends Record<string, unknown> {
  id?: unknown;
  event?: unknown;
}

export interface AcceptedDelivery {
  zapId: string;
  receivedAt: number;
  headers: Record<string, string>;
  body: string;
}

export interface ZapState {
  id: string;
  triggerKey: string;
  inputData: Record<string, unknown>;
  authData: Record<string, string>;
  targetUrl: string;
  subscribeData?: Record<string, unknown>;
  /** new: hook URL exists, subscribe not finished (answers 503); on; off (answers 410). */
  state: 'new' | 'on' | 'off';
  items: ZapItem[];
  runs: RunRecord[];
  /** Requests that reached this hook, by what happened to them. */
  requests: { received: number; accepted: number; faulted: number; gone: number };
}

export interface IntakeStats {
  received: number;
  accepted: number;
  faulted: Record<FaultMode, number>;
  gone: number;
  notFound: number;
  runs: Record<RunOutcome, number>;
  items: number;
  pendingRuns: number;
}

export interface IntakeOptions {
  app: HookApp;
  faults?: FaultOptions;
  /**
   * perform runs at a time (default 4). Runs of one Zap are never concurrent: the app tester's cache
   * mock ignores `nx`, so concurrent runs of one Zap could race where Zapier's cache would not.
   */
  concurrency?: number;
  log?: (line: string) => void;
  /** Keep accepted deliveries (headers and raw body) for replays in tests (default 50 per Zap). */
  keepDeliveries?: number;
  /** Delivery bodies larger than this are a 413, refused before reading when declared (default 1 MiB). */
  maxBodyBytes?: number;
}

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

const ignore = (): void => undefined;

/** `webhook-id` → `Http-Webhook-Id`, as Zapier presents request headers to a hook trigger. */
export function zapierHeaderName(name: string): string {
  return `Http-${name
    .split('-')
    .map((part) => (part ? part[0]!.toUpperCase() + part.slice(1).toLowerCase() : part))
    .join('-')}`;
}

function errorName(err: unknown): string {
  return err instanceof Error ? err.name : typeof err;
}

/** The first line of an error message, shortened: halting reasons are meant to be shown. */
function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : '';
  const line = message.split('\n')[0] ?? '';
  return line.length > 120 ? `${line.slice(0, 117)}...` : line;
}

export class ZapierIntake {
  private readonly app: HookApp;
  private readonly tester: ReturnType<typeof createAppTester>;
  private readonly server: http.Server;
  private readonly zaps = new Map<string, ZapState>();
  private readonly log: (line: string) => void;
  private readonly concurrency: number;
  private readonly keep: number;
  private readonly maxBodyBytes: number;
  private readonly accepted = new Map<string, AcceptedDelivery[]>();
  private faults: FaultOptions | undefined;
  private faultRng: Rng;
  private readonly forced: Array<{ mode: FaultMode; zapId?: string }> = [];
  private readonly holds = new Set<NodeJS.Timeout>();
  private readonly queue: Array<{ zapId: string; job: () => Promise<void> }> = [];
  private readonly busyZaps = new Set<string>();
  private running = 0;
  private waiters: Array<() => void> = [];
  private port = 0;
  private zapSeq = 0;
  private readonly counters: IntakeStats = {
    received: 0,
    accepted: 0,
    faulted: { server_error: 0, rate_limited: 0, redirect: 0, timeout: 0, drop: 0, ack_lost: 0 },
    gone: 0,
    notFound: 0,
    runs: { items: 0, empty: 0, halted: 0, error: 0 },
    items: 0,
    pendingRuns: 0,
  };

  constructor(options: IntakeOptions) {
    this.app = options.app;
    this.tester = createAppTester(options.app);
    this.log = options.log ?? (() => undefined);
    this.concurrency = Math.max(1, options.concurrency ?? 4);
    this.keep = options.keepDeliveries ?? 50;
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.faults = options.faults;
    this.faultRng = createRng(options.faults?.seed);
    this.server = http.createServer({ headersTimeout: 20_000, requestTimeout: 60_000 }, (req, res) => {
      try {
        this.handle(req, res);
      } catch (err) {
        // handle() answers what it can; a throw here would otherwise end the process.
        this.log(`internal error: ${errorName(err)}`);
        res.destroy();
      }
    });
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
      const sent = answerClientError(err, socket, () => JSON.stringify({ status: 'error', message: 'bad request' }));
      this.log(`client error ${typeof err.code === 'string' ? err.code : 'unknown'}${sent ? ` -> ${sent.status}` : ''}`);
    });
    this.server.keepAliveTimeout = 2000;
  }

  async start(): Promise<this> {
    this.port = await listenOnLoopback(this.server);
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Waits for queued and running performs; then closes the server. */
  async close(): Promise<void> {
    for (const t of this.holds) clearTimeout(t);
    this.holds.clear();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    await this.settled();
  }

  setFaults(faults: FaultOptions | undefined): void {
    this.faults = faults;
    this.faultRng = createRng(faults?.seed);
  }

  /** Fault the next `count` deliveries (to one Zap, or to any), before the random faults. */
  injectNext(mode: FaultMode, count = 1, zapId?: string): void {
    for (let i = 0; i < count; i++) this.forced.push(zapId === undefined ? { mode } : { mode, zapId });
  }

  /** A Zap whose hook URL exists (as when the partner builds it), not yet subscribed. */
  createZap(triggerKey: string, options: { inputData?: Record<string, unknown>; authData: Record<string, string>; id?: string }): ZapState {
    if (!this.app.triggers[triggerKey]) throw new Error(`the app has no trigger ${triggerKey}`);
    const id = options.id ?? `zap${++this.zapSeq}_${randomUUID().slice(0, 8)}`;
    if (this.zaps.has(id)) throw new Error(`zap ${id} exists`);
    const zap: ZapState = {
      id,
      triggerKey,
      inputData: { ...(options.inputData ?? {}) },
      authData: { ...options.authData },
      targetUrl: `${this.url}/hooks/${id}/`,
      state: 'new',
      items: [],
      runs: [],
      requests: { received: 0, accepted: 0, faulted: 0, gone: 0 },
    };
    this.zaps.set(id, zap);
    return zap;
  }

  zap(id: string): ZapState {
    const zap = this.zaps.get(id);
    if (!zap) throw new Error(`no zap ${id}`);
    return zap;
  }

  allZaps(): ZapState[] {
    return [...this.zaps.values()];
  }

  /** Turns a Zap on: runs the trigger's performSubscribe and keeps its result as subscribeData. */
  async turnOn(zapId: string): Promise<Record<string, unknown>> {
    const zap = this.zap(zapId);
    const op = this.operation(zap, 'performSubscribe');
    const subscribeData = (await this.tester(op as never, {
      authData: zap.authData,
      inputData: zap.inputData,
      targetUrl: zap.targetUrl,
      meta: { zap: { id: zap.id } },
    } as never)) as Record<string, unknown>;
    zap.subscribeData = subscribeData;
    zap.state = 'on';
    return subscribeData;
  }

  /**
   * Turns a Zap off: its hook answers 410 from now on, then (unless `unsubscribe` is false, as
   * when Zapier's unsubscribe call was lost) the trigger's performUnsubscribe runs.
   */
  async turnOff(zapId: string, options: { unsubscribe?: boolean } = {}): Promise<unknown> {
    const zap = this.zap(zapId);
    zap.state = 'off';
    if (options.unsubscribe === false) return undefined;
    const op = this.operation(zap, 'performUnsubscribe');
    return this.tester(op as never, {
      authData: zap.authData,
      inputData: zap.inputData,
      subscribeData: zap.subscribeData ?? {},
      targetUrl: zap.targetUrl,
      meta: { zap: { id: zap.id } },
    } as never);
  }

  /** "Test trigger" in the Zap editor: the trigger's performList. */
  async loadSamples(zapId: string): Promise<ZapItem[]> {
    const zap = this.zap(zapId);
    const op = this.operation(zap, 'performList');
    return (await this.tester(op as never, {
      authData: zap.authData,
      inputData: zap.inputData,
      meta: { isLoadingSample: true, isFillingDynamicDropdown: false, zap: { id: zap.id } },
    } as never)) as ZapItem[];
  }

  /** Accepted deliveries of a Zap (headers as received, lower-case, and the raw body). */
  deliveries(zapId: string): AcceptedDelivery[] {
    return [...(this.accepted.get(zapId) ?? [])];
  }

  /** Resolves when no perform is queued or running. */
  settled(): Promise<void> {
    if (this.running === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  stats(): IntakeStats {
    return {
      ...this.counters,
      faulted: { ...this.counters.faulted },
      runs: { ...this.counters.runs },
      pendingRuns: this.running + this.queue.length,
    };
  }

  // ------------------------------------------------------------------------------------------

  private operation(zap: ZapState, name: 'perform' | 'performSubscribe' | 'performUnsubscribe' | 'performList'): Operation {
    const op = this.app.triggers[zap.triggerKey]?.operation[name];
    if (!op) throw new Error(`trigger ${zap.triggerKey} has no ${name}`);
    return op;
  }

  private pickFault(zapId: string): FaultMode | undefined {
    const i = this.forced.findIndex((f) => f.zapId === undefined || f.zapId === zapId);
    if (i >= 0) return this.forced.splice(i, 1)[0]?.mode;
    const f = this.faults;
    if (!f || f.rate <= 0 || this.faultRng() >= f.rate) return undefined;
    const weights = Object.entries(f.modes ?? { server_error: 1, timeout: 1, drop: 1 }).filter(([, w]) => (w ?? 0) > 0) as Array<
      [FaultMode, number]
    >;
    const total = weights.reduce((sum, [, w]) => sum + w, 0);
    let r = this.faultRng() * total;
    for (const [mode, w] of weights) {
      r -= w;
      if (r < 0) return mode;
    }
    return weights[weights.length - 1]?.[0];
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    // A sender that goes away mid-request must not become an uncaught 'error'.
    req.on('error', ignore);
    res.on('error', ignore);
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      if (res.headersSent || res.writableEnded || res.destroyed || req.socket?.writable !== true) return;
      const text = JSON.stringify(body);
      res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)), ...headers });
      res.end(text);
    };
    const refuse = (status: number, message: string): void => {
      // The body was not read: close rather than wait for the rest of it.
      req.resume();
      reply(status, { status: 'error', message }, { Connection: 'close' });
    };
    let target: ReturnType<typeof parseRequestTarget>;
    let zapId: string | undefined;
    try {
      target = parseRequestTarget(req.url ?? '/');
      assertPathDecodes(target.pathname);
      const match = /^\/hooks\/([^/]+)\/?$/.exec(target.pathname);
      if (match) zapId = decodeSegment(match[1] as string);
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError(400, 'invalid_request', 'bad request');
      refuse(e.status, e.message);
      return;
    }
    if (zapId === undefined || req.method !== 'POST') {
      this.counters.notFound++;
      req.resume();
      reply(404, { status: 'error', message: 'no such hook' });
      return;
    }
    const zap = this.zaps.get(zapId);
    this.counters.received++;
    if (!zap) {
      this.counters.notFound++;
      req.resume();
      reply(404, { status: 'error', message: 'no such hook' });
      return;
    }
    zap.requests.received++;

    readBody(req, this.maxBodyBytes).then(
      (body) => {
        try {
          this.receive(zap, body, req, res, target.search.replace(/^\?/, ''), reply);
        } catch (err) {
          this.log(`internal error: ${errorName(err)}`);
          reply(500, { status: 'error', message: 'internal error' });
        }
      },
      (err: unknown) => {
        if (err instanceof ApiError && err.status === 413) refuse(413, 'body too large');
        // Otherwise the sender went away mid-body: nobody is left to answer.
      },
    );
  }

  /** A delivery whose body was read: the Zap's state, faults, then accepted and queued for a run. */
  private receive(
    zap: ZapState,
    body: string,
    req: http.IncomingMessage,
    res: http.ServerResponse,
    querystring: string,
    reply: (status: number, body: unknown, headers?: Record<string, string>) => void,
  ): void {
    if (zap.state === 'off') {
      zap.requests.gone++;
      this.counters.gone++;
      reply(410, { status: 'error', message: 'this Zap is turned off' });
      return;
    }
    if (zap.state === 'new') {
      // Subscribing has not finished: there is no subscribeData to verify with yet.
      reply(503, { status: 'error', message: 'this Zap is being turned on' });
      return;
    }
    const fault = this.pickFault(zap.id);
    if (fault && fault !== 'ack_lost') {
      zap.requests.faulted++;
      this.counters.faulted[fault]++;
      this.fault(fault, req, res, reply);
      return;
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
    }
    const delivery: AcceptedDelivery = { zapId: zap.id, receivedAt: Date.now(), headers, body };
    zap.requests.accepted++;
    this.counters.accepted++;
    const kept = this.accepted.get(zap.id) ?? [];
    kept.push(delivery);
    if (kept.length > this.keep) kept.shift();
    this.accepted.set(zap.id, kept);
    this.enqueueRun(zap, delivery, querystring);
    if (fault === 'ack_lost') {
      zap.requests.faulted++;
      this.counters.faulted.ack_lost++;
      req.socket.destroy();
      return;
    }
    const requestId = randomUUID();
    reply(200, { status: 'success', attempt: requestId, id: requestId, request_id: requestId });
  }

  private fault(
    mode: FaultMode,
    req: http.IncomingMessage,
    res: http.ServerResponse,
    reply: (status: number, body: unknown, headers?: Record<string, string>) => void,
  ): void {
    switch (mode) {
      case 'server_error':
        reply(503, { status: 'error', message: 'temporarily unavailable' });
        return;
      case 'rate_limited':
        reply(429, { status: 'error', message: 'throttled' }, { 'Retry-After': this.faults?.retryAfter ?? '0' });
        return;
      case 'redirect':
        reply(307, { status: 'error', message: 'moved' }, { Location: '/hooks/redirect-trap/' });
        return;
      case 'drop':
        req.socket.destroy();
        return;
      case 'ack_lost':
        return; // handled by the caller: accepted first
      case 'timeout': {
        // Held until the sender gives up (it closes the connection), or holdMs at most.
        const holdMs = this.faults?.holdMs;
        if (holdMs === undefined) return; // the sender's close, or close(), ends it
        const t = setTimeout(() => {
          this.holds.delete(t);
          res.socket?.destroy();
        }, holdMs);
        this.holds.add(t);
        res.once('close', () => {
          clearTimeout(t);
          this.holds.delete(t);
        });
        return;
      }
    }
  }

  private enqueueRun(zap: ZapState, delivery: AcceptedDelivery, querystring: string): void {
    this.queue.push({ zapId: zap.id, job: () => this.run(zap, delivery, querystring) });
    this.drain();
  }

  private drain(): void {
    while (this.running < this.concurrency) {
      const i = this.queue.findIndex((q) => !this.busyZaps.has(q.zapId));
      if (i < 0) return;
      const [{ zapId, job }] = this.queue.splice(i, 1) as [{ zapId: string; job: () => Promise<void> }];
      this.running++;
      this.busyZaps.add(zapId);
      void job().finally(() => {
        this.running--;
        this.busyZaps.delete(zapId);
        this.drain();
        if (this.running === 0 && this.queue.length === 0) {
          const waiters = this.waiters;
          this.waiters = [];
          for (const w of waiters) w();
        }
      });
    }
  }

  private async run(zap: ZapState, delivery: AcceptedDelivery, querystring: string): Promise<void> {
    let cleanedRequest: unknown;
    try {
      cleanedRequest = JSON.parse(delivery.body);
    } catch {
      cleanedRequest = {};
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(delivery.headers)) headers[zapierHeaderName(k)] = v;
    const bundle = {
      authData: zap.authData,
      inputData: zap.inputData,
      subscribeData: zap.subscribeData ?? {},
      targetUrl: zap.targetUrl,
      cleanedRequest,
      rawRequest: { method: 'POST', querystring, content: delivery.body, headers },
      meta: { isLoadingSample: false, isFillingDynamicDropdown: false, zap: { id: zap.id } },
    };
    const webhookId = delivery.headers['webhook-id'];
    let record: RunRecord;
    try {
      const result = await this.tester(this.operation(zap, 'perform') as never, bundle as never);
      const items = Array.isArray(result) ? (result as ZapItem[]) : [];
      zap.items.push(...items);
      this.counters.items += items.length;
      record = { zapId: zap.id, webhookId, outcome: items.length > 0 ? 'items' : 'empty', items: items.length };
    } catch (err) {
      const halted = errorName(err) === 'HaltedError';
      record = {
        zapId: zap.id,
        webhookId,
        outcome: halted ? 'halted' : 'error',
        items: 0,
        reason: halted ? `HaltedError: ${firstLine(err)}` : errorName(err),
      };
    }
    zap.runs.push(record);
    this.counters.runs[record.outcome]++;
    this.log(
      `zap ${zap.id} (${zap.triggerKey}) run for ${webhookId ?? 'no webhook-id'}: ${record.outcome}` +
        (record.outcome === 'items' ? ` x${record.items}` : record.reason ? ` (${record.reason.split(':')[0]})` : ''),
    );
  }
}

export async function startIntake(options: IntakeOptions): Promise<ZapierIntake> {
  return new ZapierIntake(options).start();
}
