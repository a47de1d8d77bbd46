/**
 * The AWS hand-off: claimed items go to an SQS queue (the forwarder Lambda drains it into the CRM).
 *
 * One SendMessageBatch per chunk of at most 10 entries and 256 KiB (SQS's limits per request), so a
 * delivery of any size takes few requests; chunks go concurrently. SQS answers per entry, and so does
 * this hand-off: an entry in `Failed` fails only its own item, a request that fails as a whole
 * (throttled after the SDK's retries, network, timeout) fails the items of that chunk only.
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
import type { HandOff, HandOffItem, HandOffResult } from '../hand-off';

/** SQS's cap on one SendMessageBatch: entries per request. */
export const SQS_BATCH_ENTRIES = 10;
/** SQS's classic cap on one message and on one batch (body plus attributes), 256 KiB. */
export const SQS_MAX_BYTES = 256 * 1024;

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
  /** Override SQS_MAX_BYTES, e.g. for a queue configured with a smaller MaximumMessageSize. */
  readonly maxBytes?: number;
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
 * A FIFO deduplication id for an event: a hash, because SQS allows at most 128 characters from a
 * limited alphabet and an event id is whatever the platform sent. One event, one id: SQS drops a
 * second copy sent within its 5-minute deduplication window.
 */
export const deduplicationIdOf = (eventId: string): string => createHash('sha256').update(eventId, 'utf8').digest('hex');

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

/** Runs `work` over `inputs` with at most `limit` in flight; results in input order. */
export const mapBounded = async <T, R>(inputs: readonly T[], limit: number, work: (input: T) => Promise<R>): Promise<R[]> => {
  const results = new Array<R>(inputs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < inputs.length) {
      const at = next++;
      results[at] = await work(inputs[at] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, inputs.length)) }, worker));
  return results;
};

export class SqsHandOff implements HandOff {
  readonly description: string;
  private readonly client: SQSClient;
  private readonly queueUrl: string;
  private readonly fifo: boolean;
  private readonly timeoutMs: number;
  private readonly concurrency: number;
  private readonly maxBytes: number;

  constructor(options: SqsHandOffOptions) {
    const name = queueNameOf(options.queueUrl);
    this.client = options.client;
    this.queueUrl = options.queueUrl;
    this.fifo = name.endsWith('.fifo');
    this.description = `sqs:${name}`;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.concurrency = options.concurrency ?? 4;
    this.maxBytes = options.maxBytes ?? SQS_MAX_BYTES;
  }

  async send(items: readonly HandOffItem[]): Promise<HandOffResult[]> {
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
      if (chunk.length === SQS_BATCH_ENTRIES || chunkBytes + bytes > this.maxBytes) {
        chunks.push(chunk);
        chunk = [];
        chunkBytes = 0;
      }
      chunk.push({ index, entry, bytes });
      chunkBytes += bytes;
    });
    if (chunk.length > 0) chunks.push(chunk);

    await mapBounded(chunks, this.concurrency, async (entries) => {
      for (const { index, result } of await this.sendChunk(entries)) results[index] = result;
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
      ...(this.fifo ? { MessageGroupId: item.event, MessageDeduplicationId: deduplicationIdOf(item.eventId) } : {}),
    };
  }

  private async sendChunk(entries: readonly Entry[]): Promise<Array<{ index: number; result: HandOffResult }>> {
    const abortSignal = AbortSignal.timeout(this.timeoutMs);
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
