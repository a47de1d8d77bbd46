/**
 * Both servers stay up whatever a client sends: malformed request lines, targets, percent-encoding,
 * headers and bodies, and oversized ones, over raw TCP on 127.0.0.1, each get a 4xx (or a closed
 * connection) and the servers go on answering. Also the sandbox's guards and caps (fire validation,
 * subscriptions, the delivery queue, key and JSON on the control plane), its observation hooks
 * (onExchange, onDelivery) and the rendered reference (/docs).
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

import { runCli } from '../../src/sandbox/cli';
import { startIntake, type ZapierIntake, type ZapState } from '../../src/sandbox/intake';
import {
  ApiError,
  DEMO_API_KEY,
  DEMO_READONLY_API_KEY,
  type DeliveryRequest,
  type Exchange,
  type SandboxOptions,
  type SandboxServer,
} from '../../src/sandbox/server';
import { waitUntil } from '../support/bounded-wait';
import { FAST_SCHEDULE, hookApp, SETTLE_BOUND_MS, settleDeliveries, triggerKeyOf } from './loop';
import { startWatchedSandbox } from './contract-watch';

interface RawAnswer {
  /** The status of the first response, if one arrived. */
  status: number | undefined;
  head: string;
  body: string;
  /** The server closed the connection (rather than the answer being complete). */
  closed: boolean;
}

/**
 * Writes `parts` to a fresh connection and resolves with the first complete response, or with what
 * arrived when the server closed the connection. Rejects, saying what had arrived, when neither
 * happened within `timeoutMs` (a bound for a busy machine: the servers answer at once).
 */
function rawRequest(
  port: number,
  parts: Array<string | Buffer>,
  options: { timeoutMs?: number; untilClosed?: boolean } = {},
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const head = end >= 0 ? text.slice(0, end) : text;
      const status = /^HTTP\/1\.1 (\d{3}) /.exec(head)?.[1];
      resolve({ status: status !== undefined ? Number(status) : undefined, head, body: end >= 0 ? text.slice(end + 4) : '', closed });
    };
    const timeoutMs = options.timeoutMs ?? 15_000;
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      socket.destroy();
      const received = Buffer.concat(chunks);
      const firstLine = received.toString('latin1').split('\r\n', 1)[0];
      reject(
        new Error(
          `no ${options.untilClosed ? 'close of the connection' : 'complete answer'} within ${timeoutMs} ms: ${received.length} bytes had arrived` +
            (received.length > 0 ? ` (${JSON.stringify(firstLine)})` : ''),
        ),
      );
    }, timeoutMs);
    socket.on('connect', () => {
      for (const part of parts) socket.write(part);
    });
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (options.untilClosed) return;
      const text = Buffer.concat(chunks).toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end))?.[1];
      if (length !== undefined && Buffer.byteLength(text.slice(end + 4), 'latin1') >= Number(length)) finish(false);
    });
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
  });
}

/** A request head (request line and headers) ready for the wire. */
function head(requestLine: string, headers: Record<string, string> = {}): string {
  const lines = Object.entries({ Host: '127.0.0.1', ...headers }).map(([k, v]) => `${k}: ${v}\r\n`);
  return `${requestLine}\r\n${lines.join('')}\r\n`;
}

const portOf = (url: string): number => Number(new URL(url).port);
const KEY = { Authorization: `Bearer ${DEMO_API_KEY}` };
const JSON_KEY = { ...KEY, 'Content-Type': 'application/json' };

