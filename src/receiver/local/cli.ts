/**
 * `npm run receiver`: the receiver on one machine, nothing else to install. Handed-off items are
 * JSON lines on standard output (pipe them into anything); logs are JSON lines on standard error,
 * the first of which says the URL it listens on. Configuration: see ../config.ts.
 */
import { join } from 'node:path';
import { ConfigError, readConfig, type ReceiverConfig } from '../config';
import { forwardTarget } from '../forward';
import { createReceiver } from '../handler';
import { jsonLog, type ReceiverLog } from '../log';
import type { DedupeStore } from '../store';
import type { HandOffJournal } from '../hand-off';
import { deliveryActivity, type DeliveryActivity } from './console/activity';
import { startReceiverConsole, type ReceiverConsole } from './console/routes';
import { startLocalForwarder } from './forwarder';
import { openLocalDatabase } from './journal';
import { openSqliteOutbox, type SqliteOutbox } from './outbox';
import { startReceiverServer } from './server';

/** The receiver's database under DATA_DIR: the de-duplication store and the outbox, one file. */
export const databaseFile = (dataDir: string): string => join(dataDir, 'receiver.db');

const openDynamoStore = async (config: ReceiverConfig & { store: { kind: 'dynamodb' } }, log: ReceiverLog): Promise<DedupeStore> => {
  // Loaded only when asked for: the default receiver needs no AWS SDK.
  const { DynamoDBClient } = require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb');
  const { DynamoDbStore, createDedupeTable } = require('../stores/dynamodb') as typeof import('../stores/dynamodb');
  const { table, endpoint, region } = config.store;
  // Bounded, so a store that does not answer is a 503 (the platform retries) well inside its 15 s:
  // each attempt and the whole call (both attempts) within STORE_TIMEOUT_MS.
  const callTimeoutMs = config.storeTimeoutMs;
  const client = new DynamoDBClient({
    region,
    maxAttempts: 2,
    requestHandler: { connectionTimeout: Math.min(1_000, callTimeoutMs), requestTimeout: Math.min(3_000, callTimeoutMs), throwOnRequestTimeout: true },
    ...(endpoint ? { endpoint, credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'local', secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'local' } } : {}),
  });
  if (endpoint) {
    // A local DynamoDB (dynalite, DynamoDB Local) starts empty; on AWS the CDK stack owns the table.
    await createDedupeTable(client, table);
    log.info('store table ready', { table });
  }
  return new DynamoDbStore({ client, tableName: table, leaseMs: config.leaseMs, callTimeoutMs });
};

export const main = async (env: NodeJS.ProcessEnv = process.env): Promise<void> => {
  const log = jsonLog();
  let config: ReceiverConfig;
  try {
    config = readConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`The receiver cannot start: ${error.message}\n`);
    process.exitCode = 2;
    return;
  }
  const target = config.forwardUrl === undefined ? undefined : forwardTarget(config.forwardUrl);
  // Set once the reader of standard output went away: then nothing more can be handed off here.
  let onLinesClosed: (reason: string) => void = () => undefined;
  const outboxOptions = { lines: process.stdout, forwarding: target !== undefined, onLinesClosed: (reason: string) => onLinesClosed(reason) };
  let store: DedupeStore;
  let outbox: SqliteOutbox;
  let journal: HandOffJournal | undefined;
  if (config.store.kind === 'sqlite') {
    // The store and the outbox in one file, on one connection: each delivery's claims, items and
    // completions are one transaction, shared with the deliveries that arrive with it.
    ({ store, outbox, journal } = openLocalDatabase(databaseFile(config.dataDir), {
      store: { leaseMs: config.leaseMs },
      outbox: outboxOptions,
      onCheckpointerFailure: (reason) => log.warn('the checkpoint worker could not run: commits checkpoint the file themselves', { reason }),
    }));
  } else {
    store = await openDynamoStore({ ...config, store: config.store }, log);
    outbox = openSqliteOutbox(databaseFile(config.dataDir), outboxOptions);
  }
  // Items an earlier reader never got (it stopped, or the receiver was stopped mid-write) go first:
  // written out again, or handed to the forwarder when this start forwards.
  const resent = await outbox.resendUnsent();
  if (resent > 0) {
    log.info(target === undefined ? 'items written again: an earlier reader did not get them' : 'items an earlier reader did not get are forwarded', { items: resent });
  }
  const forwarder = target === undefined ? undefined : startLocalForwarder(outbox, { target, log });
  const handler = createReceiver({ secrets: () => config.secrets, store, handOff: outbox, ...(journal ? { journal } : {}), log });
  // The console (CONSOLE_PORT) sees each delivery's answer; without it nothing is kept.
  const activity: DeliveryActivity | undefined = config.consolePort === undefined ? undefined : deliveryActivity();
  const server = await startReceiverServer(handler, {
    host: config.host,
    port: config.port,
    log,
    ...(activity ? { onAnswer: (answer: Parameters<DeliveryActivity['record']>[0]) => void activity.record(answer) } : {}),
  });
  let consoleServer: ReceiverConsole | undefined;
  if (activity !== undefined && config.consolePort !== undefined) {
    try {
      consoleServer = await startReceiverConsole({ port: config.consolePort, outbox, activity, forwarding: target !== undefined, log });
    } catch (error) {
      await server.close();
      throw new Error(`the console could not listen on 127.0.0.1:${config.consolePort} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  log.info(`listening on ${server.url}`, {
    url: server.url,
    store: store.description,
    hand_off: outbox.description,
    forwarding_to: target?.origin ?? null,
    secrets: config.secrets.length,
    console: consoleServer?.url ?? null,
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('stopping', { signal });
    await consoleServer?.close();
    await server.close();
    await forwarder?.stop();
    await outbox.close();
    await store.close();
    log.info('stopped');
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  // The reader went away (EPIPE): deliveries are answered 503 from now on, and the receiver stops
  // cleanly so whatever runs the pipeline can start it again; unsent items are written at that start.
  onLinesClosed = (reason) => {
    if (target !== undefined) return; // forwarding: the lines were a courtesy
    log.error('standard output closed: no more items can be handed off; stopping', { outcome: 'unavailable', reason, stage: 'hand-off' });
    process.exitCode = 3;
    void stop('standard output closed');
  };
};

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`The receiver stopped: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
