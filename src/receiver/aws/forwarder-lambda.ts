/**
 * The forwarder Lambda: drains the hand-off queue into the partner's CRM (the forward URL), one POST
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
 * On a FIFO queue (the stack's) order is kept within a message group, and each event is its own
 * group (sqs-hand-off.ts): records of different groups are forwarded concurrently, those of one
 * group one after the other, and once one fails the later ones of its group are not attempted and
 * fail too, so SQS hands them over again in order.
 *
 * Environment: FORWARD_URL_SECRET_ARN, a Secrets Manager secret holding the forward URL (re-read
 * every few minutes, the last usable value kept), or FORWARD_URL with the URL itself (local runs,
 * tests); and DEAD_LETTER_QUEUE_URL. The URL is checked by forwardTarget: an unusable one logs a
 * clear error and fails every record, so nothing is deleted while it is fixed. Logs are JSON lines
 * with ids, counts, outcomes and reasons, never an item value (nor the forward URL, which may embed
 * a token).
 */
import { createHash } from 'node:crypto';
import {
  ChangeMessageVisibilityCommand,
  SendMessageCommand,
  SQSClient,
  type MessageAttributeValue,
  type SendMessageRequest,
} from '@aws-sdk/client-sqs';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context, SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import { platformEventNamed, type PlatformEvent } from '../../core/events';
import type { ZapItem } from '../../core/normalise';
import { FORWARD_SCHEDULE, forwardDelayMs, forwardItem, forwardTarget, type ForwardOutcome } from '../forward';
import type { HandOffItem } from '../hand-off';
import { jsonLog, type ReceiverLog } from '../log';
import { mapBounded } from '../map-bounded';
import { fromEnv } from './env-credentials';
import { requestFailureName } from './sqs-hand-off';

/** SQS's longest visibility timeout: 12 hours. */
export const MAX_VISIBILITY_SECONDS = 12 * 60 * 60;
/** The attribute naming why a message was dead-lettered; replay removes it. */
export const FORWARD_ERROR_ATTRIBUTE = 'forward_error';

/**
 * Where the forward URL comes from when it is not fixed: resolves to a checked URL, or rejects with a
 * ForwardTargetError whose message names the problem and never the URL.
 */
export type ForwardTargetSource = () => Promise<URL>;

/** The forward URL cannot be used (unset, unreadable or invalid): a message safe to log. */
export class ForwardTargetError extends Error {
  override readonly name = 'ForwardTargetError';
}

/** The forward URL secret is re-read this often, so a changed URL reaches warm instances without a deploy. */
export const FORWARD_URL_REFRESH_MS = 5 * 60 * 1000;
/** After a failed or unusable read, the next try waits this long (the last usable value serves meanwhile). */
export const FORWARD_URL_RETRY_MS = 30 * 1000;

/**
 * The forward URL from a Secrets Manager secret (its SecretString is the URL), checked with
 * forwardTarget and cached: re-read every FORWARD_URL_REFRESH_MS; a read that fails, or a value that
 * is not a usable URL, keeps the last usable one (retried after FORWARD_URL_RETRY_MS). With none yet,
 * the error says what is wrong without the value (a placeholder, an http URL, an unreachable secret).
 */
export const forwardTargetFromSecretsManager = (
  client: Pick<SecretsManagerClient, 'send'>,
  secretId: string,
  now: () => number = Date.now,
): ForwardTargetSource => {
  let good: URL | undefined;
  let nextReadAt = 0;
  let lastProblem: string | undefined;
  return async () => {
    if (now() < nextReadAt) {
      if (good) return good;
      throw new ForwardTargetError(lastProblem ?? 'the forward URL secret has not been read');
    }
    let problem: string;
    try {
      const answer = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
      try {
        good = forwardTarget(answer.SecretString ?? '');
        lastProblem = undefined;
        nextReadAt = now() + FORWARD_URL_REFRESH_MS;
        return good;
      } catch (error) {
        // forwardTarget's messages describe the problem, never the value.
        problem = `the forward URL secret does not hold a usable URL: ${(error as Error).message}`;
      }
    } catch (error) {
      problem = `the forward URL secret could not be read (${requestFailureName(error)})`;
    }
    lastProblem = problem;
    nextReadAt = now() + FORWARD_URL_RETRY_MS;
    if (good) return good;
    throw new ForwardTargetError(problem);
  };
};

export interface ForwarderOptions {
  readonly sqs: SQSClient;
  /**
   * The CRM's URL: a URL already checked, the raw setting (checked here, once), or a source read
   * before each batch (the Secrets Manager secret).
   */
  readonly target: URL | string | undefined | ForwardTargetSource;
  /** What the target is called in configuration errors (default FORWARD_URL). */
  readonly targetName?: string;
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