/** A subscription target that accepts connections and never answers: deliveries stay pending. */
async function startSilentReceiver(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/silent/`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

async function api(
  sandbox: SandboxServer,
  method: string,
  target: string,
  options: { headers?: Record<string, string>; body?: unknown; raw?: string } = {},
): Promise<{ status: number; headers: Headers; text: string; json: any }> {
  const payload = options.raw ?? (options.body !== undefined ? JSON.stringify(options.body) : undefined);
  const res = await fetch(`${sandbox.url}${target}`, {
    method,
    headers: options.headers ?? (payload !== undefined ? JSON_KEY : KEY),
    ...(payload !== undefined ? { body: payload } : {}),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

function expectError(res: { status: number; json: any }, status: number, code: string): void {
  expect(res.status).toBe(status);
  expect(res.json).toEqual({ error: { code, message: expect.any(String) } });
}

const subscribeBody = (uri: string, event = 'Audit:Create', filters: Record<string, string> = {}) => ({
  type: 'webhook',
  event,
  uri,
  filters,
});

// ---------------------------------------------------------------------------------------------

describe('malformed and oversized input over raw TCP', () => {
  let sandbox: SandboxServer;
  let intake: ZapierIntake;
  let zap: ZapState;
  let sandboxPort: number;
  let intakePort: number;
  const exchanges: Exchange[] = [];
  const INTAKE_CAP = 32 * 1024;

  // What each server logged: how a test sees that a server has dealt with a client that went away.
  const sandboxLog: string[] = [];
  const intakeLog: string[] = [];

  beforeAll(async () => {
    sandbox = await startWatchedSandbox({
      delivery: FAST_SCHEDULE,
      seed: 5,
      onExchange: (x) => exchanges.push(x),
      log: (line) => sandboxLog.push(line),
    });
    process.env.ECOLOGIC_API_BASE_URL = sandbox.apiBaseUrl;
    intake = await startIntake({ app: hookApp, maxBodyBytes: INTAKE_CAP, log: (line) => intakeLog.push(line) });
    zap = intake.createZap(triggerKeyOf('Audit:Create'), { authData: { api_key: DEMO_API_KEY } });
    await intake.turnOn(zap.id);
    sandboxPort = portOf(sandbox.url);
    intakePort = portOf(intake.url);
  });

  afterAll(async () => {
    await intake.close();
    await sandbox.close();
  });

  type Case = [name: string, parts: () => Array<string | Buffer>, expected: number];
  const bigHeader = 'x'.repeat(20 * 1024);
  const longPath = `/${'a'.repeat(10 * 1024)}`;

  /** Cases both servers must refuse the same way; `post` is a path that takes a POST body. */
  const common = (post: () => string, postHeaders: Record<string, string>): Case[] => [
    ['GET //[', () => [head('GET //[ HTTP/1.1')], 0],
    ['GET http://[', () => [head('GET http://[ HTTP/1.1')], 400],
    ['GET //a:99999', () => [head('GET //a:99999 HTTP/1.1')], 0],
    ['a garbage request line', () => ['HELLO THERE\r\n\r\n'], 400],
    ['a header with a control byte', () => [head('GET / HTTP/1.1', { 'X-Test': 'a\u0001b' })], 400],
    ['a 20 KB header', () => [head('GET / HTTP/1.1', { 'X-Big': bigHeader })], 431],
    ['a 10 KB URL', () => [head(`GET ${longPath} HTTP/1.1`)], 414],
    ['a declared Content-Length of 50 MB', () => [head(`POST ${post()} HTTP/1.1`, { ...postHeaders, 'Content-Length': String(50 * 1024 * 1024) })], 413],
    ['an invalid Content-Length', () => [head(`POST ${post()} HTTP/1.1`, { ...postHeaders, 'Content-Length': '12abc' }), '{}'], 400],
    [
      'a chunked body with bad chunk sizes',
      () => [head(`POST ${post()} HTTP/1.1`, { ...postHeaders, 'Transfer-Encoding': 'chunked' }), 'ZZZ\r\nabc\r\n0\r\n\r\n'],
      400,
    ],
    [
      'a chunk size that overflows',
      () => [head(`POST ${post()} HTTP/1.1`, { ...postHeaders, 'Transfer-Encoding': 'chunked' }), 'FFFFFFFFFFFFFFFFFF\r\nabc\r\n'],
      400,
    ],
    [
      'both Content-Length and chunked',
      () => [head(`POST ${post()} HTTP/1.1`, { ...postHeaders, 'Content-Length': '5', 'Transfer-Encoding': 'chunked' }), '0\r\n\r\n'],
      400,
    ],
  ];

  const sandboxCases: Case[] = [
    ...common(() => '/sandbox/events', JSON_KEY),
    ['a malformed percent-encoding in a path segment', () => [head('DELETE /v1/notifications/%E0%A4%A HTTP/1.1', KEY)], 400],
    [
      'a chunked body over the 1 MB cap',
      () => {
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        const parts: Array<string | Buffer> = [head('POST /v1/notifications HTTP/1.1', { ...JSON_KEY, 'Transfer-Encoding': 'chunked' })];
        for (let i = 0; i < 17; i++) parts.push(`${chunk.length.toString(16)}\r\n`, chunk, '\r\n');
        parts.push('0\r\n\r\n');
        return parts;
      },
      413,
    ],
    ['invalid JSON', () => [head('POST /v1/notifications HTTP/1.1', { ...JSON_KEY, 'Content-Length': '5' }), '{nope'], 400],
    ['JSON that is not an object', () => [head('POST /sandbox/events HTTP/1.1', { ...JSON_KEY, 'Content-Length': '5' }), '[1,2]'], 400],
    ['JSON null', () => [head('POST /sandbox/events HTTP/1.1', { ...JSON_KEY, 'Content-Length': '4' }), 'null'], 400],
    [
      '100k unclosed [',
      () => [head('POST /sandbox/events HTTP/1.1', { ...JSON_KEY, 'Content-Length': '100000' }), '['.repeat(100_000)],
      400,
    ],
    [
      'data nested 10k objects deep',
      () => {
        const body = `{"event":"Audit:Create","data":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`;
        return [head('POST /sandbox/events HTTP/1.1', { ...JSON_KEY, 'Content-Length': String(body.length) }), body];
      },
      400,
    ],
    [
      'POST /sandbox/events as text/plain',
      () => [head('POST /sandbox/events HTTP/1.1', { ...KEY, 'Content-Type': 'text/plain', 'Content-Length': '24' }), '{"event":"Audit:Create"}'],
      415,
    ],
    [
      'POST /sandbox/events without a key',
      () => [head('POST /sandbox/events HTTP/1.1', { 'Content-Type': 'application/json', 'Content-Length': '24' }), '{"event":"Audit:Create"}'],
      401,
    ],
    ['a target that is neither a path nor a URL', () => [head('GET mailto:x HTTP/1.1')], 400],
    ['HTTP/1.1 without a Host header', () => ['GET /v1/me HTTP/1.1\r\nAuthorization: Bearer eco_test_sandbox_key\r\n\r\n'], 400],
  ];

  const intakeCases: Case[] = [
    ...common(() => `/hooks/${zap.id}/`, { 'Content-Type': 'application/json' }),
    ['HTTP/1.1 without a Host header', () => [`POST /hooks/${zap.id}/ HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}`], 400],
    ['a malformed percent-encoding in the hook id', () => [head('POST /hooks/%E0%A4%A/ HTTP/1.1', { 'Content-Length': '2' }), '{}'], 400],
    [
      'a body over its cap',
      () => [head(`POST /hooks/${zap.id}/ HTTP/1.1`, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' }), `${(INTAKE_CAP + 10).toString(16)}\r\n${'x'.repeat(INTAKE_CAP + 10)}\r\n0\r\n\r\n`],
      413,
    ],
  ];

  /** 0 means any 4xx (the target is odd but parseable: 404 is as right as 400). */
  function expectRefused(answer: RawAnswer, expected: number): void {
    if (expected === 0) {
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(answer.status).toBeLessThan(500);
    } else {
      expect(answer.status).toBe(expected);
    }
  }

  test.each(sandboxCases)('sandbox: %s is refused', async (_name, parts, expected) => {
    const answer = await rawRequest(sandboxPort, parts());
    expectRefused(answer, expected);
    // Every answer, even from the HTTP parser, is in the contract's error shape.
    expect(JSON.parse(answer.body)).toEqual({ error: { code: expect.any(String), message: expect.any(String) } });
  });

  test.each(intakeCases)('intake: %s is refused', async (_name, parts, expected) => {
    expectRefused(await rawRequest(intakePort, parts()), expected);
  });

  test('413 and parser errors close the connection', async () => {
    const declared = await rawRequest(
      sandboxPort,
      [head('POST /sandbox/events HTTP/1.1', { ...JSON_KEY, 'Content-Length': String(50 * 1024 * 1024) })],
      { untilClosed: true },
    );
    expect(declared).toMatchObject({ status: 413, closed: true });
    expect(declared.head).toMatch(/\r\nconnection: close/i);
    expect(JSON.parse(declared.body)).toEqual({ error: { code: 'payload_too_large', message: 'the body is larger than 1 MB' } });
    const garbage = await rawRequest(sandboxPort, ['HELLO\r\n\r\n'], { untilClosed: true });
    expect(garbage).toMatchObject({ status: 400, closed: true });
  });

  test('clients that vanish mid-request, and slow partial requests, do not disturb either server', async () => {
    const clientErrors = (log: string[]) => log.filter((line) => line.startsWith('client error')).length;
    const cutShort = () => sandboxLog.filter((line) => line === 'POST /v1/notifications -> 400 (invalid_request)').length;
    const before = { sandbox: clientErrors(sandboxLog), intake: clientErrors(intakeLog), cutShort: cutShort(), received: intake.stats().received };
    for (const port of [sandboxPort, intakePort]) {
      const target = port === sandboxPort ? '/v1/notifications' : `/hooks/${zap.id}/`;
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.on('error', () => undefined);
      await new Promise<void>((resolve) => socket.on('connect', resolve));
      socket.write(head(`POST ${target} HTTP/1.1`, { ...JSON_KEY, 'Content-Length': '100' }));
      socket.write('{"type":');
      if (port === intakePort) {
        // The intake has the request in hand, waiting for the rest of its body.
        await waitUntil(() => intake.stats().received > before.received, {
          what: 'the intake to read the head of the partial request',
          timeoutMs: SETTLE_BOUND_MS,
          state: () => intake.stats(),
        });
      }
      socket.destroy();
      // Half a request line, then gone.
      const half = net.connect({ host: '127.0.0.1', port });
      half.on('error', () => undefined);
      await new Promise<void>((resolve) => half.on('connect', resolve));
      half.write('GET /v1/m');
      half.destroy();
    }
    // Each server has seen both clients go: the one mid-body (the sandbox's handler answered its
    // cut-short body with a 400 nobody reads) and the one mid-request-line, and lived on.
    await waitUntil(
      () =>
        cutShort() > before.cutShort &&
        clientErrors(sandboxLog) >= before.sandbox + 2 &&
        clientErrors(intakeLog) >= before.intake + 2,
      {
        what: 'both servers to deal with the clients that went away',
        timeoutMs: SETTLE_BOUND_MS,
        state: () => ({ before, sandboxLog: sandboxLog.slice(-6), intakeLog: intakeLog.slice(-6) }),
      },
    );
    expect((await rawRequest(sandboxPort, [head('GET /v1/me HTTP/1.1', KEY)])).status).toBe(200);
    expect((await rawRequest(intakePort, [head('POST /hooks/nope/ HTTP/1.1', { 'Content-Length': '2' }), '{}'])).status).toBe(404);
  });

  test('JSON garbage on a Zap hook is accepted as Zapier would, and never becomes an item', async () => {
    const before = zap.runs.length;
    for (const body of ['{nope', '[1,2]', '['.repeat(20_000)]) {
      const answer = await rawRequest(intakePort, [
        head(`POST /hooks/${zap.id}/ HTTP/1.1`, { 'Content-Type': 'application/json', 'Content-Length': String(body.length) }),
        body,
      ]);
      expect(answer.status).toBe(200);
    }
    await settleDeliveries(sandbox, intake);
    expect(zap.runs.slice(before).map((r) => r.outcome)).toEqual(['halted', 'halted', 'halted']);
    expect(zap.items).toHaveLength(0);
  });

  test('afterwards both servers answer normal requests', async () => {
    const me = await rawRequest(sandboxPort, [head('GET /v1/me HTTP/1.1', KEY)]);
    expect(me.status).toBe(200);
    expect(JSON.parse(me.body)).toMatchObject({ organisation_id: 'org_7Qm2Lx' });
    expect((await rawRequest(intakePort, [head('POST /hooks/nope/ HTTP/1.1', { 'Content-Length': '2' }), '{}'])).status).toBe(404);
    // A genuine delivery still goes all the way through to a Zap item.
    const [id] = sandbox.fire('Audit:Create').event_ids;
    await settleDeliveries(sandbox, intake);
    expect(zap.items.map((i) => i['id'])).toEqual([id]);
  });

  test('every response was reported to onExchange, parser errors included', () => {
    expect(exchanges.length).toBeGreaterThanOrEqual(sandboxCases.length);
    const parserErrors = exchanges.filter((x) => x.method === '');
    expect(parserErrors.length).toBeGreaterThanOrEqual(5);
    for (const x of parserErrors) {
      expect(x).toMatchObject({ target: '', path: '', headers: { connection: 'close' } });
      expect([400, 431]).toContain(x.status);
    }
    const percent = exchanges.find((x) => x.target === '/v1/notifications/%E0%A4%A');
    expect(percent).toMatchObject({ method: 'DELETE', path: '/v1/notifications/%E0%A4%A', status: 400 });
    expect(exchanges.find((x) => x.target === 'http://[')).toMatchObject({ method: 'GET', path: '', status: 400 });
  });
});

// ---------------------------------------------------------------------------------------------

describe('the sandbox guards what it stores and queues', () => {
  let sandbox: SandboxServer;
  let receiver: { url: string; close(): Promise<void> } | undefined;

  async function start(options: SandboxOptions = {}): Promise<SandboxServer> {
    sandbox = await startWatchedSandbox({ delivery: { ...FAST_SCHEDULE, timeoutMs: 30_000 }, seed: 9, ...options });
    return sandbox;
  }

  afterEach(async () => {
    await sandbox.close();
    await receiver?.close();
    receiver = undefined;
  });

  test('fired data that makes an invalid event is a 400 naming the field, and nothing is stored', async () => {
    await start();
    const before = sandbox.stats();
    for (const occurred_at of [5, 'tuesday 9am', '2024-05-01 10:00']) {
      const res = await api(sandbox, 'POST', '/sandbox/events', { body: { event: 'Audit:Create', data: { occurred_at }, count: 3 } });
      expectError(res, 400, 'invalid_event_data');
      expect(res.json.error.message).toContain('data.occurred_at: expected an ISO-8601 UTC time');
      expect(res.text).not.toContain('tuesday');
      expect(res.text).not.toContain('2024-05-01');
    }
    const typed = await api(sandbox, 'POST', '/sandbox/events', { body: { event: 'RequestQuote:Create', data: { first_name: { nested: 'Olivia' } } } });
    expectError(typed, 400, 'invalid_event_data');
    expect(typed.json.error.message).toContain('data.first_name: expected string');
    expect(typed.text).not.toContain('Olivia');
    const samples = await api(sandbox, 'GET', '/v1/notifications/samples?event=Audit:Create&limit=100');
    expect(samples.status).toBe(200);
    expect(samples.json.data).toHaveLength(3); // the seeds only
    expect(sandbox.stats()).toEqual(before);
    expect(() => sandbox.fire('Audit:Create', { data: { occurred_at: 5 } })).toThrow(
      expect.objectContaining({ status: 400, code: 'invalid_event_data' }),
    );
    expect(() => sandbox.fire('Audit:Create', { data: { occurred_at: 5 } })).toThrow(ApiError);
    expect(sandbox.stats()).toEqual(before);
    // A valid time is fine.
    const ok = await api(sandbox, 'POST', '/sandbox/events', { body: { event: 'Audit:Create', data: { occurred_at: '2024-05-01T10:00:00Z' } } });
    expect(ok.status).toBe(202);
  });

  test('event ids are unique per event: 409 duplicate_event_id', async () => {
    await start();
    const twice = await api(sandbox, 'POST', '/sandbox/events', { body: { event: 'Audit:Create', data: { event_id: 'evt_mine_1' }, count: 2 } });
    expectError(twice, 409, 'duplicate_event_id');
    const once = await api(sandbox, 'POST', '/sandbox/events', { body: { event: 'Audit:Create', data: { event_id: 'evt_mine_1' } } });
    expect(once.status).toBe(202);
    expect(once.json.event_ids).toEqual(['evt_mine_1']);
    const again = await api(sandbox, 'POST', '/sandbox/events', { body: { event: 'Audit:Assign', data: { event_id: 'evt_mine_1' } } });
    expectError(again, 409, 'duplicate_event_id');
    const seeded = (await api(sandbox, 'GET', '/v1/notifications/samples?event=Audit:Simulate&limit=1')).json.data[0].event_id;
    expect(() => sandbox.fire('Audit:Simulate', { data: { event_id: seeded } })).toThrow(expect.objectContaining({ status: 409 }));
    expect(sandbox.stats().storedEvents).toBe(19);
  });

  test('subscriptions are capped per organisation: 422 subscription_limit_reached', async () => {
    await start({ maxSubscriptions: 2 });
    const uri = (i: number) => `http://127.0.0.1:9/hooks/${i}/`;
    expect((await api(sandbox, 'POST', '/v1/notifications', { body: subscribeBody(uri(1)) })).status).toBe(201);
    const second = await api(sandbox, 'POST', '/v1/notifications', { body: subscribeBody(uri(2)) });
    expect(second.status).toBe(201);
    const third = await api(sandbox, 'POST', '/v1/notifications', { body: subscribeBody(uri(3)) });
    expectError(third, 422, 'subscription_limit_reached');
    expect(third.json.error.message).toMatch(/delete one first/);
    // Subscribing again to an existing one is still the idempotent 200.
    expect((await api(sandbox, 'POST', '/v1/notifications', { body: subscribeBody(uri(1)) })).status).toBe(200);
    expect((await api(sandbox, 'DELETE', `/v1/notifications/${second.json.id}`)).status).toBe(204);
    expect((await api(sandbox, 'POST', '/v1/notifications', { body: subscribeBody(uri(3)) })).status).toBe(201);
    expect(sandbox.stats().subscriptions).toBe(2);
  });

  test('a fire that would overfill the delivery queue is refused whole: 429 queue_full with Retry-After', async () => {
    receiver = await startSilentReceiver();
    await start({ maxPendingDeliveries: 5 });
    for (const suffix of ['a', 'b']) {
      expect((await api(sandbox, 'POST', '/v1/notifications', { body: subscribeBody(`${receiver.url}${suffix}`) })).status).toBe(201);
    }
    const first = await api(sandbox, 'POST', '/sandbox/events', { body: { event: 'Audit:Create', count: 2 } });
    expect(first.json).toMatchObject({ deliveries: 4 });
    const before = sandbox.stats();
    expect(before).toMatchObject({ pending: 4, enqueued: 4 });

    const refused = await api(sandbox, 'POST', '/sandbox/events', { body: { event: 'Audit:Create', count: 1 } });
    expectError(refused, 429, 'queue_full');
    expect(refused.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect(refused.json.error.message).toMatch(/at most 5/);
    expect(() => sandbox.fire('Audit:Create')).toThrow(expect.objectContaining({ status: 429, code: 'queue_full' }));
    // Events of a type nobody subscribed to queue nothing, so they still fit.
    expect((await api(sandbox, 'POST', '/sandbox/events', { body: { event: 'Audit:Assign', count: 10 } })).status).toBe(202);
    expect(sandbox.stats()).toMatchObject({ pending: 4, enqueued: 4, storedEvents: before.storedEvents + 10 });

    const [eventId] = first.json.event_ids;
    const [sub] = sandbox.subscriptions();
    expect(sandbox.redeliver(sub!.id, eventId)).toBe(true); // 5: exactly full
    expect(sandbox.redeliver(sub!.id, eventId)).toBe(false);
    expect(sandbox.stats()).toMatchObject({ pending: 5, enqueued: 5 });
  });

  test('100 subscriptions and a fire of 1000 neither block the server nor queue past the cap', async () => {
    receiver = await startSilentReceiver();
    await start({ maxSubscriptions: 101 });
    await Promise.all(
      Array.from({ length: 100 }, (_, i) => api(sandbox, 'POST', '/v1/notifications', { body: subscribeBody(`${receiver!.url}${i}`) })),
    );
    expect(sandbox.stats().subscriptions).toBe(100);
    // 100,000 deliveries would not fit: refused at once, nothing queued.
    const started = Date.now();
    const refused = await api(sandbox, 'POST', '/sandbox/events', { body: { event: 'Audit:Create', count: 1000 } });
    expectError(refused, 429, 'queue_full');
    expect(Date.now() - started).toBeLessThan(500);
    expect(sandbox.stats()).toMatchObject({ enqueued: 0, pending: 0, storedEvents: 18 });
    // Filtered subscriptions are counted exactly, event by event: none of these 1000 match.
    const solar = subscribeBody(`${receiver.url}solar`, 'RequestQuote:Create', { action: 'solar_pv' });
    expect((await api(sandbox, 'POST', '/v1/notifications', { body: solar })).status).toBe(201);
    expect(sandbox.fire('RequestQuote:Create', { data: { action: 'battery' }, count: 1000 }).deliveries).toBe(0);

    // 100 events x 100 subscriptions fills the queue exactly; enqueueing them is quick.
    const t0 = Date.now();
    expect(sandbox.fire('Audit:Create', { count: 100 }).deliveries).toBe(10_000);
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(sandbox.stats()).toMatchObject({ enqueued: 10_000, pending: 10_000 });
    // Full: a refusal now costs almost nothing.
    const t1 = Date.now();
    expect(() => sandbox.fire('Audit:Create', { count: 1000 })).toThrow(expect.objectContaining({ status: 429 }));
    expect(Date.now() - t1).toBeLessThan(50);
    // Even a full queue takes events no subscription receives, but not one that would be delivered.
    expect(sandbox.fire('RequestQuote:Create', { data: { action: 'battery' } }).deliveries).toBe(0);
    expect(() => sandbox.fire('RequestQuote:Create', { data: { action: 'solar_pv' } })).toThrow(expect.objectContaining({ status: 429 }));
    expect((await api(sandbox, 'GET', '/v1/me')).status).toBe(200);
    // Deleting a subscription drops its pending deliveries at once (an attempt in flight finishes).
    const [sub] = sandbox.subscriptions();
    expect((await api(sandbox, 'DELETE', `/v1/notifications/${sub!.id}`)).status).toBe(204);
    expect(sandbox.stats().pending).toBeGreaterThanOrEqual(9_900);
    expect(sandbox.stats().pending).toBeLessThanOrEqual(9_901);
  });

  test('POST /sandbox/events needs the API key and a JSON body; the control plane is also under the base URL', async () => {
    await start();
    const body = JSON.stringify({ event: 'Audit:Create' });
    const post = (target: string, headers: Record<string, string>) => api(sandbox, 'POST', target, { headers, raw: body });
    const json = { 'Content-Type': 'application/json' };
    expectError(await post('/sandbox/events', json), 401, 'unauthorized');
    expectError(await post('/sandbox/events', { ...json, Authorization: 'Bearer eco_live_nope' }), 401, 'unauthorized');
    expectError(await post('/sandbox/events', { ...json, Authorization: `Bearer ${DEMO_READONLY_API_KEY}` }), 403, 'forbidden');
    expectError(await post('/sandbox/events', { ...KEY, 'Content-Type': 'text/plain' }), 415, 'unsupported_media_type');
    expectError(await post('/sandbox/events', { ...KEY, 'Content-Type': 'application/x-www-form-urlencoded' }), 415, 'unsupported_media_type');
    expectError(await post('/sandbox/events', KEY), 415, 'unsupported_media_type');
    expect(sandbox.stats().storedEvents).toBe(18);
    expect((await post('/sandbox/events', { ...KEY, 'Content-Type': 'application/json; charset=utf-8' })).status).toBe(202);
    expect((await post('/v1/sandbox/events', { ...KEY, 'Content-Type': 'Application/JSON' })).status).toBe(202);
    expect(sandbox.stats().storedEvents).toBe(20);
    expectError(await post('/v1/sandbox/events', json), 401, 'unauthorized');
    // The API's own writes need JSON too.
    const sub = JSON.stringify(subscribeBody('http://127.0.0.1:9/hooks/1/'));
    expectError(await api(sandbox, 'POST', '/v1/notifications', { headers: { ...KEY, 'Content-Type': 'text/plain' }, raw: sub }), 415, 'unsupported_media_type');
    expect(sandbox.stats().subscriptions).toBe(0);

    const stats = await api(sandbox, 'GET', '/sandbox/stats', { headers: {} });
    const underBase = await api(sandbox, 'GET', '/v1/sandbox/stats', { headers: {} });
    expect(stats.status).toBe(200);
    expect(underBase).toMatchObject({ status: 200, json: stats.json });
    expect(underBase.json).toMatchObject({ storedEvents: 20, subscriptions: 0 });
    const wrong = await api(sandbox, 'GET', '/v1/sandbox/events');
    expectError(wrong, 405, 'method_not_allowed');
    expect(wrong.headers.get('allow')).toBe('POST');
  });

  test('the CLI fires with the demo key by default, and with --api-key', async () => {
    await start();
    const out: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((line: unknown) => void out.push(String(line)));
    const error = jest.spyOn(console, 'error').mockImplementation((line: unknown) => void out.push(String(line)));
    try {
      expect(await runCli(['fire', 'Audit:Create', '--url', sandbox.url, '--count', '2'])).toBe(0);
      expect(await runCli(['fire', 'Audit:Create', '--url', sandbox.apiBaseUrl, '--api-key', DEMO_READONLY_API_KEY])).toBe(1);
      expect(await runCli(['fire', 'Audit:Create', '--url', sandbox.url, '--data', '{"occurred_at":5}'])).toBe(1);
    } finally {
      log.mockRestore();
      error.mockRestore();
    }
    expect(out[0]).toMatch(/^fired Audit:Create x2: evt_\S+ evt_\S+$/);
    expect(out).toContain('sandbox: the sandbox answered 403: forbidden this API key lacks the notifications:write permission');
    expect(out.some((l) => l.includes('400: invalid_event_data'))).toBe(true);
    expect(sandbox.stats().storedEvents).toBe(20);
  });
});

