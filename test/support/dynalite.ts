/**
 * DynamoDB's API on 127.0.0.1 for end-to-end tests: dynalite in this process, in memory, on a free
 * port. Tables are ACTIVE at once. dynalite has no TTL (items never expire by themselves, like a
 * late DynamoDB TTL) and ignores ReturnValuesOnConditionCheckFailure.
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { Server } from 'node:http';
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

export async function startDynalite(): Promise<LocalDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      (closing ??= new Promise<void>((resolve, reject) => {
        server.close((error?: Error) => (error ? reject(error) : resolve()));
        // After close(), so keep-alive sockets of clients not yet destroyed do not hold it open.
        server.closeAllConnections();
      })),
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
