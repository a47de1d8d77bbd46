/**
 * Replaying dead letters on AWS: the named events go from the dead-letter queue back to the hand-off
 * queue, where the forwarder picks them up again (once the CRM or FORWARD_URL is fixed).
 *
 * SQS cannot look a message up by id, so this receives from the dead-letter queue and looks at
 * each message (its `event_id` attribute, else the body's `id`):
 *   - a wanted one is sent to the queue (same body and attributes, minus `forward_error`) and only
 *     then deleted from the dead-letter queue: a failure in between leaves a copy in both queues,
 *     never in neither;
 *   - any other stays hidden while the scan goes on (so the next receive returns new messages), and
 *     is made visible again (visibility 0) at the end, so nothing else is touched.
 * The scan stops when every id was found, when the queue looks empty, or after `maxPolls` receives
 * that found none of the ids: an id not seen by then is reported missing.
 *
 * On a FIFO queue a replay is an intentional re-send: it gets a fresh deduplication id (the hand-off's
 * would make SQS drop it silently within 5 minutes of the original) and the original's message
 * group (the event's own, sqs-hand-off.ts), so it keeps its place among that event's messages.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  type Message,
  type MessageAttributeValue,
  type SendMessageRequest,
} from '@aws-sdk/client-sqs';
import type { ReceiverLog } from '../log';
import { FORWARD_ERROR_ATTRIBUTE } from './forwarder-lambda';
import { messageGroupIdOf, queueNameOf, requestFailureName } from './sqs-hand-off';

export interface ReplayOptions {
  readonly sqs: SQSClient;
  readonly deadLetterQueueUrl: string;
  /** The hand-off queue the forwarder reads. */
  readonly queueUrl: string;
  readonly eventIds: readonly string[];
  readonly log?: ReceiverLog;
  /** Receives that found none of the ids before giving up (default 50: ~500 other messages looked at). */
  readonly maxPolls?: number;
  /** Consecutive empty receives that mean "nothing more to see" (default 2). */
  readonly maxEmptyPolls?: number;
  /** Long-poll wait per receive (default 2 s). */
  readonly waitTimeSeconds?: number;
  /** How long a looked-at message stays hidden during the scan (default 30 s; reset to 0 at the end). */
  readonly visibilityTimeout?: number;
}

export interface ReplayResult {
  readonly replayed: string[];
  readonly missing: string[];
  /** Found but not replayed (the send failed), or not looked for (the dead-letter queue could not be read). */
  readonly failed: Array<{ readonly eventId: string; readonly reason: string }>;
}

/** The event a dead letter carries: the `event_id` attribute, else the body's `id`. */
export const eventIdOfMessage = (message: Message): string | undefined => {
  const attribute = message.MessageAttributes?.event_id?.StringValue;
  if (attribute) return attribute;
  try {
    const body = JSON.parse(message.Body ?? '') as unknown;
    const id = typeof body === 'object' && body !== null ? (body as { id?: unknown }).id : undefined;
    return typeof id === 'string' && id !== '' ? id : undefined;
  } catch {
    return undefined;
  }
};

/** The event name a dead letter carries: the `event` attribute, else the body's `event`. */
const eventNameOfMessage = (message: Message): string | undefined => {
  const attribute = message.MessageAttributes?.event?.StringValue;
  if (attribute) return attribute;
  try {
    const body = JSON.parse(message.Body ?? '') as unknown;
    const event = typeof body === 'object' && body !== null ? (body as { event?: unknown }).event : undefined;
    return typeof event === 'string' && event !== '' ? event : undefined;
  } catch {
    return undefined;
  }
};

/**
 * The message group a replay goes to: the original's (a FIFO dead-letter queue keeps it, and so
 * does the forwarder's copy), else the one the hand-off gives the event, else a shared one.
 */
export const replayGroupIdOf = (message: Message, eventId: string): string => {
  const original = message.Attributes?.MessageGroupId;
  if (original) return original;
  const event = eventNameOfMessage(message);
  return event !== undefined ? messageGroupIdOf(event, eventId) : 'replay';
};

