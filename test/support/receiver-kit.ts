/**
 * Shared by the receiver's tests: signed deliveries made the way the platform makes them (the
 * `standardwebhooks` package), fixture bodies, and a hand-off double that records what it was given
 * and can be told to fail (the real hand-offs have their own suites).
 */
import { Writable } from 'node:stream';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { eventDefinition } from '../../src/core/event-registry';
import { platformEventNamed } from '../../src/core/events';
import { normaliseDelivery } from '../../src/core/normalise';
import type { HandOff, HandOffItem, HandOffResult } from '../../src/receiver/hand-off';
import type { EventRef } from '../../src/receiver/store';

export const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
export const OTHER_SECRET = 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD';

export const FIXTURES = ['quote_request_created', 'quote_request_label_applied', 'audit_created', 'audit_simulated', 'audit_assigned', 'audit_label_applied'] as const;

export const fixture = (name: (typeof FIXTURES)[number]): Record<string, unknown> =>
  JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', `${name}.json`), 'utf8')) as Record<string, unknown>;

/** A real item to hand off: a fixture body, with its own event id, through the normalisation a Zap sees. */
export const handOffItem = (name: (typeof FIXTURES)[number], eventId: string): HandOffItem => {
  const body: Record<string, unknown> = { ...fixture(name), event_id: eventId };
  const definition = eventDefinition(platformEventNamed(body.event as string)!);
  const [item] = normaliseDelivery(definition, body, { receivedAt: new Date('2026-11-27T02:08:40Z') }).items;
  return { eventId: item!.id, event: definition.event, item: item! };
};

/** The store's name for a delivered record: its `event` and `event_id`. */
export const refTo = (body: Record<string, unknown>): EventRef => ({ event: String(body.event), eventId: String(body.event_id) });

/** A receiver answer's JSON body. */
export const parsed = (response: { body: string }) => JSON.parse(response.body) as Record<string, unknown>;

export interface SignedRequest {
  method: string;
  headers: Record<string, string>;
  body: string;
}

/** A delivery as the platform sends it: Standard Webhooks headers over the exact body bytes. */
export const signed = (
  body: unknown,
  options: { secret?: string | readonly string[]; webhookId?: string; at?: Date } = {},
): SignedRequest => {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const id = options.webhookId ?? `msg_${Math.random().toString(36).slice(2, 12)}`;
  const at = options.at ?? new Date();
  const secrets = typeof options.secret === 'string' ? [options.secret] : (options.secret ?? [SECRET]);
  const signature = secrets.map((secret) => new Webhook(secret).sign(id, at, raw)).join(' ');
  return {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': signature,
    },
    body: raw,
  };
};

/** A hand-off that keeps what it was sent; `failNext(n)` makes the next n items fail. */
export class RecordingHandOff implements HandOff {
  readonly description = 'memory';
  readonly sent: HandOffItem[] = [];
  private failing = 0;
  throwNext = false;
  /** Items of these event ids fail for good, as one too large for the queue. */
  readonly tooLarge = new Set<string>();

  failNext(count: number): void {
    this.failing += count;
  }

  async send(items: readonly HandOffItem[]): Promise<HandOffResult[]> {
    if (this.throwNext) {
      this.throwNext = false;
      throw new Error('queue unreachable');
    }
    return items.map((item) => {
      if (this.tooLarge.has(item.eventId)) return { ok: false, reason: 'sqs_message_too_large: 300000 bytes > 262144', permanent: true };
      if (this.failing > 0) {
        this.failing -= 1;
        return { ok: false, reason: 'queue throttled' };
      }
      this.sent.push(item);
      return { ok: true };
    });
  }
}

/**
 * Standard output as a reader that can fall behind: while `stalled`, a write is held (its callback
 * waits for `release()`), as when the program reading the receiver's lines stops reading.
 */
export const stallableLines = () => {
  const written: string[] = [];
  const held: Array<() => void> = [];
  const reader = {
    written,
    stalled: true,
    /** Lets every held write finish. */
    release: () => held.splice(0).forEach((finish) => finish()),
    lines: new Writable({
      write(chunk: Buffer, _encoding, callback) {
        written.push(chunk.toString('utf8'));
        if (reader.stalled) held.push(() => callback());
        else callback();
      },
    }),
  };
  return reader;
};
