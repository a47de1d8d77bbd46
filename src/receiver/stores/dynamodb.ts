/**
 * The de-duplication store on AWS: one DynamoDB table, shared by every Lambda instance.
 *
 * Item (one per event, readable as is in the console):
 *   event_id    S  partition key: the event name and the item's `id`, as sent, joined by `/`
 *                  (e.g. `RequestQuote:Create/evt_01JD…`): ids are often numbered per event type
 *   id          S  the item's `id` alone
 *   event       S  the event name (e.g. `RequestQuote:Create`)
 *   state       S  'in_progress' | 'handed_off'
 *   token       S  the claim's random token (only its holder may complete/release)
 *   since       S  ISO-8601: when claimed, or when handed off
 *   lease_until N  epoch MILLISECONDS: end of the claim's lease (absent once handed off)
 *   expires_at  N  epoch SECONDS (the table's TTL attribute): the lease end, rounded up, while in
 *                  progress; the end of the retention, rounded up, once handed off
 *
 * DynamoDB's TTL deletes expired items late (up to days), so an item that is still there is not
 * taken as live: expiry is checked inside every condition, and `lookup` checks it too. A claim is
 * one conditional PutItem, so of any number of concurrent claims exactly one wins.
 *
 * The client is injected and owned by the caller (close() does not destroy it). Keep each call
 * bounded well below the platform's 15 s answer timeout, e.g.:
 *
 *   new DynamoDBClient({
 *     maxAttempts: 3, // the SDK's retries, throttling included
 *     // Per attempt. Without throwOnRequestTimeout, @smithy/node-http-handler 4.x only WARNS when
 *     // requestTimeout passes and the request goes on waiting.
 *     requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000, throwOnRequestTimeout: true },
 *   })
 *
 * and `callTimeoutMs` (default 5 s) aborts a whole call, retries included, whatever the client.
 */
import {
  type AttributeValue,
  BatchGetItemCommand,
  type BatchGetItemCommandOutput,
  type ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { randomUUID } from 'node:crypto';

import {
  type ClaimOutcome,
  DEFAULT_STORE_OPTIONS,
  type DedupeStore,
  type EventRef,
  eventKey,
  type StoredEvent,
  type StoreOptions,
  StoreUnavailableError,
} from '../store';

export interface DynamoDbStoreOptions extends StoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Aborts one store call, the SDK's retries included (default 5 s). */
  readonly callTimeoutMs?: number;
}

export const DEFAULT_CALL_TIMEOUT_MS = 5_000;

/** A claim whose race we lost but whose winner vanished before we read it is retried this often. */
const CLAIM_ATTEMPTS = 3;

type Item = Record<string, AttributeValue>;

/** Every attribute by placeholder: `state`, `token` and friends are DynamoDB reserved words or may become ones. */
const NAMES = {
  '#event_id': 'event_id',
  '#event': 'event',
  '#state': 'state',
  '#token': 'token',
  '#since': 'since',
  '#lease_until': 'lease_until',
  '#expires_at': 'expires_at',
} as const;

/** The ExpressionAttributeNames for the placeholders an expression uses (DynamoDB rejects unused ones). */
function names(...keys: Array<keyof typeof NAMES>): Record<string, string> {
  return Object.fromEntries(keys.map((k) => [k, NAMES[k]]));
}

/**
 * Not live: absent, past its expiry (TTL not yet applied), or a claim whose lease lapsed.
 * `expires_at <= :nowSeconds` with nowSeconds = floor(now / 1000) is exactly `now >= expires_at * 1000`.
 */
const CLAIMABLE =
  'attribute_not_exists(#event_id) OR #expires_at <= :nowSeconds OR (#state = :inProgress AND #lease_until <= :nowMs)';

export class DynamoDbStore implements DedupeStore {
  readonly description: string;
  private readonly client: DynamoDBClient;
  private readonly tableName: string;
  private readonly retentionMs: number;
  private readonly leaseMs: number;
  private readonly callTimeoutMs: number;
  private closed = false;

  constructor(options: DynamoDbStoreOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.retentionMs = (options.retentionSeconds ?? DEFAULT_STORE_OPTIONS.retentionSeconds) * 1000;
    this.leaseMs = options.leaseMs ?? DEFAULT_STORE_OPTIONS.leaseMs;
    this.callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.description = `dynamodb:${options.tableName}`;
  }

