/**
 * The AWS hand-off: claimed items go to an SQS queue (the forwarder Lambda drains it into the CRM).
 *
 * One SendMessageBatch per chunk of at most 10 entries and 1 MiB (SQS's limits per request), so a
 * delivery of any size takes few requests; chunks go concurrently. SQS answers per entry, and so does
 * this hand-off: an entry in `Failed` fails only its own item, a request that fails as a whole
 * (throttled after the SDK's retries, network, timeout) fails the items of that chunk only.
 *
 * On a FIFO queue (the stack's), every message carries a deduplication id and a group id, both the
 * hash of the event's identity (its name and id): SQS accepts but does not enqueue a second message
 * with the same deduplication id within 5 minutes, so a claim taken over after a lost completion
 * (lease 30 s, answer within 15 s) re-sends into that window and the copy is dropped. One group per
 * event keeps order only where it matters (within an event) and never blocks one event behind
 * another. A re-send more than 5 minutes after the first one is not caught here: see
 * docs/receiver.md ("At most one message per event").
 *
 * Reasons carry SQS error codes, sizes and counts, never a payload value: they end up in logs.
 */
import { createHash } from 'node:crypto';
import {
  SendMessageBatchCommand,
  type MessageAttributeValue,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { HandOff, HandOffItem, HandOffOptions, HandOffResult } from '../hand-off';
import { mapBounded } from '../map-bounded';

/** SQS's cap on one SendMessageBatch: entries per request. */
export const SQS_BATCH_ENTRIES = 10;
/**
 * SQS's cap on one message (body plus attributes): 1 MiB since 2025 (256 KiB before). The stack
 * sets the queues' MaximumMessageSize to it (infra/receiver-stack.ts).
 */
export const SQS_MAX_BYTES = 1024 * 1024;
/** SQS's cap on one SendMessageBatch, the sum of its messages: the same 1 MiB. */
export const SQS_MAX_BATCH_BYTES = SQS_MAX_BYTES;
/** Kept back from a deadline: the answer still has to be written after the send. */
export const DEADLINE_MARGIN_MS = 250;
/** A request with less time than this before the deadline is not started: it could only time out. */
export const MIN_REQUEST_MS = 50;

export interface SqsHandOffOptions {
  readonly client: SQSClient;
  readonly queueUrl: string;
  /**
   * Bound on one SendMessageBatch including the SDK's retries (default 10 s): the receiver must
   * answer the platform within 15 s, and an unanswered hand-off releases the claim so the
   * platform's retry can try again. (A request that timed out may still have been stored: the
   * retry then queues the item twice, which at-least-once delivery allows.)
   */
  readonly timeoutMs?: number;
  /** Chunks in flight at once (default 4). */
  readonly concurrency?: number;
  /** Override SQS_MAX_BYTES (per message and per request), e.g. for a queue with a smaller MaximumMessageSize. */
  readonly maxBytes?: number;
  /** The clock deadlines are read against (tests). */
  readonly now?: () => number;
}

interface Entry {
  readonly index: number;
  readonly entry: SendMessageBatchRequestEntry;
  readonly bytes: number;
}

/** The queue's name: the last path segment of its URL (`…/123456789012/ecologic-items`). */
export const queueNameOf = (queueUrl: string): string => {
  const segments = new URL(queueUrl).pathname.split('/').filter(Boolean);
  const name = segments[segments.length - 1];
  if (name === undefined) throw new Error(`Not an SQS queue URL (no queue name in its path): ${queueUrl}`);
  return name;
};

/** The attributes every message carries, so consumers and replay can route without parsing the body. */
export const itemAttributes = (item: HandOffItem): Record<string, MessageAttributeValue> => ({
  event_id: { DataType: 'String', StringValue: item.eventId },
  event: { DataType: 'String', StringValue: item.event },
});

/** What SQS counts against its size limits: the body plus each attribute's name, type and value. */
export const messageBytes = (body: string, attributes: Record<string, MessageAttributeValue> = {}): number => {
  let bytes = Buffer.byteLength(body, 'utf8');
  for (const [name, value] of Object.entries(attributes)) {
    bytes += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(value.DataType ?? '', 'utf8');
    if (value.StringValue !== undefined) bytes += Buffer.byteLength(value.StringValue, 'utf8');
    if (value.BinaryValue !== undefined) bytes += value.BinaryValue.byteLength;
  }
  return bytes;
};

/**
 * The FIFO deduplication id of an event: the SHA-256 (hex) of its identity, the pair (event name,
 * id), because ids are often numbered per event type (`Audit:Create` 42 and `RequestQuote:Create`
 * 42 are two events). Encoded as a JSON array, so no two pairs give the same input ("a:b" + "c" vs
 * "a" + "b:c"). A hash, because SQS takes at most 128 characters from a limited alphabet and an
 * event id is whatever the platform sent. One event, one id: SQS drops a second copy sent within its
 * 5-minute deduplication window.
 */
export const deduplicationIdOf = (event: string, eventId: string): string =>
  createHash('sha256').update(JSON.stringify([event, eventId]), 'utf8').digest('hex');

/**
 * The FIFO message group of an event: the same hash, so each event is its own group. SQS keeps
 * order and delivers one message at a time within a group; events need no order between them, and
 * a message held back (the forwarder's backoff) then holds back nothing but its own event.
 */
export const messageGroupIdOf = deduplicationIdOf;

/** A short, payload-free name for a failed request: the SDK error's name or the network error code. */
export const requestFailureName = (error: unknown): string => {
  if (!(error instanceof Error)) return 'unknown';
  if (error.name === 'AbortError' || error.name === 'TimeoutError') return 'timeout';
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && /^[A-Z_]+$/.test(code)) return code; // ECONNRESET, ENOTFOUND, …
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  // An SDK service error's name is its error code (ThrottlingException, QueueDoesNotExist); an
  // unparseable 5xx is `Unknown`, so the status says more.
  return error.name === 'Unknown' && status !== undefined ? `http_${status}` : error.name;
};

