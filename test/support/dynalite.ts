/**
 * DynamoDB's API on 127.0.0.1 for end-to-end tests: dynalite in this process, in memory, on a free
 * port. Tables are ACTIVE at once. dynalite has no TTL (items never expire by themselves, like a
 * late DynamoDB TTL) and ignores ReturnValuesOnConditionCheckFailure.
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// dynalite ships no types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (options: { createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }) => Server;

export interface LocalDynamo {
  /** e.g. `http://127.0.0.1:41234` */
  readonly endpoint: string;
  /** Stops the server (open connections included); a client to `endpoint` then gets ECONNREFUSED. */
  close(): Promise<void>;
}

/** The most `close()` waits for requests dynalite is still working on (a busy machine slows it). */
const DRAIN_MS = 15_000;

export async function startDynalite(): Promise<LocalDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  // dynalite closes its in-memory database with the server, and a write it is still doing then
  // throws "Database is closed" outside any callback, failing the whole test file. So requests
  // are counted until dynalite answers them, closing waits for none to be left, and requests that
  // arrive once closing has begun are turned away without reaching dynalite.
  const [dynaliteHandler] = server.listeners('request') as Array<(req: IncomingMessage, res: ServerResponse) => void>;
  server.removeAllListeners('request');
  let working = 0;
  let closingStarted = false;
  const drained: Array<() => void> = [];
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (closingStarted) {
      res.writeHead(503, { connection: 'close' }).end();
      return;
    }
    working += 1;
    let answered = false;
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    res.end = ((...args: unknown[]) => {
      if (!answered) {
        answered = true;
        working -= 1;
        if (working === 0) for (const resolve of drained.splice(0)) resolve();
      }
      return end(...args);
    }) as ServerResponse['end'];
    dynaliteHandler!.call(server, req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  const noneWorking = () =>
    new Promise<void>((resolve) => {
      if (working === 0) return resolve();
      const timer = setTimeout(resolve, DRAIN_MS);
      drained.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      (closing ??= (async () => {
        closingStarted = true;
        await noneWorking();
        await new Promise<void>((resolve, reject) => {
          server.close((error?: Error) => (error ? reject(error) : resolve()));
          // After close(), so keep-alive sockets of clients not yet destroyed do not hold it open.
          server.closeAllConnections();
        });
      })()),
  };
}

/**
 * A client for a local endpoint: dummy credentials, region 'local', few retries. A dead endpoint
 * refuses the connection, which fails at once; the timeouts are only for an endpoint that does not
 * answer, and are far above what dynalite takes: it runs in the test's own process and slows down
 * with it on a busy machine (a race of 160 claims has taken seconds there).
 */
export function localDynamoClient(endpoint: string, overrides: Partial<DynamoDBClientConfig> = {}): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 2,
    // throwOnRequestTimeout: without it the handler only warns when requestTimeout passes.
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 15_000, throwOnRequestTimeout: true },
    ...overrides,
  });
}
