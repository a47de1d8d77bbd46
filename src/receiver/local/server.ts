/**
 * The receiver as a plain Node HTTP server: the same handler the Lambda runs, behind node:http.
 * Bodies are read up to the handler's limit (a larger declared length is refused unread), and a
 * request that stalls is cut off before the platform's own 15 s timeout would count it as lost.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ANSWER_WITHIN_MS, MAX_BODY_BYTES, type ReceiverHandler } from '../handler';
import type { ReceiverLog } from '../log';

/**
 * One delivery's answer, for an observer (the console): the status and JSON it was answered with,
 * the `webhook-id` header, how long it took, and the body when it was read. The body may hold
 * personal data: an observer keeps only what it needs (event names) and never logs it.
 */
export interface DeliveryAnswer {
  readonly status: number;
  readonly webhookId: string | undefined;
  readonly webhookTimestamp: string | undefined;
  readonly answer: string;
  readonly ms: number;
  readonly body: Buffer | undefined;
}

export interface ReceiverServer {
  /** e.g. http://127.0.0.1:8787/ */
  readonly url: string;
  readonly server: http.Server;
  close(): Promise<void>;
}

const sendRaw = (res: http.ServerResponse, status: number, headers: Record<string, string>, body: string) => {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) });
  res.end(body);
};

/** The body, or 'too_large' as soon as it passes the limit (a chunked body declares no length). */
const readBody = (req: http.IncomingMessage): Promise<Buffer | 'too_large' | 'aborted'> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        // Stop reading and keep nothing; the 413 is sent on this connection, then it closes.
        req.off('data', onData);
        req.pause();
        chunks.length = 0;
        resolve('too_large');
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    // The sender went away, or the request timeout cut a stalled upload: its slot is freed at once.
    req.on('close', () => {
      if (!req.complete) resolve('aborted');
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on('error', reject);
  });

/**
 * Bodies read at once, at most: each may hold up to 1 MiB in memory until it is verified, so this
 * bounds what uploads can take (64 MiB) however many connections send them. A delivery past it is
 * answered 503 with Retry-After unread, and the platform retries it.
 */
export const MAX_BODIES_IN_FLIGHT = 64;

/** Open connections at most; the platform sends a few at a time, so more is someone else. */
export const MAX_CONNECTIONS = 1_024;

const headersOf = (req: http.IncomingMessage): Record<string, string> => {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
};

export const startReceiverServer = async (
  handler: ReceiverHandler,
  options: {
    host: string;
    port: number;
    log: ReceiverLog;
    maxBodiesInFlight?: number;
    maxConnections?: number;
    /** How long the platform waits for an answer from when it sent the request (default ANSWER_WITHIN_MS). */
    answerWithinMs?: number;
    /** Told of every delivery's answer (not health checks, not deliveries abandoned unanswered). */
    onAnswer?: (answer: DeliveryAnswer) => void;
  },
): Promise<ReceiverServer> => {
  const { log } = options;
  const maxBodies = options.maxBodiesInFlight ?? MAX_BODIES_IN_FLIGHT;
  let bodiesInFlight = 0;
  const server = http.createServer(async (req, res) => {
    // The platform's wait for an answer starts when it sent the request, not when the body is read.
    const arrived = Date.now();
    const deadline = arrived + (options.answerWithinMs ?? ANSWER_WITHIN_MS);
    let body: Buffer | 'too_large' | 'aborted' | undefined;
    const send = (to: http.ServerResponse, status: number, headers: Record<string, string>, answer: string) => {
      sendRaw(to, status, headers, answer);
      if (!options.onAnswer) return;
      const header = (name: string) => {
        const value = req.headers[name];
        return Array.isArray(value) ? value[0] : value;
      };
      try {
        options.onAnswer({
          status,
          webhookId: header('webhook-id'),
          webhookTimestamp: header('webhook-timestamp'),
          answer,
          ms: Date.now() - arrived,
          body: Buffer.isBuffer(body) ? body : undefined,
        });
      } catch {
        // An observer's failure is never the delivery's.
      }
    };
    try {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method === 'GET' && path === '/health') {
        sendRaw(res, 200, { 'content-type': 'application/json' }, '{"status":"ok"}');
        return;
      }
      const headers = headersOf(req);
      // What the headers decide (wrong method, a signature that can never verify) costs no body read.
      const early = handler.refuseEarly?.({ method: req.method ?? 'GET', headers });
      if (early) {
        res.setHeader('connection', 'close');
        send(res, early.status, early.headers, early.body);
        return;
      }
      const tooLarge = (bytes: number | string) => {
        log.warn('delivery refused', { outcome: 'too_large', bytes });
        res.setHeader('connection', 'close');
        send(res, 413, { 'content-type': 'application/json' }, JSON.stringify({ error: 'too_large', message: `A delivery body may be at most ${MAX_BODY_BYTES} bytes.` }));
      };
      const declared = Number(req.headers['content-length']);
      if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) return tooLarge(declared);
      if (bodiesInFlight >= maxBodies) {
        log.warn('delivery deferred: too many bodies being read', { outcome: 'busy', bodies_in_flight: bodiesInFlight });
        res.setHeader('connection', 'close');
        send(res, 503, { 'content-type': 'application/json', 'retry-after': '1' }, '{"error":"busy","message":"The receiver is reading many deliveries; retry shortly."}');
        return;
      }
      bodiesInFlight += 1;
      try {
        body = await readBody(req);
      } finally {
        bodiesInFlight -= 1;
      }
      // Chunked, so only known once read past the limit.
      if (body === 'too_large') return tooLarge(`more than ${MAX_BODY_BYTES}`);
      if (body === 'aborted') {
        log.info('delivery abandoned before its body arrived', { outcome: 'aborted' });
        return;
      }
      const response = await handler({ method: req.method ?? 'GET', headers, body, deadline });
      send(res, response.status, response.headers, response.body);
    } catch (error) {
      // A bug, not a verdict on the delivery: 500, so the platform retries once it is fixed.
      log.error('delivery failed inside the receiver', { outcome: 'error', reason: error instanceof Error ? error.name : 'unknown' });
      send(res, 500, { 'content-type': 'application/json' }, '{"error":"internal","message":"The receiver failed; retry later."}');
    }
  });
  // Under the platform's 15 s: a stalled upload is cut off, not left to hold a socket.
  server.requestTimeout = 14_000;
  server.maxConnections = options.maxConnections ?? MAX_CONNECTIONS;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}/`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
};