export class SqsHandOff implements HandOff {
  readonly description: string;
  private readonly client: SQSClient;
  private readonly queueUrl: string;
  private readonly fifo: boolean;
  private readonly timeoutMs: number;
  private readonly concurrency: number;
  private readonly maxBytes: number;
  private readonly now: () => number;

  constructor(options: SqsHandOffOptions) {
    const name = queueNameOf(options.queueUrl);
    this.client = options.client;
    this.queueUrl = options.queueUrl;
    this.fifo = name.endsWith('.fifo');
    this.description = `sqs:${name}`;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.concurrency = options.concurrency ?? 4;
    this.maxBytes = options.maxBytes ?? SQS_MAX_BYTES;
    this.now = options.now ?? Date.now;
  }

  /**
   * With `options.deadline`, each request is bounded by min(timeoutMs, deadline - now - margin), and
   * a chunk with no time left is not sent: its items fail (not permanently), so their claims are
   * released and the receiver still answers in time.
   */
  async send(items: readonly HandOffItem[], options: HandOffOptions = {}): Promise<HandOffResult[]> {
    const results: HandOffResult[] = items.map(() => ({ ok: false, reason: 'sqs_not_sent' }));
    const chunks: Entry[][] = [];
    let chunk: Entry[] = [];
    let chunkBytes = 0;
    items.forEach((item, index) => {
      const entry = this.entryFor(item, index);
      const bytes = messageBytes(entry.MessageBody ?? '', entry.MessageAttributes);
      if (bytes > this.maxBytes) {
        // SQS would reject the whole request; fail this item alone, with its size and no content.
        results[index] = { ok: false, reason: `sqs_message_too_large: ${bytes} bytes > ${this.maxBytes}`, permanent: true };
        return;
      }
      if (chunk.length === SQS_BATCH_ENTRIES || chunkBytes + bytes > Math.min(this.maxBytes, SQS_MAX_BATCH_BYTES)) {
        chunks.push(chunk);
        chunk = [];
        chunkBytes = 0;
      }
      chunk.push({ index, entry, bytes });
      chunkBytes += bytes;
    });
    if (chunk.length > 0) chunks.push(chunk);

    await mapBounded(chunks, this.concurrency, async (entries) => {
      for (const { index, result } of await this.sendChunk(entries, options.deadline)) results[index] = result;
    });
    return results;
  }

  private entryFor(item: HandOffItem, index: number): SendMessageBatchRequestEntry {
    return {
      // Unique within the request (indices are unique within the whole delivery): maps answers back.
      Id: String(index),
      // Exactly the item a Zap receives, so the forwarder posts it unchanged.
      MessageBody: JSON.stringify(item.item),
      MessageAttributes: itemAttributes(item),
      ...(this.fifo
        ? { MessageGroupId: messageGroupIdOf(item.event, item.eventId), MessageDeduplicationId: deduplicationIdOf(item.event, item.eventId) }
        : {}),
    };
  }

  private async sendChunk(entries: readonly Entry[], deadline: number | undefined): Promise<Array<{ index: number; result: HandOffResult }>> {
    // Read when the chunk starts: with more chunks than `concurrency`, later ones start later.
    const timeoutMs = deadline === undefined ? this.timeoutMs : Math.min(this.timeoutMs, deadline - this.now() - DEADLINE_MARGIN_MS);
    if (timeoutMs < MIN_REQUEST_MS) {
      return entries.map(({ index }) => ({ index, result: { ok: false, reason: 'sqs_not_sent: no time left before the deadline' } as const }));
    }
    const abortSignal = AbortSignal.timeout(timeoutMs);
    try {
      const output = await this.client.send(
        new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries.map((e) => e.entry) }),
        { abortSignal },
      );
      const succeeded = new Set((output.Successful ?? []).map((s) => s.Id));
      const failed = new Map((output.Failed ?? []).map((f) => [f.Id, f]));
      return entries.map(({ index, entry }) => {
        if (succeeded.has(entry.Id)) return { index, result: { ok: true } as const };
        const failure = failed.get(entry.Id);
        // The code only: an entry's Message may quote the offending content.
        const reason = failure ? `sqs_entry_failed: ${failure.Code ?? 'unknown'}` : 'sqs_entry_unanswered';
        return { index, result: { ok: false, reason } as const };
      });
    } catch (error) {
      // How an abort surfaces depends on when it struck (AbortError, or a reset socket): ask the signal.
      const reason = `sqs_request_failed: ${abortSignal.aborted ? 'timeout' : requestFailureName(error)}`;
      return entries.map(({ index }) => ({ index, result: { ok: false, reason } as const }));
    }
  }
}