  const targetName = options.targetName ?? 'FORWARD_URL';
  // A fixed URL is checked once, at cold start: a bad one is an operator's error, reported once here
  // and per batch, and never echoed (it may embed a token). A source is asked before each batch.
  let resolveTarget: () => Promise<URL>;
  if (typeof options.target === 'function') {
    resolveTarget = options.target;
  } else {
    let fixed: URL | undefined;
    let configError = '';
    try {
      fixed = options.target instanceof URL ? options.target : forwardTarget(options.target ?? '');
    } catch (error) {
      configError = `${targetName} is not usable: ${(error as Error).message}`;
      log.error(`forwarder misconfigured: every record fails until ${targetName} is fixed`, { reason: configError });
    }
    resolveTarget = async () => {
      if (fixed) return fixed;
      throw new ForwardTargetError(configError);
    };
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
    let forwardTo: URL;
    try {
      forwardTo = await resolveTarget();
    } catch (error) {
      // Only the configuration's own messages: an unexpected error's message could quote anything.
      const reason = error instanceof ForwardTargetError ? error.message : `${targetName} could not be resolved (${requestFailureName(error)})`;
      log.error('forwarder misconfigured: records not forwarded', { records: records.length, reason });
      return { batchItemFailures: records.map((r) => ({ itemIdentifier: r.messageId })) };
    }
    const deadline = now() + (context?.getRemainingTimeInMillis() ?? budgetMs) - SAFETY_MS;

    const handle = async (record: SQSRecord, stopped: boolean): Promise<RecordOutcome> => {
      const receiveCount = Math.max(1, Number(record.attributes.ApproximateReceiveCount) || 1);
      const base = { message_id: record.messageId, receive_count: receiveCount };
      const parsed = itemOfRecord(record);
      if (stopped) {
        // Not even dead-lettered: the group's order holds for every record after a failure.
        log.warn('record not attempted', {
          ...base,
          event_id: parsed.ok ? parsed.item.eventId : null,
          outcome: 'not_attempted',
          reason: 'an earlier record of its FIFO message group failed',
        });
        return 'failed';
      }
      if (!parsed.ok) {
        const sent = await deadLetter(record, parsed.reason, { message_id: record.messageId });
        log.warn('record dead-lettered', { ...base, outcome: sent ? 'dead_letter' : 'failed', reason: parsed.reason });
        return sent ? 'dead_letter' : 'failed';
      }
      const { item } = parsed;
      const ids = { event_id: item.eventId, message_id: record.messageId };
      const left = deadline - now();
      if (left < MIN_POST_MS) {
        log.warn('record not attempted', { ...base, event_id: item.eventId, outcome: 'not_attempted', reason: 'out of time' });
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

    // The records as lanes: one per FIFO message group (in batch order, which is the group's order),
    // one per record on a standard queue. Lanes run concurrently, a lane's records one at a time.
    const lanes = new Map<string, number[]>();
    records.forEach((record, at) => {
      const fifo = record.eventSourceARN.endsWith('.fifo');
      // A FIFO record always names its group; without one, all such records share a lane (safe order).
      const lane = fifo ? `group:${record.attributes.MessageGroupId ?? ''}` : `record:${at}`;
      const members = lanes.get(lane);
      if (members) members.push(at);
      else lanes.set(lane, [at]);
    });
    const outcomes = new Array<RecordOutcome>(records.length);
    await mapBounded([...lanes.values()], concurrency, async (members) => {
      let stopped = false;
      for (const at of members) {
        const outcome = await handle(records[at] as SQSRecord, stopped);
        outcomes[at] = outcome;
        // Nothing after a failure within a group: SQS hands the rest over again, in order.
        if (outcome === 'retry' || outcome === 'failed') stopped = true;
      }
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

/**
 * The forwarder as configured by the environment (the deployed function): the forward URL from the
 * secret FORWARD_URL_SECRET_ARN names, else from FORWARD_URL.
 */
export const forwarderFromEnv = (
  env: NodeJS.ProcessEnv = process.env,
  // Lambda's credentials, from the environment (./env-credentials.ts).
  sqs: SQSClient = new SQSClient({ credentials: fromEnv() }),
  secrets: () => Pick<SecretsManagerClient, 'send'> = () => new SecretsManagerClient({ credentials: fromEnv() }),
  log?: ReceiverLog,
): ForwarderHandler => {
  const secretArn = env.FORWARD_URL_SECRET_ARN?.trim();
  if (secretArn) {
    return createForwarder({
      sqs,
      target: forwardTargetFromSecretsManager(secrets(), secretArn),
      targetName: 'the forward URL secret (FORWARD_URL_SECRET_ARN)',
      deadLetterQueueUrl: env.DEAD_LETTER_QUEUE_URL,
      ...(log ? { log } : {}),
    });
  }
  return createForwarder({ sqs, target: env.FORWARD_URL, targetName: 'FORWARD_URL', deadLetterQueueUrl: env.DEAD_LETTER_QUEUE_URL, ...(log ? { log } : {}) });
};

let configured: ForwarderHandler | undefined;

/** Lambda's entry point; the configuration is read on the first invocation of each container. */
export const handler = async (event: SQSEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<SQSBatchResponse> => {
  configured ??= forwarderFromEnv();
  return configured(event, context);
};