  async claim(ref: EventRef, now: Date): Promise<ClaimOutcome> {
    const nowMs = now.getTime();
    for (let attempt = 1; ; attempt++) {
      const token = randomUUID();
      const leaseUntil = nowMs + this.leaseMs;
      try {
        await this.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: {
              event_id: { S: eventKey(ref) },
              id: { S: ref.eventId },
              event: { S: ref.event },
              state: { S: 'in_progress' },
              token: { S: token },
              since: { S: now.toISOString() },
              lease_until: { N: String(leaseUntil) },
              expires_at: { N: String(Math.ceil(leaseUntil / 1000)) },
            },
            ConditionExpression: CLAIMABLE,
            ExpressionAttributeNames: names('#event_id', '#expires_at', '#state', '#lease_until'),
            ExpressionAttributeValues: {
              ':nowSeconds': { N: String(Math.floor(nowMs / 1000)) },
              ':nowMs': { N: String(nowMs) },
              ':inProgress': { S: 'in_progress' },
            },
            // DynamoDB returns the blocking item with the failure (saves a read); dynalite ignores it.
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return { kind: 'claimed', token };
      } catch (error) {
        if (!isConditionFailure(error)) throw this.unavailable(error);
        let blocking = error.Item;
        if (blocking === undefined) {
          try {
            blocking = await this.read(ref);
          } catch (readError) {
            throw this.unavailable(readError);
          }
        }
        const holder = liveRecord(blocking, nowMs);
        // Our own put, written by an attempt whose answer was lost and then retried by the SDK.
        if (holder?.state === 'in_progress' && blocking?.token?.S === token) return { kind: 'claimed', token };
        if (holder?.state === 'handed_off') return { kind: 'duplicate' };
        if (holder?.state === 'in_progress') {
          // Whole milliseconds left of the holder's lease, at least 1 and never more than one lease.
          return { kind: 'in_progress', retryAfterMs: Math.min(this.leaseMs, Math.max(1, Math.ceil(holder.leaseUntil - nowMs))) };
        }
        // The blocking item was released (or expired) between our put and our read: try again.
        if (attempt >= CLAIM_ATTEMPTS) return { kind: 'in_progress', retryAfterMs: 1 };
      }
    }
  }

  async complete(ref: EventRef, token: string, now: Date): Promise<boolean> {
    try {
      await this.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { event_id: { S: eventKey(ref) } },
          UpdateExpression: 'SET #state = :handedOff, #since = :since, #expires_at = :expiresAt REMOVE #lease_until',
          ConditionExpression: '#token = :token',
          ExpressionAttributeNames: names('#state', '#since', '#expires_at', '#lease_until', '#token'),
          ExpressionAttributeValues: {
            ':handedOff': { S: 'handed_off' },
            ':since': { S: now.toISOString() },
            ':expiresAt': { N: String(Math.ceil((now.getTime() + this.retentionMs) / 1000)) },
            ':token': { S: token },
          },
        }),
      );
      return true;
    } catch (error) {
      // The claim lapsed and another delivery took it over (or the item is gone).
      if (isConditionFailure(error)) return false;
      throw this.unavailable(error);
    }
  }

  async release(ref: EventRef, token: string): Promise<void> {
    try {
      await this.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: { event_id: { S: eventKey(ref) } },
          // Only a claim still in progress is forgotten: a handed-off event must stay remembered.
          ConditionExpression: '#token = :token AND #state = :inProgress',
          ExpressionAttributeNames: names('#token', '#state'),
          ExpressionAttributeValues: { ':token': { S: token }, ':inProgress': { S: 'in_progress' } },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) return; // taken over: not ours to delete
      throw this.unavailable(error);
    }
  }

  async lookup(ref: EventRef, now: Date): Promise<StoredEvent | undefined> {
    let item: Item | undefined;
    try {
      item = await this.read(ref);
    } catch (error) {
      throw this.unavailable(error);
    }
    const record = liveRecord(item, now.getTime());
    if (record === undefined) return undefined;
    return { eventId: record.eventId, event: record.event, state: record.state, since: record.since, until: new Date(record.untilMs).toISOString() };
  }

  async handedOff(refs: readonly EventRef[], now: Date): Promise<ReadonlySet<string>> {
    const nowMs = now.getTime();
    const keys = [...new Set(refs.map(eventKey))];
    const found = new Set<string>();
    const chunks: string[][] = [];
    for (let at = 0; at < keys.length; at += BATCH_GET_KEYS) chunks.push(keys.slice(at, at + BATCH_GET_KEYS));
    try {
      await Promise.all(
        chunks.map(async (chunk) => {
          let pending: Array<Record<string, AttributeValue>> = chunk.map((key) => ({ event_id: { S: key } }));
          // Keys DynamoDB left unprocessed (throttling) are asked again a few times, then left to the claims.
          for (let attempt = 1; attempt <= BATCH_GET_ATTEMPTS && pending.length > 0; attempt++) {
            const answer = (await this.send(
              new BatchGetItemCommand({
                RequestItems: {
                  [this.tableName]: {
                    Keys: pending,
                    ConsistentRead: true,
                    ProjectionExpression: '#event_id, #state, #expires_at, #lease_until',
                    ExpressionAttributeNames: names('#event_id', '#state', '#expires_at', '#lease_until'),
                  },
                },
              }),
            )) as unknown as BatchGetItemCommandOutput;
            for (const item of answer.Responses?.[this.tableName] ?? []) {
              if (liveRecord(item, nowMs)?.state === 'handed_off' && item.event_id?.S !== undefined) found.add(item.event_id.S);
            }
            pending = answer.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
          }
        }),
      );
    } catch (error) {
      throw this.unavailable(error);
    }
    return found;
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  private async read(ref: EventRef): Promise<Item | undefined> {
    const got = await this.send(new GetItemCommand({ TableName: this.tableName, Key: { event_id: { S: eventKey(ref) } }, ConsistentRead: true }));
    return got.Item;
  }

  private send<T extends PutItemCommand | UpdateItemCommand | DeleteItemCommand | GetItemCommand | BatchGetItemCommand>(command: T) {
    if (this.closed) throw new StoreUnavailableError(`${this.description} unavailable: the store is closed`);
    // The union of commands confuses send()'s overloads; each call site knows its output type.
    return this.client.send(command as GetItemCommand, { abortSignal: AbortSignal.timeout(this.callTimeoutMs) });
  }

  private unavailable(error: unknown): StoreUnavailableError {
    if (error instanceof StoreUnavailableError) return error;
    return new StoreUnavailableError(`${this.description} unavailable (${failureKind(error)})`);
  }
}