/** A deduplication id no earlier send used: SQS must not take the replay for the original's copy. */
export const replayDeduplicationId = (): string => createHash('sha256').update(`replay:${randomUUID()}`).digest('hex');

/** The message's attributes as they were handed off: without the forwarder's `forward_error`. */
const replayAttributes = (message: Message): Record<string, MessageAttributeValue> => {
  const out: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    if (name === FORWARD_ERROR_ATTRIBUTE) continue;
    out[name] = {
      DataType: value.DataType,
      ...(value.StringValue !== undefined ? { StringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { BinaryValue: value.BinaryValue } : {}),
    };
  }
  return out;
};

const noLog: ReceiverLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

export async function replayDeadLetters(options: ReplayOptions): Promise<ReplayResult> {
  const { sqs, deadLetterQueueUrl, queueUrl } = options;
  const log = options.log ?? noLog;
  const maxPolls = options.maxPolls ?? 50;
  const maxEmptyPolls = options.maxEmptyPolls ?? 2;
  // A name is `<event>/<id>` (that event's dead letter) or an id alone (every event's with that id:
  // ids are often numbered per event type). An id alone is looked for until the queue reads empty.
  const pending = new Set(options.eventIds.filter((id) => id !== ''));
  const byIdAlone = new Set<string>();
  const replayed: string[] = [];
  const failed: Array<{ eventId: string; reason: string }> = [];
  // Looked at and left alone: made visible again at the end (the latest receipt handle counts).
  const hidden = new Map<string, string>();
  const fifo = queueUrl.endsWith('.fifo');

  const replayOne = async (message: Message, eventId: string): Promise<void> => {
    const input: SendMessageRequest = { QueueUrl: queueUrl, MessageBody: message.Body ?? '', MessageAttributes: replayAttributes(message) };
    if (fifo) {
      input.MessageGroupId = replayGroupIdOf(message, eventId);
      // Fresh, not the hand-off's hash of the event: SQS would drop a replay within 5 minutes of it.
      input.MessageDeduplicationId = replayDeduplicationId();
    }
    try {
      await sqs.send(new SendMessageCommand(input));
    } catch (error) {
      const reason = `could not send it to the queue (${requestFailureName(error)})`;
      log.error('replay send failed; the dead letter stays', { event_id: eventId, reason });
      failed.push({ eventId, reason });
      if (message.MessageId && message.ReceiptHandle) hidden.set(message.MessageId, message.ReceiptHandle);
      return;
    }
    // Only now: the item is safely in the queue again.
    try {
      await sqs.send(new DeleteMessageCommand({ QueueUrl: deadLetterQueueUrl, ReceiptHandle: message.ReceiptHandle }));
    } catch (error) {
      // Replayed all the same; the copy left behind reappears in the dead-letter queue.
      log.warn('replayed, but could not delete the dead letter', { event_id: eventId, error: requestFailureName(error) });
    }
    log.info('dead letter replayed', { event_id: eventId });
    replayed.push(eventId);
  };

  let fruitless = 0;
  let empty = 0;
  let readError: string | undefined;
  try {
    while ((pending.size > 0 || byIdAlone.size > 0) && fruitless < maxPolls && empty < maxEmptyPolls) {
      let messages: Message[];
      try {
        const output = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: deadLetterQueueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: options.waitTimeSeconds ?? 2,
            VisibilityTimeout: options.visibilityTimeout ?? 30,
            MessageAttributeNames: ['All'],
            // The original's group, for a replay to a FIFO queue.
            MessageSystemAttributeNames: ['MessageGroupId'],
          }),
        );
        messages = output.Messages ?? [];
      } catch (error) {
        readError = requestFailureName(error);
        log.error('could not read the dead-letter queue', { error: readError });
        break;
      }
      if (messages.length === 0) {
        empty++;
        fruitless++;
        continue;
      }
      empty = 0;
      let matched = false;
      for (const message of messages) {
        const eventId = eventIdOfMessage(message);
        const event = message.MessageAttributes?.event?.StringValue;
        const key = eventId !== undefined && event ? `${event}/${eventId}` : undefined;
        const name = key !== undefined && pending.has(key) ? key : eventId !== undefined && (pending.has(eventId) || byIdAlone.has(eventId)) ? eventId : undefined;
        if (name !== undefined && eventId !== undefined) {
          matched = true;
          if (name === key) pending.delete(key);
          else if (pending.delete(eventId)) byIdAlone.add(eventId);
          const before = replayed.length;
          await replayOne(message, name);
          // One line per name, however many dead letters it replayed.
          if (replayed.length > before && replayed.indexOf(name) < before) replayed.pop();
        } else if (message.MessageId && message.ReceiptHandle) {
          hidden.set(message.MessageId, message.ReceiptHandle);
        }
      }
      if (!matched) fruitless++;
    }
  } finally {
    for (const receiptHandle of hidden.values()) {
      try {
        await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: deadLetterQueueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: 0 }));
      } catch (error) {
        // It becomes visible anyway once its visibility timeout ends.
        log.warn('could not make a dead letter visible again', { error: requestFailureName(error) });
      }
    }
  }

  if (readError !== undefined) {
    for (const eventId of pending) failed.push({ eventId, reason: `could not read the dead-letter queue (${readError})` });
    return { replayed, missing: [], failed };
  }
  return { replayed, missing: [...pending], failed };
}