// ---------------------------------------------------------------------------------------------

describe('observation hooks', () => {
  test('onExchange sees every response exactly as sent; a throwing observer changes nothing', async () => {
    const seen: Exchange[] = [];
    const sandbox = await startWatchedSandbox({
      onExchange: (x) => {
        seen.push(x);
        throw new Error('observer failure');
      },
    });
    try {
      const me = await api(sandbox, 'GET', '/v1/me/');
      const missing = await api(sandbox, 'GET', '/v1/nothing?x=1');
      const created = await api(sandbox, 'POST', '/v1/notifications', { body: subscribeBody('http://127.0.0.1:9/hooks/1/') });
      const deleted = await api(sandbox, 'DELETE', `/v1/notifications/${created.json.id}`);
      expect([me.status, missing.status, created.status, deleted.status]).toEqual([200, 404, 201, 204]);
      expect(seen.map((x) => [x.method, x.target, x.path, x.status])).toEqual([
        ['GET', '/v1/me/', '/v1/me', 200],
        ['GET', '/v1/nothing?x=1', '/v1/nothing', 404],
        ['POST', '/v1/notifications', '/v1/notifications', 201],
        ['DELETE', `/v1/notifications/${created.json.id}`, `/v1/notifications/${created.json.id}`, 204],
      ]);
      expect(seen.map((x) => x.body)).toEqual([me.text, missing.text, created.text, undefined]);
      expect(seen[0]!.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(seen[0]!.headers['content-length']).toBe(String(Buffer.byteLength(me.text)));
    } finally {
      await sandbox.close();
    }
  });

  test('onDelivery sees exactly the headers and body the receiver got, on every attempt', async () => {
    const received: Array<{ headers: Record<string, string>; body: string }> = [];
    let answers = [500, 200];
    const receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const headers: Record<string, string> = {};
        for (let i = 0; i < req.rawHeaders.length; i += 2) headers[req.rawHeaders[i]!.toLowerCase()] = req.rawHeaders[i + 1]!;
        received.push({ headers, body: Buffer.concat(chunks).toString('utf8') });
        const [status, ...rest] = answers;
        answers = rest;
        res.writeHead(status ?? 200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const port = (receiver.address() as net.AddressInfo).port;
    const sent: DeliveryRequest[] = [];
    const sandbox = await startWatchedSandbox({ delivery: FAST_SCHEDULE, onDelivery: (d) => sent.push(d) });
    try {
      const uri = `http://127.0.0.1:${port}/hooks/observed/`;
      const sub = await api(sandbox, 'POST', '/v1/notifications', { body: subscribeBody(uri) });
      const [eventId] = sandbox.fire('Audit:Create').event_ids;
      await sandbox.settled(SETTLE_BOUND_MS);
      expect(sent.map((d) => [d.subscriptionId, d.eventId, d.attempt, d.url])).toEqual([
        [sub.json.id, eventId, 1, uri],
        [sub.json.id, eventId, 2, uri],
      ]);
      expect(received).toHaveLength(2);
      for (const [i, r] of received.entries()) {
        expect(sent[i]!.headers).toEqual(r.headers);
        expect(sent[i]!.body).toBe(r.body);
      }
      expect(sent[0]!.body).toBe(sandbox.rawEvent(eventId!));
      expect(sent[0]!.headers).toMatchObject({ 'webhook-id': eventId, 'content-type': 'application/json' });
      expect(sent[0]!.headers['webhook-signature']).toMatch(/^v1,/);
    } finally {
      await sandbox.close();
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('the rendered reference at /docs', () => {
  let dir: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sandbox-docs-'));
    fs.writeFileSync(path.join(dir, 'reference.html'), '<!doctype html><title>Ecologic</title><p>Référence</p>');
    fs.writeFileSync(path.join(dir, 'openapi.yaml'), 'openapi: 3.1.0\ninfo:\n  title: Ecologic\n');
  });

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('GET /docs serves the HTML and /docs/openapi.yaml the document; other methods are 405', async () => {
    const sandbox = await startWatchedSandbox({ docs: { html: path.join(dir, 'reference.html'), openapi: path.join(dir, 'openapi.yaml') } });
    try {
      for (const target of ['/docs', '/docs/']) {
        const res = await api(sandbox, 'GET', target, { headers: {} });
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
        expect(res.text).toBe(fs.readFileSync(path.join(dir, 'reference.html'), 'utf8'));
        expect(res.headers.get('content-security-policy')).toBeNull();
      }
      const yaml = await api(sandbox, 'GET', '/docs/openapi.yaml', { headers: {} });
      expect(yaml.status).toBe(200);
      expect(yaml.headers.get('content-type')).toBe('application/yaml');
      expect(yaml.text).toBe('openapi: 3.1.0\ninfo:\n  title: Ecologic\n');
      const post = await api(sandbox, 'POST', '/docs', { headers: {} });
      expectError(post, 405, 'method_not_allowed');
      expect(post.headers.get('allow')).toBe('GET');
      // Only the two fixed files: nothing else under /docs, however it is spelt.
      for (const target of ['/docs/reference.html', '/docs/../package.json', '/docs/%2e%2e/package.json', '/docs/..%2fpackage.json']) {
        expectError(await api(sandbox, 'GET', target, { headers: {} }), 404, 'not_found');
      }
    } finally {
      await sandbox.close();
    }
  });

  test('a reference that is not built is a 404 saying how to build it', async () => {
    const sandbox = await startWatchedSandbox({ docs: { html: path.join(dir, 'missing.html'), openapi: path.join(dir, 'missing.yaml') } });
    try {
      const res = await api(sandbox, 'GET', '/docs', { headers: {} });
      expect(res.status).toBe(404);
      expect(res.json).toEqual({ error: { code: 'not_found', message: 'the API reference is not built: run npm run docs' } });
      expectError(await api(sandbox, 'GET', '/docs/openapi.yaml', { headers: {} }), 404, 'not_found');
    } finally {
      await sandbox.close();
    }
  });

  test('by default the files are found from the repository root', async () => {
    const root = path.resolve(__dirname, '..', '..');
    const sandbox = await startWatchedSandbox();
    try {
      for (const [target, file] of [
        ['/docs/openapi.yaml', path.join(root, 'docs', 'openapi.yaml')],
        ['/docs', path.join(root, 'dist', 'docs', 'reference.html')],
      ] as const) {
        const res = await api(sandbox, 'GET', target, { headers: {} });
        if (fs.existsSync(file)) expect({ status: res.status, text: res.text }).toEqual({ status: 200, text: fs.readFileSync(file, 'utf8') });
        else expectError(res, 404, 'not_found');
      }
    } finally {
      await sandbox.close();
    }
  });
});
