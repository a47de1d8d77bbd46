/**
 * `npm run receiver`'s HTTP server over real HTTP on 127.0.0.1, in this process: what it answers to
 * bodies over the limit, whether they declare their length or arrive chunked, and how little an
 * unsigned or piled-up upload can make it hold.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createReceiver, MAX_BODY_BYTES } from '../../src/receiver/handler';
import { memoryLog } from '../../src/receiver/log';
import { MAX_CONNECTIONS, startReceiverServer, type ReceiverServer } from '../../src/receiver/local/server';
import type { DedupeStore } from '../../src/receiver/store';
import { openSqliteStore } from '../../src/receiver/stores/sqlite';
import { within } from '../support/bounded-wait';
import { fixture, RecordingHandOff, SECRET, signed } from '../support/receiver-kit';

let dir: string;
let store: DedupeStore;
let server: ReceiverServer;
const log = memoryLog();
const handOff = new RecordingHandOff();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'receiver-server-'));
  store = openSqliteStore(join(dir, 'receiver.db'));
  server = await startReceiverServer(createReceiver({ secrets: () => [SECRET], store, handOff, log }), { host: '127.0.0.1', port: 0, log });
});

afterAll(async () => {
  await server.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * A POST to `url` in the one-argument form of http.request: zapier-platform-core, loaded by other
 * suites in the same worker, patches http.request in a way that breaks the (url, options) form.
 */
const post = (url: string, headers: Record<string, string>, onResponse?: (res: http.IncomingMessage) => void): http.ClientRequest => {
  const { hostname, port, pathname } = new URL(url);
  return http.request({ method: 'POST', hostname, port, path: pathname, headers }, onResponse);
};

/** POSTs `chunks` with chunked transfer encoding (no content-length); resolves with the answer. */
const postChunked = (chunks: Buffer[], headers: Record<string, string> = {}): Promise<{ status: number; body: string }> =>
  new Promise((resolve, reject) => {
    const req = post(server.url, { 'content-type': 'application/json', ...headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    // Bounded: a server that stops reading without answering would otherwise hold the test.
    req.setTimeout(20_000, () => {
      req.destroy();
      reject(new Error('no answer within 20 s'));
    });
    // The server may close while chunks are still being written: the answer is what counts.
    req.on('error', (error) => (req.writableEnded ? undefined : reject(error)));
    const write = (index: number): void => {
      if (index === chunks.length) return void req.end();
      if (req.destroyed) return;
      if (req.write(chunks[index]!)) write(index + 1);
      else req.once('drain', () => write(index + 1));
    };
    write(0);
  });

/** Headers that pass every check short of the HMAC: the body decides. */
const plausibleHeaders = (): Record<string, string> => ({
  'webhook-id': `msg_${Math.random().toString(36).slice(2, 10)}`,
  'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
  'webhook-signature': `v1,${Buffer.alloc(32, 1).toString('base64')}`,
});

describe('bodies over the limit', () => {
  it('answers 413 with a log line to a chunked body that passes the limit, without reading the rest', async () => {
    const before = log.lines.length;
    const chunk = Buffer.alloc(256 * 1024, 'x');
    const answer = await postChunked(Array.from({ length: 8 }, () => chunk), plausibleHeaders());
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ error: 'too_large' });
    expect(log.lines.slice(before)).toContainEqual(expect.objectContaining({ message: 'delivery refused', outcome: 'too_large', bytes: `more than ${MAX_BODY_BYTES}` }));
    expect(handOff.sent).toHaveLength(0);
  });

  it('answers 413 to a declared length over the limit before reading it', async () => {
    const before = log.lines.length;
    const status = await new Promise<number>((resolve, reject) => {
      const req = post(server.url, { 'content-type': 'application/json', 'content-length': String(MAX_BODY_BYTES + 1), ...plausibleHeaders() }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.flushHeaders();
    });
    expect(status).toBe(413);
    expect(log.lines.slice(before)).toContainEqual(expect.objectContaining({ outcome: 'too_large', bytes: MAX_BODY_BYTES + 1 }));
  });

  it('still takes a chunked delivery under the limit', async () => {
    const request = signed(fixture('audit_created'));
    const raw = Buffer.from(request.body as string);
    const answer = await postChunked([raw.subarray(0, 100), raw.subarray(100)], request.headers as Record<string, string>);
    expect(answer.status).toBe(200);
    expect(handOff.sent).toHaveLength(1);
  });
});

/** Sends headers (and `partial` bytes of a body that declares 1 MiB), then holds; resolves with the answer if one comes. */
const holdUpload = (url: string, headers: Record<string, string>, partial: number) => {
  const req = post(url, { 'content-type': 'application/json', 'content-length': String(1024 * 1024), ...headers });
  const answer = new Promise<{ status: number; retryAfter: string | undefined }>((resolve, reject) => {
    req.on('response', (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] as string | undefined });
    });
    req.on('error', reject);
  });
  answer.catch(() => undefined);
  if (partial > 0) req.write(Buffer.alloc(partial, 'x'));
  else req.flushHeaders();
  return { req, answer };
};