type Out = ((line: string) => void) | { write(text: string): unknown };

/** The region of a queue URL (`https://sqs.eu-west-1.amazonaws.com/…`), if it names one. */
const regionOfQueueUrl = (queueUrl: string): string | undefined => {
  try {
    return /^sqs\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(new URL(queueUrl).hostname)?.[1];
  } catch {
    return undefined;
  }
};

/**
 * The `replay` command on AWS: prints one line per event id in plain words and returns the exit
 * code (0 when every id was replayed, 1 otherwise). Credentials come from the usual AWS chain.
 */
export async function replayAwsCli(
  args: { deadLetterQueueUrl: string; queueUrl: string; eventIds: readonly string[]; region?: string },
  out: Out,
  sqs?: SQSClient,
): Promise<number> {
  const print = (line: string) => (typeof out === 'function' ? out(line) : void out.write(`${line}\n`));
  if (args.eventIds.length === 0) {
    print('Name at least one event id to replay (the item\'s "id", e.g. evt_01JD..., or an event and its id, e.g. RequestQuote:Create/42).');
    return 1;
  }
  let queueName: string;
  let deadLetterName: string;
  try {
    queueName = queueNameOf(args.queueUrl);
    deadLetterName = queueNameOf(args.deadLetterQueueUrl);
  } catch (error) {
    print(`${(error as Error).message}`);
    return 1;
  }
  const region = args.region ?? regionOfQueueUrl(args.queueUrl);
  const client = sqs ?? new SQSClient(region ? { region } : {});
  const result = await replayDeadLetters({ sqs: client, deadLetterQueueUrl: args.deadLetterQueueUrl, queueUrl: args.queueUrl, eventIds: args.eventIds });
  const failedReason = new Map(result.failed.map((f) => [f.eventId, f.reason]));
  for (const eventId of new Set(args.eventIds)) {
    if (result.replayed.includes(eventId)) print(`${eventId}: replayed to the queue ${queueName}`);
    else if (failedReason.has(eventId)) print(`${eventId}: not replayed: ${failedReason.get(eventId)}; it stays in the dead-letter queue ${deadLetterName}`);
    else print(`${eventId}: not found in the dead-letter queue ${deadLetterName}`);
  }
  print(`${result.replayed.length} replayed, ${result.missing.length} not found, ${result.failed.length} failed.`);
  if (sqs === undefined) client.destroy();
  return result.replayed.length === new Set(args.eventIds).size ? 0 : 1;
}
