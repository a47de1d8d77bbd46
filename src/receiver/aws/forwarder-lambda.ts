/**
 * The forwarder Lambda: drains the hand-off queue into the partner's CRM (FORWARD_URL), one POST
 * per item (forward.ts), and answers SQS per record (ReportBatchItemFailures):
 *   delivered                → success: SQS deletes the message
 *   retry (5xx, 429, network) → a batch item failure, its visibility set to the backoff for its
 *                              receive count, so retries spread out instead of returning every
 *                              visibility timeout; SQS's redrive (maxReceiveCount) dead-letters it
 *                              once the attempts are used up
 *   rejected (a 4xx the CRM will never accept), or a body that is not a JSON object
 *                            → copied to the dead-letter queue with `forward_error` (the reason),
 *                              then success, so it does not use up four more attempts in vain
 *
 * Environment: FORWARD_URL (https; checked once per container by forwardTarget: a bad value logs
 * a clear error and fails every record, so nothing is deleted while it is fixed) and
 * DEAD_LETTER_QUEUE_URL. Logs are JSON lines with ids, counts, outcomes and reasons, never an item
 * value (nor the forward URL, which may embed a token).
 */
import { createHash } from 'node:crypto';
import {
  ChangeMessageVisibilityCommand,
  SendMessageCommand,
  SQSClient,
  type MessageAttributeValue,
  type SendMessageRequest,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import { platformEventNamed, type PlatformEvent } from '../../core/events';
import type { ZapItem } from '../../core/normalise';
import { FORWARD_SCHEDULE, forwardDelayMs, forwardItem, forwardTarget, type ForwardOutcome } from '../forward';
import type { HandOffItem } from '../hand-off';
import { jsonLog, type ReceiverLog } from '../log';
import { mapBounded } from './sqs-hand-off';

/** SQS's longest visibility timeout: 12 hours. */
export const MAX_VISIBILITY_SECONDS = 12 * 60 * 60;
/** The attribute naming why a message was dead-lettered; replay removes it. */
export const FORWARD_ERROR_ATTRIBUTE = 'forward_error';

export interface ForwarderOptions {
  readonly sqs: SQSClient;
  /** The CRM's URL: a URL already checked, or the raw setting (checked here, once). */
  readonly target: URL | string | undefined;
  readonly deadLetterQueueUrl: string | undefined;
  readonly log?: ReceiverLog;
  /** Backoff jitter (tests pass a fixed one). */
  readonly random?: () => number;
  /** POSTs in flight at once (default 5). */
  readonly concurrency?: number;
  /** The whole batch's time when the Lambda context does not say (default 30 s, the function timeout). */
  readonly budgetMs?: number;
  readonly now?: () => number;
}

export type ForwarderHandler = (event: SQSEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>) => Promise<SQSBatchResponse>;

/** Kept back from the budget for the SQS calls after the last POST and for returning. */
const SAFETY_MS = 3_000;
/** A POST with less time than this left is not started: it would only be cut off. */
const MIN_POST_MS = 1_000;

type RecordOutcome = 'delivered' | 'retry' | 'dead_letter' | 'failed';

/** The queue URL of an SQS ARN (`arn:aws:sqs:eu-west-1:123456789012:items`), for ChangeMessageVisibility. */
export const queueUrlOfArn = (arn: string): string => {
  const [prefix, partition, service, region, account, name] = arn.split(':');
  if (prefix !== 'arn' || service !== 'sqs' || !region || !account || !name) throw new Error('not an SQS queue ARN');
  const domain = partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://sqs.${region}.${domain}/${account}/${name}`;
};

/** Lambda's view of message attributes back into the SDK's, to copy a message unchanged. */
export const sdkAttributes = (attributes: SQSMessageAttributes | undefined): Record<string, MessageAttributeValue> => {
  const out: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(attributes ?? {})) {
    out[name] = {
      DataType: value.dataType,
      ...(value.stringValue !== undefined ? { StringValue: value.stringValue } : {}),
      ...(value.binaryValue !== undefined ? { BinaryValue: Buffer.from(value.binaryValue, 'base64') } : {}),
    };
  }
  return out;
};