describe('the answer deadline', () => {
  it('counts the time the body took to arrive: a delivery read too late is answered 503 at once, nothing claimed', async () => {
    const slow = await startReceiverServer(createReceiver({ secrets: () => [SECRET], store, handOff, log }), { host: '127.0.0.1', port: 0, log, answerWithinMs: 1_500 });
    try {
      const body = { ...fixture('audit_simulated'), event_id: 'evt_slow_upload' };
      const request = signed(body);
      const bytes = Buffer.from(request.body as string);
      const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = post(slow.url, { ...(request.headers as Record<string, string>), 'content-length': String(bytes.length) }, (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        });
        req.on('error', reject);
        // Half the body now, the rest once the platform's wait is all but over.
        req.write(bytes.subarray(0, 10));
        setTimeout(() => req.end(bytes.subarray(10)), 1_000);
      });
      const { status, text } = await within(answer, { what: 'the answer to a slow upload', timeoutMs: 20_000 });
      expect(status).toBe(503);
      expect(JSON.parse(text)).toMatchObject({ error: 'unavailable' });
      expect(log.lines).toContainEqual(expect.objectContaining({ outcome: 'unavailable', stage: 'arrival' }));
      expect(await store.lookup({ event: 'Audit:Simulate', eventId: 'evt_slow_upload' }, new Date())).toBeUndefined();
    } finally {
      await slow.close();
    }
  });
});

describe('uploads that cost memory', () => {
  it('answers 401 to an unsigned upload from its headers alone, without waiting for its body', async () => {
    const before = log.lines.length;
    const { req, answer } = holdUpload(server.url, {}, 0);
    try {
      expect(await within(answer, { what: 'an answer before the body', timeoutMs: 20_000 })).toMatchObject({ status: 401 });
      expect(log.lines.slice(before)).toContainEqual(expect.objectContaining({ outcome: 'rejected_signature', reason: 'the webhook-id header is missing' }));
    } finally {
      req.destroy();
    }
  });

  it('reads a bounded number of bodies at once: one past them is answered 503 with Retry-After, unread', async () => {
    const small = await startReceiverServer(createReceiver({ secrets: () => [SECRET], store, handOff, log }), { host: '127.0.0.1', port: 0, log, maxBodiesInFlight: 3 });
    const held = Array.from({ length: 3 }, () => holdUpload(small.url, plausibleHeaders(), 1024));
    try {
      // Held uploads are being read once the server has seen their bytes: wait for that, bounded.
      const deadline = Date.now() + 20_000;
      let extra = holdUpload(small.url, plausibleHeaders(), 1024);
      let first = await within(extra.answer, { what: 'an answer to the upload past the cap', timeoutMs: 20_000 });
      while (first.status !== 503 && Date.now() < deadline) {
        extra.req.destroy();
        await new Promise((resolve) => setTimeout(resolve, 50));
        extra = holdUpload(small.url, plausibleHeaders(), 1024);
        first = await within(extra.answer, { what: 'an answer to the upload past the cap', timeoutMs: 20_000 });
      }
      expect(first).toEqual({ status: 503, retryAfter: '1' });
      expect(log.lines).toContainEqual(expect.objectContaining({ outcome: 'busy', bodies_in_flight: 3 }));
      extra.req.destroy();
      // The senders give up: their slots are free again, and a real delivery is taken.
      for (const upload of held) upload.req.destroy();
      const request = signed(fixture('audit_assigned'));
      let status = 0;
      while (Date.now() < deadline) {
        const response = await fetch(small.url, { method: 'POST', headers: request.headers as Record<string, string>, body: request.body as string });
        status = response.status;
        await response.arrayBuffer();
        if (status !== 503) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(status).toBe(200);
    } finally {
      for (const upload of held) upload.req.destroy();
      await small.close();
    }
  });

  it('caps open connections: one past the cap is closed at once', async () => {
    expect(MAX_CONNECTIONS).toBe(1_024);
    expect(server.server.maxConnections).toBe(MAX_CONNECTIONS);
    const small = await startReceiverServer(createReceiver({ secrets: () => [SECRET], store, handOff, log }), { host: '127.0.0.1', port: 0, log, maxConnections: 2 });
    const { port } = new URL(small.url);
    const open = (): Promise<net.Socket> =>
      new Promise((resolve, reject) => {
        const socket = net.connect(Number(port), '127.0.0.1', () => resolve(socket));
        socket.on('error', reject);
      });
    const kept = [await open(), await open()];
    try {
      // Each of the two is accepted before the third arrives: wait until the server counts them.
      const deadline = Date.now() + 20_000;
      let count = 0;
      while (count < 2 && Date.now() < deadline) {
        count = await new Promise<number>((resolve) => small.server.getConnections((_error, n) => resolve(n)));
        if (count < 2) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(count).toBe(2);
      const third = await open();
      await within(new Promise<void>((resolve) => third.once('close', () => resolve())), { what: 'the connection past the cap to be closed', timeoutMs: 20_000 });
      third.on('error', () => undefined);
    } finally {
      for (const socket of kept) socket.destroy();
      await small.close();
    }
  });
});
