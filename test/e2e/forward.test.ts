/**
 * Forwarding to a real HTTP endpoint on 127.0.0.1 that answers with far more than an
 * acknowledgement: the forwarder reads a few KiB of it, not all of it, and still takes the status.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { forwardItem, MAX_ANSWER_BYTES } from '../../src/receiver/forward';
import { handOffItem } from '../support/receiver-kit';

const ANSWER_BYTES = 256 * 1024 * 1024;

/** An endpoint that answers `status` with ANSWER_BYTES of body, written only as fast as it is read. */
const startFloodingEndpoint = async (status: number) => {
  const counts = { requests: 0, written: 0, closedEarly: 0, finished: 0 };
  const chunk = Buffer.alloc(64 * 1024, 'x');
  const server = http.createServer((req, res) => {
    counts.requests += 1;
    req.resume();
    req.on('end', () => {
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(ANSWER_BYTES) });
      const pump = (): void => {
        while (counts.written < ANSWER_BYTES * counts.requests && !res.destroyed) {
          counts.written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('close', () => {
        if (res.writableFinished) counts.finished += 1;
        else counts.closedEarly += 1;
      });
      pump();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: new URL(`http://127.0.0.1:${port}/hooks/catch`),
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
};

describe('a target that answers with a flood', () => {
  it.each([
    [200, 'delivered'],
    [503, 'retry'],
  ])('HTTP %i: classified by its status after a few KiB, the rest never read', async (status, kind) => {
    const endpoint = await startFloodingEndpoint(status);
    try {
      const outcome = await forwardItem(endpoint.url, handOffItem('quote_request_created', 'evt_flood'), { timeoutMs: 60_000 });
      expect(outcome.kind).toBe(kind);
      // Socket buffers let the endpoint write ahead of what was read; a few MiB at most, not 256.
      // The endpoint learns it either way: the connection closes early, or the whole answer went.
      await new Promise<void>((resolve) => {
        const check = () => (endpoint.counts.closedEarly + endpoint.counts.finished > 0 ? resolve() : setTimeout(check, 20));
        check();
      });
      expect(endpoint.counts).toMatchObject({ closedEarly: 1, finished: 0 });
      expect(endpoint.counts.written).toBeLessThan(32 * 1024 * 1024);
      expect(MAX_ANSWER_BYTES).toBeLessThanOrEqual(16 * 1024);
    } finally {
      await endpoint.close();
    }
  }, 90_000);
});
