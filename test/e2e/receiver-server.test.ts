/**
 * `npm run receiver`'s HTTP server over real HTTP on 127.0.0.1, in this process: what it answers to
 * bodies over the limit, whether they declare their length or arrive chunked.
 */
import * as http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createReceiver, MAX_BODY_BYTES } from '../../src/receiver/handler';
import { memoryLog } from '../../src/receiver/log';
import { startReceiverServer, type ReceiverServer } from '../../src/receiver/local/server';
import type { DedupeStore } from '../../src/receiver/store';
import { openSqliteStore } from '../../src/receiver/stores/sqlite';
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

/** POSTs `chunks` with chunked transfer encoding (no content-length); resolves with the answer. */
const postChunked = (chunks: Buffer[], headers: Record<string, string> = {}): Promise<{ status: number; body: string }> =>
  new Promise((resolve, reject) => {
    const req = http.request(server.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
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

describe('bodies over the limit', () => {
  it('answers 413 with a log line to a chunked body that passes the limit, without reading the rest', async () => {
    const before = log.lines.length;
    const chunk = Buffer.alloc(256 * 1024, 'x');
    const answer = await postChunked(Array.from({ length: 8 }, () => chunk));
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ error: 'too_large' });
    expect(log.lines.slice(before)).toContainEqual(expect.objectContaining({ message: 'delivery refused', outcome: 'too_large', bytes: `more than ${MAX_BODY_BYTES}` }));
    expect(handOff.sent).toHaveLength(0);
  });

  it('answers 413 to a declared length over the limit before reading it', async () => {
    const before = log.lines.length;
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(server.url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(MAX_BODY_BYTES + 1) } }, (res) => {
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