/** DynamoDB's cap on the keys of one BatchGetItem. */
const BATCH_GET_KEYS = 100;
const BATCH_GET_ATTEMPTS = 3;

/** By name, not instanceof: the injected client may come from another copy of the SDK. */
function isConditionFailure(error: unknown): error is ConditionalCheckFailedException {
  return (error as { name?: unknown } | null)?.name === 'ConditionalCheckFailedException';
}

interface LiveRecord {
  eventId: string;
  event: string;
  state: 'in_progress' | 'handed_off';
  since: string;
  leaseUntil: number;
  untilMs: number;
}

/** The item as a record if it is live at nowMs (the same rule as CLAIMABLE, negated). */
function liveRecord(item: Item | undefined, nowMs: number): LiveRecord | undefined {
  if (item === undefined) return undefined;
  const state = item.state?.S;
  const expiresAtMs = Number(item.expires_at?.N) * 1000;
  const leaseUntil = Number(item.lease_until?.N);
  const base = { eventId: item.id?.S ?? '', event: item.event?.S ?? '', since: item.since?.S ?? '' };
  if (!(nowMs < expiresAtMs)) return undefined; // NaN (no expires_at) reads as expired
  if (state === 'handed_off') return { ...base, state, leaseUntil: Number.NaN, untilMs: expiresAtMs };
  if (state === 'in_progress' && nowMs < leaseUntil) return { ...base, state, leaseUntil, untilMs: leaseUntil };
  return undefined;
}

const THROTTLED = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'LimitExceededException',
]);
const DENIED = new Set(['AccessDeniedException', 'UnrecognizedClientException', 'InvalidSignatureException', 'ExpiredTokenException', 'MissingAuthenticationTokenException']);
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ECONNABORTED']);

function knownCodeIn(message: unknown): string | undefined {
  if (typeof message !== 'string') return undefined;
  return [...UNREACHABLE, 'ETIMEDOUT'].find((code) => new RegExp(`\\b${code}\\b`).test(message));
}

/**
 * The kind of failure and the error's name/code (e.g. `unreachable: ECONNREFUSED`), never its
 * message: a service's message may quote a key or a value.
 */
function failureKind(error: unknown): string {
  const e = (error ?? {}) as { name?: unknown; code?: unknown; $metadata?: { httpStatusCode?: number } };
  const name = typeof e.name === 'string' ? e.name : 'Error';
  // A socket error the SDK could not recognise as an Error (one from another realm, as under jest)
  // arrives stringified into a wrapper's message: only a known code is taken from it.
  const code = typeof e.code === 'string' ? e.code : knownCodeIn((error as { message?: unknown })?.message);
  const label = code !== undefined && code !== name ? `${name} ${code}` : name;
  let kind = 'error';
  if (THROTTLED.has(name)) kind = 'throttled';
  else if (name === 'TimeoutError' || name === 'AbortError' || code === 'ETIMEDOUT' || code === 'ESOCKETTIMEDOUT') kind = 'timed out';
  else if (code !== undefined && UNREACHABLE.has(code)) kind = 'unreachable';
  else if (name === 'ResourceNotFoundException') kind = 'table not found';
  else if (DENIED.has(name)) kind = 'access denied';
  else if ((e.$metadata?.httpStatusCode ?? 0) >= 500) kind = 'server error';
  return `${kind}: ${label}`;
}

/**
 * Creates the table (on-demand capacity) for local and dynalite runs, and waits until it is
 * active; an existing table is left as it is. On AWS the CDK stack creates it, with TTL on
 * `expires_at` (dynalite has no UpdateTimeToLive, and needs none: expiry is in the conditions).
 */
export async function createDedupeTable(client: DynamoDBClient, tableName: string, timeoutMs = 60_000): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [{ AttributeName: 'event_id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'event_id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  } catch (error) {
    if ((error as { name?: unknown }).name !== 'ResourceInUseException') throw error;
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === 'ACTIVE') return;
    if (Date.now() > deadline) throw new Error(`table ${tableName} not active after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