type Parsed = { readonly ok: true; readonly item: HandOffItem } | { readonly ok: false; readonly reason: string };

/** The hand-off item a message carries: its body is exactly the Zap item; ids from the attributes. */
export const itemOfRecord = (record: SQSRecord): Parsed => {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    // Not the parser's message: it quotes the body.
    return { ok: false, reason: 'message body is not JSON' };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, reason: 'message body is not a JSON object' };
  const item = body as Record<string, unknown>;
  const attribute = (name: string) => record.messageAttributes?.[name]?.stringValue;
  const eventId = attribute('event_id') ?? (typeof item.id === 'string' ? item.id : undefined);
  if (eventId === undefined || eventId === '') return { ok: false, reason: 'message has no event id (event_id attribute or item id)' };
  const eventName = attribute('event') ?? (typeof item.event === 'string' ? item.event : '');
  // An event this version does not know is still forwarded: the name only labels a header.
  const event = platformEventNamed(eventName) ?? (eventName as PlatformEvent);
  return { ok: true, item: { eventId, event, item: item as ZapItem } };
};

export function createForwarder(options: ForwarderOptions): ForwarderHandler {
  const log = options.log ?? jsonLog();
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const concurrency = options.concurrency ?? 5;
  const budgetMs = options.budgetMs ?? 30_000;
  const deadLetterQueueUrl = options.deadLetterQueueUrl?.trim() || undefined;

  // Checked once, at cold start: a bad URL is an operator's error, reported once here and as a
  // count per batch, and never echoed (it may embed a token).
  let target: URL | undefined;
  let configError: string | undefined;
  try {
    target = options.target instanceof URL ? options.target : forwardTarget(options.target ?? '');
  } catch (error) {
    configError = `FORWARD_URL is not usable: ${(error as Error).message}`;
    log.error('forwarder misconfigured: every record fails until FORWARD_URL is fixed', { reason: configError });
  }
  if (!deadLetterQueueUrl) {
    log.error('DEAD_LETTER_QUEUE_URL is not set: rejected items stay in the queue until SQS redrives them');
  }

  const deadLetter = async (record: SQSRecord, reason: string, ids: Record<string, string>): Promise<boolean> => {
    if (!deadLetterQueueUrl) return false;
    const input: SendMessageRequest = {
      QueueUrl: deadLetterQueueUrl,
      MessageBody: record.body,
      MessageAttributes: { ...sdkAttributes(record.messageAttributes), [FORWARD_ERROR_ATTRIBUTE]: { DataType: 'String', StringValue: reason } },
    };
    if (deadLetterQueueUrl.endsWith('.fifo')) {
      input.MessageGroupId = record.attributes.MessageGroupId ?? 'dead-letters';
      input.MessageDeduplicationId = createHash('sha256').update(record.messageId).digest('hex');
    }
    try {
      await options.sqs.send(new SendMessageCommand(input));
      return true;
    } catch (error) {
      log.error('could not dead-letter a record; it stays in the queue', { ...ids, error: (error as Error).name });
      return false;
    }
  };

  const backOff = async (record: SQSRecord, receiveCount: number, outcome: Extract<ForwardOutcome, { kind: 'retry' }>, ids: Record<string, string>) => {
    const seconds = Math.min(MAX_VISIBILITY_SECONDS, Math.ceil(forwardDelayMs(receiveCount, random, outcome.retryAfterMs) / 1000));
    try {
      await options.sqs.send(
        new ChangeMessageVisibilityCommand({ QueueUrl: queueUrlOfArn(record.eventSourceARN), ReceiptHandle: record.receiptHandle, VisibilityTimeout: seconds }),
      );
      return seconds;
    } catch (error) {
      // Not fatal: the record still returns, after the queue's own visibility timeout.
      log.warn('could not set the retry delay', { ...ids, error: (error as Error).name });
      return undefined;
    }
  };

  return async (event, context) => {
    const records = event.Records ?? [];
    if (configError !== undefined || target === undefined) {
      log.error('forwarder misconfigured: records not forwarded', { records: records.length, reason: configError });
      return { batchItemFailures: records.map((r) => ({ itemIdentifier: r.messageId })) };
    }
    const forwardTo = target;
    const deadline = now() + (context?.getRemainingTimeInMillis() ?? budgetMs) - SAFETY_MS;
    // A FIFO queue must keep order within a group: one at a time, and nothing after a failure.
    const fifo = records.some((r) => r.eventSourceARN.endsWith('.fifo'));
    let stopped = false;

    const handle = async (record: SQSRecord): Promise<RecordOutcome> => {
      const receiveCount = Math.max(1, Number(record.attributes.ApproximateReceiveCount) || 1);
      const base = { message_id: record.messageId, receive_count: receiveCount };
      const parsed = itemOfRecord(record);
      if (!parsed.ok) {
        const sent = await deadLetter(record, parsed.reason, { message_id: record.messageId });
        log.warn('record dead-lettered', { ...base, outcome: sent ? 'dead_letter' : 'failed', reason: parsed.reason });
        return sent ? 'dead_letter' : 'failed';
      }
      const { item } = parsed;
      const ids = { event_id: item.eventId, message_id: record.messageId };
      const left = deadline - now();
      if (stopped || left < MIN_POST_MS) {
        log.warn('record not attempted', { ...base, event_id: item.eventId, outcome: 'not_attempted', reason: stopped ? 'an earlier record of this FIFO batch failed' : 'out of time' });
        return 'failed';
      }
      const outcome = await forwardItem(forwardTo, item, { timeoutMs: Math.min(FORWARD_SCHEDULE.timeoutMs, left) });
      const fields = { ...base, event_id: item.eventId, event: item.event };
      switch (outcome.kind) {
        case 'delivered':
          log.info('item forwarded', { ...fields, outcome: 'delivered', status: outcome.status });
          return 'delivered';
        case 'retry': {
          const seconds = await backOff(record, receiveCount, outcome, ids);
          log.warn('item forward failed, will retry', { ...fields, outcome: 'retry', reason: outcome.reason, retry_in_s: seconds ?? null });
          return 'retry';
        }
        case 'rejected': {
          const sent = await deadLetter(record, outcome.reason, ids);
          log.warn('item rejected by the forward URL', { ...fields, outcome: sent ? 'dead_letter' : 'failed', reason: outcome.reason });
          return sent ? 'dead_letter' : 'failed';
        }
      }
    };

    const outcomes = await mapBounded(records, fifo ? 1 : concurrency, async (record) => {
      const outcome = await handle(record);
      if (fifo && (outcome === 'retry' || outcome === 'failed')) stopped = true;
      return outcome;
    });

    const failures = records.filter((_, at) => outcomes[at] === 'retry' || outcomes[at] === 'failed');
    const count = (kind: RecordOutcome) => outcomes.filter((o) => o === kind).length;
    log.info('batch done', {
      records: records.length,
      delivered: count('delivered'),
      retry: count('retry'),
      dead_letter: count('dead_letter'),
      failed: count('failed'),
    });
    return { batchItemFailures: failures.map((r) => ({ itemIdentifier: r.messageId })) };
  };
}

/** The forwarder as configured by the environment (the deployed function). */
export const forwarderFromEnv = (env: NodeJS.ProcessEnv = process.env, sqs: SQSClient = new SQSClient({})): ForwarderHandler =>
  createForwarder({ sqs, target: env.FORWARD_URL, deadLetterQueueUrl: env.DEAD_LETTER_QUEUE_URL });

let configured: ForwarderHandler | undefined;

/** Lambda's entry point; the configuration is read on the first invocation of each container. */
export const handler = async (event: SQSEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<SQSBatchResponse> => {
  configured ??= forwarderFromEnv();
  return configured(event, context);
};
